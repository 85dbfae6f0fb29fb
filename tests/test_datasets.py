"""facelib.data.datasets: the loaders' shapes and their errors on bad input; facelib.data's re-exports."""

import numpy as np
import pytest
from PIL import Image

from facelib import data


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)


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


def test_identity_folder_empty_and_corrupt(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load_identity_folder(tmp_path / "nope")
    (tmp_path / "alice").mkdir()
    with pytest.raises(ValueError, match="no person sub-folders"):
        data.load_identity_folder(tmp_path)
    (tmp_path / "alice" / "1.jpg").write_bytes(b"this is not a jpeg")
    with pytest.raises(ValueError, match="1.jpg"):
        data.load_identity_folder(tmp_path)


def test_identity_folder_loads_and_splits(tmp_path):
    rng = np.random.default_rng(0)
    for person in ("ann", "bob", "cat"):
        (tmp_path / person).mkdir()
        for k in range(2):
            data.save_image(tmp_path / person / f"{k}.png", rng.integers(0, 255, (8, 6, 3), dtype=np.uint8))
    ds = data.load_identity_folder(tmp_path)
    assert ds.images.shape == (6, 8, 6, 3) and list(ds.labels) == [0, 0, 1, 1, 2, 2]
    xtr, ytr, xte, yte = data.split_by_identity(ds.images, ds.labels, 1, seed=0)
    assert len(set(yte)) == 1 and len(yte) == 2 and len(ytr) == 4


def test_the_data_package_re_exports_every_public_name_of_its_modules():
    from facelib.data import archives, datasets, images, lfw, sampling

    modules = (archives, datasets, images, lfw, sampling)
    for module in modules:
        for name in module.__all__:
            assert getattr(data, name) is getattr(module, name), name
    assert sorted(data.__all__) == sorted(n for module in modules for n in module.__all__)
