"""Shared machinery of the exercise self-checks: compare, collect, report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["Case", "CheckFailed", "Verdict", "compare", "report"]


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


def _short(x: Any) -> str:
    if hasattr(x, "numpy"):
        x = x.numpy()
    arr = np.asarray(x) if not isinstance(x, (str, tuple)) else None
    if arr is not None and arr.dtype.kind in "fiub":
        if arr.size == 1:
            return f"{float(arr):.6g}"
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
            print(f"{name}: not attempted yet — replace the `raise NotImplementedError` under "
                  "# YOUR CODE HERE with your code, run that cell, then run this check again.")
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
