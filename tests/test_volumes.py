"""facelib.volumes against Keras layers, NumPy/scipy references and hand-worked numbers."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from facelib import volumes as V  # noqa: E402


# --------------------------------------------------------------------------- the brain template

@pytest.fixture(scope="module")
def brain() -> V.MNI152:
    return V.load_mni152()


def test_load_mni152_shapes_dtypes_ranges(brain: V.MNI152) -> None:
    assert brain.shape == V.MNI152_SHAPE == (197, 233, 189)
    for vol in (brain.t1, brain.gm, brain.wm):
        assert vol.shape == (197, 233, 189) and vol.dtype == np.float32
        assert vol.min() == 0.0 and vol.max() == pytest.approx(1.0)
    assert brain.zooms == (1.0, 1.0, 1.0)
    assert float((brain.gm + brain.wm).max()) <= 1.0 + 1e-6
    # 1 mm voxels; voxel (98, 134, 72) is the MNI origin (0, 0, 0) mm
    np.testing.assert_allclose(brain.affine @ [98, 134, 72, 1], [0, 0, 0, 1])


def test_nifti_header_shape_matches_manifest_and_registry(mirror) -> None:
    import nibabel as nib

    from facelib import assets

    manifest = json.loads((mirror / "MANIFEST.json").read_text())
    members = {m["name"]: m for m in manifest["package_members"]}
    for key in ("t1", "gm", "wm"):
        name = f"mni152-{key}"
        header = nib.load(str(assets.fetch(name))).header
        got = tuple(int(v) for v in header.get_data_shape())
        notes = members["mni152-t1"]["notes"]  # "NIfTI-1 gz, 197x233x189 ..."; gm/wm: "on the same grid"
        want = tuple(int(v) for v in re.search(r"(\d+)x(\d+)x(\d+)", notes).groups())
        assert got == want, name
        if key == "t1":
            desc = assets.get_asset(name).description
            assert tuple(int(v) for v in re.search(r"(\d+)x(\d+)x(\d+)", desc).groups()) == got
        assert name in members


def test_load_mni152_rejects_wrong_shape(tmp_path, brain: V.MNI152) -> None:
    import nibabel as nib

    from facelib import assets

    small = tmp_path / "small.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((10, 10, 10), np.uint8), np.eye(4)), str(small))
    with pytest.raises(ValueError, match=r"mni152-gm .*expected a \(197, 233, 189\) volume, got shape \(10, 10, 10\)"):
        V.load_mni152({"t1": assets.fetch("mni152-t1"), "gm": small})


def test_tissue_labels_hand_worked() -> None:
    gm = np.array([0.1, 0.6, 0.2, 0.3, 0.0])
    wm = np.array([0.1, 0.3, 0.7, 0.3, 0.0])
    # other = 1 - gm - wm = [0.8, 0.1, 0.1, 0.4, 1.0]
    np.testing.assert_array_equal(V.tissue_labels(gm, wm), [0, 1, 2, 0, 0])
    with pytest.raises(ValueError, match="same shape"):
        V.tissue_labels(gm, wm[:3])


def test_tissue_labels_on_template(brain: V.MNI152) -> None:
    labels = V.tissue_labels(brain.gm, brain.wm)
    assert set(np.unique(labels).tolist()) == {0, 1, 2}
    # outside the brain there is no tissue; T1 is brighter in white than in grey matter
    assert (labels[~brain.brain_mask] == 0).all()
    assert np.median(brain.t1[labels == 2]) > np.median(brain.t1[labels == 1]) > np.median(brain.t1[(labels == 0) & brain.brain_mask])


def test_slab_split() -> None:
    train, test = V.slab_split((197, 233, 189), axis=1, test=(0.45, 0.65), margin=3)
    assert train.shape == test.shape == (233,)
    lo, hi = int(0.45 * 233), int(0.65 * 233)
    assert np.flatnonzero(test).tolist() == list(range(lo, hi))
    assert not (train & test).any()
    # no training plane within 3 planes of the test slab
    assert not train[lo - 3: hi + 3].any() and train[: lo - 3].all() and train[hi + 3:].all()


def test_sample_patches_match_volume(brain: V.MNI152) -> None:
    labels = V.tissue_labels(brain.gm, brain.wm)
    train_planes, test_planes = V.slab_split(brain.shape, axis=1, margin=3)
    x, y, c = V.sample_patches(brain.t1, labels, 50, size=7, planes=test_planes, axis=1, seed=1)
    assert x.shape == (150, 7, 7, 7, 1) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert test_planes[c[:, 1]].all()
    assert (brain.t1[tuple(c.T)] > 0).all()
    for i in range(0, 150, 17):
        a, b, d = c[i]
        np.testing.assert_array_equal(x[i, ..., 0], brain.t1[a - 3: a + 4, b - 3: b + 4, d - 3: d + 4])
        assert y[i] == labels[a, b, d]
    # centre slice = the axial plane through the centre voxel
    np.testing.assert_array_equal(V.centre_slices(x), x[:, :, :, 3, :])


def test_sample_patches_bad_input(brain: V.MNI152) -> None:
    with pytest.raises(ValueError, match=r"volume must be 3D"):
        V.sample_patches(brain.t1[0], brain.t1[0].astype(int), 5)
    with pytest.raises(ValueError, match="size must be a positive odd"):
        V.sample_patches(brain.t1, V.tissue_labels(brain.gm, brain.wm), 5, size=6)
    with pytest.raises(ValueError, match=r"patches must have shape \(m, s, s, s, c\)"):
        V.centre_slices(np.zeros((4, 7, 7, 7)))


def test_add_scan_noise(brain: V.MNI152) -> None:
    noisy = V.add_scan_noise(brain.t1, 0.1, seed=0)
    diff = noisy - brain.t1
    assert (diff[~brain.brain_mask] == 0).all()
    assert np.std(diff[brain.brain_mask]) == pytest.approx(0.1, rel=0.02)


# --------------------------------------------------------------------------- video as a volume

def test_motion_videos_move_in_labelled_direction() -> None:
    x, y = V.make_motion_videos(40, frames=8, size=16, noise=0.0, seed=4)
    assert x.shape == (40, 8, 16, 16, 1) and x.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y).tolist()) <= {0, 1, 2, 3}
    rows, cols = np.arange(16)[None, :, None], np.arange(16)[None, None, :]
    expected_step = {0: (0, 1), 1: (0, -1), 2: (1, 0), 3: (-1, 0)}  # right, left, down, up
    for v in range(40):
        frames = x[v, ..., 0]
        assert (frames.sum(axis=(1, 2)) == 16).all()   # a whole 4x4 square in every frame
        r = (frames * rows).sum(axis=(1, 2)) / 16
        c = (frames * cols).sum(axis=(1, 2)) / 16
        np.testing.assert_allclose(np.diff(r), expected_step[int(y[v])][0])
        np.testing.assert_allclose(np.diff(c), expected_step[int(y[v])][1])


def test_framewise_model_cannot_see_time_order_conv3d_can() -> None:
    keras.utils.set_random_seed(0)
    x, _ = V.make_motion_videos(4, seed=5)
    backwards = x[:, ::-1].copy()
    frame_model, model3d = V.video_framewise_conv2d(), V.video_conv3d()
    np.testing.assert_allclose(np.asarray(frame_model(x)), np.asarray(frame_model(backwards)), atol=1e-6)
    assert np.abs(np.asarray(model3d(x)) - np.asarray(model3d(backwards))).max() > 1e-4


def test_tissue_models_shapes() -> None:
    m3, m2 = V.tissue_classifier_3d(7), V.tissue_classifier_2d(7)
    assert tuple(m3.output_shape) == (None, 3) and tuple(m2.output_shape) == (None, 3)
    assert [tuple(l.output.shape[1:]) for l in m3.layers[:3]] == [(5, 5, 5, 8), (3, 3, 3, 16), (1, 1, 1, 32)]
    with pytest.raises(ValueError, match="size"):
        V.tissue_classifier_3d(6)
