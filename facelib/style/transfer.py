"""Neural style transfer end to end: :func:`stylize` and :func:`evaluate_costs`.

The costs are those of the lesson, in :mod:`facelib.style.costs`. :func:`stylize` prepares the images
(:mod:`facelib.style.images`), takes its recipe from a preset (:mod:`facelib.style.presets`) and runs
gradient descent on the pixels of :math:`G` (:mod:`facelib.style.optim`): Adam (the course) or
L-BFGS (Gatys et al.), optionally coarse-to-fine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from facelib.style.images import (
    _check_image,
    _match_colors,
    _parse_styles,
    _preserve_color,
    _read_mask,
    _resize,
    _style_at,
    _target_shape,
    _texture_start,
    prepare_image,
)
from facelib.style.optim import _feature_model, _Problem, _resolve_precision, _run_adam, _run_lbfgs
from facelib.style.presets import Preset, _recipe, _stages

__all__ = ["evaluate_costs", "stylize"]


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
    inputs = _read_inputs(content, style, mask, content_weights)
    prec = _resolve_precision(r.precision)
    names, stages = _plan(r, inputs.content.shape)
    model = _feature_model(names, prec)
    rng = np.random.default_rng(seed)
    progress = _Progress(stages, preset, callback, callback_every)
    G = _run_stages(model, r, inputs, stages, rng, progress, jit_compile)
    return _finish(G, inputs, r), progress.history_with_seconds()


@dataclass(frozen=True)
class _Inputs:
    """The validated inputs of :func:`stylize`, at their own sizes."""

    content: np.ndarray                      # (H, W, 3) float32 in [0, 1]
    styles: list[tuple[np.ndarray, float]]   # [((Hs, Ws, 3) float32 in [0, 1], weight)], weights sum to 1
    mask: np.ndarray | None                  # (Hm, Wm) float32 in [0, 1]: 1 = stylise, 0 = keep the photo
    weights: np.ndarray | None               # (Hw, Ww) float32 >= 0: per-position weight of J_content


def _read_inputs(content: Any, style: Any, mask: Any, content_weights: Any) -> _Inputs:
    """Validate the photo, the painting(s), the mask and the content weights (in that order)."""
    content_full = _check_image(content, "content image")
    styles_full = [(_check_image(s, "style image"), w) for s, w in _parse_styles(style)]
    mask_full = None if mask is None else _read_mask(mask)
    weights_full = None
    if content_weights is not None:
        weights_full = np.asarray(content_weights, np.float32)
        if weights_full.ndim != 2 or not np.all(np.isfinite(weights_full)) or weights_full.min() < 0:
            raise ValueError(f"content_weights must be an (H, W) map of finite values >= 0; got shape "
                             f"{weights_full.shape}")
    return _Inputs(content_full, styles_full, mask_full, weights_full)


def _plan(r: Preset, content_shape: tuple[int, ...]) -> tuple[tuple[str, ...], list[tuple[int, int]]]:
    """The VGG19 layers to read (style layers, then the content layer) and the stages ``[(longest side, steps)]``.

    ``content_shape`` is the photo's ``(H, W, 3)``; raises ``ValueError`` when the output is too small
    for the deepest layer used.
    """
    names = tuple(name for name, _ in r.style_layers) + (r.content_layer,)
    # VGG19 halves the image before each block: a layer of block b needs sides >= 2**(b-1)
    need = 2 ** (max(int(name[5]) for name in names if name.startswith("block")) - 1)
    final_hw = _target_shape(content_shape, r.size)
    if min(final_hw) < need:
        raise ValueError(f"size {r.size} gives a {final_hw[0]}x{final_hw[1]} image; the layers used need at "
                         f"least {need} pixels on the shorter side")
    return names, _stages(r, content_shape, need)


class _Progress:
    """The history of one :func:`stylize` run, its progress bar and the user's callback."""

    def __init__(self, stages: list[tuple[int, int]], preset: str | Preset,
                 callback: Callable[[int, np.ndarray, Mapping[str, float]], None] | None, callback_every: int) -> None:
        """Start the bar (labelled with the preset's name, or "custom") and the clock."""
        from facelib import config
        from facelib.progress import tqdm

        self.history: dict[str, list[float]] = {"total": [], "content": [], "style": [], "tv": [], "size": [],
                                                "time": []}
        self.callback, self.callback_every = callback, callback_every
        self.total_steps = sum(n for _, n in stages)
        label = preset if isinstance(preset, str) else "custom"
        self.bar = tqdm(total=self.total_steps, desc=f"stylize ({label})", unit="step", leave=False,
                        disable=not config.settings.progress)
        self.start = time.perf_counter()
        self.step = 0

    def on_step(self, side: int) -> Callable[..., None]:
        """The ``on_step(G, J, Jc, Js, tv)`` of a stage at longest side ``side``; ``G`` is ``(1, h, w, 3)``."""
        def on_step(G: Any, J: float, Jc: float, Js: float, tv: float) -> None:
            for key, v in (("total", J), ("content", Jc), ("style", Js), ("tv", tv), ("size", side),
                           ("time", time.perf_counter() - self.start)):
                self.history[key].append(v)
            self.step += 1
            self.bar.update(1)
            if self.step % 10 == 0:
                self.bar.set_postfix(J=f"{J:.3g}")
            if self.callback is not None and (self.step % self.callback_every == 0 or self.step == self.total_steps):
                img = G.numpy() if hasattr(G, "numpy") else np.asarray(G)
                self.callback(self.step, np.clip(img[0], 0, 1).astype(np.float32),
                              {"total": J, "content": Jc, "style": Js, "tv": tv})
        return on_step

    def history_with_seconds(self) -> dict[str, list[float]]:
        """The history, with ``"seconds"``: the wall time since the start, as a one-element list."""
        self.history["seconds"] = [time.perf_counter() - self.start]
        return self.history


