"""facelib.checks.verification (lesson 05): right answers pass, the course's τ = 0.7 is pinned, stubs wait."""

from __future__ import annotations

import numpy as np
import pytest
from check_cases import assert_accepts, assert_waits_for_the_stub

from facelib import faces
from facelib.checks import CheckFailed
from facelib.checks import verification as checks
from facelib.faces import img_to_encoding


def make_verify(tau=0.7, squared=False, strict=False):
    def verify(image, identity, database, model):
        dist = np.linalg.norm(img_to_encoding(image, model) - database[identity])
        value = dist ** 2 if squared else dist
        return dist, bool(value < tau if strict else value <= tau)
    return verify


def make_who_is_it(tau=0.7, squared=False):
    def who_is_it(image, database, model):
        encoding = img_to_encoding(image, model)
        min_dist, identity = 100.0, None
        for name, enc in database.items():
            dist = np.linalg.norm(encoding - enc)
            if dist < min_dist:
                min_dist, identity = dist, name
        value = min_dist ** 2 if squared else min_dist
        return min_dist, (identity if value <= tau else None)
    return who_is_it


def test_planted_residents_sit_on_both_sides_of_the_course_threshold():
    """The residents that pin τ: exact distances (NumPy), the nearest of each house as designed."""
    db = checks._database(("mei", "li", "sam", "jo"))
    d = {n: float(np.linalg.norm(checks._ref_encoding("a visitor") - e)) for n, e in db.items()}
    assert d == pytest.approx({"mei": 0.69, "li": 0.72, "sam": 0.78, "jo": 0.95}, abs=1e-6)
    assert all(abs(np.linalg.norm(e) - 1.0) < 1e-6 for e in db.values())
    # d² of li and sam is below 0.7 (0.518, 0.608): a squared distance opens their door
    assert d["li"] ** 2 < 0.7 and d["sam"] ** 2 < 0.7 and 0.7 < d["jo"] < 1.0


def test_verify_accepts_the_course_answer_and_facelib(capsys):
    assert_accepts(checks.check_verify, [make_verify(), make_verify(strict=True), faces.verify], 14, capsys)


@pytest.mark.parametrize("wrong", [
    make_verify(tau=1.0), make_verify(tau=1.075), make_verify(squared=True), make_verify(tau=0.5),
    make_verify(tau=0.75),
], ids=["tau-1.0", "tau-calibrated-1.075", "squared-distance", "tau-0.5", "tau-0.75"])
def test_verify_pins_the_course_threshold(wrong, capsys):
    with pytest.raises(CheckFailed):
        checks.check_verify(wrong)
    assert "door_open" in capsys.readouterr().out


def test_verify_wants_a_tuple_with_a_bool(capsys):
    with pytest.raises(CheckFailed):
        checks.check_verify(lambda image, identity, database, model: make_verify()(image, identity, database, model)[0])
    with pytest.raises(CheckFailed):
        checks.check_verify(lambda *a: (make_verify()(*a)[0], "yes"))


def test_who_is_it_accepts_the_course_answer_and_facelib(capsys):
    assert_accepts(checks.check_who_is_it, [make_who_is_it(), faces.who_is_it], 12, capsys)


@pytest.mark.parametrize("wrong", [
    make_who_is_it(tau=1.0), make_who_is_it(tau=1.075), make_who_is_it(squared=True), make_who_is_it(tau=0.6),
    make_who_is_it(tau=np.inf),
], ids=["tau-1.0", "tau-calibrated-1.075", "squared-distance", "tau-0.6", "never-none"])
def test_who_is_it_pins_the_course_threshold(wrong, capsys):
    with pytest.raises(CheckFailed):
        checks.check_who_is_it(wrong)
    assert "identity" in capsys.readouterr().out


def test_who_is_it_catches_the_first_resident_instead_of_the_nearest():
    def first(image, database, model):
        name = next(iter(database))
        dist = float(np.linalg.norm(img_to_encoding(image, model) - database[name]))
        return dist, (name if dist <= 0.7 else None)

    with pytest.raises(CheckFailed):
        checks.check_who_is_it(first)


