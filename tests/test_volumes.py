"""facelib.conv.volumes against Keras layers, NumPy/scipy references and hand-worked numbers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from facelib import conv


@pytest.fixture(scope="module")
def brain() -> conv.MNI152:
    return conv.load_mni152()


# --------------------------------------------------------------------------- video as a volume

def test_motion_videos_move_in_labelled_direction() -> None:
    x, y = conv.make_motion_videos(40, frames=8, size=16, noise=0.0, seed=4)
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
    x, _ = conv.make_motion_videos(4, seed=5)
    backwards = x[:, ::-1].copy()
    frame_model, model3d = conv.video_framewise_conv2d(), conv.video_conv3d()
    np.testing.assert_allclose(np.asarray(frame_model(x)), np.asarray(frame_model(backwards)), atol=1e-6)
    assert np.abs(np.asarray(model3d(x)) - np.asarray(model3d(backwards))).max() > 1e-4


def test_tissue_models_shapes() -> None:
    m3, m2 = conv.tissue_classifier_3d(7), conv.tissue_classifier_2d(7)
    assert tuple(m3.output_shape) == (None, 3) and tuple(m2.output_shape) == (None, 3)
    assert [tuple(l.output.shape[1:]) for l in m3.layers[:3]] == [(5, 5, 5, 8), (3, 3, 3, 16), (1, 1, 1, 32)]
    assert [tuple(l.output.shape[1:]) for l in m2.layers[:3]] == [(5, 5, 8), (3, 3, 16), (1, 1, 32)]
    assert (m3.name, m2.name) == ("tissue_conv3d", "tissue_conv2d")
    # by hand, (Π f)·n_c·n_c' + n_c' per layer: 27·1·8 + 8, 27·8·16 + 16, 27·16·32 + 32, then Dense 32·3 + 3
    assert m3.count_params() == 224 + 3472 + 13856 + 99 and m2.count_params() == 80 + 1168 + 4640 + 99
    with pytest.raises(ValueError, match="size"):
        conv.tissue_classifier_3d(6)


# --------------------------------------------------------------------------- spheres vs tubes

def test_shape_masks_share_the_centre_slice_and_differ_off_centre() -> None:
    sphere, tube = conv.shape_masks(9, radius=2.0, half_length=3)
    c = 4
    disc = np.array([[(i - c) ** 2 + (j - c) ** 2 <= 4 for j in range(9)] for i in range(9)])
    assert np.array_equal(sphere[:, :, c], disc) and np.array_equal(tube[:, :, c], disc)  # the same disc
    assert disc.sum() == 13                                           # radius 2: 1 + 4 + 4 + 4 voxels
    assert sphere.sum() == 33                                         # 13 + 2·(9 at k=±1) + 2·(1 at k=±2)
    assert tube.sum() == 7 * 13                                       # 7 slices of the disc
    for k in (1, 2, 3):                                               # off-centre slices differ
        assert tube[:, :, c + k].sum() == 13 and sphere[:, :, c + k].sum() < 13
    assert not sphere[:, :, c + 3].any() and not tube[:, :, c + 4].any()
    assert np.array_equal(sphere, sphere[::-1, ::-1, ::-1]) and np.array_equal(tube, tube[:, :, ::-1])


@pytest.mark.parametrize("kwargs, word", [({"size": 8}, "size"), ({"radius": 5.0}, "radius"),
                                          ({"half_length": 2}, "half_length")])
def test_shape_masks_bad_arguments(kwargs, word) -> None:
    with pytest.raises(ValueError, match=word):
        conv.shape_masks(**{"size": 9, "radius": 2.0, "half_length": 3, **kwargs})


def test_shape_patches_are_the_volume_plus_one_object(brain: conv.MNI152) -> None:
    x, y, centres = conv.make_shape_patches(brain.t1, 20, size=9, contrast=(0.3, 0.6), mask=brain.brain_mask, seed=4)
    assert x.shape == (40, 9, 9, 9, 1) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [20, 20]
    sphere, tube = conv.shape_masks(9)
    for patch, label, (i, j, k) in zip(x[..., 0], y, centres):
        added = patch - brain.t1[i - 4:i + 5, j - 4:j + 5, k - 4:k + 5]
        obj = tube if label == 1 else sphere
        level = added[4, 4, 4]
        assert 0.3 <= level <= 0.6
        np.testing.assert_allclose(added, level * obj, atol=1e-6)  # exactly one object, at the centre
        assert brain.brain_mask[i, j, k]


def test_centre_slices_cannot_tell_spheres_from_tubes(brain: conv.MNI152) -> None:
    """What the 2D baseline sees has the same distribution in both classes: the object part of every
    centre slice is the same disc, whatever the label; Conv3D's input differs."""
    x, y, centres = conv.make_shape_patches(brain.t1, 30, size=9, mask=brain.brain_mask, seed=5)
    background = np.stack([brain.t1[i - 4:i + 5, j - 4:j + 5, k - 4:k + 5] for i, j, k in centres])
    objects = x[..., 0] - background
    centre = conv.centre_slices(objects[..., None])[..., 0]
    level = objects[:, 4, 4, 4][:, None, None]
    disc = conv.shape_masks(9)[0][:, :, 4]
    np.testing.assert_allclose(centre, level * disc, atol=1e-6)         # the same for spheres and tubes
    above = objects[:, :, :, 6] > 0                                     # two slices above the centre
    assert above[y == 0].sum(axis=(1, 2)).max() == 1 and above[y == 1].sum(axis=(1, 2)).min() == 13


def test_shape_experiment_conv3d_separates_what_the_slice_cannot(brain: conv.MNI152) -> None:
    r = conv.run_shape_experiment(brain, n_train_per_class=200, n_test_per_class=100, epochs=2, seed=0)
    assert r["n_train"] == 400 and r["n_test"] == 200
    assert r["acc_3d"] >= 0.9                      # the cube sees the slices above and below
    assert r["acc_2d"] <= 0.65                     # the centre slice alone: about chance (1/2)
    x_test, y_test = r["test"]
    assert x_test.shape == (200, 9, 9, 9, 1) and set(np.unique(y_test)) == {0, 1}
