"""`make demo`'s HTML opened in Chromium with the network cut: the maths is typeset offline.

Lesson 00 (fast mode) is executed by :func:`facelib.classroom.run_all` into a temporary folder,
its index page is opened from disk with every non-file request refused, the link to the lesson
is followed, and MathJax (the local copy) must typeset every formula. A screenshot goes to build/.
"""

from __future__ import annotations

import browserlab

from facelib import classroom

LESSON = browserlab.REPO / "notebooks" / "00_welcome.ipynb"

# MathJax 2 (nbconvert's page) keeps each formula's TeX in a <script type="math/tex">, and puts
# the typeset result in an element of class MathJax (inline) or MathJax_Display (display).
MATHS = """() => ({tex: document.querySelectorAll('script[type^="math/tex"]').length,
  typeset: document.querySelectorAll('.MathJax, .MathJax_Display').length,
  errors: document.querySelectorAll('.MathJax_Error, .merror').length,
  idle: !!(window.MathJax && MathJax.Hub && MathJax.Hub.queue && MathJax.Hub.queue.pending === 0
           && !MathJax.Hub.queue.running)})"""


def test_demo_page_typesets_its_maths_offline(browser, tmp_path):
    out = tmp_path / "html"
    (run,) = classroom.run_all([LESSON], out, fast=True, progress=False)
    assert run.ok, run.errors

    context = browser.new_context(viewport={"width": 1100, "height": 900})
    refused: list[str] = []

    def only_files(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    page = context.new_page()
    try:
        page.goto((out / "index.html").as_uri())
        assert "fast mode" in page.text_content("#mode")
        assert "ok" in page.text_content("table")
        page.click(f"a[href='{LESSON.stem}.html']")
        page.wait_for_url(f"**/{LESSON.stem}.html")
        page.wait_for_function(f"() => {{ const m = ({MATHS})(); return m.idle && m.tex > 0 && m.typeset >= m.tex; }}",
                               timeout=120_000, polling=250)
        maths = page.evaluate(MATHS)
        assert maths["errors"] == 0, maths
        assert refused == [], f"the page asked the network for {refused}"
        page.locator(".MathJax_Display").first.scroll_into_view_if_needed()
        browserlab.screenshot(page, "demo-00_welcome")
    finally:
        context.close()
