"""The live door's recognition of one frame: decode → detect → track → align → encode → identify.

Part of :mod:`facelib.live` (lesson 10, the live happy house; its docstring lists the levers that
make the loop fast enough). :class:`FrameProcessor` answers one camera frame at a time with a
:class:`LiveResult`: the face's box, the nearest resident (or "unknown"), the distance and whether
the door opens (``d ≤ τ``, :func:`facelib.faces.evaluation.accepts`). A plain Python object: no browser
needed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from facelib.live.frames import TrackState, _small_grey, _small_rgb, decode_frame, ncc_track

__all__ = ["FrameProcessor", "LiveResult"]


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
        door_open: ``distance <= τ`` (:func:`facelib.faces.evaluation.accepts`).
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
    # a database with a pluggable encoder (facelib.faces.encoders.load(name).encode_faces(aligned))
    for owner in (database, getattr(database, "encoder", None)):
        own = getattr(owner, "encode_faces", None)
        if callable(own):
            return np.asarray(own(faces), np.float32)
    from facelib.faces.verification import encode_faces

    return encode_faces(faces, database.model, preprocessing=database.preprocessing,
                        batch_size=getattr(database, "batch_size", 32), progress=False)


class FrameProcessor:
    """decode → detect → track → align → encode → identify for one camera frame at a time.

    A plain Python object (no browser needed): feed it JPEG bytes with :meth:`process`.

    Args:
        database: the residents (:class:`facelib.faces.database.FaceDatabase`); may be empty.
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
        from facelib.faces import detect

        return detect.detect_faces(small_rgb, min_confidence=self.min_confidence)

    def _start_track(self, faces: list, small_grey: np.ndarray, shape: tuple[int, ...], s: int) -> None:
        from facelib.faces import detect

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
        from facelib.faces import detect

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
        from facelib.faces.evaluation import accepts
        from facelib.faces.verification import nearest_person

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
        """One frame, step by step: decode, track or detect, encode when the box moved, identify."""
        t0 = time.perf_counter()
        self.counts["frames"] += 1
        result = LiveResult(seq=self.counts["frames"] if seq is None else int(seq))
        timings: dict[str, float] = {}
        decoded = self._decode(data, still, result)
        if decoded is None:
            result.latency_ms = (time.perf_counter() - t0) * 1000
            return result
        rgb, grey, scale = decoded
        background = self.async_detect and not still
        t1 = time.perf_counter()
        timings["decode"] = (t1 - t0) * 1000
        self._track(rgb.shape, grey, still, result)
        t2 = time.perf_counter()
        timings["track"] = (t2 - t1) * 1000
        self._detect_if_due(rgb, grey, scale, background, result)
        t3 = time.perf_counter()
        timings["detect"] = (t3 - t2) * 1000
        aligned = self._encode_if_moved(rgb, background, result)
        self._enrol_frame(rgb, aligned, result)
        t4 = time.perf_counter()
        timings["encode"] = (t4 - t3) * 1000
        self._answer(result)
        timings["identify"] = (time.perf_counter() - t4) * 1000
        result.timings = timings
        result.latency_ms = (time.perf_counter() - t0) * 1000
        return result

    def _decode(self, data: Any, still: bool, result: LiveResult) -> tuple[np.ndarray, np.ndarray, int] | None:
        """The frame as RGB, its small grey copy and the detection scale; ``None`` (and ``error`` set) for bad bytes."""
        try:
            rgb = decode_frame(data)
        except ValueError as err:
            self.counts["errors"] += 1
            result.error = str(err)
            result.tau = self.threshold()
            return None
        self.last_rgb = rgb
        result.height, result.width = rgb.shape[:2]
        # a still photo (an upload) may be small: keep at least 160 px for MTCNN
        scale = max(1, min(self.detect_scale, min(rgb.shape[:2]) // 160)) if still else self.detect_scale
        return rgb, _small_grey(rgb, scale), scale

    def _track(self, shape: tuple[int, ...], grey: np.ndarray, still: bool, result: LiveResult) -> None:
        """Apply a finished background job, then follow the face from the last detection into this frame."""
        if still:
            self.reset()
            self._job = None
        self._collect(shape, result)
        if self.track is not None:
            self._follow(grey)  # (a background detection was made on an older frame: follow it here)
            result.source = "track" if self.track is not None else "none"
        if self.track is None:
            self._encoding, self._encoded_box = None, None

    def _detect_if_due(self, rgb: np.ndarray, grey: np.ndarray, scale: int, background: bool,
                       result: LiveResult) -> None:
        """Detect (inline or in the background) when there is no track, it was lost, or every redetect_every frames."""
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

    def _encode_if_moved(self, rgb: np.ndarray, background: bool, result: LiveResult) -> np.ndarray | None:
        """Align + encode only when the box moved (or the track is new), in the background if asked.

        Returns the aligned face when one was made for this frame.
        """
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
        return aligned

    def _enrol_frame(self, rgb: np.ndarray, aligned: np.ndarray | None, result: LiveResult) -> None:
        """While enrolling: keep this frame's aligned face, and enrol once enough are in."""
        if self._enrol is not None and self.track is not None:
            self._enrol["faces"].append(self._aligned(rgb) if aligned is None else aligned)
        if self._enrol is not None:
            self._finish_enrolment(result)

    def _answer(self, result: LiveResult) -> None:
        """The face's box and who it is (or just ``τ`` when no face is followed)."""
        if self.track is not None:
            result.box = tuple(int(np.rint(v)) for v in self.track.box)  # type: ignore[assignment]
            self._identify(result)
        else:
            result.tau = self.threshold()

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
