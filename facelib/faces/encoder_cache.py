"""What the face encoders keep between runs: MTCNN detections and encodings, cached by photo.

A benchmark encodes the same LFW photos again and again (another encoder, flip on or off, a second
run); :func:`detect_photos` detects each photo once and :class:`EncodingStore` encodes each face
once. Both are keyed by :func:`photo_key` (the sha256 of the photo's file or pixels) and live under
``FACELIB_HOME/cache/`` (``mtcnn/`` small JSON files, ``encodings/`` one ``.npz`` per network and
alignment; no pickle); files are written atomically, and a damaged file is recomputed, never trusted.
Each entry is sealed (:mod:`facelib.faces.cache_seal`: a keyed checksum of the store, the photo and the exact
values, with a key of the user's own): an entry whose seal is missing or wrong — another photo's valid
encoding swapped in, a detection file copied from another photo, a cache copied from another user — is
recomputed and rewritten like a damaged one. Cache files of facelib before the seals are therefore
recomputed once. The seal guards against a cache edited or shared by someone else, not against someone who
can read your key file (see :mod:`facelib.faces.cache_seal`).
A cache folder that cannot be written, or a key that can be neither read nor created (a read-only home, a
full disk) means "no cache": one warning, then the results are computed and returned as without a cache,
never an error.
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
from facelib.faces.cache_seal import secret_key, tag, tag_ok
from facelib.faces.detect import DETECT_CHUNK, FALLBACK_CONFIDENCE

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

    try:
        atomic_write(path, write)
    except OSError as exc:
        _warn_no_cache(exc)


def _warn_no_cache(exc: OSError) -> None:
    root = Path(config.settings.home) / "cache"
    if root not in _UNWRITABLE:
        _UNWRITABLE.add(root)
        warnings.warn(f"facelib: the cache folder {root} cannot be written ({exc.strerror or exc}); "
                      "going on without a cache (results are computed again next time)",
                      RuntimeWarning, stacklevel=4)


def _key_or_warn() -> bytes | None:
    """The cache key (:func:`facelib.faces.cache_seal.secret_key`), or ``None`` (no cache) with the one warning."""
    try:
        return secret_key()
    except OSError as exc:
        _warn_no_cache(exc)
        return None


def _cache_dir() -> Path:
    return Path(config.settings.home) / "cache" / "mtcnn"


_DETECTION_FIELDS = ("keypoints", "confidence", "policy", "shape")


def _sealed_parts(key: str, body: dict) -> tuple[str, str, str]:
    """What the seal of one detection file covers: its photo ``key`` and the fields of ``body`` that decide it."""
    return "detection", key, json.dumps({f: body.get(f) for f in _DETECTION_FIELDS}, sort_keys=True)


def _load_cached(path: Path, policy: list[float | None], shape: tuple[int, ...] | None = None, *,
                 seal: bytes, key: str) -> Detection | None:
    """A cached detection made with ``policy`` ``[min_confidence, fallback_confidence]``, or one
    that holds under it too (a face found at ``min_confidence`` does not depend on the fallback).
    ``None`` (detect again) on any doubt: no seal or a wrong one (another photo's file, another
    user's cache, an older facelib), not ``(5, 2)`` finite keypoints inside the photo of ``shape``, a
    confidence outside [0, 1], another photo's ``shape`` recorded, or a file too large for a cache entry."""
    try:
        if path.stat().st_size > 4096:
            return None
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict) or not tag_ok(seal, raw.get("tag"), *_sealed_parts(key, raw)):
            return None
        kp = None if raw["keypoints"] is None else np.asarray(raw["keypoints"], np.float64).reshape(5, 2)
        det = Detection(kp, float(raw["confidence"]))
        made = list(raw["policy"])
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


def _store_cached(path: Path, det: Detection, policy: list[float | None], shape: tuple[int, ...] | None = None,
                  *, seal: bytes, key: str) -> None:
    body = {"keypoints": None if det.keypoints is None else det.keypoints.tolist(),
            "confidence": float(det.confidence), "policy": policy, "shape": None if shape is None else list(shape[:2])}
    body = json.loads(json.dumps(body))  # sealed as it will be read back
    text = json.dumps({**body, "tag": tag(seal, *_sealed_parts(key, body)).hex()})
    _write_or_warn(path, lambda tmp: tmp.write_text(text))


