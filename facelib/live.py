"""The live happy house: the webcam door in the browser, frame by frame.

The course's happy house opens its door for a resident. Here the photos come from a camera:
the browser (``getUserMedia`` → canvas → JPEG) sends frames to the kernel, the kernel answers
with the face's box, the nearest resident's name (or "unknown"), the distance and whether the
door opens, and the browser draws them. Because only JPEG bytes and a small answer travel, it
works when the kernel runs on another machine too.

The loop for one frame (:class:`FrameProcessor`), with the levers that make it fast enough:

1. **decode** the JPEG (``(480, 640, 3) uint8``) and a greyscale copy ``detect_scale`` times
   smaller;
2. **detect** (MTCNN) on the *small* copy, and only every ``redetect_every`` frames or when the
   track is lost; in the live widget detection (and encoding) run in a worker thread, so no
   frame waits for them;
3. **track** the face between detections: normalised cross-correlation of the face patch in a
   small window around its last place (a few milliseconds of NumPy);
4. **align** (5 keypoints → template) and **encode** (FaceNet) only when the box *moved*
   (or the face is new): a person standing still is not re-encoded;
5. **identify**: distances to every enrolled person (:class:`facelib.face_database.FaceDatabase`),
   the door opens when the nearest is within ``τ`` (recomputed every frame, so moving the τ
   slider or enrolling someone acts at once);
6. **draw**: the browser draws the box, label and door from the answer; :func:`draw` does the
   same on a NumPy frame (static demo, bench).

Frames that arrive while one is being processed are not queued: :class:`LatestFrame` keeps only
the newest and counts the others as dropped, so the answer is always about *now*.

:func:`door` is the notebook entry point: the camera widget (:class:`LiveDoorWidget`, on
``anywidget``) when a person is at the keyboard, a static demo on stored LFW photos otherwise
(nbval, ``facelib classroom``).

One idea per module; every public name below is re-exported here (``from facelib.live import X``):

- :mod:`facelib.live_frames`: JPEG in and out, tracking (:func:`decode_frame`, :func:`encode_jpeg`,
  :func:`ncc_track`, :class:`TrackState`);
- :mod:`facelib.live_processor`: one frame recognised (:class:`FrameProcessor`, :class:`LiveResult`);
- :mod:`facelib.live_loop`: the newest frame only, in a worker thread (:class:`LatestFrame`, :class:`LiveLoop`);
- :mod:`facelib.live_draw`: the answer drawn on a frame (:func:`draw`, :func:`door_picture`);
- :mod:`facelib.live_clip`: recorded clips of LFW photos (:func:`lfw_photo`, :func:`make_clip`,
  :func:`clip_frames`, :func:`write_y4m`);
- :mod:`facelib.live_widget`: the camera widget; here: :func:`door`, :func:`static_demo`, :func:`demo_database`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from facelib import config

# Moved to their own modules (see the docstring); re-exported here, where lessons, tests and the bench
# import them from: ``from facelib.live import FrameProcessor`` keeps working.
from facelib.live_clip import clip_frames, lfw_photo, make_clip, write_y4m
from facelib.live_draw import door_picture, draw
from facelib.live_frames import FRAME_SIZE, TrackState, decode_frame, encode_jpeg, ncc_track
from facelib.live_loop import LatestFrame, LiveLoop
from facelib.live_processor import FrameProcessor, LiveResult

__all__ = [
    "FRAME_SIZE", "FrameProcessor", "LatestFrame", "LiveLoop", "LiveResult", "TrackState", "clip_frames",
    "decode_frame", "demo_database", "door", "door_picture", "draw", "encode_jpeg", "lfw_photo", "make_clip",
    "ncc_track", "static_demo", "write_y4m",
]


def demo_database(person: str = "Ariel_Sharon", photos: Sequence[int] = (1, 2, 3, 4, 5)) -> Any:
    """A :class:`~facelib.face_database.FaceDatabase` with ``person`` enrolled from LFW photos ``photos``."""
    from facelib.face_database import FaceDatabase

    db = FaceDatabase()
    db.add(person.replace("_", " "), [lfw_photo(person, k) for k in photos], progress=False)
    return db


def static_demo(database: Any = None, *, enrolled: str = "Ariel_Sharon", stranger: str = "Colin_Powell",
                tau: float | None = None) -> tuple[np.ndarray, list[LiveResult]]:
    """The door on stored photos: two frames of ``enrolled`` and two of ``stranger``, answered and drawn.

    Returns:
        ``(grid, results)``: a ``(2·480, 2·640, 3) uint8`` picture of the four drawn frames and
        the four :class:`LiveResult`.
    """
    db = demo_database(enrolled) if database is None else database
    frames = clip_frames(enrolled, stranger, frames_per_photo=1)
    proc = FrameProcessor(db, tau=tau)
    results, drawn = [], []
    for i, frame in enumerate(frames):
        r = proc.process(encode_jpeg(frame), i + 1, still=True)
        results.append(r)
        drawn.append(draw(frame, r))
    top, bottom = np.concatenate(drawn[:2], axis=1), np.concatenate(drawn[2:4], axis=1)
    return np.concatenate([top, bottom], axis=0), results


def door(database: Any = None, *, tau: float | None = None, interactive: bool | None = None) -> Any | None:
    """The happy house's door for a notebook cell.

    With a person at the keyboard (``facelib.config.settings.interactive``): returns the camera
    widget (:class:`facelib.live_widget.LiveDoorWidget`; display it). Otherwise (nbval,
    ``facelib classroom``): draws the static demo (:func:`static_demo`) with matplotlib and
    returns ``None``.
    """
    show = config.settings.interactive if interactive is None else interactive
    if show:
        from facelib.live_widget import LiveDoorWidget

        return LiveDoorWidget(demo_database() if database is None else database, tau=tau)
    import matplotlib.pyplot as plt

    grid, results = static_demo(database, tau=tau)
    _fig, ax = plt.subplots(figsize=(10, 7.5))
    ax.imshow(grid)
    ax.set_axis_off()
    ax.set_title("The door on stored photos (no camera here): " + ", ".join(
        f"{r.label} → {'open' if r.door_open else 'shut'}" for r in results), fontsize=9)
    plt.show()
    return None