@pytest.mark.parametrize("check", [checks.check_verify, checks.check_who_is_it])
def test_stub_is_not_attempted(check, capsys):
    assert_waits_for_the_stub(check, capsys)


# --------------------------------------------------------------------------- img_to_encoding

def course_img_to_encoding(image_path, model):
    """The course's function, as its assignment writes it."""
    import keras

    img = keras.utils.load_img(image_path, target_size=(160, 160))
    img = np.around(np.array(img) / 255.0, decimals=12)
    embedding = model.predict_on_batch(np.expand_dims(img, axis=0))
    return embedding / np.linalg.norm(embedding, ord=2)


def _variant(*, scale=255.0, normalise=True, squeeze=False, axis=None):
    def img_to_encoding(image_path, model):
        import keras

        x = np.array(keras.utils.load_img(image_path, target_size=(160, 160))) / scale
        e = model.predict_on_batch(x[None])
        if normalise:
            e = e / np.linalg.norm(e, axis=axis, keepdims=axis is not None)
        return e[0] if squeeze else e
    return img_to_encoding


def test_img_to_encoding_accepts_the_course_function_and_facelib(capsys):
    assert_accepts(checks.check_img_to_encoding, [course_img_to_encoding, img_to_encoding], 3, capsys)


@pytest.mark.parametrize("wrong", [
    _variant(scale=1.0), _variant(normalise=False), _variant(squeeze=True), _variant(axis=0),
], ids=["no-divide-by-255", "not-unit-length", "shape-128-not-1x128", "norm-over-the-batch-axis"])
def test_img_to_encoding_catches_mistakes(wrong, capsys):
    with pytest.raises(CheckFailed):
        checks.check_img_to_encoding(wrong)
    assert "load_img" in capsys.readouterr().out


def test_img_to_encoding_without_the_resize_fails(capsys):
    def no_resize(image_path, model):
        import keras

        x = np.array(keras.utils.load_img(image_path)) / 255.0
        e = model.predict_on_batch(x[None])
        return e / np.linalg.norm(e)

    with pytest.raises(CheckFailed):
        checks.check_img_to_encoding(no_resize)


def test_img_to_encoding_stub_is_not_attempted(capsys):
    assert_waits_for_the_stub(checks.check_img_to_encoding, capsys)


_NOTEBOOK = '''
def img_to_encoding(image_path, model):          # a student's mistake: no division by the length
    import keras
    img = np.array(keras.utils.load_img(image_path, target_size=(160, 160))) / 255.0
    return model.predict_on_batch(img[None])

def verify(image, identity, database, model):
    dist = np.linalg.norm(img_to_encoding(image, model) - database[identity])
    return dist, bool(dist <= 0.7)

def who_is_it(image, database, model):
    encoding = img_to_encoding(image, model)
    min_dist, identity = min((float(np.linalg.norm(encoding - e)), n) for n, e in database.items())
    return min_dist, (identity if min_dist <= 0.7 else None)
'''


def test_verify_and_who_is_it_are_graded_without_the_students_img_to_encoding(capsys):
    """A notebook whose img_to_encoding is wrong: check_img_to_encoding fails it, and check_verify and
    check_who_is_it still pass its right verify and who_is_it (each check grades its own exercise, so a
    grader takes one exercise's points for one mistake); the student's function is back afterwards."""
    notebook: dict = {"np": np}
    exec(_NOTEBOOK, notebook)  # the test's own text, as a notebook's namespace
    own = notebook["img_to_encoding"]
    with pytest.raises(CheckFailed):
        checks.check_img_to_encoding(own)
    assert checks.check_verify(notebook["verify"])
    assert checks.check_who_is_it(notebook["who_is_it"])
    assert notebook["img_to_encoding"] is own
    assert checks.GIVEN_BY_THE_CHECK == {"check_verify": ("img_to_encoding",), "check_who_is_it": ("img_to_encoding",)}


def test_the_course_img_to_encoding_passes_its_own_check(capsys):
    assert checks.check_img_to_encoding(checks.course_img_to_encoding)
