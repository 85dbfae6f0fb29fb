"""facelib.checks.siamese (lesson 02): right answers pass, typical mistakes fail, stubs wait."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from check_cases import assert_accepts, assert_waits_for_the_stub, stub

from facelib import faces
from facelib.checks import GRADIENT_HINT, CheckFailed
from facelib.checks import siamese as checks


def _same(e1, e2, tau):
    d = np.sqrt(((np.asarray(e1) - np.asarray(e2)) ** 2).sum(1))
    return d, d <= tau


def test_same_person(capsys):
    assert checks.check_same_person(_same)
    with pytest.raises(CheckFailed):  # strict < misses d == tau
        checks.check_same_person(lambda a, b, t: (_same(a, b, t)[0], _same(a, b, t)[0] < t))
    with pytest.raises(CheckFailed):  # squared distance
        checks.check_same_person(lambda a, b, t: (_same(a, b, t)[0] ** 2, _same(a, b, t)[0] ** 2 <= t))
    assert "expected" in capsys.readouterr().out
    assert not checks.check_same_person(stub)


def contrastive(y, d, margin):
    return tf.reduce_mean(y * tf.square(d) + (1.0 - y) * tf.square(tf.maximum(margin - d, 0.0)))


def test_contrastive_loss_accepts_the_reference_and_facelib(capsys):
    assert_accepts(checks.check_contrastive_loss, [contrastive, faces.contrastive_loss], 7, capsys)


@pytest.mark.parametrize("wrong", [
    lambda y, d, m: tf.reduce_sum(y * tf.square(d) + (1.0 - y) * tf.square(tf.maximum(m - d, 0.0))),  # sum
    lambda y, d, m: tf.reduce_mean((1.0 - y) * tf.square(d) + y * tf.square(tf.maximum(m - d, 0.0))),  # y swapped
    lambda y, d, m: tf.reduce_mean(y * tf.square(d) + (1.0 - y) * tf.maximum(m - d, 0.0)),  # hinge not squared
    lambda y, d, m: tf.reduce_mean(y * tf.square(d) + (1.0 - y) * tf.square(tf.maximum(m - tf.square(d), 0.0))),
    lambda y, d, m: tf.reduce_mean(y * d + (1.0 - y) * tf.square(tf.maximum(m - d, 0.0))),  # d not squared
], ids=["sum-not-mean", "y-swapped", "hinge-not-squared", "margin-on-d-squared", "d-not-squared"])
def test_contrastive_loss_catches_mistakes(wrong):
    with pytest.raises(CheckFailed):
        checks.check_contrastive_loss(wrong)


def test_contrastive_loss_numpy_gets_the_gradient_hint(capsys):
    def numpy_loss(y, d, m):
        y, d = np.asarray(y), np.asarray(d)
        return np.mean(y * d**2 + (1 - y) * np.maximum(m - d, 0) ** 2)

    with pytest.raises(CheckFailed):
        checks.check_contrastive_loss(numpy_loss)
    out = capsys.readouterr().out
    assert GRADIENT_HINT in out
    assert out.count("✓") == 6  # the values are right; only the gradient case fails


# --------------------------------------------------------------------------- the Siamese pass

def siamese(encoder, x1, x2):
    return tf.norm(encoder(x1) - encoder(x2), axis=-1)


def test_siamese_distance_accepts_the_shared_encoder(capsys):
    def via_siamese_network(encoder, x1, x2):
        f1, f2 = faces.SiameseNetwork(encoder, loss="contrastive")((x1, x2))
        return tf.sqrt(tf.reduce_sum(tf.square(f1 - f2), axis=1))

    assert_accepts(checks.check_siamese_distance, [siamese, via_siamese_network], 4, capsys)


def two_encoders(encoder, x1, x2):
    other = keras.models.clone_model(encoder)  # the same architecture, weights of its own
    return tf.norm(encoder(x1) - other(x2), axis=-1)


@pytest.mark.parametrize("wrong", [
    two_encoders,
    lambda encoder, x1, x2: tf.norm(encoder(x1) - encoder(x2), axis=0),          # one number per coordinate
    lambda encoder, x1, x2: np.linalg.norm(np.asarray(encoder(x1)) - np.asarray(encoder(x2)), axis=1),  # NumPy
    lambda encoder, x1, x2: tf.reduce_sum(tf.square(encoder(x1) - encoder(x2)), axis=-1),  # squared
    lambda encoder, x1, x2: tf.norm(x1 - x2, axis=-1),                               # no encoder at all
], ids=["two-separate-encoders", "wrong-axis", "numpy-distance", "squared", "distance-of-the-inputs"])
def test_siamese_distance_catches_mistakes(wrong, capsys):
    with pytest.raises(CheckFailed):
        checks.check_siamese_distance(wrong)
    assert "✗" in capsys.readouterr().out


def test_siamese_distance_explains_two_encoders_and_numpy(capsys):
    with pytest.raises(CheckFailed):
        checks.check_siamese_distance(two_encoders)
    assert "weights of its own" in capsys.readouterr().out
    with pytest.raises(CheckFailed):
        checks.check_siamese_distance(lambda e, a, b: np.linalg.norm(np.asarray(e(a)) - np.asarray(e(b)), axis=1))
    out = capsys.readouterr().out
    assert GRADIENT_HINT in out and "✗ the gradient of d reaches the encoder's weights" in out


def test_siamese_distance_stub_is_not_attempted(capsys):
    assert_waits_for_the_stub(checks.check_siamese_distance, capsys)
