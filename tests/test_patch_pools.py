"""facelib.conv.patch_pools: the pools lesson 06 searches (crops of photos, paintings, faces; ImageNet crops)."""

from __future__ import annotations

import numpy as np
import pytest

from facelib import conv


def test_patch_pool_has_enough_crops_of_each_kind() -> None:
    pool, sources = conv.patch_pool(1000, 32)
    assert pool.shape == (1000, 32, 32, 3) and pool.dtype == np.float32
    assert 0.0 <= pool.min() and pool.max() <= 1.0
    assert {"photo", "painting", "face"} <= set(sources)
    assert len({pool[i].tobytes() for i in range(0, 1000, 7)}) == len(range(0, 1000, 7))  # no duplicates
    with pytest.raises(ValueError):
        conv.patch_pool(0)


def _fake_sample(m: int = 5, side: int = 64):
    from facelib.data import ImageNetSample

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(m, side, side, 3), dtype=np.uint8)
    return ImageNetSample(images, np.arange(m), tuple(f"n{i:08d}" for i in range(m)),
                          tuple(f"class{i}" for i in range(m)))


def test_imagenet_pool_one_crop_per_photo_then_cycles() -> None:
    sample = _fake_sample(5, 64)
    pool, names = conv.imagenet_pool(sample, 12, 32, seed=1)
    assert pool.shape == (12, 32, 32, 3) and pool.dtype == np.float32
    assert 0.0 <= pool.min() and pool.max() <= 1.0
    assert sorted(names[:5]) == [f"class{i}" for i in range(5)]     # the first 5 crops: 5 different photos
    assert names[5:10] == names[:5] and names[10:] == names[:2]      # then the same order again


def test_imagenet_pool_full_size_crop_is_the_photo() -> None:
    sample = _fake_sample(3, 40)
    pool, names = conv.imagenet_pool(sample, 3, 40, seed=0)            # side = size = the photo: no resize
    for crop, name in zip(pool, names):
        photo = sample.images[int(name.removeprefix("class"))]
        np.testing.assert_array_equal(crop, photo.astype(np.float32) / 255.0)


def test_imagenet_pool_crop_comes_from_its_photo() -> None:
    sample = _fake_sample(2, 64)
    pool, names = conv.imagenet_pool(sample, 2, 16, seed=3, max_scale=1.0)   # side = 16, no resize
    for crop, name in zip(pool, names):
        photo = sample.images[int(name.removeprefix("class"))].astype(np.float32) / 255.0
        windows = np.lib.stride_tricks.sliding_window_view(photo, (16, 16, 3))[..., 0, :, :, :]
        assert np.any(np.all(windows == crop, axis=(2, 3, 4)))


def test_imagenet_pool_bad_size() -> None:
    with pytest.raises(ValueError, match="size <= 64"):
        conv.imagenet_pool(_fake_sample(2, 64), 4, 100)


def test_imagenet_pool_uint8_holds_the_same_crops() -> None:
    sample = _fake_sample(4, 64)
    f32, names_f = conv.imagenet_pool(sample, 6, 24, seed=2)
    u8, names_u = conv.imagenet_pool(sample, 6, 24, seed=2, dtype=np.uint8)
    assert u8.dtype == np.uint8 and u8.shape == f32.shape and names_u == names_f
    np.testing.assert_array_equal(u8.astype(np.float32) / 255.0, f32)   # the same crops, 0-255
    with pytest.raises(ValueError, match="dtype must be"):
        conv.imagenet_pool(sample, 2, 24, dtype=np.float64)