def detect_photos(rgbs: Sequence[np.ndarray], *, keys: Sequence[str] | None = None,
                  min_confidence: float = 0.9, fallback_confidence: float | None = FALLBACK_CONFIDENCE,
                  batch_size: int = DETECT_CHUNK, progress: bool | None = None) -> list[Detection]:
    """The main MTCNN face of each photo (:func:`facelib.faces.detect.main_faces`), batched.

    A photo with no face of ``min_confidence`` gets the main face of those reaching
    ``fallback_confidence`` (default :data:`facelib.faces.detect.FALLBACK_CONFIDENCE`; ``None``: none).
    With ``keys`` (one content hash per photo), results are cached as small JSON files under
    ``FACELIB_HOME/cache/mtcnn/`` so a benchmark detects each photo once.
    """
    from facelib.faces import detect
    from facelib.progress import tqdm

    policy: list[float | None] = [min_confidence, fallback_confidence]
    seal = None if keys is None else _key_or_warn()  # no key: no cache
    out: list[Detection | None] = [None] * len(rgbs)
    todo = []
    for i in range(len(rgbs)):
        if keys is not None and seal is not None:
            out[i] = _load_cached(_cache_dir() / keys[i][:2] / f"{keys[i]}.json", policy, rgbs[i].shape,
                                  seal=seal, key=keys[i])
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
            if keys is not None and seal is not None:
                _store_cached(_cache_dir() / keys[i][:2] / f"{keys[i]}.json", det, policy, rgbs[i].shape,
                              seal=seal, key=keys[i])
    return [d for d in out if d is not None]


def _unit_row(row: np.ndarray, dim: int | None) -> bool:
    """One cached encoding: a finite float vector of unit length (and ``dim`` wide when known)."""
    return bool(row.ndim == 1 and row.dtype.kind == "f" and (dim is None or len(row) == dim)
                and np.isfinite(row).all() and abs(float(np.linalg.norm(row.astype(np.float64))) - 1.0) < 1e-3)


def _check_store_size(path: Path) -> None:
    """Refuse (``ValueError``) an encoding store whose arrays claim more than a cache may hold, before loading."""
    from facelib.data.archives import npz_arrays

    npz_arrays(path, {"keys": _MAX_STORE_BYTES, "plain": _MAX_STORE_BYTES, "mirrored": _MAX_STORE_BYTES,
                      "tags": _MAX_STORE_BYTES}, "encoding cache")


#: The most bytes one array of an encoding store may hold (2 million 128-d rows): checked from the headers.
_MAX_STORE_BYTES = 2**30


class EncodingStore:
    """Encodings (plain and mirrored) by photo sha256 and keypoints in one ``.npz`` (no pickle), written
    atomically; each row sealed (``tags``: HMAC-SHA256 of the store's file name, the key and both rows)."""

    @classmethod
    def of(cls, cache_key: str, dim: int | None = None) -> EncodingStore:
        """The store of one network + alignment + preprocessing (``NetworkEncoder.cache_key``) of width ``dim``."""
        return cls(Path(config.settings.home) / "cache" / "encodings" / f"{cache_key}.npz", dim)

    def __init__(self, path: Path, dim: int | None = None) -> None:
        self.path = path
        self.dim = dim
        self.rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        seal = _key_or_warn() if path.is_file() else None  # no key: nothing read can be trusted
        if seal is not None:
            try:
                _check_store_size(path)
                with np.load(path, allow_pickle=False) as z:
                    for k, a, b, t in zip(z["keys"], z["plain"], z["mirrored"], z["tags"]):
                        # a doubtful row (unsealed, another photo's, not a unit vector) is encoded again
                        if _unit_row(a, dim) and _unit_row(b, dim) and tag_ok(seal, t, *self._sealed(str(k), a, b)):
                            self.rows[str(k)] = (a, b)
            except (OSError, ValueError, KeyError, EOFError, RecursionError, zipfile.BadZipFile):
                self.rows = {}  # a damaged cache is recomputed

    def _sealed(self, key: str, plain: np.ndarray, mirrored: np.ndarray) -> tuple[str | np.ndarray, ...]:
        """What the seal of one row covers: this store (its file name), the photo key, both rows' exact values."""
        return "encoding", self.path.name, key, plain, mirrored

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
        seal = _key_or_warn()
        if seal is None:
            return  # no key, no cache: the rows stay in memory
        ks = sorted(self.rows)
        plain_rows = np.stack([self.rows[k][0] for k in ks])
        mirrored_rows = np.stack([self.rows[k][1] for k in ks])
        tags = np.array([np.frombuffer(tag(seal, *self._sealed(k, a, b)), np.uint8)  # sealed as they are written
                         for k, a, b in zip(ks, plain_rows, mirrored_rows)]).reshape(len(ks), 32)

        def write(tmp: Path) -> None:
            with tmp.open("wb") as fh:
                np.savez(fh, keys=np.array(ks), plain=plain_rows, mirrored=mirrored_rows, tags=tags)

        _write_or_warn(self.path, write)
