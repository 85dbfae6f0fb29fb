"""A face database for real use: several photos per person, detection, a calibrated threshold, files.

:class:`FaceDatabase` does what the course's ``verify``/``who_is_it`` (:mod:`facelib.verification`)
do, for real photos: MTCNN detection and alignment (:func:`facelib.detect.detect_and_align`),
batched encoding (:func:`facelib.verification.encode_faces`), a threshold calibrated on your own
photos (:meth:`FaceDatabase.calibrate`) and ``.npz`` + JSON files (no pickle).

Files are trusted only after checking: :meth:`FaceDatabase.load` refuses every malformed file
with a ``ValueError`` naming it (NaN, complex or wrong-width encodings, malformed names, sources,
threshold, a model that is not a registered asset name...). Writers serialise on a lock file
beside the database (``DB.lock``, an ``flock``, released by the kernel if the process dies):
:meth:`FaceDatabase.enroll` encodes the photos first, then, under the lock, reads the file again,
merges and replaces it, so two simultaneous enrolments keep both people.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from facelib.evaluation import accepts
from facelib.images import ImageLike, atomic_write, describe
from facelib.verification import (
    _as_encodings,
    course_image,
    default_model,
    encode_faces,
    input_size,
    nearest_person,
    person_distances,
    require_people,
)

__all__ = ["FaceDatabase", "FaceDatabaseWarning", "THRESHOLD_RANGE", "check_threshold"]

_FORMAT_VERSION = 1
#: A threshold is a finite number in ``(low, high]``: distances of unit-norm encodings lie in [0, 2].
THRESHOLD_RANGE = (0.0, 4.0)
#: Encoding width of the encoders whose asset name a database may record.
ENCODING_WIDTHS = {"facenet-keras-128": 128}
#: Encoding width of each :mod:`facelib.encoders` pipeline a database may record.
ENCODER_WIDTHS = {"facenet": 128, "dlib": 128, "facenet+dlib": 256}
#: Two encodings nearer than this are the same face (the same photo twice gives ~1e-6).
SAME_FACE_DISTANCE = 1e-2
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
_LOCK_TIMEOUT_S = 120.0


class _NotADatabase(Exception):
    pass


class FaceDatabaseWarning(UserWarning):
    """Something worth a second look in an enrolment (the same photo twice, one face under two names...)."""


def check_threshold(value: object, what: str = "threshold") -> float:
    """``value`` as a float if it is a finite number in (0, 4], else ``ValueError`` naming ``what``."""
    lo, hi = THRESHOLD_RANGE
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not ok or not (math.isfinite(float(value)) and lo < float(value) <= hi):  # type: ignore[arg-type]
        raise ValueError(f"{what} must be a finite number in ({lo:g}, {hi:g}]; got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _check_model_name(value: object, what: str = "model_name") -> str:
    """A registered asset name of weights (never a path: it is resolved only through the registry)."""
    from facelib import assets

    if not isinstance(value, str) or not _ASSET_NAME.match(value):
        raise ValueError(f"{what} must be an asset name such as 'facenet-keras-128' (never a path); got {value!r}")
    try:
        kind = assets.get_asset(value).kind
    except KeyError:
        raise ValueError(f"{what} {value!r} is not a registered asset (see `facelib doctor`)") from None
    if kind != "weights":
        raise ValueError(f"{what} {value!r} is a {kind} asset, not weights")
    return value


def _clean_name(name: object) -> str:
    if not isinstance(name, str):
        raise ValueError(f"a person's name must be a string; got {name!r}")
    cleaned = name.strip()
    if not cleaned:
        raise ValueError("a person's name must not be empty")
    return cleaned


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]  # Windows only; mypy checks Linux
else:
    import fcntl

    def _try_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextlib.contextmanager
def _writer_lock(path: Path, timeout: float = _LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold ``PATH.lock`` exclusively; remove it (and ``.PATH-*.tmp`` left by killed writers) on exit.

    The lock is an ``flock`` on an open file: a killed holder releases it. A lock file found on
    disk is therefore never "stale"; after locking, the file is checked to be the one on disk
    (a releasing holder may have just removed it).
    """
    lock = path.with_name(path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            _try_lock(fd)
        except OSError:
            os.close(fd)
            if time.monotonic() > deadline:
                raise TimeoutError(f"'{path}' is being written by another process (lock '{lock}' held for "
                                   f"{timeout:.0f} s); try again") from None
            time.sleep(0.05)
            continue
        try:
            current = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)
    try:
        for stale in path.parent.glob(f".{path.name}-*.tmp"):  # only a killed writer leaves these
            stale.unlink(missing_ok=True)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def _quoted(image: ImageLike) -> str:
    """A photo for a message: its path in single quotes, or what kind of image it is."""
    return f"'{image}'" if isinstance(image, (str, os.PathLike)) else describe(image)


