"""3D convolutions on volumes: brain tissue in an MRI template, and video as a volume.

Lecture idea (week 4, "1D and 3D generalizations"): a 3D input ``n_1×n_2×n_3×n_c`` (a CT/MRI
volume, or a video where the third axis is time) convolved with ``n_c'`` filters of size
``f×f×f×n_c`` gives ``(n-f+1)×(n-f+1)×(n-f+1)×n_c'``: the lecture's 14×14×14×1 input with
16 filters of 5×5×5 gives 10×10×10×16, and a next layer of 32 filters 5×5×5×16 gives 6×6×6×32.

What lives here: the models and experiments of lesson 09.

- :func:`tissue_classifier_3d` vs :func:`tissue_classifier_2d` (the centre slice of the same
  patches) and :func:`run_tissue_experiment`.
- :func:`shape_masks`, :func:`make_shape_patches`, :func:`run_shape_experiment`: small spheres vs
  short tubes along the slice axis placed into the noisy T1 — both have the same centre slice (a
  disc), so only a model that sees the third axis can tell them apart.
- :func:`make_motion_videos`, :func:`video_conv3d`, :func:`video_framewise_conv2d`,
  :func:`run_video_experiment`: a moving square whose direction only the time axis reveals.

The MRI data (the template, tissue labels, held-out slabs, 3D patches) is :mod:`facelib.conv.mri`;
the arithmetic and a NumPy reference of ``keras.layers.Conv3D`` are :mod:`facelib.conv.arithmetic`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facelib.conv.mri import (
    MNI152,
    add_scan_noise,
    centre_slices,
    load_mni152,
    sample_patches,
    slab_split,
    tissue_labels,
)

__all__ = [
    "DIRECTIONS",
    "tissue_classifier_3d",
    "tissue_classifier_2d",
    "run_tissue_experiment",
    "SHAPES",
    "shape_masks",
    "make_shape_patches",
    "run_shape_experiment",
    "make_motion_videos",
    "video_conv3d",
    "video_framewise_conv2d",
    "run_video_experiment",
]


#: Motion directions of :func:`make_motion_videos`, in label order.
DIRECTIONS = ("right", "left", "down", "up")


# --------------------------------------------------------------------------- tissue classifiers

def tissue_classifier_3d(size: int = 7, n_classes: int = 3) -> Any:
    """Conv3D tissue classifier of ``(batch, size, size, size, 1)`` patches → ``(batch, 3)``.

    ``Conv3D(8, 3)`` → ``Conv3D(16, 3)`` → ``Conv3D(32, size - 4)`` (down to 1×1×1) →
    ``Flatten`` → ``Dense(n_classes, softmax)``; every layer valid, so for ``size = 7`` the
    shapes go 7³×1 → 5³×8 → 3³×16 → 1³×32.
    """
    return _tissue_classifier(3, size, n_classes)


def tissue_classifier_2d(size: int = 7, n_classes: int = 3) -> Any:
    """The 2D baseline: the same layers with Conv2D on the centre slice ``(batch, size, size, 1)``."""
    return _tissue_classifier(2, size, n_classes)


def _tissue_classifier(ndim: int, size: int, n_classes: int) -> Any:
    """The tissue classifier's layers with ``Conv{ndim}D`` on ``(batch, size, …, size, 1)`` patches."""
    import keras
    from keras import layers

    if size < 5 or size % 2 == 0:
        raise ValueError(f"size must be odd and >= 5, got {size}")
    conv = layers.Conv3D if ndim == 3 else layers.Conv2D
    return keras.Sequential([
        keras.Input((size,) * ndim + (1,)),
        conv(8, 3, activation="relu"),
        conv(16, 3, activation="relu"),
        conv(32, size - 4, activation="relu"),
        layers.Flatten(),
        layers.Dense(n_classes, activation="softmax"),
    ], name=f"tissue_conv{ndim}d")


def _standardise(x: np.ndarray) -> np.ndarray:
    return ((x - 0.5) / 0.25).astype(np.float32)


