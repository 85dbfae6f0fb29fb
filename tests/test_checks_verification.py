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
