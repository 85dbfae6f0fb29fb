"""Neural style transfer end to end: :func:`stylize` and :func:`evaluate_costs`.

The costs are those of the lesson, in :mod:`facelib.nst`. :func:`stylize` prepares the images
(:mod:`facelib.style_images`), takes its recipe from a preset (:mod:`facelib.style_presets`) and runs
gradient descent on the pixels of :math:`G` (:mod:`facelib.style_optim`): Adam (the course) or
L-BFGS (Gatys et al.), optionally coarse-to-fine.

Moved to those modules and re-exported here (and by :mod:`facelib.nst`): :class:`Preset`,
:data:`PRESETS`, :data:`MAX_SIZE` (from :mod:`facelib.style_presets`), :func:`prepare_image`,
:func:`painting_names`, :func:`resolve_style`, :func:`face_weights` (from :mod:`facelib.style_images`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from facelib.style_images import (
    _check_image,
    _match_colors,
    _parse_styles,
    _preserve_color,
    _read_mask,
    _resize,
    _style_at,
    _target_shape,
    _texture_start,
    face_weights,
    painting_names,
    prepare_image,
    resolve_style,
)
from facelib.style_optim import _feature_model, _Problem, _resolve_precision, _run_adam, _run_lbfgs
from facelib.style_presets import MAX_SIZE, PRESETS, Preset, _recipe, _stages

__all__ = ["MAX_SIZE", "PRESETS", "Preset", "evaluate_costs", "face_weights", "painting_names", "prepare_image",
           "resolve_style", "stylize"]


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
            per-channel mean and spread; ``"content+texture"``: that image's layout below 1/8 of its
            size plus the painting's finer detail, the fastest start for L-BFGS), ``learning_rate``
            (Adam), ``optimizer`` (``"adam"`` or ``"lbfgs"``: SciPy's L-BFGS, the cost taken of the
            image clipped to [0, 1]), ``precision`` (``"auto"``: bfloat16 on
            CPUs with AVX-512 BF16; ``"float32"``; ``"bfloat16"``), ``coarse_steps`` (steps at half
            size first), ``coarse_levels`` (1: half size only; 2: a quarter, then half, each with
            ``coarse_steps``; each level starts from the previous one upsampled),
            ``preprocessing`` (``"course"``: [0, 1] RGB straight into VGG19; ``"caffe"``),
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
            elif r.init == "content+texture":
                G0 = _texture_start(C, styles[0][0])
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
