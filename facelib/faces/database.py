"""A face database for real use: several photos per person, detection, a calibrated threshold, files.

:class:`FaceDatabase` does what the course's ``verify``/``who_is_it`` (:mod:`facelib.faces.verification`)
do, for real photos: MTCNN detection and alignment (:func:`facelib.faces.detect.detect_and_align`),
batched encoding (:func:`facelib.faces.verification.encode_faces`), a threshold calibrated on your own
photos (:meth:`FaceDatabase.calibrate`) and ``.npz`` + JSON files (no pickle).

Files are trusted only after checking: :meth:`FaceDatabase.load` refuses every malformed file
with a ``ValueError`` naming it (NaN, complex or wrong-width encodings, malformed names, sources,
threshold, a model that is not a registered asset name...). Writers serialise on a lock file
beside the database (``DB.lock``, an ``flock``, released by the kernel if the process dies):
:meth:`FaceDatabase.enroll` encodes the photos first, then, under the lock, reads the file again,
merges and replaces it, so two simultaneous enrolments keep both people.

The file format, its checks (``check_threshold``, the width and duplicate rules), the writers' lock
and :class:`~facelib.faces.database_file.FaceDatabaseWarning` are :mod:`facelib.faces.database_file`.
"""

from __future__ import annotations

import os
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facelib.data.images import ImageLike, as_image_list, describe
from facelib.faces.database_file import (
    _MAX_PHOTOS,
    FaceDatabaseWarning,
    _check_encodings,
    _check_model_name,
    _clean_name,
    _read_file,
    _target,
    _warn_duplicates,
    _width,
    _write_file,
    _writer_lock,
    check_threshold,
)
from facelib.faces.evaluation import accepts
from facelib.faces.verification import (
    ENCODE_BATCH,
    _as_encodings,
    course_image,
    default_model,
    encode_faces,
    input_size,
    nearest_person,
    person_distances,
    require_people,
)
from facelib.models.facenet_input import DEFAULT_THRESHOLDS, PREPROCESSING

__all__ = ["FaceDatabase"]


