"""Self-checks for the neural style transfer exercises (notebook 07).

Each check runs the student's function on fixed random TensorFlow tensors and compares it with a
NumPy formula written out here, independently of :mod:`facelib.style.costs`, with one hand-worked case, the
course's published value where its inputs can be reproduced, and a test that a gradient flows
through the answer (a NumPy implementation cannot be optimised: it gets "use TensorFlow ops so the
gradient can flow").

The course's values come from ``tf.random.set_seed(1)`` normals. On TensorFlow 2.21 those draws
differ from the course's by about 1e-4 relative for some shapes (the Gram matrix's first row reads
63.1888 instead of 63.193256), so course values are compared with a relative tolerance of 1e-3; the
NumPy references on the same tensors keep 1e-4.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from facelib.checks.core import Case, Verdict, compare, report

__all__ = ["check_compute_content_cost", "check_gram_matrix", "check_compute_layer_style_cost",
           "check_compute_style_cost", "check_total_cost", "check_train_step"]

#: Relative tolerance on the course's published values (see the module docstring).
COURSE_RTOL = 1e-3
_GRADIENT_HINT = "use TensorFlow ops (tf.reduce_sum, tf.matmul, ...) so the gradient can flow"


def _tf(x: np.ndarray) -> Any:
    import tensorflow as tf

    return tf.constant(x, dtype=tf.float32)


def _acts(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).normal(1.0, 4.0, size=shape).astype(np.float32)


def _course_normals(*shapes: tuple[int, ...]) -> list[Any]:
    """The course's inputs: ``tf.random.set_seed(1)`` then ``tf.random.normal(shape, mean=1, stddev=4)`` each."""
    import tensorflow as tf

    tf.random.set_seed(1)
    return [tf.random.normal(shape, mean=1, stddev=4) for shape in shapes]


def _gradient_case(what: str, fn: Callable, *arrays: np.ndarray, wrt: int = -1) -> Case:
    """Run ``fn`` on TF variables under a tape: the gradient with respect to ``arrays[wrt]`` must exist."""
    import tensorflow as tf

    variables = [tf.Variable(a, dtype=tf.float32) for a in arrays]
    with tf.GradientTape() as tape:
        out = fn(*variables)
    try:
        grad = tape.gradient(out, variables[wrt]) if tf.is_tensor(out) else None
    except (TypeError, ValueError):
        grad = None
    if grad is None:
        return Case(what, "a gradient", "None", False, f"no gradient reaches the input: {_GRADIENT_HINT}")
    g = grad.numpy()
    if not np.all(np.isfinite(g)) or not np.any(g):
        return Case(what, "a finite, non-zero gradient", g, False, "the gradient is zero or not finite")
    return Case(what, "a gradient", "a gradient", True)


def _np_content(a_C: np.ndarray, a_G: np.ndarray) -> float:
    _, n_H, n_W, n_C = a_C.shape
    d = a_C.astype(np.float64) - a_G.astype(np.float64)
    return float((d * d).sum() / (4 * n_H * n_W * n_C))


def _np_gram(A: np.ndarray) -> np.ndarray:
    A = A.astype(np.float64)
    n_C = A.shape[0]
    G = np.zeros((n_C, n_C))
    for k in range(n_C):
        for kk in range(n_C):
            G[k, kk] = float(np.dot(A[k], A[kk]))
    return G


def _np_layer_style(a_S: np.ndarray, a_G: np.ndarray) -> float:
    _, n_H, n_W, n_C = a_S.shape
    # unroll: channel k's activations, positions in row-major (h, w) order
    S = np.stack([a_S[0, :, :, k].ravel() for k in range(n_C)])
    G = np.stack([a_G[0, :, :, k].ravel() for k in range(n_C)])
    d = _np_gram(S) - _np_gram(G)
    return float((d * d).sum() / (4 * n_C**2 * (n_H * n_W) ** 2))


