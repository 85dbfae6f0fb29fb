"""The images of style transfer: the photo :math:`C`, the painting(s) :math:`S`, masks and colours.

Lecture "Neural Style Transfer": the costs compare the activations of images of the *same* size, so
the content photo is resized to the output size and each painting is centre-cropped to its aspect
ratio and resized to it (or to ``style_scale`` times it: the brush size). Also here: registry
painting names (``"starry-night"``), several paintings blended with weights, the mask of the region
to stylise, the colour transfers (keep the photo's colours; a start with the painting's colours) and
:func:`face_weights`, the content-weight map that keeps a portrait's face.
Its public names are on :mod:`facelib.style`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

__all__ = ["face_weights", "painting_names", "prepare_image", "resolve_style"]


def _check_image(image: Any, what: str) -> np.ndarray:
    """Validate ``image`` and return it as ``(H, W, 3) float32`` in ``[0, 1]``."""
    from facelib.data.images import read_image

    if isinstance(image, (str, os.PathLike)):
        image = read_image(image)
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"{what} must be an RGB image of shape (H, W, 3); got shape {arr.shape} "
                         "(convert greyscale with facelib.data.images.to_rgb_uint8)")
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise ValueError(f"{what} is empty or too small: shape {arr.shape}, need at least 2x2 pixels")
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
            raise ValueError(f"{what}: a float image must hold finite values in [0, 1]; got "
                             f"[{np.nanmin(arr):.3g}, {np.nanmax(arr):.3g}]")
        return arr.astype(np.float32)
    raise ValueError(f"{what} must be uint8 or float in [0, 1]; got dtype {arr.dtype}")


def _target_shape(shape: tuple[int, ...], size: int) -> tuple[int, int]:
    h, w = shape[:2]
    scale = size / max(h, w)
    return max(2, round(h * scale)), max(2, round(w * scale))


def _resize(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """``(H, W, C)`` float in [0, 1] → ``(h, w, C)`` float32 (antialiased bicubic)."""
    if img.shape[:2] == tuple(hw):
        return img.astype(np.float32)
    out = tf.image.resize(img[None], hw, method="bicubic", antialias=True)[0]
    return np.clip(out.numpy(), 0.0, 1.0).astype(np.float32)


def _crop_to_aspect(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Centre-crop ``img`` to the aspect ratio of ``hw`` (so resizing does not distort it)."""
    H, W = img.shape[:2]
    target = hw[1] / hw[0]
    if W / H > target:
        new_w = max(1, round(H * target))
        x0 = (W - new_w) // 2
        return img[:, x0:x0 + new_w]
    new_h = max(1, round(W / target))
    y0 = (H - new_h) // 2
    return img[y0:y0 + new_h]


def prepare_image(image: Any, size: int, *, like: tuple[int, int] | None = None, what: str = "image") -> np.ndarray:
    """Validate and resize an image for :func:`stylize`.

    Args:
        image: ``(H, W, 3)`` uint8 or float in [0, 1], or an image file path.
        size: longest side in pixels (ignored when ``like`` is given).
        like: ``(h, w)`` to match exactly (the style image is centre-cropped to that aspect
            ratio, then resized — the course's costs assume equal sizes).

    Returns:
        ``(1, h, w, 3)`` float32 array in [0, 1].
    """
    arr = _check_image(image, what)
    if like is not None:
        return _resize(_crop_to_aspect(arr, like), like)[None]
    return _resize(arr, _target_shape(arr.shape, size))[None]


def painting_names() -> list[str]:
    """The registry's paintings, by the short names :func:`resolve_style` accepts (``"starry-night"``...)."""
    from facelib import registry

    return [a.name[len("style-"):] for a in registry.list_assets() if a.name.startswith("style-")]


def resolve_style(style: Any) -> Any:
    """A painting name from the registry (``"starry-night"`` or ``"style-starry-night"``) → its file.

    Anything else (an array, a path that exists, a path that does not) is returned unchanged, so
    that a missing file is reported by the image reader under its own name.
    """
    if not isinstance(style, str) or Path(style).exists():
        return style
    from facelib import assets

    names = painting_names()
    name = style[len("style-"):] if style.startswith("style-") else style
    if name in names:
        return assets.fetch(f"style-{name}")
    if not Path(style).suffix:  # no suffix: meant as a painting name
        raise ValueError(f"style {style!r} is neither an image file nor a painting of the registry "
                         f"({', '.join(names)})")
    return style


