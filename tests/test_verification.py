"""facelib.faces.verification: the course's img_to_encoding, verify, who_is_it (FaceNet on the LFW subset)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PIL import Image

from facelib.checks.verification import colour_encoder
from facelib.faces import (
    COURSE_THRESHOLD,
    DEFAULT_THRESHOLDS,
    FaceDatabase,
    course_image,
    encode,
    encode_faces,
    img_to_encoding,
    nearest_person,
    person_distances,
    verify,
    who_is_it,
)

# The LFW fixtures (paths, labels, model, encodings) come from conftest.py.

# ----------------------------------------------------------------- the course's functions

def test_course_image_is_keras_load_img(paths):
    expected = np.asarray(keras.utils.load_img(paths[0], target_size=(160, 160)))
    np.testing.assert_array_equal(course_image(paths[0]), expected)


def test_img_to_encoding_is_the_course_formula(paths, model):
    enc = img_to_encoding(paths[0], model)
    assert enc.shape == (1, 128) and enc.dtype == np.float32
    # the course: load_img → /255 → predict_on_batch → / ||·||
    x = np.asarray(keras.utils.load_img(paths[0], target_size=(160, 160)), np.float32)[None] / 255.0
    raw = model.predict_on_batch(x)
    np.testing.assert_allclose(enc, raw / np.linalg.norm(raw), atol=2e-5)


def test_encodings_have_unit_norm_and_distance_is_a_metric(encodings):
    np.testing.assert_allclose(np.linalg.norm(encodings, axis=1), 1.0, atol=1e-5)
    d = np.linalg.norm(encodings[:, None] - encodings[None], axis=-1)
    np.testing.assert_allclose(d, d.T, atol=1e-6)
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-6)


def test_same_image_gives_distance_zero(paths, model):
    a = img_to_encoding(paths[5], model, detect=True)
    b = img_to_encoding(Image.open(paths[5]), model, detect=True)
    assert float(np.linalg.norm(a - b)) < 1e-5


def test_same_person_is_clearly_nearer_than_different_people(encodings, labels):
    d = np.linalg.norm(encodings[:, None] - encodings[None], axis=-1)
    i, j = np.triu_indices(100, 1)
    same = labels[i] == labels[j]
    d_same, d_diff = d[i, j][same].mean(), d[i, j][~same].mean()
    assert d_same + 0.4 < d_diff, (d_same, d_diff)


def test_verify_and_who_is_it_against_numpy():
    model = colour_encoder()
    w = model.layers[-1].get_weights()[0].astype(np.float64)

    def enc(c):
        e = np.asarray(c, np.float64) / 255.0 @ w
        return e / np.linalg.norm(e)

    colours = {"a": (200, 40, 40), "b": (40, 200, 40)}
    db = {n: enc(c)[None] for n, c in colours.items()}
    img = np.full((50, 70, 3), (190, 55, 45), np.uint8)  # resized to 160×160 like the course
    q = enc((190, 55, 45))
    dist, ok = verify(img, "a", db, model)
    assert dist == pytest.approx(np.linalg.norm(q - db["a"]), abs=1e-4) and ok is True
    dist, ok = verify(img, "b", db, model)
    assert dist == pytest.approx(np.linalg.norm(q - db["b"]), abs=1e-4) and ok is False
    d, who = who_is_it(img, db, model)
    assert who == "a" and d == pytest.approx(np.linalg.norm(q - db["a"]), abs=1e-4)
    d, who = who_is_it(img, db, model, threshold=0.01)
    assert who is None
    with pytest.raises(KeyError, match="nobody|'c'"):
        verify(img, "c", db, model)
    with pytest.raises(ValueError, match="empty"):
        who_is_it(img, {}, model)


def test_verify_and_who_is_it_accept_a_distance_equal_to_the_threshold():
    model = colour_encoder()
    db = {"a": np.eye(1, 128, 0, dtype=np.float32), "b": np.eye(1, 128, 1, dtype=np.float32)}
    img = np.full((160, 160, 3), (190, 55, 45), np.uint8)
    dist, _ = verify(img, "a", db, model)
    assert verify(img, "a", db, model, threshold=dist) == (dist, True)  # d = τ: "same" (the lecture's d <= τ)
    assert verify(img, "a", db, model, threshold=np.nextafter(dist, 0.0))[1] is False
    d_min, who = who_is_it(img, db, model)
    assert who_is_it(img, db, model, threshold=d_min)[1] is not None
    assert who_is_it(img, db, model, threshold=np.nextafter(d_min, 0.0))[1] is None


def test_one_threshold_constant():
    import inspect

    assert DEFAULT_THRESHOLDS["course"] == COURSE_THRESHOLD == 0.7
    for fn in (verify, who_is_it):
        assert inspect.signature(fn).parameters["threshold"].default == COURSE_THRESHOLD
    assert FaceDatabase(model=object()).effective_threshold() == COURSE_THRESHOLD


def test_nearest_person_hand_worked_and_shared_by_who_is_it_and_the_database():
    db = {"a": np.array([[0.0, 0.0], [3.0, 0.0]]), "b": np.array([[1.0, 0.0]])}
    assert nearest_person(np.array([2.9, 0.0]), db) == (pytest.approx(0.1), "a")  # a's nearest photo counts
    assert person_distances([2.9, 0.0], db) == {"a": pytest.approx(0.1), "b": pytest.approx(1.9)}
    assert nearest_person(np.array([[0.5, 0.0]]), db) == (0.5, "a")  # a tie goes to the first enrolled
    model = colour_encoder()
    img = np.full((160, 160, 3), (120, 120, 40), np.uint8)
    people = {n: np.full((160, 160, 3), c, np.uint8) for n, c in (("r", (200, 40, 40)), ("g", (40, 200, 40)))}
    enc = {n: img_to_encoding(im, model) for n, im in people.items()}
    fdb = FaceDatabase(model, detect=False)
    for n, im in people.items():
        fdb.add(n, im)
    expected = nearest_person(img_to_encoding(img, model), enc)
    assert who_is_it(img, enc, model, threshold=2.0) == (pytest.approx(expected[0], abs=1e-6), expected[1])
    assert fdb.identify(img, threshold=2.0) == (pytest.approx(expected[0], abs=1e-6), expected[1])


def test_one_empty_database_check():
    messages = set()
    for call in (lambda: who_is_it(np.zeros((4, 4, 3), np.uint8), {}, colour_encoder()),
                 lambda: nearest_person(np.ones(3), {}),
                 lambda: FaceDatabase(model=object()).identify(np.zeros((4, 4, 3), np.uint8)),
                 lambda: FaceDatabase(model=object()).distances(np.ones(3))):
        with pytest.raises(ValueError, match="empty") as info:
            call()
        messages.add(str(info.value))
    assert len(messages) == 1


def test_encode_faces_is_evaluation_encode_then_unit_norm():
    from facelib.models.facenet_input import preprocess

    model = colour_encoder()
    faces = np.random.default_rng(0).integers(0, 256, (5, 160, 160, 3), dtype=np.uint8)
    raw = encode(model, preprocess(faces, "standardize"))
    np.testing.assert_allclose(encode_faces(faces, model, preprocessing="standardize", batch_size=2),
                               raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)
    assert encode_faces(faces[:0], model).shape == (0, 128)


def _count_conversions(monkeypatch):
    """Count every photo → RGB array conversion made by verification/detect (one counter for both)."""
    from facelib.data import to_rgb_uint8
    from facelib.faces import detect, verification  # where the conversions look to_rgb_uint8 up

    calls = []

    def counting(image):
        calls.append(type(image).__name__)
        return to_rgb_uint8(image)

    monkeypatch.setattr(verification, "to_rgb_uint8", counting)
    monkeypatch.setattr(detect, "to_rgb_uint8", counting)
    return calls


def test_a_photo_is_converted_once_through_verify(monkeypatch, paths):
    model = colour_encoder()
    db = {"a": np.eye(1, 128, dtype=np.float32)}
    for detect in (False, True):
        calls = _count_conversions(monkeypatch)
        verify(paths[3], "a", db, model, detect=detect)
        who_is_it(paths[3], db, model, detect=detect)
        assert calls == ["PosixPath", "PosixPath"], (detect, calls)  # once per question, at the entry


def test_face_size_comes_from_the_model(paths):
    import keras

    inputs = keras.Input((96, 96, 3))
    small = keras.Model(inputs, keras.layers.Dense(16)(keras.layers.GlobalAveragePooling2D()(inputs)))
    assert img_to_encoding(paths[3], small).shape == (1, 16)
    assert img_to_encoding(paths[3], small, detect=True).shape == (1, 16)
    db = FaceDatabase(small)
    assert db.faces([paths[3]]).shape == (1, 96, 96, 3)
    assert db.encode([paths[3], paths[4]]).shape == (2, 16)
