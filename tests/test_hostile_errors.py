"""Hostile inputs, parts 6 and 7 (issue 28): Ctrl-C is one line, and every error blames the right file.

A full disk, ``ulimit -f``, a deeply nested database header, a bad ``FACELIB_REGISTRY``, ``FACELIB_HOME``
that is a file or read-only, an unreadable photo, a symlink loop, a FIFO, ``-``, bytes / tensors / booleans
as images, and three simultaneous ``facelib fetch`` of one asset.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hostile import REPO, cli_code, one_line, photo, unit_rows

from facelib import cli, config
from facelib.data import read_image, to_rgb_uint8
from facelib.faces import FaceDatabase

pytestmark = pytest.mark.usefixtures("toy_encoder")  # FaceDatabase encodes with toy_encode (conftest.py)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


# ----------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_is_one_line_exit_130_and_leaves_no_half_written_file(tmp_path):
    target = tmp_path / "out.bin"
    # the default Ctrl-C handler, as in a terminal (a job started in the background inherits SIGINT ignored)
    code = f"""
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
import facelib.cli as cli
from facelib.data import atomic_write
def slow(tmp):
    tmp.write_bytes(b"half")
    print("READY", flush=True)
    for _ in range(600):  # short sleeps: the signal may reach another thread, and Python handles it between them
        time.sleep(0.1)
