"""Helpers for the browser tests: one JupyterLab server, Chromium launches, notebook actions.

Used through the fixtures of ``tests/browser/conftest.py`` (``lab``, ``launch_chromium``,
``browser``); ``tests/browser`` is on ``sys.path``, so a test module does ``import browserlab``.
Assertions stay generic (no error outputs, a plot changes, MathJax elements present) so that
lessons can change their cells without breaking these tests.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

#: Environment variables the lab server must NOT pass on: its kernels behave like a student's
#: (widgets live, TensorFlow silenced by facelib and the kernel spec, not by the test's shell).
STUDENT_UNSET = ("CI", "PYTEST_CURRENT_TEST", "FACELIB_INTERACTIVE", "TF_CPP_MIN_LOG_LEVEL")
#: ... and what it sets: fast sizes (CI time) with progress bars shown (they are under test).
STUDENT_SET = {"FACELIB_FAST": "1", "FACELIB_PROGRESS": "1"}

WIDGET_ERROR = "Error displaying widget"

# JavaScript run in the page (window.jupyterapp exists with --LabApp.expose_app_in_browser).
_CURRENT = "window.jupyterapp.shell.currentWidget"
KERNEL_IDLE = f"""() => {{ const w = window.jupyterapp && {_CURRENT};
  return !!(w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel
            && w.sessionContext.session.kernel.status === 'idle'); }}"""
# True once the kernel is idle and every code cell has run, or a cell has failed (run-all stops).
RUN_FINISHED = f"""() => {{ const w = window.jupyterapp && {_CURRENT};
  if (!w || !w.content || !w.sessionContext || !w.sessionContext.session) return false;
  const kernel = w.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  const failed = cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
  return failed || cells.every(c => c.model.executionCount !== null); }}"""
_CELLS = f"{_CURRENT}.content.widgets"


@dataclass
class LabServer:
    """A JupyterLab server (``start()``): ``base`` URL, ``token``, the ``root`` folder it serves."""

    root: Path
    workdir: Path
    extra_args: tuple[str, ...] = ()
    base: str = ""
    token: str = ""
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> LabServer:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{port}"
        cfg = self.workdir / "cfg"
        # every cell rendered (no windowing), so DOM checks see the whole notebook
        tracker = cfg / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True, exist_ok=True)
        tracker.write_text(json.dumps({"windowingMode": "none"}))
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
               "--ServerApp.port_retries=0", "--LabApp.expose_app_in_browser=True", *self.extra_args]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        env = {k: v for k, v in os.environ.items() if k not in STUDENT_UNSET}
        env.update(STUDENT_SET, JUPYTER_RUNTIME_DIR=str(self.workdir / "rt"), JUPYTER_CONFIG_DIR=str(cfg),
                   JUPYTER_DATA_DIR=str(self.workdir / "jdata"), IPYTHONDIR=str(self.workdir / "ipy"))
        self.env = env
        log = (self.workdir / "lab.log").open("w")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.root)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                self.api("api/status")
                return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        raise AssertionError(f"JupyterLab did not start: {(self.workdir / 'lab.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET") -> Any:
        """JSON answer of the server's REST API at ``path`` (e.g. ``api/contents/NAME``)."""
        req = urllib.request.Request(self.url(path), method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """End every session and kernel (as when a student comes back the next day)."""
        for session in self.api("api/sessions"):
            self.api(f"api/sessions/{session['id']}", method="DELETE")
        for kernel in self.api("api/kernels"):
            self.api(f"api/kernels/{kernel['id']}", method="DELETE")

    def saved(self, name: str) -> dict:
        """The notebook as the lab saved it on disk."""
        return self.api(f"api/contents/{name}?content=1")["content"]


def open_notebook(page: Any, lab: LabServer, name: str, timeout_s: float = 180) -> str:
    """Open ``name`` alone (``?reset``: no tabs restored from an earlier test) and wait until its
    kernel is idle; return a CSS selector of its panel, to scope locators to this notebook."""
    page.goto(lab.url(f"lab/tree/{name}?reset"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout_s * 1000)
    page.wait_for_function(KERNEL_IDLE, timeout=timeout_s * 1000, polling=500)
    return panel(page)


def panel(page: Any) -> str:
    """CSS selector of the current notebook's panel (other tabs' cells stay out of queries)."""
    return f'[id="{page.evaluate(f"() => {_CURRENT}.id")}"]'


def run_all(page: Any, timeout_s: float = 600) -> None:
    """Run all cells and wait until every code cell ran (or one failed)."""
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(RUN_FINISHED, timeout=timeout_s * 1000, polling=1000)


def save(page: Any, timeout_s: float = 60) -> None:
    """Save the notebook and wait until the lab says it is clean."""
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(f"() => !{_CURRENT}.context.model.dirty", timeout=timeout_s * 1000, polling=250)


def code_outputs(page: Any) -> list[list[dict]]:
    """The outputs (nbformat dicts) of every code cell of the open notebook, in order."""
    return page.evaluate(f"() => {_CELLS}.filter(c => c.model.type === 'code').map(c => c.model.outputs.toJSON())")


def error_outputs(page: Any) -> list[str]:
    """``"code cell I: Name: value"`` for every error output of the open notebook."""
    return [f"code cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, cell in enumerate(code_outputs(page))
            for o in cell if o.get("output_type") == "error"]


def stderr_outputs(page: Any, cell: int = 0) -> list[str]:
    """Texts of the stderr boxes of the ``cell``-th code cell (in its model and in the page)."""
    model = [o.get("text", "") for o in code_outputs(page)[cell]
             if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    dom = page.evaluate(f"""() => [...{_CURRENT}.node.querySelectorAll('.jp-CodeCell')][{cell}]
        .querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]').length""")
    return model + ["(rendered stderr box)"] * max(0, dom - len(model))


def widget_errors(page: Any) -> list[str]:
    """Texts of the outputs that say "Error displaying widget" (a widget whose model is gone)."""
    return page.evaluate(f"""() => [...{_CURRENT}.node.querySelectorAll('.jp-OutputArea-output')]
        .filter(e => e.textContent.includes('{WIDGET_ERROR}')).map(e => e.textContent.slice(0, 200))""")


def maths_rendered(page: Any) -> int:
    """How many formulas MathJax 3 typeset in the current notebook."""
    return page.evaluate(f"() => {_CURRENT}.node.querySelectorAll('mjx-container').length")


def screenshot(target: Any, name: str) -> Path:
    """Save a PNG of a page or an element as ``build/browser-NAME.png`` (the README gallery)."""
    BUILD.mkdir(exist_ok=True)
    path = BUILD / f"browser-{name}.png"
    target.screenshot(path=str(path))
    return path
