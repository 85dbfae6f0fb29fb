"""What are deep ConvNets learning? (lecture "What are deep ConvNets learning?").

Zeiler & Fergus (2013): pick a unit in layer :math:`l`, find the nine image patches that make it
fire most, repeat for other units and layers — deeper layers respond to larger regions and more
complex patterns. The *patch* of a unit is its receptive field in the input image, computed here
from the kernels and strides of the layers below it (:func:`receptive_field`).

- :func:`layer_activations` (or only each unit's peak per image, :func:`unit_peaks`),
  :func:`top_activating_patches`, :func:`plot_top9_grid`.
- :func:`activation_maximisation`: an input synthesised by regularised gradient ascent.
- :func:`plot_filters`, :func:`plot_feature_maps`.

The pools searched are :mod:`facelib.conv.patch_pools`. Every function here that reads images takes
``uint8`` (0-255) or float in [0, 1] stacks and converts one batch or crop at a time to float32 in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from facelib.conv.patch_pools import _float01

__all__ = [
    "ReceptiveField",
    "UnitPeaks",
    "activation_maximisation",
    "layer_activations",
    "patch_mosaic",
    "plot_feature_maps",
    "plot_filters",
    "plot_top9_grid",
    "receptive_field",
    "top_activating_patches",
    "unit_peaks",
]

Preprocess = Callable[[Any], Any]


# --------------------------------------------------------------------------- receptive fields

@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of the units of one layer, in input pixels.

    Unit ``(i, j)`` of the layer sees the input square of side ``size`` centred on
    ``(start + i * jump, start + j * jump)`` (a half-integer centre for even sizes).
    """

    size: int
    jump: int
    start: float

    def box(self, i: int, j: int) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)`` (end-exclusive) input box of unit ``(i, j)``; may leave the image."""
        half = (self.size - 1) / 2
        top = int(round(self.start + i * self.jump - half))
        left = int(round(self.start + j * self.jump - half))
        return top, left, top + self.size, left + self.size


_PASS_THROUGH = ("InputLayer", "Activation", "ReLU", "LeakyReLU", "BatchNormalization", "Dropout",
                 "SpatialDropout2D", "LayerNormalization", "GaussianNoise", "Rescaling", "Normalization")


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, int):
        return v, v
    return int(v[0]), int(v[1])


def receptive_field(model: Any, layer_name: str) -> ReceptiveField:
    """Receptive field of ``layer_name``'s units, from the kernels and strides below it.

    Walks the model's layers in order (a chain: VGG, small ConvNets). Each convolution or pooling
    with kernel :math:`k` (dilation :math:`d`: :math:`k_{eff} = d(k-1)+1`), stride :math:`s` and
    padding :math:`p` updates

    .. math:: r \\leftarrow r + (k_{eff}-1)\\,j,\\qquad \\text{start} \\leftarrow \\text{start} +
              \\big(\\tfrac{k_{eff}-1}{2} - p\\big)\\,j,\\qquad j \\leftarrow j\\,s

    starting from :math:`r = 1, j = 1, \\text{start} = 0`; ``"same"`` padding is taken as
    :math:`p = \\lfloor (k_{eff} - s)/2 \\rfloor` (exact when the size is divisible by the stride).
    Only the height axis is reported (VGG's kernels are square).

    Raises:
        ValueError: unknown layer, or a layer type below it that is not a chain element.
    """
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        raise ValueError(f"model {model.name!r} has no layer {layer_name!r}; it has {names}")
    r, j, start = 1, 1, 0.0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
            k, s, d = _pair(layer.kernel_size)[0], _pair(layer.strides)[0], _pair(layer.dilation_rate)[0]
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            k, s, d = _pair(layer.pool_size)[0], _pair(layer.strides)[0], 1
        elif kind in _PASS_THROUGH:
            k = s = d = 1
        elif layer.name == layer_name:
            k = s = d = 1
        else:
            raise ValueError(f"receptive_field: cannot follow layer {layer.name!r} of type {kind} "
                             "(only chains of Conv2D/pooling/element-wise layers are supported)")
        if k > 1 or s > 1:
            k_eff = d * (k - 1) + 1
            pad = (k_eff - s) // 2 if layer.padding == "same" else 0
            pad = max(pad, 0)
            start += ((k_eff - 1) / 2 - pad) * j
            r += (k_eff - 1) * j
            j *= s
        if layer.name == layer_name:
            break
    return ReceptiveField(r, j, start)


# --------------------------------------------------------------------------- top activations

def _layer_batches(model: Any, layer_names: Sequence[str], images: np.ndarray, preprocess: Preprocess | None,
                   batch_size: int):
    """``(start, [float32 tensor per layer])`` for each batch of ``images`` (uint8 or float, as float32 in
    [0, 1] one batch at a time), one forward pass each."""
    import keras

    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"images must be a non-empty (N, H, W, C) stack; got shape {images.shape}")
    sub = keras.Model(model.inputs, [model.get_layer(n).output for n in layer_names])
    run = tf.function(lambda x: sub(preprocess(x) if preprocess else x))
    for b in range(0, len(images), batch_size):
        outs = run(tf.constant(_float01(images[b:b + batch_size])))
        yield b, [tf.cast(o, tf.float32) for o in (outs if isinstance(outs, (list, tuple)) else [outs])]


def layer_activations(model: Any, layer_names: Sequence[str], images: np.ndarray,
                      preprocess: Preprocess | None = None, batch_size: int = 64) -> list[np.ndarray]:
    """Activations of several layers for a stack of images, in one pass per batch.

    Args:
        model: a Keras model containing the layers (a functional chain such as VGG19).
        layer_names: layers to read.
        images: ``(N, H, W, C)`` float32 in [0, 1] or uint8 in 0-255 (``C`` = 3 for VGG19, 1 for grey
            face nets); each batch is converted to float32 in [0, 1] on its own.
        preprocess: applied to each batch before the model (e.g. ``vgg.caffe_preprocess``).

    Returns:
        One ``(N, H^{[l]}, W^{[l]}, n_C^{[l]}) float32`` array per layer (for many images,
        :func:`unit_peaks` keeps only what the top-9 search needs).
    """
    result: list[np.ndarray] = []
    for b, outs in _layer_batches(model, layer_names, np.asarray(images), preprocess, batch_size):
        if not result:  # one array per layer, filled batch by batch (no list of batches to concatenate)
            result = [np.empty((len(images), *o.shape[1:]), np.float32) for o in outs]
        for r, o in zip(result, outs):
            r[b:b + len(o)] = o.numpy()
    return result


@dataclass(frozen=True)
class UnitPeaks:
    """Each unit's strongest activation on each image, and where: all the top-9 search reads.

    ``values[n, c]`` is :math:`\\max_{h,w} a_{n,h,w,c}` and ``positions[n, c]`` its flat position
    ``h * n_W + w`` (the first one on ties, as ``argmax``); ``map_shape`` is ``(n_H, n_W, n_C)``.
    ``shape`` and ``len`` read like the full activations' ``(N, n_H, n_W, n_C)``.
    """

    values: np.ndarray
    positions: np.ndarray
    map_shape: tuple[int, int, int]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.values), *self.map_shape)

    def __len__(self) -> int:
        return len(self.values)

    @classmethod
    def of(cls, activations: Any) -> UnitPeaks:
        """The peaks of full ``(N, n_H, n_W, n_C)`` activations (or ``activations`` if already peaks)."""
        if isinstance(activations, UnitPeaks):
            return activations
        a = np.asarray(activations)
        if a.ndim != 4:
            raise ValueError(f"activations must be (N, n_H, n_W, n_C); got shape {a.shape}")
        flat = a.reshape(len(a), -1, a.shape[-1])
        return cls(flat.max(axis=1), flat.argmax(axis=1).astype(np.int32), tuple(a.shape[1:]))


def unit_peaks(model: Any, layer_names: Sequence[str], images: np.ndarray, preprocess: Preprocess | None = None,
               batch_size: int | None = None) -> list[UnitPeaks]:
    """:func:`layer_activations` reduced, batch by batch, to each unit's peak per image (:class:`UnitPeaks`).

    The same top-9 patches as the full activations, in a fraction of the memory: 1,200 crops of
    64 px through VGG19's layers 1-3 take 2.1 GB as full maps, 2 MB as peaks.

    Args:
        model, layer_names, images, preprocess: as in :func:`layer_activations` (uint8 or float32 images).
        batch_size: images per forward pass; ``None``: as many as keep a 64-channel map of the
            whole batch at full resolution under 32 MiB (32 crops of 64 px, 2 of 252 px): TensorFlow's
            working memory grows with the batch, its speed hardly.
    """
    images = np.asarray(images)
    if batch_size is None:
        batch_size = max(1, (32 << 20) // (int(np.prod(images.shape[1:3])) * 64 * 4))
    parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in layer_names]
    shapes: list[tuple[int, int, int]] = []
    for _, outs in _layer_batches(model, layer_names, images, preprocess, batch_size):
        shapes = [tuple(o.shape[1:]) for o in outs]
        for part, o in zip(parts, outs):
            flat = tf.reshape(o, (o.shape[0], -1, o.shape[-1]))
            part.append((tf.reduce_max(flat, axis=1).numpy(), tf.argmax(flat, axis=1, output_type=tf.int32).numpy()))
    return [UnitPeaks(np.concatenate([v for v, _ in part]), np.concatenate([p for _, p in part]), shape)
            for part, shape in zip(parts, shapes)]


def _crop(image: np.ndarray, box: tuple[int, int, int, int], fill: float = 0.5) -> np.ndarray:
    """Crop ``box`` from ``(H, W, C)`` ``image`` (uint8 or float in [0, 1]) as float32 in [0, 1]; parts outside
    the image are ``fill`` grey (in [0, 1] terms)."""
    top, left, bottom, right = box
    H, W = image.shape[:2]
    out = np.full((bottom - top, right - left, image.shape[2]), fill, np.float32)
    y0, x0, y1, x1 = max(top, 0), max(left, 0), min(bottom, H), min(right, W)
    if y1 > y0 and x1 > x0:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = _float01(image[y0:y1, x0:x1])
    return out


def top_activating_patches(model: Any, layer_name: str, unit: int, images: np.ndarray, k: int = 9, *,
                           preprocess: Preprocess | None = None, activations: np.ndarray | UnitPeaks | None = None,
                           pad: bool = True) -> tuple[np.ndarray | list[np.ndarray], np.ndarray]:
    """The ``k`` image regions that make one unit fire most (one per image, as in Zeiler & Fergus).

    For each image the unit's strongest position is found; the ``k`` images with the largest
    values are kept and the unit's receptive field (:func:`receptive_field`) around that position
    is cropped (grey where it leaves the image).

    Args:
        model: Keras model; layer_name: one of its layers; unit: channel index.
        images: ``(N, H, W, 3)`` float32 in [0, 1] or uint8 in 0-255 (each crop converted on its own).
        k: number of patches (9 in the lecture).
        preprocess: applied before the model (``vgg.caffe_preprocess`` for VGG19).
        activations: ``(N, H^{[l]}, W^{[l]}, n_C)`` of this layer if already computed, or its
            :class:`UnitPeaks` (:func:`unit_peaks`).
        pad: keep the full receptive field, grey outside the image (all patches ``r x r``); with
            ``False`` each patch is the part of the receptive field inside its image.

    Returns:
        ``(patches, values)``: ``(k, r, r, 3) float32`` in [0, 1] (whatever the images' dtype), ``r`` the
        receptive-field size (a list of arrays when ``pad=False``); the ``(k,)`` activations, largest first.
    """
    images = np.asarray(images)
    if activations is None:
        activations = unit_peaks(model, [layer_name], images, preprocess)[0]
    n_C = activations.shape[-1]
    if not 0 <= unit < n_C:
        raise ValueError(f"unit must be in [0, {n_C}) for layer {layer_name!r}; got {unit}")
    k = min(k, len(images))
    if isinstance(activations, UnitPeaks):
        best_pos, best_val = activations.positions[:, unit], activations.values[:, unit]
    else:
        a = np.asarray(activations)[..., unit].reshape(len(images), -1)
        best_pos, best_val = a.argmax(axis=1), a.max(axis=1)
    order = np.argsort(-best_val, kind="stable")[:k]
    rf = receptive_field(model, layer_name)
    W_l = activations.shape[2]
    patches = []
    for idx in order:
        i, j = divmod(int(best_pos[idx]), W_l)
        top, left, bottom, right = rf.box(i, j)
        if pad:
            patches.append(_crop(images[idx], (top, left, bottom, right)))
        else:
            H, W = images.shape[1:3]
            patches.append(_float01(images[idx, max(top, 0):min(bottom, H), max(left, 0):min(right, W)]))
    values = best_val[order].astype(np.float32)
    return (np.stack(patches) if pad else patches), values


def _pick_units(act: UnitPeaks, n: int, rng: np.random.Generator) -> list[int]:
    """Units that fire on the pool (the strongest third), ``n`` of them at random."""
    peak = act.values.max(axis=0)
    alive = np.flatnonzero(peak > 0)
    if len(alive) == 0:
        alive = np.arange(act.shape[-1])
    strong = alive[np.argsort(-peak[alive])][: max(n, len(alive) // 3)]
    return sorted(int(u) for u in rng.choice(strong, size=min(n, len(strong)), replace=False))


def patch_mosaic(patches: Sequence[np.ndarray], tile: int = 32, gap: int = 2) -> np.ndarray:
    """Arrange up to 9 patches (any sizes, 1 or 3 channels; uint8 or float in [0, 1]) in a square grid of
    ``tile``-pixel cells.

    Returns:
        ``(side*(tile+gap), side*(tile+gap), 3) float32`` image (white gaps), ``side = ceil(sqrt(n))``.
    """
    side = max(1, int(math.ceil(math.sqrt(len(patches)))))
    mosaic = np.ones((side * (tile + gap), side * (tile + gap), 3), np.float32)
    for p_i, patch in enumerate(patches):
        patch = _float01(patch)
        if patch.shape[-1] == 1:
            patch = np.repeat(patch, 3, axis=-1)
        method = "nearest" if max(patch.shape[:2]) < tile else "area"
        small = tf.image.resize(patch[None], (tile, tile), method=method)[0].numpy()
        r_, c_ = divmod(p_i, side)
        mosaic[r_ * (tile + gap):r_ * (tile + gap) + tile, c_ * (tile + gap):c_ * (tile + gap) + tile] = small
    return np.clip(mosaic, 0, 1)


def plot_top9_grid(model: Any, layer_names: Sequence[str], images: np.ndarray, units_per_layer: int = 4, *,
                   preprocess: Preprocess | None = None, k: int = 9, seed: int = 0,
                   activations: Sequence[np.ndarray | UnitPeaks] | None = None, title: str | None = None):
    """Zeiler & Fergus's figure: for each layer, the top-``k`` patches of a few units.

    One row per layer; each unit is a 3x3 block of its nine patches (the part of each receptive
    field inside its image, all resized to the same tile, so a deeper layer's larger receptive
    field shows as *more* image in a tile). ``images``: ``(N, H, W, C)`` uint8 or float32 in [0, 1], as
    in :func:`top_activating_patches`.

    Returns:
        ``(figure, chosen)``: the matplotlib figure and ``{layer: [units]}``.
    """
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    activations = ([UnitPeaks.of(a) for a in activations] if activations is not None
                   else unit_peaks(model, layer_names, images, preprocess))
    fig, axes = plt.subplots(len(layer_names), units_per_layer,
                             figsize=(2.0 * units_per_layer, 2.1 * len(layer_names)), squeeze=False)
    chosen: dict[str, list[int]] = {}
    for row, (name, act) in enumerate(zip(layer_names, activations)):
        units = _pick_units(act, units_per_layer, rng)
        chosen[name] = units
        rf = receptive_field(model, name)
        for col in range(units_per_layer):
            ax = axes[row, col]
            ax.axis("off")
            if col >= len(units):
                continue
            patches, _ = top_activating_patches(model, name, units[col], images, k, activations=act, pad=False)
            mosaic = patch_mosaic(list(patches))
            ax.imshow(np.clip(mosaic, 0, 1))
            ax.set_title(f"{name}\nunit {units[col]} (RF {rf.size}px)" if col == 0 else f"unit {units[col]}",
                         fontsize=8)
    fig.suptitle(title or "Nine patches that most activate a unit, by layer", fontsize=11)
    fig.tight_layout()
    return fig, chosen


# --------------------------------------------------------------------------- activation maximisation

def activation_maximisation(model: Any, layer_name: str, unit: int, steps: int = 64, *, size: int = 64,
                            learning_rate: float = 0.05, l2: float = 1e-3, blur_every: int = 4,
                            jitter: int = 2, preprocess: Preprocess | None = None, seed: int = 0) -> np.ndarray:
    """An input that excites one unit: regularised gradient ascent from a grey image.

    Maximises the unit's mean activation over positions minus ``l2 * ||x - 0.5||^2``, with the
    gradient normalised each step, random jitter (translations of up to ``jitter`` pixels),
    and a light Gaussian blur every ``blur_every`` steps (regularisers of Yosinski et al. 2015).

    Args:
        model: Keras model; layer_name: its layer; unit: channel index.
        steps: gradient-ascent steps. size: side of the square image.
        preprocess: applied to the [0, 1] image before the model (``vgg.caffe_preprocess``).

    Returns:
        ``(size, size, C) float32`` in [0, 1], ``C`` the model's input channels (3 for VGG19).
    """
    import keras

    if steps < 1 or size < 8:
        raise ValueError(f"activation_maximisation needs steps >= 1 and size >= 8; got {steps}, {size}")
    sub = keras.Model(model.inputs, model.get_layer(layer_name).output)
    n_C = sub.output.shape[-1]
    if not 0 <= unit < n_C:
        raise ValueError(f"unit must be in [0, {n_C}) for layer {layer_name!r}; got {unit}")
    rng = np.random.default_rng(seed)
    n_in = int(sub.inputs[0].shape[-1] or 3)
    x = tf.Variable(0.5 + 0.02 * rng.standard_normal((1, size, size, n_in)).astype(np.float32))
    g1 = np.exp(-0.5 * (np.arange(-2, 3) / 0.8) ** 2)
    g1 /= g1.sum()
    blur_k = tf.constant(np.tile(np.outer(g1, g1)[:, :, None, None], (1, 1, n_in, 1)), tf.float32)

    @tf.function
    def step(dy: tf.Tensor, dx: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            shifted = tf.roll(x, shift=[dy, dx], axis=[1, 2])
            inp = preprocess(shifted) if preprocess else shifted
            act = tf.cast(sub(inp), tf.float32)[..., unit]
            objective = tf.reduce_mean(act) - l2 * tf.reduce_sum(tf.square(x - 0.5))
        g = tape.gradient(objective, x)
        g = g / (tf.math.reduce_std(g) + 1e-8)
        x.assign(tf.clip_by_value(x + learning_rate * g, 0.0, 1.0))
        return objective

    for t in range(steps):
        dy, dx = (int(v) for v in rng.integers(-jitter, jitter + 1, size=2)) if jitter else (0, 0)
        step(tf.constant(dy), tf.constant(dx))
        if blur_every and (t + 1) % blur_every == 0 and t + 1 < steps:
            x.assign(tf.nn.depthwise_conv2d(tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], "REFLECT"),
                                            blur_k, [1, 1, 1, 1], "VALID"))
    img = x.numpy()[0]
    lo, hi = np.percentile(img, 1), np.percentile(img, 99)
    return np.clip((img - lo) / max(hi - lo, 1e-6), 0, 1).astype(np.float32)


# --------------------------------------------------------------------------- filters, feature maps

def _tile_figure(n: int, tile_inches: float, title: str, draw: Callable[[Any, int], None]):
    """A near-square grid of at least ``n`` axes, ``tile_inches`` each, all axes off; ``draw(ax, idx)``
    fills the first ``n``. Returns the matplotlib figure, titled ``title``."""
    import matplotlib.pyplot as plt

    cols = int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * tile_inches, rows * tile_inches + 0.4), squeeze=False)
    for idx, ax in enumerate(axes.flat):
        ax.axis("off")
        if idx < n:
            draw(ax, idx)
    fig.suptitle(title)
    return fig


def plot_filters(kernel: np.ndarray, n: int = 64, title: str = "First-layer filters"):
    """Show convolution kernels ``(k_h, k_w, n_C_prev, n_C)``: RGB when ``n_C_prev == 3``, else channel 0.

    Each filter is scaled to [0, 1] on its own. Returns the matplotlib figure.
    """
    kernel = np.asarray(kernel, np.float32)
    if kernel.ndim != 4:
        raise ValueError(f"kernel must be (k_h, k_w, n_C_prev, n_C); got shape {kernel.shape}")

    def draw(ax: Any, idx: int) -> None:
        f = kernel[..., idx]
        f = f if f.shape[-1] == 3 else f[..., 0]
        f = (f - f.min()) / max(float(f.max() - f.min()), 1e-8)
        ax.imshow(f, interpolation="nearest", cmap=None if f.ndim == 3 else "gray")

    return _tile_figure(min(n, kernel.shape[-1]), 0.8, title, draw)


def plot_feature_maps(activations: Any, n: int = 16, title: str = "Feature maps"):
    """Show the first ``n`` channels of ``(1, n_H, n_W, n_C)`` activations as images. Returns the figure."""
    a = np.asarray(tf.cast(activations, tf.float32))
    if a.ndim != 4:
        raise ValueError(f"activations must be (1, n_H, n_W, n_C); got shape {a.shape}")

    def draw(ax: Any, idx: int) -> None:
        ax.imshow(a[0, :, :, idx], cmap="viridis")
        ax.set_title(f"channel {idx}", fontsize=7)

    return _tile_figure(min(n, a.shape[-1]), 1.4, title, draw)
