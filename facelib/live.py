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
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from facelib import config

__all__ = [
    "FrameProcessor", "LatestFrame", "LiveLoop", "LiveResult", "TrackState", "clip_frames", "decode_frame", "door",
    "draw", "encode_jpeg", "lfw_photo", "make_clip", "ncc_track", "static_demo", "write_y4m",
]

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
        from facelib.images import to_rgb_uint8

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


# --------------------------------------------------------------------------------------- results
@dataclass
class LiveResult:
    """The answer for one frame (``to_state()`` is what the widget receives).

    Attributes:
        seq: the frame's number (from the browser).
        width, height: frame size in pixels (0 when it could not be decoded).
        box: ``(x, y, w, h)`` of the face in frame pixels, or ``None``.
        name: the nearest enrolled person when within ``τ``, else ``None`` ("unknown").
        nearest: the nearest enrolled person whatever the distance (``None``: nobody enrolled).
        distance: distance to ``nearest`` (``None`` without a face or without anyone enrolled).
        door_open: ``distance <= τ`` (:func:`facelib.evaluation.accepts`).
        tau: the threshold used.
        source: ``"detect"`` (fresh MTCNN box), ``"track"`` (followed), ``"none"`` (no face).
        encoded: whether FaceNet ran on this frame.
        latency_ms: time from receiving the bytes to the answer.
        error: one line when the frame could not be used (bad bytes); ``None`` otherwise.
        message: a note for the person at the camera (enrolment progress, ...).
        pending: a face is followed but its encoding is not in yet (background mode): the door
            stays shut and the label says "checking…".
    """

    seq: int
    width: int = 0
    height: int = 0
    box: tuple[int, int, int, int] | None = None
    name: str | None = None
    nearest: str | None = None
    distance: float | None = None
    door_open: bool = False
    tau: float = 0.0
    source: str = "none"
    encoded: bool = False
    latency_ms: float = 0.0
    error: str | None = None
    message: str = ""
    pending: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``"NAME"``, ``"unknown"``, ``"checking…"`` (encoding not in yet) or ``"no face"``."""
        if self.box is None:
            return "no face"
        if self.pending:
            return "checking…"
        return self.name or "unknown"

    def to_state(self) -> dict[str, Any]:
        """JSON-safe dict (floats rounded) for the widget."""
        state = asdict(self)
        state["box"] = None if self.box is None else [int(v) for v in self.box]
        state["distance"] = None if self.distance is None else round(float(self.distance), 4)
        state["latency_ms"] = round(float(self.latency_ms), 2)
        state["timings"] = {k: round(float(v), 2) for k, v in self.timings.items()}
        state["label"] = self.label
        return state


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return float(inter / max(aw * ah + bw * bh - inter, 1e-9))


def _encode_aligned(database: Any, faces: np.ndarray) -> np.ndarray:
    """Unit-norm encodings of aligned faces ``(m, 160, 160, 3) uint8`` the database's way."""
    # a database with a pluggable encoder (facelib.encoders.load(name).encode_faces(aligned))
    for owner in (database, getattr(database, "encoder", None)):
        own = getattr(owner, "encode_faces", None)
        if callable(own):
            return np.asarray(own(faces), np.float32)
    from facelib.verification import encode_faces

    return encode_faces(faces, database.model, preprocessing=database.preprocessing,
                        batch_size=getattr(database, "batch_size", 32), progress=False)


