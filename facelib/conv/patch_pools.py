"""The image pools that lesson 06 searches for the patches that make a unit fire most.

Lecture idea ("What are deep ConvNets learning?"): Zeiler & Fergus look through many image
patches for the nine that activate one unit most; the patches must be at least as large as the
unit's receptive field. These functions build that search pool (:mod:`facelib.conv.features`
does the search):

- :func:`imagenet_pool`: crops of the ImageNet sample (1,000 photos, one per class;
  :func:`facelib.data.datasets.load_imagenet_sample`), sized to the receptive fields searched — the
  lesson's pool.
- :func:`patch_pool`: crops of photos (scikit-image's bundled public-domain images),
  paintings (the style assets) and faces (Olivetti, LFW subset): a small offline pool.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from facelib.data.images import read_image, to_rgb_uint8

__all__ = ["imagenet_pool", "patch_pool"]


def _photos() -> list[np.ndarray]:
    import skimage.data as skd

    out = []
    for name in ("astronaut", "coffee", "chelsea", "rocket", "motorcycle_left", "hubble_deep_field",
                 "immunohistochemistry", "retina", "brick", "grass", "gravel"):
        try:
            img = getattr(skd, name)()
        except Exception:  # an image that needs a download is simply skipped
            continue
        out.append(img)
    return out


def _paintings() -> list[np.ndarray]:
    from facelib import assets

    out = []
    for name in ("style-great-wave", "style-shipwreck", "style-starry-night", "style-the-scream", "style-udnie"):
        try:
            out.append(read_image(assets.fetch(name)))
        except (FileNotFoundError, ValueError):
            continue
    return out


def _faces() -> list[np.ndarray]:
    """Face images: Olivetti (64x64 grey) when its cache is available, plus scikit-image's LFW subset."""
    faces: list[np.ndarray] = []
    try:
        from facelib.data import datasets

        faces += [(f[..., 0] * 255).astype(np.uint8) for f in datasets.load_olivetti().images]
    except (OSError, ValueError, KeyError):
        pass
    try:
        import skimage.data as skd

        faces += [(f * 255).astype(np.uint8) for f in skd.lfw_subset()[:100]]
    except Exception:  # scikit-image's LFW subset may need a download: then no LFW faces
        pass
    return faces


@functools.lru_cache(maxsize=1)
def _sources() -> tuple[tuple[str, tuple[np.ndarray, ...]], ...]:
    return tuple((label, tuple(np.ascontiguousarray(to_rgb_uint8(i)) for i in imgs))
                 for label, imgs in (("photo", _photos()), ("painting", _paintings()), ("face", _faces())))


def _float01(images: Any) -> np.ndarray:
    """A new float32 array in [0, 1] of ``images``: uint8 (0-255) divided by 255, float taken as in [0, 1].

    What every :mod:`facelib.conv` function that reads images calls on one batch or one crop at a
    time, so that a whole pool can stay uint8 (a quarter of float32's memory).

    Raises:
        TypeError: any other dtype (int, bool, ...): the scale would be a guess.
    """
    a = np.asarray(images)
    if a.dtype == np.uint8:
        return a.astype(np.float32) / np.float32(255)
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"images must be uint8 (0-255) or float in [0, 1]; got dtype {a.dtype}")
    return np.array(a, np.float32)


def _resize_uint8(img: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0))


