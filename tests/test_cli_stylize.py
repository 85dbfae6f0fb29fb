"""`facelib stylize` end to end on tiny images, through facelib.cli.main."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facelib.cli import main


@pytest.fixture
def images(tmp_path: Path) -> tuple[Path, Path]:
    yy, xx = np.mgrid[0:48, 0:64]
    content = np.stack([xx * 4 % 256, yy * 5 % 256, np.full_like(xx, 120)], -1).astype(np.uint8)
    style = (np.random.default_rng(1).uniform(size=(40, 40, 3)) * 255).astype(np.uint8)
    c, s = tmp_path / "content.png", tmp_path / "style.jpg"
    Image.fromarray(content).save(c)
    Image.fromarray(style).save(s)
    return c, s


def test_stylize_writes_the_image(images: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    c, s = images
    out = tmp_path / "out" / "result.png"
    rc = main(["stylize", str(c), str(s), "-o", str(out), "--preset", "course", "--size", "32", "--steps", "4"])
    assert rc == 0
    written = np.asarray(Image.open(out))
    assert written.shape == (24, 32, 3) and written.dtype == np.uint8  # 48x64 scaled to longest side 32
    printed = capsys.readouterr().out
    assert f"wrote {out} (32x24)" in printed
    first, last = (float(v) for v in printed.strip().rsplit("total cost ", 1)[1].split(" -> "))
    assert last < first


def test_stylize_classroom_default_preset(images: tuple[Path, Path], tmp_path: Path) -> None:
    c, s = images
    out = tmp_path / "result.jpg"
    assert main(["stylize", str(c), str(s), "-o", str(out), "--size", "32", "--steps", "2"]) == 0
    assert Image.open(out).size == (32, 24)


def test_stylize_reports_bad_input(images: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    c, s = images
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    assert main(["stylize", str(notes), str(s), "-o", str(tmp_path / "x.png"), "--size", "32", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and "not an image file" in err
    assert main(["stylize", str(tmp_path / "nope.png"), str(s), "-o", str(tmp_path / "x.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["stylize", str(c), str(s), "-o", str(tmp_path / "x.png"), "--size", "0"]) == 2
    assert "size must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