def _as_image_list(images: Sequence[ImageLike] | ImageLike) -> list:
    if isinstance(images, (str, os.PathLike, Image.Image)) or (isinstance(images, np.ndarray) and images.ndim <= 3):
        return [images]
    return list(images)


class FaceDatabase:
    """Enrolled people, several photos each, and the rules to verify and identify them.

    Each photo goes through MTCNN detection, 5-point alignment, the encoder and L2
    normalisation (:meth:`encode`). A query is compared with every enrolled photo; a person's
    distance is the smallest over their photos.

    Args:
        model: the encoder; ``None`` loads :func:`facelib.models.facenet` on first need.
        preprocessing: ``"course"`` (default; τ = 0.7 fits it) or ``"standardize"``.
        detect: detect and align faces (default); ``False`` takes photos as already-cropped faces
            and resizes them like the course (nearest neighbour).
        threshold: a calibrated ``τ``; ``None`` uses :data:`DEFAULT_THRESHOLDS` of the preprocessing
            (0.7 for ``"course"``) until :meth:`calibrate` sets one.
        batch_size: images per forward pass in :meth:`encode`.
        encoder: ``"facenet"``, ``"dlib"`` or ``"facenet+dlib"`` (or an encoder object of
            :func:`facelib.encoders.load`): photos go through that encoder's own pipeline and τ
            defaults to its View-1 threshold; its name is stored in the database file.
            ``None`` (default): the course pipeline above (``model`` + ``preprocessing``).

    ``len(db)`` is the number of people.
    """

    def __init__(self, model=None, *, preprocessing: str = "course", detect: bool = True,
                 threshold: float | None = None, batch_size: int = 32, model_name: str = "facenet-keras-128",
                 encoder=None) -> None:
        from facelib.models.inception_resnet import PREPROCESSING

        if preprocessing not in PREPROCESSING:
            raise ValueError(f"preprocessing must be one of {PREPROCESSING}; got {preprocessing!r}")
        self._model = model
        self.model_name = _check_model_name(model_name)
        self.preprocessing = preprocessing
        self.detect = bool(detect)
        self.threshold = None if threshold is None else check_threshold(threshold)
        self.batch_size = int(batch_size)
        self._names: list[str] = []
        self._encodings: dict[str, np.ndarray] = {}
        self._sources: dict[str, list[str]] = {}
        self._encoder = None
        if encoder is not None:
            from facelib import encoders

            self._encoder = encoders.load(encoder) if isinstance(encoder, str) else encoder

    @property
    def encoder_name(self) -> str | None:
        """The :mod:`facelib.encoders` encoder's name, or ``None`` for the course pipeline."""
        return None if self._encoder is None else self._encoder.name

    # ----------------------------------------------------------------- basics
    @property
    def model(self):
        """The encoder, loaded on first use (shared by every database of this process)."""
        if self._model is None:
            self._model = default_model(self.model_name)
        return self._model

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._encodings

    def __repr__(self) -> str:
        return (f"FaceDatabase({len(self)} people, {self.n_photos} photos, preprocessing={self.preprocessing!r}, "
                f"threshold={self.effective_threshold():.3f}{'' if self.threshold is not None else ' (default)'})")

    @property
    def names(self) -> list[str]:
        """Enrolled people, in enrolment order."""
        return list(self._names)

    @property
    def n_photos(self) -> int:
        """Number of enrolled photos over all people."""
        return sum(len(e) for e in self._encodings.values())

    def encodings(self, name: str) -> np.ndarray:
        """The ``(k, 128) float32`` encodings enrolled for ``name``."""
        return self._encodings[self._require(name)].copy()

    def as_dict(self) -> dict[str, np.ndarray]:
        """``{name: (k, 128) encodings}``, the ``database`` that :func:`verify`/:func:`who_is_it` take."""
        return {n: self._encodings[n].copy() for n in self._names}

    def effective_threshold(self, threshold: float | None = None) -> float:
        """``threshold`` if given, else the calibrated one, else the preprocessing's default."""
        from facelib.models.inception_resnet import DEFAULT_THRESHOLDS

        if threshold is not None:
            return check_threshold(threshold)
        if self.threshold is not None:
            return check_threshold(self.threshold)
        if self._encoder is not None:
            return float(self._encoder.threshold)
        return DEFAULT_THRESHOLDS[self.preprocessing]

    def _require(self, name: str) -> str:
        """``name`` stripped, checked to be enrolled (``KeyError`` listing who is)."""
        name = name.strip() if isinstance(name, str) else name
        if name not in self._encodings:
            known = ", ".join(self._names) or "nobody"
            raise KeyError(f"{name!r} is not enrolled (the database holds: {known})")
        return name

    # ----------------------------------------------------------------- encoding
    def faces(self, images: Sequence[ImageLike], *, progress: bool | None = None) -> np.ndarray:
        """Detected and aligned (or course-resized) faces: ``(m, size, size, 3) uint8``, ``size`` the model's input.

        Raises:
            NoFaceFoundError: a photo without a face (the message names it).
            FileNotFoundError / ValueError: a missing or unreadable image (named).
        """
        from facelib import detect as det

        if not self.detect:
            size = input_size(self.model)
            if not len(images):
                return np.zeros((0, size, size, 3), np.uint8)
            return np.stack([course_image(im, size) for im in images])
        return det.detect_and_align(images, size=input_size(self.model), progress=progress,
                                    hint="use a photo where the face is visible "
                                         "(or FaceDatabase(detect=False) for ready-cropped faces)")

    def encode(self, images: Sequence[ImageLike] | ImageLike, *, progress: bool | None = None) -> np.ndarray:
        """Encode photos the database's way: ``(m, 128) float32`` unit-norm rows.

        ``images`` is a list of paths/arrays/PIL images, or a single one (→ ``(1, 128)``).
        """
        images = _as_image_list(images)
        if self._encoder is not None and self.detect:
            return self._encoder.encode_photos(images, progress=progress)
        faces = self.faces(images, progress=progress)
        return encode_faces(faces, self.model, preprocessing=self.preprocessing, batch_size=self.batch_size,
                            progress=progress)

    # ----------------------------------------------------------------- enrolment
    def add(self, name: str, images: Sequence[ImageLike] | ImageLike, *, progress: bool | None = None) -> int:
        """Enrol photos of ``name`` (appended when the person is already enrolled).

        Returns:
            The number of photos added.
        """
        name = _clean_name(name)
        images = _as_image_list(images)
        if not images:
            raise ValueError(f"no photos given for {name!r}")
        enc = self.encode(images, progress=progress)
        self.add_encodings(name, enc, sources=[describe(im) for im in images])
        return len(enc)

    @classmethod
    def enroll(cls, path: str | os.PathLike, name: str, images: Sequence[ImageLike] | ImageLike, *, model=None,
               progress: bool | None = None, **options: Any) -> tuple[int, FaceDatabase]:
        """Add photos of ``name`` to the database *file* ``path``, safe against simultaneous enrolments.

        The photos are encoded first (the slow part) without holding the lock; then, under the
        writers' lock, the file is read again, the new encodings merged in and the file replaced.
        A missing file is created with ``options`` (``preprocessing=``, ``detect=``...).

        Returns:
            ``(photos added, the database as written)``.
        """
        path = Path(path)
        name = _clean_name(name)
        images = _as_image_list(images)
        if not images:
            raise ValueError(f"no photos given for {name!r}")
        before = cls.load(path, model) if path.exists() else cls(model, **options)
        enc = before.encode(images, progress=progress)
        with cls._updating(path, before) as db:
            db.add_encodings(name, enc, sources=[describe(im) for im in images])
        return len(enc), db

    @classmethod
    @contextlib.contextmanager
    def _updating(cls, path: Path, like: FaceDatabase) -> Iterator[FaceDatabase]:
        """Under the writers' lock: the database as on disk now (or empty, set up like ``like``); saved on exit."""
        with _writer_lock(path):
            if path.exists():
                db = cls.load(path, like._model)
                same = ((db.model_name, db.preprocessing, db.detect, db.encoder_name)
                        == (like.model_name, like.preprocessing, like.detect, like.encoder_name))
                if not same:
                    raise ValueError(f"'{path}' changed its encoder settings while the photos were being encoded; "
                                     "enrol again")
            else:
                db = cls(like._model, preprocessing=like.preprocessing, detect=like.detect, threshold=like.threshold,
                         batch_size=like.batch_size, model_name=like.model_name, encoder=like._encoder)
            yield db
            db._write(path)

    def add_encodings(self, name: str, encodings: np.ndarray, sources: Sequence[str] | None = None) -> None:
        """Enrol ready-made encodings ``(k, 128)`` (e.g. computed in one batch for many people).

        Warns (:class:`FaceDatabaseWarning`) when a photo is already enrolled, for this person or
        another, or when an encoding is the same face as one enrolled (distance below
        :data:`SAME_FACE_DISTANCE`).
        """
        name = _clean_name(name)
        raw = np.asarray(encodings)
        if raw.dtype.kind not in "fiu":
            raise ValueError(f"encodings for {name!r} must be real numbers; got dtype {raw.dtype}")
        enc = raw.astype(np.float32)
        if enc.ndim == 1:
            enc = enc[None]
        if enc.ndim != 2 or len(enc) == 0:
            raise ValueError(f"encodings for {name!r} must be (k, d) with k >= 1; got {enc.shape}")
        if not np.isfinite(enc).all():
            raise ValueError(f"encodings for {name!r} contain NaN or infinity")
        dims = {e.shape[1] for e in self._encodings.values()}
        if dims and enc.shape[1] not in dims:
            raise ValueError(f"encodings for {name!r} have {enc.shape[1]} dimensions; the database uses {dims.pop()}")
        src = [str(x) for x in sources] if sources is not None else [""] * len(enc)
        if len(src) != len(enc):
            raise ValueError(f"{len(enc)} encodings for {name!r} but {len(src)} sources")
        self._warn_duplicates(name, enc, src)
        self._append(name, enc, src)

    def _warn_duplicates(self, name: str, enc: np.ndarray, src: list[str]) -> None:
        seen = {s: n for n in self._names for s in self._sources[n] if s}
        rows = [(n, e) for n in self._names for e in self._encodings[n]]
        for k, (row, s) in enumerate(zip(enc, src)):
            what = f"'{s}'" if s else f"photo {k + 1} of {len(enc)}"
            if s and s in seen:
                warnings.warn(f"{what} is already enrolled for '{seen[s]}'; it is now enrolled "
                              f"{'twice' if seen[s] == name else 'under two names'}", FaceDatabaseWarning, stacklevel=3)
            else:
                near = [n for n, e in rows if float(np.linalg.norm(e - row)) < SAME_FACE_DISTANCE]
                if near:
                    warnings.warn(f"{what} is the same face as a photo enrolled for '{near[0]}'"
                                  + ("" if near[0] == name
                                     else f" (one face under two names: '{near[0]}' and '{name}')"),
                                  FaceDatabaseWarning, stacklevel=3)
            if s:
                seen[s] = name
            rows.append((name, row))

    def _append(self, name: str, enc: np.ndarray, src: list[str]) -> None:
        if name in self._encodings:
            self._encodings[name] = np.concatenate([self._encodings[name], enc])
            self._sources[name] += src
        else:
            self._names.append(name)
            self._encodings[name] = enc
            self._sources[name] = src

    def remove(self, name: str) -> int:
        """Forget ``name``; returns how many photos were removed."""
        name = self._require(name)
        n = len(self._encodings.pop(name))
        self._sources.pop(name)
        self._names.remove(name)
        return n

    # ----------------------------------------------------------------- questions
    def distances(self, encoding: np.ndarray) -> dict[str, float]:
        """``{name: min distance}`` from one encoding ``(128,)``/``(1, 128)`` to each person."""
        q = _as_encodings(encoding, "encoding")[0]
        if not np.isfinite(q).all():
            raise ValueError("the query encoding is not a finite vector (NaN or infinity from the encoder)")
        return person_distances(q, {n: self._encodings[n] for n in self._names})

    def query_faces(self, image: ImageLike, *, all_faces: bool = False) -> tuple[np.ndarray, list]:
        """Encode the face(s) of one query photo: ``(encodings (n, d), faces)``.

        With detection, ``faces`` are :class:`facelib.detect.Face` (the main face first, see
        :func:`facelib.detect.main_face`); without, the whole photo is one face (``[None]``).
        Only the main face is encoded unless ``all_faces``; if the photo shows others, a
        :class:`FaceDatabaseWarning` says how many were ignored.

        Raises:
            NoFaceFoundError: no face in the photo (named).
        """
        from facelib import detect as det
        from facelib.images import to_rgb_uint8

        if not self.detect:
            return self._finite(self.encode([image], progress=False), image), [None]
        rgb = to_rgb_uint8(image)
        found = det.detect_faces(rgb)
        main = det.main_face(found, rgb.shape)
        if main is None:
            raise det.NoFaceFoundError(f"no face found in {_quoted(image)}; use a photo where the face is visible")
        others = [f for f in found if f is not main]
        if others and not all_faces:
            warnings.warn(f"{_quoted(image)}: {len(found)} faces found; the main one (large, near the centre) was "
                          f"used and {len(others)} other{'s' if len(others) > 1 else ''} ignored "
                          "(`facelib identify --all-faces` reports each)", FaceDatabaseWarning, stacklevel=3)
        chosen = [main, *others] if all_faces else [main]
        if self._encoder is not None:
            return self._finite(self._encoder.encode_at(rgb, [f.keypoints for f in chosen]), image), chosen
        aligned = np.stack([det.align(rgb, f) for f in chosen])
        enc = encode_faces(aligned, self.model, preprocessing=self.preprocessing, batch_size=self.batch_size,
                           progress=False)
        return self._finite(enc, image), chosen

    @staticmethod
    def _finite(enc: np.ndarray, image: ImageLike) -> np.ndarray:
        if not np.isfinite(enc).all():
            raise ValueError(f"{_quoted(image)}: the encoder returned NaN or infinity for this photo "
                             "(a broken model or weights file?)")
        return enc

    def _nearest(self, encoding: np.ndarray, threshold: float | None) -> tuple[float, str | None]:
        dist, name = nearest_person(encoding, {n: self._encodings[n] for n in self._names})
        return dist, (name if accepts(dist, self.effective_threshold(threshold)) else None)

    def identify(self, image: ImageLike, threshold: float | None = None) -> tuple[float, str | None]:
        """Who is it? ``(distance to the nearest person, their name or None if too far)``.

        ``threshold`` ``None`` = the calibrated one, else the preprocessing's default (0.7). In a
        photo of several people the main face is used (a :class:`FaceDatabaseWarning` says so);
        :meth:`identify_all` answers for each face.
        """
        require_people(self._encodings)
        self.effective_threshold(threshold)
        enc, _ = self.query_faces(image)
        return self._nearest(enc[0], threshold)

    def identify_all(self, image: ImageLike, threshold: float | None = None) -> list[tuple[object, float, str | None]]:
        """:meth:`identify` for every face of the photo: ``[(face, distance, name or None), ...]``, main face first."""
        require_people(self._encodings)
        self.effective_threshold(threshold)
        enc, faces = self.query_faces(image, all_faces=True)
        return [(face, *self._nearest(e, threshold)) for face, e in zip(faces, enc)]

    def verify(self, image: ImageLike, name: str, threshold: float | None = None) -> tuple[float, bool]:
        """Is this ``name``? ``(distance to name's nearest photo, accepted)`` (main face of the photo)."""
        name = self._require(name)
        self.effective_threshold(threshold)
        enc, _ = self.query_faces(image)
        dist = self.distances(enc)[name]
        return dist, accepts(dist, self.effective_threshold(threshold))

    def calibrate(self, images: Sequence[ImageLike] | None = None, labels: Sequence[object] | None = None, *,
                  encodings: np.ndarray | None = None) -> float:
        """Choose ``τ`` on labelled pairs and keep it (``self.threshold``).

        Every pair of the given photos (or ``encodings``) is a same/different example; τ is the
        equal-error-rate threshold (:func:`facelib.evaluation.equal_error_rate`), where false
        accepts and false rejects are equally frequent — lesson 01's argument. (All pairs of k
        people are mostly impostor pairs, ~91 % for 10 people × 10 photos: the threshold of
        highest raw accuracy would just learn to say "different".) With no arguments the
        enrolled photos are used (needs ≥ 2 people, one with ≥ 2 photos).

        Returns:
            The new threshold.
        """
        from facelib import evaluation as ev

        if encodings is None and images is None:
            enc = np.concatenate([self._encodings[n] for n in self._names]) if self._names else np.zeros((0, 128))
            lab: np.ndarray | list[int] = (
                np.concatenate([[i] * len(self._encodings[n]) for i, n in enumerate(self._names)])
                if self._names else [])
        else:
            if labels is None:
                raise ValueError("calibrate needs labels (one person label per photo)")
            enc = self.encode(list(images)) if encodings is None else np.asarray(encodings)  # type: ignore[arg-type]
            lab = np.asarray(labels)
            if len(lab) != len(enc):
                raise ValueError(f"{len(enc)} photos but {len(lab)} labels")
        i, j, same = ev.all_pairs(np.asarray(lab))
        if len(i) == 0 or same.all() or not same.any():
            raise ValueError("calibration needs both same-person and different-person pairs: "
                             "at least two people, and at least one of them with two photos")
        d = ev.pairwise_distances(enc)[i, j]
        self.threshold = ev.equal_error_rate(d, same)[1]
        return self.threshold

    # ----------------------------------------------------------------- files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the database to one ``.npz`` file (arrays + a JSON header; no pickle), atomically.

        The file is replaced as a whole under the writers' lock (see the module docstring); to add
        to a file that others may be writing too, use :meth:`enroll`.
        """
        path = Path(path)
        with _writer_lock(path):
            return self._write(path)

    def _write(self, path: Path) -> Path:
        meta = {
            "format": "facelib-face-database", "version": _FORMAT_VERSION, "model": self.model_name,
            "preprocessing": self.preprocessing, "detect": self.detect, "threshold": self.threshold,
            "encoder": self.encoder_name, "names": self._names, "sources": [self._sources[n] for n in self._names],
        }
        if self._names:
            enc = np.concatenate([self._encodings[n] for n in self._names]).astype(np.float32)
            owner = np.concatenate([[k] * len(self._encodings[n]) for k, n in enumerate(self._names)]).astype(np.int32)
        else:
            enc, owner = np.zeros((0, 128), np.float32), np.zeros((0,), np.int32)
        def write(tmp: Path) -> None:
            with tmp.open("wb") as fh:  # a file object: np.savez would append ".npz" to a name
                np.savez(fh, meta=np.array(json.dumps(meta)), encodings=enc, owner=owner)

        return atomic_write(path, write)

    @classmethod
    def load(cls, path: str | os.PathLike, model=None) -> FaceDatabase:
        """Read a database written by :meth:`save` (``np.load(allow_pickle=False)``).

        Raises:
            FileNotFoundError: no such file.
            ValueError: not a face database file, or an inconsistent one (the message names it).
        """
        path = Path(path)
        if path.is_dir():
            raise ValueError(f"'{path}' is a directory, not a face database file")
        if not path.is_file():
            raise FileNotFoundError(f"face database '{path}' does not exist "
                                    f"(create it with `facelib enroll {path} NAME IMG...`)")
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"][()])) if "meta" in z.files else None
                if not isinstance(meta, dict) or meta.get("format") != "facelib-face-database":
                    raise _NotADatabase
                raw_enc = np.asarray(z["encodings"])
                raw_owner = np.asarray(z["owner"])
        except _NotADatabase:
            raise ValueError(f"'{path}' is not a facelib face database file") from None
        except (OSError, ValueError, KeyError, EOFError, IndexError, TypeError, zipfile.BadZipFile) as exc:
            raise ValueError(f"'{path}' is not a readable face database file ({type(exc).__name__}: {exc})") from None
        if meta.get("version") != _FORMAT_VERSION:
            raise ValueError(f"'{path}' has face-database format version {meta.get('version')!r}; "
                             f"this facelib reads {_FORMAT_VERSION}")
        settings, names, sources, enc = _check_contents(path, meta, raw_enc, raw_owner)
        try:
            db = cls(model, **settings)
        except ValueError as exc:
            raise ValueError(f"'{path}' is not a valid face database: {exc}") from None
        for name, rows, src in zip(names, enc, sources):
            db._append(name, rows, src)
        return db


def _check_contents(path: Path, meta: dict, raw_enc: np.ndarray, raw_owner: np.ndarray
                    ) -> tuple[dict[str, Any], list[str], list[list[str]], list[np.ndarray]]:
    """Every field of a database file checked: ``(constructor settings, names, sources, rows per person)``."""
    def bad(what: str) -> ValueError:
        return ValueError(f"'{path}' is not a valid face database: {what}")

    names = meta.get("names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad(f"'names' must be a list of strings; got {names!r:.80}")
    if any(n != n.strip() or not n for n in names) or len(set(names)) != len(names):
        raise bad(f"'names' must be distinct, non-empty and without surrounding spaces; got {names!r:.80}")
    if raw_enc.dtype.kind not in "f" or raw_enc.ndim != 2:
        raise bad(f"'encodings' must be a 2-D array of real floats; got {raw_enc.dtype} {raw_enc.shape}")
    enc = raw_enc.astype(np.float32)
    if raw_owner.dtype.kind not in "iu" or raw_owner.shape != (len(enc),):
        raise bad(f"'owner' must be {len(enc)} integers; got {raw_owner.dtype} {raw_owner.shape}")
    owner = raw_owner.astype(np.int64)
    if len(owner) and (owner.min() < 0 or owner.max() >= len(names)):
        raise bad(f"'owner' points outside the {len(names)} names")
    counts = [int((owner == k).sum()) for k in range(len(names))]
    if 0 in counts:
        raise bad(f"{names[counts.index(0)]!r} has no encodings")
    if not np.isfinite(enc).all():
        raise bad("the encodings contain NaN or infinity")
    norms = np.linalg.norm(enc.astype(np.float64), axis=1)
    if len(norms) and np.abs(norms - 1.0).max() > 1e-3:
        raise bad(f"the encodings are not of unit length (norms from {norms.min():.3g} to {norms.max():.3g})")
    model = meta.get("model", "facenet-keras-128")
    encoder = meta.get("encoder")
    if encoder is not None and encoder not in ENCODER_WIDTHS:
        raise bad(f"'encoder' must be one of {sorted(ENCODER_WIDTHS)} or null; got {encoder!r:.80}")
    width = ENCODER_WIDTHS[encoder] if encoder is not None else (
        ENCODING_WIDTHS.get(model) if isinstance(model, str) else None)
    if width is not None and len(enc) and enc.shape[1] != width:
        raise bad(f"the encodings have {enc.shape[1]} dimensions; {encoder or model!r} gives {width}")
    sources = meta.get("sources")
    if sources is None:
        sources = [[""] * c for c in counts]
    if (not isinstance(sources, list) or len(sources) != len(names)
            or not all(isinstance(s, list) and all(isinstance(x, str) for x in s) for s in sources)):
        raise bad(f"'sources' must be one list of strings per name; got {sources!r:.80}")
    if [len(s) for s in sources] != counts:
        raise bad(f"'sources' has {[len(s) for s in sources]} entries per name, the encodings {counts}")
    threshold = meta.get("threshold")
    if threshold is not None:
        try:
            check_threshold(threshold)
        except ValueError as exc:
            raise bad(str(exc)) from None
    if not isinstance(meta.get("detect"), bool):
        raise bad(f"'detect' must be true or false; got {meta.get('detect')!r}")
    settings = {"preprocessing": meta.get("preprocessing"), "detect": meta["detect"], "threshold": threshold,
                "model_name": model, "encoder": encoder}
    return settings, names, sources, [enc[owner == k] for k in range(len(names))]
