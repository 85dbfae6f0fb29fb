"""What the face encoders keep between runs: MTCNN detections and encodings, cached by photo.

A benchmark encodes the same LFW photos again and again (another encoder, flip on or off, a second
run); :func:`detect_photos` detects each photo once and :class:`EncodingStore` encodes each face
once. Both are keyed by :func:`photo_key` (the sha256 of the photo's file or pixels) and live under
``FACELIB_HOME/cache/`` (``mtcnn/`` small JSON files, ``encodings/`` one ``.npz`` per network and
alignment; no pickle); files are written atomically, and a damaged file is recomputed, never trusted.
A cache folder that cannot be written (a read-only home, a full disk) means "no cache": one warning,
then the results are computed and returned as without a cache, never an error.
Used by :mod:`facelib.faces.encoders` (``encode_photos(..., cache=True)``), ``bench/lfw.py`` and ``tools/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facelib import config
from facelib.data.images import ImageLike
from facelib.faces.detect import FALLBACK_CONFIDENCE

__all__ = ["Detection", "EncodingStore", "detect_photos", "photo_key"]


@dataclass(frozen=True)
class Detection:
    """The main face of one photo: ``keypoints`` ``(5, 2)`` (x, y) or ``None`` (no face found)."""

    keypoints: np.ndarray | None
    confidence: float = 0.0


def photo_key(photo: ImageLike, rgb: np.ndarray) -> str:
    """The cache key of one photo: the sha256 of its file (a path) or of its pixels and shape."""
    h = hashlib.sha256()
    if isinstance(photo, (str, os.PathLike)):
        h.update(Path(photo).read_bytes())
    else:
        h.update(str(rgb.shape).encode())
        h.update(rgb.tobytes())
    return h.hexdigest()


_UNWRITABLE: set[Path] = set()


def _write_or_warn(path: Path, write: Callable[[Path], object]) -> None:
    """``atomic_write(path, write)``; where the cache cannot be written, warn once per folder and go on."""
    from facelib.data.images import atomic_write

    root = Path(config.settings.home) / "cache"
    try:
        atomic_write(path, write)
    except OSError as exc:
        if root not in _UNWRITABLE:
            _UNWRITABLE.add(root)
            warnings.warn(f"facelib: the cache folder {root} cannot be written ({exc.strerror or exc}); "
                          "going on without a cache (results are computed again next time)",
                          RuntimeWarning, stacklevel=3)


def _cache_dir() -> Path:
    return Path(config.settings.home) / "cache" / "mtcnn"


def _load_cached(path: Path, policy: list[float | None], shape: tuple[int, ...] | None = None) -> Detection | None:
    """A cached detection made with ``policy`` ``[min_confidence, fallback_confidence]``, or one
    that holds under it too (a face found at ``min_confidence`` does not depend on the fallback);
    files without a policy were made with ``[0.9, None]``. ``None`` (detect again) on any doubt: not
    ``(5, 2)`` finite keypoints inside the photo of ``shape``, a confidence outside [0, 1], another
    photo's ``shape`` recorded, or a file too large for a cache entry."""
    try:
        if path.stat().st_size > 4096:
            return None
        raw = json.loads(path.read_text())
        kp = None if raw["keypoints"] is None else np.asarray(raw["keypoints"], np.float64).reshape(5, 2)
        det = Detection(kp, float(raw["confidence"]))
        made = list(raw.get("policy", [0.9, None]))
        if not _plausible(det, raw.get("shape"), shape):
            return None
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    if made == policy or (made[0] == policy[0] and kp is not None and det.confidence >= float(policy[0] or 0)):
        return det
    return None


def _plausible(det: Detection, recorded: object, shape: tuple[int, ...] | None) -> bool:
    """A cached detection fits the photo: finite keypoints near it, a probability, the photo's own size."""
    if not (0.0 <= det.confidence <= 1.0):  # NaN fails too
        return False
    if shape is None:
        return det.keypoints is None or bool(np.isfinite(det.keypoints).all())
    if recorded is not None and list(recorded) != list(shape[:2]):  # type: ignore[call-overload]
        return False
    if det.keypoints is None:
        return True
    h, w = shape[:2]
    kp = det.keypoints
    return bool(np.isfinite(kp).all() and (kp[:, 0] >= -w).all() and (kp[:, 0] <= 2 * w).all()
                and (kp[:, 1] >= -h).all() and (kp[:, 1] <= 2 * h).all() and np.ptp(kp, axis=0).max() > 0)


def _store_cached(path: Path, det: Detection, policy: list[float | None], shape: tuple[int, ...] | None = None
                  ) -> None:
    body = {"keypoints": None if det.keypoints is None else det.keypoints.tolist(), "confidence": det.confidence,
            "policy": policy, "shape": None if shape is None else list(shape[:2])}
    text = json.dumps(body)
    _write_or_warn(path, lambda tmp: tmp.write_text(text))


