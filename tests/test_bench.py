"""Every bench script runs end to end in its --quick (smoke) mode and writes bench/report.record rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

SCRIPTS = sorted(p for p in (REPO / "bench").glob("*.py") if p.name not in {"report.py", "run_all.py"})
ROW_KEYS = {"bench": str, "figure": str, "target": str, "measured": float, "unit": str}


def test_every_bench_script_is_covered():
    assert {p.stem for p in SCRIPTS} >= {"conv", "encode", "nst", "one_shot", "paint", "recognition"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_quick_mode_writes_json_lines_rows(script, tmp_path):
    out = tmp_path / "rows.jsonl"
    env = dict(os.environ, FACELIB_BENCH_OUT=str(out), FACELIB_PROGRESS="0",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, str(script), "--quick"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{script.name} --quick exited {done.returncode}:\n{done.stderr[-3000:]}"
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines, f"{script.name} --quick recorded no row"
    for line in lines:
        row = json.loads(line)
        assert set(row) == {"bench", "figure", "target", "measured", "unit", "ok", "ratio"}, row
        for key, kind in ROW_KEYS.items():
            assert isinstance(row[key], kind), (key, row)
        assert row["bench"] == script.stem
        assert row["ok"] in (True, False, None) and (row["ratio"] is None or isinstance(row["ratio"], float))


def test_run_all_tabulates_recorded_rows_and_keeps_the_other_benches(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"bench": "classroom", "figure": "lesson 01 fast-mode peak MiB", "target": "≤ 1229 MiB",
                                "measured": 742.0, "unit": " MiB", "ok": True, "ratio": None}) + "\n", encoding="utf-8")
    old = tmp_path / "old.md"
    old.write_text("# facelib benchmarks\n\n| bench | figure | target | measured | ratio | result |\n"
                   "|---|---|---|---|---|---|\n"
                   "| classroom | lesson 01 fast-mode peak MiB | x | 6223 MiB |  | **miss** |\n"
                   "| nst | step time | info | 0.5 |  |  |\n", encoding="utf-8")
    out = tmp_path / "new.md"
    done = subprocess.run([sys.executable, str(REPO / "bench" / "run_all.py"), "--rows", str(rows), "--keep", str(old),
                           "--out", str(out)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert done.returncode == 0, done.stderr
    table = out.read_text(encoding="utf-8")
    assert "| nst | step time | info | 0.5 |  |  |" in table            # another bench's row: kept
    assert "6223" not in table
    assert "| classroom | lesson 01 fast-mode peak MiB | ≤ 1229 MiB | 742 MiB |  | pass |" in table
    missing = subprocess.run([sys.executable, str(REPO / "bench" / "run_all.py"), "--rows", str(tmp_path / "no.jsonl")],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "no.jsonl" in missing.stderr
