"""Face verification and face recognition with 128-d encodings (the course's "happy house").

Lecture: *face verification* answers "is this the claimed person?" (1:1), *face recognition*
"who is this, if anyone among K people?" (1:K). Both compare encodings ``f(x)`` with the
similarity ``d(img1, img2) = ||f(img1) - f(img2)||_2`` and a threshold ``τ``: same person iff
``d <= τ`` (:func:`facelib.faces.evaluation.accepts`; the course's threshold is 0.7).

- :func:`img_to_encoding` — the course's function: photo → unit-norm ``(1, 128)`` encoding.
- :func:`verify` — the door that opens for a resident: ``(dist, door_open)``.
- :func:`who_is_it` — nearest resident, or ``None`` when even the nearest is too far.

The same for real use (several photos per person, detection and alignment, a calibrated threshold,
files) is :class:`facelib.faces.database.FaceDatabase`.

Thresholds: ``τ = 0.7`` belongs to the course's preprocessing (``"course"``, RGB/255); see
:mod:`facelib.models.facenet_input` for ``"standardize"``. ``FaceDatabase.calibrate`` picks the
most accurate ``τ`` for your own photos.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

from facelib import config
from facelib.data.images import ImageLike, describe, to_rgb_uint8
from facelib.faces.evaluation import accepts
from facelib.models.facenet_input import COURSE_THRESHOLD

__all__ = [
    "ENCODE_BATCH", "course_image", "default_model", "encode_faces", "face_crop", "img_to_encoding",
    "nearest_person", "person_distances", "require_people", "verify", "who_is_it",
]


@functools.lru_cache(maxsize=2)
def default_model(weights: str = "facenet-keras-128"):
    """The pretrained FaceNet, built and loaded once per process (:func:`facelib.models.facenet`)."""
    from facelib.models.inception_resnet import facenet

    return facenet(weights)


def input_size(model) -> int:
    """Side of the square face a model takes: ``model.input_shape`` ``(None, size, size, 3)`` (160 for FaceNet)."""
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[1] is None or shape[1] != shape[2]:
        raise ValueError(f"expected a model taking square (m, size, size, 3) faces; its input shape is {shape}")
    return int(shape[1])


def course_image(image: ImageLike, size: int = 160) -> np.ndarray:
    """The course's ``load_img(path, target_size=(160, 160))``: RGB, nearest-neighbour resize.

    Args:
        image: a path, PIL image or array (converted once with :func:`facelib.data.images.to_rgb_uint8`).
        size: side of the square (FaceNet's 160 by default; :func:`input_size` of another model).

    Returns:
        ``(size, size, 3) uint8`` (the whole photo squeezed to the square; no face detection).
    """
    return _course_resize(to_rgb_uint8(image), size)


def _course_resize(rgb: np.ndarray, size: int) -> np.ndarray:
    if rgb.shape[:2] == (size, size):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.NEAREST))


def face_crop(image: ImageLike, *, size: int = 160, keypoints: bool = True, margin: float | None = None,
              min_confidence: float = 0.9) -> np.ndarray:
    """Detect the main face of a photo and return it aligned: ``(size, size, 3) uint8``.

    Raises:
        NoFaceFoundError: no face; the message names the file.
    """
    return _face_crop(to_rgb_uint8(image), describe(image), size=size, keypoints=keypoints, margin=margin,
                      min_confidence=min_confidence)


def _face_crop(rgb: np.ndarray, name: str, *, size: int, keypoints: bool = True, margin: float | None = None,
               min_confidence: float = 0.9) -> np.ndarray:
    from facelib.faces import detect

    face = detect._detect_face(rgb, name, min_confidence)
    return detect._align(rgb, face, size, margin, keypoints)


#: Faces a network sees per forward pass when encoding. On 2 CPU cores FaceNet takes 17.6 ms a face in
#: batches of 8 and 16.4 ms in batches of 32 (dlib's network 3.8 and 3.0 ms), but a batch of 32 peaks
#: 107 MB higher (dlib's 44 MB), and TensorFlow's CPU allocator keeps that memory for the rest of the process.
ENCODE_BATCH = 8


def encode_faces(faces: np.ndarray, model, *, preprocessing: str = "course", batch_size: int = ENCODE_BATCH,
                 progress: bool | None = None) -> np.ndarray:
    """Encode face crops in batches and normalise each encoding to unit length.

    Args:
        faces: ``(m, size, size, 3) uint8`` RGB faces (already cropped/aligned), ``size`` the
            model's :func:`input_size` (160 for FaceNet).
        model: the encoder ``f`` (e.g. :func:`facelib.models.facenet`).
        preprocessing: ``"course"`` or ``"standardize"`` (see :func:`facelib.models.facenet_input.preprocess`).
        batch_size: images per forward pass.
        progress: show a progress bar (default: ``facelib.config.settings.progress`` and more than one batch).

    Returns:
        ``(m, d) float32``, each row of unit L2 norm (``d`` = the model's output size, 128 for FaceNet).
    """
    from facelib.faces.evaluation import encode
    from facelib.models.facenet_input import preprocess

    faces = np.asarray(faces)
    if faces.ndim != 4 or faces.shape[-1] != 3:
        raise ValueError(f"expected faces of shape (m, H, W, 3); got {faces.shape}")
    dim = int(model.output_shape[-1])
    if len(faces) == 0:
        return np.zeros((0, dim), np.float32)
    show = config.settings.progress if progress is None else progress
    emb = encode(model, faces, batch_size, preprocess=lambda batch: preprocess(batch, preprocessing), progress=show)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return emb / np.maximum(norms, 1e-12)


def img_to_encoding(image: ImageLike, model, *, preprocessing: str = "course", detect: bool = False) -> np.ndarray:
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
    rgb, size = to_rgb_uint8(image), input_size(model)
    face = _face_crop(rgb, describe(image), size=size) if detect else _course_resize(rgb, size)
    return encode_faces(face[None], model, preprocessing=preprocessing, progress=False)


def _as_encodings(value: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or len(arr) == 0:
        raise ValueError(f"{what} must be an encoding (d,), (1, d) or (k, d); got shape {arr.shape}")
    return arr


def require_people(database: Mapping[str, object]) -> None:
    """The one empty-database check: ``ValueError`` when ``database`` holds nobody."""
    if len(database) == 0:
        raise ValueError("the face database is empty: enroll at least one person first "
                         "(FaceDatabase.add, or `facelib enroll DB NAME IMG...`)")


def person_distances(encoding: np.ndarray, database: Mapping[str, np.ndarray]) -> dict[str, float]:
    """``{name: distance}`` from one encoding ``(d,)``/``(1, d)`` to each person of ``database``.

    A person with several encodings ``(k, d)`` is as near as their nearest one. Computed in float64.

    Raises:
        ValueError: the database is empty, or an encoding has the wrong shape.
    """
    require_people(database)
    q = _as_encodings(encoding, "encoding")[0]
    return {name: float(np.min(np.linalg.norm(_as_encodings(value, f"database[{name!r}]") - q, axis=1)))
            for name, value in database.items()}


def nearest_person(encoding: np.ndarray, database: Mapping[str, np.ndarray]) -> tuple[float, str]:
    """The nearest-person search of face recognition: ``(distance, name)`` of the nearest person.

    Ties go to the person enrolled first. Raises ``ValueError`` for an empty database.
    """
    dists = person_distances(encoding, database)
    name = min(dists, key=dists.__getitem__)
    return dists[name], name


def verify(image: ImageLike, identity: str, database: Mapping[str, np.ndarray], model,
           threshold: float = COURSE_THRESHOLD, **encode_kwargs: Any) -> tuple[float, bool]:
    """Is the person in ``image`` really ``identity``? (face verification, 1:1)

    Args:
        image: the photo at the door (path, PIL image or array).
        identity: the name the person claims.
        database: name → encoding ``(1, 128)`` (or ``(k, 128)`` for several photos: the nearest counts).
        model: the encoder.
        threshold: the door opens when ``dist <= threshold`` (course: 0.7).
        **encode_kwargs: passed to :func:`img_to_encoding` (``preprocessing=``, ``detect=``).

    Returns:
        ``(dist, door_open)`` with ``dist = ||f(image) - f(identity)||_2``.
    """
    if identity not in database:
        known = ", ".join(sorted(database)) or "nobody"
        raise KeyError(f"{identity!r} is not in the database (it holds: {known})")
    encoding = img_to_encoding(image, model, **encode_kwargs)
    dist = person_distances(encoding, {identity: database[identity]})[identity]
    return dist, accepts(dist, threshold)


def who_is_it(image: ImageLike, database: Mapping[str, np.ndarray], model,
              threshold: float = COURSE_THRESHOLD, **encode_kwargs: Any) -> tuple[float, str | None]:
    """Who is in ``image``? (face recognition, 1:K)

    Finds the enrolled person whose encoding is nearest to ``f(image)``.

    Returns:
        ``(min_dist, identity)``; ``identity`` is ``None`` ("not in the database") when
        ``min_dist > threshold``.

    Raises:
        ValueError: the database is empty.
    """
    require_people(database)
    encoding = img_to_encoding(image, model, **encode_kwargs)
    min_dist, identity = nearest_person(encoding, database)
    return min_dist, (identity if accepts(min_dist, threshold) else None)