def check_compute_content_cost(compute_content_cost: Callable) -> Verdict:
    """Check ``compute_content_cost(a_C, a_G)`` on random ``(1, 4, 4, 3)`` and ``(1, 5, 7, 8)`` tensors."""
    def cases() -> list[Case]:
        out = []
        for seed, shape in ((1, (1, 4, 4, 3)), (2, (1, 5, 7, 8))):
            a_C, a_G = _acts(seed, shape), _acts(seed + 100, shape)
            out.append(compare(f"J_content on random {shape} activations", _np_content(a_C, a_G),
                               compute_content_cost(_tf(a_C), _tf(a_G))))
        a = _acts(3, (1, 2, 2, 2))
        out.append(compare("J_content(C, C) = 0 for identical activations", 0.0,
                           compute_content_cost(_tf(a), _tf(a))))
        # hand-worked: one position, one channel, difference 2 -> 2^2 / (4*1*1*1) = 1
        out.append(compare("hand-worked: a_C=[[[[3]]]], a_G=[[[[1]]]] gives 1.0", 1.0,
                           compute_content_cost(_tf(np.full((1, 1, 1, 1), 3.0)), _tf(np.ones((1, 1, 1, 1))))))
        a_C, a_G = _course_normals((1, 1, 4, 4, 3), (1, 1, 4, 4, 3))
        out.append(compare("the course's test (tf.random.set_seed(1)): 7.0568767", 7.0568767,
                           compute_content_cost(a_C[-1], a_G[-1]), rtol=COURSE_RTOL))
        out.append(_gradient_case("a gradient flows to a_G", compute_content_cost, _acts(8, (1, 3, 3, 2)),
                                  _acts(9, (1, 3, 3, 2))))
        return out
    return report("compute_content_cost", cases)


def check_gram_matrix(gram_matrix: Callable) -> Verdict:
    """Check ``gram_matrix(A)`` for ``A`` of shape ``(n_C, n_H*n_W)``."""
    def cases() -> list[Case]:
        A = _acts(4, (3, 8))
        out = [compare("G = A A^T for a random (3, 8) A", _np_gram(A), gram_matrix(_tf(A)))]
        hand = np.array([[1.0, 2.0], [0.0, 3.0]])
        # rows (1,2) and (0,3): G = [[1+4, 0+6], [6, 0+9]]
        out.append(compare("hand-worked: A=[[1,2],[0,3]] gives [[5,6],[6,9]]", np.array([[5.0, 6.0], [6.0, 9.0]]),
                           gram_matrix(_tf(hand))))
        (A,) = _course_normals((3, 2))
        out.append(compare("the course's test: first row [63.193256, -26.729713, -7.732155]",
                           np.array([63.193256, -26.729713, -7.732155]), _first_row(gram_matrix(A)),
                           rtol=COURSE_RTOL))
        out.append(_gradient_case("a gradient flows to A", lambda a: gram_matrix(a), _acts(10, (2, 5))))
        return out
    return report("gram_matrix", cases)


def check_compute_layer_style_cost(compute_layer_style_cost: Callable) -> Verdict:
    """Check ``compute_layer_style_cost(a_S, a_G)`` on random ``(1, n_H, n_W, n_C)`` tensors."""
    def cases() -> list[Case]:
        out = []
        for seed, shape in ((5, (1, 4, 4, 3)), (6, (1, 3, 5, 6))):
            a_S, a_G = _acts(seed, shape), _acts(seed + 100, shape)
            out.append(compare(f"J_style^[l] on random {shape} activations", _np_layer_style(a_S, a_G),
                               compute_layer_style_cost(_tf(a_S), _tf(a_G)), rtol=1e-4))
        a = _acts(7, (1, 3, 3, 4))
        out.append(compare("J_style^[l](S, S) = 0", 0.0, compute_layer_style_cost(_tf(a), _tf(a)), atol=1e-3))
        a_S, a_G = _course_normals((1, 4, 4, 3), (1, 4, 4, 3))
        out.append(compare("the course's test (tf.random.set_seed(1)): 14.01649", 14.01649,
                           compute_layer_style_cost(a_S, a_G), rtol=COURSE_RTOL))
        out.append(_gradient_case("a gradient flows to a_G", compute_layer_style_cost, _acts(11, (1, 3, 3, 2)),
                                  _acts(12, (1, 3, 3, 2))))
        return out
    return report("compute_layer_style_cost", cases)


