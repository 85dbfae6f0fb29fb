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
import functools
import inspect
import io
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CHECK_TIMEOUT_S", "GRADIENT_HINT", "NOT_ATTEMPTED", "Case", "CheckFailed", "StudentAnswerError",
           "Verdict", "compare", "graded", "gradient_case", "report"]

#: Seconds a check waits for the student's code (all its cases together) before reporting it as too slow.
CHECK_TIMEOUT_S = 300.0

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


class StudentAnswerError(Exception):
    """What is wrong with the student's function beyond its values: it changed its inputs, or never returned."""


class CheckFailed(AssertionError):
    """Raised by :func:`report` when at least one case is wrong (after printing why)."""


@dataclass
class Case:
    """One checked input: a description, the expected value and what the student returned.

    ``ok`` must be a bool: anything else (the array that ``answer == expected`` gives when the answer is
    an array) makes the case a failure that names the answer's type, never an "ambiguous truth value".
    """

    what: str
    expected: Any
    got: Any
    ok: bool
    detail: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.ok, (bool, np.bool_)):
            self.ok = False
            self.detail = (f"your answer is {_kind(self.got)}, where {_kind(self.expected)} was expected"
                           + (f" ({self.detail})" if self.detail else ""))
        self.ok = bool(self.ok)


def _kind(x: Any) -> str:
    """``x``'s type in words: "a str", "None", "an ndarray of shape (2,)", "a Tensor"."""
    if x is None:
        return "None"
    name = type(x).__name__
    shape = getattr(x, "shape", None)
    article = "an" if name[0].lower() in "aeiou" or name == "ndarray" else "a"
    return f"{article} {name}" + (f" of shape {tuple(shape)}" if shape is not None and len(shape) else "")


def _not_numbers(expected: Any, got: Any) -> str | None:
    """Why ``got`` cannot be compared as numbers with ``expected`` (a str, None, a bool, text, objects), or None."""
    if got is None:
        return "your function returned None: is a `return` missing?"
    if isinstance(got, (str, bytes)):
        return f"your function returned {_kind(got)} ({got!r:.40}), not a number: return the value itself"
    expected_bool = isinstance(expected, (bool, np.bool_)) or getattr(expected, "dtype", None) == np.bool_
    if isinstance(got, (bool, np.bool_)) and not expected_bool:
        return f"your function returned a bool ({got}), not a number"
    try:
        raw = np.asarray(got.numpy() if hasattr(got, "numpy") else got)
    except Exception:  # a ragged list, an object that refuses conversion...
        return f"your function returned {_kind(got)}, which cannot be read as numbers"
    if raw.dtype.kind not in "biuf":
        return f"your function returned values of dtype {raw.dtype} ({_kind(got)}), not real numbers"
    return None


def _as_array(x: Any) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x, dtype=np.float64)


def compare(what: str, expected: Any, got: Any, *, rtol: float = 1e-4, atol: float = 1e-5) -> Case:
    """Compare numbers/arrays: type first (a string, ``None``, a bool or text is never a number, even when
    NumPy could parse it), then shape, then values within ``rtol``/``atol`` (NaN where a number is expected
    is named)."""
    why = _not_numbers(expected, got)
    if why:
        return Case(what, expected, got, False, why)
    try:
        e, g = _as_array(expected), _as_array(got)
    except (TypeError, ValueError):
        return Case(what, expected, got, False, f"could not read the result as numbers: {type(got).__name__}")
    if e.shape != g.shape:
        return Case(what, e.shape, g.shape, False, f"shape differs: expected {e.shape}, got {g.shape}")
    if np.isnan(g).any() and not np.isnan(e).any():
        return Case(what, expected, got, False, "your result holds NaN (a 0/0, sqrt of a negative, or log of 0?)")
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


