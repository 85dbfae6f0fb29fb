"""Self-checks for the notebooks' exercises.

Each ``check_*`` function runs the student's function on fixed inputs, compares with reference
values computed independently (hand-worked numbers or a NumPy formula) and prints what is right
and, when wrong, what differs: the input, the expected value and the value received. Checks live
beside the lesson they serve (``checks/faces.py``, ``checks/nst.py``, ``checks/conv.py``...) and
are all reachable as ``facelib.checks.check_...``.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from facelib.checks.core import (
    GRADIENT_HINT,
    NOT_ATTEMPTED,
    Case,
    CheckFailed,
    Verdict,
    compare,
    graded,
    gradient_case,
    report,
)

__all__ = ["GRADIENT_HINT", "NOT_ATTEMPTED", "Case", "CheckFailed", "Verdict", "compare", "gradient_case",
           "graded", "report"]


def __getattr__(name: str) -> Any:
    if name.startswith("check_"):
        for info in pkgutil.iter_modules(__path__):
            if info.name == "core":
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            if hasattr(module, name):
                return getattr(module, name)
    raise AttributeError(f"module 'facelib.checks' has no attribute {name!r}")
