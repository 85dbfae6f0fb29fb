"""Progress bars leave no widget output behind in a notebook (a real kernel runs them).

Reference: ``tqdm.auto`` leaves a ``application/vnd.jupyter.widget-view+json`` output, which
JupyterLab shows as "Error displaying widget: model not found"; facelib.progress must not.
"""

from __future__ import annotations

import nbformat
from conftest import REPO
from nbclient import NotebookClient

from facelib import progress

WIDGET = "application/vnd.jupyter.widget-view+json"


def _run(*cells: str) -> list[list[dict]]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    client = NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(REPO)}})
    client.execute()
    return [c.outputs for c in nb.cells]


def test_finished_bars_leave_text_or_nothing_never_a_widget():
    ref, gone, kept, stopped = _run(
        "from tqdm.auto import tqdm\nfor i in tqdm(range(3), leave=False): pass",
        "from facelib.progress import tqdm\nfor i in tqdm(range(3), desc='gone', leave=False, disable=False): pass\n"
        "print('after')",
        "for i in tqdm(range(4), desc='kept', leave=True, disable=False): pass",
        "bar = tqdm(total=10, desc='stopped', leave=False, disable=False)\nbar.update(4)\nbar.close()",
    )
    assert any(WIDGET in o.get("data", {}) for o in ref), "reference tqdm.auto left no widget: test is void"
    for outputs in (gone, kept, stopped):
        assert not [o for o in outputs if WIDGET in o.get("data", {})], outputs
    assert [o["data"]["text/plain"] for o in gone if o["output_type"] == "display_data"] == [""]
    assert [o["text"] for o in gone if o["output_type"] == "stream"] == ["after\n"]
    kept_text = "".join(o["data"]["text/plain"] for o in kept if o["output_type"] == "display_data")
    assert "kept" in kept_text and "4/4" in kept_text and "100%" in kept_text
    stopped_text = "".join(o["data"]["text/plain"] for o in stopped if o["output_type"] == "display_data")
    assert "4/10" in stopped_text  # a bar stopped early keeps its line, even with leave=False


def test_inside_an_output_widget_it_is_a_text_bar_on_stdout():
    """The Output widget (a slider's plot) ignores display updates: no widget bar there."""
    (outputs,) = _run(
        "import sys\nimport ipywidgets as w\nfrom facelib.progress import tqdm\nout = w.Output()\n"
        "with out:\n    inside = tqdm(range(2), disable=False)\n"
        "outside = tqdm(range(2), disable=False)\n"
        "print(type(inside).__module__, getattr(inside.fp, \"_wrapped\", inside.fp) is sys.stdout, "
        "type(outside).__name__)\n"
        "inside.close(); outside.close()")
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "tqdm.std True CleanNotebookBar" in text, outputs


def test_outside_a_notebook_it_is_the_text_bar_and_follows_the_progress_setting(monkeypatch, capsys):
    from facelib import config

    assert progress.in_notebook() is False
    monkeypatch.setattr(config, "settings", config.Settings.from_env({"FACELIB_PROGRESS": "1"}))
    assert sum(progress.tqdm(range(5), desc="shown")) == 10
    assert "shown" in capsys.readouterr().err
    monkeypatch.setattr(config, "settings", config.Settings.from_env({"FACELIB_PROGRESS": "0"}))
    assert list(progress.tqdm(range(3), desc="hidden")) == [0, 1, 2]
    assert "hidden" not in capsys.readouterr().err
