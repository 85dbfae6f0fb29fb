"""The style-transfer optimiser: presets, image preparation and :func:`stylize`.

The costs are those of the lesson, in :mod:`facelib.nst` (``compute_content_cost``,
``layer_style_cost_from_gram`` — the second half of ``compute_layer_style_cost`` — and
``total_cost``); this module only prepares the images, computes the style image's Gram matrices
once, and runs gradient descent on the pixels of :math:`G` (the network's weights stay frozen):

.. math:: G := G - \\eta\\, \\partial J / \\partial G

with Adam (the course) or L-BFGS (Gatys et al.), optionally coarse-to-fine. Everything here is
re-exported by :mod:`facelib.nst`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from facelib.nst import (
    COURSE_STYLE_LAYERS,
    _layer_weights,
    compute_content_cost,
    layer_style_cost_from_gram,
    style_gram,
    total_cost,
    total_variation_cost,
)

__all__ = ["MAX_SIZE", "PRESETS", "Preset", "evaluate_costs", "face_weights", "painting_names", "prepare_image",
           "resolve_style", "stylize"]

#: Largest output side :func:`stylize` accepts: VGG19's activations grow with the square of the
#: side (at 1024 px, block 1 alone holds 2 × 64 × 1024² floats per image and its gradient).
MAX_SIZE = 1024
#: Sides above this are reached coarse-to-fine: each level doubles the previous one.
_PYRAMID_TOP = 512


# --------------------------------------------------------------------------- images

def _check_image(image: Any, what: str) -> np.ndarray:
    """Validate ``image`` and return it as ``(H, W, 3) float32`` in ``[0, 1]``."""
    from facelib import images as data

    if isinstance(image, (str, os.PathLike)):
        image = data.read_image(image)
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"{what} must be an RGB image of shape (H, W, 3); got shape {arr.shape} "
                         "(convert greyscale with facelib.images.to_rgb_uint8)")
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
    """``(H, W, C)`` float in [0, 1] → ``(h, w, C)`` float32 (antialiased bicubic)."""
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


def painting_names() -> list[str]:
    """The registry's paintings, by the short names :func:`resolve_style` accepts (``"starry-night"``...)."""
    from facelib import assets

    return [a.name[len("style-"):] for a in assets.list_assets() if a.name.startswith("style-")]


def resolve_style(style: Any) -> Any:
    """A painting name from the registry (``"starry-night"`` or ``"style-starry-night"``) → its file.

    Anything else (an array, a path that exists, a path that does not) is returned unchanged, so
    that a missing file is reported by the image reader under its own name.
    """
    if not isinstance(style, str) or Path(style).exists():
        return style
    from facelib import assets

    names = painting_names()
    name = style[len("style-"):] if style.startswith("style-") else style
    if name in names:
        return assets.fetch(f"style-{name}")
    if not Path(style).suffix:  # no suffix: meant as a painting name
        raise ValueError(f"style {style!r} is neither an image file nor a painting of the registry "
                         f"({', '.join(names)})")
    return style


def _parse_styles(style: Any) -> list[tuple[Any, float]]:
    """One style, or a sequence of ``(style, weight)`` pairs → normalised ``[(style, weight)]``."""
    if isinstance(style, (list, tuple)) and style and all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], (int, float, np.number)) for p in style):
        pairs = [(resolve_style(s), float(w)) for s, w in style]
        if any(not math.isfinite(w) or w < 0 for _, w in pairs) or sum(w for _, w in pairs) <= 0:
            raise ValueError(f"style weights must be finite, >= 0 and not all 0; got {[w for _, w in pairs]}")
        total = sum(w for _, w in pairs)
        return [(s, w / total) for s, w in pairs]
    return [(resolve_style(style), 1.0)]


