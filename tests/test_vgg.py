"""VGG19 feature extractor: layer selection, truncation, and the dequantised q8 weights."""

from __future__ import annotations

import numpy as np
import pytest

from facelib.models import vgg
from facelib.models.vgg import VGG19_CONV_LAYERS, caffe_preprocess, vgg19_features


def test_output_shapes_and_truncation() -> None:
    model = vgg19_features(["block1_conv1", "block3_conv2", "block4_conv1"], weights=None)
    outs = model(np.zeros((1, 64, 96, 3), np.float32))
    # 64x96 halves at each pool: block1 full size, block3 after two pools, block4 after three
    assert [tuple(o.shape) for o in outs] == [(1, 64, 96, 64), (1, 16, 24, 256), (1, 8, 12, 512)]
    names = {layer.name for layer in model.layers}
    assert "block4_conv1" in names and "block4_conv2" not in names and "block5_conv1" not in names
    assert not model.trainable


def test_imagenet_falls_back_to_q8_when_the_h5_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    from facelib import assets

    real_fetch = assets.fetch
    asked = []

    def fetch(name: str, **kw):  # type: ignore[no-untyped-def]
        asked.append(name)
        if name == "vgg19-notop-imagenet":
            raise assets.AssetUnavailableError("offline (simulated)")
        return real_fetch(name, **kw)

    monkeypatch.setattr(assets, "fetch", fetch)
    monkeypatch.setattr(vgg, "_BASES", {})  # an earlier test may have loaded the shared VGG19 already
    model = vgg19_features(["block1_conv1"], weights="imagenet")
    assert asked[0] == "vgg19-notop-imagenet"
    assert model.weights_source == "vgg19-notop-imagenet-q8"
    with pytest.raises(ValueError, match="weights must be"):
        vgg19_features(["block1_conv1"], weights="cifar")


def test_imagenet_vgg19_is_loaded_once_and_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lesson 07 asks for a dozen layer sets: the 80 MB of weights must be in memory once."""
    loads = []
    real = vgg.load_vgg19_weights
    monkeypatch.setattr(vgg, "load_vgg19_weights", lambda base, w: loads.append(w) or real(base, w))
    monkeypatch.setattr(vgg, "_BASES", {})
    a = vgg19_features(["block1_conv1", "block5_conv4"], weights="imagenet-q8")
    b = vgg19_features(["block3_conv1"], weights="imagenet-q8")
    assert loads == ["imagenet-q8"]
    assert a.get_layer("block1_conv1").kernel is b.get_layer("block1_conv1").kernel
    x = np.random.default_rng(0).random((1, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(a(x)[0], b.get_layer("block1_conv1")(x))   # the same weights answer
    r1, r2 = vgg19_features(["block1_conv1"], weights=None), vgg19_features(["block1_conv1"], weights=None)
    assert r1.get_layer("block1_conv1").kernel is not r2.get_layer("block1_conv1").kernel   # random: fresh


def test_unknown_layer_and_empty_list() -> None:
    with pytest.raises(ValueError, match="unknown VGG19 layer"):
        vgg19_features(["block6_conv1"], weights=None)
    with pytest.raises(ValueError, match="empty"):
        vgg19_features([], weights=None)


def test_layer_list_matches_vgg19() -> None:
    assert len(VGG19_CONV_LAYERS) == 16
    assert VGG19_CONV_LAYERS[:3] == ("block1_conv1", "block1_conv2", "block2_conv1")
    assert VGG19_CONV_LAYERS[-1] == "block5_conv4"


def test_caffe_preprocess_against_hand_values() -> None:
    rgb = np.array([[[[1.0, 0.5, 0.0]]]], np.float32)  # R=255, G=127.5, B=0
    out = caffe_preprocess(rgb).numpy()
    np.testing.assert_allclose(out[0, 0, 0], [0.0 - 103.939, 127.5 - 116.779, 255.0 - 123.68], rtol=1e-6)


def test_q8_weights_are_table_of_indices_transposed() -> None:
    from facelib import assets
    from facelib.models.torch_legacy import load_legacy

    model = vgg19_features(["block1_conv1", "block2_conv1"], weights="imagenet-q8")
    assert model.weights_source == "vgg19-notop-imagenet-q8"
    raw = load_legacy(assets.fetch("vgg19-notop-imagenet-q8"))
    for name in ("block1_conv1", "block2_conv1"):
        kernel, bias = model.get_layer(name).get_weights()
        q, table = raw[f"{name}_W_q"], raw[f"{name}_W_table"]
        out_c, in_c, kh, kw = q.shape
        assert kernel.shape == (kh, kw, in_c, out_c)
        rng = np.random.default_rng(0)
        for _ in range(50):  # element by element: kernel[h, w, i, o] = table[q[o, i, h, w]]
            o, i, h, w = (int(rng.integers(n)) for n in (out_c, in_c, kh, kw))
            assert kernel[h, w, i, o] == table[q[o, i, h, w]]
        np.testing.assert_array_equal(bias, raw[f"{name}_b"])
    # pretrained first-layer filters are far from Glorot-uniform noise: their biases are not all 0
    assert np.abs(model.get_layer("block1_conv1").get_weights()[1]).max() > 0.1
