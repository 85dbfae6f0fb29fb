"""Hostile inputs, part 4 (issue 28): caches hold derived data, so they are checked on reading and recomputed
on any doubt; each entry is sealed with the user's key, so another photo's valid entry (swapped rows, a copied
file, another user's cache) is recomputed too; the extracted ImageNet sample is checked against what was extracted.

MTCNN is replaced by a stand-in (``detect.main_faces`` patched to return known keypoints) and the network by
a toy ``embed``, so what these probes exercise is the cache, not the models.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from conftest import write_tar
from PIL import Image

from facelib import data
from facelib.faces import detect, encoder_cache
from facelib.faces.detect import TEMPLATE_5, Face
from facelib.faces.encoders import NetworkEncoder

KP = np.array([[20.0, 25.0], [44.0, 25.0], [32.0, 36.0], [22.0, 46.0], [42.0, 46.0]])


@pytest.fixture
def counted(monkeypatch):
    """``detect.main_faces`` replaced by one that returns the face at :data:`KP` and counts its photos."""
    calls = []

    def main_faces(rgbs, **kw):
        calls.extend(rgbs)
        return [Face((10, 10, 44, 44), KP.copy(), 0.99) for _ in rgbs]

    monkeypatch.setattr(detect, "main_faces", main_faces)
    return calls


def _photo(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (64, 64, 3), dtype=np.uint8)


def _entry(tmp_home, rgb):
    key = encoder_cache.photo_key(rgb, rgb)
    return tmp_home / "cache" / "mtcnn" / key[:2] / f"{key}.json", key


@pytest.mark.parametrize("tamper", ["NaN keypoints", "2x2 keypoints", "far outside", "confidence 5",
                                    "another photo's size", "all one point", "a huge file", "deep JSON"])
def test_a_tampered_detection_is_detected_again(tmp_home, counted, tamper):
    rgb = _photo()
    path, key = _entry(tmp_home, rgb)
    first = encoder_cache.detect_photos([rgb], keys=[key])
    assert len(counted) == 1 and path.is_file()
    body = json.loads(path.read_text())
    text = None
    if tamper == "NaN keypoints":
        body["keypoints"][0][0] = float("nan")
    elif tamper == "2x2 keypoints":
        body["keypoints"] = [[1, 2], [3, 4]]
    elif tamper == "far outside":
        body["keypoints"] = (KP + 10_000).tolist()
    elif tamper == "confidence 5":
        body["confidence"] = 5
    elif tamper == "another photo's size":
        body["shape"] = [480, 640]
    elif tamper == "all one point":
        body["keypoints"] = [[30, 30]] * 5
    elif tamper == "a huge file":
        text = json.dumps(body) + " " * 100_000
    else:
        text = "[" * 100_000 + "]" * 100_000
    path.write_text(text if text is not None else json.dumps(body))
    again = encoder_cache.detect_photos([rgb], keys=[key])
    assert len(counted) == 2  # not trusted: detected again
    np.testing.assert_allclose(again[0].keypoints, first[0].keypoints)


def test_an_untampered_detection_is_reused(tmp_home, counted):
    rgb = _photo()
    _, key = _entry(tmp_home, rgb)
    encoder_cache.detect_photos([rgb], keys=[key])
    encoder_cache.detect_photos([rgb], keys=[key])
    assert len(counted) == 1


def _toy_encoder(dim: int = 128) -> NetworkEncoder:
    w = np.random.default_rng(1).normal(size=(3, dim))
    return NetworkEncoder("toy", 32, TEMPLATE_5, "course", lambda faces: faces.mean(axis=(1, 2)) @ w, dim=dim)


@pytest.mark.parametrize("tamper", ["NaN row", "64 wide", "not unit", "corrupt zip", "claims 4 GiB"])
def test_a_tampered_encoding_cache_is_recomputed(tmp_home, counted, tamper):
    enc = _toy_encoder()
    a, b = _photo(1), _photo(2)
    fresh = enc.encode_photos([a, b], cache=True)
    store = next((tmp_home / "cache" / "encodings").glob("*.npz"))
    with np.load(store) as z:
        keys, plain, mirrored = z["keys"], z["plain"].copy(), z["mirrored"].copy()
    if tamper == "NaN row":
        plain[0, 0] = np.nan
    elif tamper == "64 wide":
        plain, mirrored = plain[:, :64] * np.sqrt(2), mirrored[:, :64] * np.sqrt(2)
    elif tamper == "not unit":
        plain *= 3
    if tamper == "corrupt zip":
        store.write_bytes(b"PK\x03\x04 not really a zip")
    elif tamper == "claims 4 GiB":
        import zipfile

        with zipfile.ZipFile(store, "w") as zf:
            for name in ("keys", "plain", "mirrored"):
                with zf.open(f"{name}.npy", "w") as fh:
                    np.lib.format.write_array_header_1_0(fh, {"descr": "<f4", "fortran_order": False,
                                                             "shape": (2**30, 1)})
    else:
        with store.open("wb") as fh:
            np.savez(fh, keys=keys, plain=plain, mirrored=mirrored)
    again = enc.encode_photos([a, b], cache=True)
    np.testing.assert_allclose(again, fresh, atol=1e-6)


def _jpeg(colour, size: int = 64) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def test_a_changed_photo_in_the_extracted_imagenet_sample_is_extracted_again(tmp_home, tmp_path):
    tar = write_tar(tmp_path / "sample.tar", {"imagenet_sample_256/000_n01440764_tench.jpg": _jpeg((200, 30, 30)),
                                              "imagenet_sample_256/001_n01443537_goldfish.jpg": _jpeg((30, 200, 30))})
    first = data.load_imagenet_sample(archive=tar)
    photo = tmp_home / "imagenet_sample_256" / "000_n01440764_tench.jpg"
    Image.new("RGB", (64, 64), (0, 0, 255)).save(photo, format="JPEG")  # swapped for another picture
    again = data.load_imagenet_sample(archive=tar)
    np.testing.assert_array_equal(again.images, first.images)
    (tmp_home / "imagenet_sample_256" / "001_n01443537_goldfish.jpg").unlink()
    assert len(data.load_imagenet_sample(archive=tar)) == 2


# ----------------------------------------------------------------------------- sealed entries (HMAC)
# A row or file that passes every plausibility check can still be another photo's: each entry is sealed with
# a key of the user's own (facelib.faces.cache_seal), so a swap, a copy or another user's cache is recomputed.


@pytest.fixture
def own_faces(monkeypatch):
    """``detect.main_faces`` replaced by one whose keypoints depend on the photo (so two photos' detections
    differ) and that counts its photos."""
    calls = []

    def main_faces(rgbs, **kw):
        calls.extend(rgbs)
        return [Face((10, 10, 44, 44), KP + float(rgb[0, 0, 0] % 9), 0.99) for rgb in rgbs]

    monkeypatch.setattr(detect, "main_faces", main_faces)
    return calls


def _counting_encoder(dim: int = 128) -> tuple[NetworkEncoder, list]:
    """The toy encoder, counting the faces it embeds (plain and mirrored both count)."""
    w = np.random.default_rng(1).normal(size=(3, dim))
    seen: list = []

    def embed(faces):
        seen.extend(faces)
        return faces.mean(axis=(1, 2)) @ w

    return NetworkEncoder("toy", 32, TEMPLATE_5, "course", embed, dim=dim), seen


def _store_arrays(store):
    with np.load(store) as z:
        return {name: z[name].copy() for name in z.files}


def test_two_swapped_encodings_are_each_recomputed(tmp_home, counted):
    enc, seen = _counting_encoder()
    photos = [_photo(1), _photo(2), _photo(3)]
    fresh = enc.encode_photos(photos)  # no cache: the reference
    enc.encode_photos(photos, cache=True)
    store = next((tmp_home / "cache" / "encodings").glob("*.npz"))
    arrays = _store_arrays(store)
    for name in ("plain", "mirrored"):  # rows 0 and 1 swapped; keys (and tags) left where they were
        arrays[name][[0, 1]] = arrays[name][[1, 0]]
    with store.open("wb") as fh:
        np.savez(fh, **arrays)
    seen.clear()
    again = enc.encode_photos(photos, cache=True)
    np.testing.assert_allclose(again, fresh, atol=1e-6)  # each photo its own encoding
    assert len(seen) == 2 * 2  # the two swapped rows were encoded again (plain + mirrored), the third reused
    seen.clear()
    np.testing.assert_allclose(enc.encode_photos(photos, cache=True), fresh, atol=1e-6)
    assert seen == []  # and rewritten: the next run reuses all three


def test_another_photos_detection_file_is_detected_again(tmp_home, own_faces):
    a, b = _photo(1), _photo(2)
    (path_a, key_a), (path_b, key_b) = _entry(tmp_home, a), _entry(tmp_home, b)
    first = encoder_cache.detect_photos([a, b], keys=[key_a, key_b])
    assert np.abs(first[0].keypoints - first[1].keypoints).max() > 0  # two photos, two detections
    path_a.write_bytes(path_b.read_bytes())  # a's file replaced by b's (same photo size, valid in every field)
    again = encoder_cache.detect_photos([a], keys=[key_a])
    assert len(own_faces) == 3  # a detected again
    np.testing.assert_array_equal(again[0].keypoints, first[0].keypoints)
    encoder_cache.detect_photos([a], keys=[key_a])
    assert len(own_faces) == 3  # and rewritten with its own detection


def test_a_cache_copied_from_another_user_is_not_trusted(tmp_path, monkeypatch, own_faces):
    import shutil

    from facelib import config

    enc, seen = _counting_encoder()
    photos = [_photo(1), _photo(2)]
    fresh = enc.encode_photos(photos)
    theirs, mine = tmp_path / "theirs", tmp_path / "mine"
    monkeypatch.setenv("FACELIB_HOME", str(theirs))
    config.reload()
    try:
        enc.encode_photos(photos, cache=True)
        shutil.copytree(theirs / "cache", mine / "cache")  # their cache, not their key
        monkeypatch.setenv("FACELIB_HOME", str(mine))
        config.reload()
        own_faces.clear()
        seen.clear()
        np.testing.assert_allclose(enc.encode_photos(photos, cache=True), fresh, atol=1e-6)
        assert len(own_faces) == 2 and len(seen) == 2 * 2  # detected and encoded again
        assert (mine / "cache.key").read_bytes() != (theirs / "cache.key").read_bytes()
    finally:
        monkeypatch.undo()
        config.reload()


_PRINT_KEY = "from facelib.faces import cache_seal\nprint(cache_seal.secret_key().hex())\n"


def test_the_key_is_made_once_private_and_shared_by_racing_processes(tmp_path):
    import subprocess
    import sys

    from hostile import REPO

    home = tmp_path / "home"
    env = {**__import__("os").environ, "PYTHONPATH": str(REPO), "FACELIB_HOME": str(home)}
    procs = [subprocess.Popen([sys.executable, "-c", _PRINT_KEY], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(4)]  # four processes race to create the key in an empty home
    keys = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert [p.returncode for p in procs] == [0] * 4
    key_file = home / "cache.key"
    assert keys == {key_file.read_bytes().hex()} and len(key_file.read_bytes()) == 32
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert not (home / "cache").exists() or not list((home / "cache").rglob("*.key"))  # outside cache/
    again = subprocess.run([sys.executable, "-c", _PRINT_KEY], capture_output=True, text=True, env=env, timeout=120)
    assert again.stdout.strip() == keys.pop()  # reused by a later process


def test_a_damaged_key_file_is_replaced(tmp_home):
    from facelib.faces import cache_seal

    tmp_home.mkdir(parents=True, exist_ok=True)
    (tmp_home / "cache.key").write_bytes(b"short")
    key = cache_seal.secret_key()
    assert len(key) == 32 and (tmp_home / "cache.key").read_bytes() == key
    assert (tmp_home / "cache.key").stat().st_mode & 0o777 == 0o600
    assert cache_seal.secret_key() == key


def test_a_key_that_cannot_be_read_means_no_cache(tmp_home, own_faces):
    """A planted cache (another photo's valid detection and encodings) is not used when the key cannot be
    read: the results are computed, with one warning, and nothing is kept."""
    import warnings

    enc, seen = _counting_encoder()
    a, b = _photo(1), _photo(2)
    fresh = enc.encode_photos([a, b])
    enc.encode_photos([a, b], cache=True)
    (path_a, _), (path_b, _) = _entry(tmp_home, a), _entry(tmp_home, b)
    path_a.write_bytes(path_b.read_bytes())
    store = next((tmp_home / "cache" / "encodings").glob("*.npz"))
    arrays = _store_arrays(store)
    arrays["plain"][[0, 1]] = arrays["plain"][[1, 0]]
    arrays["mirrored"][[0, 1]] = arrays["mirrored"][[1, 0]]
    with store.open("wb") as fh:
        np.savez(fh, **arrays)
    planted = store.read_bytes()
    (tmp_home / "cache.key").unlink(missing_ok=True)
    (tmp_home / "cache.key").mkdir()  # neither readable nor creatable (root ignores permission bits)
    own_faces.clear()
    seen.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = enc.encode_photos([a, b], cache=True)
    np.testing.assert_allclose(got, fresh, atol=1e-6)
    assert len(own_faces) == 2 and len(seen) == 2 * 2  # computed, not read
    assert len(caught) == 1 and "going on without a cache" in str(caught[0].message)
    assert store.read_bytes() == planted  # nothing written without a key


def test_an_older_facelibs_unsealed_cache_is_recomputed_once(tmp_home, own_faces):
    enc, seen = _counting_encoder()
    a, b = _photo(1), _photo(2)
    fresh = enc.encode_photos([a, b])
    enc.encode_photos([a, b], cache=True)
    path_a, _ = _entry(tmp_home, a)
    body = json.loads(path_a.read_text())
    path_a.write_text(json.dumps({k: v for k, v in body.items() if k != "tag"}))  # as facelib wrote it before
    store = next((tmp_home / "cache" / "encodings").glob("*.npz"))
    arrays = _store_arrays(store)
    with store.open("wb") as fh:
        np.savez(fh, keys=arrays["keys"], plain=arrays["plain"], mirrored=arrays["mirrored"])  # no tags
    own_faces.clear()
    seen.clear()
    np.testing.assert_allclose(enc.encode_photos([a, b], cache=True), fresh, atol=1e-6)
    assert len(own_faces) == 1 and len(seen) == 2 * 2  # a detected again, both encoded again
    np.testing.assert_allclose(enc.encode_photos([a, b], cache=True), fresh, atol=1e-6)
    assert len(own_faces) == 1 and len(seen) == 2 * 2  # once: sealed now
