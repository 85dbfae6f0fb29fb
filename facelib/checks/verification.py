"""Self-checks for lesson 05 (face verification and recognition): ``img_to_encoding``, ``verify`` and ``who_is_it``.

The student's functions call ``img_to_encoding(image_path, model)`` as in the course, on photos
saved as files. The checks hand them a tiny, fully known "encoder" instead of FaceNet — global
average pooling followed by a fixed ``3 × 128`` matrix ``W`` — and plain-colour 160×160 images, so
each encoding is ``normalize((c / 255) @ W)`` for the colour ``c``: the expected distances are
computed here with NumPy, independently of :mod:`facelib.faces.verification`. ``img_to_encoding``
itself is checked on photos of other sizes with an encoder that sees where the pixels are
(4×4 average pooling, then a dense layer with a bias), against PIL's nearest-neighbour resize
(what Keras' ``load_img(path, target_size=(160, 160))`` does) and NumPy.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from facelib.checks.core import Case, Verdict, compare, report
from facelib.faces.evaluation import accepts
from facelib.models.facenet_input import COURSE_THRESHOLD

__all__ = ["GIVEN_BY_THE_CHECK", "check_img_to_encoding", "check_verify", "check_who_is_it", "colour_encoder",
           "course_img_to_encoding"]

#: The names a check gives the student's function while it runs (the course's own version): each check
#: grades its own exercise, so a wrong ``img_to_encoding`` fails ``check_img_to_encoding`` alone.
GIVEN_BY_THE_CHECK = {"check_verify": ("img_to_encoding",), "check_who_is_it": ("img_to_encoding",)}

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


def _photo(name: str, folder: str) -> str:
    """``name``'s plain-colour photo saved as a PNG file in ``folder`` (the course's functions take paths)."""
    from PIL import Image

    path = Path(folder) / f"{name.replace(' ', '_')}.png"
    if not path.exists():
        Image.fromarray(_image(name)).save(path)
    return str(path)


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


def course_img_to_encoding(image_path: str, model) -> np.ndarray:
    """The course's ``img_to_encoding``: the photo at ``image_path`` read as RGB, resized to 160×160
    (nearest neighbour, as Keras' ``load_img`` does), ``/ 255``, encoded as a batch of one and divided by
    its length: ``(1, 128)``."""
    from PIL import Image

    with Image.open(image_path) as im:
        x = np.asarray(im.convert("RGB").resize((160, 160), Image.Resampling.NEAREST), np.float32) / 255.0
    e = np.asarray(model.predict_on_batch(x[None]))
    return e / np.linalg.norm(e)


@contextlib.contextmanager
def _course_encoding_for(fn: Callable) -> Iterator[None]:
    """While the check runs, ``img_to_encoding`` in the module of the student's ``fn`` is the course's
    (:func:`course_img_to_encoding`); the student's own is put back afterwards."""
    scope = getattr(fn, "__globals__", None)
    if scope is None or str(scope.get("__name__", "")).startswith("facelib"):
        yield
        return
    missing = object()
    own = scope.get("img_to_encoding", missing)
    scope["img_to_encoding"] = course_img_to_encoding
    try:
        yield
    finally:
        if own is missing:
            scope.pop("img_to_encoding", None)
        else:
            scope["img_to_encoding"] = own


def _distance(who: str, enrolled: np.ndarray) -> float:
    return float(np.linalg.norm(_ref_encoding(who) - enrolled.astype(np.float64)))


def check_img_to_encoding(img_to_encoding: Callable) -> Verdict:
    """Check the course's ``img_to_encoding(image_path, model) -> (1, 128)``.

    The course's recipe: load at 160×160, ``/ 255``, encode a batch of one, divide by the length.

    Photos of 250×250 (an LFW photo), 200×120 and greyscale, saved as PNG; the encoder pools to 4×4
    and has a bias, so a missing resize, a missing ``/ 255`` or a missing normalisation changes the
    result.
    """
    rng = np.random.default_rng(_SEED + 2)
    photos = {"a 250×250 colour photo": rng.integers(0, 256, (250, 250, 3), dtype=np.uint8),
              "a 200×120 colour photo": rng.integers(0, 256, (120, 200, 3), dtype=np.uint8),
              "a 160×160 greyscale photo": rng.integers(0, 256, (160, 160), dtype=np.uint8)}
    w = rng.normal(size=(48, 128)) / 4.0
    b = rng.normal(size=128)

    def encoder():
        import keras

        inputs = keras.Input((160, 160, 3))
        x = keras.layers.Flatten()(keras.layers.AveragePooling2D(40)(inputs))
        dense = keras.layers.Dense(128)
        model = keras.Model(inputs, dense(x), name="pooling_encoder")
        dense.set_weights([w.astype(np.float32), b.astype(np.float32)])
        return model

    def reference(path: Path) -> np.ndarray:
        from PIL import Image

        with Image.open(path) as im:
            x = np.asarray(im.convert("RGB").resize((160, 160), Image.Resampling.NEAREST), np.float64) / 255.0
        e = x.reshape(4, 40, 4, 40, 3).mean(axis=(1, 3)).reshape(-1) @ w + b
        return (e / np.linalg.norm(e))[None]

    def cases() -> list[Case]:
        from PIL import Image

        model, out = encoder(), []
        with tempfile.TemporaryDirectory() as folder:
            for what, pixels in photos.items():
                path = Path(folder) / f"{what.split()[1]}.png"
                Image.fromarray(pixels).save(path)
                c = compare(f"{what}: the encoding, shape (1, 128), length 1", reference(path),
                            img_to_encoding(str(path), model), rtol=1e-4, atol=1e-5)
                if not c.ok:
                    c.detail += ("; load_img(path, target_size=(160, 160)), / 255, a batch of one, "
                                 "model.predict_on_batch, then divide by np.linalg.norm of the encoding")
                out.append(c)
        return out

    return report("check_img_to_encoding", cases)


def check_verify(verify: Callable) -> Verdict:
    """Check ``verify(image_path, identity, database, model) -> (dist, door_open)`` (door open iff dist ≤ 0.7).

    Distances on both sides of 0.7 (0.69 open; 0.72, 0.78, 0.95 shut) pin the course's τ: a τ of 1.0
    or a squared distance fails. While it runs, ``img_to_encoding`` is the course's (see
    :data:`GIVEN_BY_THE_CHECK`): this check grades ``verify`` alone.
    """
    claims = (("younes at the door", "younes"), ("kian in disguise", "kian"), ("stranger", "bertrand"),
              *(("a visitor", name) for name in _PLANTED))

    def one(who: str, claim: str, db: dict[str, np.ndarray], model, folder: str) -> list[Case]:
        dist = _distance(who, db[claim])
        what = f"{who} claims to be {claim} (d = {dist:.2f})"
        result = verify(_photo(who, folder), claim, db, model)
        if not isinstance(result, tuple) or len(result) != 2:
            return [Case(f"{what}: return value", "(dist, door_open)", result, False,
                         "return a tuple (dist, door_open)")]
        expected_open = accepts(dist, COURSE_THRESHOLD)
        return [compare(f"{what}: dist", dist, result[0], rtol=1e-3, atol=1e-4),
                Case(f"{what}: door_open", expected_open, result[1],
                     bool(result[1]) == expected_open and isinstance(result[1], (bool, np.bool_)),
                     "door_open must be the bool dist <= 0.7 (the course's τ, on the distance itself, not its square)")]

    def cases() -> list[Case]:
        model, db = colour_encoder(), _database(("younes", "kian", "bertrand", *_PLANTED))
        with tempfile.TemporaryDirectory() as folder:
            return [c for who, claim in claims for c in one(who, claim, db, model, folder)]

    with _course_encoding_for(verify):
        return report("check_verify", cases)


def check_who_is_it(who_is_it: Callable) -> Verdict:
    """Check ``who_is_it(image_path, database, model) -> (min_dist, identity or None)`` (identity iff min_dist ≤ 0.7).

    Besides the colour residents, houses whose nearest resident is at 0.69 (a name) or at 0.72 and
    0.95 (None) pin the course's τ. While it runs, ``img_to_encoding`` is the course's (see
    :data:`GIVEN_BY_THE_CHECK`): this check grades ``who_is_it`` alone.
    """
    houses = (("younes at the door", ("younes", "kian")), ("kian in disguise", ("younes", "kian")),
              ("bertrand", ("younes", "kian")),  # bertrand is not a resident here
              ("a visitor", ("jo", "mei", "sam")), ("a visitor", ("sam", "li", "jo")), ("a visitor", ("jo",)))

    def one(who: str, residents: tuple[str, ...], model, folder: str) -> list[Case]:
        db = _database(residents)
        dists = {n: _distance(who, e) for n, e in db.items()}
        nearest = min(dists, key=dists.__getitem__)
        expected = nearest if accepts(dists[nearest], COURSE_THRESHOLD) else None
        what = f"{who}, residents {', '.join(residents)} (nearest d = {dists[nearest]:.2f})"
        result = who_is_it(_photo(who, folder), db, model)
        if not isinstance(result, tuple) or len(result) != 2:
            return [Case(f"{what}: return value", "(min_dist, identity)", result, False,
                         "return a tuple (min_dist, identity)")]
        return [compare(f"{what}: min_dist", dists[nearest], result[0], rtol=1e-3, atol=1e-4),
                Case(f"{what}: identity", expected, result[1], result[1] == expected,
                     "the nearest person when min_dist <= 0.7, else None")]

    def cases() -> list[Case]:
        model = colour_encoder()
        with tempfile.TemporaryDirectory() as folder:
            return [c for who, residents in houses for c in one(who, residents, model, folder)]

    with _course_encoding_for(who_is_it):
        return report("check_who_is_it", cases)
