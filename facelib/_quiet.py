"""Quiet start-up: TensorFlow's C++ runtime must not print its INFO/WARNING lines to students.

TensorFlow's C++ runtime (absl logging, the CPU-feature guard, oneDNN notices) writes to the
process's stderr as soon as ``import tensorflow`` loads it, before Python's ``logging`` exists,
so ``tf.get_logger().setLevel`` afterwards cannot hide them. Two things are done *before* the
first import, by ``import facelib`` (unless the user chose a log level):

- :data:`QUIET_ENV` goes into the environment: TensorFlow's own logging reads it when it loads.
- :func:`quiet_tensorflow_import` filters what the import writes to file descriptor 2. Some lines
  ignore that variable: on CPUs where oneDNN's custom operations are on (AVX-512 BF16/VNNI, AMX),
  abseil's logging, not yet initialised, prints "All log messages before absl::InitializeLog() is
  called are written to STDERR" and an ``I…`` line per library. The import runs with fd 2 sent
  to a temporary file; afterwards every line is written back except abseil's notice and the
  ``I``/``W`` lines below the chosen level, so errors (``E``/``F`` lines, tracebacks, Python
  warnings) still reach the student.

The same defaults go into the kernel spec (``tools/labsetup.py``: the environment, and
``import facelib`` before the first cell, for lessons that import TensorFlow before facelib) and
the kernels started by ``facelib classroom``.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile
from collections.abc import Iterator, MutableMapping, Sequence
from types import ModuleType
from typing import Any

__all__ = ["QUIET_ENV", "filter_startup_lines", "quiet_environment", "quiet_tensorflow_import"]

#: Environment defaults that keep TensorFlow's start-up silent (errors still shown).
QUIET_ENV: dict[str, str] = {"TF_CPP_MIN_LOG_LEVEL": "2"}

_ABSL_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
# abseil's prefix: severity letter, MMDD, time, thread id, file:line]
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d+(?:\.\d+)?\s+\d+ \S+:\d+\] ")
_LEVELS = "IWEF"


def quiet_environment(environ: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Set :data:`QUIET_ENV` in ``environ`` (default ``os.environ``) where not already set.

    With the process's own environment, also filter the first ``import tensorflow``
    (:func:`quiet_tensorflow_import`) at the level now in force.
    """
    env = os.environ if environ is None else environ
    for key, value in QUIET_ENV.items():
        env.setdefault(key, value)
    if environ is None:
        quiet_tensorflow_import()
    return env


def filter_startup_lines(text: str, min_level: int) -> str:
    """``text`` without abseil's start-up notice and its log lines below ``min_level``
    (``TF_CPP_MIN_LOG_LEVEL``: 0 keeps all, 1 drops ``I``, 2 drops ``I`` and ``W``, 3 also ``E``)."""
    if min_level <= 0:
        return text
    kept = []
    for line in text.splitlines(keepends=True):
        match = _ABSL_LINE.match(line)
        if line.rstrip("\r\n") == _ABSL_NOTICE or (match and _LEVELS.index(match.group(1)) < min_level):
            continue
        kept.append(line)
    return "".join(kept)


def _min_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


@contextlib.contextmanager
def _filtered_fd2(min_level: int) -> Iterator[None]:
    """Send fd 2 to a temporary file inside the block, then write back what :func:`filter_startup_lines` keeps."""
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = filter_startup_lines(tmp.read().decode("utf-8", "replace"), min_level)
            if kept:
                os.write(2, kept.encode())


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, like the usual path finder, with its loader running under :func:`_filtered_fd2`."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)  # once: the import system goes on without us
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        level = _min_level()
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module") or level <= 0:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> Any:
            with _filtered_fd2(level):
                return run(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]  # this spec's own loader object
        return spec


def quiet_tensorflow_import() -> bool:
    """Filter the first ``import tensorflow`` of this process (a no-op once it is imported); True if armed."""
    if "tensorflow" in sys.modules:
        return False
    if not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())
    return True
