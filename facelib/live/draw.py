"""The live door drawn on a frame: the face's box, the name or "unknown", the distance, the door.

Part of :mod:`facelib.live` (lesson 10). In the browser the widget's JavaScript draws the answer;
:func:`draw` does the same on a NumPy frame (the static demo, the bench), with
:func:`door_picture` for the door, open or shut.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from facelib.live.processor import LiveResult

__all__ = ["door_picture", "draw"]


def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - old Pillow
        return ImageFont.load_default()


def door_picture(is_open: bool, size: int = 120) -> Image.Image:
    """The door, open (green, swung inwards, light behind) or shut (red, closed): ``size × 1.4·size``."""
    w, h = size, int(size * 1.4)
    im = Image.new("RGB", (w, h), (245, 245, 245))
    d = ImageDraw.Draw(im)
    fx0, fy0, fx1, fy1 = int(w * 0.18), int(h * 0.12), int(w * 0.82), int(h * 0.95)
    d.rectangle([fx0 - 5, fy0 - 5, fx1 + 5, fy1], fill=(90, 70, 50))  # frame
    if is_open:
        d.rectangle([fx0, fy0, fx1, fy1], fill=(255, 236, 150))  # light from inside
        d.polygon([(fx0, fy0), (fx0 + (fx1 - fx0) * 0.35, fy0 + h * 0.06), (fx0 + (fx1 - fx0) * 0.35, fy1 - h * 0.04),
                   (fx0, fy1)], fill=(40, 150, 60))
        colour, text = (30, 140, 50), "OPEN"
    else:
        d.rectangle([fx0, fy0, fx1, fy1], fill=(170, 40, 40))
        d.rectangle([fx0 + 8, fy0 + 8, fx1 - 8, (fy0 + fy1) // 2 - 4], outline=(120, 25, 25), width=3)
        d.rectangle([fx0 + 8, (fy0 + fy1) // 2 + 4, fx1 - 8, fy1 - 8], outline=(120, 25, 25), width=3)
        d.ellipse([fx1 - 18, (fy0 + fy1) // 2 - 5, fx1 - 8, (fy0 + fy1) // 2 + 5], fill=(230, 200, 60))
        colour, text = (170, 30, 30), "SHUT"
    f = _font(max(12, size // 7))
    tw = d.textlength(text, font=f)
    d.text(((w - tw) / 2, 0), text, fill=colour, font=f)
    return im


def draw(rgb: np.ndarray, result: LiveResult) -> np.ndarray:
    """The frame with the answer drawn on it: box, label and distance, and the door (top right).

    Returns:
        ``(H, W, 3) uint8`` (a new array).
    """
    im = Image.fromarray(np.asarray(rgb, np.uint8)).copy()
    d = ImageDraw.Draw(im)
    f = _font(max(14, im.width // 32))
    colour = (40, 200, 70) if result.door_open else (230, 50, 50)
    if result.box is not None:
        x, y, w, h = result.box
        d.rectangle([x, y, x + w, y + h], outline=colour, width=max(2, im.width // 200))
        text = result.label + ("" if result.distance is None else f"  d={result.distance:.2f}")
        ty = max(y - f.size - 8, 0)
        d.rectangle([x, ty, x + d.textlength(text, font=f) + 8, ty + f.size + 6], fill=colour)
        d.text((x + 4, ty + 2), text, fill=(255, 255, 255), font=f)
    else:
        d.text((10, 10), result.error or "no face", fill=(230, 50, 50), font=f)
    pic = door_picture(result.door_open, size=max(60, im.width // 6))
    im.paste(pic, (im.width - pic.width - 8, 8))
    return np.asarray(im)
