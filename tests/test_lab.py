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
