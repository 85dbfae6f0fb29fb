"""facelib.conv.arithmetic against Keras layers, NumPy/scipy references and hand-worked numbers."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest

from facelib import conv
from facelib.conv import arithmetic

# --------------------------------------------------------------------------- output length vs Keras

def keras_conv1d_length(n: int, f: int, stride: int, padding: str) -> int:
    layer = keras.layers.Conv1D(1, f, strides=stride, padding=padding)
    return int(layer(np.zeros((1, n, 1), dtype=np.float32)).shape[1])


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_output_length_matches_keras(padding: str) -> None:
    checked = 0
    for n, f, stride in itertools.product([5, 8, 14, 17, 32], [1, 2, 3, 5], [1, 2, 3]):
        if padding == "valid" and f > n:
            continue
        expected = keras_conv1d_length(n, f, stride, padding)
        assert conv.conv1d_output_length(n, f, stride, padding) == expected, (n, f, stride)
        checked += 1
    assert checked == 60


def test_conv1d_output_length_lecture_and_hand_cases() -> None:
    # lecture: 14x1 input, filters of 5 -> 10 positions
    assert conv.conv1d_output_length(14, 5) == 10
    # (n - f)//s + 1 worked by hand: (10 - 3)//2 + 1 = 4; filter larger than input -> nothing
    assert conv.conv1d_output_length(10, 3, 2) == 4
    assert conv.conv1d_output_length(3, 5) == 0
    assert conv.conv1d_output_length(7, 3, 2, "same") == 4
    # dilation 2 makes a size-3 filter span 5 samples
    assert conv.conv1d_output_length(14, 3, dilation=2) == 10


@pytest.mark.parametrize("kwargs, word", [({"padding": "full"}, "padding"), ({"stride": 0}, "stride"),
                                          ({"f": 0}, "f")])
def test_conv1d_output_length_bad_arguments(kwargs: dict, word: str) -> None:
    args = {"n": 14, "f": 5, **kwargs}
    with pytest.raises(ValueError, match=word):
        conv.conv1d_output_length(**args)


# --------------------------------------------------------------------------- NumPy conv1d vs Keras

def test_conv1d_numpy_hand_worked() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])[:, None]
    w = np.array([1.0, 0.0, -1.0])[:, None, None]
    np.testing.assert_allclose(conv.conv1d_numpy(x, w)[:, 0], [-2.0, -2.0])
    np.testing.assert_allclose(conv.conv1d_numpy(x, w, b=np.array([0.5]))[:, 0], [-1.5, -1.5])


@pytest.mark.parametrize("padding, stride", [("valid", 1), ("valid", 2), ("same", 1), ("same", 3), ("causal", 1),
                                             ("causal", 2)])
def test_conv1d_numpy_equals_keras_layer(padding: str, stride: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 23, 3)).astype(np.float32)
    layer = keras.layers.Conv1D(4, 5, strides=stride, padding=padding)
    got_keras = np.asarray(layer(x))
    w, b = (np.asarray(v) for v in layer.get_weights())
    b = rng.normal(size=b.shape).astype(np.float32)
    layer.set_weights([w, b])
    got_keras = np.asarray(layer(x))
    ours = conv.conv1d_numpy(x, w, b, stride=stride, padding=padding)
    assert ours.shape == got_keras.shape
    np.testing.assert_allclose(ours, got_keras, atol=1e-5)


def test_lecture_conv1d_shape_and_parameters() -> None:
    layer = keras.layers.Conv1D(16, 5)
    out = layer(np.zeros((1, 14, 1), dtype=np.float32))
    assert tuple(out.shape) == (1, 10, 16)
    assert layer.count_params() == 5 * 1 * 16 + 16 == 96


@pytest.mark.parametrize("x, w, word", [(np.zeros(14), np.zeros((5, 1, 16)), "x"),
                                        (np.zeros((14, 1)), np.zeros((5, 16)), "w"),
                                        (np.zeros((14, 2)), np.zeros((5, 1, 16)), "w")])
def test_conv1d_numpy_wrong_rank(x: np.ndarray, w: np.ndarray, word: str) -> None:
    with pytest.raises(ValueError, match=rf"^{word} must have shape"):
        conv.conv1d_numpy(x, w)


# --------------------------------------------------------------------------- shape arithmetic vs Keras

@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv3d_output_shape_matches_keras(padding: str) -> None:
    checked = 0
    for n, f, s in itertools.product([5, 8, 14], [1, 3, 5], [1, 2, 3]):
        shape = (n, n + 1, n + 3, 2)
        layer = keras.layers.Conv3D(3, f, strides=s, padding=padding)
        want = tuple(layer(np.zeros((1, *shape), np.float32)).shape[1:])
        assert conv.conv3d_output_shape(shape, 3, f, s, padding) == want, (shape, f, s)
        checked += 1
    assert checked == 27


def test_conv3d_output_shape_per_axis_kernel_and_strides() -> None:
    layer = keras.layers.Conv3D(4, (3, 1, 2), strides=(1, 2, 3))
    want = tuple(layer(np.zeros((1, 9, 10, 11, 1), np.float32)).shape[1:])
    assert conv.conv3d_output_shape((9, 10, 11, 1), 4, (3, 1, 2), (1, 2, 3)) == want == (7, 5, 4, 4)


def test_lecture_conv3d_arithmetic() -> None:
    assert conv.conv3d_output_shape((14, 14, 14, 1), 16, 5) == (10, 10, 10, 16)
    assert conv.conv3d_output_shape((10, 10, 10, 16), 32, 5) == (6, 6, 6, 32)
    assert conv.conv_param_count(5, 1, 16) == 5 * 5 * 5 * 1 * 16 + 16 == 2016
    assert conv.conv_param_count(5, 16, 32) == 125 * 16 * 32 + 32 == 64032
    assert conv.conv_param_count(5, 1, 16, ndim=1) == 96
    model = keras.Sequential([keras.Input((14, 14, 14, 1)), keras.layers.Conv3D(16, 5), keras.layers.Conv3D(32, 5)])
    assert tuple(model.output_shape[1:]) == (6, 6, 6, 32)
    assert model.count_params() == 2016 + 64032


@pytest.mark.parametrize("k, c, n, ndim", [(3, 1, 8, 3), ((3, 1, 2), 4, 5, 3), (5, 3, 7, 2), (9, 1, 8, 1)])
def test_conv_param_count_matches_keras(k, c, n, ndim) -> None:
    layer = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}[ndim](n, k)
    layer.build((None,) + (10,) * ndim + (c,))
    assert conv.conv_param_count(k, c, n, ndim=ndim) == layer.count_params()


@pytest.mark.parametrize("args, word", [
    (((14, 14, 14), 16, 5), "input_shape"), (((14, 14, 14, 1), 16, 0), "kernel_size"),
    (((14, 14, 14, 1), 0, 5), "filters"), (((14, 14, 14, 1), 16, (5, 5)), "kernel_size"),
])
def test_conv3d_output_shape_bad_arguments(args, word) -> None:
    with pytest.raises(ValueError, match=word):
        conv.conv3d_output_shape(*args)
    with pytest.raises(ValueError, match="padding"):
        conv.conv3d_output_shape((14, 14, 14, 1), 16, 5, padding="causal")


# --------------------------------------------------------------------------- NumPy conv3d vs Keras

def test_conv3d_numpy_hand_worked() -> None:
    out = conv.conv3d_numpy(np.ones((3, 3, 3, 1)), np.ones((2, 2, 2, 1, 1)))
    assert out.shape == (2, 2, 2, 1)
    np.testing.assert_array_equal(out, 8.0)
    x = np.zeros((3, 3, 3, 1))
    x[1, 1, 1, 0] = 2.0
    w = np.arange(27.0).reshape(3, 3, 3, 1, 1)
    # one output position, only the centre voxel is non-zero: 2 * w[1, 1, 1] = 26
    assert conv.conv3d_numpy(x, w, b=np.array([1.0])).item() == 27.0


@pytest.mark.parametrize("strides", [1, 2, (1, 2, 3)])
def test_conv3d_numpy_equals_keras_layer(strides) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 9, 8, 7, 2)).astype(np.float32)
    layer = keras.layers.Conv3D(3, (3, 2, 3), strides=strides)
    layer.build(x.shape)
    w = rng.normal(size=(3, 2, 3, 2, 3)).astype(np.float32)
    b = rng.normal(size=3).astype(np.float32)
    layer.set_weights([w, b])
    want = np.asarray(layer(x))
    got = conv.conv3d_numpy(x, w, b, strides=strides)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_conv3d_numpy_equals_scipy_single_channel() -> None:
    from scipy.signal import correlate

    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(6, 7, 8)), rng.normal(size=(3, 2, 4))
    got = conv.conv3d_numpy(x[..., None], w[..., None, None])[..., 0]
    np.testing.assert_allclose(got, correlate(x, w, "valid"), atol=1e-10)


@pytest.mark.parametrize("x, w, word", [(np.zeros((5, 5, 5)), np.zeros((3, 3, 3, 1, 1)), "x"),
                                        (np.zeros((5, 5, 5, 1)), np.zeros((3, 3, 3, 1)), "w"),
                                        (np.zeros((5, 5, 5, 2)), np.zeros((3, 3, 3, 1, 4)), "w")])
def test_conv3d_numpy_wrong_rank(x, w, word) -> None:
    with pytest.raises(ValueError, match=rf"^{word} must have shape"):
        conv.conv3d_numpy(x, w)


def test_the_conv_package_re_exports_the_arithmetic():
    for name in arithmetic.__all__:
        assert getattr(conv, name) is getattr(arithmetic, name) and name in conv.__all__
