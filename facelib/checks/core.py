"""Shared machinery of the exercise self-checks: compare, collect, report.

- :func:`compare` one value against a reference (shape, then values);
- :func:`gradient_case` run the student's function on TensorFlow tensors under a ``GradientTape``
  and check that a gradient reaches the inputs (a NumPy answer that could never train fails, with
  :data:`GRADIENT_HINT` as the reason);
- :func:`report` run the cases, print ✓/✗ lines and a verdict; an untouched stub
  (``raise NotImplementedError``) prints :data:`NOT_ATTEMPTED` and is never a pass;
- :func:`graded` a check as an autograder test (nbgrader): raises :class:`CheckFailed` whose message
  is the check's whole report unless the check passes.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["GRADIENT_HINT", "NOT_ATTEMPTED", "Case", "CheckFailed", "Verdict", "compare", "gradient_case",
           "graded", "report"]

#: The reason given when no gradient can flow through the student's function.
GRADIENT_HINT = "use TensorFlow ops so the gradient can flow"
#: Printed (after the check's name) for an untouched exercise stub.
NOT_ATTEMPTED = ("not attempted yet — replace the `raise NotImplementedError` under # YOUR CODE HERE "
                 "with your code, run that cell, then run this check again.")


class Verdict:
    """The result of a check: truthy when every case passed; shows nothing in a notebook.

    (A plain ``True``/``False`` would add an ``Out[n]: True`` line under the check's own report.)
    """

    def __init__(self, passed: bool) -> None:
        self.passed = bool(passed)

    def __bool__(self) -> bool:
        return self.passed

    def __eq__(self, other: object) -> bool:
        return self.passed == bool(other)

    def __hash__(self) -> int:
        return hash(self.passed)

    def __repr__(self) -> str:
        return f"Verdict(passed={self.passed})"

    def _ipython_display_(self) -> None:
        """Display nothing: the check has already printed its report."""


class CheckFailed(AssertionError):
    """Raised by :func:`report` when at least one case is wrong (after printing why)."""


@dataclass
class Case:
    """One checked input: a description, the expected value and what the student returned."""

    what: str
    expected: Any
    got: Any
    ok: bool
    detail: str = ""


def _as_array(x: Any) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x, dtype=np.float64)


def compare(what: str, expected: Any, got: Any, *, rtol: float = 1e-4, atol: float = 1e-5) -> Case:
    """Compare numbers/arrays: shape first, then values within ``rtol``/``atol``."""
    try:
        e, g = _as_array(expected), _as_array(got)
    except (TypeError, ValueError):
        return Case(what, expected, got, False, f"could not read the result as numbers: {type(got).__name__}")
    if e.shape != g.shape:
        return Case(what, e.shape, g.shape, False, f"shape differs: expected {e.shape}, got {g.shape}")
    if not np.allclose(g, e, rtol=rtol, atol=atol):
        worst = float(np.max(np.abs(g - e))) if e.size else 0.0
        return Case(what, expected, got, False, f"values differ (largest difference {worst:.3g})")
    return Case(what, expected, got, True)


def _as_float_tensor(x: Any, watched: bool) -> Any:
    """A float array (or list, tuple; a Python number when ``watched``) as a ``tf.float32`` tensor; else ``x``."""
    import tensorflow as tf

    if (isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.dtype.kind == "f")
            or (watched and isinstance(x, (int, float)))):
        try:
            return tf.convert_to_tensor(np.asarray(x, np.float32))
        except (TypeError, ValueError):
            return x
    return x


def gradient_case(what: str, fn: Callable[..., Any], inputs: Sequence[Any], *,
                  wrt: Sequence[int] = (0,), kwargs: Mapping[str, Any] | None = None,
                  expected_grads: Sequence[Any] | None = None,
                  rtol: float = 1e-4, atol: float = 1e-5) -> Case:
    """Check that a gradient flows from ``fn(*inputs, **kwargs)`` back to ``inputs[k]`` for k in ``wrt``.

    Float arrays among ``inputs`` (NumPy float arrays, lists, tuples of equal-shape arrays) become
    ``tf.float32`` tensors, as do Python floats listed in ``wrt``; anything else (integer labels,
    strings, ``None``, hyper-parameters such as a margin, tensors) is passed as it is. The inputs
    listed in ``wrt`` are watched by a ``tf.GradientTape``; the case passes when the result is a
    TensorFlow tensor, the gradient of ``sum(result)`` with respect to each watched input exists
    and is finite, and — if ``expected_grads`` is given (one array per ``wrt`` entry, e.g. a
    hand-worked or NumPy-derived gradient) — matches it within ``rtol``/``atol``.

    A NumPy implementation returns an ``ndarray`` (or a tensor disconnected from the inputs): the
    case fails with :data:`GRADIENT_HINT`. A ``NotImplementedError`` from ``fn`` is *not* caught
    here, so :func:`report` still prints "not attempted yet" for the stub.
    """
    import tensorflow as tf

    xs = [_as_float_tensor(x, k in wrt) for k, x in enumerate(inputs)]
    for k in wrt:
        if not (tf.is_tensor(xs[k]) and xs[k].dtype.is_floating):
            raise ValueError(f"gradient_case({what!r}): inputs[{k}] is not a float array")
    with tf.GradientTape(persistent=False) as tape:
        for k in wrt:
            tape.watch(xs[k])
        out = fn(*xs, **(kwargs or {}))
        target = tf.reduce_sum(out) if tf.is_tensor(out) and out.dtype.is_floating else None
    if not tf.is_tensor(out):
        return Case(what, "a TensorFlow tensor", f"{type(out).__name__}", False,
                    f"your function returned a {type(out).__name__}, not a tf.Tensor: {GRADIENT_HINT} "
                    "(tf.reduce_sum, tf.square, tf.maximum… instead of np.*, .numpy() or float())")
    if not out.dtype.is_floating:
        return Case(what, "a float tensor", f"{out.dtype.name} tensor", False,
                    f"the result is {out.dtype.name}: {GRADIENT_HINT}")
    grads = tape.gradient(target, [xs[k] for k in wrt])
    missing = [k for k, g in zip(wrt, grads) if g is None]
    if missing:
        return Case(what, "a gradient for every input", f"no gradient for input(s) {missing}", False,
                    f"no gradient reaches input(s) {missing}: {GRADIENT_HINT} (a NumPy step, .numpy(), "
                    "float() or tf.constant(...) of a NumPy result cuts the tape)")
    bad = [k for k, g in zip(wrt, grads) if not bool(np.all(np.isfinite(g.numpy())))]
    if bad:
        return Case(what, "finite gradients", f"NaN/inf gradient for input(s) {bad}", False,
                    f"the gradient for input(s) {bad} is NaN or infinite (e.g. sqrt or division at 0)")
    if expected_grads is not None:
        for k, g, e in zip(wrt, grads, expected_grads):
            c = compare(f"{what}: gradient for input {k}", e, g, rtol=rtol, atol=atol)
            if not c.ok:
                c.detail = f"the gradient for input {k} is wrong: {c.detail}"
                return c
    return Case(what, "a gradient", "a gradient", True)


def _short(x: Any) -> str:
    if hasattr(x, "numpy"):
        x = x.numpy()
    arr = np.asarray(x) if not isinstance(x, (str, tuple)) else None
    if arr is not None and arr.dtype.kind in "fiub":
        if arr.size == 1:
            value = f"{float(arr.reshape(-1)[0]):.6g}"
            return value if arr.ndim == 0 else f"{value} (shape {arr.shape})"
        return np.array2string(arr, precision=4, threshold=8)
    return repr(x)


def report(name: str, cases: Sequence[Case] | Callable[[], Sequence[Case]], *, raise_on_fail: bool = True) -> Verdict:
    """Print one line per case (``✓`` or ``✗`` with expected vs got) and a verdict.

    ``cases`` may be a callable that builds the cases by running the student's function: then a
    ``NotImplementedError`` (the untouched exercise stub) prints "not attempted yet" and returns
    False without raising, and any other exception is reported as a failed case.
    Raises :class:`CheckFailed` when something is wrong and ``raise_on_fail`` is True, so a
    notebook stops at the first wrong exercise.
    """
    if callable(cases):
        try:
            cases = cases()
        except NotImplementedError:
            print(f"{name}: {NOT_ATTEMPTED}")
            return Verdict(False)
        except Exception as exc:  # the student's code raised: say so plainly
            cases = [Case("running your function", "no error", f"{type(exc).__name__}: {exc}", False,
                          f"your function raised {type(exc).__name__}: {exc}")]
    failed = [c for c in cases if not c.ok]
    for c in cases:
        if c.ok:
            print(f"  ✓ {c.what}")
        else:
            print(f"  ✗ {c.what}: {c.detail}\n      expected {_short(c.expected)}\n      got      {_short(c.got)}")
    if failed:
        print(f"{name}: {len(failed)} of {len(cases)} checks failed.")
        if raise_on_fail:
            raise CheckFailed(f"{name}: {len(failed)} of {len(cases)} checks failed")
        return Verdict(False)
    print(f"{name}: all {len(cases)} checks passed.")
    return Verdict(True)


def graded(check: Callable[..., Any], *args: Any, **kwargs: Any) -> Verdict:
    """Run ``check(*args, **kwargs)`` as an autograder test: pass, or raise with the check's own report.

    A check prints its report and returns a falsy :class:`Verdict` for an untouched stub (no error),
    or raises :class:`CheckFailed` with a one-line summary. A grader that looks only for errors would
    pass the stub, and one that only asserts would show a bare ``AssertionError``; here any failure
    raises :class:`CheckFailed` whose message is everything the check printed (each ✗ line with what
    was expected and what came back, or "not attempted yet"), so the grader's feedback shows it.
    """
    buffer = io.StringIO()
    failure: BaseException | None = None
    with contextlib.redirect_stdout(buffer):
        try:
            verdict = check(*args, **kwargs)
        except CheckFailed as exc:
            verdict, failure = Verdict(False), exc
    text = buffer.getvalue().rstrip()
    if not verdict:
        name = getattr(check, "__name__", "the check")
        raise CheckFailed(f"{name} did not pass:\n{text or failure or 'no report'}") from None
    print(text)
    return verdict
