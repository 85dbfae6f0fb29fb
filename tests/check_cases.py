"""Shared steps of the exercise self-check tests (``tests/test_checks_*.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def stub(*args, **kwargs):
    """A student's cell not attempted yet: the exercise's ``raise NotImplementedError``."""
    raise NotImplementedError


def assert_waits_for_the_stub(check: Callable, capsys) -> None:
    """``check(stub)`` is falsy and prints "not attempted yet", never "passed"."""
    assert bool(check(stub)) is False
    out = capsys.readouterr().out
    assert "not attempted yet" in out and "passed" not in out


def assert_accepts(check: Callable, answers: Sequence[Callable], n_checks: int, capsys) -> None:
    """``check`` passes every right answer, printing "all N checks passed", and waits for the stub."""
    for answer in answers:
        assert check(answer)
    assert f"all {n_checks} checks passed" in capsys.readouterr().out
    assert_waits_for_the_stub(check, capsys)
