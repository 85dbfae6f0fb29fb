"""facelib: the helper package of the face recognition & neural style transfer course companion.

One module per lecture idea: ``losses`` (triplet loss), ``siamese``, ``verification``
(``verify``/``who_is_it``), ``nst`` (content/style costs), ``signals``/``volumes`` (1D/3D
convolutions), plus plumbing (``config``, ``device``, ``assets``, ``data``, ``cli``).
Sub-modules are imported on first use, so ``import facelib`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from facelib._quiet import quiet_environment

quiet_environment()  # before anything imports TensorFlow: its C++ runtime prints at load time

__version__ = "0.1.0"

_SUBMODULES = {
    "assets", "checks", "classroom", "cli", "config", "data", "detect", "device", "evaluation", "losses",
    "models", "nst", "siamese", "signals", "verification", "visualize", "volumes", "widgets",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"facelib.{name}")
    raise AttributeError(f"module 'facelib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
