"""Self-checks for the notebooks' exercises.

Each ``check_*`` function runs the student's function on fixed inputs, compares with reference
values computed independently (hand-worked numbers or a NumPy formula) and prints what is right
and, when wrong, what differs: the input, the expected value and the value received. Checks live
beside the lesson they serve (``checks/faces.py``, ``checks/nst.py``, ``checks/conv.py``...) and
are all reachable as ``facelib.checks.check_...``.

The questions that close every lesson are answered with ``facelib.checks.answer("03.2", "d")``
(``facelib.checks.quiz("03")`` prints a lesson's questions); see :mod:`facelib.checks.questions`.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from facelib.checks.core import (
    CHECK_TIMEOUT_S,
    GRADIENT_HINT,
    NOT_ATTEMPTED,
    Case,
    CheckFailed,
    StudentAnswerError,
    Verdict,
    compare,
    graded,
    gradient_case,
    report,
)
from facelib.checks.questions import Question, answer, question, questions, quiz

__all__ = ["CHECK_TIMEOUT_S", "GRADIENT_HINT", "NOT_ATTEMPTED", "Case", "CheckFailed", "Question", "StudentAnswerError",
           "Verdict", "answer", "compare", "graded", "gradient_case", "question", "questions", "quiz", "report"]


def __getattr__(name: str) -> Any:
    if name.startswith("check_"):
        for info in pkgutil.iter_modules(__path__):
            if info.name == "core":
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            if hasattr(module, name):
                return getattr(module, name)
    raise AttributeError(f"module 'facelib.checks' has no attribute {name!r}")
