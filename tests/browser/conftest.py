"""Fixtures of the browser tests, shared by the whole session (one lab server, one Playwright).

- ``lab``: a :class:`browserlab.LabServer` serving a temporary copy of ``notebooks/`` (saving
  there leaves the checkout alone), with a student's environment (widgets live, fast sizes).
- ``launch_chromium(*extra_args)``: Debian's Chromium driven by Playwright (no browser download),
  headless, with the project's flags plus yours (e.g. a fake camera); closed at the end.
- ``browser``: one default Chromium for the tests that need nothing special.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import browserlab
import pytest


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("lab")
    root = work / "notebooks"
    shutil.copytree(browserlab.REPO / "notebooks", root)
    server = browserlab.LabServer(root=root, workdir=work).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def launch_chromium(_playwright):
    assert Path(browserlab.CHROMIUM).exists(), "Debian's chromium is not installed (apt-get install chromium)"
    launched = []

    def launch(*extra_args: str):
        browser = _playwright.chromium.launch(executable_path=browserlab.CHROMIUM, headless=True,
                                              args=[*browserlab.CHROMIUM_ARGS, *extra_args])
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()


@pytest.fixture(scope="session")
def browser(launch_chromium):
    return launch_chromium()
