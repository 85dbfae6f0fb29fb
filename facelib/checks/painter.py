"""Self-check for lesson 07's "Going further": one training step of a network that paints.

The student writes ``painter_train_step(painter, vgg, photo, a_S, STYLE_LAYERS, optimizer, alpha, beta)``:
under a ``tf.GradientTape``, :math:`G = f_W(C)`, the activations of :math:`G` and of the photo through the
frozen ConvNet, :math:`J = \\alpha J_{content} + \\beta J_{style}`; then :math:`\\partial J/\\partial W` for the
*painter's* weights (not :math:`\\partial J/\\partial G`, and never the frozen ConvNet's) and the optimizer's
update. The check runs a small painter (one convolution) and a small frozen ConvNet standing in for VGG19,
with plain SGD, against a step written out here: the cost with TF ops independent of
:mod:`facelib.style` (:func:`facelib.checks.nst._reference_cost`) and :math:`W - \\eta\\, \\partial J/\\partial W`
in NumPy. Typical mistakes get their own hint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from facelib.checks.core import Case, Verdict, compare, report
from facelib.checks.nst import _reference_cost, _tiny_model

__all__ = ["check_painter_train_step"]

_LR = 0.05


def _tiny_painter() -> Any:
    """A one-convolution "painter": ``(1, n_H, n_W, 3)`` → the same shape in (0, 1), fixed weights."""
    import keras

    x = keras.Input((None, None, 3))
    y = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="paint",
                            kernel_initializer=keras.initializers.GlorotUniform(seed=7),
                            bias_initializer=keras.initializers.Constant(0.1))(x)
    return keras.Model(x, y)


def _inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return (rng.uniform(0.1, 0.9, (1, 8, 8, 3)).astype(np.float32),
            rng.uniform(0.0, 1.0, (1, 8, 8, 3)).astype(np.float32))


def _expected(photo: np.ndarray, a_S: Any, vgg: Any, layers: list[tuple[str, float]], alpha: float,
              beta: float) -> tuple[float, list[np.ndarray], float, float]:
    """``(J, weights after one SGD step, alpha J_content, beta J_style)`` from the reference cost."""
    import tensorflow as tf

    painter = _tiny_painter()
    C = tf.constant(photo)
    a_C = vgg(C)
    with tf.GradientTape() as tape:
        G = painter(C)
        J = _reference_cost(vgg, G, a_C, a_S, layers, alpha, beta)
    grads = tape.gradient(J, painter.trainable_variables)
    after = [w.numpy() - _LR * g.numpy() for w, g in zip(painter.trainable_variables, grads)]
    G0 = painter(C)
    content_only = float(_reference_cost(vgg, G0, a_C, a_S, layers, alpha, 0.0))
    return float(J), after, content_only, float(J) - content_only


def _mistake_hints(J: float, J_ref: float, content_part: float, style_part: float) -> str:
    if np.isclose(J, content_part, rtol=1e-3):
        return "J has no style term: J = alpha * J_content + beta * J_style"
    if np.isclose(J, style_part, rtol=1e-3):
        return ("J_content is 0: compare the painting's activations with the *photo's* (a_C = vgg(photo)), "
                "not with its own")
    return "J = alpha * J_content(photo, G) + beta * J_style(S, G), with G = painter(photo)"


def check_painter_train_step(painter_train_step: Callable) -> Verdict:
    """Check ``painter_train_step(painter, vgg, photo, a_S, STYLE_LAYERS, optimizer, alpha, beta)`` (returns J)."""
    import keras
    import tensorflow as tf

    def cases() -> list[Case]:
        vgg = _tiny_model()
        photo, S = _inputs()
        a_S = vgg(tf.constant(S))
        layers = [("s1", 0.7), ("s2", 0.3)]
        alpha, beta = 10.0, 40.0
        J_ref, w_ref, content_part, style_part = _expected(photo, a_S, vgg, layers, alpha, beta)
        painter = _tiny_painter()
        before = [w.numpy().copy() for w in painter.trainable_variables]
        vgg_before = [w.numpy().copy() for w in vgg.weights]
        J = painter_train_step(painter, vgg, tf.constant(photo), a_S, layers, keras.optimizers.SGD(_LR), alpha, beta)
        if not tf.is_tensor(J) and not isinstance(J, (float, np.floating)):
            return [Case("painter_train_step returns J", "a scalar", type(J).__name__, False, "return J")]
        out = [Case("the returned J is the cost of the batch before the step", f"{J_ref:.6g}", f"{float(J):.6g}",
                    bool(np.isclose(float(J), J_ref, rtol=1e-4)), _mistake_hints(float(J), J_ref, content_part,
                                                                                 style_part))]
        vgg_moved = any(not np.array_equal(a, w.numpy()) for a, w in zip(vgg_before, vgg.weights))
        out.append(Case("the ConvNet that measures J stays frozen", "its weights unchanged",
                        "changed" if vgg_moved else "unchanged", not vgg_moved,
                        "take the gradient with respect to painter.trainable_variables only: "
                        "the ConvNet only measures"))
        after = [w.numpy() for w in painter.trainable_variables]
        if all(np.array_equal(a, b) for a, b in zip(before, after)):
            out.append(Case("the painter's weights W changed", "W := W - lr * dJ/dW", "W unchanged", False,
                            "the image G is now the network's output: take dJ/dW (tape.gradient(J, "
                            "painter.trainable_variables)), not dJ/dG, and apply it with the optimizer"))
            return out
        out.append(compare("W after one SGD step equals W - lr * dJ/dW written out in NumPy",
                           np.concatenate([w.ravel() for w in w_ref]), np.concatenate([w.ravel() for w in after]),
                           rtol=1e-3, atol=1e-6))
        return out

    def guarded() -> list[Case]:
        try:
            return cases()
        except NotImplementedError:
            raise
        except (ValueError, TypeError, AttributeError) as exc:
            return [Case("running your function", "no error", f"{type(exc).__name__}: {exc}", False,
                         "use TensorFlow ops under the tape so the gradient can flow to the painter's weights, and "
                         "optimizer.apply_gradients(zip(grads, painter.trainable_variables))")]

    return report("check_painter_train_step", guarded)
