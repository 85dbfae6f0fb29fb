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


def _run_without_tensorflow(argv: list[str]) -> tuple[int, str, bool]:
    """Run the CLI in a fresh interpreter: (exit code, stderr, whether TensorFlow got imported)."""
    import json
    import os
    import subprocess
    import sys

    code = ("import sys, json, io, contextlib\nfrom facelib.cli import main\nerr = io.StringIO()\n"
            "with contextlib.redirect_stderr(err):\n    rc = main(json.loads(sys.argv[1]))\n"
            "print(json.dumps([rc, err.getvalue(), 'tensorflow' in sys.modules]))")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    res = subprocess.run([sys.executable, "-c", code, json.dumps(argv)], capture_output=True, text=True, env=env,
                         timeout=120)
    rc, err, tf_loaded = json.loads(res.stdout.strip().splitlines()[-1])
    return rc, err, tf_loaded


@pytest.mark.parametrize("extra, match", [
    (["--size", "100000"], "above the cap of 1024 pixels"),
    (["--preset", "fancy"], "choose one of auto, classroom, portrait, course, quality"),
    (["--steps", "0"], "steps must be a positive integer"),
    (["--style-scale", "0"], "--style-scale"),
])
def test_stylize_checks_arguments_before_loading_tensorflow(images: tuple[Path, Path], tmp_path: Path,
                                                            extra: list[str], match: str) -> None:
    c, s = images
    rc, err, tf_loaded = _run_without_tensorflow(["stylize", str(c), str(s), "-o", str(tmp_path / "x.png")] + extra)
    assert rc == 2 and match in err and not tf_loaded
    assert len(err.strip().splitlines()) == 1  # one line, no traceback


def test_stylize_checks_the_output_path_first(images: tuple[Path, Path], tmp_path: Path) -> None:
    c, s = images
    for out, match in ((tmp_path, "is a directory"), (tmp_path / "result.txt", "unknown image suffix"),
                       (tmp_path / "result", "unknown image suffix")):
        rc, err, tf_loaded = _run_without_tensorflow(["stylize", str(c), str(s), "-o", str(out)])
        assert rc == 2 and match in err and not tf_loaded, err
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        import os
        if os.access(locked, os.W_OK):  # root ignores permissions: a file in the way of the folder instead
            (tmp_path / "file").write_text("x")
            target, match = tmp_path / "file" / "out.png", "not a writable folder"
        else:
            target, match = locked / "out.png", "cannot write into"
        rc, err, tf_loaded = _run_without_tensorflow(["stylize", str(c), str(s), "-o", str(target)])
        assert rc == 2 and match in err and not tf_loaded, err
    finally:
        locked.chmod(0o700)
    rc, err, _ = _run_without_tensorflow(["stylize", str(c), "no-such-painting", "-o", str(tmp_path / "x.png")])
    assert rc == 2 and "neither an image file nor a painting" in err and "starry-night" in err


def test_stylize_help_lists_presets_and_the_cap(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["stylize", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "auto, classroom, portrait, course, quality" in out and "at most 1024" in out


def test_cli_constants_match_the_package() -> None:
    from facelib import cli, style

    assert set(cli.STYLIZE_PRESETS) == {"auto"} | set(style.PRESETS) and cli.STYLIZE_MAX_SIZE == style.MAX_SIZE


def test_stylize_keeps_the_photos_size_and_takes_weighted_styles_mask_and_options(
        images: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    c, s = images
    mask = tmp_path / "mask.png"
    m = np.zeros((48, 64), np.uint8)
    m[:, 32:] = 255
    Image.fromarray(m).save(mask)
    s2 = tmp_path / "style2.png"
    Image.fromarray(np.full((20, 20, 3), (200, 30, 30), np.uint8)).save(s2)
    out = tmp_path / "r.png"
    rc = main(["stylize", str(c), "-o", str(out), "--style", f"{s}:0.7", "--style", f"{s2}:0.3", "--steps", "2",
               "--preset", "course", "--mask", str(mask), "--style-scale", "1.5", "--preserve-colors"])
    assert rc == 0, capsys.readouterr().err
    written = np.asarray(Image.open(out))
    assert written.shape == (48, 64, 3)  # no --size: the photo's own 64x48
    # outside the mask the photo itself comes back
    original = np.asarray(Image.open(c))
    assert np.abs(written[:, :24].astype(int) - original[:, :24]).max() <= 2
    assert np.abs(written[:, 40:].astype(int) - original[:, 40:]).mean() > 0.5


def test_stylize_accepts_a_registry_painting_name(images: tuple[Path, Path], tmp_path: Path) -> None:
    c, _ = images
    out = tmp_path / "r.png"
    assert main(["stylize", str(c), "starry-night", "-o", str(out), "--size", "32", "--steps", "1"]) == 0
    assert Image.open(out).size == (32, 24)


def test_doctor_shows_where_the_paintings_are(capsys: pytest.CaptureFixture) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "paintings" in out and "starry-night" in out and "starry_night.jpg" in out
