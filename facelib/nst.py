"""Neural style transfer (Gatys et al. 2015), as in the lecture "Neural Style Transfer".

A generated image :math:`G` is optimised so that its VGG19 activations keep the *content* of a
photo :math:`C` (activations of one deep layer) and the *style* of a painting :math:`S`
(correlations between channels — Gram matrices — at several layers):

.. math::

    J(G) = \\alpha\\, J_{content}(C, G) + \\beta\\, J_{style}(S, G)

(the lecture notes write a minus sign; the cost is a weighted *sum*). Normalisations follow the
course: :math:`J_{content} = \\frac{1}{4 n_H n_W n_C}\\sum (a^{(C)} - a^{(G)})^2` and
:math:`J^{[l]}_{style} = \\frac{1}{4 n_C^2 (n_H n_W)^2}\\sum_{k,k'} (G^{[l](S)}_{kk'} - G^{[l](G)}_{kk'})^2`.

:func:`stylize` runs the whole recipe with presets: ``"course"`` (the assignment's recipe),
``"classroom"`` (a visibly stylised 256-px image in well under a minute on a laptop CPU) and
``"quality"`` (larger, smoother, slower).
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

__all__ = [
    "COURSE_STYLE_LAYERS",
    "PRESETS",
    "Preset",
    "compute_content_cost",
    "compute_layer_style_cost",
    "compute_style_cost",
    "evaluate_costs",
    "gram_matrix",
    "prepare_image",
    "stylize",
    "total_cost",
    "total_variation_cost",
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
    _, n_H, n_W, n_C = a_G.shape
    GS = gram_matrix(_unroll(a_S))
    GG = gram_matrix(_unroll(a_G))
    return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C**2 * float(n_H * n_W) ** 2)


def _layer_weights(style_layers: Sequence[tuple[str, float]] | Sequence[str]) -> list[tuple[str, float]]:
    layers = list(style_layers)
    if layers and isinstance(layers[0], str):
        return [(str(name), 1.0 / len(layers)) for name in layers]
    return [(str(name), float(w)) for name, w in layers]  # type: ignore[misc]


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


# --------------------------------------------------------------------------- images

def _check_image(image: Any, what: str) -> np.ndarray:
    """Validate ``image`` and return it as ``(H, W, 3) float32`` in ``[0, 1]``."""
    from facelib import data

    if isinstance(image, (str, os.PathLike)):
        image = data.read_image(image)
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"{what} must be an RGB image of shape (H, W, 3); got shape {arr.shape} "
                         "(convert greyscale with facelib.data.to_rgb_uint8)")
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise ValueError(f"{what} is empty or too small: shape {arr.shape}, need at least 2x2 pixels")
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
            raise ValueError(f"{what}: a float image must hold finite values in [0, 1]; got "
                             f"[{np.nanmin(arr):.3g}, {np.nanmax(arr):.3g}]")
        return arr.astype(np.float32)
    raise ValueError(f"{what} must be uint8 or float in [0, 1]; got dtype {arr.dtype}")


def _target_shape(shape: tuple[int, ...], size: int) -> tuple[int, int]:
    h, w = shape[:2]
    scale = size / max(h, w)
    return max(2, round(h * scale)), max(2, round(w * scale))


def _resize(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """``(H, W, 3)`` float in [0, 1] → ``(h, w, 3)`` float32 (antialiased bicubic)."""
    if img.shape[:2] == tuple(hw):
        return img.astype(np.float32)
    out = tf.image.resize(img[None], hw, method="bicubic", antialias=True)[0]
    return np.clip(out.numpy(), 0.0, 1.0).astype(np.float32)


def _crop_to_aspect(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Centre-crop ``img`` to the aspect ratio of ``hw`` (so resizing does not distort it)."""
    H, W = img.shape[:2]
    target = hw[1] / hw[0]
    if W / H > target:
        new_w = max(1, round(H * target))
        x0 = (W - new_w) // 2
        return img[:, x0:x0 + new_w]
    new_h = max(1, round(W / target))
    y0 = (H - new_h) // 2
    return img[y0:y0 + new_h]