def _quoted(image: ImageLike) -> str:
    """A photo for a message: its path in single quotes, or what kind of image it is."""
    return f"'{image}'" if isinstance(image, (str, os.PathLike)) else describe(image)


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
            :func:`facelib.faces.encoders.load`): photos go through that encoder's own pipeline and τ
            defaults to its View-1 threshold; its name is stored in the database file.
            ``None`` (default): the course pipeline above (``model`` + ``preprocessing``).

    ``len(db)`` is the number of people.
    """

    def __init__(self, model=None, *, preprocessing: str = "course", detect: bool = True,
                 threshold: float | None = None, batch_size: int = ENCODE_BATCH, model_name: str = "facenet-keras-128",
                 encoder=None) -> None:
        if preprocessing not in PREPROCESSING:
            raise ValueError(f"preprocessing must be one of {PREPROCESSING}; got {preprocessing!r}")
        self._model = model
        self.model_name = _check_model_name(model_name)
        self.preprocessing = preprocessing
        self.detect = bool(detect)
        self.threshold = None if threshold is None else check_threshold(threshold)
        if (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                or not 1 <= batch_size <= 4096):
            raise ValueError(f"batch_size must be an integer from 1 to 4096 (photos per forward pass); "
                             f"got {batch_size!r}")
        self.batch_size = int(batch_size)
        self._names: list[str] = []
        self._encodings: dict[str, np.ndarray] = {}
        self._sources: dict[str, list[str]] = {}
        self._encoder = None
        if encoder is not None:
            from facelib.faces import encoders

            self._encoder = encoders.load(encoder) if isinstance(encoder, str) else encoder

    @property
    def encoder_name(self) -> str | None:
        """The :mod:`facelib.faces.encoders` encoder's name, or ``None`` for the course pipeline."""
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
        return (unicodedata.normalize("NFC", name).strip() if isinstance(name, str) else name) in self._encodings

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
        if threshold is not None:
            return check_threshold(threshold)
        if self.threshold is not None:
            return check_threshold(self.threshold)
        if self._encoder is not None:
            return float(self._encoder.threshold)
        return DEFAULT_THRESHOLDS[self.preprocessing]

    def _require(self, name: str) -> str:
        """``name`` NFC-normalised and stripped, checked to be enrolled (``KeyError`` listing who is)."""
        name = unicodedata.normalize("NFC", name).strip() if isinstance(name, str) else name
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
        from facelib.faces import detect as det

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
        images = as_image_list(images)
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
        images = as_image_list(images)
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
        path = _target(path)
        name = _clean_name(name)
        images = as_image_list(images)
        if not images:
            raise ValueError(f"no photos given for {name!r}")
        before = cls.load(path, model) if path.exists() else cls(model, **options)
        enc = before.encode(images, progress=progress)
        with _writer_lock(path):
            db = cls._as_on_disk(path, before)
            db.add_encodings(name, enc, sources=[describe(im) for im in images])
            db._write(path)
        return len(enc), db

    @classmethod
    def _as_on_disk(cls, path: Path, like: FaceDatabase) -> FaceDatabase:
        """The database in ``path`` now (or an empty one set up like ``like``); the caller holds the lock."""
        if not path.exists():
            return cls(like._model, preprocessing=like.preprocessing, detect=like.detect, threshold=like.threshold,
                       batch_size=like.batch_size, model_name=like.model_name, encoder=like._encoder)
        db = cls.load(path, like._model)
        if db._settings() != like._settings() | {"threshold": db.threshold}:
            raise ValueError(f"'{path}' changed its encoder settings while the photos were being encoded; "
                             "enrol again")
        return db

    def add_encodings(self, name: str, encodings: np.ndarray, sources: Sequence[str] | None = None) -> None:
        """Enrol ready-made encodings ``(k, 128)`` (e.g. computed in one batch for many people).

        Warns (:class:`FaceDatabaseWarning`) when a photo is already enrolled, for this person or
        another, or when an encoding is the same face as one enrolled (distance below
        :data:`SAME_FACE_DISTANCE`).
        """
        name = _clean_name(name)
        enc, src = _check_encodings(name, encodings, sources, {e.shape[1] for e in self._encodings.values()},
                                    _width(self.model_name, self.encoder_name))
        if self.n_photos + len(enc) > _MAX_PHOTOS:
            raise ValueError(f"a database holds at most {_MAX_PHOTOS:,} photos; this one has {self.n_photos:,}")
        _warn_duplicates(self._people(), name, enc, src)
        self._append(name, enc, src)

    def _people(self) -> list[tuple[str, np.ndarray, list[str]]]:
        return [(n, self._encodings[n], self._sources[n]) for n in self._names]

    def _settings(self) -> dict[str, Any]:
        """What the file keeps besides the people (the keywords :meth:`load` builds the database with)."""
        return {"model_name": self.model_name, "preprocessing": self.preprocessing, "detect": self.detect,
                "threshold": self.threshold, "encoder": self.encoder_name}

    def _write(self, path: Path) -> Path:
        return _write_file(path, self._settings(), self._people())

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

        With detection, ``faces`` are :class:`facelib.faces.detect.Face` (the main face first, see
        :func:`facelib.faces.detect.main_face`); without, the whole photo is one face (``[None]``).
        Only the main face is encoded unless ``all_faces``; if the photo shows others, a
        :class:`FaceDatabaseWarning` says how many were ignored.

        Raises:
            NoFaceFoundError: no face in the photo (named).
        """
        from facelib.data.images import to_rgb_uint8
        from facelib.faces import detect as det

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
        equal-error-rate threshold (:func:`facelib.faces.evaluation.equal_error_rate`), where false
        accepts and false rejects are equally frequent — lesson 01's argument. (All pairs of k
        people are mostly impostor pairs, ~91 % for 10 people × 10 photos: the threshold of
        highest raw accuracy would just learn to say "different".) With no arguments the
        enrolled photos are used (needs ≥ 2 people, one with ≥ 2 photos).

        Returns:
            The new threshold.
        """
        from facelib.faces import evaluation as ev

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
        d = ev.pair_distances(enc, pairs=(i, j))
        self.threshold = ev.equal_error_rate(d, same)[1]
        return self.threshold

    def calibrate_from_enrolment(self, target_far: float = 0.01, **options: Any) -> Any:
        """Choose ``τ`` for a target false-open rate from the enrolled photos alone, and keep it.

        Each enrolled person plays a stranger in turn (:func:`facelib.faces.calibration.calibrate_from_enrolment`;
        ``options``: ``n_boot``, ``confidence``, ``seed``). Returns its
        :class:`~facelib.faces.calibration.EnrolmentCalibration` (τ, bootstrap interval, rates).
        """
        from facelib.faces.calibration import calibrate_from_enrolment

        result = calibrate_from_enrolment(self.as_dict(), target_far, **options)
        self.threshold = result.threshold
        return result

    # ----------------------------------------------------------------- files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the database to one ``.npz`` file (arrays + a JSON header; no pickle), atomically.

        The file is replaced as a whole under the writers' lock (see the module docstring); to add
        to a file that others may be writing too, use :meth:`enroll`. A symbolic link is written
        through (its target gets the database; the link stays).
        """
        path = _target(path)
        with _writer_lock(path):
            return self._write(path)

    @classmethod
    def load(cls, path: str | os.PathLike, model=None) -> FaceDatabase:
        """Read a database written by :meth:`save` (``np.load(allow_pickle=False)``).

        Raises:
            FileNotFoundError: no such file.
            ValueError: not a face database file, or an inconsistent one (the message names it).
        """
        path = Path(path)
        settings, people = _read_file(path)
        try:
            db = cls(model, **settings)
        except ValueError as exc:
            raise ValueError(f"'{path}' is not a valid face database: {exc}") from None
        for name, rows, src in people:
            db._append(name, rows, src)
        return db
