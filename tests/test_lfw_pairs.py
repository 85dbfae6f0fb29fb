"""facelib.data.lfw: LFW's pairs files read by explicit file name, from the registry or any folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from facelib import config
from facelib.data import lfw_pairs


@pytest.fixture(scope="module")
def view1():
    return lfw_pairs(1)


def test_view1_from_the_registry_archive(view1):
    train, test = view1.splits["train"], view1.splits["test"]
    assert (len(train), int(train.same.sum()), len(test), int(test.same.sum())) == (2200, 1100, 1000, 500)
    assert len(view1.photos) == 4992 and all(p.is_file() for p in view1.photos[:50])
    # line 2 of pairsDevTrain.txt is "Aaron_Peirsol 1 2"; line 1102 the first different-person pair
    assert (train.a[0].name, train.b[0].name) == ("Aaron_Peirsol_0001.jpg", "Aaron_Peirsol_0002.jpg")
    lines = (view1.root / "pairsDevTrain.txt").read_text().splitlines()
    name1, n1, name2, n2 = lines[1101].split()
    assert train.a[1100] == view1.root / "lfw" / name1 / f"{name1}_{int(n1):04d}.jpg"
    assert train.b[1100] == view1.root / "lfw" / name2 / f"{name2}_{int(n2):04d}.jpg"
    assert train.same[:1100].all() and not train.same[1100:].any()
    assert view1.folds == []
    # extracted once into the cache, stamped with the archive it came from (facelib.data.archives.extract_once)
    assert view1.root == config.settings.home / "lfw" / "lfw_view1"
    assert (view1.root / ".source").read_text().startswith("lfw_view1.tar.gz ")


def _layout(tmp: Path, view1, names: list[tuple[str, str]]) -> None:
    for rel_a, rel_b in names:
        for rel in (rel_a, rel_b):
            dst = tmp / "lfw" / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(view1.root / "lfw" / rel, dst)


def test_any_folder_laid_out_the_same_way_both_views(view1, tmp_path):
    tr = view1.splits["train"]
    rel = [(str(tr.a[k].relative_to(view1.root / "lfw")), str(tr.b[k].relative_to(view1.root / "lfw")))
           for k in (0, 1, 1100, 1101)]
    _layout(tmp_path, view1, rel)
    lines = (view1.root / "pairsDevTrain.txt").read_text().splitlines()
    body = [lines[1], lines[2], lines[1101], lines[1102]]
    (tmp_path / "pairsDevTrain.txt").write_text("\n".join(["2", *body]) + "\n")
    (tmp_path / "pairsDevTest.txt").write_text("\n".join(["1", body[0], body[2]]) + "\n")
    (tmp_path / "pairs.txt").write_text("\n".join(["2\t1", body[0], body[2], body[1], body[3]]) + "\n")
    v1 = lfw_pairs(1, tmp_path)
    assert len(v1.splits["train"]) == 4 and v1.splits["train"].same.tolist() == [True, True, False, False]
    assert v1.splits["train"].a[2] == tmp_path / "lfw" / rel[2][0]
    v2 = lfw_pairs(2, tmp_path)
    assert [len(f) for f in v2.folds] == [2, 2] and v2.folds[1].same.tolist() == [True, False]
    assert v2.folds[1].b[1] == tmp_path / "lfw" / rel[3][1]


def test_bad_files_get_one_clear_error(view1, tmp_path):
    with pytest.raises(ValueError, match="view must be 1"):
        lfw_pairs(3)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        lfw_pairs(1, tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="pairsDevTrain.txt is missing"):
        lfw_pairs(1, tmp_path)
    (tmp_path / "pairsDevTrain.txt").write_text("1\nAaron_Peirsol\t1\nA\t1\tB\t2\n")
    with pytest.raises(ValueError, match=r"pairsDevTrain.txt, line 2: expected 'name n1 n2'"):
        lfw_pairs(1, tmp_path)
    (tmp_path / "pairsDevTrain.txt").write_text("one\n")
    with pytest.raises(ValueError, match=r"pairsDevTrain.txt, line 1: expected the header"):
        lfw_pairs(1, tmp_path)
    (tmp_path / "pairsDevTrain.txt").write_text("1\nAaron_Peirsol\t1\tx\nA\t1\tB\t2\n")
    with pytest.raises(ValueError, match="line 2: photo number 'x'"):
        lfw_pairs(1, tmp_path)
    (tmp_path / "pairsDevTrain.txt").write_text("1\n../etc\t1\t2\nA\t1\tB\t2\n")
    with pytest.raises(ValueError, match="bad person name"):
        lfw_pairs(1, tmp_path)
    (tmp_path / "pairsDevTrain.txt").write_text("1\nAaron_Peirsol\t1\t2\nA\t1\tB\t2\n")
    (tmp_path / "pairsDevTest.txt").write_text("1\nAaron_Peirsol\t1\t2\nA\t1\tB\t2\n")
    with pytest.raises(FileNotFoundError, match=r"lfw/A/A_0001.jpg is missing \(4 photos"):
        lfw_pairs(1, tmp_path)


def test_scikit_learn_subset_home_needs_complete_folders(tmp_path):
    """The LFW subset's lfw_home keeps 10 photos per person, but its pairs name others: refused, named."""
    from facelib import assets

    home = assets.fetch("lfw-subset")
    with pytest.raises(FileNotFoundError, match=r"_\d{4}\.jpg is missing"):
        lfw_pairs(1, home)
    assert np.all([p.is_file() for p in (home / "lfw").glob("*/*.jpg")])