def run_tissue_experiment(brain: MNI152 | None = None, *, n_train_per_class: int = 5000,
                          n_test_per_class: int = 1000, size: int = 7, noise: float = 0.15,
                          epochs: int = 8, seed: int = 0, axis: int = 1,
                          test: tuple[float, float] = (0.45, 0.65)) -> dict:
    """Train the Conv3D classifier and the 2D-slice baseline; test on a held-out slab.

    Steps: labels from :func:`tissue_labels`; T1 plus scan noise ``noise`` (:func:`add_scan_noise`);
    training patches outside, test patches inside the slab of :func:`slab_split`; both models see
    the same patches (the 2D one only their centre axial slice); Adam, ``epochs`` epochs.
    Also reports a one-voxel baseline: the best thresholds on the centre voxel's intensity
    (a depth-2 decision tree), i.e. what brightness alone gives.

    Returns:
        ``{"acc_3d", "acc_2d", "acc_voxel", "params_3d", "params_2d", "n_train", "n_test",
        "models": (model_3d, model_2d), "test": (x_test, y_test)}``.
    """
    from sklearn.tree import DecisionTreeClassifier

    brain = brain or load_mni152()
    labels = tissue_labels(brain.gm, brain.wm)
    vol = add_scan_noise(brain.t1, noise, seed=seed, mask=brain.brain_mask) if noise else brain.t1
    train_planes, test_planes = slab_split(brain.shape, axis=axis, test=test, margin=size // 2)
    xtr, ytr, _ = sample_patches(vol, labels, n_train_per_class, size=size, planes=train_planes, axis=axis,
                                 mask=brain.brain_mask, seed=seed)
    xte, yte, _ = sample_patches(vol, labels, n_test_per_class, size=size, planes=test_planes, axis=axis,
                                 mask=brain.brain_mask, seed=seed + 1)
    xtr, xte = _standardise(xtr), _standardise(xte)
    c = size // 2
    tree = DecisionTreeClassifier(max_depth=2, random_state=seed).fit(xtr[:, c, c, c, :], ytr)
    result: dict = {"acc_voxel": float(tree.score(xte[:, c, c, c, :], yte)), "n_train": len(ytr), "n_test": len(yte)}
    runs = (("3d", lambda: tissue_classifier_3d(size), xtr, xte),
            ("2d", lambda: tissue_classifier_2d(size), centre_slices(xtr), centre_slices(xte)))
    return _fit_and_score(result, runs, ytr, yte, seed=seed, epochs=epochs, learning_rate=2e-3,
                          batch_size=64, test=(xte, yte))


def _fit_and_score(result: dict, runs, y_train: np.ndarray, y_test: np.ndarray, *, seed: int, epochs: int,
                   learning_rate: float, batch_size: int, test: tuple) -> dict:
    """Train each ``(name, build, x_train, x_test)`` of ``runs`` from the same seed (Adam, cross-entropy)
    and add ``acc_<name>``, ``params_<name>``, ``models`` and ``test`` to ``result``."""
    import keras

    models = []
    for name, build, a, b in runs:
        keras.utils.set_random_seed(seed)
        model = build()
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(a, y_train, epochs=epochs, batch_size=batch_size, verbose=0)
        pred = np.argmax(model.predict(b, verbose=0, batch_size=512), axis=1)
        result[f"acc_{name}"] = float(np.mean(pred == y_test))
        result[f"params_{name}"] = int(model.count_params())
        models.append(model)
    result["models"] = tuple(models)
    result["test"] = test
    return result


# ------------------------------------------------- spheres vs tubes: where the third axis is needed

#: Object kinds of :func:`make_shape_patches`, in label order.
SHAPES = ("sphere", "tube")


def shape_masks(size: int = 9, radius: float = 2.0, half_length: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A small sphere and a short tube along the slice axis, centred in a ``size³`` cube.

    Sphere: voxels with ``i² + j² + k² <= radius²``; tube: ``i² + j² <= radius²`` and
    ``|k| <= half_length`` (``k`` is the last axis, the axis :func:`centre_slices` cuts across). Both
    have the *same* centre slice (``k = 0``): the disc ``i² + j² <= radius²``. Only the slices above and
    below tell them apart.

    Returns:
        ``(sphere, tube)``: two ``(size, size, size) bool`` masks.
    """
    if size < 3 or size % 2 == 0:
        raise ValueError(f"size must be an odd number >= 3, got {size}")
    if not 0 < radius <= size // 2:
        raise ValueError(f"radius must be in (0, {size // 2}] for size {size}, got {radius}")
    if not radius < half_length <= size // 2:
        raise ValueError(f"half_length must be in ({radius}, {size // 2}] (longer than the sphere, inside the "
                         f"cube), got {half_length}")
    offs = np.arange(size) - size // 2
    i, j, k = np.meshgrid(offs, offs, offs, indexing="ij")
    disc = i ** 2 + j ** 2 <= radius ** 2
    return (i ** 2 + j ** 2 + k ** 2 <= radius ** 2), (disc & (np.abs(k) <= half_length))


def make_shape_patches(volume: np.ndarray, n_per_class: int, *, size: int = 9, radius: float = 2.0,
                       half_length: int = 3, contrast: tuple[float, float] = (0.3, 0.6),
                       planes: np.ndarray | None = None, axis: int = 1, mask: np.ndarray | None = None,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Patches of the real volume with a small bright object at the centre: a sphere or a tube.

    Patch centres are drawn in the brain as in :func:`sample_patches` (``planes``/``axis`` hold a
    region out); each patch gets one object (:func:`shape_masks`) added to its voxels, of a random
    brightness in ``contrast`` — as if a small lesion or a short vessel segment sat at that place of
    the scan. Both classes share the centre slice's disc, the brightness range and the background,
    so a model of the centre slice alone can only guess (chance 1/2).

    Returns:
        ``(x, y, centres)``: ``(2·n_per_class, size, size, size, 1) float32``, ``(m,) int64``
        (0 sphere, 1 tube; :data:`SHAPES`), ``(m, 3) int64`` centres in the volume, shuffled.
    """
    volume = np.asarray(volume, dtype=np.float32)
    sphere, tube = shape_masks(size, radius, half_length)
    lo, hi = contrast
    if not 0 <= lo <= hi:
        raise ValueError(f"contrast must be (low, high) with 0 <= low <= high, got {contrast}")
    anywhere = np.zeros(volume.shape, dtype=np.int64)  # one label: any brain voxel may host an object
    x, _, centres = sample_patches(volume, anywhere, 2 * n_per_class, size=size, planes=planes, axis=axis,
                                   mask=mask, seed=seed)
    rng = np.random.default_rng(seed + 7919)
    y = rng.permutation(np.repeat(np.arange(2, dtype=np.int64), n_per_class))
    brightness = rng.uniform(lo, hi, size=len(y)).astype(np.float32)
    objects = np.where((y == 0)[:, None, None, None], sphere[None], tube[None]).astype(np.float32)
    x = x + (brightness[:, None, None, None] * objects)[..., None]
    return x.astype(np.float32), y, centres


def run_shape_experiment(brain: MNI152 | None = None, *, n_train_per_class: int = 2000,
                         n_test_per_class: int = 500, size: int = 9, noise: float = 0.15, epochs: int = 6,
                         seed: int = 0, axis: int = 1, test: tuple[float, float] = (0.45, 0.65)) -> dict:
    """Spheres vs tubes in the noisy T1: Conv3D on the cube vs Conv2D on the centre slice.

    The same held-out slab, noise and networks (:func:`tissue_classifier_3d` / ``_2d`` with two
    classes) as :func:`run_tissue_experiment`; only the label changes: which object sits at the
    centre (:func:`make_shape_patches`). The centre slice of either object is the same disc, so the
    2D model is expected near chance (50 %) while Conv3D, which sees the slices above and below,
    separates them.

    Returns:
        ``{"acc_3d", "acc_2d", "params_3d", "params_2d", "n_train", "n_test", "models", "test"}``.
    """
    brain = brain or load_mni152()
    vol = add_scan_noise(brain.t1, noise, seed=seed, mask=brain.brain_mask) if noise else brain.t1
    train_planes, test_planes = slab_split(brain.shape, axis=axis, test=test, margin=size // 2)
    xtr, ytr, _ = make_shape_patches(vol, n_train_per_class, size=size, planes=train_planes, axis=axis,
                                     mask=brain.brain_mask, seed=seed)
    xte, yte, _ = make_shape_patches(vol, n_test_per_class, size=size, planes=test_planes, axis=axis,
                                     mask=brain.brain_mask, seed=seed + 1)
    xtr, xte = _standardise(xtr), _standardise(xte)
    result: dict = {"n_train": len(ytr), "n_test": len(yte)}
    runs = (("3d", lambda: tissue_classifier_3d(size, n_classes=2), xtr, xte),
            ("2d", lambda: tissue_classifier_2d(size, n_classes=2), centre_slices(xtr), centre_slices(xte)))
    return _fit_and_score(result, runs, ytr, yte, seed=seed, epochs=epochs, learning_rate=2e-3,
                          batch_size=64, test=(xte, yte))


# --------------------------------------------------------------------------- video as a volume

def make_motion_videos(n: int, *, frames: int = 8, size: int = 16, square: int = 4, speed: int = 1,
                       noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic videos of a bright square moving in a straight line; label = direction.

    Each video starts the square at a random place from which the whole path stays in the frame,
    and moves it ``speed`` pixels per frame right, left, down or up (labels 0–3, :data:`DIRECTIONS`),
    plus Gaussian pixel noise. Frames are stacked along the first axis, so a video *is* a volume:
    (time, height, width, channels). A clip played backwards is a valid clip of the opposite
    direction, so a single frame, or the set of frames without their order, cannot tell left
    from right.

    Returns:
        ``(x, y)``: ``(n, frames, size, size, 1) float32`` and ``(n,) int64``.
    """
    travel = (frames - 1) * speed
    if square + travel > size:
        raise ValueError(f"square={square} moving {travel} pixels does not fit in size={size}")
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = np.zeros((n, frames, size, size), dtype=np.float32)
    step = {0: (0, 1), 1: (0, -1), 2: (1, 0), 3: (-1, 0)}
    for v in range(n):
        dr, dc = step[int(y[v])]
        # start so that start + t*d stays within [0, size - square] for every frame
        r0 = rng.integers(0, size - square + 1) if dr == 0 else (
            rng.integers(0, size - square - travel + 1) + (travel if dr < 0 else 0))
        c0 = rng.integers(0, size - square + 1) if dc == 0 else (
            rng.integers(0, size - square - travel + 1) + (travel if dc < 0 else 0))
        for t in range(frames):
            r, c = r0 + dr * speed * t, c0 + dc * speed * t
            x[v, t, r: r + square, c: c + square] = 1.0
    x += rng.normal(0.0, noise, x.shape).astype(np.float32)
    return x[..., None], y.astype(np.int64)


def video_conv3d(frames: int = 8, size: int = 16, n_classes: int = 4) -> Any:
    """Conv3D video classifier ``(batch, frames, size, size, 1)`` → ``(batch, 4)``.

    ``Conv3D(8, 3)`` (filters span 3 frames: they can respond to motion) → ``MaxPooling3D((1, 2, 2))``
    → ``Conv3D(16, 3)`` → ``GlobalAveragePooling3D`` → ``Dense(4, softmax)``.
    """
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((frames, size, size, 1)),
        layers.Conv3D(8, 3, activation="relu"),
        layers.MaxPooling3D((1, 2, 2)),
        layers.Conv3D(16, 3, activation="relu"),
        layers.GlobalAveragePooling3D(),
        layers.Dense(n_classes, activation="softmax"),
    ], name="video_conv3d")


def video_framewise_conv2d(frames: int = 8, size: int = 16, n_classes: int = 4) -> Any:
    """Frame-by-frame baseline: the same Conv2D on each frame, features averaged over time.

    ``TimeDistributed(Conv2D(8, 3))`` → ``TimeDistributed(MaxPooling2D(2))`` →
    ``TimeDistributed(Conv2D(16, 3))`` → ``GlobalAveragePooling3D`` (over time and space) →
    ``Dense(4, softmax)``. Averaging over time forgets the order of the frames, so this model
    cannot tell a clip from the same clip played backwards.
    """
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((frames, size, size, 1)),
        layers.TimeDistributed(layers.Conv2D(8, 3, activation="relu")),
        layers.TimeDistributed(layers.MaxPooling2D(2)),
        layers.TimeDistributed(layers.Conv2D(16, 3, activation="relu")),
        layers.GlobalAveragePooling3D(),
        layers.Dense(n_classes, activation="softmax"),
    ], name="video_framewise_conv2d")


def run_video_experiment(*, n_train: int = 2000, n_test: int = 500, frames: int = 8, size: int = 16,
                         epochs: int = 8, seed: int = 0) -> dict:
    """Train :func:`video_conv3d` and :func:`video_framewise_conv2d` on the same motion videos.

    Returns:
        ``{"acc_3d", "acc_2d", "params_3d", "params_2d", "models": (m3, m2), "test": (x, y)}``.
    """

    xtr, ytr = make_motion_videos(n_train, frames=frames, size=size, seed=seed)
    xte, yte = make_motion_videos(n_test, frames=frames, size=size, seed=seed + 1)
    runs = (("3d", lambda: video_conv3d(frames, size), xtr, xte),
            ("2d", lambda: video_framewise_conv2d(frames, size), xtr, xte))
    return _fit_and_score({}, runs, ytr, yte, seed=seed, epochs=epochs, learning_rate=3e-3,
                          batch_size=32, test=(xte, yte))