def _read_mask(mask: Any) -> np.ndarray:
    """A mask image or array → ``(H, W)`` float32 in [0, 1] (1 = stylise, 0 = keep the photo)."""
    from facelib import images as data

    if isinstance(mask, (str, os.PathLike)):
        arr = data.read_image(mask).astype(np.float32) / 255.0
    else:
        arr = np.asarray(mask)
        arr = arr.astype(np.float32) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float32)
    if arr.ndim == 3:
        arr = arr.mean(-1)
    if arr.ndim != 2 or min(arr.shape) < 2:
        raise ValueError(f"mask must be an (H, W) or (H, W, 3) image; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
        raise ValueError("mask values must lie in [0, 1] (float) or 0-255 (uint8)")
    return arr


# --------------------------------------------------------------------------- presets

_INITS = ("content+noise", "noise", "content", "content+colors")
_OPTIMIZERS = ("adam", "lbfgs")
_PREPROCESSING = ("course", "caffe")
_PRECISIONS = ("auto", "float32", "bfloat16")


@dataclass(frozen=True)
class Preset:
    """A complete, validated recipe for :func:`stylize`.

    Construct one, or change fields of an existing one with :meth:`replace` (validated again);
    :func:`stylize` takes a preset name or a ``Preset`` plus keyword overrides of its fields.
    """

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
    style_scale: float = 1.0         # the painting's size relative to the photo (brush size)

    def __post_init__(self) -> None:
        layers = tuple(_layer_weights(self.style_layers))
        if not layers:
            raise ValueError("style_layers is empty; name at least one VGG19 layer")
        object.__setattr__(self, "style_layers", layers)
        for name in ("size", "steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.size < 16:
            raise ValueError(f"size must be at least 16 pixels (VGG19 pools 4 times), got {self.size}")
        if self.size > MAX_SIZE:
            raise ValueError(f"size {self.size} is above the cap of {MAX_SIZE} pixels (memory grows with "
                             "the square of the size)")
        if isinstance(self.coarse_steps, bool) or not isinstance(self.coarse_steps, (int, np.integer)) \
                or self.coarse_steps < 0:
            raise ValueError(f"coarse_steps must be >= 0, got {self.coarse_steps!r}")
        for name, allowed in (("init", _INITS), ("optimizer", _OPTIMIZERS), ("preprocessing", _PREPROCESSING),
                              ("precision", _PRECISIONS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be {', '.join(map(repr, allowed[:-1]))} or {allowed[-1]!r}, "
                                 f"got {getattr(self, name)!r}")
        for name in ("alpha", "beta", "tv_weight"):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.number)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("learning_rate", "style_scale"):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.number)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        if not isinstance(self.preserve_color, (bool, np.bool_)):
            raise ValueError(f"preserve_color must be True or False, got {self.preserve_color!r}")

    def replace(self, **overrides: Any) -> Preset:
        """A copy with some fields changed (``None`` values are ignored); unknown names raise ``ValueError``."""
        fields = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(unknown)}; a preset has {', '.join(sorted(fields))}")
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})


PRESETS: dict[str, Preset] = {
    # The assignment: 400x400, Adam 0.01, alpha=10, beta=40, content block5_conv4, [0,1] inputs,
    # generated image = content + uniform noise in [-0.25, 0.25].
    "course": Preset(size=400, steps=200),
    # Fast on a CPU: caffe inputs (what VGG19 was trained on), start from the content image,
    # a shallower content layer, a larger learning rate, a few steps at half size first.
    "classroom": Preset(size=256, steps=50, content_layer="block5_conv2", alpha=1.0, beta=1e-5, tv_weight=0.0,
                        init="content", learning_rate=0.02, preprocessing="caffe", coarse_steps=30),
    # A face photo: the classroom recipe with the content measured at a shallower layer (block4_conv2
    # keeps the eyes, nose and mouth where they are); `facelib stylize` adds face_weights() to it.
    "portrait": Preset(size=256, steps=50, content_layer="block4_conv2", alpha=1.0, beta=1e-5, tv_weight=0.0,
                       init="content", learning_rate=0.02, preprocessing="caffe", coarse_steps=30),
    # Larger and smoother: the classroom recipe at 512 px with more, smaller steps and a little
    # total variation (its cost is a mean absolute pixel difference, ~0.2, hence the large weight).
    "quality": Preset(size=512, steps=200, content_layer="block5_conv2", alpha=1.0, beta=1e-5, tv_weight=1e4,
                      init="content", learning_rate=0.01, preprocessing="caffe", coarse_steps=150),
}


