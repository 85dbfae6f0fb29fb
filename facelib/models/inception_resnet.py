"""FaceNet: Inception-ResNet-v1 mapping a 160×160 face to a 128-d encoding ``f(x)``.

The lecture's "map face images into 128-dimensional encodings using a pretrained model". The
network is built here in code (Szegedy et al. 2016, the Inception-ResNet-v1 variant David
Sandberg's ``facenet`` trained on MS-Celeb-1M, model ``20170512-110547``) and the weights are read
*by layer name* with ``h5py`` from the registry's Keras-2 file (asset ``facenet-keras-128``),
which is never deserialised as a model (its ``Lambda`` layers hold Python 3.6 bytecode). The
residual scaling ``x + scale · r`` of each Inception-ResNet block is the registered layer
:class:`ScaleSum`, so a built model saves to and loads from ``.keras`` files.

Its input — the preprocessing modes, their thresholds and :func:`~facelib.models.facenet_input.preprocess` —
is :mod:`facelib.models.facenet_input` (NumPy only).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
from keras import layers

__all__ = ["ScaleSum", "facenet", "inception_resnet_v1", "load_facenet_weights"]



@keras.saving.register_keras_serializable(package="facelib")
class ScaleSum(layers.Layer):
    """The Inception-ResNet residual connection ``x + scale · r``.

    Call it on ``[x, r]``, two tensors of the same shape ``(m, n_H, n_W, n_C)``; returns that shape.
    Scaling the residual (0.17, 0.1, 0.2 in the three block types) keeps very deep residual
    stacks stable (Szegedy et al. 2016, §3.3).
    """

    def __init__(self, scale: float = 1.0, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs: Sequence) -> object:
        x, r = inputs
        return x + self.scale * r

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        return tuple(input_shape[0])

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale}


def _name(prefix: str | None, name: str, branch: int | None = None) -> str | None:
    if prefix is None:
        return None
    return "_".join((prefix, name)) if branch is None else "_".join((prefix, "Branch", str(branch), name))


def _conv_bn(x, filters: int, kernel_size, strides: int = 1, padding: str = "same",
             activation: str | None = "relu", use_bias: bool = False, name: str | None = None):
    """Conv2D (+ BatchNorm without γ when there is no bias) (+ ReLU), named as in the .h5 file."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=-1, momentum=0.995, epsilon=0.001, scale=False,
                                      name=f"{name}_BatchNorm")(x)
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}_Activation")(x)
    return x


