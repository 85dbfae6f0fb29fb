"""Lessons in JupyterLab as a student sees them (headless Debian Chromium, widgets live).

For each lesson with controls (05 τ slider, 06 layer/unit picker, 07 β/α and steps): Run All
gives no error output, the first cell shows no stderr box (TensorFlow's start-up lines are
silenced), maths is typeset, moving a slider redraws the plot, progress bars leave no broken
widget, and the saved notebook re-opened with a fresh kernel shows no "Error displaying widget".
The lab runs the kernels in fast mode with progress bars on and without the test's
``TF_CPP_MIN_LOG_LEVEL``/``CI`` (see ``browserlab.STUDENT_UNSET``). Screenshots go to ``build/``.

Assertions are generic (no cell texts): other lessons' authors change their cells freely.
"""

from __future__ import annotations

import json

import browserlab
import pytest

LESSONS = ["05_face_recognition.ipynb", "06_what_convnets_learn.ipynb", "07_neural_style_transfer.ipynb"]
VIEWPORT = {"width": 1300, "height": 1000}

# the first interact (ipywidgets `interactive`) that has a slider, and its plot
INTERACT = ".widget-interact:has(.widget-slider)"


def _plot_src(panel: str) -> str:
    return f"""() => {{ const i = document.querySelector('{panel} {INTERACT} .widget-output img');
  return i && i.complete && i.naturalWidth > 20 ? i.src : null; }}"""


def _move_slider(page, panel: str) -> None:
    """Drag the first slider of the interact 25 % of its track to the right (a person's drag)."""
    handle = page.locator(f"{panel} {INTERACT} .widget-slider .noUi-handle").first
    track = page.locator(f"{panel} {INTERACT} .widget-slider .noUi-target").first
    handle.scroll_into_view_if_needed()
    hb, tb = handle.bounding_box(), track.bounding_box()
    x, y = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2
    target = min(tb["x"] + tb["width"] - 2, x + 0.25 * tb["width"])
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(target, y, steps=8)
    page.mouse.up()


def _picture_spread(src: str) -> float:
    """Standard deviation of the plot's grey levels: ~0 for a blank (white) picture."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L")
    return float(np.asarray(image, dtype=np.float32).std())


def _save_picture(src: str, path) -> None:
    import base64

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(src.split(",", 1)[1]))


def _toasts(page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('.Toastify__toast')].map(t => t.textContent)")


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_and_reopens_clean_with_live_widgets(lab, browser, name):
    stem = name.removesuffix(".ipynb")
    source = json.loads((lab.root / name).read_text())
    has_maths = any("$" in "".join(c["source"]) for c in source["cells"] if c["cell_type"] == "markdown")

    page = browser.new_page(viewport=VIEWPORT)
    try:
        nb = browserlab.open_notebook(page, lab, name)
        browserlab.run_all(page, timeout_s=900)
        assert browserlab.error_outputs(page) == [], f"{name}: cells raised in the browser"
        assert browserlab.stderr_outputs(page, cell=0) == [], f"{name}: the first cell shows a stderr box"
        if has_maths:
            assert browserlab.maths_rendered(page) > 0, f"{name}: no formula typeset by MathJax"
        assert not [t for t in _toasts(page) if "news" in t.lower()], "JupyterLab's news pop-up is shown"

        # a person moves the slider: the plot is redrawn with a different picture
        plot = _plot_src(nb)
        page.wait_for_function(plot, timeout=120_000, polling=500)
        before = page.evaluate(plot)
        _move_slider(page, nb)
        page.wait_for_function(f"() => {{ const s = ({plot})(); return s && s !== {json.dumps(before)}; }}",
                               timeout=600_000, polling=500)
        page.wait_for_timeout(1000)  # let the redraw settle (a slow cell may still be painting)
        after = page.evaluate(plot)
        assert after and after != before
        for label, src in (("before", before), ("after", after)):  # what the student saw, kept for a failure
            _save_picture(src, browserlab.BUILD / f"browser-{stem}-plot-{label}.png")
        assert _picture_spread(before) > 5 and _picture_spread(after) > 5, f"{name}: a blank plot"
        browserlab.screenshot(page.locator(f"{nb} {INTERACT}").first, f"{stem}-slider")
        assert browserlab.widget_errors(page) == [], f"{name}: a widget output lost its model"
        assert browserlab.error_outputs(page) == []
        browserlab.save(page)
    finally:
        page.close()

    saved = lab.saved(name)
    assert "application/vnd.jupyter.widget-state+json" in saved["metadata"].get("widgets", {}), \
        "widget state not saved with the notebook (lab overrides not installed? run `make venv`)"

    # the next day: fresh kernel, the saved notebook re-opened
    lab.shutdown_kernels()
    page = browser.new_page(viewport=VIEWPORT)
    try:
        nb = browserlab.open_notebook(page, lab, name)
        page.wait_for_selector(f"{nb} {INTERACT}", timeout=60_000)  # the slider came back from the saved state
        page.wait_for_timeout(2000)  # let every widget output finish rendering
        assert browserlab.widget_errors(page) == [], f"{name}: re-opened notebook shows broken widgets"
        page.locator(f"{nb} {INTERACT}").first.scroll_into_view_if_needed()
        browserlab.screenshot(page, f"{stem}-reopened")
    finally:
        page.close()
        lab.shutdown_kernels()
