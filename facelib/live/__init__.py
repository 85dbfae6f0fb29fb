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
5. **identify**: distances to every enrolled person (:class:`facelib.faces.database.FaceDatabase`),
   the door opens when the nearest is within ``τ`` (recomputed every frame, so moving the τ
   slider or enrolling someone acts at once);
6. **draw**: the browser draws the box, label and door from the answer; :func:`draw` does the
   same on a NumPy frame (static demo, bench).

Frames that arrive while one is being processed are not queued: :class:`LatestFrame` keeps only
the newest and counts the others as dropped, so the answer is always about *now*.

:func:`door` is the notebook entry point: the camera widget (:class:`~facelib.live.widget.LiveDoorWidget`, on
``anywidget``) when a person is at the keyboard, a static demo on stored LFW photos otherwise
(nbval, ``facelib classroom``).

The modules, one idea each (their public names are this package's: ``from facelib import live`` then
``live.door()``, ``live.FrameProcessor(db)``):

- :mod:`facelib.live.frames`: JPEG in and out, tracking (:func:`decode_frame`, :func:`encode_jpeg`,
  :func:`ncc_track`, :class:`TrackState`);
- :mod:`facelib.live.processor`: one frame recognised (:class:`FrameProcessor`, :class:`LiveResult`);
- :mod:`facelib.live.loop`: the newest frame only, in a worker thread (:class:`LatestFrame`, :class:`LiveLoop`);
- :mod:`facelib.live.draw`: the answer drawn on a frame (:func:`draw`, :func:`door_picture`);
- :mod:`facelib.live.clip`: recorded clips of LFW photos (:func:`lfw_photo`, :func:`make_clip`,
  :func:`clip_frames`, :func:`write_y4m`);
- :mod:`facelib.live.painting`: the painting mode, every frame painted by a trained painter and the door
  answering the painted face (:class:`PaintingProcessor`, :func:`paint_frame`);
- :mod:`facelib.live.widget`: the camera widget (:class:`~facelib.live.widget.LiveDoorWidget`);
- :mod:`facelib.live.house`: the door in a notebook cell (:func:`door`, :func:`static_demo`, :func:`demo_database`);
- :mod:`facelib.live.vote`: the door's decision over several frames (:func:`door_vote`).
"""

from __future__ import annotations

from facelib.live.clip import clip_frames, lfw_photo, make_clip, write_y4m
from facelib.live.draw import door_picture, draw
from facelib.live.frames import FRAME_SIZE, TrackState, decode_frame, encode_jpeg, ncc_track
from facelib.live.house import demo_database, door, static_demo
from facelib.live.loop import LatestFrame, LiveLoop
from facelib.live.painting import PaintingProcessor, paint_frame
from facelib.live.processor import FrameProcessor, LiveResult
from facelib.live.vote import door_vote

__all__ = [
    "FRAME_SIZE", "clip_frames", "decode_frame", "demo_database", "door", "door_picture", "door_vote", "draw",
    "encode_jpeg", "lfw_photo", "make_clip", "ncc_track", "paint_frame", "static_demo", "write_y4m", "FrameProcessor",
    "LatestFrame", "LiveLoop", "LiveResult", "PaintingProcessor", "TrackState",
]
