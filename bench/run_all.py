"""Run every bench script and write one table to build/bench.md (``make bench``).

    python bench/run_all.py [--quick] [SCRIPT ...]

Each ``bench/*.py`` (except this file and ``report.py``) runs in its own process with
``FACELIB_BENCH_OUT`` set; the rows it records become the table: figure, target, measured,
ratio, pass/miss, machine, seconds the script took.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import machine  # bench/report.py: this script's folder is on sys.path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scripts", nargs="*", help="bench scripts (default: all)")
    parser.add_argument("--quick", action="store_true", help="pass --quick to each script")
    parser.add_argument("--out", default=str(HERE.parent / "build" / "bench.md"))
    args = parser.parse_args()
    scripts = [Path(s) for s in args.scripts] or sorted(
        p for p in HERE.glob("*.py") if p.name not in {"run_all.py", "report.py"})
    rows, timings, failures = [], {}, []
    for script in scripts:
        with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as sink:
            env = dict(os.environ, FACELIB_BENCH_OUT=sink.name, PYTHONUNBUFFERED="1")
            cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
            start = time.perf_counter()
            done = subprocess.run(cmd, env=env)
            timings[script.stem] = time.perf_counter() - start
            if done.returncode != 0:
                failures.append(f"{script.name} exited {done.returncode}")
            rows += [json.loads(line) for line in sink.read().splitlines() if line.strip()]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# facelib benchmarks\n\nMachine: {machine()}. Command: `make bench`"
             f"{' (--quick)' if args.quick else ''}.\n",
             "| bench | figure | target | measured | ratio | result |", "|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.3f}"
        result = "" if r["ok"] is None else ("pass" if r["ok"] else "**miss**")
        measured = f"{r['measured']:.4g}{r['unit']}"
        lines.append(f"| {r['bench']} | {r['figure']} | {r['target']} | {measured} | {ratio} | {result} |")
    lines.append("\nSeconds per script: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()) + ".")
    if failures:
        lines.append("\nFailed scripts: " + "; ".join(failures) + ".")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
