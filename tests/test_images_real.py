"""Images people really have: phone photos stored sideways, float arrays on 0–255, huge files, folders.

References are hand-made: a photo with a known pixel pattern, rotated by EXIF orientation tag 6
("rotate 90° clockwise to display"), must read as NumPy's ``np.rot90(pattern, k=-1)``.
"""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from facelib import data


@pytest.fixture
def pattern():
    """A 4×6 image whose every pixel differs, so a rotation or flip cannot go unnoticed."""
    a = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3) * 3
    return a


def _with_orientation(path, arr, orientation: int):
    img = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = orientation
    img.save(path, exif=exif.tobytes())  # PNG keeps an eXIf chunk, lossless
    return path


@pytest.mark.parametrize("orientation, expected", [
    (1, lambda a: a),
    (3, lambda a: np.rot90(a, 2)),
    (6, lambda a: np.rot90(a, -1)),
    (8, lambda a: np.rot90(a, 1)),
    (2, lambda a: a[:, ::-1]),
])
def test_exif_orientation_is_honoured_when_reading(tmp_path, pattern, orientation, expected):
    path = _with_orientation(tmp_path / f"o{orientation}.png", pattern, orientation)
    want = expected(pattern)
    np.testing.assert_array_equal(data.read_image(path), want)
    np.testing.assert_array_equal(data.to_rgb_uint8(str(path)), want)
    with Image.open(path) as opened:  # a PIL image the user opened is read upright too
        np.testing.assert_array_equal(data.to_rgb_uint8(opened), want)


def test_exif_orientation_is_honoured_by_the_face_pipeline(tmp_path, pattern):
    from facelib.faces import course_image

    path = _with_orientation(tmp_path / "side.png", pattern, 6)
    upright = course_image(np.rot90(pattern, -1).copy(), size=8)
    np.testing.assert_array_equal(course_image(path, size=8), upright)


def test_float_arrays_on_0_255_are_not_clipped_to_white(pattern):
    as_float = pattern.astype(np.float32)  # 0..213, as e.g. np.asarray(img, float) gives
    np.testing.assert_array_equal(data.to_rgb_uint8(as_float), pattern)
    np.testing.assert_array_equal(data.to_rgb_uint8(pattern / 255.0), pattern)  # [0, 1] stays [0, 1]
    np.testing.assert_array_equal(data.to_rgb_uint8(np.clip(pattern / 255.0 + 0.004, 0, 1.004)),
                                  np.clip(pattern.astype(int) + 1, 0, 255))  # a hair over 1 is still [0, 1]


@pytest.mark.parametrize("bad", [np.full((4, 4, 3), np.nan), np.full((4, 4, 3), 300.0), np.full((4, 4, 3), -20.0),
                                 np.linspace(-0.5, 1.5, 48).reshape(4, 4, 3)])
def test_float_arrays_outside_both_scales_are_refused(bad):
    with pytest.raises(ValueError, match=r"\[0, 1\] or \[0, 255\]"):
        data.to_rgb_uint8(bad)


def test_a_folder_is_not_an_image(tmp_path):
    with pytest.raises(ValueError, match=rf"'{tmp_path}' is a directory"):
        data.read_image(tmp_path)


def test_a_decompression_bomb_names_the_file_and_its_size(tmp_path):
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    bomb = tmp_path / "bomb.png"
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))
                     + chunk(b"IEND", b""))
    with pytest.raises(ValueError, match=r"bomb.png' is 20000x20000 pixels"):
        data.read_image(bomb)
    assert Image.MAX_IMAGE_PIXELS == 89478485 or Image.MAX_IMAGE_PIXELS  # the global limit is left as it was


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_keep_the_users_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        png = data.save_image(tmp_path / "x.png", np.zeros((2, 2, 3), np.uint8))
        txt = data.atomic_write(tmp_path / "page.html", lambda tmp: tmp.write_text("<p>hi</p>"))
    finally:
        os.umask(old)
    assert png.stat().st_mode & 0o777 == mode and txt.stat().st_mode & 0o777 == mode


def test_rewriting_a_file_keeps_its_mode(tmp_path):
    path = tmp_path / "shared.png"
    data.save_image(path, np.zeros((2, 2, 3), np.uint8))
    path.chmod(0o640)
    data.save_image(path, np.ones((2, 2, 3), np.uint8))
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("bad", [np.full((4, 4, 3), 300, np.int32), np.full((4, 4, 3), -1, np.int64),
                                 np.full((4, 4, 3), 1 + 1j), np.full((4, 4, 3), "a")])
def test_integer_arrays_outside_0_255_and_non_numbers_are_refused_not_wrapped(bad):
    with pytest.raises(ValueError, match="image"):
        data.to_rgb_uint8(bad)
    assert data.to_rgb_uint8(np.full((2, 2, 3), 200, np.int64)).max() == 200  # in range: taken as is