def _start_image(r: Preset, C: np.ndarray, styles: list[tuple[np.ndarray, float]], G_prev: np.ndarray | None,
                 rng: np.random.Generator) -> np.ndarray:
    """The ``(1, h, w, 3)`` float32 start of a stage, ``C`` ``(1, h, w, 3)``: the previous stage's result
    ``G_prev`` ``(1, h', w', 3)`` upsampled, else the recipe's ``init`` (drawing from ``rng`` for noise)."""
    if G_prev is not None:
        return _resize(G_prev[0], C.shape[1:3])[None]
    if r.init == "content":
        return C.copy()
    if r.init == "content+colors":
        return _match_colors(C, styles[0][0])
    if r.init == "content+texture":
        return _texture_start(C, styles[0][0])
    if r.init == "noise":
        return rng.uniform(0.0, 1.0, C.shape).astype(np.float32)
    return np.clip(C + rng.uniform(-0.25, 0.25, C.shape), 0.0, 1.0).astype(np.float32)


def _run_stages(model: Any, r: Preset, inputs: _Inputs, stages: list[tuple[int, int]], rng: np.random.Generator,
                progress: _Progress, jit_compile: bool) -> np.ndarray:
    """Run the stages coarsest first, each starting from the last; returns the ``(1, h, w, 3)`` result."""
    G: np.ndarray | None = None
    try:
        for side, n in stages:
            C = prepare_image(inputs.content, side, what="content image")
            hw = C.shape[1:3]
            styles = [(_style_at(s, hw, r.style_scale), w) for s, w in inputs.styles]
            problem = _Problem(model, C, styles, r, inputs.weights)
            G0 = _start_image(r, C, styles, G, rng)
            if r.optimizer == "adam":
                G = _run_adam(problem, G0, n, r.learning_rate, progress.on_step(side), jit_compile)
            else:
                G = _run_lbfgs(problem, G0, n, progress.on_step(side), jit_compile)
    finally:
        progress.bar.close()
    assert G is not None
    return G


def _finish(G: np.ndarray, inputs: _Inputs, r: Preset) -> np.ndarray:
    """``(1, h, w, 3)`` result → ``(h, w, 3)`` float32 in [0, 1], with the photo's colours and mask applied."""
    image = np.clip(G[0], 0.0, 1.0).astype(np.float32)
    if r.preserve_color or inputs.mask is not None:
        photo = _resize(inputs.content, image.shape[:2])
        if r.preserve_color:
            image = _preserve_color(image, photo)
        if inputs.mask is not None:
            m = _resize(inputs.mask[..., None], image.shape[:2])
            image = (m * image + (1.0 - m) * photo).astype(np.float32)
    return image
