"""Face verification and face recognition with 128-d encodings (the course's "happy house").

Lecture: *face verification* answers "is this the claimed person?" (1:1), *face recognition*
"who is this, if anyone among K people?" (1:K). Both compare encodings ``f(x)`` with the
similarity ``d(img1, img2) = ||f(img1) - f(img2)||_2`` and a threshold ``τ``: same person iff
``d < τ`` (the course's ``dist < 0.7``).

- :func:`img_to_encoding` — the course's function: photo → unit-norm ``(1, 128)`` encoding.
- :func:`verify` — the door that opens for a resident: ``(dist, door_open)``.
- :func:`who_is_it` — nearest resident, or ``None`` when even the nearest is too far.
- :class:`FaceDatabase` — the same, for real: several photos per person, detection and
  alignment, batched encoding, a calibrated threshold, ``.npz`` + JSON files (no pickle).

Thresholds: ``τ = 0.7`` belongs to the course's preprocessing (``"course"``, RGB/255); see
:mod:`facelib.models.facenet` for ``"standardize"``. :meth:`FaceDatabase.calibrate` picks the
most accurate ``τ`` for your own photos.
"""

from __future__ import annotations

import functools
import json
import os
import weakref
import zipfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image

from facelib import config
from facelib.data import ImageLike, atomic_write, to_rgb_uint8

__all__ = [
    "COURSE_THRESHOLD", "FaceDatabase", "course_image", "default_model", "encode_faces", "face_crop", "img_to_encoding",
    "verify", "who_is_it",
]

#: The course's threshold on the distance between unit-norm encodings (preprocessing "course").
COURSE_THRESHOLD = 0.7
_FORMAT_VERSION = 1
_ENCODERS: "weakref.WeakKeyDictionary[object, object]" = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=2)
def default_model(weights: str = "facenet-keras-128"):  # type: ignore[no-untyped-def]
    """The pretrained FaceNet, built and loaded once per process (:func:`facelib.models.facenet`)."""
    from facelib.models.facenet import facenet

    return facenet(weights)


def _describe(image: ImageLike) -> str:
    if isinstance(image, (str, os.PathLike)):
        return str(image)
    return f"a {type(image).__name__} image"


def course_image(image: ImageLike, size: int = 160) -> np.ndarray:
    """The course's ``load_img(path, target_size=(160, 160))``: RGB, nearest-neighbour resize.

    Returns:
        ``(size, size, 3) uint8`` (the whole photo squeezed to the square; no face detection).
    """
    rgb = to_rgb_uint8(image)
    if rgb.shape[:2] == (size, size):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.NEAREST))


def face_crop(image: ImageLike, *, size: int = 160, keypoints: bool = True, margin: float | None = None,
              min_confidence: float = 0.9) -> np.ndarray:
    """Detect the main face of a photo and return it aligned: ``(size, size, 3) uint8``.

    Raises:
        NoFaceFoundError: no face; the message names the file.
    """
    from facelib import detect

    rgb = to_rgb_uint8(image)
    try:
        face = detect.detect_face(rgb, min_confidence=min_confidence)
    except detect.NoFaceFoundError:
        raise detect.NoFaceFoundError(
            f"no face found in {_describe(image)} (MTCNN confidence ≥ {min_confidence})") from None
    return detect.align(rgb, face, size=size, margin=margin, keypoints=keypoints)


def _encoder(model):  # type: ignore[no-untyped-def]
    """A compiled ``model(x, training=False)`` (one trace for any batch size), cached per model."""
    fn = _ENCODERS.get(model)
    if fn is None:
        import tensorflow as tf

        shape = tuple(model.input_shape[1:])
        fn = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec((None, *shape), tf.float32)],
                         reduce_retracing=True)
        _ENCODERS[model] = fn
    return fn


