"""The face commands' promises under bad input: exit 2 + one clear line for every error, 1 only for "rejected".

A toy encoder stands in for FaceNet (``FaceDatabase.encode`` patched: the mean colour of the photo,
so a red photo is "Ann" and a blue one "Bob"), so these tests need neither TensorFlow nor weights;
what they check is the CLI and the database around the encoder. Each test is one probe of the
hostile-user list of issue 14.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hostile import one_line
from PIL import Image

from facelib import cli
from facelib.faces import FaceDatabase

RED, BLUE, GREEN = (200, 40, 40), (40, 40, 200), (40, 200, 40)


pytestmark = pytest.mark.usefixtures("toy_encoder")  # FaceDatabase encodes with toy_encode (conftest.py)


def photo(folder: Path, name: str, colour, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    arr = np.clip(np.array(colour)[None, None] + rng.integers(-8, 9, (48, 48, 3)), 0, 255).astype(np.uint8)
    path = folder / name
    Image.fromarray(arr).save(path)
    return str(path)


@pytest.fixture
def house(tmp_path):
    """A database with Ann (2 red photos) and Bob (1 blue photo), made through the CLI."""
    db = tmp_path / "house.db"
    FaceDatabase(model=object(), detect=False).save(db)  # whole photos are faces: no MTCNN in these tests
    assert cli.main(["enroll", str(db), "Ann", photo(tmp_path, "ann1.png", RED, 1),
                     photo(tmp_path, "ann2.png", RED, 2)]) == 0
    assert cli.main(["enroll", str(db), "Bob", photo(tmp_path, "bob1.png", BLUE, 3)]) == 0
    return db


def strict_json(text: str):
    def no_constants(name: str):
        raise AssertionError(f"invalid JSON constant {name}")
    return json.loads(text, parse_constant=no_constants)


# ----------------------------------------------------------------------------- messages and counts

def test_enroll_counts_people_and_photos_in_english(tmp_path, capsys):
    db = tmp_path / "h.db"
    assert cli.main(["enroll", str(db), "Ann", photo(tmp_path, "a.png", RED)]) == 0
    assert "enrolled 1 photo of 'Ann'; " in capsys.readouterr().out
    out = capsys.readouterr().out
    assert cli.main(["enroll", str(db), "Bob", photo(tmp_path, "b1.png", BLUE, 1),
                     photo(tmp_path, "b2.png", BLUE, 2)]) == 0
    out = capsys.readouterr().out
    assert "enrolled 2 photos of 'Bob'" in out and "now holds 2 people" in out
    db2 = tmp_path / "one.db"
    cli.main(["enroll", str(db2), "Ann", photo(tmp_path, "a.png", RED)])
    assert "now holds 1 person" in capsys.readouterr().out


def test_names_are_stripped_on_enrol_and_on_query(tmp_path, house, capsys):
    assert cli.main(["enroll", str(house), "  Cy  ", photo(tmp_path, "cy.png", GREEN)]) == 0
    assert "'Cy'" in capsys.readouterr().out
    assert FaceDatabase.load(house).names == ["Ann", "Bob", "Cy"]
    assert cli.main(["verify", str(house), " Cy ", photo(tmp_path, "cy2.png", GREEN, 9)]) == 0
    assert "It's Cy, welcome in" in capsys.readouterr().out


def test_a_name_starting_with_a_dash_goes_after_double_dash(tmp_path, capsys):
    db = tmp_path / "d.db"
    assert cli.main(["enroll", str(db), "--", "-Dee", photo(tmp_path, "d.png", GREEN)]) == 0
    assert FaceDatabase.load(db).names == ["-Dee"]
    with pytest.raises(SystemExit):
        cli.main(["enroll", "--help"])
    assert "facelib enroll DB -- -Dee" in capsys.readouterr().out.replace("\n", " ")


# ----------------------------------------------------------------------------- exit codes

def test_unexpected_error_in_verify_exits_2_not_rejected(house, tmp_path, monkeypatch, capsys):
    def boom(self, images, *, progress=None):
        raise RuntimeError("the encoder broke")
    monkeypatch.setattr(FaceDatabase, "encode", boom)
    img = photo(tmp_path, "q.png", RED)
    assert cli.main(["verify", str(house), "Ann", img]) == 2
    one_line(capsys.readouterr().err, "facelib verify: error:", "RuntimeError", "the encoder broke")
    assert cli.main(["verify", "--debug", str(house), "Ann", img]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "the encoder broke" in err


@pytest.mark.parametrize("error", [MemoryError("Unable to allocate 30.0 GiB for an array"),
                                   type("ResourceExhaustedError", (Exception,), {})("OOM when allocating tensor")])
def test_out_of_memory_exits_2_with_one_line(house, tmp_path, monkeypatch, capsys, error):
    def oom(self, images, *, progress=None):
        raise error
    monkeypatch.setattr(FaceDatabase, "encode", oom)
    assert cli.main(["identify", str(house), photo(tmp_path, "q.png", RED)]) == 2
    one_line(capsys.readouterr().err, "out of memory", "q.png")


def test_a_directory_as_image_says_so(house, tmp_path, capsys):
    folder = tmp_path / "holiday"
    folder.mkdir()
    assert cli.main(["verify", str(house), "Ann", str(folder)]) == 2
    one_line(capsys.readouterr().err, f"'{folder}'", "is a directory")


def test_a_directory_as_database_says_so(tmp_path, capsys):
    folder = tmp_path / "dbdir"
    folder.mkdir()
    img = photo(tmp_path, "a.png", RED)
    for argv in (["enroll", str(folder), "Ann", img], ["identify", str(folder), img]):
        assert cli.main(argv) == 2
        one_line(capsys.readouterr().err, f"'{folder}'", "is a directory")


def _png_header_only(path: Path, width: int, height: int) -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))
                     + chunk(b"IEND", b""))
    return str(path)


def test_decompression_bomb_exits_2_naming_the_file(house, tmp_path, capsys):
    bomb = _png_header_only(tmp_path / "bomb.png", 20000, 20000)
    assert cli.main(["verify", str(house), "Ann", bomb]) == 2
    one_line(capsys.readouterr().err, "bomb.png", "20000x20000")


def test_database_under_a_file_exits_2(tmp_path, capsys):
    """A database path whose folder is a file: an OSError from the writer, reported in one line."""
    (tmp_path / "notes.txt").write_text("hello")
    db = tmp_path / "notes.txt" / "house.db"
    assert cli.main(["enroll", str(db), "Ann", photo(tmp_path, "a.png", RED)]) == 2
    one_line(capsys.readouterr().err, "notes.txt' is a file, not a directory")


# ----------------------------------------------------------------------------- identify, one photo at a time

def test_identify_reports_every_photo_and_exits_2_if_one_failed(house, tmp_path, capsys):
    good = photo(tmp_path, "q1.png", RED, 7)
    bad = str(tmp_path / "missing.jpg")
    other = photo(tmp_path, "q2.png", BLUE, 8)
    assert cli.main(["identify", str(house), good, bad, other]) == 2
    cap = capsys.readouterr()
    assert f"{good}: Ann" in cap.out and f"{other}: Bob" in cap.out
    one_line(cap.err, "missing.jpg", "does not exist")
    assert cli.main(["identify", str(house), good, bad, other, "--json"]) == 2
    rows = strict_json(capsys.readouterr().out)
    assert [r["image"] for r in rows] == [good, bad, other]
    assert rows[0]["identity"] == "Ann" and rows[2]["identity"] == "Bob"
    assert "does not exist" in rows[1]["error"] and "identity" not in rows[1]


def test_json_is_valid_even_when_the_encoder_returns_nan(house, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(FaceDatabase, "encode",
                        lambda self, images, progress=None: np.full((1, 128), np.nan, np.float32))
    img = photo(tmp_path, "q.png", RED)
    assert cli.main(["identify", str(house), img, "--json"]) == 2
    (row,) = strict_json(capsys.readouterr().out)
    assert "NaN or infinity" in row["error"] and img in row["error"]
    assert cli.main(["verify", str(house), "Ann", img, "--json"]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" or strict_json(cap.out)
    one_line(cap.err, "NaN or infinity", "q.png")


# ----------------------------------------------------------------------------- --threshold

@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-0.5", "4.01", "1e9", "abc", ""])
def test_threshold_must_be_finite_in_0_4(house, tmp_path, capsys, value):
    img = photo(tmp_path, "q.png", RED)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["verify", str(house), "Ann", img, "--threshold", value])
    assert exit_.value.code == 2
    assert "--threshold" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["4", "0.7", "1e-3"])
def test_threshold_in_range_is_used(house, tmp_path, capsys, value):
    img = photo(tmp_path, "q.png", BLUE, 5)
    expected = 0 if float(value) >= 0.05 else 1
    assert cli.main(["verify", str(house), "Bob", img, "--threshold", value, "--json"]) == expected
    row = strict_json(capsys.readouterr().out)
    assert math.isfinite(row["distance"]) and row["accepted"] is (expected == 0)
