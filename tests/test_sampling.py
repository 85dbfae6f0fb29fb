"""facelib.data.sampling: identity split, pair/triplet/P×K samplers and their tf.data streams, augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from facelib import data


def toy(n_people=6, per=5, h=4):
    y = np.repeat(np.arange(n_people), per)
    # every image is filled with its own index, so a sampled image tells which index it was
    x = np.broadcast_to(np.arange(len(y), dtype=np.float32)[:, None, None, None], (len(y), h, h, 1)).copy()
    return x, y


# --------------------------------------------------------------------------- split

def test_split_by_identity_disjoint_people_and_complete():
    x, y = toy(10, 3)
    xtr, ytr, xte, yte = data.split_by_identity(x, y, 4, seed=3)
    assert len(set(ytr)) == 6 and len(set(yte)) == 4
    assert not set(ytr) & set(yte)
    assert len(ytr) + len(yte) == len(y)
    # images still match their labels (image value = original index, label = index // 3)
    assert np.all(xtr[:, 0, 0, 0] // 3 == ytr) and np.all(xte[:, 0, 0, 0] // 3 == yte)
    # same seed, same split; another seed, (here) another split
    assert np.array_equal(data.split_by_identity(x, y, 4, seed=3)[3], yte)
    assert not np.array_equal(data.split_by_identity(x, y, 4, seed=4)[3], yte)


@pytest.mark.parametrize("n_test", [0, 10, 11])
def test_split_by_identity_bad_count(n_test):
    x, y = toy(10, 3)
    with pytest.raises(ValueError, match="n_test_people"):
        data.split_by_identity(x, y, n_test)


def test_split_by_identity_shape_mismatch():
    x, y = toy(4, 3)
    with pytest.raises(ValueError, match="11 labels"):
        data.split_by_identity(x, y[:-1], 1)


# --------------------------------------------------------------------------- index samplers

def test_pair_indices_balanced_and_labels_right():
    y = np.array([0, 0, 0, 1, 1, 2, 3])  # persons 2 and 3 have a single photo
    i, j, same = data.pair_indices(y, 200, seed=1)
    assert same.sum() == 100
    assert np.all(i != j)
    assert np.array_equal(same == 1, y[i] == y[j])
    # singletons can only appear in different-person pairs, and do appear
    assert set(y[np.r_[i, j][np.r_[same, same] == 0]]) >= {2, 3}


def test_triplet_indices_are_valid():
    y = np.array([0, 0, 1, 1, 1, 2])
    a, p, n = data.triplet_indices(y, 300, seed=2)
    assert np.all(a != p)
    assert np.all(y[a] == y[p]) and np.all(y[a] != y[n])
    assert set(y[a]) == {0, 1}  # person 2 has no positive
    assert set(y[n]) == {0, 1, 2}


def test_pk_batch_indices():
    y = np.repeat(np.arange(5), [4, 4, 4, 4, 2])
    idx = data.pk_batch_indices(y, P=3, K=4, seed=0)
    assert idx.shape == (12,)
    people = y[idx].reshape(3, 4)
    assert np.all(people == people[:, :1]) and len(set(people[:, 0])) == 3
    for row in idx.reshape(3, 4):  # without replacement when a person has ≥ K photos
        if (y == y[row[0]]).sum() >= 4:
            assert len(set(row)) == 4


@pytest.mark.parametrize("P,K,msg", [(1, 4, "P ≥ 2"), (3, 1, "K ≥ 2"), (6, 2, "only 5 people")])
def test_pk_batch_indices_bad(P, K, msg):
    y = np.repeat(np.arange(5), 3)
    with pytest.raises(ValueError, match=msg):
        data.pk_batch_indices(y, P, K)


def test_samplers_need_two_people():
    y = np.zeros(5, int)
    with pytest.raises(ValueError, match="≥ 2 people"):
        data.pair_indices(y, 4)
    with pytest.raises(ValueError, match="≥ 2 people"):
        data.triplet_indices(y, 4)


# --------------------------------------------------------------------------- tf.data streams

def test_pair_dataset_images_match_labels():
    x, y = toy(5, 4)
    (xa, xb), same = next(iter(data.pair_dataset(x, y, batch_size=16, seed=0)))
    ia, ib = xa.numpy()[:, 0, 0, 0].astype(int), xb.numpy()[:, 0, 0, 0].astype(int)
    assert xa.shape == (16, 4, 4, 1)
    assert np.array_equal(same.numpy() == 1, y[ia] == y[ib])
    assert same.numpy().sum() == 8


def test_triplet_dataset_images_match_labels():
    x, y = toy(5, 4)
    (xa, xp, xn), dummy = next(iter(data.triplet_dataset(x, y, batch_size=10, seed=0)))
    a, p, n = (t.numpy()[:, 0, 0, 0].astype(int) for t in (xa, xp, xn))
    assert dummy.shape == (10,)
    assert np.all(a != p) and np.all(y[a] == y[p]) and np.all(y[a] != y[n])


def test_pk_dataset_labels_match_images_and_augment_keeps_shape():
    x, y = toy(6, 5)
    images, labels = next(iter(data.pk_dataset(x, y, P=3, K=2, seed=0)))
    assert images.shape == (6, 4, 4, 1) and labels.dtype.name == "int32"
    assert np.array_equal(y[images.numpy()[:, 0, 0, 0].astype(int)], labels.numpy())
    with pytest.raises(ValueError, match="only 6 people"):
        data.pk_dataset(x, y, P=7, K=2)
    rng = np.random.default_rng(0)
    xr = rng.random((6, 8, 8, 1)).astype(np.float32)
    aug = data.random_flip_shift(xr, max_shift=2).numpy()
    assert aug.shape == xr.shape
    assert set(np.round(aug.ravel(), 6)) <= set(np.round(xr.ravel(), 6))  # only moves pixels


def test_random_flip_shift_is_seeded_and_per_image():
    xr = np.random.default_rng(1).random((16, 8, 8, 1)).astype(np.float32)
    a = data.random_flip_shift(xr, seed=[3, 4], max_shift=2).numpy()
    b = data.random_flip_shift(xr, seed=[3, 4], max_shift=2).numpy()
    c = data.random_flip_shift(xr, seed=[5, 6], max_shift=2).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # each output is its own input flipped and/or shifted: find which by brute force over the
    # 2 flips × 5 × 5 shifts of the reflect-padded input
    moves = set()
    for k in range(16):
        found = None
        for flip in (False, True):
            im = xr[k, :, ::-1] if flip else xr[k]
            pad = np.pad(im, ((2, 2), (2, 2), (0, 0)), mode="reflect")
            for dy in range(5):
                for dx in range(5):
                    if np.allclose(pad[dy:dy + 8, dx:dx + 8], a[k]):
                        found = (flip, dy, dx)
        assert found is not None, f"image {k} is not a flip/shift of its input"
        moves.add(found)
    assert len(moves) > 3  # different images got different moves


def test_streams_repeat_with_the_same_seed():
    x, y = toy(6, 5, h=10)
    x = x + np.random.default_rng(0).random(x.shape).astype(np.float32)
    for make in (lambda: data.pk_dataset(x, y, P=3, K=2, seed=4, augment=data.random_flip_shift),
                 lambda: data.pair_dataset(x, y, batch_size=6, seed=4, augment=data.random_flip_shift),
                 lambda: data.triplet_dataset(x, y, batch_size=6, seed=4, augment=data.random_flip_shift)):
        first, second = iter(make()), iter(make())
        for _ in range(3):
            b1, b2 = next(first)[0], next(second)[0]
            for t1, t2 in zip(b1 if isinstance(b1, tuple) else (b1,), b2 if isinstance(b2, tuple) else (b2,)):
                np.testing.assert_array_equal(t1.numpy(), t2.numpy())
