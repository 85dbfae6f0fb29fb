"""`facelib enroll / identify / verify` on a temporary face database (exit codes 0/1/2, --json)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from facelib import assets
from facelib.cli import main
from facelib.faces import FaceDatabase


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
    assert "enrolled 1 photo of 'Tony Blair'" in capsys.readouterr().out
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


def _two_people(lfw, tmp_path):
    pair = np.hstack([np.asarray(Image.open(photo(lfw, "Colin_Powell", 5)).convert("RGB")),
                      np.asarray(Image.open(photo(lfw, "Tony_Blair", 6)).convert("RGB"))])
    path = tmp_path / "two.png"
    Image.fromarray(pair).save(path)
    return str(path)


def test_several_faces_main_one_used_with_a_note_and_all_faces_reports_each(house, lfw, tmp_path, capsys):
    two = _two_people(lfw, tmp_path)
    capsys.readouterr()
    assert main(["identify", str(house), two, "--threshold", "1.0"]) == 0
    cap = capsys.readouterr()
    assert cap.out.startswith(f"{two}: ") and len(cap.out.splitlines()) == 1
    assert "faces found" in cap.err and "ignored" in cap.err and "--all-faces" in cap.err
    assert main(["identify", str(house), two, "--threshold", "1.0", "--all-faces", "--json"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    who = {f["identity"] for f in r["faces"]}
    assert len(r["faces"]) >= 2 and {"Colin Powell", "Tony Blair"} <= who
    left = [f for f in r["faces"] if f["identity"] == "Colin Powell"][0]["box"]
    right = [f for f in r["faces"] if f["identity"] == "Tony Blair"][0]["box"]
    assert left[0] < 250 <= right[0]  # each name at its own face
    assert main(["identify", str(house), two, "--threshold", "1.0", "--all-faces"]) == 0
    assert "face 2 at x=" in capsys.readouterr().out


def test_exif_rotated_phone_photo_is_identified(house, lfw, tmp_path, capsys):
    """A photo stored sideways with EXIF orientation 6 is read upright: same result as the upright one."""
    upright = np.asarray(Image.open(photo(lfw, "Tony_Blair", 7)).convert("RGB"))
    sideways = Image.fromarray(np.rot90(upright, 1).copy())  # stored turned left; tag 6 turns it back
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    sideways.save(path, exif=exif.tobytes(), quality=95)
    capsys.readouterr()
    assert main(["identify", str(house), str(path), "--threshold", "1.0", "--json"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    assert r["identity"] == "Tony Blair"
