"""`facelib enroll / identify / verify` on a temporary face database (exit codes 0/1/2, --json)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from facelib import assets
from facelib.cli import main
from facelib.face_database import FaceDatabase


@pytest.fixture(scope="module")
def lfw():
    return assets.fetch("lfw-subset") / "lfw"


def photo(lfw, person, k):
    return str(lfw / person / f"{person}_{k:04d}.jpg")


@pytest.fixture(scope="module")
def house(lfw, tmp_path_factory):
    db = tmp_path_factory.mktemp("cli") / "house.db"
    assert main(["enroll", str(db), "Colin Powell", photo(lfw, "Colin_Powell", 1), photo(lfw, "Colin_Powell", 2)]) == 0
    assert main(["enroll", str(db), "Tony Blair", photo(lfw, "Tony_Blair", 1)]) == 0
    return db


def test_enroll_creates_and_extends_the_database(house, lfw, capsys):
    db = FaceDatabase.load(house)
    assert db.names == ["Colin Powell", "Tony Blair"] and db.n_photos == 3
    assert main(["enroll", str(house), "Tony Blair", photo(lfw, "Tony_Blair", 2)]) == 0
    assert "enrolled 1 photo(s) of Tony Blair" in capsys.readouterr().out
    assert FaceDatabase.load(house).encodings("Tony Blair").shape == (2, 128)


def test_identify_json(house, lfw, capsys):
    capsys.readouterr()
    query = [photo(lfw, "Colin_Powell", 5), photo(lfw, "Tony_Blair", 6)]
    assert main(["identify", str(house), *query, "--json", "--threshold", "1.0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["identity"] for r in out] == ["Colin Powell", "Tony Blair"]
    assert all(0 <= r["distance"] < 1.0 and r["image"] == q for r, q in zip(out, query))


def test_identify_unknown_person(house, lfw, capsys):
    capsys.readouterr()
    assert main(["identify", str(house), photo(lfw, "Hugo_Chavez", 1), "--threshold", "0.5", "--json"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    assert r["identity"] is None and r["distance"] >= 0.5
    assert main(["identify", str(house), photo(lfw, "Hugo_Chavez", 1), "--threshold", "0.5"]) == 0
    assert "unknown" in capsys.readouterr().out


def test_verify_exit_codes(house, lfw, capsys):
    capsys.readouterr()
    assert main(["verify", str(house), "Colin Powell", photo(lfw, "Colin_Powell", 3), "--threshold", "1.0"]) == 0
    assert "welcome in" in capsys.readouterr().out
    assert main(["verify", str(house), "Tony Blair", photo(lfw, "Colin_Powell", 3), "--json"]) == 1
    r = json.loads(capsys.readouterr().out)
    assert r["accepted"] is False and r["name"] == "Tony Blair" and r["distance"] > 0.7


def test_errors_exit_2_with_a_message(house, lfw, tmp_path, capsys):
    capsys.readouterr()
    assert main(["identify", str(tmp_path / "none.db"), photo(lfw, "Colin_Powell", 3)]) == 2
    assert "none.db" in capsys.readouterr().err
    assert main(["verify", str(house), "Nobody", photo(lfw, "Colin_Powell", 3)]) == 2
    assert "Nobody" in capsys.readouterr().err
    wall = tmp_path / "wall.png"
    Image.fromarray(np.full((120, 120, 3), 200, np.uint8)).save(wall)
    assert main(["identify", str(house), str(wall)]) == 2
    assert "no face found in" in capsys.readouterr().err
    assert main(["enroll", str(house), "Ghost", str(tmp_path / "ghost.jpg")]) == 2
    assert "ghost.jpg" in capsys.readouterr().err
    assert "Ghost" not in FaceDatabase.load(house).names
