"""dlib's face-recognition ResNet (Davis King, 2017) rebuilt in Keras 3: a 150×150 chip → 128-d.

The network that ``face_recognition`` and ``dlib.face_recognition_model_v1`` users get
(``dlib_face_recognition_resnet_model_v1.dat``, public domain, registry asset
``dlib-resnet-v1``). It is a ResNet with 29 convolutions, trained by King with a pairwise hinge
("metric") loss on about 3 million faces of 7,485 people; dlib reports 99.38 % on LFW. In dlib's
C++ template notation (``dnn_face_recognition_ex.cpp``)::

    loss_metric<fc_no_bias<128, avg_pool_everything<
        alevel0<alevel1<alevel2<alevel3<alevel4<
        max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input_rgb_image_sized<150>>>>>>>>>>>>>

    alevel4 = 3 × ares<32>           (35×35)
    alevel3 = ares_down<64>  + 3 × ares<64>    (17×17)
    alevel2 = ares_down<128> + 2 × ares<128>   (8×8)
    alevel1 = ares_down<256> + 2 × ares<256>   (4×4)
    alevel0 = ares_down<256>                   (2×2)

    ares<N>      = relu(x + affine(con3x3(relu(affine(con3x3(x))))))
    ares_down<N> = relu(avgpool2x2/2(x) + affine(con3x3(relu(affine(con3x3/2(x))))))

Three details a port must copy exactly:

- dlib's default padding is ``0`` for strided convolutions and pools and ``k // 2`` otherwise, so the
  stride-2 3×3 convolution of ``ares_down`` sees no border (8×8 → 3×3) while the 2×2 average pool
  beside it gives 4×4;
- ``add_prev`` adds tensors of different sizes by zero-padding the smaller one at the end (bottom,
  right, last channels): the 3×3 branch lands in the top-left corner of the 4×4 sum, and the
  shortcut's 128 channels are padded to 256 with zeros (:class:`PadAdd`);
- the input layer subtracts dlib's channel means (122.782, 117.001, 104.298 on 0–255 RGB) and
  divides by 256 (:class:`DlibInput`); ``affine`` is inference-time batch norm ``γ·x + β``
  (:class:`ChannelAffine`).

The weights are read with :mod:`facelib.models.dlib_reader` (no dlib at run time); the port equals
``dlib.face_recognition_model_v1(path).compute_face_descriptor(chip)`` to 1e-4
(tests/test_dlib_resnet.py). Its raw output is *not* unit-norm (norms ≈ 0.4–0.5); dlib's own
threshold is 0.6 on raw vectors. :mod:`facelib.faces.encoders` normalises it like every other encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

from facelib.models.dlib_reader import LayerSpec, read_network

__all__ = [
    "DLIB_CHIP_TEMPLATE",
    "DLIB_INPUT_SIZE",
    "DLIB_MEANS",
    "ChannelAffine",
    "DlibInput",
    "PadAdd",
    "dlib_resnet",
    "layer_specs",
    "load_dlib_weights",
]

#: Side of dlib's face chip (``input_rgb_image_sized<150>``).
DLIB_INPUT_SIZE = 150
#: dlib's input means on 0–255 RGB (``input_rgb_image``: avg_red, avg_green, avg_blue).
DLIB_MEANS = (122.782, 117.001, 104.298)
#: Where MTCNN's five keypoints (:data:`facelib.faces.detect.KEYPOINT_NAMES`: eyes, nose, mouth corners)
#: fall inside dlib's 150×150 chip (``get_face_chip(size=150, padding=0.25)`` from dlib's own
#: 5-point landmarks), in units of the chip side: the mean over 399 LFW View 1 photos (every 12th of the 4,992,
#: both detectors found a face), made left-right symmetric, measured by ``tools/dlib_chip_template.py``
#: (re-checked by the tests).
DLIB_CHIP_TEMPLATE = np.array([[0.3201, 0.3011], [0.6799, 0.3011], [0.5000, 0.5121],
                               [0.3394, 0.6963], [0.6606, 0.6963]], dtype=np.float64)


@keras.saving.register_keras_serializable(package="facelib")
class DlibInput(layers.Layer):
    """dlib's ``input_rgb_image``: ``(x - mean_c) / 256`` on ``(m, 150, 150, 3)`` RGB in 0–255."""

    def __init__(self, means: Sequence[float] = DLIB_MEANS, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.means = tuple(float(m) for m in means)

    def call(self, x: object) -> object:
        return (x - keras.ops.convert_to_tensor(self.means, dtype=self.compute_dtype)) / 256.0

    def get_config(self) -> dict:
        return {**super().get_config(), "means": list(self.means)}


@keras.saving.register_keras_serializable(package="facelib")
class ChannelAffine(layers.Layer):
    """dlib's ``affine`` layer: ``γ_c · x + β_c`` per channel (batch norm frozen for inference)."""

    def build(self, input_shape: Sequence) -> None:
        n = int(input_shape[-1])
        self.gamma = self.add_weight(name="gamma", shape=(n,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(n,), initializer="zeros")

    def call(self, x: object) -> object:
        return x * self.gamma + self.beta


@keras.saving.register_keras_serializable(package="facelib")
class PadAdd(layers.Layer):
    """dlib's ``add_prev``: ``a + b`` where the smaller tensor is zero-padded at the end.

    Inputs ``[a, b]`` of shapes ``(m, H1, W1, C1)`` and ``(m, H2, W2, C2)``; output
    ``(m, max H, max W, max C)``, each input padded at the bottom, the right and after its last
    channel (dlib's ``tt::add`` treats indices outside a tensor as zeros).
    """

    def call(self, inputs: Sequence) -> object:
        a, b = inputs
        sa, sb = a.shape[1:], b.shape[1:]
        target = [max(int(p), int(q)) for p, q in zip(sa, sb)]

        def pad(t: Any, shape: Sequence) -> Any:
            widths = [[0, 0]] + [[0, want - int(have)] for want, have in zip(target, shape)]
            return keras.ops.pad(t, widths) if any(w[1] for w in widths) else t

        return pad(a, sa) + pad(b, sb)

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        sa, sb = input_shape
        return (sa[0], *[max(int(p), int(q)) for p, q in zip(sa[1:], sb[1:])])


def _ares(n: int, n_in: int, down: bool) -> list[LayerSpec]:
    """``ares<N>`` / ``ares_down<N>``, outermost layer first (dlib's template order)."""
    body = [LayerSpec("affine", channels=n), LayerSpec("con", (n, 3, 3, 1, 1), n),
            LayerSpec("relu"), LayerSpec("affine", channels=n)]
    if down:
        return [LayerSpec("relu"), LayerSpec("add_prev", (2,)), LayerSpec("avg_pool", (2, 2, 2, 0)),
                LayerSpec("skip", (1,)), LayerSpec("tag", (2,)), *body,
                LayerSpec("con", (n, 3, 3, 2, 0), n_in), LayerSpec("tag", (1,))]
    return [LayerSpec("relu"), LayerSpec("add_prev", (1,)), *body,
            LayerSpec("con", (n, 3, 3, 1, 1), n_in), LayerSpec("tag", (1,))]


def layer_specs() -> list[LayerSpec]:
    """The network's layers, outermost (the 128-d fc) first, as dlib serialises them."""
    levels = [(256, 256, True)]                                                  # alevel0
    levels += [(256, 256, False)] * 2 + [(256, 128, True)]                       # alevel1
    levels += [(128, 128, False)] * 2 + [(128, 64, True)]                        # alevel2
    levels += [(64, 64, False)] * 3 + [(64, 32, True)]                           # alevel3
    levels += [(32, 32, False)] * 3                                              # alevel4
    specs = [LayerSpec("fc", (128,), 256), LayerSpec("avg_pool", (0, 0, 1, 0))]
    for n, n_in, down in levels:
        specs += _ares(n, n_in, down)
    specs += [LayerSpec("max_pool", (3, 3, 2, 0)), LayerSpec("relu"),
              LayerSpec("affine", channels=32), LayerSpec("con", (32, 7, 7, 2, 0), 3)]
    return specs


def _layer_name(i: int, spec: LayerSpec) -> str:
    return f"dlib_{i:03d}_{spec.kind}"


def dlib_resnet(weights: str | Path | None = "registry") -> keras.Model:
    """Build the network: ``(m, 150, 150, 3)`` RGB on 0–255 (float) → ``(m, 128)`` raw descriptors.

    ``weights="registry"`` fetches asset ``dlib-resnet-v1``; a path reads that dlib file; ``None``
    leaves the layers randomly initialised. Layers are named ``dlib_<index>_<kind>`` after their
    position in :func:`layer_specs`.
    """
    specs = layer_specs()
    x_in = keras.Input((DLIB_INPUT_SIZE, DLIB_INPUT_SIZE, 3), name="chip")
    x = DlibInput(name="dlib_input")(x_in)
    tags: dict[int, object] = {}
    for i in range(len(specs) - 1, -1, -1):  # innermost first: the order data flows
        spec, name = specs[i], _layer_name(i, specs[i])
        if spec.kind == "con":
            filters, nr, nc, stride, pad = spec.args
            padding = "valid" if pad == 0 else "same"
            x = layers.Conv2D(filters, (nr, nc), strides=stride, padding=padding, name=name)(x)
        elif spec.kind == "affine":
            x = ChannelAffine(name=name)(x)
        elif spec.kind == "relu":
            x = layers.ReLU(name=name)(x)
        elif spec.kind == "max_pool":
            x = layers.MaxPooling2D(spec.args[0], strides=spec.args[2], name=name)(x)
        elif spec.kind == "avg_pool":
            if spec.args[0] == 0:
                x = layers.GlobalAveragePooling2D(name=name)(x)
            else:
                x = layers.AveragePooling2D(spec.args[0], strides=spec.args[2], name=name)(x)
        elif spec.kind == "tag":
            tags[spec.args[0]] = x
        elif spec.kind == "skip":
            x = tags[spec.args[0]]
        elif spec.kind == "add_prev":
            x = PadAdd(name=name)([x, tags[spec.args[0]]])
        elif spec.kind == "fc":
            x = layers.Dense(spec.args[0], use_bias=False, name=name)(x)
    model = keras.Model(x_in, x, name="dlib_face_resnet_v1")
    if weights is not None:
        load_dlib_weights(model, weights)
    return model


def load_dlib_weights(model: keras.Model, path: str | Path = "registry") -> keras.Model:
    """Set ``model``'s weights from a dlib ``.dat`` file (``"registry"``: asset ``dlib-resnet-v1``).

    Raises ``ValueError`` naming the file if it is not exactly this network (see
    :func:`facelib.models.dlib_reader.read_network`).
    """
    if str(path) == "registry":
        from facelib import assets
        path = assets.fetch("dlib-resnet-v1")
    specs = layer_specs()
    params, meta = read_network(path, specs, input_size=DLIB_INPUT_SIZE)
    means = (meta["avg_red"], meta["avg_green"], meta["avg_blue"])
    if not np.allclose(means, DLIB_MEANS, atol=1e-3):
        raise ValueError(f"{path}: input means {means} differ from dlib's {DLIB_MEANS}")
    for i, arrays in params.items():
        layer = model.get_layer(_layer_name(i, specs[i]))
        if specs[i].kind == "con":
            layer.set_weights([arrays["filters"].transpose(2, 3, 1, 0), arrays["biases"]])
        elif specs[i].kind == "affine":
            layer.set_weights([arrays["gamma"], arrays["beta"]])
        else:
            layer.set_weights([arrays["weights"]])
    return model
