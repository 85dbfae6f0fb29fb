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
    "a visitor": (120, 160, 200),
}
#: Residents enrolled at a set distance from "a visitor"'s encoding, on both sides of the course's
#: τ = 0.7: they pin τ (a τ of 1.0, the calibrated 1.075, or a squared distance d² ≤ 0.7 ⇔ d ≤ 0.837
#: opens the door for "li", "sam" or "jo"; a τ below 0.69 keeps it shut for "mei").
_PLANTED = {"mei": 0.69, "li": 0.72, "sam": 0.78, "jo": 0.95}


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


def _planted() -> dict[str, np.ndarray]:
    """``_PLANTED``'s residents: unit vectors at exactly the given distance d from "a visitor" (``(1, 128)``).

    v = cos θ · e + sin θ · u with u ⟂ e (one orthonormal u per resident) and d = 2 sin(θ / 2).
    """
    e = _ref_encoding("a visitor")[0]
    rng = np.random.default_rng(_SEED + 1)
    basis, _ = np.linalg.qr(np.column_stack([e, rng.normal(size=(128, len(_PLANTED)))]))
    basis[:, 0] *= np.sign(basis[:, 0] @ e)  # QR may flip the sign of e
    out = {}
    for k, (name, d) in enumerate(_PLANTED.items(), start=1):
        theta = 2.0 * np.arcsin(d / 2.0)
        out[name] = (np.cos(theta) * basis[:, 0] + np.sin(theta) * basis[:, k])[None].astype(np.float32)
    return out


def _database(people: tuple[str, ...] = ("younes", "kian", "bertrand")) -> dict[str, np.ndarray]:
    planted = _planted()
    return {n: planted[n] if n in planted else _ref_encoding(n).astype(np.float32) for n in people}


def _distance(who: str, enrolled: np.ndarray) -> float:
    return float(np.linalg.norm(_ref_encoding(who) - enrolled.astype(np.float64)))


def check_verify(verify: Callable) -> Verdict:
    """Check ``verify(image, identity, database, model) -> (dist, door_open)`` (door open iff dist ≤ 0.7).

    Distances on both sides of 0.7 (0.69 open; 0.72, 0.78, 0.95 shut) pin the course's τ: a τ of 1.0
    or a squared distance fails.
    """
    claims = (("younes at the door", "younes"), ("kian in disguise", "kian"), ("stranger", "bertrand"),
              *(("a visitor", name) for name in _PLANTED))

    def cases() -> list[Case]:
        model, db = colour_encoder(), _database(("younes", "kian", "bertrand", *_PLANTED))
        out = []
        for who, claim in claims:
            dist = _distance(who, db[claim])
            what = f"{who} claims to be {claim} (d = {dist:.2f})"
            result = verify(_image(who), claim, db, model)
            if not isinstance(result, tuple) or len(result) != 2:
                out.append(Case(f"{what}: return value", "(dist, door_open)", result, False,
                                "return a tuple (dist, door_open)"))
                continue
            out.append(compare(f"{what}: dist", dist, result[0], rtol=1e-3, atol=1e-4))
            expected_open = accepts(dist, COURSE_THRESHOLD)
            out.append(Case(f"{what}: door_open", expected_open, result[1],
                            bool(result[1]) == expected_open and isinstance(result[1], (bool, np.bool_)),
                            "door_open must be the bool dist <= 0.7 (the course's τ, on the distance itself, "
                            "not its square)"))
        return out

    return report("check_verify", cases)


def check_who_is_it(who_is_it: Callable) -> Verdict:
    """Check ``who_is_it(image, database, model) -> (min_dist, identity or None)`` (identity iff min_dist ≤ 0.7).

    Besides the colour residents, houses whose nearest resident is at 0.69 (a name) or at 0.72 and
    0.95 (None) pin the course's τ.
    """
    houses = (("younes at the door", ("younes", "kian")), ("kian in disguise", ("younes", "kian")),
              ("bertrand", ("younes", "kian")),  # bertrand is not a resident here
              ("a visitor", ("jo", "mei", "sam")), ("a visitor", ("sam", "li", "jo")), ("a visitor", ("jo",)))

    def cases() -> list[Case]:
        model = colour_encoder()
        out = []
        for who, residents in houses:
            db = _database(residents)
            dists = {n: _distance(who, e) for n, e in db.items()}
            nearest = min(dists, key=dists.__getitem__)
            expected = nearest if accepts(dists[nearest], COURSE_THRESHOLD) else None
            what = f"{who}, residents {', '.join(residents)} (nearest d = {dists[nearest]:.2f})"
            result = who_is_it(_image(who), db, model)
            if not isinstance(result, tuple) or len(result) != 2:
                out.append(Case(f"{what}: return value", "(min_dist, identity)", result, False,
                                "return a tuple (min_dist, identity)"))
                continue
            out.append(compare(f"{what}: min_dist", dists[nearest], result[0], rtol=1e-3, atol=1e-4))
            out.append(Case(f"{what}: identity", expected, result[1], result[1] == expected,
                            "the nearest person when min_dist <= 0.7, else None"))
        return out

    return report("check_who_is_it", cases)
