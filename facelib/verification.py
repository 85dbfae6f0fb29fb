"""Face verification and face recognition with 128-d encodings (the course's "happy house").

Lecture: *face verification* answers "is this the claimed person?" (1:1), *face recognition*
"who is this, if anyone among K people?" (1:K). Both compare encodings ``f(x)`` with the
similarity ``d(img1, img2) = ||f(img1) - f(img2)||_2`` and a threshold ``τ``: same person iff
``d < τ`` (the course's ``dist < 0.7``).

- :func:`img_to_encoding` — the course's function: photo → unit-norm ``(1, 128)`` encoding.
- :func:`verify` — the door that opens for a resident: ``(dist, door_open)``.
- :func:`who_is_it` — nearest resident, or ``None`` when even the nearest is too far.
- :class:`~facelib.face_database.FaceDatabase` (moved to :mod:`facelib.face_database`;
  re-exported here) — the same, for real: several photos per person, detection and alignment,
  batched encoding, a calibrated threshold, ``.npz`` + JSON files (no pickle).

Thresholds: ``τ = 0.7`` belongs to the course's preprocessing (``"course"``, RGB/255); see
:mod:`facelib.models.inception_resnet` for ``"standardize"``. :meth:`FaceDatabase.calibrate` picks the
most accurate ``τ`` for your own photos.
"""

from __future__ import annotations

import functools
import os
import weakref
from typing import Mapping, Sequence

import numpy as np
from PIL import Image

from facelib import config
from facelib.images import ImageLike, to_rgb_uint8

__all__ = [
    "COURSE_THRESHOLD", "FaceDatabase", "course_image", "default_model", "encode_faces", "face_crop", "img_to_encoding",
    "verify", "who_is_it",
]

#: The course's threshold on the distance between unit-norm encodings (preprocessing "course").
COURSE_THRESHOLD = 0.7
_ENCODERS: "weakref.WeakKeyDictionary[object, object]" = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=2)
def default_model(weights: str = "facenet-keras-128"):  # type: ignore[no-untyped-def]
    """The pretrained FaceNet, built and loaded once per process (:func:`facelib.models.facenet`)."""
    from facelib.models.inception_resnet import facenet

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
        preprocessing: ``"course"`` or ``"standardize"`` (see :func:`facelib.models.inception_resnet.preprocess`).
        batch_size: images per forward pass.
        progress: show a progress bar (default: ``facelib.config.settings.progress`` and more than one batch).

    Returns:
        ``(m, 128) float32``, each row of unit L2 norm.
    """
    import tensorflow as tf
    from tqdm.auto import tqdm

    from facelib.models.inception_resnet import preprocess

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


def __getattr__(name: str) -> object:
    # FaceDatabase moved to facelib.face_database (which imports this module): re-exported lazily.
    if name == "FaceDatabase":
        from facelib.face_database import FaceDatabase

        return FaceDatabase
    raise AttributeError(f"module 'facelib.verification' has no attribute {name!r}")
