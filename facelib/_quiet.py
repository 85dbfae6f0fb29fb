"""Quiet start-up: TensorFlow's C++ runtime must not print its INFO/WARNING lines to students.

TensorFlow's C++ runtime (absl logging, the CPU-feature guard, oneDNN notices) writes to the
process's stderr as soon as ``import tensorflow`` loads it, before Python's ``logging`` exists,
so ``tf.get_logger().setLevel`` afterwards cannot hide them. Only environment variables set
*before* the first import do. ``import facelib`` sets them (unless the user chose a value), and
the same defaults go into the kernel spec (``tools/labsetup.py``) and the kernels started by
``facelib classroom``, for lessons that import TensorFlow before facelib.

Errors (level 2 and above) are still printed: a student must see a failing runtime.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

__all__ = ["QUIET_ENV", "quiet_environment"]

#: Environment defaults that keep TensorFlow's start-up silent (errors still shown).
QUIET_ENV: dict[str, str] = {"TF_CPP_MIN_LOG_LEVEL": "2"}


def quiet_environment(environ: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Set :data:`QUIET_ENV` in ``environ`` (default ``os.environ``) where not already set."""
    env = os.environ if environ is None else environ
    for key, value in QUIET_ENV.items():
        env.setdefault(key, value)
    return env
