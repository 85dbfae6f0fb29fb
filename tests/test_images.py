"""facelib.data.images: read_image / to_rgb_uint8 / save_image on every kind of image a user may bring."""

import numpy as np
import pytest
from PIL import Image

from facelib import data


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)


def test_png_round_trip_is_exact(tmp_path, rgb):
    path = data.save_image(tmp_path / "sub" / "x.png", rgb)
    np.testing.assert_array_equal(data.read_image(path), rgb)
    assert [p.name for p in path.parent.iterdir()] == ["x.png"]  # no temp file left


def test_greyscale_rgba_cmyk_and_16bit(tmp_path, rgb):
    grey = rgb[..., 0]
    Image.fromarray(grey, "L").save(tmp_path / "g.png")
    out = data.read_image(tmp_path / "g.png")
    assert out.shape == (12, 10, 3) and (out == grey[..., None]).all()

    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 0, np.uint8)])  # fully transparent → white
    rgba[0, 0, 3] = 255  # one opaque pixel keeps its colour
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = data.read_image(tmp_path / "a.png")
    assert (out[1:, :] == 255).all() and (out[0, 0] == rgb[0, 0]).all()

    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "c.jpg", quality=100)
    out = data.read_image(tmp_path / "c.jpg")
    assert out.shape == (12, 10, 3) and np.abs(out.astype(int) - rgb).mean() < 12

    sixteen = (np.arange(120, dtype=np.uint16).reshape(12, 10) * 500)
    Image.fromarray(sixteen).save(tmp_path / "s.png")
    out = data.read_image(tmp_path / "s.png")
    np.testing.assert_array_equal(out[..., 0], np.round(sixteen / 65535 * 255).astype(np.uint8))


def test_missing_corrupt_and_truncated_files_name_the_file(tmp_path, rgb):
    with pytest.raises(FileNotFoundError, match="nothere.jpg' does not exist"):
        data.read_image(tmp_path / "nothere.jpg")
    (tmp_path / "notes.jpg").write_text("hello")
    with pytest.raises(ValueError, match="notes.jpg' is not an image"):
        data.read_image(tmp_path / "notes.jpg")
    Image.fromarray(np.repeat(np.repeat(rgb, 20, 0), 20, 1)).save(tmp_path / "full.jpg")
    blob = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="cut.jpg' is a corrupt or truncated image"):
        data.read_image(tmp_path / "cut.jpg")


def test_to_rgb_uint8_accepts_arrays_and_rejects_bad_shapes(rgb):
    np.testing.assert_array_equal(data.to_rgb_uint8(rgb / 255.0), rgb)
    np.testing.assert_array_equal(data.to_rgb_uint8(Image.fromarray(rgb)), rgb)
    assert data.to_rgb_uint8(rgb[..., :1]).shape == (12, 10, 3)
    with pytest.raises(ValueError, match=r"got \(5, 5, 2\)"):
        data.to_rgb_uint8(np.zeros((5, 5, 2)))
    with pytest.raises(ValueError, match=r"got \(0, 4, 3\)"):
        data.to_rgb_uint8(np.zeros((0, 4, 3)))


def test_an_rgb_uint8_array_passes_through_without_a_copy(rgb):
    assert data.to_rgb_uint8(rgb) is rgb  # inner functions receive the array converted at the entry
    grey = rgb[..., 0]
    assert data.to_rgb_uint8(grey) is not grey and data.to_rgb_uint8(grey).shape == (12, 10, 3)


def test_describe_names_the_file_or_the_array():
    assert data.describe("photos/ann.jpg") == "photos/ann.jpg"
    assert data.describe(np.zeros((4, 5, 3), np.uint8)) == "a ndarray image of shape (4, 5, 3)"
    assert data.describe(Image.new("RGB", (7, 3))) == "a Image image of shape (7, 3)"
