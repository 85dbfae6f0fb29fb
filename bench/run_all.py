"""Run every bench script and write one table to build/bench.md (``make bench``).

    python bench/run_all.py [--quick] [SCRIPT ...]
    python bench/run_all.py bench/classroom.py --args="--mode fast" --keep docs/bench.md --out docs/bench.md
    python bench/run_all.py --rows ROWS.jsonl --keep docs/bench.md --out docs/bench.md

Each ``bench/*.py`` (except this file and ``report.py``) runs in its own process with
``FACELIB_BENCH_OUT`` set; the rows it records become the table: figure, target, measured,
ratio, pass/miss, machine, seconds the script took. ``--keep TABLE`` keeps the rows of the
benches that did not run this time from an earlier table (how ``docs/bench.md`` is brought up
to date one bench at a time); ``--rows FILE`` tabulates rows a script recorded earlier
(``FACELIB_BENCH_OUT=FILE python bench/classroom.py ...``) instead of running anything.
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


def kept_rows(table: Path, ran: set[str]) -> list[str]:
    """The result rows of ``table`` (a table this script wrote) whose bench is not in ``ran``."""
    if not table.is_file():
        raise SystemExit(f"run_all.py: --keep {table}: no such file")
    rows = [line for line in table.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and not line.startswith(("| bench |", "|---"))]
    return [line for line in rows if line.split("|")[1].strip() not in ran]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scripts", nargs="*", help="bench scripts (default: all)")
    parser.add_argument("--quick", action="store_true", help="pass --quick to each script")
    parser.add_argument("--out", default=str(HERE.parent / "build" / "bench.md"))
    parser.add_argument("--keep", type=Path, help="an earlier table: keep its rows of the benches not run now")
    parser.add_argument("--rows", type=Path, help="rows a script recorded earlier (its FACELIB_BENCH_OUT file): "
                        "tabulate them instead of running scripts")
    parser.add_argument("--args", default="", help="extra arguments for every script (e.g. '--mode fast')")
    args = parser.parse_args()
    scripts = [Path(s) for s in args.scripts] or sorted(
        p for p in HERE.glob("*.py") if p.name not in {"run_all.py", "report.py"})
    rows, timings, failures = [], {}, []
    if args.rows:
        if not args.rows.is_file():
            print(f"run_all.py: --rows {args.rows}: no such file", file=sys.stderr)
            return 2
        rows = [json.loads(line) for line in args.rows.read_text(encoding="utf-8").splitlines() if line.strip()]
        scripts = []
    for script in scripts:
        with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as sink:
            env = dict(os.environ, FACELIB_BENCH_OUT=sink.name, PYTHONUNBUFFERED="1")
            cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else []) + args.args.split()
            start = time.perf_counter()
            done = subprocess.run(cmd, env=env)
            timings[script.stem] = time.perf_counter() - start
            if done.returncode != 0:
                failures.append(f"{script.name} exited {done.returncode}")
            rows += [json.loads(line) for line in sink.read().splitlines() if line.strip()]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "make bench" if len(sys.argv) == 1 else "python bench/run_all.py " + " ".join(sys.argv[1:])
    kept = f" Rows of other benches kept from the earlier {args.keep.name}." if args.keep else ""
    lines = [f"# facelib benchmarks\n\nRecorded {time.strftime('%Y-%m-%d', time.gmtime())}. Machine: {machine()}. "
             f"Command: `{command}`.{kept}\n",
             "| bench | figure | target | measured | ratio | result |", "|---|---|---|---|---|---|"]
    if args.keep:
        lines += kept_rows(args.keep, {r["bench"] for r in rows} | {s.stem for s in scripts})
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.3f}"
        result = "" if r["ok"] is None else ("pass" if r["ok"] else "**miss**")
        measured = f"{r['measured']:.4g}{r['unit']}"
        lines.append(f"| {r['bench']} | {r['figure']} | {r['target']} | {measured} | {ratio} | {result} |")
    if timings:
        lines.append("\nSeconds per script: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()) + ".")
    if failures:
        lines.append("\nFailed scripts: " + "; ".join(failures) + ".")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
