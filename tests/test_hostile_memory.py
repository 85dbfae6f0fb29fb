"""Hostile inputs, part 1 (issue 28): memory is bounded by an input's *decoded* size before work starts.

Every crafted file is made here; the probes that are about memory run in a subprocess whose address
space is capped with ``resource.setrlimit(RLIMIT_AS)`` (importing TensorFlow alone takes about 1.4 GB of
it), so a regression shows as a failure, not as a machine killed by the kernel.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hostile import cli_code, one_line, run_capped, unit_rows
from PIL import Image

from facelib import assets, cli
from facelib.data import read_image, to_rgb_uint8
from facelib.data.images import MAX_PIXELS
from facelib.faces import FaceDatabase


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory) -> Path:
    """A 12,000 × 12,000 PNG of about 20 KB (bilevel, all black): 432 MB once decoded to RGB."""
    path = tmp_path_factory.mktemp("huge") / "huge.png"
    Image.new("1", (12_000, 12_000)).save(path, optimize=True)
    assert path.stat().st_size < 200_000
    return path


@pytest.fixture
def small_db(tmp_path) -> Path:
    """A database file with one person (random unit encodings; detection on, no model needed to load it)."""
    db = FaceDatabase(model=object())
    db.add_encodings("Ann", unit_rows(2))
    return db.save(tmp_path / "club.npz")


def test_a_huge_png_is_refused_from_its_header_before_decoding(huge_png):
    out = run_capped(f"""
        from facelib.data import read_image
        try:
            read_image({str(huge_png)!r})
        except ValueError as exc:
            print("REFUSED", exc)
        """, limit_gb=0.4)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "REFUSED" in out.stdout and str(huge_png) in out.stdout and "megapixels" in out.stdout


def test_a_huge_pil_image_is_refused_too(huge_png):
    with Image.open(huge_png) as img, pytest.raises(ValueError, match="megapixels"):
        to_rgb_uint8(img)


def test_identify_a_huge_png_is_one_error_line_under_a_memory_cap(huge_png, small_db):
    out = run_capped(cli_code("identify", str(small_db), str(huge_png)), limit_gb=3)
    assert out.returncode == 2, out.stderr[-2000:]
    one_line(out.stderr, str(huge_png), "megapixels")


def test_enroll_a_huge_png_is_one_error_line_under_a_memory_cap(huge_png, small_db):
    out = run_capped(cli_code("enroll", str(small_db), "Bob", str(huge_png)), limit_gb=3)
    assert out.returncode == 2, out.stderr[-2000:]
    one_line(out.stderr, str(huge_png), "megapixels")
    assert FaceDatabase.load(small_db).names == ["Ann"]


def test_the_pixel_cap_lets_a_large_photo_through():
    side = int(MAX_PIXELS**0.5) - 1
    assert to_rgb_uint8(Image.new("L", (side, side))).shape == (side, side, 3)


def test_detection_of_a_25_megapixel_photo_is_downscaled_and_keypoints_come_back_in_its_pixels(tmp_path):
    blair = assets.fetch("lfw-subset") / "lfw" / "Tony_Blair" / "Tony_Blair_0001.jpg"
    small = read_image(blair)
    big = tmp_path / "big.png"
    Image.fromarray(small).resize((small.shape[1] * 20, small.shape[0] * 20), Image.Resampling.BILINEAR).save(big)
    out = run_capped(f"""
        import json
        from facelib.faces import detect_face
        for path in ({str(blair)!r}, {str(big)!r}):
            f = detect_face(path)
            print(json.dumps(f.keypoints.tolist()))
        """, limit_gb=3.2)
    assert out.returncode == 0, out.stderr[-2000:]
    kp_small, kp_big = (np.array(json.loads(line)) for line in out.stdout.strip().splitlines()[-2:])
    assert np.abs(kp_big / 20.0 - kp_small).max() < 3.0  # the same face, in the big photo's own pixels


def _npz_with_member(path: Path, name: str, header_shape: tuple[int, ...], *, data_bytes: int = 0,
                     meta: dict | None = None) -> Path:
    """A face-database-like npz whose ``name`` member claims ``header_shape`` float32 and holds
    ``data_bytes`` zero bytes (compressed: a 1.2 GB member is about 1 MB on disk)."""
    meta = meta or {"format": "facelib-face-database", "version": 1, "model": "facenet-keras-128",
                    "preprocessing": "course", "detect": True, "threshold": None, "encoder": None,
                    "names": ["Ann"], "sources": [[""]]}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("meta.npy", "w") as fh:
            np.lib.format.write_array(fh, np.array(json.dumps(meta)))
        with zf.open("owner.npy", "w") as fh:
            np.lib.format.write_array(fh, np.zeros(1, np.int32))
        with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
            header = {"descr": "<f4", "fortran_order": False, "shape": header_shape}
            np.lib.format.write_array_header_1_0(fh, header)
            chunk = bytes(16 << 20)
            left = data_bytes
            while left > 0:
                fh.write(chunk[:min(left, len(chunk))])
                left -= len(chunk)
    return path


def test_a_database_that_decompresses_to_gigabytes_is_refused_before_decompressing(tmp_path):
    rows = (1200 << 20) // 512
    bomb = _npz_with_member(tmp_path / "bomb.npz", "encodings", (rows, 128), data_bytes=rows * 512)
    assert bomb.stat().st_size < 5 << 20
    out = run_capped(f"""
        from facelib.faces import FaceDatabase
        try:
            FaceDatabase.load({str(bomb)!r})
        except ValueError as exc:
            print("REFUSED", exc)
        """, limit_gb=2.0)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "REFUSED" in out.stdout and str(bomb) in out.stdout and "before decompressing" in out.stdout


def test_a_database_claiming_24_gib_of_encodings_names_the_file_not_memory(tmp_path, small_db, capsys):
    liar = _npz_with_member(tmp_path / "liar.npz", "encodings", (50_000_000, 128), data_bytes=512)
    with pytest.raises(ValueError, match="liar.npz.*claims shape"):
        FaceDatabase.load(liar)
    assert cli.main(["identify", str(liar), str(small_db)]) == 2
    one_line(capsys.readouterr().err, str(liar), "claims shape")


def test_a_huge_meta_member_is_refused_from_its_header(tmp_path):
    liar = tmp_path / "meta.npz"
    with zipfile.ZipFile(liar, "w") as zf, zf.open("meta.npy", "w") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<U1000000000", "fortran_order": False, "shape": ()})
    with pytest.raises(ValueError, match="meta"):
        FaceDatabase.load(liar)


def test_style_scale_1000_is_refused_before_any_work(tmp_path):
    photo = tmp_path / "p.png"
    Image.new("RGB", (64, 64), (120, 30, 200)).save(photo)
    out = run_capped(cli_code("stylize", str(photo), str(photo), "-o", str(tmp_path / "out.png"),
                              "--style-scale", "1000"), limit_gb=3)  # unbounded, it took 10.5 GB
    assert out.returncode == 2, out.stderr[-2000:]
    one_line(out.stderr, "--style-scale 1000", "1024")
    assert not (tmp_path / "out.png").exists()


def test_style_scale_and_steps_are_capped_in_the_api():
    from facelib import style

    with pytest.raises(ValueError, match="style_scale"):
        style.PRESETS["classroom"].replace(style_scale=1000.0)
    with pytest.raises(ValueError, match="style_scale"):
        style.PRESETS["classroom"].replace(size=1024, style_scale=2.0)
    with pytest.raises(ValueError, match="steps"):
        style.PRESETS["classroom"].replace(steps=10**9)
    assert style.PRESETS["classroom"].replace(style_scale=2.0).style_scale == 2.0  # 256 px × 2 is fine


@pytest.mark.parametrize("argv", [["--steps", "1000000000"], ["--size", "512", "--style-scale", "3"],
                                  ["--style-scale", "inf"], ["--style-scale", "nan"]])
def test_stylize_size_like_options_are_capped(tmp_path, argv):
    photo = tmp_path / "p.png"
    Image.new("RGB", (64, 64), (120, 30, 200)).save(photo)
    out = run_capped(cli_code("stylize", str(photo), str(photo), "-o", str(tmp_path / "out.png"), *argv),
                     limit_gb=3, timeout=180)  # uncapped, --steps 1000000000 never ends
    assert out.returncode == 2, out.stderr[-2000:]
    one_line(out.stderr, argv[0])


@pytest.mark.parametrize("batch_size", [0, -1, 10**9, 2.5, True])
def test_batch_size_out_of_range_is_refused(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        FaceDatabase(model=object(), batch_size=batch_size)


def test_a_foreign_warning_during_a_command_is_shown_once_not_recorded_forever(tmp_path):
    out = run_capped("""
        import sys, warnings
        import facelib.cli as cli
        def noisy(args):
            warnings.warn("a library's own warning", UserWarning)
            return 0
        cli._cmd_doctor = noisy
        sys.exit(cli.main(["doctor"]))
        """, limit_gb=2.5, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr.count("a library's own warning") == 1


@pytest.mark.parametrize("size", [0, 100_000, (64, 10**6), -3, 2.5, (64,)])
def test_load_identity_folder_size_is_capped(tmp_path, size):
    from facelib.data import load_identity_folder

    (tmp_path / "ann").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "ann" / "a.png")
    with pytest.raises(ValueError, match="size"):
        load_identity_folder(tmp_path, size=size)
