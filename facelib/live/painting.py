"""The door's painting mode: every camera frame painted by a trained painter, and does the painting still open the door?

Part of :mod:`facelib.live` (lesson 10; the painter is lesson 07's "Going further",
:func:`facelib.style.train_painter`). :class:`PaintingProcessor` wraps the door's
:class:`~facelib.live.processor.FrameProcessor`: each frame is painted (:func:`paint_frame`, one forward pass
at ``side`` pixels), and the *painted* frame is what the door sees: detect, track, FaceNet, the distance to
the enrolled people and ``d ≤ τ``. The painted JPEG goes back to the browser, which shows it instead of the
camera's picture.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PIL import Image

from facelib.live.frames import decode_frame, encode_jpeg
from facelib.live.processor import FrameProcessor, LiveResult

__all__ = ["PaintingProcessor", "paint_frame"]


def paint_frame(painter: Any, rgb: np.ndarray, side: int = 320) -> np.ndarray:
    """Paint a ``(H, W, 3) uint8`` frame at ``side`` pixels on its longest side; back at ``(H, W, 3) uint8``.

    Args:
        painter: a :class:`facelib.style.Painter` (or any callable ``(h, w, 3) uint8 → (h, w, 3)`` in [0, 1]).
        rgb: the camera frame.
        side: the painter's working size (its cost grows with the square of it; 320 px for a 640×480 frame
            costs about as much as 256×256).
    """
    h, w = rgb.shape[:2]
    k = min(1.0, side / max(h, w))
    small = rgb if k == 1.0 else np.asarray(Image.fromarray(rgb).resize((max(4, round(w * k)), max(4, round(h * k))),
                                                                        Image.Resampling.BILINEAR))
    painted = np.clip(np.asarray(painter(small), np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if painted.shape[:2] != (h, w):
        painted = np.asarray(Image.fromarray(painted).resize((w, h), Image.Resampling.BILINEAR))
    return painted


class PaintingProcessor:
    """Paint each frame, then let the door answer the *painted* frame.

    Args:
        processor: the door's :class:`FrameProcessor` (its residents, τ and tracking are used as they are).
        painter: a trained :class:`facelib.style.Painter`.
        side: the painter's working size (see :func:`paint_frame`).

    ``last_painted`` holds the JPEG of the latest painted frame (what the widget sends to the browser);
    ``paint_ms`` how long its painting took.
    """

    def __init__(self, processor: FrameProcessor, painter: Any, side: int = 320) -> None:
        self.processor = processor
        self.painter = painter
        self.side = int(side)
        self.last_painted: bytes = b""
        self.paint_ms = 0.0
        self.painted = 0

    def process(self, data: Any, seq: int | None = None, *, still: bool = False) -> LiveResult:
        """Paint ``data`` (JPEG/PNG bytes or an RGB array) and answer the painted frame; bad bytes → ``error`` set."""
        try:
            rgb = decode_frame(data)
        except ValueError:
            return self.processor.process(data, seq, still=still)   # the door reports the bad bytes
        t = time.perf_counter()
        painted = paint_frame(self.painter, rgb, self.side)
        self.paint_ms = (time.perf_counter() - t) * 1000
        self.last_painted = encode_jpeg(painted, 80)
        self.painted += 1
        result = self.processor.process(painted, seq, still=still)
        result.timings["paint"] = self.paint_ms
        result.latency_ms += self.paint_ms
        return result
