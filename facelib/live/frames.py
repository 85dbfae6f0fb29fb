"""The live door's frames: JPEG in and out, smaller copies, and following a face between detections.

Part of :mod:`facelib.live` (lesson 10, the live happy house; the loop is described there). A
frame from the browser is JPEG bytes: :func:`decode_frame` turns it into ``(H, W, 3) uint8`` RGB,
:func:`encode_jpeg` does the reverse. Between two MTCNN detections the face is *tracked*:
:func:`ncc_track` finds the face patch (:class:`TrackState`) again by normalised
cross-correlation in a small window around its last place, a few milliseconds of NumPy.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["FRAME_SIZE", "TrackState", "decode_frame", "encode_jpeg", "ncc_track"]

#: Frame size the camera widget asks for and the bench measures.
FRAME_SIZE = (640, 480)


# --------------------------------------------------------------------------------------- frames
def decode_frame(data: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """JPEG/PNG bytes (or an RGB array) → ``(H, W, 3) uint8`` RGB.

    Raises:
        ValueError: the bytes are not an image PIL can read (the message says how many bytes
            and what they start with).
    """
    if isinstance(data, np.ndarray):
        from facelib.data.images import to_rgb_uint8

        return to_rgb_uint8(data)
    raw = bytes(data)
    if not raw:
        raise ValueError("the frame is empty (0 bytes): the camera sent nothing")
    try:
        with Image.open(io.BytesIO(raw)) as im:
            im.load()
            return np.asarray(im.convert("RGB"))
    except (OSError, Image.DecompressionBombError, SyntaxError) as err:
        raise ValueError(f"the frame ({len(raw)} bytes starting {raw[:4].hex()}) "
                         f"is not a JPEG/PNG image: {err}") from None


def encode_jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    """``(H, W, 3) uint8`` → JPEG bytes (what the browser sends)."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(rgb, np.uint8)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _small_grey(rgb: np.ndarray, scale: int) -> np.ndarray:
    """Greyscale ``float32`` copy ``scale`` times smaller (box filter), for tracking."""
    im = Image.fromarray(rgb).convert("L")
    if scale > 1:
        im = im.reduce(scale)
    return np.asarray(im, np.float32)


def _small_rgb(rgb: np.ndarray, scale: int) -> np.ndarray:
    im = Image.fromarray(rgb)
    return np.asarray(im.reduce(scale) if scale > 1 else im)


# --------------------------------------------------------------------------------------- tracking
def ncc_track(grey: np.ndarray, template: np.ndarray, x: int, y: int, radius: int) -> tuple[int, int, float]:
    """Find ``template`` in ``grey`` near ``(x, y)`` by normalised cross-correlation.

    Args:
        grey: ``(H, W) float32`` image.
        template: ``(h, w) float32`` patch (the face at the last detection).
        x, y: the patch's last top-left corner in ``grey``.
        radius: search ``±radius`` pixels in each direction.

    Returns:
        ``(x, y, score)``: the best top-left corner and its correlation in ``[-1, 1]``
        (``-1.0`` when the window leaves the image entirely).
    """
    h, w = template.shape
    height, width = grey.shape
    x0, y0 = max(x - radius, 0), max(y - radius, 0)
    x1, y1 = min(x + radius + w, width), min(y + radius + h, height)
    region = grey[y0:y1, x0:x1]
    if region.shape[0] < h or region.shape[1] < w:
        return x, y, -1.0
    windows = np.lib.stride_tricks.sliding_window_view(region, (h, w))  # (ny, nx, h, w)
    t = template - template.mean()
    t_norm = float(np.sqrt((t * t).sum())) or 1.0
    sums = windows.sum(axis=(2, 3))
    sq = np.einsum("ijkl,ijkl->ij", windows, windows)
    n = h * w
    var = np.maximum(sq - sums * sums / n, 1e-6)
    corr = np.einsum("ijkl,kl->ij", windows, t) / (np.sqrt(var) * t_norm)
    iy, ix = np.unravel_index(int(np.argmax(corr)), corr.shape)
    return x0 + int(ix), y0 + int(iy), float(corr[iy, ix])


@dataclass
class TrackState:
    """The face being followed, in full-frame pixels (``box``, ``keypoints``) and in the small copy."""

    box: tuple[float, float, float, float]
    keypoints: np.ndarray
    confidence: float
    template: np.ndarray
    small_xy: tuple[int, int]
    scale: int = 1
    age: int = 0
