"""Hostile inputs, part 4 (issue 28): caches hold derived data, so they are checked on reading and recomputed
on any doubt; the extracted ImageNet sample is checked against what was extracted.

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