def check_total_cost(total_cost: Callable) -> Verdict:
    """Check ``total_cost(J_content, J_style, alpha=10, beta=40)``: a weighted *sum*."""
    def cases() -> list[Case]:
        return [
            compare("defaults: J_content=2, J_style=3 -> 10*2 + 40*3 = 140", 140.0, total_cost(2.0, 3.0)),
            compare("alpha=1, beta=0.5: J_content=4, J_style=6 -> 7", 7.0, total_cost(4.0, 6.0, alpha=1, beta=0.5)),
            compare("random values 0.3 and 1.7 with the defaults", 10 * 0.3 + 40 * 1.7, total_cost(0.3, 1.7)),
            compare("the course's test: total_cost(0.2, 0.8) = 34", 34.0, total_cost(0.2, 0.8)),
            compare("the course's test: total_cost(0.3, 0.5, 3, 8) = 4.9", 4.9, total_cost(0.3, 0.5, 3, 8)),
        ]
    return report("total_cost", cases)


def _first_row(G: Any) -> np.ndarray:
    arr = np.asarray(G.numpy() if hasattr(G, "numpy") else G)
    return arr[0] if arr.ndim == 2 else arr


def _np_style_cost(S: list[np.ndarray], G: list[np.ndarray], layers: list[tuple[str, float]]) -> float:
    """Sum over the style layers only (the lists' last element, the content layer, is left out)."""
    return float(sum(w * _np_layer_style(s, g) for (_, w), s, g in zip(layers, S[:len(layers)], G[:len(layers)])))


