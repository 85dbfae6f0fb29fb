"""Face database files that lie, and writers that race: FaceDatabase.load / save / locked.

Every malformed file is refused by ``FaceDatabase.load`` with the one documented error, a
``ValueError`` naming the file (never a TypeError/IndexError from deep inside, never a silent
reinterpretation such as a name string read letter by letter). The encoder is never needed here:
encodings are made with NumPy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from facelib.faces import FaceDatabase

REPO = Path(__file__).resolve().parents[1]


def unit_rows(k: int, d: int = 128, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(k, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def good_meta(**changes) -> dict:
    meta = {"format": "facelib-face-database", "version": 1, "model": "facenet-keras-128",
            "preprocessing": "course", "detect": True, "threshold": None,
            "names": ["Ann", "Bob"], "sources": [["a1.jpg", "a2.jpg"], ["b1.jpg"]]}
    meta.update(changes)
    return meta


def write_db(path: Path, meta: object = None, encodings: object = None, owner: object = None, *, raw_meta=None) -> Path:
    meta = good_meta() if meta is None else meta
    encodings = unit_rows(3) if encodings is None else encodings
    owner = np.array([0, 0, 1], np.int32) if owner is None else owner
    arrays = {"meta": np.array(raw_meta if raw_meta is not None else json.dumps(meta)),
              "encodings": np.asarray(encodings), "owner": np.asarray(owner)}
    with path.open("wb") as fh:
        np.savez(fh, **arrays)
    return path


def test_the_well_formed_file_loads(tmp_path):
    db = FaceDatabase.load(write_db(tmp_path / "ok.db"))
    assert db.names == ["Ann", "Bob"] and db.n_photos == 3


def _bytes_probes(tmp_path: Path) -> dict[str, Path]:
    ok = write_db(tmp_path / "src.db").read_bytes()
    probes = {}
    for name, data in {"empty": b"", "random bytes": os.urandom(300), "truncated": ok[: len(ok) // 2],
                       "a JPEG": b"\xff\xd8\xff\xe0" + b"\0" * 200}.items():
        p = tmp_path / f"{name.replace(' ', '_')}.db"
        p.write_bytes(data)
        probes[name] = p
    return probes


META_PROBES = {
    "meta not JSON": dict(raw_meta="{not json"),
    "meta a list": dict(raw_meta=json.dumps([1, 2])),
    "meta a number": dict(raw_meta="3"),
    "wrong format": dict(meta=good_meta(format="something-else")),
    "wrong version": dict(meta=good_meta(version=99)),
    "names missing": dict(meta={k: v for k, v in good_meta().items() if k != "names"}),
    "names a string": dict(meta=good_meta(names="AB"), owner=np.array([0, 0, 1])),
    "names with a number": dict(meta=good_meta(names=["Ann", 7])),
    "names with an empty name": dict(meta=good_meta(names=["Ann", "  "])),
    "names with a duplicate": dict(meta=good_meta(names=["Ann", "Ann"])),
    "names unstripped": dict(meta=good_meta(names=["Ann", " Bob"])),
    "sources wrong length": dict(meta=good_meta(sources=[["a1.jpg"], ["b1.jpg"]])),
    "sources not lists": dict(meta=good_meta(sources="a1.jpg")),
    "sources with a number": dict(meta=good_meta(sources=[["a1.jpg", 3], ["b1.jpg"]])),
    "sources one person missing": dict(meta=good_meta(sources=[["a1.jpg", "a2.jpg"]])),
    "threshold a string": dict(meta=good_meta(threshold="0.7")),
    "threshold NaN": dict(raw_meta=json.dumps(good_meta(threshold=float("nan")))),
    "threshold infinite": dict(raw_meta=json.dumps(good_meta(threshold=float("inf")))),
    "threshold negative": dict(meta=good_meta(threshold=-0.5)),
    "threshold zero": dict(meta=good_meta(threshold=0)),
    "threshold too large": dict(meta=good_meta(threshold=40.0)),
    "threshold a bool": dict(meta=good_meta(threshold=True)),
    "preprocessing unknown": dict(meta=good_meta(preprocessing="imagenet")),
    "detect a string": dict(meta=good_meta(detect="no")),
    "model a path": dict(meta=good_meta(model="/tmp/evil_weights.h5")),
    "model a relative path": dict(meta=good_meta(model="weights/evil.h5")),
    "model not a string": dict(meta=good_meta(model=["facenet-keras-128"])),
    "model unknown": dict(meta=good_meta(model="no-such-encoder")),
    "encodings NaN": dict(encodings=np.full((3, 128), np.nan, np.float32)),
    "encodings infinite": dict(encodings=np.where(np.eye(3, 128, dtype=bool), np.inf, 0).astype(np.float32)),
    "encodings wrong width": dict(encodings=unit_rows(3, 64)),
    "encodings complex": dict(encodings=unit_rows(3).astype(np.complex64) * 1j),
    "encodings integers": dict(encodings=np.ones((3, 128), np.int64)),
    "encodings strings": dict(encodings=np.array([["a"] * 128] * 3)),
    "encodings not unit length": dict(encodings=np.zeros((3, 128), np.float32)),
    "encodings 1-D": dict(encodings=unit_rows(1)[0]),
    "encodings 3-D": dict(encodings=unit_rows(3)[None]),
    "owner wrong length": dict(owner=np.array([0, 1])),
    "owner out of range": dict(owner=np.array([0, 0, 5])),
    "owner negative": dict(owner=np.array([0, -1, 1])),
    "owner floats": dict(owner=np.array([0.0, 0.5, 1.0])),
    "a person without encodings": dict(owner=np.array([0, 0, 0]), meta=good_meta(sources=[["a", "b", "c"], []])),
}


@pytest.mark.parametrize("probe", sorted(META_PROBES))
def test_a_malformed_database_is_refused_with_a_value_error_naming_it(tmp_path, probe):
    path = write_db(tmp_path / "lies.db", **META_PROBES[probe])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. NumPy's ComplexWarning must not be the only sign
        with pytest.raises(ValueError) as err:
            FaceDatabase.load(path)
    assert type(err.value) is ValueError and str(path) in str(err.value), f"{probe}: {err.value!r}"


def test_malformed_bytes_are_refused_with_a_value_error_naming_it(tmp_path):
    for probe, path in _bytes_probes(tmp_path).items():
        with pytest.raises(ValueError) as err:
            FaceDatabase.load(path)
        assert type(err.value) is ValueError and str(path) in str(err.value), f"{probe}: {err.value!r}"


def test_a_pickled_array_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "pickle.db"
    with path.open("wb") as fh:
        np.savez(fh, meta=np.array(json.dumps(good_meta())), encodings=np.array([object()] * 3, dtype=object),
                 owner=np.array([0, 0, 1]))
    with pytest.raises(ValueError, match="pickle.db"):
        FaceDatabase.load(path)


def test_a_directory_or_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="is a directory"):
        FaceDatabase.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="nothing.db"):
        FaceDatabase.load(tmp_path / "nothing.db")


def test_a_model_name_that_is_also_a_file_is_never_opened(tmp_path, monkeypatch):
    """The database records an asset name; a file of that name in the working folder is ignored."""
    from facelib import assets

    monkeypatch.chdir(tmp_path)
    Path("facenet-keras-128").write_bytes(b"zeroed weights")
    db = FaceDatabase.load(write_db(tmp_path / "ok.db"))
    opened = []
    from facelib.faces import database

    # the process-wide cache may hold a model loaded by an earlier test: go through the loader itself (patched
    # where FaceDatabase looks it up)
    monkeypatch.setattr(database, "default_model", database.default_model.__wrapped__)
    monkeypatch.setattr(assets, "fetch", lambda name, **k: opened.append(name) or (_ for _ in ()).throw(
        assets.AssetUnavailableError("stop here")))
    with pytest.raises(assets.AssetUnavailableError):
        db.model  # noqa: B018 - loads the encoder
    assert opened == ["facenet-keras-128"]


# ----------------------------------------------------------------------------- thresholds in the API

@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 0.0, -1.0, 4.5])
def test_threshold_must_be_finite_in_0_4(bad):
    with pytest.raises(ValueError, match="threshold"):
        FaceDatabase(model=object(), threshold=bad)
    db = FaceDatabase(model=object())
    with pytest.raises(ValueError, match="threshold"):
        db.effective_threshold(bad)


# ----------------------------------------------------------------------------- duplicates

def test_the_same_photo_twice_or_one_face_under_two_names_warns():
    db = FaceDatabase(model=object())
    e = unit_rows(2)
    db.add_encodings("Ann", e[:1], sources=["ann.jpg"])
    with pytest.warns(UserWarning, match=r"'ann.jpg'.*already enrolled for 'Ann'"):
        db.add_encodings("Ann", e[1:], sources=["ann.jpg"])
    with pytest.warns(UserWarning, match=r"same face.*'Ann'"):
        db.add_encodings("Bob", e[:1] + 1e-5, sources=["bob.jpg"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        db.add_encodings("Cy", unit_rows(1, seed=3), sources=["cy.jpg"])


# ----------------------------------------------------------------------------- files written

def test_saved_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = FaceDatabase(model=object()).save(tmp_path / "db.npz")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


# ----------------------------------------------------------------------------- concurrent writers

_ENROL = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    import numpy as np
    from facelib import cli
    from facelib.faces import FaceDatabase

    def slow_encode(self, images, *, progress=None):
        if len(sys.argv) > 5 and sys.argv[5] != "hang":  # a folder where every writer checks in:
            mine = Path(sys.argv[5]) / sys.argv[2]      # wait until all have read the file (the race)
            mine.touch()
            deadline = time.monotonic() + 60
            while len(list(mine.parent.iterdir())) < int(sys.argv[6]) and time.monotonic() < deadline:
                time.sleep(0.02)
        time.sleep(float(sys.argv[4]))          # the 20 s of FaceNet, shortened
        seed = sum(map(ord, sys.argv[2]))
        x = np.random.default_rng(seed).normal(size=(len(images), 128))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    FaceDatabase.encode = slow_encode
    if sys.argv[5:6] == ["hang"]:              # hang while writing, holding the lock, to be killed
        real = np.savez
        def hang(*a, **k):
            real(*a, **k)
            print("WRITING", flush=True)
            time.sleep(600)
        np.savez = hang
    sys.exit(cli.main(["enroll", sys.argv[1], sys.argv[2], sys.argv[3]]))
''')


def _enrol(db: Path, name: str, photo: Path, delay: float, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", _ENROL, str(db), name, str(photo), str(delay), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture
def a_photo(tmp_path) -> Path:
    from PIL import Image

    p = tmp_path / "face.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(p)
    return p


def _leftovers(folder: Path, db: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{db.name}") or p.name.endswith(".lock"))


def test_two_simultaneous_enrols_keep_both_people(tmp_path, a_photo, monkeypatch):
    """Two `facelib enroll` in threads (flock locks conflict between separate opens, as between processes)."""
    import threading

    from facelib import cli

    db = tmp_path / "house.db"
    FaceDatabase(model=object()).save(db)
    both_loaded = threading.Barrier(2)

    def slow_encode(self, images, *, progress=None):
        both_loaded.wait(timeout=60)  # each has read the file before the other writes: the race of issue 14
        time.sleep(0.5)
        return unit_rows(len(images), seed=threading.get_ident() % 1000)

    monkeypatch.setattr(FaceDatabase, "encode", slow_encode)
    codes: dict[str, int] = {}
    photos = {"Ann": a_photo, "Bob": tmp_path / "bob.png"}
    photos["Bob"].write_bytes(a_photo.read_bytes())
    runs = [threading.Thread(target=lambda n=n: codes.__setitem__(n, cli.main(["enroll", str(db), n, str(photos[n])])))
            for n in ("Ann", "Bob")]
    for t in runs:
        t.start()
    for t in runs:
        t.join(timeout=120)
    assert codes == {"Ann": 0, "Bob": 0}
    assert sorted(FaceDatabase.load(db).names) == ["Ann", "Bob"]
    assert _leftovers(tmp_path, db) == []


def test_two_simultaneous_enrols_into_a_new_database_keep_both_people(tmp_path, a_photo):
    db = tmp_path / "new.db"
    sync = tmp_path / "sync"
    sync.mkdir()
    runs = [_enrol(db, name, a_photo, 0.5, str(sync), "2") for name in ("Ann", "Bob")]  # both encode, then write
    for r in runs:
        out, err = r.communicate(timeout=300)
        assert r.returncode == 0, err
    assert sorted(FaceDatabase.load(db).names) == ["Ann", "Bob"]


def test_a_killed_enrol_leaves_no_lock_and_no_tmp_behind(tmp_path, a_photo):
    db = tmp_path / "house.db"
    first = FaceDatabase(model=object())
    first.add_encodings("Ann", unit_rows(1))
    first.save(db)
    victim = _enrol(db, "Bob", a_photo, 0.0, "hang")
    assert victim.stdout.readline().strip() == "WRITING"  # it holds the lock, a .tmp half-renamed
    victim.kill()
    victim.wait(timeout=60)
    assert FaceDatabase.load(db).names == ["Ann"]  # the old file is intact
    t0 = time.monotonic()
    again = _enrol(db, "Cy", a_photo, 0.0)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert FaceDatabase.load(db).names == ["Ann", "Cy"]
    assert _leftovers(tmp_path, db) == []
    assert time.monotonic() - t0 < 120  # it did not wait for a lock timeout


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    db = tmp_path / "house.db"
    good = FaceDatabase(model=object())
    good.add_encodings("Ann", unit_rows(1))
    good.save(db)
    monkeypatch.setattr(np, "savez", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    good.add_encodings("Bob", unit_rows(1, seed=1))
    with pytest.raises(OSError):
        good.save(db)
    assert FaceDatabase.load(db).names == ["Ann"] and _leftovers(tmp_path, db) == []
    assert zipfile.is_zipfile(db)


# ----------------------------------------------------------------------------- several faces in a query photo

def test_several_faces_use_the_main_one_and_say_so(monkeypatch):
    """Two detected faces: the main one (larger, central) answers; a warning says one was ignored."""
    from facelib.faces import (  # patched where FaceDatabase looks the names up
        Face,
        FaceDatabaseWarning,
        database,
        detect,
    )

    big = Face((30, 30, 40, 40), np.zeros((5, 2)), 0.99)
    small = Face((0, 0, 10, 10), np.ones((5, 2)), 0.95)
    monkeypatch.setattr(detect, "detect_faces", lambda rgb, **k: [small, big])
    monkeypatch.setattr(detect, "align",
                        lambda rgb, face, **k: np.full((160, 160, 3), 1 if face is big else 2, np.uint8))
    ann, bob = unit_rows(2)
    monkeypatch.setattr(database, "encode_faces",
                        lambda faces, model, **k: np.stack([ann if f[0, 0, 0] == 1 else bob for f in faces]))
    db = FaceDatabase(model=object())
    db.add_encodings("Ann", ann[None])
    db.add_encodings("Bob", bob[None])
    photo = np.zeros((100, 100, 3), np.uint8)
    with pytest.warns(FaceDatabaseWarning, match=r"2 faces found.*1 other ignored"):
        assert db.identify(photo) == (0.0, "Ann")
    with pytest.warns(FaceDatabaseWarning, match="2 faces found"):
        assert db.verify(photo, "Ann") == (0.0, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        every = db.identify_all(photo)
    assert [(f, name) for f, _, name in every] == [(big, "Ann"), (small, "Bob")]
