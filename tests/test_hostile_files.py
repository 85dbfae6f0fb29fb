"""Hostile inputs, part 2 (issue 28): inputs and the user's files are never overwritten or deleted.

``stylize -o`` naming one of its inputs (by any name), encodings that would save but not load, the
stale-temporary sweep beside a database, a database that is a symbolic link, and ``fsync`` in
``atomic_write``. The face encoder is a stand-in (:func:`hostile.toy_encode`): no weights are needed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hostile import one_line, photo, unit_rows

from facelib import cli
from facelib.data import atomic_write
from facelib.faces import FaceDatabase

pytestmark = pytest.mark.usefixtures("toy_encoder")  # FaceDatabase encodes with toy_encode (conftest.py)


# ----------------------------------------------------------------------------- stylize -o an input
@pytest.mark.parametrize("which", ["content", "style", "./content", "symlink to content", "hard link to style",
                                   "mask"])
def test_stylize_refuses_an_output_that_is_one_of_its_inputs(tmp_path, monkeypatch, capsys, which):
    monkeypatch.chdir(tmp_path)
    content, painting, mask = photo(tmp_path / "photo.png"), photo(tmp_path / "painting.png", (10, 90, 200)), \
        photo(tmp_path / "mask.png", (255, 255, 255))
    os.symlink(content, tmp_path / "link.png")
    os.link(painting, tmp_path / "hard.png")
    out = {"content": "photo.png", "style": str(painting), "./content": "./photo.png",
           "symlink to content": "link.png", "hard link to style": "hard.png", "mask": "mask.png"}[which]
    before = {p: p.read_bytes() for p in (content, painting, mask)}
    code = cli.main(["stylize", "photo.png", str(painting), "--mask", "mask.png", "-o", out, "--steps", "1",
                     "--size", "16"])
    assert code == 2
    one_line(capsys.readouterr().err, "would be overwritten")
    assert {p: p.read_bytes() for p in before} == before


# ----------------------------------------------------------------------------- what is saved loads
@pytest.mark.parametrize("rows", ["zero", "half length", "64 wide", "complex"])
def test_add_encodings_refuses_rows_that_load_would_refuse(tmp_path, rows):
    db = FaceDatabase(model=object())
    bad = {"zero": np.zeros((1, 128)), "half length": unit_rows(2) * 0.5, "64 wide": unit_rows(1, 64),
           "complex": unit_rows(1).astype(np.complex64)}[rows]
    with pytest.raises(ValueError, match="unit length|dimensions|real numbers"):
        db.add_encodings("Ann", bad)
    db.add_encodings("Bob", unit_rows(1))
    db.save(tmp_path / "db.npz")
    assert FaceDatabase.load(tmp_path / "db.npz").names == ["Bob"]  # the file stays readable


def test_a_256_wide_database_refuses_128_wide_rows(tmp_path):
    db = FaceDatabase(model=object(), encoder=type("E", (), {"name": "facenet+dlib", "threshold": 0.7})())
    with pytest.raises(ValueError, match="dimensions"):
        db.add_encodings("Ann", unit_rows(1, 128))
    db.add_encodings("Ann", unit_rows(1, 256))
    assert FaceDatabase.load(db.save(tmp_path / "wide.npz")).encodings("Ann").shape == (1, 256)


# ----------------------------------------------------------------------------- the stale-temporary sweep
def test_enrol_keeps_the_users_own_files_beside_the_database(tmp_path, club):
    mine = [tmp_path / ".club.npz-notes.tmp", tmp_path / ".club.npz-x.tmp", tmp_path / ".club.npz.facelib-x.tmp"]
    for p in mine:
        p.write_text("my notes")
    folder = tmp_path / ".club.npz-folder.tmp"
    folder.mkdir()
    assert cli.main(["enroll", str(club), "Bob", str(photo(tmp_path / "bob.png", (20, 20, 200)))]) == 0
    assert all(p.read_text() == "my notes" for p in mine) and folder.is_dir()


def test_the_sweep_removes_a_dead_writers_temporary_file_but_not_a_live_ones(tmp_path, club):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_tmp = tmp_path / f".club.npz.facelib-{int(dead.stdout)}-abcd1234.tmp"
    live_tmp = tmp_path / f".club.npz.facelib-{os.getppid()}-abcd1234.tmp"
    for p in (dead_tmp, live_tmp):
        p.write_bytes(b"half a database")
    assert cli.main(["enroll", str(club), "Bob", str(photo(tmp_path / "bob.png", (20, 20, 200)))]) == 0
    assert not dead_tmp.exists() and live_tmp.exists()


def test_atomic_writes_temporary_name_is_one_the_sweep_recognises(tmp_path):
    from facelib.data.images import temp_owner

    seen = []
    atomic_write(tmp_path / "f.bin", lambda tmp: seen.append(tmp) or tmp.write_bytes(b"x"))
    assert temp_owner(seen[0], tmp_path / "f.bin") == os.getpid()
    assert temp_owner(tmp_path / ".f.bin-notes.tmp", tmp_path / "f.bin") is None


# ----------------------------------------------------------------------------- a symlinked database
def test_a_symlinked_database_is_written_through_to_its_target(tmp_path, club):
    real = club
    link = tmp_path / "link.npz"
    link.symlink_to(real.name)
    assert cli.main(["enroll", str(link), "Bob", str(photo(tmp_path / "bob.png", (20, 20, 200)))]) == 0
    assert link.is_symlink() and FaceDatabase.load(real).names == ["Ann", "Bob"]
    db = FaceDatabase.load(link)
    db.add_encodings("Cy", unit_rows(1, seed=3))
    db.save(link)
    assert link.is_symlink() and FaceDatabase.load(real).names == ["Ann", "Bob", "Cy"]


def test_atomic_write_through_a_symlink_keeps_the_link(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("old")
    (tmp_path / "link.txt").symlink_to(target)
    atomic_write(tmp_path / "link.txt", lambda tmp: tmp.write_text("new"))
    assert (tmp_path / "link.txt").is_symlink() and target.read_text() == "new"


# ----------------------------------------------------------------------------- fsync
def test_atomic_write_fsyncs_the_file_and_its_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    out = atomic_write(tmp_path / "f.bin", lambda tmp: tmp.write_bytes(b"data"))
    assert out.read_bytes() == b"data"
    assert any(".f.bin.facelib-" in s for s in synced), synced  # the file, before the rename
    assert str(tmp_path) in synced, synced  # the folder, after it
