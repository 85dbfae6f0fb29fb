"""Lesson 06's self-checks (receptive field, top-9 crops): right answers pass, stubs wait, mistakes fail."""

from __future__ import annotations

import numpy as np
import pytest
from check_cases import assert_waits_for_the_stub

from facelib import checks
from facelib.checks import CheckFailed, convnets


def right_receptive_field(layers):
    r, jump = 1, 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= s
    return r


def rf_ignores_jump(layers):          # r += k - 1: as if every stride were 1
    return 1 + sum(k - 1 for k, _ in layers)


def rf_jump_updated_first(layers):    # multiplies the jump by this layer's stride before adding
    r, jump = 1, 1
    for k, s in layers:
        jump *= s
        r += (k - 1) * jump
    return r


def rf_product_of_kernels(layers):
    return int(np.prod([k for k, _ in layers]))


def right_top9(a):
    peak = np.asarray(a).max(axis=(1, 2))          # (N, n_C)
    return np.argsort(-peak, axis=0)[:9].T          # (n_C, 9), largest first


WRONG_TOP9 = {
    "ascending argsort (the nine weakest)": lambda a: np.argsort(a.max(axis=(1, 2)), axis=0)[:9].T,
    "last nine of an ascending argsort, not reversed": lambda a: np.argsort(a.max(axis=(1, 2)), axis=0)[-9:].T,
    "ranked along the unit axis": lambda a: np.argsort(-a.max(axis=(1, 2)), axis=1)[:, :9].T,
    "unit axis flattened into the positions": lambda a: np.repeat(
        np.argsort(-a.reshape(len(a), -1).max(axis=1))[:9][None], a.shape[-1], axis=0),
    "values instead of indices": lambda a: -np.sort(-a.max(axis=(1, 2)), axis=0)[:9].T,
    "not transposed: (9, n_C)": lambda a: np.argsort(-a.max(axis=(1, 2)), axis=0)[:9],
    "mean over positions instead of max": lambda a: np.argsort(-a.mean(axis=(1, 2)), axis=0)[:9].T,
}

DETAILS = {
    "ascending argsort (the nine weakest)": "not among the top 9",
    "last nine of an ascending argsort, not reversed": "smallest first",
    "unit axis flattened into the positions": "every unit got the same nine crops",
    "values instead of indices": "activation values, not crop indices",
    "not transposed: (9, n_C)": "one row per unit",
}


def test_receptive_field_grid_hand_values_match_the_top_down_walk() -> None:
    for _, layers, by_hand in convnets._RF_GRID:
        assert convnets._receptive_field_top_down(layers) == by_hand
        assert right_receptive_field(layers) == by_hand  # and the lesson's bottom-up recurrence


def test_receptive_field_vgg_list_is_keras_vgg19() -> None:
    """The check's VGG19 layer list is Keras' VGG19 up to block5_conv4 (kernels and strides)."""
    import keras

    vgg = keras.applications.VGG19(weights=None, include_top=False, input_shape=(32, 32, 3))
    ks = []
    for layer in vgg.layers[1:]:
        if isinstance(layer, keras.layers.Conv2D):
            ks.append((layer.kernel_size[0], layer.strides[0]))
        else:
            ks.append((layer.pool_size[0], layer.strides[0]))
        if layer.name == "block5_conv4":
            break
    assert ks == convnets._VGG19_TO_BLOCK5_CONV4


def test_check_receptive_field_accepts_the_recurrence(capsys) -> None:
    assert bool(checks.check_receptive_field(right_receptive_field)) is True
    out = capsys.readouterr().out
    assert "✗" not in out and "all 6 checks passed" in out


@pytest.mark.parametrize("wrong", [rf_ignores_jump, rf_jump_updated_first, rf_product_of_kernels])
def test_check_receptive_field_rejects_typical_mistakes(wrong, capsys) -> None:
    with pytest.raises(CheckFailed):
        checks.check_receptive_field(wrong)
    out = capsys.readouterr().out
    assert "✗ VGG19 up to block5_conv4" in out and "expected 252" in out


def test_check_top9_accepts_argsort_of_the_peaks(capsys) -> None:
    assert bool(checks.check_top9(right_top9)) is True
    assert "✗" not in capsys.readouterr().out


def test_check_top9_accepts_a_tensor_result(capsys) -> None:
    import tensorflow as tf

    assert checks.check_top9(lambda a: tf.math.top_k(tf.transpose(tf.reduce_max(a, axis=[1, 2])), 9).indices)
    assert "all 3 checks passed" in capsys.readouterr().out


@pytest.mark.parametrize("name", list(WRONG_TOP9))
def test_check_top9_rejects_typical_mistakes(name, capsys) -> None:
    with pytest.raises(CheckFailed):
        checks.check_top9(WRONG_TOP9[name])
    out = capsys.readouterr().out
    assert "✗" in out and "expected" in out
    if name in DETAILS:
        assert DETAILS[name] in out


@pytest.mark.parametrize("name", ["check_receptive_field", "check_top9"])
def test_lesson06_checks_report_stub_as_not_attempted(name, capsys) -> None:
    assert_waits_for_the_stub(getattr(checks, name), capsys)
