"""The ImageNet sample loader (lesson 06's search pool): extraction once, parsing, bad archives."""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest
from conftest import write_tar
from PIL import Image

from facelib import data


def _jpeg(colour: tuple[int, int, int], size: int = 256) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def test_registry_sample_loads_and_matches_the_archive(tmp_home: Path, mirror: Path) -> None:
    sample = data.load_imagenet_sample(6, seed=3)
    assert sample.images.shape == (6, 256, 256, 3) and sample.images.dtype == np.uint8
    assert len(sample) == 6 and np.all(np.diff(sample.class_index) > 0)      # distinct classes, in order
    assert all(re.fullmatch(r"n\d{8}", w) for w in sample.wnid)
    folder = tmp_home / "imagenet_sample_256"
    assert len([p for p in folder.iterdir() if p.suffix == ".jpg"]) == 1000   # extracted into FACELIB_HOME
    # independent read: the same member straight from the mirror's tar, decoded by PIL
    with tarfile.open(mirror / "images" / "imagenet_sample_256.tar") as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
        assert len(names) == 1000 and names[0] == "imagenet_sample_256/000_n01440764_tench.jpg"
        i = int(sample.class_index[0])
        member = names[i]
        assert member.endswith(f"_{sample.wnid[0]}_{sample.class_name[0]}.jpg") and f"/{i:03d}_" in member
        ref = np.asarray(Image.open(tar.extractfile(member)).convert("RGB"))
    np.testing.assert_array_equal(sample.images[0], ref)


def test_extraction_happens_once(tmp_home: Path, tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "s.tar", {"imagenet_sample_256/000_n01440764_tench.jpg": _jpeg((200, 10, 10)),
                                        "imagenet_sample_256/001_n01443537_goldfish.jpg": _jpeg((10, 200, 10))})
    first = data.load_imagenet_sample(archive=archive)
    assert first.class_index.tolist() == [0, 1] and first.class_name == ("tench", "goldfish")
    assert first.wnid == ("n01440764", "n01443537")
    assert np.abs(first.images[0].astype(int) - [200, 10, 10]).max() < 8       # RGB order kept
    photo = tmp_home / "imagenet_sample_256" / "000_n01440764_tench.jpg"
    photo.touch()                                  # a re-extraction would restore the member's time (0)
    touched = photo.stat().st_mtime_ns
    assert touched > 0
    data.load_imagenet_sample(archive=archive)
    assert photo.stat().st_mtime_ns == touched     # not extracted again
    assert not [p for p in tmp_home.iterdir() if p.name.startswith(".imagenet_sample_256-")]  # no temporary folder left


def test_archive_with_a_foreign_member_is_refused_and_leaves_nothing(tmp_home: Path, tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "bad.tar", {"imagenet_sample_256/000_n01440764_tench.jpg": _jpeg((1, 2, 3)),
                                          "other/evil.jpg": _jpeg((0, 0, 0))})
    with pytest.raises(ValueError, match="bad.tar.*other/evil.jpg"):
        data.load_imagenet_sample(archive=archive)
    assert not (tmp_home / "imagenet_sample_256").exists()
    assert not [p for p in tmp_home.iterdir() if p.name.startswith(".imagenet_sample_256-")]


def test_bad_file_name_and_bad_n(tmp_home: Path, tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "names.tar", {"imagenet_sample_256/tench.jpg": _jpeg((1, 2, 3))})
    with pytest.raises(ValueError, match="tench.jpg: ImageNet sample file names must be NNN_<wnid>_<name>.jpg"):
        data.load_imagenet_sample(archive=archive)
    good = write_tar(tmp_path / "good.tar",
                     {"imagenet_sample_256/005_n01496331_electric_ray.jpg": _jpeg((1, 2, 3), 300)})
    one = data.load_imagenet_sample(archive=good)
    assert one.images.shape == (1, 256, 256, 3) and one.class_name == ("electric_ray",)   # resized to 256
    with pytest.raises(ValueError, match="n must be between 1 and 1"):
        data.load_imagenet_sample(2, archive=good)
    with pytest.raises(FileNotFoundError, match="missing.tar"):
        data.load_imagenet_sample(archive=tmp_path / "missing.tar")


def test_chosen_classes_only_are_read(tmp_home: Path, tmp_path: Path) -> None:
    colours = {0: (200, 10, 10), 1: (10, 200, 10), 50: (10, 10, 200)}
    names = {0: "n01440764_tench", 1: "n01443537_goldfish", 50: "n01629819_European_fire_salamander"}
    archive = write_tar(tmp_path / "s.tar", {f"imagenet_sample_256/{c:03d}_{names[c]}.jpg": _jpeg(colours[c])
                                             for c in colours})
    two = data.load_imagenet_sample(archive=archive, classes=[50, 0])
    assert two.class_index.tolist() == [0, 50] and two.images.shape == (2, 256, 256, 3)   # in class order
    assert np.abs(two.images[1].astype(int) - colours[50]).max() < 8                     # class 50's own photo
    assert len(data.load_imagenet_sample(archive=archive, classes=[])) == 0
    with pytest.raises(ValueError, match=r"s.tar: the ImageNet sample holds no class \[7\]"):
        data.load_imagenet_sample(archive=archive, classes=[0, 7])
    with pytest.raises(ValueError, match="not both"):
        data.load_imagenet_sample(1, archive=archive, classes=[0])
    with pytest.raises(ValueError, match="not both"):                    # said before any file is read
        data.load_imagenet_sample(5000, archive=tmp_path / "missing.tar", classes=[0])


def test_iter_reads_chosen_classes_in_batches_after_one_check(tmp_home: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from facelib.data import datasets

    colours = {0: (200, 10, 10), 1: (10, 200, 10), 2: (200, 200, 10), 50: (10, 10, 200), 51: (90, 90, 90)}
    names = {0: "n01440764_tench", 1: "n01443537_goldfish", 2: "n01484850_great_white_shark",
             50: "n01629819_European_fire_salamander", 51: "n01630670_common_newt"}
    archive = write_tar(tmp_path / "s.tar", {f"imagenet_sample_256/{c:03d}_{names[c]}.jpg": _jpeg(colours[c])
                                             for c in colours})
    whole = data.load_imagenet_sample(archive=archive, classes=[51, 0, 2, 50])
    checks = []
    real = datasets.extract_once
    monkeypatch.setattr(datasets, "extract_once", lambda *a, **k: checks.append(1) or real(*a, **k))
    parts = list(data.iter_imagenet_sample([51, 0, 2, 50], batch=3, archive=archive))
    assert checks == [1]                                                 # listed and checked once
    assert [p.class_index.tolist() for p in parts] == [[0, 2, 50], [51]]  # class order, cut in batches of 3
    np.testing.assert_array_equal(np.concatenate([p.images for p in parts]), whole.images)
    assert [n for p in parts for n in p.class_name] == list(whole.class_name)
    assert np.abs(parts[1].images[0].astype(int) - colours[51]).max() < 8
    with pytest.raises(ValueError, match=r"s.tar: the ImageNet sample holds no class \[7\]"):
        next(data.iter_imagenet_sample([0, 7], archive=archive))
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch must be a whole number"):
            next(data.iter_imagenet_sample([0], batch=bad, archive=archive))  # type: ignore[arg-type]
