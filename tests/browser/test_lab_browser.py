"""JupyterLab in a real browser: open a lesson in headless Chromium, run all cells, check the result.

Run by ``make browser-test`` (and by ``make test`` when Debian's ``chromium`` is installed).
Playwright drives the system Chromium (no browser download). The notebook is copied to a
temporary folder, so saving it there leaves the checkout untouched. A screenshot is saved
under ``build/``.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = os.environ.get("FACELIB_BROWSER_NOTEBOOK", "05_face_recognition.ipynb")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

# True once the kernel is idle and every code cell has run, or a cell has failed (run-all stops).
FINISHED = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.content || !w.sessionContext || !w.sessionContext.session) return false;
  const kernel = w.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  const failed = cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
  return failed || cells.every(c => c.model.executionCount !== null);
}"""


def test_run_all_cells_in_chromium(start_lab, tmp_path):
    source = REPO / "notebooks" / NOTEBOOK
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(source, root / source.name)
    base, token = start_lab(root, "--LabApp.expose_app_in_browser=True")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{source.name}?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            page.wait_for_function(
                "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                " return !!(w && w.sessionContext && w.sessionContext.session"
                " && w.sessionContext.session.kernel && w.sessionContext.session.kernel.status === 'idle'); }",
                timeout=120_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function(FINISHED, timeout=900_000, polling=1000)
            errors = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
                .flatMap(c => c.model.type === 'code' ? c.model.outputs.toJSON() : [])
                .filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)""")
            assert errors == [], f"cells raised in the browser: {errors}"
            # plots render as images with real pixels
            first_image = page.locator(".jp-OutputArea-output img").first
            first_image.scroll_into_view_if_needed(timeout=30_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-OutputArea-output img')]"
                ".some(i => i.complete && i.naturalWidth > 50)", timeout=60_000)
            n_images = page.locator(".jp-OutputArea-output img").count()
            assert n_images >= 1
            shot = REPO / "build" / f"browser-{source.stem}.png"
            shot.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
            page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
            page.wait_for_timeout(2000)
        finally:
            browser.close()

    # the saved copy holds the outputs the browser showed: images and no errors
    with urllib.request.urlopen(f"{base}/api/contents/{source.name}?token={token}", timeout=30) as resp:
        saved = json.load(resp)["content"]
    outputs = [o for c in saved["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
