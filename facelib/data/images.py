"""Reading, converting and saving images; writing files atomically.

:func:`read_image` reads any common format (JPEG, PNG, BMP, TIFF; greyscale, RGBA, CMYK, 16-bit)
into an ``(H, W, 3) uint8`` RGB array with clear errors for missing, corrupt or truncated files;
:func:`to_rgb_uint8` turns a path, PIL image or array into the same; :func:`save_image` writes
atomically with :func:`atomic_write`.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["IMAGE_SUFFIXES", "MAX_PIXELS", "ImageLike", "as_image_list", "atomic_write", "check_input_file", "describe",
           "read_image", "save_image", "temp_owner", "to_rgb_uint8"]

#: Anything :func:`read_image`/:func:`to_rgb_uint8` accept: a path, a PIL image or an array.
ImageLike = str | os.PathLike | Image.Image | np.ndarray

#: File suffixes taken as images when a folder is scanned (e.g. :func:`facelib.data.datasets.load_identity_folder`).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


#: The most pixels facelib decodes from one image file (or PIL image): Pillow's own warning limit
#: (``Image.MAX_IMAGE_PIXELS``, 89.5 megapixels, about 270 MB as RGB). It is checked from the file's
#: header *before* anything is decoded, so a 140 KB PNG claiming 12,000 × 12,000 pixels is refused at
#: once instead of growing to gigabytes. Face detection then works on a copy of at most
#: :data:`facelib.faces.detect.DETECT_MAX_PIXELS` (see there), so memory stays bounded after reading too.
MAX_PIXELS = 89_478_485

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


def as_image_list(images: Sequence[ImageLike] | ImageLike) -> list:
    """One photo or a batch (a path, a PIL image, an ``(H, W[, 3])`` array, a ``(m, H, W, 3)`` array or
    ``tf.Tensor``, or a sequence of these) as a list of photos; ``TypeError`` for the bytes of a file."""
    if isinstance(images, (bytes, bytearray)):
        raise TypeError(f"photos must be paths, PIL images or arrays; got {type(images).__name__} "
                        "(for the bytes of an encoded file use PIL.Image.open(io.BytesIO(data)))")
    if hasattr(images, "numpy") and not isinstance(images, np.ndarray):  # a tf.Tensor: one photo or a batch
        images = images.numpy()
    if isinstance(images, (str, os.PathLike, Image.Image)) or (isinstance(images, np.ndarray) and images.ndim <= 3):
        return [images]
    return list(images)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as RGB.

    Args:
        path: an image file in any format Pillow reads.

    Returns:
        ``(H, W, 3) uint8`` array, upright (the EXIF orientation applied). Greyscale is repeated
        over 3 channels, transparency is composited on white, CMYK is converted, 16-bit images
        are scaled to 8 bits.

    Raises:
        FileNotFoundError: the file does not exist (or is ``-``, a broken link or a loop of links).
        PermissionError: the file cannot be read.
        ValueError: a directory, a FIFO, not an image, corrupt or truncated, or more than
            :data:`MAX_PIXELS` pixels (checked from the header, before decoding; the message names the file).
    """
    path = check_input_file(path, "image file")
    try:
        with warnings.catch_warnings():  # a bomb warning for what _check_pixels refuses anyway
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
        with img:
            _check_pixels(img, f"'{path}'")
            img.load()
            return _pil_to_rgb(img)
    except Image.DecompressionBombError:
        raise ValueError(f"'{path}' is {_pixel_size(path)} pixels, more than the {MAX_PIXELS / 1e6:.0f} "
                         "megapixels facelib reads; resize it first") from None
    except UnidentifiedImageError:
        raise ValueError(f"'{path}' is not an image file Pillow can read (corrupt or another format)") from None
    except PermissionError:
        raise PermissionError(f"'{path}': permission denied (the file cannot be read)") from None
    except MemoryError:
        raise MemoryError(f"'{path}': out of memory while decoding it; resize it first") from None
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"'{path}' is a corrupt or truncated image: {exc}") from None


def _check_pixels(img: Image.Image, name: str) -> None:
    """Refuse an image of more than :data:`MAX_PIXELS` from its header, before it is decoded."""
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise ValueError(f"{name} is {width}x{height} = {width * height / 1e6:.0f} megapixels, more than the "
                         f"{MAX_PIXELS / 1e6:.0f} megapixels facelib reads (decoded, memory grows with the pixel "
                         "count); resize it first")


