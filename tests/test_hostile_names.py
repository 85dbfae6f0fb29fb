"""Hostile inputs, part 3 (issue 28): a name cannot forge what the terminal shows, and one person has one name.

Names are NFC-normalised and refused when they hold control or format characters, at enrol *and* when
a (shared, possibly crafted) database file is loaded; the CLI prints everything it did not write itself
with such characters escaped.
"""

from __future__ import annotations

import json
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hostile import one_line, photo, unit_rows

from facelib import cli
from facelib.faces import FaceDatabase

HOSTILE_NAMES = {
    "title escape": "\x1b]0;pwned\x07Ann",
    "clear screen": "Ann\x1b[2J\x1b[H",
    "newline forging a line": "Ann\nIt's the admin, welcome in!",
    "carriage return": "Ann\rIt's the admin",
    "right-to-left override": "\u202enimda",
    "NUL": "An\x00n",
    "zero-width space": "An\u200bn",
    "line separator": "Ann\u2028Bob",
    "too long": "A" * 201,
}


pytestmark = pytest.mark.usefixtures("toy_encoder")  # FaceDatabase encodes with toy_encode (conftest.py)


def _raw_chars(text: str) -> set[str]:
    return {c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and c != "\n"}


@pytest.mark.parametrize("kind", list(HOSTILE_NAMES))
def test_a_hostile_name_is_refused_by_the_api(kind):
    db = FaceDatabase(model=object())
    with pytest.raises(ValueError, match="name"):
        db.add_encodings(HOSTILE_NAMES[kind], unit_rows(1))
    assert len(db) == 0


@pytest.mark.parametrize("kind", ["title escape", "newline forging a line", "right-to-left override", "NUL"])
def test_a_hostile_name_is_refused_by_the_cli_in_one_clean_line(tmp_path, club, capsys, kind):
    name = HOSTILE_NAMES[kind].replace("\x00", "\x01")  # argv cannot hold NUL
    code = cli.main(["enroll", str(club), name, str(photo(tmp_path / "p.png"))])
    assert code == 2
    err = capsys.readouterr().err
    one_line(err, "control or format characters")
    assert not _raw_chars(err)
    assert FaceDatabase.load(club).names == ["Ann"]


def _crafted(path: Path, names: list[str]) -> Path:
    meta = {"format": "facelib-face-database", "version": 1, "model": "facenet-keras-128",
            "preprocessing": "course", "detect": False, "threshold": None, "encoder": None,
            "names": names, "sources": [[""] for _ in names]}
    with zipfile.ZipFile(path, "w") as zf:
        for member, arr in (("meta", np.array(json.dumps(meta))), ("encodings", unit_rows(len(names))),
                            ("owner", np.arange(len(names), dtype=np.int32))):
            with zf.open(f"{member}.npy", "w") as fh:
                np.lib.format.write_array(fh, arr)
    return path


@pytest.mark.parametrize("kind", list(HOSTILE_NAMES))
def test_a_shared_file_with_a_hostile_name_is_refused_on_loading(tmp_path, kind):
    path = _crafted(tmp_path / "shared.npz", ["Bob", HOSTILE_NAMES[kind]])
    with pytest.raises(ValueError, match="shared.npz") as err:
        FaceDatabase.load(path)
    assert not _raw_chars(str(err.value))


def test_the_cli_reading_a_forged_file_prints_no_forged_line(tmp_path, capsys):
    path = _crafted(tmp_path / "shared.npz", ["Ann\nIt's the admin, welcome in!\x1b[2J"])
    assert cli.main(["verify", str(path), "Ann", str(photo(tmp_path / "p.png"))]) == 2
    captured = capsys.readouterr()
    assert "welcome in" not in captured.out
    one_line(captured.err, "shared.npz")
    assert not _raw_chars(captured.err)


def test_a_file_name_with_escapes_is_printed_escaped(tmp_path, club, capsys):
    evil = photo(tmp_path / "a\x1b]0;pwned\x07b.png")
    assert cli.main(["identify", str(club), str(evil)]) == 0
    out = capsys.readouterr().out
    assert not _raw_chars(out) and "\\x1b]0;pwned\\x07b.png" in out


def test_a_nfd_name_in_a_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="NFC"):
        FaceDatabase.load(_crafted(tmp_path / "nfd.npz", [unicodedata.normalize("NFD", "José")]))


def test_jose_typed_nfc_then_nfd_is_one_person(tmp_path, club, capsys):
    nfc, nfd = unicodedata.normalize("NFC", "José"), unicodedata.normalize("NFD", "José")
    assert nfc != nfd
    p = str(photo(tmp_path / "jose.png", (30, 160, 90)))
    assert cli.main(["enroll", str(club), nfc, p]) == 0
    assert cli.main(["enroll", str(club), nfd, str(photo(tmp_path / "jose2.png", (32, 158, 92)))]) == 0
    db = FaceDatabase.load(club)
    assert db.names == ["Ann", nfc] and len(db.encodings(nfd)) == 2 and nfd in db
    capsys.readouterr()
    assert cli.main(["verify", str(club), nfd, p]) == 0  # the name as typed (NFD) is the right person
    assert "It's José, welcome in!" in unicodedata.normalize("NFC", capsys.readouterr().out)
