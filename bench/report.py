"""Shared result rows for the bench scripts, collected by ``bench/run_all.py`` into build/bench.md.

Each script calls :func:`record` once per figure; the row is printed and, when the environment
variable ``FACELIB_BENCH_OUT`` names a file, appended to it as one JSON line.
"""

from __future__ import annotations

import json
import os
import platform


def machine() -> str:
    """CPU model, core count and TensorFlow version, for the table's machine column."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(l.split(":", 1)[1].strip() for l in fh if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import tensorflow as tf
        tfv = tf.__version__
    except ImportError:  # pragma: no cover
        tfv = "?"
    return f"{cpu}, {os.cpu_count()} cores, TF {tfv}"


def record(bench: str, figure: str, target: str, measured: float, *, unit: str = "",
           ok: bool | None = None, ratio: float | None = None) -> dict:
    """Print and store one result row.

    Args:
        bench: the script's name (``one_shot``, ``nst``...).
        figure: what was measured (``10-way one-shot accuracy, batch-hard``).
        target: the target as text (``≥ 90 %``, ``≤ 0.8``).
        measured: the value.
        unit: printed after the value.
        ok: whether the target is met (None when the row has no target).
        ratio: a ratio against a baseline measured in the same run, when that is the point.
    """
    row = {"bench": bench, "figure": figure, "target": target, "measured": float(measured), "unit": unit,
           "ok": None if ok is None else bool(ok), "ratio": None if ratio is None else float(ratio)}
    ok = row["ok"]
    verdict = "" if ok is None else ("PASS" if ok else "MISS")
    extra = f" (ratio {ratio:.3f})" if ratio is not None else ""
    print(f"[{bench}] {figure}: {measured:.4g}{unit}{extra}  target {target}  {verdict}", flush=True)
    out = os.environ.get("FACELIB_BENCH_OUT")
    if out:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
    return row