def check_input_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``path`` as a ``Path`` if it is a regular file this process may read, else the error naming it.

    Raises:
        FileNotFoundError: it does not exist (or ``-``: facelib reads files, not standard input),
            or it is a broken symbolic link or a loop of links.
        ValueError: a directory, a FIFO, a device or a socket (reading could block or never end).
        PermissionError: it cannot be read.
    """
    path = Path(path)
    if str(path) == "-":
        raise FileNotFoundError(f"'-': {what}s are read from files; standard input ('-') is not supported")
    try:
        st = path.stat()
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileNotFoundError(f"{what} '{path}' is a broken symbolic link (its target does not exist)") from None
        raise FileNotFoundError(f"{what} '{path}' does not exist") from None
    except OSError as exc:  # ELOOP, ENAMETOOLONG, ENOTDIR, EACCES on a folder...
        if exc.errno == errno.ELOOP:
            raise FileNotFoundError(f"{what} '{path}' is a loop of symbolic links") from None
        if isinstance(exc, PermissionError):
            raise PermissionError(f"{what} '{path}': permission denied (a folder on its path cannot be entered)"
                                  ) from None
        raise FileNotFoundError(f"{what} '{path}' cannot be reached: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ValueError(f"'{path}' is a directory, not an {what}" if what[0] in "aeiou"
                         else f"'{path}' is a directory, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise ValueError(f"'{path}' is {kind}, not a regular {what}")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"{what} '{path}': permission denied (the file cannot be read)")
    return path


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
    Anything else raises ``ValueError`` stating the shape; bytes, booleans, ``None`` and object arrays
    raise ``TypeError``; a TensorFlow tensor is read through ``.numpy()``. A file or PIL image of more
    than :data:`MAX_PIXELS` is refused before it is decoded. Files and PIL images are turned
    upright by their EXIF orientation. An array that already is ``(H, W, 3) uint8`` is returned
    as it is (not copied).
    """
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    if isinstance(image, Image.Image):
        _check_pixels(image, describe(image))
        return _pil_to_rgb(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        raise TypeError(f"an image must be a path, a PIL image or an array; got {type(image).__name__} "
                        "(for the bytes of an encoded file use PIL.Image.open(io.BytesIO(data)))")
    if hasattr(image, "numpy") and not isinstance(image, np.ndarray):  # a tf.Tensor / torch tensor
        image = image.numpy()
    if image is None or isinstance(image, (bool, int, float, complex, np.generic)):
        raise TypeError(f"an image must be a path, a PIL image or an array; got {image!r:.40}")
    arr = np.asarray(image)
    if arr.dtype == bool:
        raise TypeError("a boolean array is not an image (True/False would read as almost black 0/1); "
                        "for a black-and-white image pass mask.astype(np.uint8) * 255")
    if arr.dtype == object:
        raise TypeError(f"an image must be an array of numbers; got an object array of shape {arr.shape}")
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
    complete new one, never half-written. The new file is flushed to disk (``fsync``) before the
    rename and the folder after it, so a power cut cannot leave an empty file behind. A symbolic
    link is written through: its target is replaced, the link stays. The new file gets the mode of
    the file it replaces, or ``0o666`` less the user's umask (what ``open()`` would give; ``mkstemp``
    alone gives ``0o600``, which a teacher's web server cannot read).

    The temporary file is named ``.NAME.facelib-PID-RANDOM.tmp`` (:func:`temp_owner` reads it back), a
    name no user chooses, so a sweep of what killed writers left removes only facelib's own files.

    Returns:
        The path written: ``path``, or the target of the link ``path``.
    """
    path = Path(path)
    if os.path.islink(path):
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.facelib-{os.getpid()}-", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # a read-only or full folder: name the folder, not a random temporary name
        raise OSError(exc.errno, f"cannot create a file in this folder: {exc.strerror or exc}",
                      str(path.parent)) from None
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, mode)
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent)
    except OSError as exc:  # a full disk, `ulimit -f`, a quota: blame the file being written, not the temporary
        if exc.filename not in (None, tmp, str(tmp)):
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def temp_owner(candidate: Path, path: Path) -> int | None:
    """The process id in ``candidate``'s name if it is a temporary file :func:`atomic_write` made for
    ``path`` (``.NAME.facelib-PID-RANDOM.tmp``), else ``None``."""
    prefix = f".{path.name}.facelib-"
    name = candidate.name
    if not (name.startswith(prefix) and name.endswith(".tmp")):
        return None
    pid, sep, rand = name[len(prefix):-len(".tmp")].partition("-")
    if not (sep and pid.isdigit() and len(rand) >= 8 and rand.replace("_", "").isalnum()):
        return None
    return int(pid)


def _fsync(path: str | os.PathLike) -> None:
    """Flush a file (or a folder's entries) to disk; a folder cannot be opened on Windows: skipped there."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        if os.path.isdir(path):
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not os.path.isdir(path):  # some file systems refuse fsync on a folder
            raise
    finally:
        os.close(fd)


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