def patch_pool(n: int = 1200, size: int = 64, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Random crops of photos, paintings and faces: the images searched for top activations.

    Half of the crops come from scikit-image's bundled photos (astronaut, coffee, chelsea,
    rocket, ...), a quarter from the five paintings, a quarter from face images (Olivetti,
    resized to ``size``; LFW subset). Crops are ``size x size`` (faces are resized whole).

    Returns:
        ``(pool, sources)``: ``(n, size, size, 3) float32`` in [0, 1] and the source of each crop
        (``"photo"``, ``"painting"`` or ``"face"``).
    """
    if n < 1 or size < 8:
        raise ValueError(f"patch_pool needs n >= 1 and size >= 8; got n={n}, size={size}")
    rng = np.random.default_rng(seed)
    shares = {"photo": n - 2 * (n // 4), "painting": n // 4, "face": n // 4}
    groups = [(label, imgs, shares[label]) for label, imgs in _sources()]
    available = [g for g in groups if g[1]]
    if not available:
        raise FileNotFoundError("no images for the patch pool: scikit-image data, style assets and faces all missing")
    # give the share of a missing group to the photos (or whichever group exists)
    short = sum(count for _, imgs, count in groups if not imgs)
    pool, sources = [], []
    for gi, (label, imgs, count) in enumerate(available):
        count += short if gi == 0 else 0
        for c in range(count):
            img = imgs[int(rng.integers(len(imgs)))] if label != "face" else imgs[c % len(imgs)]
            h, w = img.shape[:2]
            if label == "face" or min(h, w) <= size:
                crop = _resize_uint8(img, size)
            else:
                # crops of a random scale (1 to 3 times the tile side), resized to the tile side
                side = int(min(min(h, w), size * rng.uniform(1.0, 3.0)))
                y, x = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
                crop = _resize_uint8(np.ascontiguousarray(img[y:y + side, x:x + side]), size)
            pool.append(crop)
            sources.append(label)
    pool_arr = np.stack(pool).astype(np.float32) / 255.0
    return pool_arr, sources


def imagenet_pool(sample: Any, n: int, size: int, *, seed: int = 0, max_scale: float = 2.0,
                  dtype: Any = np.float32) -> tuple[np.ndarray, list[str]]:
    """Square crops of ImageNet photos (:func:`facelib.data.datasets.load_imagenet_sample`), resized to ``size``.

    Crop ``c`` comes from photo ``c mod len(sample)`` (so up to ``len(sample)`` crops come from as many
    different photos and classes); its side is drawn between ``size`` and ``max_scale · size`` (at
    most the photo's side) at a random place, then resized to ``size``. Choose ``size`` at least the
    receptive field of the deepest layer searched (e.g. 252 for VGG19's ``block5_conv4``) so that
    a unit's whole field fits in a crop.

    Args:
        sample: an ``ImageNetSample`` (``images (m, H, W, 3) uint8``, ``class_name``).
        n: number of crops; size: their side in pixels (8 … the photos' side).
        dtype: ``np.float32``: values in [0, 1]; ``np.uint8``: the same crops as 0-255 (a quarter
            of the memory; :mod:`facelib.conv.features` converts them a batch or a crop at a time,
            with ``_float01``, to exactly the float32 values).

    Returns:
        ``(pool, names)``: ``(n, size, size, 3)`` crops of ``dtype`` and the class name of each crop.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.uint8):
        raise ValueError(f"imagenet_pool: dtype must be np.float32 or np.uint8; got {dtype}")
    photos = np.asarray(sample.images)
    if photos.ndim != 4 or photos.shape[-1] != 3 or len(photos) == 0:
        raise ValueError(f"sample.images must be a non-empty (m, H, W, 3) stack; got shape {photos.shape}")
    side_max = min(photos.shape[1:3])
    if n < 1 or not 8 <= size <= side_max:
        raise ValueError(f"imagenet_pool needs n >= 1 and 8 <= size <= {side_max} (the photos' side); "
                         f"got n={n}, size={size}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(photos))
    pool = np.empty((n, size, size, 3), dtype)
    names = []
    for c in range(n):
        idx = int(order[c % len(photos)])
        img = photos[idx]
        side = int(rng.integers(size, min(side_max, int(max_scale * size)) + 1))
        y, x = int(rng.integers(img.shape[0] - side + 1)), int(rng.integers(img.shape[1] - side + 1))
        crop = np.ascontiguousarray(img[y:y + side, x:x + side])
        crop = crop if side == size else _resize_uint8(crop, size)
        pool[c] = crop if dtype == np.uint8 else _float01(crop)
        names.append(str(sample.class_name[idx]))
    return pool, names
