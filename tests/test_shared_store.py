"""A class server's shared, read-only asset store (``FACELIB_ASSETS``) beside each user's writable cache
(``FACELIB_HOME``): assets are read in place (no bytes copied into the user's folder), nothing is ever
written into the store, a cache that cannot be written is "no cache" with one warning.

Two guards prove "nothing written into the store": an audit hook that records every write-open, folder
creation, rename, removal, link or chmod under the store (works as any user; root ignores chmod), and,
when the tests run as root, a run as the unprivileged user 65534 (``setpriv``) on a store it cannot write.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, write_tar

from facelib import assets, config, registry
from facelib.cli import main
from facelib.data import extract_once, load_lfw_subset, load_olivetti
from facelib.faces.encoder_cache import EncodingStore

SMALL = ["olivetti-faces", "lfw-subset", "style-udnie"]

_WATCHED: list[Path] = []   # the store under guard (the hook is process-wide and cannot be removed)
_WRITES: list[str] = []
_WRITE_EVENTS = {"os.mkdir", "os.rename", "os.replace", "os.remove", "os.rmdir", "os.symlink", "os.link",
                 "os.chmod", "os.truncate", "os.utime", "shutil.rmtree", "shutil.copyfile"}


def _hook(event: str, args: tuple) -> None:
    if not _WATCHED:
        return
    if event == "open":
        path, mode = args[0], args[1]
        writing = isinstance(mode, str) and any(c in mode for c in "wax+")
        writing = writing or (isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        paths = [path] if writing else []
    elif event in ("os.symlink", "os.link"):
        paths = [args[1]]  # (target, new link): only the link is written
    elif event == "os.mkdir":
        paths = [] if os.path.isdir(args[0]) else [args[0]]  # makedirs(exist_ok=True) of a folder that is there
    elif event in _WRITE_EVENTS:
        paths = [a for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
    else:
        return
    for p in paths:
        if isinstance(p, (str, os.PathLike)) and os.path.abspath(p).startswith(str(_WATCHED[0]) + os.sep):
            _WRITES.append(f"{event} {p}")


sys.addaudithook(_hook)


@pytest.fixture(scope="module")
def public_tmp() -> Path:
    """A temporary folder other users can enter (pytest's own are private to their owner)."""
    folder = Path(tempfile.mkdtemp(prefix="facelib-test-store-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def store(public_tmp: Path) -> Path:
    """A store made by the admin's command, ``facelib fetch NAMES --to DIR`` (from the offline mirror)."""
    folder = public_tmp / "facelib-assets"
    saved = {k: os.environ.get(k) for k in ("FACELIB_HOME", "FACELIB_ASSETS")}
    try:
        assert main(["fetch", *SMALL, "--to", str(folder)]) == 0
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        config.reload()
    return folder


@pytest.fixture
def student(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One student's settings: the shared store and an empty home of their own; the audit hook on."""
    home = tmp_path / "student-home"
    monkeypatch.setenv("FACELIB_ASSETS", str(store))
    monkeypatch.setenv("FACELIB_HOME", str(home))
    config.reload()
    _WATCHED[:] = [store.resolve()]
    _WRITES.clear()
    yield home
    _WATCHED.clear()
    monkeypatch.undo()
    config.reload()


def _digests(folder: Path) -> set[str]:
    """sha256 of every regular file (links not followed) under ``folder``."""
    out = set()
    for p in folder.rglob("*"):
        if p.is_file() and not p.is_symlink():
            out.add(hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def test_settings_read_the_store_and_the_thread_budget(tmp_path: Path) -> None:
    s = config.Settings.from_env({"FACELIB_ASSETS": str(tmp_path), "FACELIB_HOME": str(tmp_path / "h")})
    assert s.store == tmp_path.resolve() and s.home == tmp_path / "h"
    assert config.Settings.from_env({}).store is None
    assert config.Settings.from_env({"FACELIB_THREADS": "2", "OMP_NUM_THREADS": "8"}).threads == 2
    assert config.Settings.from_env({"OMP_NUM_THREADS": "3,1"}).threads == 3      # OpenMP's nested list
    assert config.Settings.from_env({"OMP_NUM_THREADS": "lots"}).threads is None  # OpenMP ignores it too
    assert config.Settings.from_env({"FACELIB_THREADS": "0"}).threads is None     # 0: every core
    with pytest.raises(ValueError, match="FACELIB_THREADS='two'"):
        config.Settings.from_env({"FACELIB_THREADS": "two"})


def test_the_admins_store_is_complete_and_world_readable(store: Path) -> None:
    for name in SMALL:
        path = store / registry.get_asset(name).path
        assert path.exists(), name
        assert path.stat().st_mode & 0o444 == 0o444
    assert store.stat().st_mode & 0o555 == 0o555


def test_assets_and_data_are_read_in_place_and_nothing_is_written_there(store: Path, student: Path) -> None:
    path = assets.fetch("style-udnie")
    assert path == store / "styles" / "udnie.jpg"
    assert assets.store_path("olivetti-faces") == store / "scikit_learn_data" / "olivetti_py3.pkz"
    assert assets.asset_status("lfw-subset") == "verified"
    olivetti, lfw = load_olivetti(), load_lfw_subset()
    assert olivetti.images.shape == (400, 64, 64, 1) and lfw.images.shape[0] == 100
    assert _WRITES == [], f"written into the read-only store: {_WRITES[:3]}"
    copied = _digests(student) & _digests(store)
    assert not copied, f"{len(copied)} asset files copied into the student's home"


def test_an_asset_missing_from_the_store_goes_to_the_users_cache(store: Path, student: Path) -> None:
    path = assets.fetch("style-shipwreck")   # not in the store: fetched from the mirror as before
    assert path == student / "styles" / "shipwreck.jpg" and path.is_file()
    assert assets.store_path("style-shipwreck") is None
    assert _WRITES == []


def test_an_archive_not_extracted_in_the_store_is_extracted_into_the_users_home(
        store: Path, student: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _WATCHED.clear()  # the admin's side: an archive in the store, not extracted there
    archive = write_tar(store / "extra.tar", {"top/a.txt": b"alpha"})
    _WATCHED[:] = [store.resolve()]
    try:
        folder = extract_once(archive, store, "top")
        assert folder == student / "top" and (folder / "a.txt").read_bytes() == b"alpha"
        assert _WRITES == []
        _WATCHED.clear()
        monkeypatch.delenv("FACELIB_ASSETS")  # the admin's own extraction (fetch --to does it)
        config.reload()
        assert extract_once(archive, store, "top", require=("a.txt",)) == store / "top"
        monkeypatch.setenv("FACELIB_ASSETS", str(store))
        config.reload()
        _WATCHED[:] = [store.resolve()]
        assert extract_once(archive, store, "top") == store / "top"  # now read in place
        assert _WRITES == []
    finally:
        _WATCHED.clear()
        archive.unlink()
        shutil.rmtree(store / "top", ignore_errors=True)


def test_an_unwritable_cache_is_no_cache_with_one_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FACELIB_HOME", str(blocker / "home"))  # cannot be created, even by root
    config.reload()
    try:
        store = EncodingStore.of("test-net")
        keys, plain = ["k1", "k2"], np.eye(2, 4, dtype=np.float32)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            store.update(keys, plain, plain)
            store.update(["k3"], plain[:1], plain[:1])
        assert [str(w.message).split(";")[0] for w in caught] == [
            f"facelib: the cache folder {blocker / 'home' / 'cache'} cannot be written (Not a directory)"]
        assert store.get(["k1", "k3"])[0].shape == (2, 4)   # the results are still there, in memory
        assert not EncodingStore.of("test-net").rows        # and nothing was kept
    finally:
        monkeypatch.undo()
        config.reload()


def test_doctor_shows_the_store_and_the_cache(store: Path, student: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"shared store (FACELIB_ASSETS): {store}" in out
    assert f"cache (FACELIB_HOME): {student}" in out
    assert any(line.split()[:1] == ["olivetti-faces"] and "(shared store)" in line for line in out.splitlines())
    assert any(line.split()[:1] == ["style-shipwreck"] and "shared store" not in line for line in out.splitlines())


def _unprivileged_python(tmp_path: Path) -> list[str] | None:
    """A Python the user 65534 can run with this checkout's packages, or ``None``."""
    probe = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if subprocess.run([*probe, sys.executable, "-c", "import numpy"], capture_output=True).returncode == 0:
        return [*probe, sys.executable]
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not system.is_file():
        return None
    # a private interpreter (e.g. under /root) that others cannot run: the system's Python of the same
    # version, with this venv's packages through a .pth (what the hub test does as well)
    venv = tmp_path / "venv"
    subprocess.run([str(system), "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "_project.pth").write_text(f"import site; site.addsitedir({sysconfig_purelib()!r})\n")
    return [*probe, str(venv / "bin" / "python")]


def sysconfig_purelib() -> str:
    import sysconfig

    return sysconfig.get_paths()["purelib"]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="runs as an unprivileged user through setpriv: needs root (CI runs as root)")
def test_as_an_unprivileged_user_on_a_store_it_cannot_write(store: Path, public_tmp: Path) -> None:
    python = _unprivileged_python(public_tmp)
    if python is None:
        pytest.skip("no Python the user 65534 can run (this one is private; no system python of its version)")
    home = public_tmp / "student"
    home.mkdir()
    os.chown(home, 65534, 65534)
    code = textwrap.dedent("""
        import os, sys
        from facelib import assets, data
        assert not os.access(sys.argv[1], os.W_OK)
        print(data.load_olivetti().images.shape, data.load_lfw_subset().images.shape[0])
        print(assets.fetch("style-udnie"))
    """)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2",
           "FACELIB_ASSETS": str(store), "FACELIB_HOME": str(home / "facelib"), "FACELIB_OFFLINE": "1"}
    done = subprocess.run([*python, "-c", code, str(store)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["(400, 64, 64, 1) 100", str(store / "styles" / "udnie.jpg")]
    assert not _digests(home) & _digests(store)
