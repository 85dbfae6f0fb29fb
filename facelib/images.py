"""Reading, converting and saving images; writing files atomically.

:func:`read_image` reads any common format (JPEG, PNG, BMP, TIFF; greyscale, RGBA, CMYK, 16-bit)
into an ``(H, W, 3) uint8`` RGB array with clear errors for missing, corrupt or truncated files;
:func:`to_rgb_uint8` turns a path, PIL image or array into the same; :func:`save_image` writes
atomically with :func:`atomic_write`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ["IMAGE_SUFFIXES", "ImageLike", "atomic_write", "read_image", "save_image", "to_rgb_uint8"]

#: Anything :func:`read_image`/:func:`to_rgb_uint8` accept: a path, a PIL image or an array.
ImageLike = Union[str, os.PathLike, Image.Image, np.ndarray]

#: File suffixes taken as images when a folder is scanned (e.g. :func:`facelib.datasets.load_identity_folder`).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(arr[..., None], 3, axis=-1)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as RGB.

    Args:
        path: an image file in any format Pillow reads.

    Returns:
        ``(H, W, 3) uint8`` array. Greyscale is repeated over 3 channels, transparency is
        composited on white, CMYK is converted, 16-bit images are scaled to 8 bits.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not an image, or is corrupt or truncated (the message names it).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file {path} does not exist")
    try:
        with Image.open(path) as img:
            img.load()
            return _pil_to_rgb(img)
    except UnidentifiedImageError:
        raise ValueError(f"{path} is not an image file Pillow can read (corrupt or another format)") from None
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"{path} is a corrupt or truncated image: {exc}") from None


def to_rgb_uint8(image: ImageLike) -> np.ndarray:
    """Turn a path, PIL image or array into an ``(H, W, 3) uint8`` RGB array.

    Float arrays are taken to be in ``[0, 1]``; ``(H, W)`` and ``(H, W, 1)`` are greyscale;
    ``(H, W, 4)`` drops alpha. Anything else raises ``ValueError`` stating the shape.
    """
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    if isinstance(image, Image.Image):
        return _pil_to_rgb(image)
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[-1] not in (1, 3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got {arr.shape}")
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    arr = arr[..., :3]
    if arr.dtype.kind == "f":
        arr = np.clip(arr * 255.0 + 0.5, 0, 255)
    elif arr.dtype == np.uint16:
        arr = arr / 257.0 + 0.5
    return arr.astype(np.uint8)


def save_image(path: str | os.PathLike, image: ImageLike) -> Path:
    """Write an image atomically (temp file, then rename); the format follows the suffix."""
    arr = to_rgb_uint8(image)
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower()) if path.suffix else "PNG"
    if fmt is None:
        raise ValueError(f"{path}: unknown image file extension {path.suffix!r} (use .png, .jpg, ...)")
    return atomic_write(path, lambda tmp: Image.fromarray(arr).save(tmp, format=fmt))


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The temporary file is removed if ``write`` fails, so ``path`` is either the old file or the
    complete new one, never half-written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
