"""The optimisation of style transfer: gradient descent on the pixels of :math:`G`.

.. math:: G := G - \\eta\\, \\partial J / \\partial G

(the network's weights stay frozen). :class:`_Problem` holds one (content, styles, size) problem:
the content activations and the style images' Gram matrices, computed once, and the cost of an image
with the lesson's functions (``compute_content_cost``, ``layer_style_cost_from_gram``, ``total_cost``).
:func:`_run_adam` is the course's loop (Adam, clip to [0, 1]); :func:`_run_lbfgs` is SciPy's
L-BFGS on the image clipped to [0, 1] (Gatys et al.), the cost and gradient computed by TensorFlow in the
model's precision.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from facelib.style.costs import (
    compute_content_cost,
    layer_style_cost_from_gram,
    style_gram,
    total_cost,
    total_variation_cost,
)
from facelib.style.presets import Preset


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
    """The VGG19 feature model, built once per (layers, precision).

    ``"bfloat16"`` builds it under Keras' ``"bfloat16"`` policy, weights included: the network is frozen,
    so it needs no float32 master copy of its weights (``"mixed_bfloat16"`` keeps one and casts it to
    bfloat16 at every call). The computation is the same, bit for bit, and a lesson's kernel holds
    about 75 MB less (40 MB of weights instead of 80, and no cast copies).
    """
    import keras

    from facelib.models.vgg import vgg19_features

    if precision == "float32":
        return vgg19_features(list(layers))
    old = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy("bfloat16")
        return vgg19_features(list(layers))
    finally:
        keras.mixed_precision.set_global_policy(old)


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
    """The course's loop: Adam on the pixels of ``G`` ``(1, h, w, 3)``, clipped to [0, 1] after each step.

    The update is Keras' Adam rule written out (β₁ 0.9, β₂ 0.999, ε 1e-7; a test follows
    ``keras.optimizers.Adam`` step by step). A Keras optimizer applied inside a fresh ``tf.function``
    keeps about 10 MB alive for the rest of the process, and a lesson calls this loop a dozen times.
    """
    G = tf.Variable(G0, dtype=tf.float32)
    m, v = tf.Variable(tf.zeros_like(G)), tf.Variable(tf.zeros_like(G))   # Adam's two moving averages
    t = tf.Variable(0.0)
    beta_1, beta_2, epsilon = 0.9, 0.999, 1e-7

    @tf.function(jit_compile=jit)
    def train_step() -> tuple[tf.Tensor, ...]:
        with tf.GradientTape() as tape:
            J, Jc, Js, tv = problem.costs(G)
        grad = tape.gradient(J, G)              # dJ/dG: the pixels move, the network is frozen
        t.assign_add(1.0)
        step_size = lr * tf.sqrt(1.0 - tf.pow(tf.constant(beta_2), t)) / (1.0 - tf.pow(tf.constant(beta_1), t))
        m.assign_add((grad - m) * (1 - beta_1))
        v.assign_add((tf.square(grad) - v) * (1 - beta_2))
        G.assign(tf.clip_by_value(G - m * step_size / (tf.sqrt(v) + epsilon), 0.0, 1.0))
        return J, Jc, Js, tv

    for _ in range(steps):
        J, Jc, Js, tv = train_step()
        on_step(G, float(J), float(Jc), float(Js), float(tv))
    return G.numpy()


class _Budget(Exception):
    """Raised inside the L-BFGS cost function when the evaluation budget is spent."""


def _run_lbfgs(problem: _Problem, G0: np.ndarray, steps: int, on_step: Callable[..., None], jit: bool) -> np.ndarray:
    """SciPy's L-BFGS on the pixels, exactly ``steps`` cost evaluations; returns the best image seen.

    The cost is that of the image clipped to [0, 1] (pixels pushed past a bound stop there, as with
    box bounds), and every image handed to ``on_step`` or returned is the clipped one. Box bounds in
    L-BFGS-B cost more: at 256 px, 0.6 s of set-up (a Python loop over the pixels) and a slower
    step, and they reached the course's cost about 15 % later. The cost and its gradient are computed
    in the model's precision and handed to SciPy as float64 (the costs are accumulated in float32).
    """
    from scipy.optimize import minimize

    shape = G0.shape

    def value_and_grad(x: tf.Tensor) -> tuple[tf.Tensor, ...]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            J, Jc, Js, tv = problem.costs(tf.clip_by_value(x, 0.0, 1.0))
        return J, tape.gradient(J, x), Jc, Js, tv

    # Traced, an evaluation costs half of an eager one (256 px on 2 CPU cores: 0.67 s vs 1.26 s in float32,
    # 0.36 s vs 0.76 s in bfloat16) and the tracing about one evaluation more: worth it beyond a few steps.
    if jit or steps >= 5:
        value_and_grad = tf.function(value_and_grad, jit_compile=jit)

    best: dict[str, Any] = {"J": np.inf, "x": np.clip(G0, 0.0, 1.0).astype(np.float32), "n": 0}

    def fun(flat: np.ndarray) -> tuple[float, np.ndarray]:
        if best["n"] >= steps:
            raise _Budget
        x = tf.constant(flat.reshape(shape), dtype=tf.float32)
        J, g, Jc, Js, tv = value_and_grad(x)
        best["n"] += 1
        image = np.clip(flat.reshape(shape), 0.0, 1.0).astype(np.float32)
        if float(J) < best["J"]:
            best["J"], best["x"] = float(J), image
        on_step(image, float(J), float(Jc), float(Js), float(tv))
        return float(J), g.numpy().astype(np.float64).ravel()

    try:
        minimize(fun, G0.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
                 options={"maxfun": steps + 5, "maxiter": steps, "maxcor": 20})
    except _Budget:
        pass
    return best["x"]