def _block(x, scale: float, block_type: str, idx: int, activation: str | None = "relu"):
    """One Inception-ResNet block (A = Block35, B = Block17, C = Block8)."""
    p = f"{block_type}_{idx}"
    if block_type == "Block35":
        b0 = _conv_bn(x, 32, 1, name=_name(p, "Conv2d_1x1", 0))
        b1 = _conv_bn(x, 32, 1, name=_name(p, "Conv2d_0a_1x1", 1))
        b1 = _conv_bn(b1, 32, 3, name=_name(p, "Conv2d_0b_3x3", 1))
        b2 = _conv_bn(x, 32, 1, name=_name(p, "Conv2d_0a_1x1", 2))
        b2 = _conv_bn(b2, 32, 3, name=_name(p, "Conv2d_0b_3x3", 2))
        b2 = _conv_bn(b2, 32, 3, name=_name(p, "Conv2d_0c_3x3", 2))
        branches = [b0, b1, b2]
    elif block_type == "Block17":
        b0 = _conv_bn(x, 128, 1, name=_name(p, "Conv2d_1x1", 0))
        b1 = _conv_bn(x, 128, 1, name=_name(p, "Conv2d_0a_1x1", 1))
        b1 = _conv_bn(b1, 128, (1, 7), name=_name(p, "Conv2d_0b_1x7", 1))
        b1 = _conv_bn(b1, 128, (7, 1), name=_name(p, "Conv2d_0c_7x1", 1))
        branches = [b0, b1]
    else:  # Block8
        b0 = _conv_bn(x, 192, 1, name=_name(p, "Conv2d_1x1", 0))
        b1 = _conv_bn(x, 192, 1, name=_name(p, "Conv2d_0a_1x1", 1))
        b1 = _conv_bn(b1, 192, (1, 3), name=_name(p, "Conv2d_0b_1x3", 1))
        b1 = _conv_bn(b1, 192, (3, 1), name=_name(p, "Conv2d_0c_3x1", 1))
        branches = [b0, b1]
    mixed = layers.Concatenate(axis=-1, name=_name(p, "Concatenate"))(branches)
    up = _conv_bn(mixed, x.shape[-1], 1, activation=None, use_bias=True, name=_name(p, "Conv2d_1x1"))
    x = ScaleSum(scale, name=_name(p, "ScaleSum"))([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=_name(p, "Activation"))(x)
    return x


def inception_resnet_v1(input_shape: tuple[int, int, int] = (160, 160, 3), classes: int = 128,
                        dropout_keep_prob: float = 0.8, repeats: tuple[int, int, int] = (5, 10, 5),
                        name: str = "facenet") -> keras.Model:
    """Inception-ResNet-v1 with randomly initialised weights.

    Args:
        input_shape: ``(n_H, n_W, 3)``; at least 75×75 (the stem and reductions shrink by 32×).
        classes: size of the encoding (128 for FaceNet).
        dropout_keep_prob: 1 − dropout rate before the bottleneck (only active in training).
        repeats: how many A (Block35), B (Block17) and C (Block8) blocks; the real network has
            ``(5, 10, 5)`` (+ one final C block without ReLU). Smaller values give a tiny model
            for tests.

    Returns:
        A ``keras.Model`` ``(m, n_H, n_W, 3) float32 → (m, classes) float32`` (not normalised;
        about 22.8M parameters for the defaults).
    """
    inputs = keras.Input(shape=input_shape, name="input_1")
    x = _conv_bn(inputs, 32, 3, strides=2, padding="valid", name="Conv2d_1a_3x3")
    x = _conv_bn(x, 32, 3, padding="valid", name="Conv2d_2a_3x3")
    x = _conv_bn(x, 64, 3, name="Conv2d_2b_3x3")
    x = layers.MaxPooling2D(3, strides=2, name="MaxPool_3a_3x3")(x)
    x = _conv_bn(x, 80, 1, padding="valid", name="Conv2d_3b_1x1")
    x = _conv_bn(x, 192, 3, padding="valid", name="Conv2d_4a_3x3")
    x = _conv_bn(x, 256, 3, strides=2, padding="valid", name="Conv2d_4b_3x3")
    for i in range(1, repeats[0] + 1):
        x = _block(x, 0.17, "Block35", i)
    # Mixed 6a (reduction A)
    p = "Mixed_6a"
    b0 = _conv_bn(x, 384, 3, strides=2, padding="valid", name=_name(p, "Conv2d_1a_3x3", 0))
    b1 = _conv_bn(x, 192, 1, name=_name(p, "Conv2d_0a_1x1", 1))
    b1 = _conv_bn(b1, 192, 3, name=_name(p, "Conv2d_0b_3x3", 1))
    b1 = _conv_bn(b1, 256, 3, strides=2, padding="valid", name=_name(p, "Conv2d_1a_3x3", 1))
    bp = layers.MaxPooling2D(3, strides=2, padding="valid", name=_name(p, "MaxPool_1a_3x3", 2))(x)
    x = layers.Concatenate(axis=-1, name=p)([b0, b1, bp])
    for i in range(1, repeats[1] + 1):
        x = _block(x, 0.1, "Block17", i)
    # Mixed 7a (reduction B)
    p = "Mixed_7a"
    b0 = _conv_bn(x, 256, 1, name=_name(p, "Conv2d_0a_1x1", 0))
    b0 = _conv_bn(b0, 384, 3, strides=2, padding="valid", name=_name(p, "Conv2d_1a_3x3", 0))
    b1 = _conv_bn(x, 256, 1, name=_name(p, "Conv2d_0a_1x1", 1))
    b1 = _conv_bn(b1, 256, 3, strides=2, padding="valid", name=_name(p, "Conv2d_1a_3x3", 1))
    b2 = _conv_bn(x, 256, 1, name=_name(p, "Conv2d_0a_1x1", 2))
    b2 = _conv_bn(b2, 256, 3, name=_name(p, "Conv2d_0b_3x3", 2))
    b2 = _conv_bn(b2, 256, 3, strides=2, padding="valid", name=_name(p, "Conv2d_1a_3x3", 2))
    bp = layers.MaxPooling2D(3, strides=2, padding="valid", name=_name(p, "MaxPool_1a_3x3", 3))(x)
    x = layers.Concatenate(axis=-1, name=p)([b0, b1, b2, bp])
    for i in range(1, repeats[2] + 1):
        x = _block(x, 0.2, "Block8", i)
    x = _block(x, 1.0, "Block8", repeats[2] + 1, activation=None)
    x = layers.GlobalAveragePooling2D(name="AvgPool")(x)
    x = layers.Dropout(1.0 - dropout_keep_prob, name="Dropout")(x)
    x = layers.Dense(classes, use_bias=False, name="Bottleneck")(x)
    x = layers.BatchNormalization(momentum=0.995, epsilon=0.001, scale=False, name="Bottleneck_BatchNorm")(x)
    return keras.Model(inputs, x, name=name)


def _decode(x: object) -> str:
    return x.decode("utf-8") if isinstance(x, bytes) else str(x)


def load_facenet_weights(model: keras.Model, path: str | Path) -> int:
    """Set every weighted layer of ``model`` from the Keras-2 HDF5 file ``path``, by layer name.

    Only arrays are read (``model_weights/<layer>/<weight>``); the file's model description is
    ignored. Each array's shape is checked against the layer's.

    Returns:
        The number of layers set.

    Raises:
        ValueError: a layer of the model is missing from the file, or a shape differs (the
        message names the layer, the expected and the found shape).
    """
    import h5py

    path = Path(path)
    set_layers = 0
    with h5py.File(path, "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        for layer in model.layers:
            if not layer.weights:
                continue
            if layer.name not in group:
                raise ValueError(f"{path}: no weights for layer {layer.name!r} (is this the FaceNet Keras file?)")
            g = group[layer.name]
            names = [_decode(n) for n in g.attrs["weight_names"]]
            arrays = [np.asarray(g[n]) for n in names]
            expected = [tuple(w.shape) for w in layer.weights]
            if [a.shape for a in arrays] != expected:
                raise ValueError(f"{path}: layer {layer.name!r} expects weights {expected}, "
                                 f"the file has {[a.shape for a in arrays]}")
            layer.set_weights(arrays)
            set_layers += 1
    return set_layers


def facenet(weights: str | None = "facenet-keras-128", *, weights_file: str | Path | None = None,
            policy: str | None = None) -> keras.Model:
    """The pretrained FaceNet encoder ``f``: ``(m, 160, 160, 3) float32 → (m, 128) float32``.

    Args:
        weights: an asset *name* (default ``"facenet-keras-128"``), resolved only through the
            registry and checked against its sha256 by :func:`facelib.assets.fetch` — a file of
            that name in the working folder is never opened; ``None`` for random weights.
        weights_file: your own Keras-2 ``.h5`` file of this architecture (explicitly unverified:
            no checksum exists for it); replaces ``weights``.
        policy: a Keras dtype policy for this model only (e.g. ``"mixed_bfloat16"`` on a CPU
            with AVX-512 BF16); ``None`` uses the global policy. Weights stay float32.

    Returns:
        A Keras model (about 22.8M parameters) whose input is a preprocessed face
        (see :func:`preprocess`) and whose output is the *un-normalised* encoding; divide by its
        L2 norm (as :func:`facelib.faces.verification.img_to_encoding` does) before comparing.

    Raises:
        TypeError: ``weights`` is a path object (pass it as ``weights_file=``).
        KeyError: ``weights`` is not a registered asset name.
    """
    if weights is not None and not isinstance(weights, str):
        raise TypeError(f"weights is an asset name (a str); got {type(weights).__name__} {weights!r}: "
                        "pass your own file as weights_file=")
    path: Path | None = None
    if weights_file is not None:
        path = Path(weights_file)
        if not path.is_file():
            raise FileNotFoundError(f"weights file '{path}' does not exist")
    elif weights is not None:
        from facelib import assets, registry

        asset = registry.get_asset(weights)  # KeyError listing the names for anything else
        if asset.kind != "weights":
            raise ValueError(f"asset {weights!r} is a {asset.kind}, not weights")
        path = assets.fetch(weights)
    if policy is None:
        model = inception_resnet_v1()
    else:
        previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy(policy)
        try:
            model = inception_resnet_v1()
        finally:
            keras.mixed_precision.set_global_policy(previous)
    if path is not None:
        load_facenet_weights(model, path)
    return model
