"""VGG19 as a feature extractor: the network whose activations define content and style.

:func:`vgg19_features` builds ``keras.applications.VGG19(include_top=False, weights=None)`` and
sets the ImageNet weights itself — from the official Keras ``.h5`` file (asset
``vgg19-notop-imagenet``) when it can be had, else from the quantised copy
(``vgg19-notop-imagenet-q8``, a legacy ``torch.save`` file read by
:mod:`facelib.models.torch_legacy` without torch): each kernel is ``table[indices]`` (256 levels
per layer), transposed from PyTorch's ``(out, in, kh, kw)`` to Keras' ``(kh, kw, in, out)``.

The model takes what VGG19 was trained on: *caffe* preprocessing (BGR, ImageNet mean
subtracted, 0–255 scale; see :func:`caffe_preprocess`). The course feeds ``[0, 1]`` RGB images
straight in; :mod:`facelib.style.costs` offers both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras

__all__ = ["VGG19_CONV_LAYERS", "IMAGENET_MEAN_BGR", "caffe_preprocess", "load_vgg19_weights", "vgg19_features"]

#: The 16 convolution layers of VGG19 in order (5 blocks of 2, 2, 4, 4, 4).
VGG19_CONV_LAYERS: tuple[str, ...] = tuple(
    f"block{b}_conv{c}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for c in range(1, n + 1))
#: ImageNet channel means in BGR order, on the 0–255 scale (caffe preprocessing).
IMAGENET_MEAN_BGR: tuple[float, float, float] = (103.939, 116.779, 123.68)


def caffe_preprocess(images: Any) -> Any:
    """``[0, 1]`` RGB → VGG's caffe input: ×255, RGB→BGR, minus the ImageNet mean.

    Args:
        images: ``(m, n_H, n_W, 3)`` float tensor or array in ``[0, 1]``, RGB.

    Returns:
        ``(m, n_H, n_W, 3)`` float32 tensor, BGR, mean-subtracted, roughly in ``[-124, 152]``.
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(images, dtype=tf.float32) * 255.0
    return x[..., ::-1] - tf.constant(IMAGENET_MEAN_BGR, dtype=tf.float32)


def _q8_weights() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from facelib import assets
    from facelib.models.torch_legacy import load_legacy

    path = assets.fetch("vgg19-notop-imagenet-q8")
    tensors = load_legacy(path)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in VGG19_CONV_LAYERS:
        try:
            q, table, bias = tensors[f"{name}_W_q"], tensors[f"{name}_W_table"], tensors[f"{name}_b"]
        except KeyError as exc:
            raise ValueError(f"{path}: tensor {exc.args[0]!r} missing (not the VGG19 q8 weights file?)") from None
        if q.dtype != np.uint8 or table.shape != (256,) or q.ndim != 4:
            raise ValueError(f"{path}: {name} has indices {q.dtype} {q.shape} and table {table.shape}; "
                             "expected uint8 (out, in, kh, kw) and (256,)")
        kernel = table.astype(np.float32)[q].transpose(2, 3, 1, 0)  # (out,in,kh,kw) -> (kh,kw,in,out)
        out[name] = (np.ascontiguousarray(kernel), bias.astype(np.float32))
    return out


def load_vgg19_weights(model: keras.Model, weights: str = "imagenet") -> str:
    """Set ImageNet weights on a Keras VGG19 (``include_top=False``); return which file was used.

    Tries the official ``.h5`` (``vgg19-notop-imagenet``, md5-checked) first and falls back to
    the quantised ``vgg19-notop-imagenet-q8`` when that cannot be fetched (e.g. offline).

    Returns:
        ``"vgg19-notop-imagenet"`` or ``"vgg19-notop-imagenet-q8"``.
    """
    from facelib import assets

    if weights == "imagenet":
        try:
            path = assets.fetch("vgg19-notop-imagenet")
        except assets.AssetUnavailableError:
            weights = "imagenet-q8"
        else:
            model.load_weights(str(path))
            return "vgg19-notop-imagenet"
    if weights != "imagenet-q8":
        raise ValueError(f"weights must be 'imagenet', 'imagenet-q8' or None, got {weights!r}")
    for name, (kernel, bias) in _q8_weights().items():
        model.get_layer(name).set_weights([kernel, bias])
    return "vgg19-notop-imagenet-q8"


def vgg19_features(layer_names: Sequence[str], weights: str | None = "imagenet",
                   input_shape: tuple[int | None, int | None, int] = (None, None, 3)) -> keras.Model:
    """A frozen VGG19 returning the activations of ``layer_names``.

    Only the layers up to the deepest one named are part of the returned model (Keras'
    functional model keeps just the operations its outputs need), so asking for
    ``block4_conv1`` does not pay for block 5.

    Args:
        layer_names: VGG19 layer names, e.g. ``["block1_conv1", "block5_conv4"]``.
        weights: ``"imagenet"`` (official ``.h5``, else the q8 copy), ``"imagenet-q8"``, or ``None``
            (random initialisation, for tests of shapes).
        input_shape: ``(n_H, n_W, 3)``; ``None`` sizes accept any image.

    Returns:
        A ``keras.Model`` (``trainable=False``) mapping ``(m, n_H, n_W, 3)`` caffe-preprocessed
        float32 images to a list of ``(m, n_H^{[l]}, n_W^{[l]}, n_C^{[l]})`` activations, one per
        name, in the order given. ``model.weights_source`` says which file the weights came from.
        The ImageNet VGG19 is built and loaded once per process (per input shape and dtype policy):
        every model returned shares its frozen layers, so the weights are in memory once however
        many layer sets a lesson asks for (``weights=None`` builds a fresh random one each time).

    Raises:
        ValueError: an unknown layer name (the message lists VGG19's layers) or an empty list.
    """
    import keras

    names = list(layer_names)
    if not names:
        raise ValueError("layer_names is empty; name at least one VGG19 layer (e.g. 'block5_conv4')")
    base, source = _vgg19_base(weights, tuple(input_shape), names)
    model = keras.Model(base.input, [base.get_layer(n).output for n in names], name="vgg19_features")
    model.trainable = False
    model.weights_source = source
    return model


#: One loaded VGG19 per (weights, input shape, dtype policy) for the whole process: every feature
#: model shares its layers and weights (80 MB each, and lesson 07 asks for a dozen layer sets).
_BASES: dict[tuple[str, tuple[Any, ...], str], tuple[Any, str]] = {}


def _vgg19_base(weights: str | None, input_shape: tuple[Any, ...], names: list[str]) -> tuple[Any, str]:
    """The frozen VGG19 base (built and loaded once, except random ones) and its weights' source."""
    import keras

    key = (str(weights), input_shape, keras.mixed_precision.global_policy().name)
    if weights is not None and key in _BASES:
        base, source = _BASES[key]
    else:
        base = keras.applications.VGG19(include_top=False, weights=None, input_shape=input_shape)
        source = ""
    known = [layer.name for layer in base.layers]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown VGG19 layer(s) {unknown}; VGG19 has {known[1:]}")
    if not source:
        source = "random" if weights is None else load_vgg19_weights(base, weights)
        base.trainable = False
        if weights is not None:
            _BASES[key] = (base, source)
    return base, source