def detect_photos(rgbs: Sequence[np.ndarray], *, keys: Sequence[str] | None = None,
                  min_confidence: float = 0.9, fallback_confidence: float | None = FALLBACK_CONFIDENCE,
                  batch_size: int = 16, progress: bool | None = None) -> list[Detection]:
    """The main MTCNN face of each photo (:func:`facelib.faces.detect.main_faces`), batched.

    A photo with no face of ``min_confidence`` gets the main face of those reaching
    ``fallback_confidence`` (default :data:`facelib.faces.detect.FALLBACK_CONFIDENCE`; ``None``: none).
    With ``keys`` (one content hash per photo), results are cached as small JSON files under
    ``FACELIB_HOME/cache/mtcnn/`` so a benchmark detects each photo once.
    """
    from facelib.faces import detect
    from facelib.progress import tqdm

    policy: list[float | None] = [min_confidence, fallback_confidence]
    out: list[Detection | None] = [None] * len(rgbs)
    todo = []
    for i in range(len(rgbs)):
        if keys is not None:
            out[i] = _load_cached(_cache_dir() / keys[i][:2] / f"{keys[i]}.json", policy, rgbs[i].shape)
        if out[i] is None:
            todo.append(i)
    show = config.settings.progress if progress is None else progress
    step = 4 * batch_size  # cached after each step, so an interrupted run keeps its work
    starts = range(0, len(todo), step)
    for s in tqdm(starts, desc="detecting", unit="step", disable=not show or len(starts) < 2, leave=False):
        idx = todo[s:s + step]
        faces = detect.main_faces([rgbs[i] for i in idx], min_confidence=min_confidence, chunk=batch_size,
                                  progress=False, fallback_confidence=fallback_confidence)
        for i, face in zip(idx, faces):
            det = Detection(None) if face is None else Detection(face.keypoints, face.confidence)
            out[i] = det
            if keys is not None:
                _store_cached(_cache_dir() / keys[i][:2] / f"{keys[i]}.json", det, policy, rgbs[i].shape)
    return [d for d in out if d is not None]


def _unit_row(row: np.ndarray, dim: int | None) -> bool:
    """One cached encoding: a finite float vector of unit length (and ``dim`` wide when known)."""
    return bool(row.ndim == 1 and row.dtype.kind == "f" and (dim is None or len(row) == dim)
                and np.isfinite(row).all() and abs(float(np.linalg.norm(row.astype(np.float64))) - 1.0) < 1e-3)


def _check_store_size(path: Path) -> None:
    """Refuse (``ValueError``) an encoding store whose arrays claim more than a cache may hold, before loading."""
    from facelib.data.archives import npz_arrays

    npz_arrays(path, {"keys": _MAX_STORE_BYTES, "plain": _MAX_STORE_BYTES, "mirrored": _MAX_STORE_BYTES},
               "encoding cache")


#: The most bytes one array of an encoding store may hold (2 million 128-d rows): checked from the headers.
_MAX_STORE_BYTES = 2**30


class EncodingStore:
    """Encodings (plain and mirrored) by photo sha256 and keypoints in one ``.npz`` (no pickle), written
    atomically."""

    @classmethod
    def of(cls, cache_key: str, dim: int | None = None) -> EncodingStore:
        """The store of one network + alignment + preprocessing (``NetworkEncoder.cache_key``) of width ``dim``."""
        return cls(Path(config.settings.home) / "cache" / "encodings" / f"{cache_key}.npz", dim)

    def __init__(self, path: Path, dim: int | None = None) -> None:
        self.path = path
        self.dim = dim
        self.rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if path.is_file():
            try:
                _check_store_size(path)
                with np.load(path, allow_pickle=False) as z:
                    for k, a, b in zip(z["keys"], z["plain"], z["mirrored"]):
                        if _unit_row(a, dim) and _unit_row(b, dim):  # a doubtful row is encoded again
                            self.rows[str(k)] = (a, b)
            except (OSError, ValueError, KeyError, EOFError, RecursionError, zipfile.BadZipFile):
                self.rows = {}  # a damaged cache is recomputed

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def get(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return (np.stack([self.rows[k][0] for k in keys]).astype(np.float32),
                np.stack([self.rows[k][1] for k in keys]).astype(np.float32))

    def update(self, keys: Sequence[str], plain: np.ndarray, mirrored: np.ndarray) -> None:
        again = EncodingStore(self.path, self.dim)  # another process may have added rows meanwhile
        self.rows = {**again.rows, **self.rows}
        for k, a, b in zip(keys, plain, mirrored):
            self.rows[k] = (a, b)
        ks = sorted(self.rows)

        def write(tmp: Path) -> None:
            with tmp.open("wb") as fh:
                np.savez(fh, keys=np.array(ks), plain=np.stack([self.rows[k][0] for k in ks]),
                         mirrored=np.stack([self.rows[k][1] for k in ks]))

        _write_or_warn(self.path, write)
