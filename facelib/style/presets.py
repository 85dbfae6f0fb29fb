"""Recipes of style transfer: :class:`Preset` (every choice of one run, validated) and :data:`PRESETS`.

A recipe fixes the cost (style layers and their :math:`\\lambda^{[l]}`, the content layer,
:math:`\\alpha`, :math:`\\beta`, total variation, input scaling), the start image, the optimiser
and the plan of sizes (coarse-to-fine). The public names are on :mod:`facelib.style`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from facelib.style.costs import COURSE_STYLE_LAYERS, _layer_weights
from facelib.style.images import _target_shape

__all__ = ["MAX_SIZE", "MAX_STEPS", "PRESETS", "Preset"]

#: Largest output side :func:`stylize` accepts: VGG19's activations grow with the square of the
#: side (at 1024 px, block 1 alone holds 2 × 64 × 1024² floats per image and its gradient).
MAX_SIZE = 1024
#: The most optimisation steps (``steps``, ``coarse_steps``) a recipe may ask for (time and history grow with them).
MAX_STEPS = 10_000
#: Sides above this are reached coarse-to-fine: each level doubles the previous one.
_PYRAMID_TOP = 512

_INITS = ("content+noise", "noise", "content", "content+colors", "content+texture")
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
    coarse_levels: int = 1           # how many coarse levels (halvings) get ``coarse_steps`` each, coarsest first
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
        if isinstance(self.coarse_levels, bool) or not isinstance(self.coarse_levels, (int, np.integer)) \
                or not 1 <= self.coarse_levels <= 4:
            raise ValueError(f"coarse_levels must be an integer from 1 to 4, got {self.coarse_levels!r}")
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
        for name in ("steps", "coarse_steps"):
            if getattr(self, name) > MAX_STEPS:
                raise ValueError(f"{name} {getattr(self, name)} is above the cap of {MAX_STEPS:,}")
        if self.size * self.style_scale > MAX_SIZE:  # the painting's side: VGG19's memory grows with its square
            raise ValueError(f"style_scale {self.style_scale:g} at size {self.size} makes the painting "
                             f"{self.size * self.style_scale:,.0f} px on its longest side, above the cap of {MAX_SIZE} "
                             f"pixels (memory grows with the square of the size); lower the size or the style_scale")
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
    # beta 3e-5 (3x classroom's): at 1e-5 the style cost of LFW portraits fell only ~7-8x; at 3e-5 it
    # falls ~15-20x while FaceNet's distance to the photo stays ~0.3-0.5 (τ 1.091), bench/nst.py --only portraits.
    "portrait": Preset(size=256, steps=50, content_layer="block4_conv2", alpha=1.0, beta=3e-5, tv_weight=0.0,
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


def _recipe(preset: str | Preset, overrides: Mapping[str, Any]) -> Preset:
    return _get_preset(preset).replace(**overrides)


def _stages(r: Preset, shape: tuple[int, ...], need: int) -> list[tuple[int, int]]:
    """Coarse-to-fine plan ``[(longest side, steps)]``: sides above 512 px are reached by doubling."""
    sides = [r.size]
    while sides[0] > _PYRAMID_TOP:
        sides.insert(0, math.ceil(sides[0] / 2))
    plan = [(sides[0], r.steps)] + [(s, max(1, r.steps // 4)) for s in sides[1:]]
    if r.coarse_steps:  # coarse_levels halvings below the first level (e.g. 64 -> 128 before 256)
        coarse = sorted({max(16, sides[0] // 2 ** k) for k in range(1, r.coarse_levels + 1)} - {sides[0]})
        plan = [(side, r.coarse_steps) for side in coarse] + plan
    return [(side, n) for side, n in plan if min(_target_shape(shape, side)) >= need]
