"""Shared pytest set-up: quiet TensorFlow, the offline mirror, an isolated cache, the LFW face fixtures, and small
file builders (a tar, a notebook) used by several test files."""

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


@pytest.fixture
def start_lab(tmp_path: Path):
    """Start JupyterLab on a free loopback port: ``start_lab(root_dir, *extra_args) -> (base_url, token)``.

    The server gets its own runtime/config/data folders and a random token, and is stopped
    when the test ends.
    """
    import json
    import secrets
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    procs = []

    def start(root_dir: Path, *extra: str) -> tuple[str, str]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        token = secrets.token_hex(16)
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
               "--ServerApp.port_retries=0", *extra]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
                   JUPYTER_DATA_DIR=str(tmp_path / "jdata"), IPYTHONDIR=str(tmp_path / "ipy"))
        log = (tmp_path / f"lab-{port}.log").open("w")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as resp:
                    json.load(resp)
                return base, token
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        raise AssertionError(f"JupyterLab did not start: {(tmp_path / f'lab-{port}.log').read_text()[-2000:]}")

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


# ------------------------------------------------------------------ the LFW subset through FaceNet (face tests)

@pytest.fixture(scope="module")
def paths() -> list[Path]:
    """The 100 photos of the LFW subset (10 people × 10), sorted by person then file (``lfw_faces.lfw_paths``)."""
    from lfw_faces import lfw_paths

    return list(lfw_paths())


@pytest.fixture(scope="module")
def labels():
    """``(100,)`` person index of each of :func:`paths`."""
    from lfw_faces import lfw_labels

    return lfw_labels()


@pytest.fixture(scope="module")
def model():
    """The course's FaceNet (``faces.default_model()``)."""
    from facelib.faces import default_model

    return default_model()


@pytest.fixture(scope="module")
def encodings():
    """All 100 photos through the database pipeline (MTCNN + alignment + FaceNet), course preprocessing."""
    from lfw_faces import lfw_encodings

    return lfw_encodings()


# ------------------------------------------------------------------ small files built by tests

def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    """A tar at ``path`` holding ``members`` (``{name inside the archive: bytes}``), in that order.

    Gzip-compressed when ``path`` ends in ``.gz`` (an sdist), plain otherwise.
    """
    import io
    import tarfile

    with tarfile.open(path, "w:gz" if path.name.endswith(".gz") else "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def write_code_notebook(path: Path, cells: list[str]) -> Path:
    """A Python 3 notebook at ``path`` with one code cell per source in ``cells``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def toy_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """``FaceDatabase.encode`` replaced by ``tests/hostile.py``'s ``toy_encode`` (no network, no weights); a module
    that wants it for every test sets ``pytestmark = pytest.mark.usefixtures("toy_encoder")``."""
    from hostile import toy_encode

    from facelib.faces import FaceDatabase

    monkeypatch.setattr(FaceDatabase, "encode", toy_encode)


@pytest.fixture
def club(tmp_path: Path) -> Path:
    """A saved database with Ann (one unit-length encoding; no detection: the whole photo is the face)."""
    from hostile import unit_rows

    from facelib.faces import FaceDatabase

    db = FaceDatabase(model=object(), detect=False)
    db.add_encodings("Ann", unit_rows(1))
    return db.save(tmp_path / "club.npz")
