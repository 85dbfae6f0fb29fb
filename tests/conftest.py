"""Shared pytest set-up: quiet TensorFlow, the offline mirror, and an isolated cache fixture."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "mirror"
if "FACELIB_MIRROR" not in os.environ and (_MIRROR / "MANIFEST.json").is_file():
    os.environ["FACELIB_MIRROR"] = str(_MIRROR)

import pytest  # noqa: E402

from facelib import config  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tmp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty FACELIB_HOME for one test (settings re-read, restored afterwards)."""
    home = tmp_path / "home"
    monkeypatch.setenv("FACELIB_HOME", str(home))
    config.reload()
    yield home
    monkeypatch.undo()
    config.reload()


@pytest.fixture
def mirror() -> Path:
    """The offline mirror (shared/mirror beside the checkout, or FACELIB_MIRROR)."""
    path = Path(os.environ.get("FACELIB_MIRROR", _MIRROR))
    assert (path / "MANIFEST.json").is_file(), f"offline mirror not found at {path}"
    return path
