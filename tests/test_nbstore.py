"""tools/nbstore.py stores lessons through the classroom executor: fast, static, text-only outputs."""

from __future__ import annotations

import sys

import nbformat
from conftest import REPO, write_code_notebook

sys.path.insert(0, str(REPO / "tools"))
import nbstore


def test_store_runs_fast_and_static_and_keeps_only_repeatable_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("FACELIB_INTERACTIVE", "1")  # the store must not inherit a person's setting
    path = write_code_notebook(tmp_path / "01_x.ipynb", [
        "import os; print(os.environ['FACELIB_FAST'], os.environ['FACELIB_INTERACTIVE'])",
        "import sys; print('noise', file=sys.stderr)",
        "# NBVAL_IGNORE_OUTPUT\nprint('varies')",
        "6 * 7",
    ])
    from facelib.classroom import execute as real

    calls = []
    monkeypatch.setattr(nbstore, "execute", lambda *a, **k: calls.append(k) or real(*a, **k))
    assert nbstore.main([str(path)]) == 0
    assert calls and calls[0]["env"] == nbstore.STORE_ENV and calls[0]["allow_errors"] is False
    cells = nbformat.read(path, as_version=4).cells
    assert [o["text"] for o in cells[0].outputs] == ["1 0\n"] and cells[0].execution_count == 1
    assert cells[1].outputs == [] and cells[1].execution_count is None  # stderr: not compared
    assert cells[2].outputs == [] and cells[2].execution_count is None  # marked by the author
    assert cells[3].outputs[0]["data"]["text/plain"] == "42"


def test_a_failing_cell_fails_the_store_and_leaves_the_file_alone(tmp_path, capsys):
    path = write_code_notebook(tmp_path / "02_bad.ipynb", ["x = 1", "1 / 0"])
    before = path.read_bytes()
    assert nbstore.main([str(path)]) == 1
    assert "ZeroDivisionError" in capsys.readouterr().err
    assert path.read_bytes() == before
