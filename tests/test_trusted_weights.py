"""Only checksum-verified weights are loaded: asset names go through the registry, own files are explicit."""

from __future__ import annotations

from pathlib import Path

import pytest

from facelib import assets
from facelib.models import inception_resnet as ir


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    """Build nothing and load nothing: record which file facenet() would read its weights from."""
    calls: dict[str, list] = {"fetch": [], "load": []}
    verified = tmp_path / "verified.h5"
    monkeypatch.setattr(ir, "inception_resnet_v1", lambda: "model")
    monkeypatch.setattr(ir, "load_facenet_weights", lambda model, path: calls["load"].append(Path(path)))
    monkeypatch.setattr(assets, "fetch", lambda name, **k: calls["fetch"].append(name) or verified)
    calls["verified"] = [verified]
    return calls


def test_a_file_named_like_the_asset_in_the_working_folder_is_never_opened(tmp_path, monkeypatch, recorded):
    monkeypatch.chdir(tmp_path)
    Path("facenet-keras-128").write_bytes(b"\0" * 1000)  # a zeroed bottleneck made everyone Tony Blair
    ir.facenet("facenet-keras-128")
    assert recorded["fetch"] == ["facenet-keras-128"]
    assert recorded["load"] == recorded["verified"]


def test_a_path_as_weights_is_refused(tmp_path, recorded):
    own = tmp_path / "mine.h5"
    own.write_bytes(b"x")
    with pytest.raises(TypeError, match="weights_file="):
        ir.facenet(own)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="unknown asset"):
        ir.facenet(str(own))
    assert recorded["load"] == [] and recorded["fetch"] == []


def test_own_weights_are_an_explicit_separate_argument(tmp_path, recorded):
    own = tmp_path / "mine.h5"
    own.write_bytes(b"x")
    ir.facenet(weights_file=own)
    assert recorded["load"] == [own] and recorded["fetch"] == []
    with pytest.raises(FileNotFoundError, match="nothing.h5"):
        ir.facenet(weights_file=tmp_path / "nothing.h5")


def test_a_dataset_asset_is_not_weights(recorded):
    with pytest.raises(ValueError, match="not weights"):
        ir.facenet("lfw-subset")