cli._cmd_doctor = lambda args: atomic_write({str(target)!r}, slow) and 0
sys.exit(cli.main(["doctor"]))
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())
    assert proc.stdout.readline().strip() == "READY"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    one_line(err, "interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- full disk, ulimit -f
def test_a_full_disk_on_enrol_names_the_database(tmp_path, club, monkeypatch, capsys):
    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    assert cli.main(["enroll", str(club), "Bob", str(photo(tmp_path / "bob.png", (20, 20, 200)))]) == 2
    one_line(capsys.readouterr().err, str(club), "no space left on device")
    assert FaceDatabase.load(club).names == ["Ann"]


def test_ulimit_f_names_the_file_being_written(tmp_path):
    import resource

    db = tmp_path / "big.npz"

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    code = f"""
from facelib.faces import FaceDatabase
import numpy as np
x = np.random.default_rng(0).normal(size=(200, 128)); x /= np.linalg.norm(x, axis=1, keepdims=True)
db = FaceDatabase(model=object()); db.add_encodings("Ann", x)
try:
    db.save({str(db)!r})
except OSError as exc:
    print("ERROR", exc)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), preexec_fn=cap,
                         timeout=240)
    assert "ERROR" in out.stdout and str(db) in out.stdout and "too large" in out.stdout.lower(), out
    assert not db.exists() and list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- corrupt and deep files
def _with_meta(path: Path, meta_text: str) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for member, arr in (("meta", np.array(meta_text)), ("encodings", unit_rows(1)),
                            ("owner", np.zeros(1, np.int32))):
            with zf.open(f"{member}.npy", "w") as fh:
                np.lib.format.write_array(fh, arr)
    return path


def test_a_100000_deep_json_header_is_a_value_error_naming_the_file(tmp_path, capsys):
    deep = _with_meta(tmp_path / "deep.npz", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="deep.npz.*nested too deeply"):
        FaceDatabase.load(deep)
    assert cli.main(["identify", str(deep), str(photo(tmp_path / "p.png"))]) == 2
    one_line(capsys.readouterr().err, str(deep), "nested too deeply")


def test_random_bytes_are_not_a_database(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(ValueError, match="junk.npz"):
        FaceDatabase.load(junk)


# ----------------------------------------------------------------------------- registry and FACELIB_HOME
@pytest.mark.parametrize("content", ["this is [not toml", "asset = 5", "[[asset]]\nname = 3\n", b"\xff\xfe\x00"])
def test_a_bad_registry_names_the_registry_file(tmp_path, monkeypatch, capsys, content):
    reg = tmp_path / "registry.toml"
    reg.write_bytes(content if isinstance(content, bytes) else content.encode())
    monkeypatch.setenv("FACELIB_REGISTRY", str(reg))
    assert cli.main(["fetch", "lfw-subset"]) == 2
    line = one_line(capsys.readouterr().err, str(reg), "FACELIB_REGISTRY")
    assert "FACELIB_MIRROR" not in line


def test_facelib_home_that_is_a_file_is_named(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.write_text("not a folder")
    monkeypatch.setenv("FACELIB_HOME", str(home))
    config.reload()
    try:
        assert cli.main(["fetch", "lfw-subset"]) == 2
    finally:
        monkeypatch.undo()
        config.reload()
    line = one_line(capsys.readouterr().err, "FACELIB_HOME", str(home), "is a file")
    assert "FACELIB_MIRROR" not in line and "internet" not in line


def test_a_read_only_facelib_home_is_named(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o555)
    monkeypatch.setenv("FACELIB_HOME", str(home))
    config.reload()
    if os.geteuid() == 0:  # root writes anywhere: make the access check say what it would say for a user
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m, **k: False if Path(p) == home else real(p, m, **k))
    try:
        assert cli.main(["fetch", "lfw-subset"]) == 2
    finally:
        monkeypatch.undo()
        config.reload()
        home.chmod(0o755)
    line = one_line(capsys.readouterr().err, "FACELIB_HOME", "read-only")
    assert "FACELIB_MIRROR" not in line


# ----------------------------------------------------------------------------- photos that are not photos
def test_an_unreadable_photo_is_permission_denied_not_corrupt(tmp_path, club, monkeypatch, capsys):
    p = photo(tmp_path / "secret.png")
    p.chmod(0)
    if os.geteuid() == 0:  # root reads anything: the file system's answer to a user is simulated
        real = os.access
        monkeypatch.setattr(os, "access", lambda q, m, **k: False if Path(q) == p else real(q, m, **k))
    with pytest.raises(PermissionError, match="secret.png.*permission denied"):
        read_image(p)
    assert cli.main(["identify", str(club), str(p)]) == 2
    line = one_line(capsys.readouterr().err, str(p), "permission denied")
    assert "corrupt" not in line


def test_permission_denied_while_decoding_is_not_called_corrupt(tmp_path, monkeypatch):
    from PIL import Image as PILImage

    p = photo(tmp_path / "p.png")

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied", str(p))

    monkeypatch.setattr(PILImage, "open", denied)
    with pytest.raises(PermissionError, match="permission denied"):
        read_image(p)


@pytest.mark.parametrize("kind", ["symlink loop", "FIFO", "-", "broken link"])
def test_a_path_that_is_not_a_photo_file_says_what_it_is(tmp_path, club, capsys, kind):
    p = tmp_path / "x.png"
    if kind == "symlink loop":
        os.symlink(tmp_path / "y.png", p)
        os.symlink(p, tmp_path / "y.png")
    elif kind == "FIFO":
        os.mkfifo(p)
    elif kind == "broken link":
        os.symlink(tmp_path / "gone.png", p)
    else:
        p = Path("-")
    expected = {"symlink loop": "loop of symbolic links", "FIFO": "FIFO", "-": "standard input",
                "broken link": "broken symbolic link"}[kind]
    t0 = time.monotonic()
    assert cli.main(["identify", str(club), str(p)]) == 2
    one_line(capsys.readouterr().err, expected)
    assert time.monotonic() - t0 < 30  # a FIFO is never opened (it would block)


def test_a_fifo_as_the_database_says_so(tmp_path, capsys):
    fifo = tmp_path / "db.npz"
    os.mkfifo(fifo)
    assert cli.main(["identify", str(fifo), str(photo(tmp_path / "p.png"))]) == 2
    one_line(capsys.readouterr().err, str(fifo), "FIFO")


def test_bytes_a_bool_image_and_none_are_type_errors():
    data = (Path(photo(Path("/tmp") / f"i28-{os.getpid()}.png"))).read_bytes()
    with pytest.raises(TypeError, match="bytes.*BytesIO"):
        to_rgb_uint8(data)
    with pytest.raises(TypeError, match="boolean"):
        to_rgb_uint8(np.ones((8, 8), bool))
    with pytest.raises(TypeError, match="None"):
        to_rgb_uint8(None)
    with pytest.raises(TypeError, match="bytes"):
        FaceDatabase(model=object()).add("Ann", data)


def test_a_tensorflow_tensor_is_one_photo():
    import tensorflow as tf

    arr = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    np.testing.assert_array_equal(to_rgb_uint8(tf.constant(arr)), to_rgb_uint8(arr))
    db = FaceDatabase(model=object(), detect=False)
    assert db.add("Ann", tf.constant(arr)) == 1  # one photo, not 8 rows taken as 8 photos


# ----------------------------------------------------------------------------- simultaneous fetches
def test_three_simultaneous_fetches_of_one_asset_all_succeed(tmp_path, mirror):
    for round_ in range(3):
        home = tmp_path / f"home{round_}"
        runs = [subprocess.Popen([sys.executable, "-c", cli_code("fetch", "lfw-subset")], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 env=_env(FACELIB_HOME=str(home), FACELIB_MIRROR=str(mirror), FACELIB_OFFLINE="1"))
                for _ in range(3)]
        for r in runs:
            out, err = r.communicate(timeout=240)
            assert r.returncode == 0, err
            assert "not empty" not in err
        assert len(list((home / "scikit_learn_data" / "lfw_home" / "lfw").glob("*/*.jpg"))) == 100