def encode_faces(faces: np.ndarray, model, *, preprocessing: str = "course", batch_size: int = 32,  # type: ignore[no-untyped-def]
                 progress: bool | None = None) -> np.ndarray:
    """Encode face crops in batches and normalise each encoding to unit length.

    Args:
        faces: ``(m, 160, 160, 3) uint8`` RGB faces (already cropped/aligned).
        model: the encoder ``f`` (e.g. :func:`facelib.models.facenet`).
        preprocessing: ``"course"`` or ``"standardize"`` (see :func:`facelib.models.facenet.preprocess`).
        batch_size: images per forward pass.
        progress: show a progress bar (default: ``facelib.config.settings.progress`` and more than one batch).

    Returns:
        ``(m, 128) float32``, each row of unit L2 norm.
    """
    import tensorflow as tf
    from facelib.progress import tqdm

    from facelib.models.facenet import preprocess

    faces = np.asarray(faces)
    if faces.ndim != 4 or faces.shape[-1] != 3:
        raise ValueError(f"expected faces of shape (m, H, W, 3); got {faces.shape}")
    dim = int(model.output_shape[-1])
    if len(faces) == 0:
        return np.zeros((0, dim), np.float32)
    fn = _encoder(model)
    show = config.settings.progress if progress is None else progress
    out = []
    starts = range(0, len(faces), batch_size)
    for i in tqdm(starts, desc="encoding", unit="batch", disable=not show or len(starts) < 2, leave=False):
        x = preprocess(faces[i:i + batch_size], preprocessing)
        out.append(tf.cast(fn(tf.constant(x)), tf.float32).numpy())
    emb = np.concatenate(out).astype(np.float32)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return emb / np.maximum(norms, 1e-12)


