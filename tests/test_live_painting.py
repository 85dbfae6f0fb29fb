"""The live door's painting mode (``facelib/live/painting.py`` and the widget's switch), without a browser.

A painter that keeps the picture must leave the door's answer as it was (the resident still opens it); one
that paints everything grey must leave no face; the widget sends the painted frames back and reports them.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from facelib import live, style
from facelib.faces import FaceDatabase

ENROLLED, STRANGER = "Ariel_Sharon", "Colin_Powell"


def keep(x: np.ndarray) -> np.ndarray:        # a "painter" that changes nothing
    return np.asarray(x, np.float32) / 255.0


def grey(x: np.ndarray) -> np.ndarray:        # a "painter" that paints everything mid-grey
    return np.full(np.shape(x), 0.5, np.float32)


@pytest.fixture(scope="module")
def db() -> FaceDatabase:
    return live.demo_database(ENROLLED)


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    return live.clip_frames(ENROLLED, STRANGER, frames_per_photo=1)[0]


def test_paint_frame_works_small_and_returns_the_frames_size() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    seen = []

    def inverse(x: np.ndarray) -> np.ndarray:
        seen.append(x.shape)
        return 1.0 - np.asarray(x, np.float32) / 255.0

    np.testing.assert_array_equal(live.paint_frame(inverse, rgb, side=64), 255 - rgb)   # no resize: exact
    out = live.paint_frame(inverse, rgb, side=32)
    assert seen[-1] == (24, 32, 3) and out.shape == rgb.shape and out.dtype == np.uint8
    painter = style.Painter(style.build_painter_network(width=4, residual_width=8, n_residual=1))
    assert live.paint_frame(painter, rgb, side=40).shape == (48, 64, 3)


def test_the_door_answers_the_painted_frame(db: FaceDatabase, frame: np.ndarray) -> None:
    kept = live.PaintingProcessor(live.FrameProcessor(db), keep)
    r = kept.process(live.encode_jpeg(frame), 1)
    assert r.error is None and r.door_open and r.name == "Ariel Sharon" and "paint" in r.timings
    painted = Image.open(io.BytesIO(kept.last_painted))
    assert painted.format == "JPEG" and painted.size == (frame.shape[1], frame.shape[0]) and kept.painted == 1
    blank = live.PaintingProcessor(live.FrameProcessor(db), grey)
    r = blank.process(live.encode_jpeg(frame), 1)
    assert r.box is None and not r.door_open and r.label == "no face"
    bad = blank.process(b"not an image", 2)
    assert "not a JPEG/PNG image" in bad.error and blank.painted == 1   # reported by the door, nothing painted


def _wait(cond, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "the widget did not answer in time"
        time.sleep(0.02)


def test_widget_painting_mode_sends_painted_frames_and_the_door_answers(db: FaceDatabase, frame: np.ndarray) -> None:
    from facelib.live.widget import LiveDoorWidget

    w = LiveDoorWidget(db, painter=keep, processor_options={"async_detect": False})
    try:
        w.painting = True
        assert "does the painting still open the door" in w.status
        w._on_msg(w, {"type": "frame", "seq": 1}, [live.encode_jpeg(frame)])
        _wait(lambda: w.state.get("seq") == 1)
        assert w.state["painted"] == 1 and w.state["door_open"] is True and w.painted_frame[:2] == b"\xff\xd8"
        w.painting = False
        assert w.loop.processor is w.processor and w.painted_frame == b""
    finally:
        w.close()


def test_widget_without_a_trained_painter_says_how_to_train_one(db: FaceDatabase, tmp_home) -> None:
    from facelib.live.widget import LiveDoorWidget

    w = LiveDoorWidget(db, processor_options={"async_detect": False})
    try:
        w.painting = True
        assert w.painting is False and "facelib paint train starry-night" in w.status
    finally:
        w.close()
