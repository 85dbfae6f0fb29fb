"""Choosing the examples a face network learns from: identity splits, pairs, triplets, P×K batches.

The Siamese / triplet-loss lessons (lecture: "choosing the triplets"). Index samplers are plain
NumPy so they can be tested and reused; the ``*_dataset`` functions wrap them into endless
``tf.data`` streams of batches; :func:`random_flip_shift` is the light augmentation they can apply.

- :func:`split_by_identity`: train and test on different *people*.
- :func:`pair_indices` / :func:`pair_dataset`: balanced same/different pairs (binary verification).
- :func:`triplet_indices` / :func:`triplet_dataset`: random (anchor, positive, negative) triplets.
- :func:`pk_batch_indices` / :func:`pk_dataset`: P people × K photos for online triplet mining.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "pair_dataset", "pair_indices", "pk_batch_indices", "pk_dataset", "random_flip_shift",
    "split_by_identity", "triplet_dataset", "triplet_indices",
]


def _check_xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"labels must be (n,); got shape {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    return x, y


def split_by_identity(x: np.ndarray, y: np.ndarray, n_test_people: int, seed: int = 0
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split by *person*, not by photo: the test people are never seen in training.

    Args:
        x: images ``(n, H, W, C)`` (or any ``(n, ...)`` array).
        y: person ids ``(n,)``.
        n_test_people: how many people go to the test side (chosen at random with ``seed``).
        seed: NumPy seed of the choice.

    Returns:
        ``(x_train, y_train, x_test, y_test)``; labels keep their original ids and the order of
        the input is kept within each side.

    Raises:
        ValueError: shapes disagree, or ``n_test_people`` is not in ``1 .. n_people − 1``.
    """
    x, y = _check_xy(x, y)
    people = np.unique(y)
    if not 1 <= n_test_people < len(people):
        raise ValueError(f"n_test_people must be between 1 and {len(people) - 1} (there are {len(people)} people); "
                         f"got {n_test_people}")
    test_people = np.random.default_rng(seed).choice(people, size=n_test_people, replace=False)
    test = np.isin(y, test_people)
    return x[~test], y[~test], x[test], y[test]


def _by_person(y: np.ndarray, min_photos: int) -> dict[int, np.ndarray]:
    groups = {int(p): np.flatnonzero(y == p) for p in np.unique(y)}
    return {p: idx for p, idx in groups.items() if len(idx) >= min_photos}


def _sampling_groups(labels: np.ndarray, seed: int | np.random.Generator, what: str
                     ) -> tuple[np.ndarray, np.random.Generator, dict, np.ndarray, np.ndarray]:
    """The labels as an array, the random generator, photos per person with ≥ 2 photos, all people,
    and the people usable as anchors (those with ≥ 2 photos).

    Raises ``ValueError`` (naming ``what``) when there is no such person or fewer than 2 people.
    """
    y = np.asarray(labels)
    groups = _by_person(y, 2)
    people = np.unique(y)
    if not groups or len(people) < 2:
        raise ValueError(f"{what} need ≥ 2 people and a person with ≥ 2 photos; got {len(people)} people, "
                         f"{len(groups)} with ≥ 2 photos")
    return y, np.random.default_rng(seed), groups, people, np.array(sorted(groups))


def _same_person(rng: np.random.Generator, groups: dict, multi: np.ndarray) -> tuple[int, int, int]:
    """A random person of ``multi`` and two different photos of them: ``(person, i, j)``."""
    person = int(rng.choice(multi))
    i, j = rng.choice(groups[person], size=2, replace=False)
    return person, int(i), int(j)


