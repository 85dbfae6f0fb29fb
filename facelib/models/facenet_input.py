"""FaceNet's input: the preprocessing modes, the threshold that belongs to each, the input size.

What the pixels look like when they enter FaceNet (:mod:`facelib.models.inception_resnet`), kept
beside the model as Keras' ``applications`` keep ``preprocess_input`` beside each builder. NumPy only:
reading these constants or preprocessing a face does not build (or import) the network.

Preprocessing (:func:`preprocess`):

``"course"``
    ``RGB / 255`` in ``[0, 1]``, exactly the course's ``img_to_encoding`` (after Keras'
    ``load_img(path, target_size=(160, 160))``, nearest-neighbour resizing). The course's
    threshold ``τ = 0.7`` on unit-norm encodings belongs to this preprocessing (its published
    values: ``verify(camera_0, younes) ≈ 0.60`` welcome, ``verify(camera_2, kian) ≈ 1.02`` refused).
    On the aligned LFW subset 0.7 is strict (95.9 % pair accuracy; the best τ is ≈ 0.94, 99.5 %).
``"standardize"``
    per-image ``(x - mean) / max(std, 1/sqrt(N))`` on the 0–255 pixels (``prewhiten`` of the
    original FaceNet code, what the weights were trained with). Distances are better separated;
    on the aligned LFW subset the best τ is ≈ 0.98 (99.8 % at 1.0, 98.5 % at 1.1, 97.5 % at 0.7).
    Calibrate it (:meth:`facelib.faces.database.FaceDatabase.calibrate`) rather than reuse 0.7.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COURSE_THRESHOLD", "DEFAULT_THRESHOLDS", "FACENET_INPUT_SIZE", "PREPROCESSING", "preprocess"]

#: Side of the square input face in pixels.
FACENET_INPUT_SIZE = 160
#: The course's threshold on the distance between unit-norm encodings (preprocessing "course"); the
#: one place the number lives.
COURSE_THRESHOLD = 0.7
#: The preprocessing modes :func:`preprocess` knows.
PREPROCESSING = ("course", "standardize")
#: The threshold used until one is calibrated, per preprocessing (the course's 0.7; 1.0 for "standardize").
DEFAULT_THRESHOLDS = {"course": COURSE_THRESHOLD, "standardize": 1.0}


def preprocess(faces: np.ndarray, mode: str = "course") -> np.ndarray:
    """Turn RGB faces (0–255) into what the network expects.

    Args:
        faces: ``(m, 160, 160, 3)`` or ``(160, 160, 3)`` uint8 (or float on the 0–255 scale), RGB.
        mode: ``"course"`` (``x / 255``) or ``"standardize"`` (per-image mean/std, "prewhiten").

    Returns:
        ``float32`` array of the same shape.
    """
    if mode not in PREPROCESSING:
        raise ValueError(f"preprocessing must be one of {PREPROCESSING}; got {mode!r}")
    x = np.asarray(faces, dtype=np.float32)
    if mode == "course":
        # the course: np.around(np.array(img) / 255.0, decimals=12) — rounding at 1e-12 is a no-op in float32
        return x / np.float32(255.0)
    axes = tuple(range(x.ndim - 3, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    std = x.std(axis=axes, keepdims=True)
    n = np.prod(x.shape[-3:])
    return ((x - mean) / np.maximum(std, 1.0 / np.sqrt(n))).astype(np.float32)
