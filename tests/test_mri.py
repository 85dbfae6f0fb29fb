"""facelib.conv.mri: the MNI152 template (shapes, header, errors), tissue labels, slabs and patches."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from facelib import conv

# --------------------------------------------------------------------------- the brain template

@pytest.fixture(scope="module")
def brain() -> conv.MNI152:
    return conv.load_mni152()


def test_load_mni152_shapes_dtypes_ranges(brain: conv.MNI152) -> None:
    assert brain.shape == conv.MNI152_SHAPE == (197, 233, 189)
    for vol in (brain.t1, brain.gm, brain.wm):
        assert vol.shape == (197, 233, 189) and vol.dtype == np.float32
        assert vol.min() == 0.0 and vol.max() == pytest.approx(1.0)
    assert brain.zooms == (1.0, 1.0, 1.0)
    assert float((brain.gm + brain.wm).max()) <= 1.0 + 1e-6
    # 1 mm voxels; voxel (98, 134, 72) is the MNI origin (0, 0, 0) mm
    np.testing.assert_allclose(brain.affine @ [98, 134, 72, 1], [0, 0, 0, 1])


def test_nifti_header_shape_matches_manifest_and_registry(mirror) -> None:
    import nibabel as nib

    from facelib import assets, registry

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
            desc = registry.get_asset(name).description
            assert tuple(int(v) for v in re.search(r"(\d+)x(\d+)x(\d+)", desc).groups()) == got
        assert name in members


def test_load_mni152_rejects_wrong_shape(tmp_path, brain: conv.MNI152) -> None:
    import nibabel as nib

    from facelib import assets

    small = tmp_path / "small.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((10, 10, 10), np.uint8), np.eye(4)), str(small))
    with pytest.raises(ValueError, match=r"mni152-gm .*expected a \(197, 233, 189\) volume, got shape \(10, 10, 10\)"):
        conv.load_mni152({"t1": assets.fetch("mni152-t1"), "gm": small})


def test_tissue_labels_hand_worked() -> None:
    gm = np.array([0.1, 0.6, 0.2, 0.3, 0.0])
    wm = np.array([0.1, 0.3, 0.7, 0.3, 0.0])
    # other = 1 - gm - wm = [0.8, 0.1, 0.1, 0.4, 1.0]
    np.testing.assert_array_equal(conv.tissue_labels(gm, wm), [0, 1, 2, 0, 0])
    with pytest.raises(ValueError, match="same shape"):
        conv.tissue_labels(gm, wm[:3])


def test_tissue_labels_on_template(brain: conv.MNI152) -> None:
    labels = conv.tissue_labels(brain.gm, brain.wm)
    assert set(np.unique(labels).tolist()) == {0, 1, 2}
    # outside the brain there is no tissue; T1 is brighter in white than in grey matter
    assert (labels[~brain.brain_mask] == 0).all()
    median = {k: np.median(brain.t1[(labels == k) & brain.brain_mask]) for k in (0, 1, 2)}
    assert median[2] > median[1] > median[0]


def test_slab_split() -> None:
    train, test = conv.slab_split((197, 233, 189), axis=1, test=(0.45, 0.65), margin=3)
    assert train.shape == test.shape == (233,)
    lo, hi = int(0.45 * 233), int(0.65 * 233)
    assert np.flatnonzero(test).tolist() == list(range(lo, hi))
    assert not (train & test).any()
    # no training plane within 3 planes of the test slab
    assert not train[lo - 3: hi + 3].any() and train[: lo - 3].all() and train[hi + 3:].all()


def test_sample_patches_match_volume(brain: conv.MNI152) -> None:
    labels = conv.tissue_labels(brain.gm, brain.wm)
    train_planes, test_planes = conv.slab_split(brain.shape, axis=1, margin=3)
    x, y, c = conv.sample_patches(brain.t1, labels, 50, size=7, planes=test_planes, axis=1, seed=1)
    assert x.shape == (150, 7, 7, 7, 1) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert test_planes[c[:, 1]].all()
    assert (brain.t1[tuple(c.T)] > 0).all()
    for i in range(0, 150, 17):
        a, b, d = c[i]
        np.testing.assert_array_equal(x[i, ..., 0], brain.t1[a - 3: a + 4, b - 3: b + 4, d - 3: d + 4])
        assert y[i] == labels[a, b, d]
    # centre slice = the axial plane through the centre voxel
    np.testing.assert_array_equal(conv.centre_slices(x), x[:, :, :, 3, :])


def test_sample_patches_bad_input(brain: conv.MNI152) -> None:
    with pytest.raises(ValueError, match=r"volume must be 3D"):
        conv.sample_patches(brain.t1[0], brain.t1[0].astype(int), 5)
    with pytest.raises(ValueError, match="size must be a positive odd"):
        conv.sample_patches(brain.t1, conv.tissue_labels(brain.gm, brain.wm), 5, size=6)
    with pytest.raises(ValueError, match=r"patches must have shape \(m, s, s, s, c\)"):
        conv.centre_slices(np.zeros((4, 7, 7, 7)))


def test_add_scan_noise(brain: conv.MNI152) -> None:
    noisy = conv.add_scan_noise(brain.t1, 0.1, seed=0)
    diff = noisy - brain.t1
    assert (diff[~brain.brain_mask] == 0).all()
    assert np.std(diff[brain.brain_mask]) == pytest.approx(0.1, rel=0.02)