def _get_preset(preset: str | Preset) -> Preset:
    if isinstance(preset, Preset):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[preset]


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
def _feature_model(layers: tuple[str, ...], precision: str):
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


def _match_colors(content: np.ndarray, style: np.ndarray) -> np.ndarray:
    """The content image with the painting's mean and spread of each RGB channel (a start closer in style)."""
    mu_c, sd_c = content.mean(axis=(0, 1, 2)), content.std(axis=(0, 1, 2)) + 1e-6
    mu_s, sd_s = style.mean(axis=(0, 1, 2)), style.std(axis=(0, 1, 2))
    return np.clip((content - mu_c) / sd_c * sd_s + mu_s, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------- optimisation

class _Problem:
    """Targets and the cost of one (content, styles, size) problem, with the lesson's functions."""

    def __init__(self, model: Any, content: np.ndarray, styles: Sequence[tuple[np.ndarray, float]],
                 recipe: Preset, content_weights: np.ndarray | None = None) -> None:
        from facelib.models.vgg import caffe_preprocess

        self.model = model
        self.recipe = recipe
        self.n_style = len(recipe.style_layers)
        self.preprocess: Callable[[tf.Tensor], tf.Tensor] = (
            caffe_preprocess if recipe.preprocessing == "caffe" else (lambda x: x))
        outs_C = model(self.preprocess(tf.constant(content)))
        self.a_C = tf.cast(outs_C[-1], tf.float32)
        # Face-aware content: J_content of activations scaled by sqrt(w) is the content cost weighted by w
        self.w_sqrt: tf.Tensor | None = None
        if content_weights is not None:
            hw = self.a_C.shape[1:3]
            w = tf.image.resize(tf.constant(content_weights[None, ..., None], tf.float32), hw, antialias=True)
            self.w_sqrt = tf.sqrt(tf.maximum(w, 0.0))
            self.a_C = self.a_C * self.w_sqrt
        # Style targets, computed once: the Gram matrix of each style layer. A painting of another
        # size (style_scale != 1) is brought to G's number of positions (the Gram is a sum over them);
        # several paintings blend their Grams with the weights w_s (sum w_s = 1), which has the same
        # gradient as sum_s w_s J_style(S_s, G).
        self.grams_S: list[tf.Tensor] = []
        outs_G_shape = [a.shape for a in outs_C[:self.n_style]]
        for style, weight in styles:
            outs_S = model(self.preprocess(tf.constant(style)))
            for i, (a_S, shape) in enumerate(zip(outs_S[:self.n_style], outs_G_shape)):
                scale = float(shape[1] * shape[2]) / float(a_S.shape[1] * a_S.shape[2])
                g = weight * scale * style_gram(a_S)
                if len(self.grams_S) <= i:
                    self.grams_S.append(g)
                else:
                    self.grams_S[i] += g

    def costs(self, G: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
        """``(J, J_content, J_style, TV)`` of a ``(1, h, w, 3)`` image in [0, 1]."""
        r = self.recipe
        outs = self.model(self.preprocess(G))
        J_style = tf.constant(0.0, tf.float32)
        for (_, weight), G_S, a_G in zip(r.style_layers, self.grams_S, outs[:self.n_style]):
            J_style += weight * layer_style_cost_from_gram(G_S, a_G)
        a_G = tf.cast(outs[-1], tf.float32)
        J_content = compute_content_cost(self.a_C, a_G if self.w_sqrt is None else a_G * self.w_sqrt)
        tv = total_variation_cost(G)
        J = total_cost(J_content, J_style, alpha=r.alpha, beta=r.beta) + r.tv_weight * tv
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
        grad = tape.gradient(J, G)              # dJ/dG: the pixels move, the network is frozen
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
    """SciPy L-BFGS-B with [0, 1] bounds, exactly ``steps`` cost evaluations; returns the best image seen.

    The cost and its gradient are computed in the model's precision and handed to SciPy as float64
    (the costs themselves are always accumulated in float32).
    """
    from scipy.optimize import Bounds, minimize

    shape = G0.shape

    def value_and_grad(x: tf.Tensor) -> tuple[tf.Tensor, ...]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            J, Jc, Js, tv = problem.costs(x)
        return J, tape.gradient(J, x), Jc, Js, tv

    # Tracing the VGG19 gradient costs as much as ~10 evaluations on a CPU: worth it only for long runs.
    if jit or steps > 100:
        value_and_grad = tf.function(value_and_grad, jit_compile=jit)

    best: dict[str, Any] = {"J": np.inf, "x": G0, "n": 0}

    def fun(flat: np.ndarray) -> tuple[float, np.ndarray]:
        if best["n"] >= steps:
            raise _Budget
        x = tf.constant(flat.reshape(shape), dtype=tf.float32)
        J, g, Jc, Js, tv = value_and_grad(x)
        best["n"] += 1
        if float(J) < best["J"]:
            best["J"], best["x"] = float(J), flat.reshape(shape).astype(np.float32)
        on_step(x, float(J), float(Jc), float(Js), float(tv))
        return float(J), g.numpy().astype(np.float64).ravel()

    try:
        minimize(fun, G0.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
                 bounds=Bounds(np.zeros(G0.size), np.ones(G0.size)),
                 options={"maxfun": steps + 5, "maxiter": steps, "maxcor": 20})
    except _Budget:
        pass
    return best["x"]


def _recipe(preset: str | Preset, overrides: Mapping[str, Any]) -> Preset:
    return _get_preset(preset).replace(**overrides)


def evaluate_costs(generated: Any, content: Any, style: Any, *, preset: str | Preset = "classroom",
                   precision: str = "float32", **overrides: Any) -> dict[str, float]:
    """Costs of an image under a preset's recipe, at the image's own size.

    Used to compare results fairly (e.g. the style cost of the content image and of the
    stylised image at the same size, whatever coarse-to-fine stages ran in between).

    Args:
        generated: ``(h, w, 3)`` image (uint8 or float in [0, 1]); content and style are resized to it.
        content, style: as for :func:`stylize` (one style, a painting name, or ``(style, weight)`` pairs).
        preset, overrides: the recipe (``style_layers``, ``content_layer``, ``alpha``, ``beta``, ...).

    Returns:
        ``{"total", "content", "style", "tv"}`` floats.
    """
    r = _recipe(preset, overrides)
    G = _check_image(generated, "generated image")
    hw = G.shape[:2]
    C = _resize(_check_image(content, "content image"), hw)[None]
    styles = [(_style_at(_check_image(s, "style image"), hw, r.style_scale), w) for s, w in _parse_styles(style)]
    names = tuple(name for name, _ in r.style_layers) + (r.content_layer,)
    problem = _Problem(_feature_model(names, _resolve_precision(precision)), C, styles, r)
    J, Jc, Js, tv = problem.costs(tf.constant(G[None]))
    return {"total": float(J), "content": float(Jc), "style": float(Js), "tv": float(tv)}


def _style_at(style: np.ndarray, hw: tuple[int, int], scale: float) -> np.ndarray:
    """The painting for an output of ``hw``: cropped and resized to it, or at ``scale`` times its longest side."""
    if scale == 1.0:
        return prepare_image(style, 0, like=hw, what="style image")
    side = max(16, round(max(hw) * scale))
    return prepare_image(style, side, what="style image")


def _stages(r: Preset, shape: tuple[int, ...], need: int) -> list[tuple[int, int]]:
    """Coarse-to-fine plan ``[(longest side, steps)]``: sides above 512 px are reached by doubling."""
    sides = [r.size]
    while sides[0] > _PYRAMID_TOP:
        sides.insert(0, math.ceil(sides[0] / 2))
    plan = [(sides[0], r.steps)] + [(s, max(1, r.steps // 4)) for s in sides[1:]]
    if r.coarse_steps:
        plan.insert(0, (max(16, sides[0] // 2), r.coarse_steps))
    return [(side, n) for side, n in plan if min(_target_shape(shape, side)) >= need]


def face_weights(image: Any, boost: float = 8.0) -> np.ndarray | None:
    """A content-weight map for a portrait: 1 everywhere, ``1 + boost`` on the main face (soft edges).

    Uses facelib's MTCNN detector; returns ``None`` when no face is found.

    Returns:
        ``(H, W)`` float32 map for ``stylize(..., content_weights=...)``, or ``None``.
    """
    from facelib import detect

    rgb = (_check_image(image, "content image") * 255 + 0.5).astype(np.uint8)
    faces = detect.detect_faces(rgb)
    face = detect.main_face(faces, rgb.shape) if faces else None
    if face is None:
        return None
    H, W = rgb.shape[:2]
    x, y, bw, bh = face.box
    cx, cy = x + bw / 2, y + bh / 2
    yy, xx = np.mgrid[0:H, 0:W]
    # an ellipse a little larger than the box, with a soft edge
    r = np.sqrt(((xx - cx) / (0.65 * bw)) ** 2 + ((yy - cy) / (0.65 * bh)) ** 2)
    inside = np.clip((1.3 - r) / 0.3, 0.0, 1.0)
    return (1.0 + boost * inside).astype(np.float32)


def stylize(content: Any, style: Any, preset: str | Preset = "classroom", *,
            mask: Any = None, content_weights: Any = None,
            callback: Callable[[int, np.ndarray, Mapping[str, float]], None] | None = None,
            callback_every: int = 10, seed: int = 0, jit_compile: bool = False,
            **overrides: Any) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Generate an image with the content of ``content`` and the style of ``style``.

    Args:
        content: the content photo :math:`C`, ``(H, W, 3)`` uint8 or float in [0, 1], or a path.
        style: the painting :math:`S` (same kinds, or a registry painting name such as
            ``"starry-night"``), or several as ``[(style, weight), ...]`` (weights are normalised
            to sum to 1). Centre-cropped and resized to the output size (see ``style_scale``).
        preset: ``"course"``, ``"classroom"``, ``"portrait"`` or ``"quality"`` (see :data:`PRESETS`),
            or a :class:`Preset`.
        mask: optional ``(H, W)`` image (path or array, any size; white = stylise, black = keep
            the photo): the result is stylised only where the mask is white.
        content_weights: optional ``(H, W)`` map ≥ 0 weighting :math:`J_{content}` per position (e.g.
            :func:`face_weights`: a face keeps its features while the rest takes the style).
        callback: called as ``callback(step, image, costs)`` every ``callback_every`` steps and
            after the last, with ``image`` ``(h, w, 3)`` float32 and ``costs`` the latest costs.
        seed: seed of the initial noise. jit_compile: compile the train step with XLA.
        **overrides: fields of the preset to change (``None`` leaves a field as it is):
            ``size`` (longest side of the output, at most :data:`MAX_SIZE`; above 512 px it is
            reached coarse-to-fine, each doubling refined with ``steps // 4`` steps), ``steps``
            (at the first full level: Adam updates, or L-BFGS cost evaluations), ``style_layers``
            (``(VGG19 layer, λ)`` pairs or names), ``content_layer``, ``alpha``, ``beta``, ``tv_weight``,
            ``init`` (``"content+noise"``: the course's content plus uniform noise in ±0.25;
            ``"noise"``; ``"content"``; ``"content+colors"``: the content with the painting's
            per-channel mean and spread), ``learning_rate`` (Adam), ``optimizer`` (``"adam"`` or
            ``"lbfgs"``: SciPy's L-BFGS-B with [0, 1] bounds), ``precision`` (``"auto"``: bfloat16 on
            CPUs with AVX-512 BF16; ``"float32"``; ``"bfloat16"``), ``coarse_steps`` (steps at half
            size first), ``preprocessing`` (``"course"``: [0, 1] RGB straight into VGG19; ``"caffe"``),
            ``preserve_color`` (keep the photo's colours, take only the luminance), ``style_scale``
            (the painting's longest side relative to the output's: > 1 gives larger brush strokes).

    Returns:
        ``(image, history)``: ``image`` ``(h, w, 3)`` float32 in [0, 1]; ``history`` a dict of
        lists, one entry per step (coarse steps first): ``"total"``, ``"content"``, ``"style"``,
        ``"tv"``, ``"size"`` (the longest side of that step), ``"time"`` (seconds since the start, after
        each step; the first step includes tracing), plus ``"seconds"`` (one number, total wall time).

    Raises:
        ValueError: unknown preset/option, a field out of range (see :class:`Preset`), or an input
            that is not an RGB image (e.g. one channel, or 0 pixels); the message names the argument.
    """
    r = _recipe(preset, overrides)
    content_full = _check_image(content, "content image")
    styles_full = [(_check_image(s, "style image"), w) for s, w in _parse_styles(style)]
    mask_full = None if mask is None else _read_mask(mask)
    weights_full = None
    if content_weights is not None:
        weights_full = np.asarray(content_weights, np.float32)
        if weights_full.ndim != 2 or not np.all(np.isfinite(weights_full)) or weights_full.min() < 0:
            raise ValueError(f"content_weights must be an (H, W) map of finite values >= 0; got shape "
                             f"{weights_full.shape}")
    prec = _resolve_precision(r.precision)

    names = tuple(name for name, _ in r.style_layers) + (r.content_layer,)
    # VGG19 halves the image before each block: a layer of block b needs sides >= 2**(b-1)
    need = 2 ** (max(int(name[5]) for name in names if name.startswith("block")) - 1)
    final_hw = _target_shape(content_full.shape, r.size)
    if min(final_hw) < need:
        raise ValueError(f"size {r.size} gives a {final_hw[0]}x{final_hw[1]} image; the layers used need at "
                         f"least {need} pixels on the shorter side")
    model = _feature_model(names, prec)
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"total": [], "content": [], "style": [], "tv": [], "size": [], "time": []}
    from facelib import config
    from facelib.progress import tqdm

    stages = _stages(r, content_full.shape, need)
    total_steps = sum(n for _, n in stages)
    label = preset if isinstance(preset, str) else "custom"
    bar = tqdm(total=total_steps, desc=f"stylize ({label})", unit="step", leave=False,
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
            styles = [(_style_at(s, hw, r.style_scale), w) for s, w in styles_full]
            problem = _Problem(model, C, styles, r, weights_full)
            if G_prev is not None:
                G0 = _resize(G_prev[0], hw)[None]
            elif r.init == "content":
                G0 = C.copy()
            elif r.init == "content+colors":
                G0 = _match_colors(C, styles[0][0])
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
    if r.preserve_color or mask_full is not None:
        photo = _resize(content_full, image.shape[:2])
        if r.preserve_color:
            image = _preserve_color(image, photo)
        if mask_full is not None:
            m = _resize(mask_full[..., None], image.shape[:2])
            image = (m * image + (1.0 - m) * photo).astype(np.float32)
    history["seconds"] = [time.perf_counter() - start]
    return image, history