def check_compute_style_cost(compute_style_cost: Callable) -> Verdict:
    """Check ``compute_style_cost(style_image_output, generated_image_output, STYLE_LAYERS)``.

    As in the course, each output list holds one activation per style layer and, last, the
    content layer's activation, which the style cost must ignore; ``STYLE_LAYERS`` holds
    ``(layer name, λ)`` pairs whose weights multiply each layer's cost.
    """
    def outputs(seed: int, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
        return [_acts(seed + i, s) for i, s in enumerate(shapes)]

    def cases() -> list[Case]:
        out = []
        equal = [(f"block{i}_conv1", 0.2) for i in range(1, 6)]
        shapes = [(1, 6, 6, 3), (1, 5, 5, 4), (1, 4, 4, 4), (1, 3, 3, 5), (1, 2, 2, 5), (1, 2, 2, 6)]
        S, G = outputs(20, shapes), outputs(40, shapes)
        out.append(compare("the course's 5 layers, λ = 0.2 each (content activation last, ignored)",
                           _np_style_cost(S, G, equal),
                           compute_style_cost([_tf(a) for a in S], [_tf(a) for a in G], equal)))
        unequal = [("block1_conv1", 0.5), ("block3_conv1", 0.1), ("block4_conv1", 0.4)]
        shapes = [(1, 4, 4, 3), (1, 3, 3, 4), (1, 2, 2, 2), (1, 2, 2, 3)]
        S, G = outputs(60, shapes), outputs(80, shapes)
        out.append(compare("3 layers with λ = 0.5, 0.1, 0.4: each layer's cost times its λ",
                           _np_style_cost(S, G, unequal),
                           compute_style_cost([_tf(a) for a in S], [_tf(a) for a in G], unequal)))
        G_same_content = G[:-1] + [S[-1]]
        out.append(compare("the content layer (last) changes nothing: same result when it is identical in S and G",
                           _np_style_cost(S, G, unequal),
                           compute_style_cost([_tf(a) for a in S], [_tf(a) for a in G_same_content], unequal)))
        out.append(_gradient_case(
            "a gradient flows to the generated image's activations",
            lambda *g: compute_style_cost([_tf(a) for a in S], list(g), unequal), *G, wrt=0))
        return out
    return report("compute_style_cost", cases)


# --------------------------------------------------------------------------- train_step

def _tiny_model() -> Any:
    """A frozen three-layer ConvNet standing in for VGG19: outputs [style 1, style 2, content]."""
    import keras

    init = [keras.initializers.GlorotUniform(seed=s) for s in (1, 2, 3)]
    x = keras.Input((None, None, 3))
    a1 = keras.layers.Conv2D(4, 3, padding="same", activation="relu", kernel_initializer=init[0], name="s1")(x)
    a2 = keras.layers.Conv2D(6, 3, strides=2, padding="same", activation="relu", kernel_initializer=init[1],
                             name="s2")(a1)
    a3 = keras.layers.Conv2D(5, 3, padding="same", activation="relu", kernel_initializer=init[2], name="c")(a2)
    model = keras.Model(x, [a1, a2, a3])
    model.trainable = False
    return model


def _reference_cost(model: Any, G: Any, a_C: Sequence[Any], a_S: Sequence[Any], layers: Sequence[tuple[str, float]],
                    alpha: float, beta: float) -> Any:
    """J(G) written out here with TF ops (independent of facelib.style.costs), for the reference gradient."""
    import tensorflow as tf

    a_G = model(G)
    _, h, w, c = a_G[-1].shape
    J_content = tf.reduce_sum(tf.square(a_C[-1] - a_G[-1])) / (4.0 * h * w * c)
    J_style = 0.0
    for (_, lam), s, g in zip(layers, a_S[:-1], a_G[:-1]):
        _, h, w, c = g.shape
        Ss, Gg = tf.reshape(s, [-1, c]), tf.reshape(g, [-1, c])   # (positions, channels)
        GS = tf.einsum("pk,pj->kj", Ss, Ss)
        GG = tf.einsum("pk,pj->kj", Gg, Gg)
        J_style += lam * tf.reduce_sum(tf.square(GS - GG)) / (4.0 * c**2 * (h * w) ** 2)
    return alpha * J_content + beta * J_style


def _reference_steps(model: Any, G0: np.ndarray, a_C: Sequence[Any], a_S: Sequence[Any],
                     layers: Sequence[tuple[str, float]], alpha: float, beta: float, lr: float,
                     steps: int) -> np.ndarray:
    """``steps`` Adam updates on the pixels written out in NumPy (Keras' Adam, ε = 1e-7), each clipped."""
    import tensorflow as tf

    x = G0.astype(np.float64)
    m, v = np.zeros_like(x), np.zeros_like(x)
    b1, b2, eps = 0.9, 0.999, 1e-7
    for t in range(1, steps + 1):
        xt = tf.constant(x, tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            J = _reference_cost(model, xt, a_C, a_S, layers, alpha, beta)
        g = tape.gradient(J, xt).numpy().astype(np.float64)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        x = np.clip(x - lr_t * m / (np.sqrt(v) + eps), 0.0, 1.0)
    return x.astype(np.float32)


def _train_step_images() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed ``(1, 8, 8, 3)`` content, style and starting images; the start has rows next to the bounds 0 and 1."""
    rng = np.random.default_rng(3)
    C = rng.uniform(0.2, 0.8, (1, 8, 8, 3)).astype(np.float32)
    S = rng.uniform(0.0, 1.0, (1, 8, 8, 3)).astype(np.float32)
    G0 = np.clip(C + rng.uniform(-0.25, 0.25, C.shape), 0.0, 1.0).astype(np.float32)
    G0[0, :2] = 0.003   # pixels next to the bounds: one Adam step (≈ 0.01) crosses them unless clipped
    G0[0, -2:] = 0.997
    return C, S, G0


def check_train_step(train_step: Callable) -> Verdict:
    """Check ``train_step(generated_image, vgg_model_outputs, a_C, a_S, STYLE_LAYERS, optimizer, alpha, beta)``.

    One step: under a ``tf.GradientTape``, ``J = alpha J_content + beta J_style`` of the image
    ``generated_image`` (a ``tf.Variable``), ``grad = ∂J/∂G``, ``optimizer.apply_gradients`` on
    the image (not on the network, which stays frozen), then clip the image to [0, 1]; return ``J``.
    The check runs a small frozen ConvNet in place of VGG19 and compares two steps with the same
    Adam optimizer against two Adam updates written out in NumPy from a gradient of its own cost.
    """
    import keras
    import tensorflow as tf

    def cases() -> list[Case]:
        model = _tiny_model()
        C, S, G0 = _train_step_images()
        a_C, a_S = model(tf.constant(C)), model(tf.constant(S))
        layers = [("s1", 0.7), ("s2", 0.3)]
        alpha, beta, lr = 10.0, 40.0, 0.01
        G = tf.Variable(G0)
        opt = keras.optimizers.Adam(learning_rate=lr)
        J0_ref = float(_reference_cost(model, tf.constant(G0), a_C, a_S, layers, alpha, beta))
        J1 = train_step(G, model, a_C, a_S, layers, opt, alpha, beta)
        J2 = train_step(G, model, a_C, a_S, layers, opt, alpha, beta)
        if not isinstance(G, tf.Variable) or not tf.is_tensor(J1) and not isinstance(J1, (float, np.floating)):
            return [Case("train_step returns J", "a scalar tensor", type(J1).__name__, False, "return J")]
        after = G.numpy()
        expected = _reference_steps(model, G0, a_C, a_S, layers, alpha, beta, lr, 2)
        out = [compare("the returned J is the cost of the image before the step", J0_ref, J1, rtol=1e-4)]
        if np.array_equal(after, G0):
            out.append(Case("the image changed", "G updated in place", "G unchanged", False,
                            "apply the gradient to generated_image with optimizer.apply_gradients"))
            return out
        out.append(Case("G stays in [0, 1] (clipped after the update)", "[0, 1]",
                        f"[{after.min():.4f}, {after.max():.4f}]", bool(after.min() >= 0 and after.max() <= 1),
                        "clip the image to [0, 1] after the update (tf.clip_by_value)"))
        out.append(compare("G after two steps equals two Adam updates of a reference written out in NumPy",
                           expected, after, rtol=1e-3, atol=2e-4))
        Js = [float(J1), float(J2)] + [float(train_step(G, model, a_C, a_S, layers, opt, alpha, beta))
                                       for _ in range(6)]
        out.append(Case("J falls over 8 steps (gradient *descent* on G)", f"J_8 < J_1 = {Js[0]:.4g}",
                        f"{Js[-1]:.4g}", Js[-1] < Js[0], "subtract the gradient: G := G - lr * dJ/dG"))
        return out

    def guarded() -> list[Case]:
        try:
            return cases()
        except NotImplementedError:
            raise
        except (ValueError, TypeError, AttributeError) as exc:
            # a NumPy cost leaves the tape with nothing to differentiate: Keras then fails on a None
            # gradient or on a NumPy scalar
            numpyish = any(k in str(exc).lower() for k in ("gradient", "_id", "none", "numpy"))
            hint = f" — {_GRADIENT_HINT}" if numpyish else ""
            return [Case("running train_step", "no error", f"{type(exc).__name__}", False,
                         f"your function raised {type(exc).__name__}: {str(exc).splitlines()[0]}{hint}")]
    return report("train_step", guarded)