def img_to_encoding(image: ImageLike, model, *, preprocessing: str = "course", detect: bool = False) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The course's ``img_to_encoding``: one photo → its unit-norm encoding ``f(x)``.

    With the defaults this is exactly the course's function: Keras' ``load_img(path,
    target_size=(160, 160))`` (nearest-neighbour resize of the whole photo), ``/ 255``, the model,
    then ``embedding / ||embedding||_2``. The course's photos were already face crops; for
    ordinary photos pass ``detect=True`` (MTCNN + alignment first).

    Args:
        image: a path, PIL image or ``(H, W, 3)`` array (greyscale, RGBA, CMYK and 16-bit images are
            converted to 8-bit RGB).
        model: the encoder (e.g. :func:`facelib.models.facenet`).
        preprocessing: ``"course"`` (RGB/255) or ``"standardize"``.
        detect: detect and align the face first.

    Returns:
        ``(1, 128) float32`` with unit L2 norm.
    """
    face = face_crop(image) if detect else course_image(image)
    return encode_faces(face[None], model, preprocessing=preprocessing, progress=False)


def _as_encodings(value: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or len(arr) == 0:
        raise ValueError(f"{what} must be an encoding (d,), (1, d) or (k, d); got shape {arr.shape}")
    return arr


def verify(image: ImageLike, identity: str, database: Mapping[str, np.ndarray], model,  # type: ignore[no-untyped-def]
           threshold: float = COURSE_THRESHOLD, **encode_kwargs: object) -> tuple[float, bool]:
    """Is the person in ``image`` really ``identity``? (face verification, 1:1)

    Args:
        image: the photo at the door (path, PIL image or array).
        identity: the name the person claims.
        database: name → encoding ``(1, 128)`` (or ``(k, 128)`` for several photos: the nearest counts).
        model: the encoder.
        threshold: the door opens when ``dist < threshold`` (course: 0.7).
        **encode_kwargs: passed to :func:`img_to_encoding` (``preprocessing=``, ``detect=``).

    Returns:
        ``(dist, door_open)`` with ``dist = ||f(image) - f(identity)||_2``.
    """
    if identity not in database:
        known = ", ".join(sorted(database)) or "nobody"
        raise KeyError(f"{identity!r} is not in the database (it holds: {known})")
    encoding = img_to_encoding(image, model, **encode_kwargs)  # type: ignore[arg-type]
    ref = _as_encodings(database[identity], f"database[{identity!r}]")
    dist = float(np.min(np.linalg.norm(ref - encoding, axis=1)))
    return dist, bool(dist < threshold)


def who_is_it(image: ImageLike, database: Mapping[str, np.ndarray], model,  # type: ignore[no-untyped-def]
              threshold: float = COURSE_THRESHOLD, **encode_kwargs: object) -> tuple[float, str | None]:
    """Who is in ``image``? (face recognition, 1:K)

    Finds the enrolled person whose encoding is nearest to ``f(image)``.

    Returns:
        ``(min_dist, identity)``; ``identity`` is ``None`` ("not in the database") when
        ``min_dist >= threshold``.

    Raises:
        ValueError: the database is empty.
    """
    if not database:
        raise ValueError("the database is empty: enroll at least one person before asking who_is_it")
    encoding = img_to_encoding(image, model, **encode_kwargs)  # type: ignore[arg-type]
    min_dist, identity = float("inf"), None
    for name, value in database.items():
        dist = float(np.min(np.linalg.norm(_as_encodings(value, f"database[{name!r}]") - encoding, axis=1)))
        if dist < min_dist:
            min_dist, identity = dist, name
    return min_dist, (identity if min_dist < threshold else None)


# --------------------------------------------------------------------------- FaceDatabase

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

    ``len(db)`` is the number of people.
    """

    def __init__(self, model=None, *, preprocessing: str = "course", detect: bool = True,  # type: ignore[no-untyped-def]
                 threshold: float | None = None, batch_size: int = 32, model_name: str = "facenet-keras-128") -> None:
        from facelib.models.facenet import PREPROCESSING

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
        from facelib.models.facenet import DEFAULT_THRESHOLDS

        if threshold is not None:
            return float(threshold)
        if self.threshold is not None:
            return self.threshold
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
        from facelib.progress import tqdm

        from facelib import detect as det

        if not self.detect:
            return np.stack([course_image(im) for im in images]) if len(images) else np.zeros((0, 160, 160, 3), np.uint8)
        out: list[np.ndarray] = []
        show = config.settings.progress if progress is None else progress
        chunk = 16
        for start in tqdm(range(0, len(images), chunk), desc="detecting", unit="batch", leave=False,
                          disable=not show or len(images) <= chunk):
            part = list(images[start:start + chunk])
            rgbs = [to_rgb_uint8(im) for im in part]
            # MTCNN pads a batch to its largest photo, which shifts boxes of smaller ones a little:
            # batch only photos of the same size, so a photo's face is the same alone or in a batch.
            found: list = [None] * len(rgbs)
            for shape in {r.shape for r in rgbs}:
                idx = [k for k, r in enumerate(rgbs) if r.shape == shape]
                for k, faces in zip(idx, det.detect_faces_batch([rgbs[k] for k in idx])):
                    found[k] = faces
            for im, rgb, faces in zip(part, rgbs, found):
                face = det.main_face(faces, rgb.shape)
                if face is None:
                    raise det.NoFaceFoundError(f"no face found in {_describe(im)}; use a photo where the face is "
                                               "visible (or FaceDatabase(detect=False) for ready-cropped faces)")
                out.append(det.align(rgb, face))
        return np.stack(out) if out else np.zeros((0, 160, 160, 3), np.uint8)

    def encode(self, images: Sequence[ImageLike] | ImageLike, *, progress: bool | None = None) -> np.ndarray:
        """Encode photos the database's way: ``(m, 128) float32`` unit-norm rows.

        ``images`` is a list of paths/arrays/PIL images, or a single one (→ ``(1, 128)``).
        """
        if isinstance(images, (str, os.PathLike, Image.Image)) or (isinstance(images, np.ndarray) and images.ndim <= 3):
            images = [images]  # type: ignore[list-item]
        images = list(images)  # type: ignore[arg-type]
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
        """Choose the most accurate ``τ`` on labelled pairs and keep it (``self.threshold``).

        Every pair of the given photos (or ``encodings``) is a same/different example; τ is the
        accuracy-maximising threshold (:func:`facelib.evaluation.best_threshold`). With no
        arguments the enrolled photos are used (needs ≥ 2 people, one with ≥ 2 photos).

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
        self.threshold, _ = ev.best_threshold(d, same)
        return self.threshold

    # ----------------------------------------------------------------- files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the database to one ``.npz`` file (arrays + a JSON header; no pickle), atomically."""
        path = Path(path)
        meta = {
            "format": "facelib-face-database", "version": _FORMAT_VERSION, "model": self.model_name,
            "preprocessing": self.preprocessing, "detect": self.detect, "threshold": self.threshold,
            "names": self._names, "sources": [self._sources[n] for n in self._names],
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
                 threshold=meta["threshold"], model_name=meta.get("model", "facenet-keras-128"))
        sources = meta.get("sources") or [[""] * int((owner == k).sum()) for k in range(len(names))]
        for k, name in enumerate(names):
            rows = enc[owner == k]
            if len(rows) == 0:
                raise ValueError(f"{path} is inconsistent: {name!r} has no encodings")
            db.add_encodings(name, rows, sources[k])
        return db
