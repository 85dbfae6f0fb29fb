"""facelib.verification: the course's img_to_encoding, verify, who_is_it (FaceNet on the LFW subset)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from lfw_faces import lfw_encodings, lfw_labels, lfw_paths
from PIL import Image

from facelib.checks.verification import colour_encoder
from facelib.verification import course_image, default_model, img_to_encoding, verify, who_is_it


@pytest.fixture(scope="module")
def paths():
    return list(lfw_paths())


@pytest.fixture(scope="module")
def labels():
    return lfw_labels()


@pytest.fixture(scope="module")
def model():
    return default_model()


@pytest.fixture(scope="module")
def encodings():
    """All 100 photos through the database pipeline (MTCNN + alignment + FaceNet), course preprocessing."""
    return lfw_encodings()


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