def pair_indices(labels: np.ndarray, n_pairs: int, seed: int | np.random.Generator = 0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balanced random pairs: half "same person", half "different people".

    Returns ``(i, j, same)``, each ``(n_pairs,)``: image indices and ``same`` (``float32`` 1/0),
    alternating same (even positions) and different (odd positions); ``i != j`` always.

    Raises:
        ValueError: no person has two photos, or fewer than two people.
    """
    y, rng, groups, people, multi = _sampling_groups(labels, seed, "pairs")
    i = np.empty(n_pairs, np.int64)
    j = np.empty(n_pairs, np.int64)
    same = np.zeros(n_pairs, np.float32)
    for k in range(n_pairs):
        if k % 2 == 0:
            _, i[k], j[k] = _same_person(rng, groups, multi)
            same[k] = 1.0
        else:
            p, q = rng.choice(people, size=2, replace=False)
            i[k] = rng.choice(np.flatnonzero(y == p))
            j[k] = rng.choice(np.flatnonzero(y == q))
    return i, j, same


def triplet_indices(labels: np.ndarray, n_triplets: int, seed: int | np.random.Generator = 0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random (anchor, positive, negative) index triplets: A and P the same person (A ≠ P), N another.

    Returns ``(a, p, n)``, each ``(n_triplets,) int64``. These are the lecture's *random* triplets
    (mostly easy); the mining losses in ``facelib.faces.losses`` choose harder ones inside a batch.
    """
    y, rng, groups, _, multi = _sampling_groups(labels, seed, "triplets")
    a = np.empty(n_triplets, np.int64)
    p = np.empty(n_triplets, np.int64)
    n = np.empty(n_triplets, np.int64)
    for k in range(n_triplets):
        person, a[k], p[k] = _same_person(rng, groups, multi)
        n[k] = rng.choice(np.flatnonzero(y != person))
    return a, p, n


def pk_batch_indices(labels: np.ndarray, P: int, K: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """One P×K batch: ``P`` different people, ``K`` photos each → ``(P·K,) int64`` indices.

    Photos are drawn without replacement when a person has at least ``K`` of them (with
    replacement otherwise). The batch is ordered person by person.

    Raises:
        ValueError: ``P < 2``, ``K < 2``, or fewer than ``P`` people in ``labels``.
    """
    y = np.asarray(labels)
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
    people = np.unique(y)
    if P < 2 or K < 2:
        raise ValueError(f"P×K batches need P ≥ 2 people and K ≥ 2 photos each; got P={P}, K={K}")
    if len(people) < P:
        raise ValueError(f"P={P} people per batch but the labels hold only {len(people)} people")
    chosen = rng.choice(people, size=P, replace=False)
    out = []
    for person in chosen:
        idx = np.flatnonzero(y == person)
        out.append(rng.choice(idx, size=K, replace=len(idx) < K))
    return np.concatenate(out)


def _images_tensor(x: np.ndarray):
    import tensorflow as tf

    return tf.constant(np.asarray(x, np.float32))


def pair_dataset(x: np.ndarray, y: np.ndarray, batch_size: int = 32, seed: int = 0, augment=None):
    """Endless ``tf.data`` stream of balanced pair batches ``((x1, x2), same)``.

    ``x1``, ``x2``: ``(batch_size, H, W, C) float32``; ``same``: ``(batch_size,) float32`` (1 = same
    person), half of each. Use with ``fit(..., steps_per_epoch=...)``. ``augment``: optional
    ``augment(images, seed)`` applied to the batch of both (see :func:`pk_dataset`).
    """
    import tensorflow as tf

    x, y = _check_xy(x, y)
    images = _images_tensor(x)
    rng = np.random.default_rng(seed)

    def batches():
        while True:
            i, j, same = pair_indices(y, batch_size, rng)
            yield i, j, same, rng.integers(0, 2**31 - 1, size=2)

    sig = (tf.TensorSpec([batch_size], tf.int64), tf.TensorSpec([batch_size], tf.int64),
           tf.TensorSpec([batch_size], tf.float32), tf.TensorSpec([2], tf.int64))
    ds = tf.data.Dataset.from_generator(batches, output_signature=sig)

    def pair(i, j, same, aug_seed):
        batch = tf.gather(images, tf.concat([i, j], axis=0))
        if augment is not None:
            batch = augment(batch, aug_seed)
        x1, x2 = tf.split(batch, 2, axis=0)
        return (x1, x2), same

    return ds.map(pair).prefetch(2)


def triplet_dataset(x: np.ndarray, y: np.ndarray, batch_size: int = 32, seed: int = 0, augment=None):
    """Endless ``tf.data`` stream of random triplet batches ``((anchor, positive, negative), zeros)``.

    Each image batch is ``(batch_size, H, W, C) float32``; the dummy target ``(batch_size,)`` is
    ignored by the triplet loss (the order in the tuple is the label). ``augment``: optional
    ``augment(images, seed)`` applied to the batch of all three (see :func:`pk_dataset`).
    """
    import tensorflow as tf

    x, y = _check_xy(x, y)
    images = _images_tensor(x)
    rng = np.random.default_rng(seed)

    def batches():
        while True:
            yield (*triplet_indices(y, batch_size, rng), rng.integers(0, 2**31 - 1, size=2))

    sig = tuple(tf.TensorSpec([batch_size], tf.int64) for _ in range(3)) + (tf.TensorSpec([2], tf.int64),)
    ds = tf.data.Dataset.from_generator(batches, output_signature=sig)

    def triplet(a, p, n, aug_seed):
        batch = tf.gather(images, tf.concat([a, p, n], axis=0))
        if augment is not None:
            batch = augment(batch, aug_seed)
        xa, xp, xn = tf.split(batch, 3, axis=0)
        return (xa, xp, xn), tf.zeros([batch_size])

    return ds.map(triplet).prefetch(2)


def pk_dataset(x: np.ndarray, y: np.ndarray, P: int = 8, K: int = 4, seed: int = 0, augment=None):
    """Endless ``tf.data`` stream of P×K batches ``(images, labels)`` for online triplet mining.

    ``images``: ``(P·K, H, W, C) float32``; ``labels``: ``(P·K,) int32`` person ids (P people, K
    photos each). ``augment``: optional ``augment(images, seed)`` applied to each image batch with a
    ``(2,)`` seed drawn from the stream's generator (e.g. :func:`random_flip_shift`), so that streams
    repeat exactly.
    """
    import tensorflow as tf

    x, y = _check_xy(x, y)
    pk_batch_indices(y, P, K, 0)  # validate P, K against the labels now, not inside the generator
    images = _images_tensor(x)
    labels = tf.constant(y.astype(np.int32))
    rng = np.random.default_rng(seed)

    def batches():
        while True:
            yield pk_batch_indices(y, P, K, rng), rng.integers(0, 2**31 - 1, size=2)

    sig = (tf.TensorSpec([P * K], tf.int64), tf.TensorSpec([2], tf.int64))
    ds = tf.data.Dataset.from_generator(batches, output_signature=sig)

    def batch(i, aug_seed):
        im = tf.gather(images, i)
        return (augment(im, aug_seed) if augment is not None else im), tf.gather(labels, i)

    return ds.map(batch).prefetch(2)


def random_flip_shift(images, seed=None, max_shift: int = 4):
    """Light augmentation for faces: random horizontal flip and a shift of up to ``max_shift`` pixels.

    Args:
        images: ``(b, H, W, C) float32`` → same shape (edges padded by reflection); each image gets
            its own flip and shift.
        seed: ``(2,)`` integer seed of TensorFlow's *stateless* random ops, so that the same seed
            gives the same augmentation whatever the threading (the ``*_dataset`` streams pass one
            per batch, drawn from their NumPy generator); ``None`` draws one from ``tf.random``.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    if seed is None:
        seed = tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int32)
    seed = tf.cast(seed, tf.int32)
    shape = tf.shape(images)
    flip_seed = tf.random.experimental.stateless_fold_in(seed, 1)
    shift_seed = tf.random.experimental.stateless_fold_in(seed, 2)
    images = tf.image.stateless_random_flip_left_right(images, flip_seed)
    padded = tf.pad(images, [[0, 0], [max_shift, max_shift], [max_shift, max_shift], [0, 0]], mode="REFLECT")
    offsets = tf.random.stateless_uniform([shape[0], 2], shift_seed, 0, 2 * max_shift + 1, dtype=tf.int32)

    def crop(args):
        im, off = args
        return tf.slice(im, [off[0], off[1], 0], [shape[1], shape[2], shape[3]])

    return tf.map_fn(crop, (padded, offsets), fn_output_signature=tf.float32)