def prepare_image(image: Any, size: int, *, like: tuple[int, int] | None = None, what: str = "image") -> np.ndarray:
    """Validate and resize an image for :func:`stylize`.

    Args:
        image: ``(H, W, 3)`` uint8 or float in [0, 1], or an image file path.
        size: longest side in pixels (ignored when ``like`` is given).
        like: ``(h, w)`` to match exactly (the style image is centre-cropped to that aspect
            ratio, then resized — the course's costs assume equal sizes).

    Returns:
        ``(1, h, w, 3)`` float32 array in [0, 1].
    """
    arr = _check_image(image, what)
    if like is not None:
        return _resize(_crop_to_aspect(arr, like), like)[None]
    return _resize(arr, _target_shape(arr.shape, size))[None]


# --------------------------------------------------------------------------- presets

@dataclass(frozen=True)
class Preset:
    """A complete recipe for :func:`stylize` (every field can be overridden by keyword)."""

    size: int
    steps: int
    style_layers: tuple[tuple[str, float], ...] = COURSE_STYLE_LAYERS
    content_layer: str = "block5_conv4"
    alpha: float = 10.0
    beta: float = 40.0
    tv_weight: float = 0.0
    init: str = "content+noise"
    learning_rate: float = 0.01
    optimizer: str = "adam"          # "adam" or "lbfgs"
    preprocessing: str = "course"    # "course": [0,1] RGB straight in; "caffe": VGG's own
    precision: str = "auto"          # "auto" (bfloat16 on CPUs with AVX-512 BF16), "float32", "bfloat16"
    coarse_steps: int = 0            # steps at half size before the full-size steps (coarse-to-fine)
    preserve_color: bool = False


PRESETS: dict[str, Preset] = {
    # The assignment: 400x400, Adam 0.01, alpha=10, beta=40, content block5_conv4, [0,1] inputs,
    # generated image = content + uniform noise in [-0.25, 0.25].
    "course": Preset(size=400, steps=200),
    # Fast on a CPU: caffe inputs (what VGG19 was trained on), start from the content image,
    # a shallower content layer, a larger learning rate, a few steps at half size first.
    "classroom": Preset(size=256, steps=50, content_layer="block5_conv2", alpha=1.0, beta=1e-5, tv_weight=0.0,
                        init="content", learning_rate=0.02, preprocessing="caffe", coarse_steps=30),
    # Larger and smoother: the classroom recipe at 512 px with more, smaller steps and a little
    # total variation (its cost is a mean absolute pixel difference, ~0.2, hence the large weight).
    "quality": Preset(size=512, steps=200, content_layer="block5_conv2", alpha=1.0, beta=1e-5, tv_weight=1e4,
                      init="content", learning_rate=0.01, preprocessing="caffe", coarse_steps=150),
}


def _resolve_precision(precision: str) -> str:
    if precision == "auto":
        from facelib.device import cpu_supports_bf16

        if tf.config.list_physical_devices("GPU"):
            return "float32"
        return "bfloat16" if cpu_supports_bf16() else "float32"
    if precision not in ("float32", "bfloat16"):
        raise ValueError(f"precision must be 'auto', 'float32' or 'bfloat16', got {precision!r}")
    return precision


@functools.lru_cache(maxsize=4)
def _feature_model(layers: tuple[str, ...], precision: str):  # type: ignore[no-untyped-def]
    """The VGG19 feature model, built once per (layers, precision)."""
    import keras

    from facelib.models.vgg import vgg19_features

    if precision == "float32":
        return vgg19_features(list(layers))
    old = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        return vgg19_features(list(layers))
    finally:
        keras.mixed_precision.set_global_policy(old)


