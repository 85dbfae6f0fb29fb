"""The painter's network: a feed-forward transform net that paints a photo in one pass.

Johnson, Alahi & Fei-Fei (2016), "Perceptual Losses for Real-Time Style Transfer", with instance
normalisation (Ulyanov et al. 2016), sized for CPUs: the photo is folded into a half-size image of
12 channels (:class:`SpaceToDepth`, no work), a 3×3 convolution and a strided one bring it to a
quarter size, :class:`ResidualBlock` s transform it there, and nearest upsampling, a convolution and
:class:`DepthToSpace` unfold it to full size. Every convolution is followed by
:class:`InstanceNormalization` and a ReLU except the last, whose sigmoid gives ``[0, 1]`` RGB. At
256×256 the default (32 and 64 channels, 4 blocks) is about 0.34 M weights and ~1.2 G multiply-adds.

All layers are registered (``package="facelib"``), so ``model.save("x.keras")`` and
``keras.saving.load_model("x.keras", safe_mode=True)`` round-trip without ``Lambda`` or pickles.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

__all__ = ["PAINTER_MULTIPLE", "DepthToSpace", "InstanceNormalization", "ResidualBlock", "SpaceToDepth",
           "build_painter_network"]

#: The photo's sides must be multiples of this (two halvings); the painter pads to it.
PAINTER_MULTIPLE = 4


@keras.saving.register_keras_serializable(package="facelib")
class InstanceNormalization(keras.layers.Layer):
    """Each image's channels normalised over their own positions, then scaled and shifted.

    :math:`y = \\gamma \\frac{x - \\mu_{mc}}{\\sqrt{\\sigma^2_{mc} + \\epsilon}} + \\beta` with
    :math:`\\mu_{mc}, \\sigma^2_{mc}` the mean and variance of channel ``c`` of image ``m`` over
    ``(n_H, n_W)``: the contrast of the photo is taken out, which is what lets one network paint any photo.
    """

    def __init__(self, epsilon: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape: Any) -> None:
        n_C = int(input_shape[-1])
        self.gamma = self.add_weight(shape=(n_C,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(n_C,), initializer="zeros", name="beta")

    def call(self, x: Any) -> Any:
        mean, var = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        return self.gamma * (x - mean) * tf.math.rsqrt(var + self.epsilon) + self.beta

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="facelib")
class SpaceToDepth(keras.layers.Layer):
    """``(m, n_H, n_W, n_C)`` → ``(m, n_H/b, n_W/b, b² n_C)``: each b×b patch becomes one position."""

    def __init__(self, block_size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block_size = int(block_size)

    def call(self, x: Any) -> Any:
        return tf.nn.space_to_depth(x, self.block_size)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "block_size": self.block_size}


@keras.saving.register_keras_serializable(package="facelib")
class DepthToSpace(keras.layers.Layer):
    """``(m, n_H, n_W, b² n_C)`` → ``(m, b n_H, b n_W, n_C)``, the inverse of :class:`SpaceToDepth`."""

    def __init__(self, block_size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.block_size = int(block_size)

    def call(self, x: Any) -> Any:
        return tf.nn.depth_to_space(x, self.block_size)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "block_size": self.block_size}


@keras.saving.register_keras_serializable(package="facelib")
class ResidualBlock(keras.layers.Layer):
    """A residual block: :math:`x + \\mathrm{IN}(\\mathrm{conv}(\\mathrm{ReLU}(\\mathrm{IN}(\\mathrm{conv}(x)))))`.

    Both convolutions are 3×3 with ``filters`` channels (the input must have as many).
    """

    def __init__(self, filters: int, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.seed = seed
        init = [keras.initializers.GlorotUniform(None if seed is None else seed + k) for k in (0, 1)]
        self.conv1 = keras.layers.Conv2D(self.filters, 3, padding="same", kernel_initializer=init[0], name="conv1")
        self.norm1 = InstanceNormalization(name="norm1")
        self.conv2 = keras.layers.Conv2D(self.filters, 3, padding="same", kernel_initializer=init[1], name="conv2")
        self.norm2 = InstanceNormalization(name="norm2")

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        self.conv1.build(shape)
        self.norm1.build(shape[:-1] + (self.filters,))
        self.conv2.build(shape[:-1] + (self.filters,))
        self.norm2.build(shape[:-1] + (self.filters,))

    def call(self, x: Any) -> Any:
        y = tf.nn.relu(self.norm1(self.conv1(x)))
        return x + self.norm2(self.conv2(y))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "seed": self.seed}


def _conv_in_relu(x: Any, filters: int, strides: int, name: str, seed: int) -> Any:
    x = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", name=f"{name}_conv",
                            kernel_initializer=keras.initializers.GlorotUniform(seed))(x)
    x = InstanceNormalization(name=f"{name}_norm")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def build_painter_network(width: int = 32, residual_width: int = 64, n_residual: int = 4,
                          seed: int = 0) -> keras.Model:
    """The transform network: ``(m, n_H, n_W, 3)`` float32 in ``[0, 1]`` → the same shape, painted.

    Args:
        width: channels at half size (after :class:`SpaceToDepth`) and before :class:`DepthToSpace`.
        residual_width: channels at a quarter size, in the residual blocks.
        n_residual: number of :class:`ResidualBlock` s.
        seed: seed of the initial weights.

    Returns:
        A ``keras.Model`` named ``"painter"`` taking any ``n_H, n_W`` that are multiples of 4
        (:data:`PAINTER_MULTIPLE`).

    Raises:
        ValueError: a size that is not a positive integer.
    """
    for name, value in (("width", width), ("residual_width", residual_width), ("n_residual", n_residual)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "n_residual" else 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    inp = keras.Input((None, None, 3), name="photo")
    x = SpaceToDepth(2, name="fold")(inp)
    x = _conv_in_relu(x, width, 1, "down1", seed)
    x = _conv_in_relu(x, residual_width, 2, "down2", seed + 1)
    for i in range(n_residual):
        x = ResidualBlock(residual_width, seed=seed + 10 + 2 * i, name=f"res{i + 1}")(x)
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name="up")(x)
    x = _conv_in_relu(x, width, 1, "up1", seed + 2)
    x = keras.layers.Conv2D(12, 3, padding="same", name="to_rgb",
                            kernel_initializer=keras.initializers.GlorotUniform(seed + 3))(x)
    x = DepthToSpace(2, name="unfold")(x)
    out = keras.layers.Activation("sigmoid", name="painting")(x)
    return keras.Model(inp, out, name="painter")
