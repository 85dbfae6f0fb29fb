"""Neural style transfer (lesson 07): the lecture's cost and the optimisation that lowers it.

- :mod:`~facelib.style.costs`: :math:`J(G) = \\alpha J_{content} + \\beta J_{style}`: the content cost,
  Gram matrices, the style cost of one layer and of several, total variation, the course's training step;
- :mod:`~facelib.style.images`: the photo, the painting(s), face masks and colours, prepared for VGG19;
- :mod:`~facelib.style.presets`: the recipes (:class:`Preset`, :data:`PRESETS`: ``"course"``,
  ``"classroom"``, ``"portrait"``, ``"quality"``);
- :mod:`~facelib.style.optim`: gradient descent on the pixels (Adam, L-BFGS, coarse-to-fine);
- :mod:`~facelib.style.transfer`: :func:`stylize` end to end, and :func:`evaluate_costs`;
- :mod:`~facelib.style.painter_net`: a feed-forward network that paints (Johnson et al. 2016; instance
  normalisation), :func:`build_painter_network`;
- :mod:`~facelib.style.painter`: the same :math:`J` as its training loss, :func:`train_painter`, the
  :class:`Painter` (one forward pass per photo), its cache (:func:`load_painter`).

``from facelib import style`` then ``style.compute_content_cost(a_C, a_G)``, ``style.stylize(photo, "starry_night")``.
"""

from __future__ import annotations

from facelib.style.costs import (
    COURSE_STYLE_LAYERS,
    compute_content_cost,
    compute_layer_style_cost,
    compute_style_cost,
    gram_matrix,
    layer_style_cost_from_gram,
    style_gram,
    total_cost,
    total_variation_cost,
    train_step,
)
from facelib.style.images import face_weights, painting_names, prepare_image, resolve_style
from facelib.style.painter import (
    PAINTER_BETA,
    PAINTER_SIZE,
    PAINTER_STEPS,
    Painter,
    imagenet_split,
    load_painter,
    painter_costs,
    train_painter,
)
from facelib.style.painter_net import (
    DepthToSpace,
    InstanceNormalization,
    ResidualBlock,
    SpaceToDepth,
    build_painter_network,
)
from facelib.style.presets import MAX_SIZE, MAX_STEPS, PRESETS, Preset
from facelib.style.transfer import evaluate_costs, stylize

__all__ = [
    "COURSE_STYLE_LAYERS", "MAX_SIZE", "MAX_STEPS", "PAINTER_BETA", "PAINTER_SIZE", "PAINTER_STEPS", "PRESETS",
    "build_painter_network",
    "compute_content_cost", "compute_layer_style_cost",
    "compute_style_cost", "evaluate_costs", "face_weights", "gram_matrix", "layer_style_cost_from_gram",
    "painting_names", "prepare_image", "resolve_style", "style_gram", "stylize", "total_cost",
    "total_variation_cost", "train_step", "DepthToSpace", "InstanceNormalization", "Painter", "Preset",
    "ResidualBlock", "SpaceToDepth", "imagenet_split", "load_painter", "painter_costs", "train_painter",
]
