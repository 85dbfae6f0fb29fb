"""facelib.checks.binary (lesson 04): right answers pass, typical mistakes fail, stubs wait."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from check_cases import assert_accepts, stub

from facelib.checks import GRADIENT_HINT, CheckFailed
from facelib.checks import binary as checks


def test_chi2_features():
    assert checks.check_chi2_features(lambda a, b, eps: (a - b) ** 2 / (np.abs(a) + np.abs(b) + eps))
    with pytest.raises(CheckFailed):  # the lecture's formula without |.| breaks on signed encodings
        checks.check_chi2_features(lambda a, b, eps: (a - b) ** 2 / (a + b + eps))
    with pytest.raises(CheckFailed):  # eps forgotten is fine unless both are 0; |a - b| instead of the square is not
        checks.check_chi2_features(lambda a, b, eps: np.abs(a - b) / (np.abs(a) + np.abs(b) + eps))
    assert not checks.check_chi2_features(stub)


def head(f1, f2, w, b, kind="abs", eps=1e-6):
    diff = f1 - f2
    phi = tf.abs(diff) if kind == "abs" else tf.square(diff) / (tf.abs(f1) + tf.abs(f2) + eps)
    return tf.sigmoid(tf.reduce_sum(phi * w, axis=-1) + b)


def test_verification_head_accepts_the_reference(capsys):
    assert_accepts(checks.check_verification_head, [head], 6, capsys)


@pytest.mark.parametrize("wrong", [
    lambda f1, f2, w, b, kind="abs", eps=1e-6: tf.sigmoid(tf.reduce_sum(head_phi(f1, f2, kind, eps) * w) + b),
    lambda f1, f2, w, b, kind="abs", eps=1e-6: tf.reduce_sum(head_phi(f1, f2, kind, eps) * w, axis=-1) + b,
    lambda f1, f2, w, b, kind="abs", eps=1e-6: tf.sigmoid(tf.reduce_sum((f1 - f2) * w, axis=-1) + b),
    lambda f1, f2, w, b, kind="abs", eps=1e-6: tf.sigmoid(tf.reduce_sum(
        (tf.abs(f1 - f2) if kind == "abs" else tf.square(f1 - f2) / (f1 + f2 + eps)) * w, axis=-1) + b),
    lambda f1, f2, w, b, kind="abs", eps=1e-6: tf.sigmoid(tf.reduce_sum(head_phi(f1, f2, kind, eps) * w, axis=-1,
                                                                         keepdims=True) + b),
], ids=["reduce_sum-without-axis", "no-sigmoid", "no-abs", "chi2-without-abs-denominator", "shape-(m,1)"])
def test_verification_head_catches_mistakes(wrong):
    with pytest.raises(CheckFailed):
        checks.check_verification_head(wrong)


def head_phi(f1, f2, kind, eps):
    return tf.abs(f1 - f2) if kind == "abs" else tf.square(f1 - f2) / (tf.abs(f1) + tf.abs(f2) + eps)


def test_verification_head_numpy_gets_the_gradient_hint(capsys):
    def numpy_head(f1, f2, w, b, kind="abs", eps=1e-6):
        f1, f2, w, b = (np.asarray(t) for t in (f1, f2, w, b))
        phi = np.abs(f1 - f2) if kind == "abs" else (f1 - f2) ** 2 / (np.abs(f1) + np.abs(f2) + eps)
        return 1 / (1 + np.exp(-(phi @ w + b)))

    with pytest.raises(CheckFailed):
        checks.check_verification_head(numpy_head)
    out = capsys.readouterr().out
    assert GRADIENT_HINT in out and out.count("✓") == 4
