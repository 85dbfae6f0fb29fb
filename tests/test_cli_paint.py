"""`facelib paint train STYLE` and `facelib paint PHOTO -o OUT --style NAME` through facelib.cli.main."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facelib import style
from facelib.cli import main


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    yy, xx = np.mgrid[0:36, 0:50]
    photo = np.stack([xx * 5 % 256, yy * 7 % 256, np.full_like(xx, 90)], -1).astype(np.uint8)
    painting = (np.random.default_rng(3).uniform(size=(40, 40, 3)) * 255).astype(np.uint8)
    p, s = tmp_path / "photo.png", tmp_path / "painting.png"
    Image.fromarray(photo).save(p)
    Image.fromarray(painting).save(s)
    (tmp_path / "train").mkdir()
    for k in range(3):  # a folder of the user's photos for `--photos`
        Image.fromarray(np.roll(photo, 7 * k, axis=1)).save(tmp_path / "train" / f"{k}.jpg")
    return p, s


def test_train_then_paint_then_cache_hit_and_resume(files: tuple[Path, Path], tmp_home: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    photo, painting = files
    train = ["paint", "train", str(painting), "--steps", "2", "--size", "32", "--photos", str(tmp_path / "train")]
    assert main(train) == 0
    first = capsys.readouterr().out
    assert "2 steps" in first and str(tmp_home / "painters") in first
    out = tmp_path / "painted.png"
    assert main(["paint", str(photo), "-o", str(out), "--style", str(painting)]) == 0
    written = np.asarray(Image.open(out))
    assert written.shape == (36, 50, 3) and written.dtype == np.uint8   # the photo's own size
    assert f"wrote {out} (50x36)" in capsys.readouterr().out
    seen: list[int] = []
    assert main(train) == 0                                                            # cached: no training
    again = capsys.readouterr().out
    assert "2 steps" in again and again.split("training;")[0] == first.split("training;")[0]
    painter = style.train_painter(str(painting), size=32, steps=3, progress=lambda t, c: seen.append(t),
                                  photos=sorted((tmp_path / "train").glob("*.jpg")))
    assert seen == [3] and painter.info["steps_done"] == 3                             # resumed after step 2


def test_ctrl_c_keeps_the_checkpoint_and_says_so(files: tuple[Path, Path], tmp_home: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture) -> None:
    _, painting = files

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(style, "train_painter", interrupted)
    assert main(["paint", "train", str(painting), "--steps", "2"]) == 130
    assert "run the same command again to resume" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["paint", "train"], "name the painting to train"),
    (["paint", "train", "no-such-painting"], "neither an image file nor a painting"),
    (["paint", "train", "starry-night", "--size", "30"], "multiple of 4"),
    (["paint", "train", "starry-night", "--steps", "0"], "--steps 0"),
    (["paint", "train", "starry-night", "--photos", "nowhere"], "not a folder of photos"),
    (["paint", "missing.jpg", "-o", "out.png", "--style", "starry-night"], "missing.jpg does not exist"),
    (["paint", "PHOTO", "-o", "out.png"], "--style NAME is required"),
    (["paint", "PHOTO", "--style", "starry-night"], "-o OUT is required"),
    (["paint", "PHOTO", "-o", "out.txt", "--style", "starry-night"], "unknown image suffix"),
    (["paint", "PHOTO", "-o", "out.png", "--style", "PAINTING"], "no painter trained for style"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, files: tuple[Path, Path], tmp_home: Path,
                                          tmp_path: Path, capsys: pytest.CaptureFixture,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    photo, painting = files
    monkeypatch.chdir(tmp_path)
    argv = [str(photo) if a == "PHOTO" else str(painting) if a == "PAINTING" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("facelib paint: error:") and message in err, err
