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
