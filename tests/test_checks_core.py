"""The exercise self-check machinery and the welcome notebook's check."""

import numpy as np
import pytest

from facelib import checks
from facelib.checks.core import compare, report


def test_compare_reports_shape_and_value_differences():
    assert compare("x", [1.0, 2.0], np.array([1.0, 2.0])).ok
    c = compare("x", [1.0, 2.0], [1.0, 2.5])
    assert not c.ok and "largest difference 0.5" in c.detail
    c = compare("x", np.zeros((2, 3)), np.zeros((3, 2)))
    assert not c.ok and "expected (2, 3), got (3, 2)" in c.detail
    assert not compare("x", 1.0, "one").ok


def test_check_distance_accepts_right_rejects_wrong_and_waits_for_stub(capsys):
    assert checks.check_distance(lambda a, b: float(np.linalg.norm(a - b)))
    assert "all 4 checks passed" in capsys.readouterr().out
    with pytest.raises(checks.CheckFailed):
        checks.check_distance(lambda a, b: float(np.sum((a - b) ** 2)))  # squared: wrong
    out = capsys.readouterr().out
    assert "✗ d((3, 4), (0, 0)) = 5" in out and "expected 5" in out and "got      25" in out

    def stub(a, b):
        raise NotImplementedError

    verdict = checks.check_distance(stub)
    assert not verdict and "not attempted yet" in capsys.readouterr().out


def test_an_exception_in_student_code_is_a_failed_case(capsys):
    def broken():
        raise ZeroDivisionError("oops")

    assert not report("demo", broken, raise_on_fail=False)
    assert "your function raised ZeroDivisionError: oops" in capsys.readouterr().out


def test_unknown_check_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        checks.check_nothing_like_this  # noqa: B018
