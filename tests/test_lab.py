"""Smoke test: JupyterLab starts on a loopback port and serves the lesson notebooks."""

import json
import urllib.error
import urllib.request

from conftest import REPO


def test_jupyter_lab_lists_the_notebooks(start_lab):
    base, token = start_lab(REPO)
    with urllib.request.urlopen(f"{base}/api/contents/notebooks?token={token}", timeout=10) as resp:
        listing = json.load(resp)
    names = {item["name"] for item in listing["content"] if item["type"] == "notebook"}
    assert "00_welcome.ipynb" in names
    assert names == {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
    # the lab page itself is served
    with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=10) as resp:
        assert resp.status == 200 and b"JupyterLab" in resp.read()
    # without the token the API refuses
    try:
        urllib.request.urlopen(f"{base}/api/contents/notebooks", timeout=10)
        refused = False
    except urllib.error.HTTPError as exc:
        refused = exc.code in (401, 403)
    assert refused


def test_lab_settings_turn_the_news_popup_off_and_save_widget_state(start_lab, tmp_path):
    """tools/labsetup.py (the Makefile's install step) put the overrides where the lab reads them."""
    base, token = start_lab(tmp_path)

    def composite(plugin):
        # the lab merges overrides into the schema's defaults (what a user without settings gets)
        with urllib.request.urlopen(f"{base}/lab/api/settings/{plugin}?token={token}", timeout=30) as resp:
            schema = json.load(resp)["schema"]["properties"]
        return {key: prop.get("default") for key, prop in schema.items()}

    hint = "lab overrides missing: run `make venv` (tools/labsetup.py)"
    assert composite("@jupyterlab/apputils-extension:notification")["fetchNews"] == "false", hint
    assert composite("@jupyter-widgets/jupyterlab-manager:plugin")["saveState"] is True, hint


def test_labsetup_installs_overrides_and_a_quiet_kernel_spec(tmp_path):
    import sys

    prefix = tmp_path / "prefix"
    sys.path.insert(0, str(REPO / "tools"))
    import labsetup

    written = labsetup.install(prefix)
    overrides = json.loads(written[0].read_text())
    assert written[0] == prefix / "share/jupyter/lab/settings/overrides.d/facelib.json"
    assert overrides == json.loads((REPO / "tools/lab/overrides.json").read_text())
    kernel = json.loads(written[1].read_text())
    assert kernel["env"] == {"TF_CPP_MIN_LOG_LEVEL": "2"} and "ipykernel_launcher" in kernel["argv"]
    assert kernel["argv"][-1] == labsetup.KERNEL_START  # facelib arms its TensorFlow start-up filter
    assert labsetup.install(prefix)[1] == written[1]  # installed again: still one start line
    assert json.loads(written[1].read_text())["argv"].count(labsetup.KERNEL_START) == 1


def test_makefile_installs_once_then_nothing(tmp_path):
    """`make test` twice: the second run finds both stamps fresh and installs nothing."""
    import os
    import shutil
    import subprocess
    import time

    for rel in ["Makefile", "requirements.txt", "pyproject.toml", "tools/labsetup.py", "tools/lab/overrides.json"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, tmp_path / rel)
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(shutil.which("python3") or "/usr/bin/python3")
    later = time.time() + 5
    for stamp in (".stamp-install", ".stamp-lab"):
        (venv / stamp).touch()
        os.utime(venv / stamp, (later, later))

    def dry_run() -> str:
        return subprocess.run(["make", "-n", "venv"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout

    assert "pip install" not in dry_run() and "labsetup" not in dry_run()
    os.utime(tmp_path / "tools/lab/overrides.json", (later + 5, later + 5))  # settings changed
    plan = dry_run()
    assert "labsetup.py" in plan and "pip install" not in plan
