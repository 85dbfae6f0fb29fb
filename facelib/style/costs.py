"""Neural style transfer (Gatys et al. 2015), as in the lecture "Neural Style Transfer".

A generated image :math:`G` is optimised so that its VGG19 activations keep the *content* of a
photo :math:`C` (activations of one deep layer) and the *style* of a painting :math:`S`
(correlations between channels — Gram matrices — at several layers):

.. math::

    J(G) = \\alpha\\, J_{content}(C, G) + \\beta\\, J_{style}(S, G)

(the lecture notes write a minus sign; the cost is a weighted *sum*). Normalisations follow the
course: :math:`J_{content} = \\frac{1}{4 n_H n_W n_C}\\sum (a^{(C)} - a^{(G)})^2` and
:math:`J^{[l]}_{style} = \\frac{1}{4 n_C^2 (n_H n_W)^2}\\sum_{k,k'} (G^{[l](S)}_{kk'} - G^{[l](G)}_{kk'})^2`.

:func:`facelib.style.transfer.stylize` runs the whole recipe with presets; it optimises exactly the
costs defined in this module (the style targets' Gram matrices are computed once and passed to
:func:`layer_style_cost_from_gram`, the second half of :func:`compute_layer_style_cost`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf

__all__ = [
    "COURSE_STYLE_LAYERS",
    "compute_content_cost",
    "compute_layer_style_cost",
    "compute_style_cost",
    "gram_matrix",
    "layer_style_cost_from_gram",
    "style_gram",
    "total_cost",
    "total_variation_cost",
    "train_step",
]

#: The assignment's style layers and their weights :math:`\lambda^{[l]}` (they sum to 1).
COURSE_STYLE_LAYERS: tuple[tuple[str, float], ...] = (
    ("block1_conv1", 0.2),
    ("block2_conv1", 0.2),
    ("block3_conv1", 0.2),
    ("block4_conv1", 0.2),
    ("block5_conv1", 0.2),
)


# --------------------------------------------------------------------------- costs

def compute_content_cost(a_C: tf.Tensor, a_G: tf.Tensor) -> tf.Tensor:
    """Content cost :math:`J_{content}(C,G) = \\frac{1}{4 n_H n_W n_C}\\sum (a^{(C)} - a^{(G)})^2`.

    Args:
        a_C: ``(1, n_H, n_W, n_C)`` activations of the content image at the content layer.
        a_G: ``(1, n_H, n_W, n_C)`` activations of the generated image at the same layer.

    Returns:
        Scalar float32 tensor.
    """
    a_C = tf.cast(a_C, tf.float32)
    a_G = tf.cast(a_G, tf.float32)
    _, n_H, n_W, n_C = a_G.shape
    if a_C.shape[1:] != a_G.shape[1:]:
        raise ValueError(f"a_C and a_G must have the same shape; got {a_C.shape} and {a_G.shape}")
    return tf.reduce_sum(tf.square(a_C - a_G)) / (4.0 * n_H * n_W * n_C)


def gram_matrix(A: tf.Tensor) -> tf.Tensor:
    """Style (Gram) matrix :math:`G_A = A A^T`: how strongly each pair of channels fires together.

    Args:
        A: ``(n_C, n_H * n_W)`` activations unrolled so that each row is one channel.

    Returns:
        ``(n_C, n_C)`` float32 tensor, :math:`G_{kk'} = \\sum_i A_{ki} A_{k'i}`.
    """
    A = tf.cast(A, tf.float32)
    return tf.matmul(A, A, transpose_b=True)


def _unroll(a: tf.Tensor) -> tf.Tensor:
    """``(1, n_H, n_W, n_C)`` → ``(n_C, n_H * n_W)``."""
    n_C = a.shape[-1]
    return tf.transpose(tf.reshape(tf.cast(a, tf.float32), [-1, n_C]))


def style_gram(a: tf.Tensor) -> tf.Tensor:
    """Gram matrix of ``(1, n_H, n_W, n_C)`` activations: unroll to ``(n_C, n_H*n_W)``, then :func:`gram_matrix`."""
    return gram_matrix(_unroll(a))


def layer_style_cost_from_gram(G_S: tf.Tensor, a_G: tf.Tensor) -> tf.Tensor:
    """:math:`\\frac{1}{4 n_C^2 (n_H n_W)^2}\\sum_{k,k'} (G^{(S)}_{kk'} - G^{(G)}_{kk'})^2` with :math:`G^{(S)}` given.

    The second half of :func:`compute_layer_style_cost`: :func:`stylize` computes the style
    image's Gram matrices once and calls this at every step.

    Args:
        G_S: ``(n_C, n_C)`` Gram matrix of the style image at this layer (:func:`style_gram`).
        a_G: ``(1, n_H, n_W, n_C)`` activations of the generated image.

    Returns:
        Scalar float32 tensor.
    """
    _, n_H, n_W, n_C = a_G.shape
    if tuple(G_S.shape) != (n_C, n_C):
        raise ValueError(f"G_S must be ({n_C}, {n_C}) for activations with {n_C} channels; got {tuple(G_S.shape)}")
    G_G = style_gram(a_G)
    return tf.reduce_sum(tf.square(tf.cast(G_S, tf.float32) - G_G)) / (4.0 * n_C**2 * float(n_H * n_W) ** 2)


def compute_layer_style_cost(a_S: tf.Tensor, a_G: tf.Tensor) -> tf.Tensor:
    """Style cost of one layer, :math:`\\frac{1}{4 n_C^2 (n_H n_W)^2}\\sum_{k,k'} (G^{(S)}_{kk'} - G^{(G)}_{kk'})^2`.

    Args:
        a_S: ``(1, n_H, n_W, n_C)`` activations of the style image.
        a_G: ``(1, n_H, n_W, n_C)`` activations of the generated image.

    Returns:
        Scalar float32 tensor.
    """
    if a_S.shape[1:] != a_G.shape[1:]:
        raise ValueError(f"a_S and a_G must have the same shape; got {a_S.shape} and {a_G.shape}")
    return layer_style_cost_from_gram(style_gram(a_S), a_G)


def _layer_weights(style_layers: Sequence[tuple[str, float]] | Sequence[str]) -> list[tuple[str, float]]:
    """Style layers as ``(name, λ)`` pairs: plain names get equal weights ``1 / len(style_layers)``."""
    layers = list(style_layers)
    out: list[tuple[str, float]] = []
    for layer in layers:
        if isinstance(layer, str):
            out.append((layer, 1.0 / len(layers)))
        else:
            name, weight = layer
            out.append((str(name), float(weight)))
    return out


def compute_style_cost(style_outputs: Sequence[tf.Tensor], generated_outputs: Sequence[tf.Tensor],
                       style_layers: Sequence[tuple[str, float]] = COURSE_STYLE_LAYERS) -> tf.Tensor:
    """Style cost over several layers, :math:`J_{style}(S,G) = \\sum_l \\lambda^{[l]} J^{[l]}_{style}(S,G)`.

    Args:
        style_outputs: activations of the style image, one ``(1, n_H, n_W, n_C)`` tensor per
            style layer, in the order of ``style_layers``. As in the course, a list one longer
            (the content layer's activation last) is accepted and its last element ignored.
        generated_outputs: the generated image's activations, laid out the same way.
        style_layers: ``(layer name, λ)`` pairs (or plain names: equal weights).

    Returns:
        Scalar float32 tensor.
    """
    layers = _layer_weights(style_layers)
    n = len(layers)
    for what, outs in (("style_outputs", style_outputs), ("generated_outputs", generated_outputs)):
        if len(outs) not in (n, n + 1):
            raise ValueError(f"{what} has {len(outs)} activations; expected one per style layer ({n})")
    J = tf.constant(0.0, tf.float32)
    for (_, weight), a_S, a_G in zip(layers, style_outputs[:n], generated_outputs[:n]):
        J += weight * compute_layer_style_cost(a_S, a_G)
    return J


def total_cost(J_content: tf.Tensor | float, J_style: tf.Tensor | float,
               alpha: float = 10, beta: float = 40) -> tf.Tensor | float:
    """Total cost :math:`J(G) = \\alpha J_{content}(C,G) + \\beta J_{style}(S,G)` (a sum, not a difference)."""
    return alpha * J_content + beta * J_style


def total_variation_cost(G: tf.Tensor) -> tf.Tensor:
    """Total variation: mean absolute difference between neighbouring pixels (smoothness prior).

    .. math:: TV(G) = \\frac{1}{m\\,n_C}\\Big(\\frac{\\sum |G_{i+1,j} - G_{i,j}|}{(n_H-1) n_W}
              + \\frac{\\sum |G_{i,j+1} - G_{i,j}|}{n_H (n_W-1)}\\Big)

    Args:
        G: ``(m, n_H, n_W, n_C)`` images (``n_H, n_W >= 2``).

    Returns:
        Scalar float32 tensor: the mean vertical plus the mean horizontal absolute difference.
    """
    G = tf.cast(G, tf.float32)
    dv = tf.reduce_mean(tf.abs(G[:, 1:, :, :] - G[:, :-1, :, :]))
    dh = tf.reduce_mean(tf.abs(G[:, :, 1:, :] - G[:, :, :-1, :]))
    return dv + dh


def train_step(generated_image: tf.Variable, vgg_model_outputs: Any, a_C: Sequence[tf.Tensor],
               a_S: Sequence[tf.Tensor], style_layers: Sequence[tuple[str, float]], optimizer: Any,
               alpha: float = 10, beta: float = 40) -> tf.Tensor:
    """One step of gradient descent on the pixels, :math:`G := G - \\eta\\, \\partial J/\\partial G`
    (the lesson's exercise).

    Under a ``tf.GradientTape``: the activations of :math:`G`, :math:`J = \\alpha J_{content} + \\beta J_{style}`;
    then :math:`\\partial J/\\partial G` (not :math:`\\partial J/\\partial W`: the network stays frozen),
    the optimizer's update of the image, and a clip to [0, 1].

    Args:
        generated_image: ``tf.Variable`` ``(1, n_H, n_W, 3)`` in [0, 1], updated in place.
        vgg_model_outputs: model returning the style layers' activations and, last, the content layer's.
        a_C, a_S: that model's outputs for the content and the style image.
        style_layers: ``(layer name, λ)`` pairs. optimizer: e.g. ``keras.optimizers.Adam(0.01)``.
        alpha, beta: weights of the content and style costs.

    Returns:
        The scalar cost :math:`J` of the image *before* the update.
    """
    with tf.GradientTape() as tape:
        a_G = vgg_model_outputs(generated_image)
        J_style = compute_style_cost(a_S, a_G, style_layers)
        J_content = compute_content_cost(a_C[-1], a_G[-1])
        J = total_cost(J_content, J_style, alpha=alpha, beta=beta)
    grad = tape.gradient(J, generated_image)
    optimizer.apply_gradients([(grad, generated_image)])
    generated_image.assign(tf.clip_by_value(generated_image, 0.0, 1.0))
    return J

