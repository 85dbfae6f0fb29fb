"""Hostile inputs, part 5 (issue 28): the exercise checks say what is wrong with the *student's* answer.

A string where a number is expected, ``None``, an array where a name is expected, a function that changes
its inputs or never returns: each is a failed case naming the problem; the check never crashes and never
passes. The machinery is generic (:mod:`facelib.checks.core`), so these probes use a few real checks.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import tensorflow as tf

from facelib import checks, style
from facelib.checks import core
from facelib.checks.core import Case, CheckFailed, compare, report


def _fails(check, fn, capsys, *needles: str) -> str:
    with pytest.raises(CheckFailed):
        check(fn)
    out = capsys.readouterr().out
    assert "all" not in out.splitlines()[-1] or "passed" not in out.splitlines()[-1]
    assert "Traceback" not in out and "ambiguous" not in out
    for n in needles:
        assert n in out, out
    return out


def _norm(a, b):
    return float(np.sqrt(np.sum((np.asarray(a) - np.asarray(b)) ** 2)))


def test_a_right_distance_still_passes(capsys):
    assert checks.check_distance(_norm)


def test_a_string_is_not_a_distance(capsys):
    _fails(checks.check_distance, lambda a, b: str(_norm(a, b)), capsys, "returned a str")


def test_none_is_named_as_a_missing_return(capsys):
    _fails(checks.check_distance, lambda a, b: None, capsys, "returned None", "return")


def test_a_bool_is_not_a_distance(capsys):
    _fails(checks.check_distance, lambda a, b: bool(_norm(a, b) > 1), capsys, "returned a bool")


def test_a_list_of_strings_is_not_numbers():
    case = compare("x", [1.0, 2.0], ["1.0", "2.0"])
    assert not case.ok and "not real numbers" in case.detail


def test_nan_is_named(capsys):
    _fails(checks.check_distance, lambda a, b: float("nan"), capsys, "NaN")


def test_a_function_that_changes_its_inputs_is_reported(capsys):
    def in_place(a, b):
        a -= b  # spoils the caller's vector
        return float(np.sqrt(np.sum(a ** 2)))

    _fails(checks.check_distance, in_place, capsys, "changed its input", "copy")


def test_a_function_that_never_returns_is_stopped(capsys, monkeypatch):
    monkeypatch.setattr(core, "CHECK_TIMEOUT_S", 1.0)
    release = threading.Event()
    t0 = time.monotonic()
    try:
        _fails(checks.check_distance, lambda a, b: release.wait(3600), capsys, "did not return within")
    finally:
        release.set()
    assert time.monotonic() - t0 < 30


def test_a_case_whose_ok_is_an_array_is_a_failure_naming_the_type():
    case = Case("identity", "younes", np.array(["younes"]), np.array(["younes"]) == "younes")
    assert case.ok is False and "ndarray" in case.detail


def test_who_is_it_with_an_array_answer_names_the_type(capsys):
    from facelib.checks.verification import _database, _ref_encoding

    def who_is_it(image, database, model):
        q = _ref_encoding("younes at the door")
        d = {n: float(np.linalg.norm(q - e)) for n, e in _database(("younes", "kian")).items()}
        best = min(d, key=d.__getitem__)
        return d[best], np.array([best if d[best] <= 0.7 else ""])

    _fails(checks.check_who_is_it, who_is_it, capsys, "your answer is an ndarray")


def test_a_who_is_it_that_normalises_the_database_in_place_is_reported(capsys):
    def who_is_it(image, database, model):
        for name in database:
            database[name] /= 2  # changes the caller's database
        return 0.0, None

    _fails(checks.check_who_is_it, who_is_it, capsys, "changed its input")


def test_tensorflow_answers_still_work_through_the_guard(capsys):
    assert checks.check_compute_content_cost(lambda a_C, a_G: style.compute_content_cost(a_C, a_G))
    assert checks.check_gram_matrix(lambda A: tf.matmul(A, A, transpose_b=True))


def test_the_stub_is_still_not_attempted(capsys):
    def stub(a, b):
        raise NotImplementedError

    assert not checks.check_distance(stub)
    assert "not attempted" in capsys.readouterr().out


def test_report_with_a_plain_list_is_unchanged(capsys):
    assert report("r", [Case("a", 1, 1, True)])