def _parse_styles(style: Any) -> list[tuple[Any, float]]:
    """One style, or a sequence of ``(style, weight)`` pairs → normalised ``[(style, weight)]``."""
    if isinstance(style, (list, tuple)) and style and all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], (int, float, np.number)) for p in style):
        pairs = [(resolve_style(s), float(w)) for s, w in style]
        if any(not math.isfinite(w) or w < 0 for _, w in pairs) or sum(w for _, w in pairs) <= 0:
            raise ValueError(f"style weights must be finite, >= 0 and not all 0; got {[w for _, w in pairs]}")
        total = sum(w for _, w in pairs)
        return [(s, w / total) for s, w in pairs]
    return [(resolve_style(style), 1.0)]


def _read_mask(mask: Any) -> np.ndarray:
    """A mask image or array → ``(H, W)`` float32 in [0, 1] (1 = stylise, 0 = keep the photo)."""
    from facelib.data.images import read_image

    if isinstance(mask, (str, os.PathLike)):
        arr = read_image(mask).astype(np.float32) / 255.0
    else:
        arr = np.asarray(mask)
        arr = arr.astype(np.float32) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float32)
    if arr.ndim == 3:
        arr = arr.mean(-1)
    if arr.ndim != 2 or min(arr.shape) < 2:
        raise ValueError(f"mask must be an (H, W) or (H, W, 3) image; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
        raise ValueError("mask values must lie in [0, 1] (float) or 0-255 (uint8)")
    return arr


def _style_at(style: np.ndarray, hw: tuple[int, int], scale: float) -> np.ndarray:
    """The painting for an output of ``hw``: cropped and resized to it, or at ``scale`` times its longest side."""
    if scale == 1.0:
        return prepare_image(style, 0, like=hw, what="style image")
    side = max(16, round(max(hw) * scale))
    return prepare_image(style, side, what="style image")


def _preserve_color(generated: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Keep the generated image's luminance and the content image's colours (YUV)."""
    from skimage.color import rgb2yuv, yuv2rgb

    yuv = rgb2yuv(content)
    yuv[..., 0] = rgb2yuv(generated)[..., 0]
    return np.clip(yuv2rgb(yuv), 0.0, 1.0).astype(np.float32)


def _match_colors(content: np.ndarray, style: np.ndarray) -> np.ndarray:
    """The content image with the painting's mean and spread of each RGB channel (a start closer in style)."""
    mu_c, sd_c = content.mean(axis=(0, 1, 2)), content.std(axis=(0, 1, 2)) + 1e-6
    mu_s, sd_s = style.mean(axis=(0, 1, 2)), style.std(axis=(0, 1, 2))
    return np.clip((content - mu_c) / sd_c * sd_s + mu_s, 0.0, 1.0).astype(np.float32)


def _texture_start(content: np.ndarray, style: np.ndarray, band: int = 8) -> np.ndarray:
    """A start textured like the painting: the colour-matched content's coarse layout plus the painting's detail.

    Splits both ``(1, h, w, 3)`` images at ``1/band`` of their size (a down-and-up resize is the low
    pass): the low frequencies of :func:`_match_colors` ``(content, style)`` plus the high frequencies of
    ``style`` (same shape). The early style layers' Gram matrices measure mostly that detail, so the
    start's style cost is far lower than the photo's (256 px, Starry Night, course layers: 43 against 731
    for ``_match_colors``).
    """
    hw = content.shape[1:3]
    small = (max(2, hw[0] // band), max(2, hw[1] // band))

    def low(x: np.ndarray) -> np.ndarray:
        return _resize(_resize(x, small), hw)

    base = _match_colors(content, style)[0]
    return np.clip(low(base) + style[0] - low(style[0]), 0.0, 1.0)[None].astype(np.float32)


def face_weights(image: Any, boost: float = 8.0) -> np.ndarray | None:
    """A content-weight map for a portrait: 1 everywhere, ``1 + boost`` on the main face (soft edges).

    Uses facelib's MTCNN detector; returns ``None`` when no face is found.

    Returns:
        ``(H, W)`` float32 map for ``stylize(..., content_weights=...)``, or ``None``.
    """
    from facelib.faces import detect

    rgb = (_check_image(image, "content image") * 255 + 0.5).astype(np.uint8)
    faces = detect.detect_faces(rgb)
    face = detect.main_face(faces, rgb.shape) if faces else None
    if face is None:
        return None
    H, W = rgb.shape[:2]
    x, y, bw, bh = face.box
    cx, cy = x + bw / 2, y + bh / 2
    yy, xx = np.mgrid[0:H, 0:W]
    # an ellipse a little larger than the box, with a soft edge
    r = np.sqrt(((xx - cx) / (0.65 * bw)) ** 2 + ((yy - cy) / (0.65 * bh)) ** 2)
    inside = np.clip((1.3 - r) / 0.3, 0.0, 1.0)
    return (1.0 + boost * inside).astype(np.float32)
