"""facelib.checks.check_painter_train_step: the right step passes, the stub is "not attempted yet",
and the mistakes students make fail with their own hint."""

from __future__ import annotations

import pytest
import tensorflow as tf

from facelib import checks, style
from facelib.checks.core import NOT_ATTEMPTED, CheckFailed


def right(painter, vgg, photo, a_S, STYLE_LAYERS, optimizer, alpha=1.0, beta=1e-5):
    with tf.GradientTape() as tape:
        G = painter(photo, training=True)
        a_G, a_C = vgg(G), vgg(photo)
        J = style.total_cost(style.compute_content_cost(a_C[-1], a_G[-1]),
                             style.compute_style_cost(a_S, a_G, STYLE_LAYERS), alpha, beta)
    grads = tape.gradient(J, painter.trainable_variables)
    optimizer.apply_gradients(zip(grads, painter.trainable_variables))
    return J


def gradient_of_the_image(painter, vgg, photo, a_S, STYLE_LAYERS, optimizer, alpha=1.0, beta=1e-5):
    with tf.GradientTape() as tape:                      # lesson 07's train_step copied: dJ/dG
        G = painter(photo, training=True)
        tape.watch(G)
        a_G, a_C = vgg(G), vgg(photo)
        J = style.total_cost(style.compute_content_cost(a_C[-1], a_G[-1]),
                             style.compute_style_cost(a_S, a_G, STYLE_LAYERS), alpha, beta)
    tape.gradient(J, G)
    return J


def vgg_not_frozen(painter, vgg, photo, a_S, STYLE_LAYERS, optimizer, alpha=1.0, beta=1e-5):
    variables = painter.trainable_variables + vgg.weights
    with tf.GradientTape() as tape:
        G = painter(photo, training=True)
        a_G, a_C = vgg(G), vgg(photo)
        J = style.total_cost(style.compute_content_cost(a_C[-1], a_G[-1]),
                             style.compute_style_cost(a_S, a_G, STYLE_LAYERS), alpha, beta)
    grads = tape.gradient(J, variables)
    optimizer.apply_gradients(zip(grads, variables))
    return J


def no_style_term(painter, vgg, photo, a_S, STYLE_LAYERS, optimizer, alpha=1.0, beta=1e-5):
    with tf.GradientTape() as tape:
        G = painter(photo, training=True)
        J = alpha * style.compute_content_cost(vgg(photo)[-1], vgg(G)[-1])
    grads = tape.gradient(J, painter.trainable_variables)
    optimizer.apply_gradients(zip(grads, painter.trainable_variables))
    return J


def content_of_itself(painter, vgg, photo, a_S, STYLE_LAYERS, optimizer, alpha=1.0, beta=1e-5):
    with tf.GradientTape() as tape:
        G = painter(photo, training=True)
        a_G = vgg(G)
        J = style.total_cost(style.compute_content_cost(a_G[-1], a_G[-1]),
                             style.compute_style_cost(a_S, a_G, STYLE_LAYERS), alpha, beta)
    grads = tape.gradient(J, painter.trainable_variables)
    optimizer.apply_gradients(zip(grads, painter.trainable_variables))
    return J


def stub(*args):
    # YOUR CODE HERE
    raise NotImplementedError


def test_the_right_step_passes(capsys: pytest.CaptureFixture) -> None:
    assert checks.check_painter_train_step(right)
    assert "all 3 checks passed" in capsys.readouterr().out


def test_the_stub_is_not_attempted(capsys: pytest.CaptureFixture) -> None:
    assert not checks.check_painter_train_step(stub)
    assert NOT_ATTEMPTED in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (gradient_of_the_image, "not dJ/dG"),
    (vgg_not_frozen, "the ConvNet only measures"),
    (no_style_term, "J has no style term"),
    (content_of_itself, "the *photo's*"),
])
def test_typical_mistakes_fail_with_their_hint(wrong, hint: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(CheckFailed):
        checks.check_painter_train_step(wrong)
    assert hint in capsys.readouterr().out
