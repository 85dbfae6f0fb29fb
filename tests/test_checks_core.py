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


# --------------------------------------------------------------------------- gradient_case

def test_gradient_case_passes_tensorflow_and_compares_the_gradient():
    import tensorflow as tf

    from facelib.checks import gradient_case

    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    c = gradient_case("sum of squares", lambda a: tf.reduce_sum(tf.square(a)), [x], expected_grads=[2 * x])
    assert c.ok
    c = gradient_case("sum of squares", lambda a: tf.reduce_sum(tf.square(a)), [x], expected_grads=[x])
    assert not c.ok and "gradient for input 0 is wrong" in c.detail


def test_gradient_case_rejects_numpy_and_cut_tapes():
    import tensorflow as tf

    from facelib.checks import GRADIENT_HINT, gradient_case

    x = np.ones((2, 3))
    numpy_answer = gradient_case("numpy", lambda a: np.sum(np.square(a)), [x])
    assert not numpy_answer.ok and GRADIENT_HINT in numpy_answer.detail and "not a tf.Tensor" in numpy_answer.detail
    rewrapped = gradient_case("re-wrapped", lambda a: tf.constant(np.sum(np.asarray(a) ** 2)), [x])
    assert (not rewrapped.ok and GRADIENT_HINT in rewrapped.detail
            and "no gradient reaches input(s) [0]" in rewrapped.detail)
    # a gradient to the first input only: the second is disconnected
    partial = gradient_case("partial", lambda a, b: tf.reduce_sum(a) + float(np.sum(b)), [x, x], wrt=(0, 1))
    assert not partial.ok and "[1]" in partial.detail
    nan = gradient_case("sqrt at 0", lambda a: tf.reduce_sum(tf.sqrt(a - a)), [x])
    assert not nan.ok and "NaN or infinite" in nan.detail


def test_gradient_case_passes_labels_through_and_lets_the_stub_reach_report(capsys):
    import tensorflow as tf

    from facelib.checks import gradient_case

    labels = np.array([0, 0, 1])
    seen = {}

    def fn(y, e):
        seen["labels"] = y
        return tf.reduce_sum(e * tf.cast(y, tf.float32)[:, None])

    assert gradient_case("labels", fn, [labels, np.ones((3, 2))], wrt=(1,)).ok
    assert isinstance(seen["labels"], np.ndarray) and seen["labels"].dtype.kind == "i"

    def stub(e):
        raise NotImplementedError

    assert not report("demo", lambda: [gradient_case("stub", stub, [np.ones(2)])])
    assert "not attempted yet" in capsys.readouterr().out
    with pytest.raises(ValueError, match="inputs\\[0\\] is not a float array"):
        gradient_case("ints", lambda y: y, [labels])


# --------------------------------------------------------------------------- every check, untouched stub

def _all_checks():
    import importlib
    import inspect
    import pkgutil

    import facelib.checks as pkg

    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name == "core":
            continue
        module = importlib.import_module(f"facelib.checks.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("check_") and fn.__module__ == module.__name__:
                found.append(pytest.param(fn, id=f"{info.name}.{name}"))
    return found


@pytest.mark.parametrize("check", _all_checks())
def test_every_check_says_not_attempted_for_the_stub_and_never_passes(check, capsys):
    """The convention of every notebook: the untouched stub is "not attempted yet", no ✓, no raise.

    Every ``check_xxx`` takes the student's function(s) as its required arguments (anything else
    has a default), so each of them gets a stub that raises NotImplementedError.
    """
    import inspect

    def stub(*args, **kwargs):
        raise NotImplementedError

    required = [p for p in inspect.signature(check).parameters.values()
                if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    verdict = check(*[stub] * len(required))
    out = capsys.readouterr().out
    assert not verdict
    assert "not attempted yet" in out and "✓" not in out and "passed" not in out
