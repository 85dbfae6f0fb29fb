"""Helpers of the hostile-input tests (``tests/test_hostile_*.py``, issue 28): run a probe in a subprocess
under a memory cap, build a tiny face database without any network, and check the CLI's one error line.

Each ``test_*`` function of those modules is one probe of a careless or malicious user; new cases are
added there as they are found.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def run_capped(code: str, *, limit_gb: float, timeout: float = 240, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python with its address space capped at ``limit_gb`` (``RLIMIT_AS``)."""
    limit = int(limit_gb * 2**30)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    full_env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=cap, cwd=cwd, env=full_env)


def cli_code(*argv: str) -> str:
    """Python source that runs ``facelib ARGV...`` and exits with its code."""
    return f"import sys\nfrom facelib import cli\nsys.exit(cli.main({list(argv)!r}))\n"


def unit_rows(k: int, d: int = 128, seed: int = 0) -> np.ndarray:
    """``(k, d)`` random unit-norm float32 rows."""
    x = np.random.default_rng(seed).normal(size=(k, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def one_line(err: str, *needles: str) -> str:
    """The one non-empty line of ``err`` (no traceback), containing every needle."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"
    return lines[0]


def toy_encode(self, images, *, progress=None):
    """A stand-in for ``FaceDatabase.encode``: unit-norm ``(m, 128)`` rows from each photo's mean colour, read
    through the real image reader (so the tests need neither TensorFlow models nor weights)."""
    from facelib.data import to_rgb_uint8

    if not isinstance(images, (list, tuple)):
        images = [images]
    rows = []
    for im in images:
        v = np.zeros(128)
        v[:3] = to_rgb_uint8(im).reshape(-1, 3).mean(0) / 255.0
        v[3] = 0.3
        rows.append(v / np.linalg.norm(v))
    return np.asarray(rows, np.float32)


def photo(path: Path, colour=(200, 40, 40), size: int = 48) -> Path:
    """A small PNG of one colour (with a little noise) at ``path``."""
    from PIL import Image

    rng = np.random.default_rng(sum(colour))
    arr = np.clip(np.array(colour)[None, None] + rng.integers(-8, 9, (size, size, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(arr).save(path)
    return path
