"""The lesson 08/09 self-checks accept right answers, reject wrong ones, and spot stubs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from check_cases import assert_waits_for_the_stub

from facelib import checks
from facelib.checks import CheckFailed


def right_length(n, f, stride=1, padding="valid"):
    return (n - f) // stride + 1 if padding == "valid" else math.ceil(n / stride)


def right_conv1d(x, w):
    f = len(w)
    return np.array([np.dot(x[i: i + f], w) for i in range(len(x) - f + 1)])


def right_conv3d(x, w):
    o = [a - b + 1 for a, b in zip(x.shape, w.shape)]
    out = np.zeros(o)
    for i in range(o[0]):
        for j in range(o[1]):
            for k in range(o[2]):
                out[i, j, k] = np.sum(x[i: i + w.shape[0], j: j + w.shape[1], k: k + w.shape[2]] * w)
    return out


def right_shape(s, k, f, stride=1, padding="valid"):
    if padding == "valid":
        return tuple((n - f) // stride + 1 for n in s[:3]) + (k,)
    return tuple(math.ceil(n / stride) for n in s[:3]) + (k,)


def shape_same_by_half_filter(s, k, f, stride=1, padding="valid"):
    """'same' as p = (f - 1) // 2 on each side: wrong for even filters."""
    p = (f - 1) // 2 if padding == "same" else 0
    return tuple((n + 2 * p - f) // stride + 1 for n in s[:3]) + (k,)


def length_same_by_half_filter(n, f, stride=1, padding="valid"):
    """'same' as p = (f - 1) // 2 on each side (and causal as p = f - 1): wrong for even filters."""
    p = {"valid": 0, "same": 2 * ((f - 1) // 2), "causal": f - 1}[padding]
    return (n + p - f) // stride + 1


RIGHT_AND_WRONG = [
    ("check_conv1d_output_length", right_length, [
        lambda n, f, stride=1, padding="valid": n - f + 1,                      # ignores stride and padding
        lambda n, f, stride=1, padding="valid": (n - f) // stride + 1,          # ignores padding
        lambda n, f, stride=1, padding="valid": math.ceil((n - f) / stride) + 1 if padding == "valid"
        else math.ceil(n / stride),                                             # ceil for valid
        length_same_by_half_filter]),                                            # even-filter "same"
    ("check_conv1d_single", right_conv1d, [
        lambda x, w: np.convolve(x, w, "valid"),                                 # flips the filter
        lambda x, w: np.array([np.dot(x[i: i + len(w)], w) for i in range(len(x) - len(w))])]),  # one short
    ("check_f1_score", lambda tp, fp, fn: 2 * tp / (2 * tp + fp + fn), [
        lambda tp, fp, fn: tp / (tp + fp),                                       # precision only
        lambda tp, fp, fn: (tp / (tp + fp) + tp / (tp + fn)) / 2]),              # arithmetic mean
    ("check_conv3d_output_shape", right_shape, [
        lambda s, k, f, stride=1, padding="valid": tuple(n - f + 1 for n in s[:3]) + (k,),   # no stride/padding
        lambda s, k, f, stride=1, padding="valid": tuple(n - f for n in s[:3]) + (k,),       # off by one
        shape_same_by_half_filter,                                                            # even-filter "same"
        lambda s, k, f, stride=1, padding="valid": right_shape(s, k, f, stride, padding)[:3] + (s[3],)]),  # n_c
    ("check_conv3d_param_count", lambda f, c, k: f ** 3 * c * k + k, [
        lambda f, c, k: f ** 3 * c * k,                                          # no biases
        lambda f, c, k: f ** 3 * k + k]),                                        # forgets the input channels
    ("check_conv3d_single", right_conv3d, [
        lambda x, w: right_conv3d(x, w[::-1, ::-1, ::-1]),                       # flips the filter
        lambda x, w: right_conv3d(x, w)[:-1, :-1, :-1]]),                        # one position short per axis
]
CASES = [(name, right, i, wrong) for name, right, wrongs in RIGHT_AND_WRONG for i, wrong in enumerate(wrongs)]


@pytest.mark.parametrize("name, right", [r[:2] for r in RIGHT_AND_WRONG], ids=[r[0] for r in RIGHT_AND_WRONG])
def test_check_accepts_right(name, right, capsys) -> None:
    assert bool(getattr(checks, name)(right)) is True
    out = capsys.readouterr().out
    assert "✗" not in out and "checks passed" in out


@pytest.mark.parametrize("name, right, i, wrong", CASES, ids=[f"{c[0]}-wrong{c[2]}" for c in CASES])
def test_check_rejects_typical_mistakes(name, right, i, wrong, capsys) -> None:
    with pytest.raises(CheckFailed):
        getattr(checks, name)(wrong)
    out = capsys.readouterr().out
    assert "✗" in out and "expected" in out


def test_every_conv_check_has_two_wrong_answers() -> None:
    assert all(len(wrongs) >= 2 for _, _, wrongs in RIGHT_AND_WRONG)


@pytest.mark.parametrize("name", [r[0] for r in RIGHT_AND_WRONG])
def test_check_reports_stub_as_not_attempted(name, capsys) -> None:
    assert_waits_for_the_stub(getattr(checks, name), capsys)


def test_conv3d_shape_check_agrees_with_keras(capsys) -> None:
    """The check's position counting is what Keras' Conv3D does (valid and same, strides, even f)."""
    import keras

    seen = []

    def keras_shape(s, k, f, stride=1, padding="valid"):
        seen.append(padding)
        layer = keras.layers.Conv3D(k, f, strides=stride, padding=padding)
        return tuple(layer.compute_output_shape((None, *s))[1:])

    assert checks.check_conv3d_output_shape(keras_shape)
    assert {"valid", "same"} <= set(seen)


def test_conv3d_shape_check_explains_even_filter_same_padding(capsys) -> None:
    with pytest.raises(CheckFailed):
        checks.check_conv3d_output_shape(shape_same_by_half_filter)
    out = capsys.readouterr().out
    assert "even filter" in out and "✗ input (16, 16, 16, 3), 4 filters of 4×4×4, stride 1, padding 'same'" in out


def test_conv1d_length_check_explains_even_filter_same_padding(capsys) -> None:
    assert length_same_by_half_filter(14, 5, padding="same") == 14  # right for odd filters...
    assert length_same_by_half_filter(14, 4, padding="same") == 13  # ...one short for even ones
    with pytest.raises(CheckFailed):
        checks.check_conv1d_output_length(length_same_by_half_filter)
    out = capsys.readouterr().out
    assert "✗ n=14, f=4, stride=1, padding='same'" in out and "✓ n=14, f=5, stride=1, padding='same'" in out


def test_conv1d_length_check_catches_wrong_same_padding() -> None:
    def ignores_padding(n, f, stride=1, padding="valid"):
        return (n - f) // stride + 1

    with pytest.raises(CheckFailed):
        checks.check_conv1d_output_length(ignores_padding)
