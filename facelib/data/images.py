"""Reading, converting and saving images; writing files atomically.

:func:`read_image` reads any common format (JPEG, PNG, BMP, TIFF; greyscale, RGBA, CMYK, 16-bit)
into an ``(H, W, 3) uint8`` RGB array with clear errors for missing, corrupt or truncated files;
:func:`to_rgb_uint8` turns a path, PIL image or array into the same; :func:`save_image` writes
atomically with :func:`atomic_write`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["IMAGE_SUFFIXES", "ImageLike", "atomic_write", "describe", "read_image", "save_image", "to_rgb_uint8"]

#: Anything :func:`read_image`/:func:`to_rgb_uint8` accept: a path, a PIL image or an array.
ImageLike = str | os.PathLike | Image.Image | np.ndarray

#: File suffixes taken as images when a folder is scanned (e.g. :func:`facelib.data.datasets.load_identity_folder`).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


_ORIENTATION = 0x0112  # the EXIF tag phones set instead of rotating the pixels


def _upright(img: Image.Image) -> Image.Image:
    """``img`` turned as its EXIF orientation says (a phone photo stored sideways is read upright)."""
    try:
        orientation = img.getexif().get(_ORIENTATION, 1)
    except Exception:
        return img
    return ImageOps.exif_transpose(img) if orientation not in (None, 1) else img


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    img = _upright(img)
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


def describe(image: ImageLike) -> str:
    """How an error message (or a database's ``sources``) names an image: its path, else its type and size."""
    if isinstance(image, (str, os.PathLike)):
        return str(image)
    shape = getattr(image, "shape", None) or getattr(image, "size", None)
    return f"a {type(image).__name__} image of shape {tuple(shape)}" if shape else f"a {type(image).__name__} image"


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as RGB.

    Args:
        path: an image file in any format Pillow reads.

    Returns:
        ``(H, W, 3) uint8`` array, upright (the EXIF orientation applied). Greyscale is repeated
        over 3 channels, transparency is composited on white, CMYK is converted, 16-bit images
        are scaled to 8 bits.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a directory, not an image, corrupt or truncated, or more pixels than Pillow's
            decompression-bomb limit (the message names the file).
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"'{path}' is a directory, not an image file")
    if not path.is_file():
        raise FileNotFoundError(f"image file '{path}' does not exist")
    try:
        with Image.open(path) as img:
            img.load()
            return _pil_to_rgb(img)
    except Image.DecompressionBombError:
        raise ValueError(f"'{path}' is {_pixel_size(path)} pixels, "
                         f"more than the {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} "
                         "megapixels facelib reads (Pillow's decompression-bomb limit); resize it first") from None
    except UnidentifiedImageError:
        raise ValueError(f"'{path}' is not an image file Pillow can read (corrupt or another format)") from None
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"'{path}' is a corrupt or truncated image: {exc}") from None


def _pixel_size(path: Path) -> str:
    """``"WxH"`` from the header alone, Pillow's pixel limit lifted for this one look."""
    limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None
        with Image.open(path) as img:
            return f"{img.width}x{img.height}"
    except Exception:
        return "too many"
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _float_to_uint8(arr: np.ndarray) -> np.ndarray:
    """Floats on ``[0, 1]`` (a hair outside is clipped) or on ``[0, 255]``; anything else is refused."""
    if arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError("a float image must be finite with values in [0, 1] or [0, 255]; it holds NaN or infinity")
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= -0.05 and hi <= 1.05:
        return np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if lo >= 0.0 and 2.0 < hi <= 255.0:  # (1.05, 2]: neither a [0, 1] image nor a visible 0-255 one
        return np.clip(arr + 0.5, 0, 255).astype(np.uint8)
    raise ValueError(f"a float image must have values in [0, 1] or [0, 255]; this one goes from {lo:.4g} to {hi:.4g}")


def to_rgb_uint8(image: ImageLike) -> np.ndarray:
    """Turn a path, PIL image or array into an ``(H, W, 3) uint8`` RGB array.

    Float arrays with values in ``[0, 1]`` are scaled by 255; float arrays with larger values up
    to 255 are taken as 0–255 (``np.asarray(img, float)``); NaN, or values outside both, raise
    ``ValueError``. ``(H, W)`` and ``(H, W, 1)`` are greyscale; ``(H, W, 4)`` drops alpha.
    Anything else raises ``ValueError`` stating the shape. Files and PIL images are turned
    upright by their EXIF orientation. An array that already is ``(H, W, 3) uint8`` is returned
    as it is (not copied).
    """
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    if isinstance(image, Image.Image):
        return _pil_to_rgb(image)
    arr = np.asarray(image)
    if arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[-1] == 3 and arr.shape[0] and arr.shape[1]:
        return arr
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[-1] not in (1, 3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got {arr.shape}")
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    arr = arr[..., :3]
    if arr.dtype.kind == "f":
        return _float_to_uint8(arr)
    if arr.dtype == np.uint16:
        arr = arr / 257.0 + 0.5
    elif arr.dtype.kind in "iu" and arr.dtype != np.uint8 and arr.size and (arr.min() < 0 or arr.max() > 255):
        raise ValueError(f"an integer image must have values in [0, 255] (or be uint16); this {arr.dtype} one goes "
                         f"from {arr.min()} to {arr.max()}")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"an image must hold real numbers; got dtype {arr.dtype}")
    return arr.astype(np.uint8)


def save_image(path: str | os.PathLike, image: ImageLike) -> Path:
    """Write an image atomically (temp file, then rename); the format follows the suffix."""
    arr = to_rgb_uint8(image)
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower()) if path.suffix else "PNG"
    if fmt is None:
        raise ValueError(f"'{path}': unknown image file extension {path.suffix!r} (use .png, .jpg, ...)")
    return atomic_write(path, lambda tmp: Image.fromarray(arr).save(tmp, format=fmt))


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The temporary file is removed if ``write`` fails, so ``path`` is either the old file or the
    complete new one, never half-written. The new file gets the mode of the file it replaces, or
    ``0o666`` less the user's umask (what ``open()`` would give; ``mkstemp`` alone gives ``0o600``,
    which a teacher's web server cannot read).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _umask() -> int:
    """The process's umask (read without changing it where /proc allows)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current