def report(name: str, cases: Sequence[Case] | Callable[[], Sequence[Case]], *, raise_on_fail: bool = True,
           timeout: float | None = None) -> Verdict:
    """Print one line per case (``✓`` or ``✗`` with expected vs got) and a verdict.

    ``cases`` may be a callable that builds the cases by running the student's function: then a
    ``NotImplementedError`` (the untouched exercise stub) prints "not attempted yet" and returns
    False without raising, and any other exception is reported as a failed case. The student's
    function (found among the callable's closure variables: a plain function not defined in facelib)
    gets copies of its NumPy/list/dict arguments, so one case cannot spoil the next; changing them is
    reported as a failure. The whole run has ``timeout`` seconds (default :data:`CHECK_TIMEOUT_S`): a
    function that never returns is reported, not waited for.
    Raises :class:`CheckFailed` when something is wrong and ``raise_on_fail`` is True, so a
    notebook stops at the first wrong exercise.
    """
    if callable(cases):
        try:
            cases = _run_guarded(cases, timeout)
        except NotImplementedError:
            print(f"{name}: {NOT_ATTEMPTED}")
            return Verdict(False)
        except StudentAnswerError as exc:  # too slow, or it changed its inputs
            cases = [Case("your function", "an answer, inputs left as they were", str(exc).split(":")[0], False,
                          str(exc))]
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


# --------------------------------------------------------------------------- guarding the student's function
def _is_student(fn: Any) -> bool:
    return inspect.isfunction(fn) and not (getattr(fn, "__module__", "") or "").startswith("facelib")


def _copy(x: Any) -> Any:
    """A copy of the data in ``x`` (arrays, lists, tuples, dicts of them); anything else (models, tensors,
    variables) is passed as it is."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_copy(v) for v in x]
    if isinstance(x, tuple):
        return tuple(_copy(v) for v in x)
    return x


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return True


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` called on copies of its arguments; a copy it changed raises :class:`StudentAnswerError`."""
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        given, named = [_copy(a) for a in args], {k: _copy(v) for k, v in kwargs.items()}
        out = fn(*given, **named)
        changed = [f"argument {i + 1}" for i, (a, g) in enumerate(zip(args, given)) if not _same(a, g)]
        changed += [f"argument {k}=" for k, v in kwargs.items() if not _same(v, named[k])]
        if changed:
            raise StudentAnswerError(f"your function changed its input ({', '.join(changed)}) in place: work on "
                                     "a copy (x = x.copy(), or new arrays from np.* operations) and return the result")
        return out
    return call


def _swap_students(fn: Any, depth: int = 2) -> list[tuple[Any, Any]]:
    """Replace the student's functions among ``fn``'s closure variables (and those of facelib's own nested
    functions there) by :func:`_guarded` ones; returns ``[(cell, original)]`` to put back."""
    swapped: list[tuple[Any, Any]] = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if _is_student(value):
            cell.cell_contents = _guarded(value)
            swapped.append((cell, value))
        elif depth > 1 and inspect.isfunction(value) and value is not fn:
            swapped += _swap_students(value, depth - 1)
    return swapped


def _run_guarded(cases: Callable[[], Sequence[Case]], timeout: float | None) -> Sequence[Case]:
    """``cases()`` with the student's function guarded, in a worker thread given ``timeout`` seconds.

    The whole run shares one thread, so a ``tf.GradientTape`` opened by the check sees the student's
    operations (tapes belong to the thread that opens them).
    """
    limit = CHECK_TIMEOUT_S if timeout is None else timeout
    swapped = _swap_students(cases)
    result: list[Any] = []

    def work() -> None:
        try:
            result.append(("ok", cases()))
        except BaseException as exc:  # handed to the caller's thread below
            result.append(("error", exc))

    try:
        worker = threading.Thread(target=work, name="facelib-check", daemon=True)
        worker.start()
        worker.join(limit)
        if worker.is_alive():
            raise StudentAnswerError(f"your function did not return within {limit:.0f} s: an endless loop, or "
                                     "a wait that never ends? (it is still running in the background; restart the "
                                     "kernel to stop it)")
    finally:
        for cell, original in swapped:
            cell.cell_contents = original
    status, value = result[0]
    if status == "error":
        raise value
    return value


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
