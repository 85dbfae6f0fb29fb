"""read_image / to_rgb_uint8 / save_image on every kind of image a user may bring."""

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
    with pytest.raises(FileNotFoundError, match="nothere.jpg does not exist"):
        data.read_image(tmp_path / "nothere.jpg")
    (tmp_path / "notes.jpg").write_text("hello")
    with pytest.raises(ValueError, match="notes.jpg is not an image"):
        data.read_image(tmp_path / "notes.jpg")
    Image.fromarray(np.repeat(np.repeat(rgb, 20, 0), 20, 1)).save(tmp_path / "full.jpg")
    blob = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="cut.jpg is a corrupt or truncated image"):
        data.read_image(tmp_path / "cut.jpg")


def test_to_rgb_uint8_accepts_arrays_and_rejects_bad_shapes(rgb):
    np.testing.assert_array_equal(data.to_rgb_uint8(rgb / 255.0), rgb)
    np.testing.assert_array_equal(data.to_rgb_uint8(Image.fromarray(rgb)), rgb)
    assert data.to_rgb_uint8(rgb[..., :1]).shape == (12, 10, 3)
    with pytest.raises(ValueError, match=r"got \(5, 5, 2\)"):
        data.to_rgb_uint8(np.zeros((5, 5, 2)))
    with pytest.raises(ValueError, match=r"got \(0, 4, 3\)"):
        data.to_rgb_uint8(np.zeros((0, 4, 3)))


def test_face_dataset_loaders_shapes():
    oli = data.load_olivetti()
    assert oli.images.shape == (400, 64, 64, 1) and oli.images.dtype == np.float32
    assert 0.0 <= oli.images.min() and oli.images.max() <= 1.0
    assert np.bincount(oli.labels).tolist() == [10] * 40
    lfw = data.load_lfw_subset()
    assert lfw.images.shape == (100, 62, 47, 3) and np.bincount(lfw.labels).tolist() == [10] * 10
    assert lfw.names[0] == "Ariel Sharon" and lfw.names[-1] == "Vladimir Putin"


def test_identity_folder(tmp_path, rgb):
    for person in ("bob", "alice"):
        (tmp_path / person).mkdir()
        for k in range(2):
            Image.fromarray(rgb).save(tmp_path / person / f"{k}.png")
    (tmp_path / "empty").mkdir()
    ds = data.load_identity_folder(tmp_path, size=8)
    assert ds.names == ["alice", "bob"] and ds.labels.tolist() == [0, 0, 1, 1]
    assert ds.images.shape == (4, 8, 8, 3) and ds.paths[0].name == "0.png"
    with pytest.raises(ValueError, match="holds no person sub-folders"):
        data.load_identity_folder(tmp_path / "empty")
    with pytest.raises(FileNotFoundError):
        data.load_identity_folder(tmp_path / "nobody")
