"""facelib.models.inception_resnet (builder ``facenet``): architecture, weights by layer name, layers, preprocessing."""

from __future__ import annotations

import h5py
import keras
import numpy as np
import pytest

from facelib import assets
from facelib.models.facenet_input import preprocess
from facelib.models.inception_resnet import ScaleSum, facenet, inception_resnet_v1, load_facenet_weights


@pytest.fixture(scope="module")
def h5_path():
    return assets.fetch("facenet-keras-128")


@pytest.fixture(scope="module")
def model():
    from facelib.faces import default_model

    return default_model()


def _h5_arrays(path):
    """{layer: [arrays]} read straight from the Keras-2 file."""
    out = {}
    with h5py.File(path, "r") as f:
        g = f["model_weights"]
        for layer in g.attrs["layer_names"]:
            layer = layer.decode()
            names = [n.decode() for n in g[layer].attrs["weight_names"]]
            if names:
                out[layer] = [np.asarray(g[layer][n]) for n in names]
    return out


def test_parameter_count_matches_the_file_and_is_22_8_million(model, h5_path):
    in_file = sum(a.size for arrays in _h5_arrays(h5_path).values() for a in arrays)
    assert model.count_params() == in_file
    assert abs(model.count_params() - 22.8e6) < 0.05e6
    assert model.input_shape == (None, 160, 160, 3)
    assert model.output_shape == (None, 128)


def test_every_weight_comes_from_the_file_by_name(model, h5_path):
    arrays = _h5_arrays(h5_path)
    weighted = [l for l in model.layers if l.weights]
    assert {l.name for l in weighted} == set(arrays)
    for name in ("Conv2d_1a_3x3", "Block17_7_Conv2d_1x1", "Mixed_7a_Branch_2_Conv2d_0b_3x3_BatchNorm", "Bottleneck"):
        layer = model.get_layer(name)
        for got, expected in zip(layer.get_weights(), arrays[name]):
            np.testing.assert_array_equal(got, expected)


def test_no_lambda_layers_and_residual_scales_of_the_paper(model):
    kinds = {type(l).__name__ for l in model.layers}
    assert "Lambda" not in kinds
    scales = [l.scale for l in model.layers if isinstance(l, ScaleSum)]
    assert scales == [0.17] * 5 + [0.1] * 10 + [0.2] * 5 + [1.0]


def test_scale_sum_is_x_plus_scale_times_r():
    rng = np.random.default_rng(0)
    x, r = rng.normal(size=(2, 3, 3, 4)).astype(np.float32), rng.normal(size=(2, 3, 3, 4)).astype(np.float32)
    got = np.asarray(ScaleSum(0.17)([x, r]))
    np.testing.assert_allclose(got, x + np.float32(0.17) * r, rtol=1e-6)


def test_tiny_model_survives_keras_save_and_load(tmp_path):
    keras.utils.set_random_seed(1)
    tiny = inception_resnet_v1(input_shape=(75, 75, 3), classes=16, repeats=(1, 1, 1), name="tiny")
    x = np.random.default_rng(2).uniform(size=(2, 75, 75, 3)).astype(np.float32)
    before = np.asarray(tiny(x, training=False))
    path = tmp_path / "tiny.keras"
    tiny.save(path)
    again = keras.models.load_model(path)  # no custom_objects: ScaleSum is registered
    np.testing.assert_array_equal(np.asarray(again(x, training=False)), before)
    assert [l.scale for l in again.layers if isinstance(l, ScaleSum)] == [0.17, 0.1, 0.2, 1.0]


def test_wrong_weights_file_names_the_layer(tmp_path):
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        g = f.create_group("model_weights").create_group("Conv2d_1a_3x3")
        g.attrs["weight_names"] = [b"Conv2d_1a_3x3/kernel:0"]
        g.create_dataset("Conv2d_1a_3x3/kernel:0", data=np.zeros((5, 5, 3, 32), np.float32))
    tiny = inception_resnet_v1(input_shape=(75, 75, 3), repeats=(1, 1, 1))
    with pytest.raises(ValueError, match="Conv2d_1a_3x3"):
        load_facenet_weights(tiny, bad)


def test_preprocessing_course_is_rgb_over_255():
    x = np.array([[[0, 51, 255]]], dtype=np.uint8).repeat(4, 0).repeat(4, 1)
    np.testing.assert_allclose(preprocess(x, "course")[0, 0], [0.0, 0.2, 1.0], rtol=1e-6)


def test_preprocessing_standardize_is_per_image():
    rng = np.random.default_rng(3)
    x = np.stack([rng.integers(0, 256, (8, 8, 3)), rng.integers(100, 120, (8, 8, 3))]).astype(np.uint8)
    z = preprocess(x, "standardize")
    for k in range(2):
        xk = x[k].astype(np.float64)
        np.testing.assert_allclose(z[k], (xk - xk.mean()) / xk.std(), rtol=1e-4, atol=1e-5)
    flat = preprocess(np.full((1, 8, 8, 3), 7, np.uint8), "standardize")
    assert np.all(flat == 0) and np.isfinite(flat).all()
    with pytest.raises(ValueError, match="preprocessing"):
        preprocess(x, "imagenet")


def test_bfloat16_policy_model_agrees_with_float32(model):
    bf = facenet(policy="mixed_bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after building
    x = preprocess(np.random.default_rng(4).integers(0, 256, (2, 160, 160, 3)), "standardize")
    a = np.asarray(model(x, training=False))
    b = np.asarray(bf(x, training=False)).astype(np.float32)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    assert np.max(np.linalg.norm(a - b, axis=1)) < 0.1  # bfloat16 has 8 mantissa bits


def test_builder_is_exported_by_the_package_and_is_a_function():
    import types

    import facelib.models
    from facelib.models import facenet as exported

    assert exported is facenet and isinstance(exported, types.FunctionType)
    assert facelib.models.facenet is facenet  # also after the sub-module was imported
    assert "facenet" in facelib.models.__all__