class FrameProcessor:
    """decode → detect → track → align → encode → identify for one camera frame at a time.

    A plain Python object (no browser needed): feed it JPEG bytes with :meth:`process`.

    Args:
        database: the residents (:class:`facelib.face_database.FaceDatabase`); may be empty.
        tau: the door's threshold; ``None`` = the database's (calibrated or default 0.7).
        detect_scale: MTCNN sees the frame this many times smaller (3: 640×480 → 213×160).
        redetect_every: run MTCNN again after this many frames even while tracking works.
        track_radius: search ±this many pixels of the small copy per frame when tracking.
        min_track_score: a correlation below this means the face was lost (→ detect again).
        move_fraction: re-encode when the box centre moved more than this fraction of its width
            (or its size changed by more) since the last encoding.
        async_detect: run MTCNN and FaceNet in a background thread (the live widget and the
            bench): every frame is answered at once from the tracker and the latest encoding, and
            a fresh face stays "unknown" (door shut) until its encoding is in. ``False`` does
            everything inline (deterministic: tests, static demo).
        min_confidence: MTCNN's face probability threshold.
    """

    def __init__(self, database: Any, *, tau: float | None = None, detect_scale: int = 3, redetect_every: int = 10,
                 track_radius: int = 8, min_track_score: float = 0.8, move_fraction: float = 0.08,
                 async_detect: bool = False, min_confidence: float = 0.9) -> None:
        if int(detect_scale) < 1:
            raise ValueError(f"detect_scale must be >= 1, got {detect_scale}")
        if int(redetect_every) < 1:
            raise ValueError(f"redetect_every must be >= 1, got {redetect_every}")
        self.database = database
        self.tau = None if tau is None else float(tau)
        self.detect_scale = int(detect_scale)
        self.redetect_every = int(redetect_every)
        self.track_radius = int(track_radius)
        self.min_track_score = float(min_track_score)
        self.move_fraction = float(move_fraction)
        self.min_confidence = float(min_confidence)
        self.async_detect = bool(async_detect)
        self.track: TrackState | None = None
        self._since_detect = 10 ** 9
        self._job: dict[str, Any] | None = None  # the background job (detect or encode) in flight
        self._track_id = 0
        self._executor: ThreadPoolExecutor | None = None
        self._encoding: np.ndarray | None = None
        self._encoded_box: tuple[float, float, float, float] | None = None
        self._enrol: dict[str, Any] | None = None
        self._lock = threading.RLock()
        self.last_rgb: np.ndarray | None = None
        self.counts = {"frames": 0, "detections": 0, "encodings": 0, "errors": 0}

    # ------------------------------------------------------------------ controls
    def threshold(self) -> float:
        """The ``τ`` in use."""
        return float(self.database.effective_threshold(self.tau))

    def enrol(self, name: str, n_frames: int = 5) -> None:
        """Enrol the person in front of the camera under ``name`` from the next ``n_frames`` frames with a face."""
        name = str(name).strip()
        if not name:
            raise ValueError("a person's name must not be empty")
        if int(n_frames) < 1:
            raise ValueError(f"n_frames must be >= 1, got {n_frames}")
        with self._lock:
            self._enrol = {"name": name, "needed": int(n_frames), "faces": []}

    def remove(self, name: str) -> int:
        """Forget ``name`` (returns how many photos were removed)."""
        with self._lock:
            return int(self.database.remove(name))

    def reset(self) -> None:
        """Forget the track (e.g. after the camera restarts)."""
        with self._lock:
            self.track = None
            self._encoding = None
            self._encoded_box = None
            self._since_detect = 10 ** 9

    def close(self) -> None:
        """Stop the detector thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # ------------------------------------------------------------------ detection
    def _detect_small(self, small_rgb: np.ndarray) -> list:
        from facelib import detect

        return detect.detect_faces(small_rgb, min_confidence=self.min_confidence)

    def _start_track(self, faces: list, small_grey: np.ndarray, shape: tuple[int, ...], s: int) -> None:
        from facelib import detect

        old = self.track
        face = detect.main_face(faces, (shape[0] // s, shape[1] // s))
        self.track = None
        if face is None:
            self._encoding, self._encoded_box = None, None
            return
        x, y, w, h = face.box
        x, y = max(int(x), 0), max(int(y), 0)
        w = max(min(int(w), small_grey.shape[1] - x), 4)
        h = max(min(int(h), small_grey.shape[0] - y), 4)
        template = small_grey[y:y + h, x:x + w].copy()
        if template.shape != (h, w):
            self._encoding, self._encoded_box = None, None
            return
        self.track = TrackState(box=(x * s, y * s, w * s, h * s), keypoints=np.asarray(face.keypoints) * s,
                                confidence=float(face.confidence), template=template, small_xy=(x, y), scale=s)
        self._track_id += 1
        # A fresh detection may be somebody else in the same place: always encode it again. Where it
        # continues the old track (boxes overlap) the old answer stands until the new encoding is in.
        if old is None or _iou(old.box, self.track.box) < 0.5:
            self._encoding = None
        self._encoded_box = None

    def _follow(self, small_grey: np.ndarray) -> None:
        tr = self.track
        if tr is None:
            return
        x, y = tr.small_xy
        nx, ny, score = ncc_track(small_grey, tr.template, x, y, self.track_radius)
        if score < self.min_track_score:
            self.track = None
            return
        s = tr.scale
        dx, dy = (nx - x) * s, (ny - y) * s
        bx, by, bw, bh = tr.box
        tr.box = (bx + dx, by + dy, bw, bh)
        tr.keypoints = tr.keypoints + np.array([dx, dy], np.float64)
        tr.small_xy = (nx, ny)
        tr.age += 1

    def _aligned(self, rgb: np.ndarray) -> np.ndarray:
        from facelib import detect

        tr = self.track
        assert tr is not None
        face = detect.Face(tuple(int(np.rint(v)) for v in tr.box), tr.keypoints, tr.confidence)  # type: ignore[arg-type]
        return detect.align(rgb, face)

    # ------------------------------------------------------------------ identify
    def _needs_encoding(self) -> bool:
        if self._encoding is None or self._encoded_box is None or self.track is None:
            return True
        x, y, w, h = self.track.box
        ex, ey, ew, eh = self._encoded_box
        moved = np.hypot(x + w / 2 - ex - ew / 2, y + h / 2 - ey - eh / 2)
        return bool(moved > self.move_fraction * ew or abs(w - ew) > self.move_fraction * ew)

    def _identify(self, result: LiveResult) -> None:
        tau = self.threshold()
        result.tau = tau
        if self._encoding is None or len(self.database) == 0:
            result.pending = self._encoding is None and len(self.database) > 0
            if len(self.database) == 0:
                result.message = result.message or "nobody is enrolled yet: enrol someone to open the door"
            return
        from facelib.evaluation import accepts
        from facelib.verification import nearest_person

        dist, nearest = nearest_person(self._encoding[0], self.database.as_dict())
        result.nearest, result.distance = nearest, float(dist)
        result.door_open = bool(accepts(result.distance, tau))
        result.name = nearest if result.door_open else None

    # ------------------------------------------------------------------ the loop
    def process(self, data: bytes | bytearray | memoryview | np.ndarray, seq: int | None = None, *,
                still: bool = False) -> LiveResult:
        """Answer one frame.

        Args:
            data: JPEG/PNG bytes from the browser, or an ``(H, W, 3)`` array.
            seq: the frame's number (default: a counter).
            still: a single photo (an upload), not part of a video: detect and encode now, don't track.

        Returns:
            A :class:`LiveResult`; a frame that cannot be decoded gives ``error`` set (never raises
            for bad bytes).
        """
        with self._lock:
            return self._process(data, seq, still)

    def _submit(self, kind: str, fn: Callable[..., Any], *args: Any, **info: Any) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="facelib-live-worker")
        self._job = {"kind": kind, "future": self._executor.submit(fn, *args), **info}

    def _collect(self, rgb_shape: tuple[int, ...], result: LiveResult) -> bool:
        """Apply a finished background job; returns whether a fresh detection started a track."""
        job = self._job
        if job is None or not job["future"].done():
            return False
        self._job = None
        try:
            value = job["future"].result()
        except Exception as err:
            result.message = f"{job['kind']} failed: {type(err).__name__}: {err}"
            return False
        if job["kind"] == "detect":
            self.counts["detections"] += 1
            self._start_track(value, job["grey"], rgb_shape, job["scale"])
            return self.track is not None
        if job["track_id"] == self._track_id and self.track is not None:  # an encoding for this track
            self._encoding, self._encoded_box = value, job["box"]
            self.counts["encodings"] += 1
        return False

    def _process(self, data: Any, seq: int | None, still: bool) -> LiveResult:
        t0 = time.perf_counter()
        self.counts["frames"] += 1
        result = LiveResult(seq=self.counts["frames"] if seq is None else int(seq))
        timings: dict[str, float] = {}
        try:
            rgb = decode_frame(data)
        except ValueError as err:
            self.counts["errors"] += 1
            result.error = str(err)
            result.tau = self.threshold()
            result.latency_ms = (time.perf_counter() - t0) * 1000
            return result
        self.last_rgb = rgb
        result.height, result.width = rgb.shape[:2]
        # a still photo (an upload) may be small: keep at least 160 px for MTCNN
        scale = max(1, min(self.detect_scale, min(rgb.shape[:2]) // 160)) if still else self.detect_scale
        grey = _small_grey(rgb, scale)
        t1 = time.perf_counter()
        timings["decode"] = (t1 - t0) * 1000
        background = self.async_detect and not still

        # track the face from the last detection; detect (inline or in the background) when
        # there is none, when it was lost, or every redetect_every frames ---------------------
        if still:
            self.reset()
            self._job = None
        self._collect(rgb.shape, result)
        if self.track is not None:
            self._follow(grey)  # (a background detection was made on an older frame: follow it here)
            result.source = "track" if self.track is not None else "none"
        if self.track is None:
            self._encoding, self._encoded_box = None, None
        t2 = time.perf_counter()
        timings["track"] = (t2 - t1) * 1000
        if (self.track is None or self._since_detect >= self.redetect_every) and self._job is None:
            small = _small_rgb(rgb, scale)
            self._since_detect = 0
            if background:
                self._submit("detect", self._detect_small, small, grey=grey, scale=scale)
            else:
                self._start_track(self._detect_small(small), grey, rgb.shape, scale)
                self.counts["detections"] += 1
                result.source = "detect" if self.track is not None else "none"
        self._since_detect += 1
        t3 = time.perf_counter()
        timings["detect"] = (t3 - t2) * 1000

        # align + encode, only when the box moved (or the track is new); in the background if asked ----
        aligned = None
        if self.track is not None and self._needs_encoding():
            if not background:
                aligned = self._aligned(rgb)
                self._encoding = _encode_aligned(self.database, aligned[None])
                self._encoded_box = self.track.box
                self.counts["encodings"] += 1
                result.encoded = True
            elif self._job is None:
                aligned = self._aligned(rgb)
                self._submit("encode", _encode_aligned, self.database, aligned[None], track_id=self._track_id,
                             box=self.track.box)
                result.encoded = True
        if self._enrol is not None and self.track is not None:
            self._enrol["faces"].append(self._aligned(rgb) if aligned is None else aligned)
        if self._enrol is not None:
            self._finish_enrolment(result)
        t4 = time.perf_counter()
        timings["encode"] = (t4 - t3) * 1000

        # identify -----------------------------------------------------------------------------
        if self.track is not None:
            result.box = tuple(int(np.rint(v)) for v in self.track.box)  # type: ignore[assignment]
            self._identify(result)
        else:
            result.tau = self.threshold()
        timings["identify"] = (time.perf_counter() - t4) * 1000
        result.timings = timings
        result.latency_ms = (time.perf_counter() - t0) * 1000
        return result

    def _finish_enrolment(self, result: LiveResult) -> None:
        assert self._enrol is not None
        name, needed, faces = self._enrol["name"], self._enrol["needed"], self._enrol["faces"]
        if len(faces) < needed:
            result.message = f"enrolling {name}: {len(faces)}/{needed} frames (look at the camera)"
            return
        enc = _encode_aligned(self.database, np.stack(faces))
        self.database.add_encodings(name, enc, sources=[f"camera frame {i + 1}" for i in range(len(enc))])
        self._enrol = None
        result.message = f"enrolled {name} from {len(enc)} frames"


# --------------------------------------------------------------------------------------- no queue
@dataclass
class _Slot:
    data: Any
    seq: int
    arrived: float
    still: bool = False


class LatestFrame:
    """A one-frame mailbox: a new frame replaces the unprocessed one (counted in ``dropped``).

    Args:
        max_age: a frame that waited longer than this many seconds is dropped too (stale).
    """

    def __init__(self, max_age: float = 0.5) -> None:
        self.max_age = float(max_age)
        self._cond = threading.Condition()
        self._slot: _Slot | None = None
        self.received = 0
        self.dropped = 0

    def put(self, data: Any, seq: int, *, still: bool = False, now: float | None = None) -> None:
        """Offer a frame; an older unprocessed one is dropped."""
        with self._cond:
            self.received += 1
            if self._slot is not None:
                self.dropped += 1
            self._slot = _Slot(data, int(seq), time.monotonic() if now is None else now, still)
            self._cond.notify()

    def get(self, timeout: float | None = None, *, now: float | None = None) -> _Slot | None:
        """The newest frame (removed from the box), ``None`` after ``timeout`` or when it is stale."""
        with self._cond:
            if self._slot is None:
                self._cond.wait(timeout)
            slot, self._slot = self._slot, None
        if slot is None:
            return None
        age = (time.monotonic() if now is None else now) - slot.arrived
        if age > self.max_age and not slot.still:
            with self._cond:
                self.dropped += 1
            return None
        return slot


class LiveLoop:
    """A worker thread: take the newest frame from a :class:`LatestFrame`, process it, report.

    Args:
        processor: the :class:`FrameProcessor`.
        on_result: called with each :class:`LiveResult` (from the worker thread).
        max_age: see :class:`LatestFrame`.
    """

    def __init__(self, processor: FrameProcessor, on_result: Callable[[LiveResult], None], *,
                 max_age: float = 0.5) -> None:
        self.processor = processor
        self.on_result = on_result
        self.frames = LatestFrame(max_age)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.processed = 0
        self._times: list[float] = []

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="facelib-live", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self.frames._cond:
            self.frames._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def submit(self, data: Any, seq: int, *, still: bool = False) -> None:
        self.frames.put(data, seq, still=still)

    def fps(self) -> float:
        """Frames answered per second over the last 2 seconds."""
        now = time.monotonic()
        recent = [t for t in self._times if now - t <= 2.0]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)

    def _run(self) -> None:
        while not self._stop.is_set():
            slot = self.frames.get(timeout=0.2)
            if slot is None:
                continue
            try:
                result = self.processor.process(slot.data, slot.seq, still=slot.still)
            except Exception as err:
                result = LiveResult(seq=slot.seq, error=f"{type(err).__name__}: {err}")
            self.processed += 1
            self._times = [t for t in self._times[-40:]] + [time.monotonic()]
            try:
                self.on_result(result)
            except Exception:
                logging.getLogger(__name__).exception("facelib.live: reporting frame %s failed", slot.seq)


# --------------------------------------------------------------------------------------- drawing
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


# --------------------------------------------------------------------------------------- recorded clips
def lfw_photo(person: str, k: int) -> Path:
    """Path of photo ``k`` (1-10) of ``person`` in the LFW subset (e.g. ``"Ariel_Sharon", 3``)."""
    from facelib import assets

    name = person.replace(" ", "_")
    path = assets.fetch("lfw-subset") / "lfw" / name / f"{name}_{int(k):04d}.jpg"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no photo {k} of {person!r} in the LFW subset")
    return path


def make_clip(photos: Sequence[np.ndarray], frames_per_photo: int = 20, *, size: tuple[int, int] = FRAME_SIZE,
              amplitude: float = 6.0, seed: int = 0) -> list[np.ndarray]:
    """A recorded clip: each photo pasted on a ``size`` background, moving a little, for some frames.

    Args:
        photos: ``(h, w, 3) uint8`` photos (e.g. 250×250 LFW), shown one after the other.
        frames_per_photo: frames per photo.
        size: ``(width, height)`` of the frames.
        amplitude: the photo drifts on a slow ellipse of this many pixels (plus ±1 px jitter).

    Returns:
        ``(height, width, 3) uint8`` frames.
    """
    width, height = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    bg = np.stack([70 + 40 * xx / width, 80 + 30 * yy / height, 95 + 20 * (xx + yy) / (width + height)],
                  -1).astype(np.uint8)
    frames = []
    t = 0
    for photo in photos:
        photo = np.asarray(photo, np.uint8)
        ph, pw = photo.shape[:2]
        if ph > height or pw > width:
            raise ValueError(f"a {pw}×{ph} photo does not fit a {width}×{height} frame")
        for _ in range(frames_per_photo):
            cx = (width - pw) / 2 + amplitude * np.cos(t / 7.0) + rng.integers(-1, 2)
            cy = (height - ph) / 2 + amplitude * 0.6 * np.sin(t / 7.0) + rng.integers(-1, 2)
            x0, y0 = int(np.rint(cx)), int(np.rint(cy))
            frame = bg.copy()
            frame[y0:y0 + ph, x0:x0 + pw] = photo
            frames.append(frame)
            t += 1
    return frames


def clip_frames(enrolled: str = "Ariel_Sharon", stranger: str = "Colin_Powell", frames_per_photo: int = 20,
                photos: Sequence[int] = (9, 10)) -> list[np.ndarray]:
    """The standard recorded clip: photos ``photos`` of ``enrolled``, then the same of ``stranger``.

    (Enrol ``enrolled`` from photos 1-5: the clip's photos are not among them.)
    """
    from facelib.images import read_image

    imgs = [read_image(lfw_photo(p, k)) for p in (enrolled, stranger) for k in photos]
    return make_clip(imgs, frames_per_photo)


def write_y4m(path: str | os.PathLike, frames: Sequence[np.ndarray], fps: int = 10) -> Path:
    """Write RGB frames as an uncompressed YUV4MPEG2 (4:2:0) video, the format Chromium's fake camera reads.

    Frame sizes must be even. BT.601 limited-range conversion.
    """
    frames = [np.asarray(f, np.uint8) for f in frames]
    if not frames:
        raise ValueError("no frames to write")
    h, w = frames[0].shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"y4m 4:2:0 needs even sizes; got {w}×{h}")
    out = Path(path)
    with open(out, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F{int(fps)}:1 Ip A1:1 C420jpeg\n".encode())
        for f in frames:
            if f.shape[:2] != (h, w):
                raise ValueError(f"frame of shape {f.shape} in a {w}×{h} clip")
            rgb = f.astype(np.float32)
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
            u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
            v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
            u = u.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
            v = v.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
            fh.write(b"FRAME\n")
            fh.writelines(np.clip(np.round(plane), 0, 255).astype(np.uint8).tobytes() for plane in (y, u, v))
    return out


# --------------------------------------------------------------------------------------- notebook
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