def _preserve_color(generated: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Keep the generated image's luminance and the content image's colours (YUV)."""
    from skimage.color import rgb2yuv, yuv2rgb

    yuv = rgb2yuv(content)
    yuv[..., 0] = rgb2yuv(generated)[..., 0]
    return np.clip(yuv2rgb(yuv), 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------- optimisation

class _Problem:
    """Targets and a compiled cost/gradient for one (content, style, size) problem."""

    def __init__(self, model: Any, content: np.ndarray, style: np.ndarray, recipe: Preset, n_style: int) -> None:
        from facelib.models.vgg import caffe_preprocess

        self.model = model
        self.recipe = recipe
        self.n_style = n_style
        self.preprocess: Callable[[tf.Tensor], tf.Tensor] = (
            caffe_preprocess if recipe.preprocessing == "caffe" else (lambda x: x))
        self.style_layers = recipe.style_layers
        outs_S = model(self.preprocess(tf.constant(style)))
        outs_C = model(self.preprocess(tf.constant(content)))
        # Targets: Gram matrices of the style image, activation of the content image.
        self.grams_S = [gram_matrix(_unroll(a)) for a in outs_S[:n_style]]
        self.a_C = tf.cast(outs_C[-1], tf.float32)

    def costs(self, G: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
        """``(J, J_content, J_style, TV)`` of a ``(1, h, w, 3)`` image in [0, 1]."""
        r = self.recipe
        outs = self.model(self.preprocess(G))
        J_style = tf.constant(0.0, tf.float32)
        for (_, weight), GS, a_G in zip(self.style_layers, self.grams_S, outs[:self.n_style]):
            _, n_H, n_W, n_C = a_G.shape
            GG = gram_matrix(_unroll(a_G))
            J_style += weight * tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C**2 * float(n_H * n_W) ** 2)
        J_content = compute_content_cost(self.a_C, outs[-1])
        tv = total_variation_cost(G)
        J = r.alpha * J_content + r.beta * J_style + r.tv_weight * tv
        return J, J_content, J_style, tv


def _run_adam(problem: _Problem, G0: np.ndarray, steps: int, lr: float, on_step: Callable[..., None],
              jit: bool) -> np.ndarray:
    import keras

    G = tf.Variable(G0, dtype=tf.float32)
    opt = keras.optimizers.Adam(learning_rate=lr)  # one optimizer per image variable

    @tf.function(jit_compile=jit)
    def train_step() -> tuple[tf.Tensor, ...]:
        with tf.GradientTape() as tape:
            J, Jc, Js, tv = problem.costs(G)
        grad = tape.gradient(J, G)
        opt.apply_gradients([(grad, G)])
        G.assign(tf.clip_by_value(G, 0.0, 1.0))
        return J, Jc, Js, tv

    for _ in range(steps):
        J, Jc, Js, tv = train_step()
        on_step(G, float(J), float(Jc), float(Js), float(tv))
    return G.numpy()


class _Budget(Exception):
    """Raised inside the L-BFGS cost function when the evaluation budget is spent."""


def _run_lbfgs(problem: _Problem, G0: np.ndarray, steps: int, on_step: Callable[..., None], jit: bool) -> np.ndarray:
    """SciPy L-BFGS-B with [0, 1] bounds, exactly ``steps`` cost evaluations; returns the best image seen."""
    from scipy.optimize import Bounds, minimize

    shape = G0.shape

    @tf.function(jit_compile=jit)
    def value_and_grad(x: tf.Tensor) -> tuple[tf.Tensor, ...]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            J, Jc, Js, tv = problem.costs(x)
        return J, tape.gradient(J, x), Jc, Js, tv

    best = {"J": np.inf, "x": G0, "n": 0}

    def fun(flat: np.ndarray) -> tuple[float, np.ndarray]:
        if best["n"] >= steps:
            raise _Budget
        x = tf.constant(flat.reshape(shape), dtype=tf.float32)
        J, g, Jc, Js, tv = value_and_grad(x)
        best["n"] += 1
        on_step(x, float(J), float(Jc), float(Js), float(tv))
        if float(J) < best["J"]:
            best["J"], best["x"] = float(J), flat.reshape(shape).astype(np.float32)
        return float(J), g.numpy().astype(np.float64).ravel()

    try:
        minimize(fun, G0.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
                 bounds=Bounds(np.zeros(G0.size), np.ones(G0.size)), options={"maxfun": steps + 5, "maxiter": steps})
    except _Budget:
        pass
    return best["x"]


def evaluate_costs(generated: Any, content: Any, style: Any, *, preset: str = "classroom",
                   precision: str = "float32", **overrides: Any) -> dict[str, float]:
    """Costs of an image under a preset's recipe, at the image's own size.

    Used to compare results fairly (e.g. the style cost of the content image and of the
    stylised image at the same size, whatever coarse-to-fine stages ran in between).

    Args:
        generated: ``(h, w, 3)`` image (uint8 or float in [0, 1]); content and style are resized to it.
        content, style: as for :func:`stylize`.
        preset, overrides: the recipe (``style_layers``, ``content_layer``, ``alpha``, ``beta``, ...).

    Returns:
        ``{"total", "content", "style", "tv"}`` floats.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if "style_layers" in overrides:
        overrides["style_layers"] = tuple(_layer_weights(overrides["style_layers"]))
    r = replace(PRESETS[preset], **overrides)
    G = _check_image(generated, "generated image")
    hw = G.shape[:2]
    C = _resize(_check_image(content, "content image"), hw)[None]
    S = prepare_image(style, 0, like=hw, what="style image")
    names = tuple(name for name, _ in r.style_layers) + (r.content_layer,)
    problem = _Problem(_feature_model(names, _resolve_precision(precision)), C, S, r, len(r.style_layers))
    J, Jc, Js, tv = problem.costs(tf.constant(G[None]))
    return {"total": float(J), "content": float(Jc), "style": float(Js), "tv": float(tv)}


def stylize(content: Any, style: Any, *, preset: str = "classroom", size: int | None = None,
            steps: int | None = None, style_layers: Sequence[tuple[str, float]] | None = None,
            content_layer: str | None = None, alpha: float | None = None, beta: float | None = None,
            tv_weight: float | None = None, init: str | None = None, learning_rate: float | None = None,
            preserve_color: bool | None = None, optimizer: str | None = None, precision: str | None = None,
            coarse_steps: int | None = None, preprocessing: str | None = None,
            callback: Callable[[int, np.ndarray, Mapping[str, float]], None] | None = None,
            callback_every: int = 10, seed: int = 0, jit_compile: bool = False) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Generate an image with the content of ``content`` and the style of ``style``.

    Args:
        content: the content photo :math:`C`, ``(H, W, 3)`` uint8 or float in [0, 1], or a path.
        style: the painting :math:`S`, same kinds; centre-cropped and resized to the output size.
        preset: ``"course"``, ``"classroom"`` or ``"quality"`` (see :data:`PRESETS`); every other
            keyword overrides one field of the preset.
        size: longest side of the output in pixels.
        steps: optimisation steps at full size (Adam updates, or L-BFGS cost evaluations).
        style_layers: ``(VGG19 layer, λ)`` pairs. content_layer: the VGG19 layer of :math:`J_{content}`.
        alpha, beta: weights of :math:`J_{content}` and :math:`J_{style}`; tv_weight: of total variation.
        init: ``"content+noise"`` (the course: content plus uniform noise in ±0.25), ``"noise"``
            (uniform in [0, 1]) or ``"content"``.
        learning_rate: Adam's step size (image values are in [0, 1]).
        preserve_color: keep the content's colours, take only the luminance from the result.
        optimizer: ``"adam"`` or ``"lbfgs"`` (SciPy's L-BFGS-B with [0, 1] bounds).
        precision: ``"auto"`` (bfloat16 mixed precision on CPUs with AVX-512 BF16, else float32),
            ``"float32"`` or ``"bfloat16"``; costs are always accumulated in float32.
        coarse_steps: steps at half size whose result, upsampled, starts the full-size steps.
        preprocessing: ``"course"`` ([0, 1] RGB straight into VGG19) or ``"caffe"``.
        callback: called as ``callback(step, image, costs)`` every ``callback_every`` steps and
            after the last, with ``image`` ``(h, w, 3)`` float32 and ``costs`` the latest costs.
        seed: seed of the initial noise. jit_compile: compile the train step with XLA.

    Returns:
        ``(image, history)``: ``image`` ``(h, w, 3)`` float32 in [0, 1]; ``history`` a dict of
        lists, one entry per step (coarse steps first): ``"total"``, ``"content"``, ``"style"``,
        ``"tv"``, ``"size"`` (the longest side of that step), ``"time"`` (seconds since the start, after
        each step; the first step includes tracing), plus ``"seconds"`` (one number, total wall time).

    Raises:
        ValueError: unknown preset/init/optimizer, ``size``/``steps`` < 1, or an input that is not
            an RGB image (e.g. one channel, or 0 pixels); the message names the argument.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    overrides = {k: v for k, v in dict(
        size=size, steps=steps, content_layer=content_layer, alpha=alpha, beta=beta, tv_weight=tv_weight,
        init=init, learning_rate=learning_rate, preserve_color=preserve_color, optimizer=optimizer,
        precision=precision, coarse_steps=coarse_steps, preprocessing=preprocessing).items() if v is not None}
    if style_layers is not None:
        overrides["style_layers"] = tuple(_layer_weights(style_layers))
    r = replace(PRESETS[preset], **overrides)
    for name in ("size", "steps"):
        value = getattr(r, name)
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if r.size < 16:
        raise ValueError(f"size must be at least 16 pixels (VGG19 pools 4 times), got {r.size}")
    if r.init not in ("content+noise", "noise", "content"):
        raise ValueError(f"init must be 'content+noise', 'noise' or 'content', got {r.init!r}")
    if r.optimizer not in ("adam", "lbfgs"):
        raise ValueError(f"optimizer must be 'adam' or 'lbfgs', got {r.optimizer!r}")
    if r.preprocessing not in ("course", "caffe"):
        raise ValueError(f"preprocessing must be 'course' or 'caffe', got {r.preprocessing!r}")
    if r.coarse_steps < 0:
        raise ValueError(f"coarse_steps must be >= 0, got {r.coarse_steps}")
    content_full = _check_image(content, "content image")
    style_full = _check_image(style, "style image")
    prec = _resolve_precision(r.precision)

    names = tuple(name for name, _ in r.style_layers) + (r.content_layer,)
    model = _feature_model(names, prec)
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"total": [], "content": [], "style": [], "tv": [], "size": [], "time": []}
    from facelib.progress import tqdm

    from facelib import config

    stages = []
    if r.coarse_steps:
        stages.append((max(16, r.size // 2), r.coarse_steps))
    stages.append((r.size, r.steps))
    # VGG19 halves the image before each block: a layer of block b needs sides >= 2**(b-1)
    need = 2 ** (max(int(name[5]) for name in names if name.startswith("block")) - 1)
    final_hw = _target_shape(content_full.shape, r.size)
    if min(final_hw) < need:
        raise ValueError(f"size {r.size} gives a {final_hw[0]}x{final_hw[1]} image; the layers used need at "
                         f"least {need} pixels on the shorter side")
    stages = [(side, n) for side, n in stages if min(_target_shape(content_full.shape, side)) >= need]
    total_steps = sum(n for _, n in stages)
    bar = tqdm(total=total_steps, desc=f"stylize ({preset})", unit="step", leave=False,
               disable=not config.settings.progress)
    start = time.perf_counter()
    counter = {"step": 0}

    def make_on_step(side: int) -> Callable[..., None]:
        def on_step(G: Any, J: float, Jc: float, Js: float, tv: float) -> None:
            for key, v in (("total", J), ("content", Jc), ("style", Js), ("tv", tv), ("size", side),
                           ("time", time.perf_counter() - start)):
                history[key].append(v)
            counter["step"] += 1
            bar.update(1)
            if counter["step"] % 10 == 0:
                bar.set_postfix(J=f"{J:.3g}")
            if callback is not None and (counter["step"] % callback_every == 0 or counter["step"] == total_steps):
                img = G.numpy() if hasattr(G, "numpy") else np.asarray(G)
                callback(counter["step"], np.clip(img[0], 0, 1).astype(np.float32),
                         {"total": J, "content": Jc, "style": Js, "tv": tv})
        return on_step

    G_prev: np.ndarray | None = None
    try:
        for side, n in stages:
            C = prepare_image(content_full, side, what="content image")
            hw = C.shape[1:3]
            S = prepare_image(style_full, side, like=hw, what="style image")
            problem = _Problem(model, C, S, r, len(r.style_layers))
            if G_prev is not None:
                G0 = _resize(G_prev[0], hw)[None]
            elif r.init == "content":
                G0 = C.copy()
            elif r.init == "noise":
                G0 = rng.uniform(0.0, 1.0, C.shape).astype(np.float32)
            else:
                G0 = np.clip(C + rng.uniform(-0.25, 0.25, C.shape), 0.0, 1.0).astype(np.float32)
            if r.optimizer == "adam":
                G_prev = _run_adam(problem, G0, n, r.learning_rate, make_on_step(side), jit_compile)
            else:
                G_prev = _run_lbfgs(problem, G0, n, make_on_step(side), jit_compile)
    finally:
        bar.close()
    assert G_prev is not None
    image = np.clip(G_prev[0], 0.0, 1.0).astype(np.float32)
    if r.preserve_color:
        image = _preserve_color(image, _resize(content_full, image.shape[:2]))
    history["seconds"] = [time.perf_counter() - start]
    return image, history
