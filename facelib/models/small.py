"""A compact face encoder f(x) trained from scratch in the Siamese / triplet-loss lessons.

The lecture's Siamese network runs two (or three) photos through *the same* ConvNet and compares
the encodings f(x^{(1)}), f(x^{(2)}). :func:`small_embedding_net` builds that ConvNet for small
faces (Olivetti 64×64 grey, LFW 62×47 RGB): four conv blocks, global average pooling, a dense
layer to ``dim`` numbers and :class:`L2Normalize`, so that every encoding lies on the unit
sphere (||f(x)|| = 1, hence 0 ≤ ||f(a) − f(b)||² ≤ 4).
"""

from __future__ import annotations

import keras
from keras import layers, ops

__all__ = ["L2Normalize", "small_embedding_net"]


@keras.saving.register_keras_serializable(package="facelib")
class L2Normalize(layers.Layer):
    """Scale each vector to unit Euclidean length: ``x / max(||x||, sqrt(epsilon))``.

    Input ``(m, d)`` (or any rank; ``axis`` picks the normalised axis), output the same shape.
    A registered layer rather than a ``Lambda``, so models containing it survive a ``.keras``
    save/load round trip.
    """

    def __init__(self, axis: int = -1, epsilon: float = 1e-12, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        square_sum = ops.sum(ops.square(inputs), axis=self.axis, keepdims=True)
        return inputs * ops.rsqrt(ops.maximum(square_sum, self.epsilon))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


def small_embedding_net(input_shape: tuple[int, int, int], dim: int = 128, *, width: int = 32,
                        name: str = "small_embedding_net") -> keras.Model:
    """Build the encoder f: image → unit-length encoding.

    Args:
        input_shape: ``(H, W, C)`` of one image, e.g. ``(64, 64, 1)`` for Olivetti; values in [0, 1].
        dim: length of the encoding (the lecture's 128).
        width: filters of the first conv block; blocks use ``width·(1, 2, 4, 8)``. With the
            default 32 the network has about 0.44M parameters (≤ 4M for any ``width`` ≤ 64
            and ``dim`` ≤ 512).
        name: the model's name.

    Returns:
        A Keras ``Model`` mapping ``(m, H, W, C) float32`` to ``(m, dim) float32`` with every row
        of unit L2 norm.
    """
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (H, W, C); got {input_shape!r}")
    if dim < 1 or width < 1:
        raise ValueError(f"dim and width must be positive; got dim={dim}, width={width}")
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    # BatchNorm momentum 0.9 (Keras: 0.99) so that the inference-time statistics settle within the
    # few hundred steps of a lesson
    # block 1 halves the resolution straight away (64×64 → 32×32): cheap on a CPU
    x = layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False, name="conv1")(x)
    x = layers.BatchNormalization(momentum=0.9, name="bn1")(x)
    x = layers.ReLU(name="relu1")(x)
    for k, mult in enumerate((2, 4, 8), start=2):
        x = layers.Conv2D(width * mult, 3, padding="same", use_bias=False, name=f"conv{k}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{k}")(x)
        x = layers.ReLU(name=f"relu{k}")(x)
        if k < 4:
            x = layers.MaxPooling2D(2, name=f"pool{k}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(dim, name="embedding")(x)
    outputs = L2Normalize(name="l2_normalize")(x)
    return keras.Model(inputs, outputs, name=name)
