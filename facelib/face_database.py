"""A face database for real use: several photos per person, detection, a calibrated threshold, files.

:class:`FaceDatabase` does what the course's ``verify``/``who_is_it`` (:mod:`facelib.verification`)
do, for real photos: MTCNN detection and alignment (:func:`facelib.detect.detect_and_align`),
batched encoding (:func:`facelib.verification.encode_faces`), a threshold calibrated on your own
photos (:meth:`FaceDatabase.calibrate`) and ``.npz`` + JSON files (no pickle).
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from facelib.images import ImageLike, atomic_write
from facelib.verification import _as_encodings, _describe, course_image, default_model, encode_faces

__all__ = ["FaceDatabase"]

_FORMAT_VERSION = 1


class _NotADatabase(Exception):
    pass


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

    def __init__(self, model=None, *, preprocessing: str = "course", detect: bool = True,  # type: ignore[no-untyped-def]
                 threshold: float | None = None, batch_size: int = 32, model_name: str = "facenet-keras-128",
                 encoder=None) -> None:  # type: ignore[no-untyped-def]
        from facelib.models.inception_resnet import PREPROCESSING

        if preprocessing not in PREPROCESSING:
            raise ValueError(f"preprocessing must be one of {PREPROCESSING}; got {preprocessing!r}")
        self._model = model
        self.model_name = model_name
        self.preprocessing = preprocessing
        self.detect = bool(detect)
        self.threshold = None if threshold is None else float(threshold)
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
    def model(self):  # type: ignore[no-untyped-def]
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
        self._require(name)
        return self._encodings[name].copy()

    def as_dict(self) -> dict[str, np.ndarray]:
        """``{name: (k, 128) encodings}``, the ``database`` that :func:`verify`/:func:`who_is_it` take."""
        return {n: self._encodings[n].copy() for n in self._names}

    def effective_threshold(self, threshold: float | None = None) -> float:
        """``threshold`` if given, else the calibrated one, else the preprocessing's default."""
        from facelib.models.inception_resnet import DEFAULT_THRESHOLDS

        if threshold is not None:
            return float(threshold)
        if self.threshold is not None:
            return self.threshold
        if self._encoder is not None:
            return float(self._encoder.threshold)
        return DEFAULT_THRESHOLDS[self.preprocessing]

    def _require(self, name: str) -> None:
        if name not in self._encodings:
            known = ", ".join(self._names) or "nobody"
            raise KeyError(f"{name!r} is not enrolled (the database holds: {known})")

    # ----------------------------------------------------------------- encoding
    def faces(self, images: Sequence[ImageLike], *, progress: bool | None = None) -> np.ndarray:
        """Detected and aligned (or course-resized) faces: ``(m, 160, 160, 3) uint8``.

        Raises:
            NoFaceFoundError: a photo without a face (the message names it).
            FileNotFoundError / ValueError: a missing or unreadable image (named).
        """
        from facelib import detect as det

        if not self.detect:
            return np.stack([course_image(im) for im in images]) if len(images) else np.zeros((0, 160, 160, 3), np.uint8)
        return det.detect_and_align(images, progress=progress,
                                    hint="use a photo where the face is visible "
                                         "(or FaceDatabase(detect=False) for ready-cropped faces)")

    def encode(self, images: Sequence[ImageLike] | ImageLike, *, progress: bool | None = None) -> np.ndarray:
        """Encode photos the database's way: ``(m, 128) float32`` unit-norm rows.

        ``images`` is a list of paths/arrays/PIL images, or a single one (→ ``(1, 128)``).
        """
        if isinstance(images, (str, os.PathLike, Image.Image)) or (isinstance(images, np.ndarray) and images.ndim <= 3):
            images = [images]  # type: ignore[list-item]
        images = list(images)  # type: ignore[arg-type]
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
        name = str(name).strip()
        if not name:
            raise ValueError("a person's name must not be empty")
        if isinstance(images, (str, os.PathLike, Image.Image)) or (isinstance(images, np.ndarray) and images.ndim <= 3):
            images = [images]  # type: ignore[list-item]
        images = list(images)  # type: ignore[arg-type]
        if not images:
            raise ValueError(f"no photos given for {name!r}")
        enc = self.encode(images, progress=progress)
        self.add_encodings(name, enc, sources=[_describe(im) for im in images])
        return len(enc)

    def add_encodings(self, name: str, encodings: np.ndarray, sources: Sequence[str] | None = None) -> None:
        """Enrol ready-made encodings ``(k, 128)`` (e.g. computed in one batch for many people)."""
        enc = np.asarray(encodings, np.float32)
        if enc.ndim == 1:
            enc = enc[None]
        if enc.ndim != 2 or len(enc) == 0:
            raise ValueError(f"encodings for {name!r} must be (k, d) with k >= 1; got {enc.shape}")
        dims = {e.shape[1] for e in self._encodings.values()}
        if dims and enc.shape[1] not in dims:
            raise ValueError(f"encodings for {name!r} have {enc.shape[1]} dimensions; the database uses {dims.pop()}")
        src = list(sources) if sources is not None else [""] * len(enc)
        if name in self._encodings:
            self._encodings[name] = np.concatenate([self._encodings[name], enc])
            self._sources[name] += src
        else:
            self._names.append(name)
            self._encodings[name] = enc
            self._sources[name] = src

    def remove(self, name: str) -> int:
        """Forget ``name``; returns how many photos were removed."""
        self._require(name)
        n = len(self._encodings.pop(name))
        self._sources.pop(name)
        self._names.remove(name)
        return n

    # ----------------------------------------------------------------- questions
    def distances(self, encoding: np.ndarray) -> dict[str, float]:
        """``{name: min distance}`` from one encoding ``(128,)``/``(1, 128)`` to each person."""
        if not self._names:
            raise ValueError("the face database is empty: enroll someone first (facelib enroll DB NAME IMG...)")
        q = _as_encodings(encoding, "encoding")[0]
        return {n: float(np.min(np.linalg.norm(self._encodings[n].astype(np.float64) - q, axis=1)))
                for n in self._names}

    def identify(self, image: ImageLike, threshold: float | None = None) -> tuple[float, str | None]:
        """Who is it? ``(distance to the nearest person, their name or None if too far)``.

        ``threshold`` ``None`` = the calibrated one, else the preprocessing's default (0.7).
        """
        if not self._names:
            raise ValueError("the face database is empty: enroll someone first (facelib enroll DB NAME IMG...)")
        dists = self.distances(self.encode(image, progress=False))
        name = min(dists, key=dists.__getitem__)
        dist = dists[name]
        return dist, (name if dist < self.effective_threshold(threshold) else None)

    def verify(self, image: ImageLike, name: str, threshold: float | None = None) -> tuple[float, bool]:
        """Is this ``name``? ``(distance to name's nearest photo, accepted)``."""
        self._require(name)
        dist = self.distances(self.encode(image, progress=False))[name]
        return dist, bool(dist < self.effective_threshold(threshold))

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
            lab = np.concatenate([[i] * len(self._encodings[n]) for i, n in enumerate(self._names)]) if self._names else []
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
        """Write the database to one ``.npz`` file (arrays + a JSON header; no pickle), atomically."""
        path = Path(path)
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
    def load(cls, path: str | os.PathLike, model=None) -> "FaceDatabase":  # type: ignore[no-untyped-def]
        """Read a database written by :meth:`save` (``np.load(allow_pickle=False)``).

        Raises:
            FileNotFoundError: no such file.
            ValueError: not a face database file, or an inconsistent one (the message names it).
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"face database {path} does not exist (create it with `facelib enroll {path} NAME IMG...`)")
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"][()])) if "meta" in z.files else None
                if not isinstance(meta, dict) or meta.get("format") != "facelib-face-database":
                    raise _NotADatabase
                enc = np.asarray(z["encodings"], np.float32)
                owner = np.asarray(z["owner"], np.int64)
        except _NotADatabase:
            raise ValueError(f"{path} is not a facelib face database file") from None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{path} is not a readable face database file ({type(exc).__name__}: {exc})") from None
        if meta.get("version") != _FORMAT_VERSION:
            raise ValueError(f"{path} has face-database format version {meta.get('version')}; this facelib reads {_FORMAT_VERSION}")
        names = list(meta["names"])
        if enc.ndim != 2 or owner.shape != (len(enc),) or (len(owner) and (owner.min() < 0 or owner.max() >= len(names))):
            raise ValueError(f"{path} is inconsistent: encodings {enc.shape}, owners {owner.shape}, {len(names)} names")
        db = cls(model, preprocessing=meta["preprocessing"], detect=bool(meta["detect"]),
                 threshold=meta["threshold"], model_name=meta.get("model", "facenet-keras-128"),
                 encoder=meta.get("encoder"))
        sources = meta.get("sources") or [[""] * int((owner == k).sum()) for k in range(len(names))]
        for k, name in enumerate(names):
            rows = enc[owner == k]
            if len(rows) == 0:
                raise ValueError(f"{path} is inconsistent: {name!r} has no encodings")
            db.add_encodings(name, rows, sources[k])
        return db
