"""Self-checks for lesson 05 (face verification and recognition): ``verify`` and ``who_is_it``.

The student's functions call ``img_to_encoding(image, model)`` as in the course. The checks
hand them a tiny, fully known "encoder" instead of FaceNet — global average pooling followed by
a fixed ``3 × 128`` matrix ``W`` — and plain-colour 160×160 images, so each encoding is
``normalize((c / 255) @ W)`` for the colour ``c``: the expected distances are computed here with
NumPy, independently of :mod:`facelib.faces.verification`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facelib.checks.core import Case, Verdict, compare, report
from facelib.faces.evaluation import accepts
from facelib.models.facenet_input import COURSE_THRESHOLD

__all__ = ["check_verify", "check_who_is_it", "colour_encoder"]

_SEED = 5
#: Plain colours (RGB 0–255) standing in for people's photos.
_COLOURS = {
    "younes": (200, 40, 40), "kian": (40, 200, 40), "bertrand": (40, 40, 200),
    "younes at the door": (190, 55, 45), "stranger": (250, 250, 10), "kian in disguise": (120, 120, 40),
}


def _w() -> np.ndarray:
    return np.random.default_rng(_SEED).normal(size=(3, 128)).astype(np.float32)


def colour_encoder():
    """The checks' stand-in for FaceNet: ``(m, 160, 160, 3) → (m, 128)``, ``mean colour @ W``."""
    import keras

    inputs = keras.Input((160, 160, 3))
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    dense = keras.layers.Dense(128, use_bias=False)
    out = dense(x)
    dense.set_weights([_w()])
    return keras.Model(inputs, out, name="colour_encoder")


def _image(name: str) -> np.ndarray:
    return np.full((160, 160, 3), _COLOURS[name], dtype=np.uint8)


def _ref_encoding(name: str) -> np.ndarray:
    e = (np.asarray(_COLOURS[name], np.float64) / 255.0) @ _w().astype(np.float64)
    return (e / np.linalg.norm(e))[None]


def _database(people: tuple[str, ...] = ("younes", "kian", "bertrand")) -> dict[str, np.ndarray]:
    return {n: _ref_encoding(n).astype(np.float32) for n in people}


def check_verify(verify: Callable) -> Verdict:
    """Check ``verify(image, identity, database, model) -> (dist, door_open)`` (threshold 0.7)."""

    def cases() -> list[Case]:
        model, db = colour_encoder(), _database()
        out = []
        for who, claim in (("younes at the door", "younes"), ("kian in disguise", "kian"), ("stranger", "bertrand")):
            dist = float(np.linalg.norm(_ref_encoding(who) - _ref_encoding(claim)))
            result = verify(_image(who), claim, db, model)
            if not isinstance(result, tuple) or len(result) != 2:
                out.append(Case(f"{who} claims to be {claim}: return value", "(dist, door_open)", result, False,
                                "return a tuple (dist, door_open)"))
                continue
            out.append(compare(f"{who} claims to be {claim}: dist", dist, result[0], rtol=1e-3, atol=1e-4))
            expected_open = accepts(dist, COURSE_THRESHOLD)
            out.append(Case(f"{who} claims to be {claim}: door_open", expected_open, result[1],
                            bool(result[1]) == expected_open and isinstance(result[1], (bool, np.bool_)),
                            "door_open must be the bool dist <= 0.7"))
        return out

    return report("check_verify", cases)


def check_who_is_it(who_is_it: Callable) -> Verdict:
    """Check ``who_is_it(image, database, model) -> (min_dist, identity or None)`` (threshold 0.7)."""

    def cases() -> list[Case]:
        model, db = colour_encoder(), _database(("younes", "kian"))  # bertrand is not a resident here
        out = []
        for who in ("younes at the door", "kian in disguise", "bertrand"):
            q = _ref_encoding(who)
            dists = {n: float(np.linalg.norm(q - e)) for n, e in db.items()}
            nearest = min(dists, key=dists.__getitem__)
            expected = nearest if accepts(dists[nearest], COURSE_THRESHOLD) else None
            result = who_is_it(_image(who), db, model)
            if not isinstance(result, tuple) or len(result) != 2:
                out.append(Case(f"{who}: return value", "(min_dist, identity)", result, False,
                                "return a tuple (min_dist, identity)"))
                continue
            out.append(compare(f"{who}: min_dist", dists[nearest], result[0], rtol=1e-3, atol=1e-4))
            out.append(Case(f"{who}: identity", expected, result[1], result[1] == expected,
                            "the nearest person when min_dist <= 0.7, else None"))
        return out

    return report("check_who_is_it", cases)
