"""Self-checks for lesson 02 (one-shot learning, Siamese networks): the decision rule, the
shared-weight Siamese pass and the contrastive loss.

Expected values are worked out by hand (in the comments) or with an independent NumPy formula —
never with :mod:`facelib.faces.losses`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facelib.checks.core import GRADIENT_HINT, Case, Verdict, compare, gradient_case, report

__all__ = ["check_contrastive_loss", "check_same_person", "check_siamese_distance"]


def check_same_person(student_fn: Callable[[np.ndarray, np.ndarray, float], tuple]) -> Verdict:
    """Lesson 02: ``student_fn(enc1, enc2, tau)`` → ``(d, same)`` with d = ||enc1 − enc2|| per row
    and ``same = d <= tau``; ``enc1``, ``enc2`` are ``(m, d)``.
    """
    enc1 = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 4.0], [0.6, 0.8]])
    enc2 = np.array([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0], [0.8, 0.6]])
    # distances by hand: 0, 1, 5, sqrt(0.04 + 0.04) = 0.28284...
    d_ref = np.array([0.0, 1.0, 5.0, np.sqrt(0.08)])

    def run() -> list[Case]:
        cases = []
        for tau in (0.5, 1.0):
            d, same = student_fn(enc1, enc2, tau)
            cases.append(compare(f"distances d(x1, x2) (tau={tau})", d_ref, d))
            expected_same = d_ref <= tau  # tau=0.5: T F F T ; tau=1.0 (d ≤ τ, so 1.0 counts): T T F T
            got = np.asarray(same)
            ok = got.shape == expected_same.shape and np.array_equal(got.astype(bool), expected_same)
            cases.append(Case(f"same = d <= tau (tau={tau})", expected_same, got, ok,
                              "" if ok else "use d <= tau (a distance equal to tau counts as the same person)"))
        return cases

    return report("check_same_person", run)


def _np_contrastive(y: np.ndarray, d: np.ndarray, margin: float) -> float:
    y, d = np.asarray(y, np.float64), np.asarray(d, np.float64)
    return float(np.mean(y * d**2 + (1 - y) * np.maximum(margin - d, 0.0) ** 2))


def check_contrastive_loss(student_fn: Callable) -> Verdict:
    """Lesson 02: ``student_fn(y, d, margin)`` → the mean over the m pairs of
    L = y·d² + (1 − y)·max(margin − d, 0)², a scalar ``tf.Tensor``.

    ``y`` is a ``(m,)`` float tensor of 1 (same person) / 0 (different people), ``d`` the ``(m,)``
    Euclidean distances (not squared). The loss trains the Siamese network, so the gradient
    ∂L/∂d must flow: a NumPy answer fails.
    """
    f32 = np.float32
    hand = [
        # same person, d = 0.25: 1 · 0.0625 + 0 = 0.0625
        ("same person (y=1), d=0.25, margin=1", [1.0], [0.25], 1.0, 0.0625),
        # different people, d = 0.25: max(1 − 0.25, 0)² = 0.5625
        ("different people (y=0), d=0.25, margin=1", [0.0], [0.25], 1.0, 0.5625),
        # different people beyond the margin: max(1 − 1.5, 0)² = 0
        ("different people beyond the margin, d=1.5", [0.0], [1.5], 1.0, 0.0),
        # margin 2: max(2 − 0.5, 0)² = 2.25
        ("different people, d=0.5, margin=2", [0.0], [0.5], 2.0, 2.25),
        # four pairs: 0.04 + 0.49 + 0 + 0.81 = 1.34, mean 0.335
        ("mean over 4 pairs, margin=1", [1.0, 0.0, 0.0, 1.0], [0.2, 0.3, 1.2, 0.9], 1.0, 0.335),
    ]
    # dL/dd_i = (2 y d − 2 (1 − y) max(m − d, 0)) / m: (0.4, −1.4, 0, 1.8) / 4
    grad_4 = np.array([0.1, -0.35, 0.0, 0.45])
    rng = np.random.default_rng(2)
    y_r = (rng.random(50) < 0.5).astype(f32)
    d_r = rng.uniform(0.0, 2.0, 50).astype(f32)

    def run() -> list[Case]:
        import tensorflow as tf

        out = []
        for what, y, d, margin, expected in hand:
            got = student_fn(tf.constant(y, tf.float32), tf.constant(d, tf.float32), margin)
            out.append(compare(what, expected, got, rtol=1e-5, atol=1e-6))
        out.append(compare("50 random pairs, margin=1.3 (NumPy formula)", _np_contrastive(y_r, d_r, 1.3),
                           student_fn(tf.constant(y_r), tf.constant(d_r), 1.3), rtol=1e-5, atol=1e-6))
        out.append(gradient_case("gradient dL/dd flows (4 pairs, margin=1)", student_fn,
                                 [np.array([1.0, 0.0, 0.0, 1.0], f32), np.array([0.2, 0.3, 1.2, 0.9], f32), 1.0],
                                 wrt=(1,), expected_grads=[grad_4]))
        return out

    return report("check_contrastive_loss", run)


# --------------------------------------------------------------------------- the Siamese pass

#: The check's encoder f(x) = x W + b, ``(m, 4) → (m, 3)``: the first three coordinates, doubled, plus (1, 0, −1).
_W = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]], np.float32)
_B = np.array([1.0, 0.0, -1.0], np.float32)


def _linear_encoder():
    import keras

    inputs = keras.Input((4,))
    dense = keras.layers.Dense(3)
    model = keras.Model(inputs, dense(inputs), name="check_encoder")
    dense.set_weights([_W, _B])
    return model


def check_siamese_distance(student_fn: Callable) -> Verdict:
    """Lesson 02: ``student_fn(encoder, x1, x2)`` → ``d``, ``(m,)``: ``||f(x1) − f(x2)||`` row by row with ONE encoder.

    The encoder is a Keras model with known weights, ``f(x) = x W + b``; the reference is NumPy. Two
    separate encoders (a copy with its own weights) give other distances, a norm over the wrong axis
    another shape, and the gradient must reach the encoder's weights (a NumPy distance cannot train it).
    """
    # hand-worked: f([1.5, 2, 0, 9]) = (4, 4, -1), f([0, 0, 0, -9]) = (1, 0, -1): d = ||(3, 4, 0)|| = 5
    hand = (np.array([[1.5, 2.0, 0.0, 9.0]], np.float32), np.array([[0.0, 0.0, 0.0, -9.0]], np.float32))
    rng = np.random.default_rng(4)
    x1, x2 = rng.normal(size=(5, 4)).astype(np.float32), rng.normal(size=(5, 4)).astype(np.float32)

    def ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        fa, fb = a.astype(np.float64) @ _W + _B, b.astype(np.float64) @ _W + _B
        return np.sqrt(np.sum((fa - fb) ** 2, axis=1))

    def run() -> list[Case]:
        import tensorflow as tf

        encoder = _linear_encoder()
        out = [compare("hand-worked: f(x1) = (4, 4, -1), f(x2) = (1, 0, -1), one pair: d = 5", np.array([5.0]),
                       student_fn(encoder, tf.constant(hand[0]), tf.constant(hand[1])), rtol=1e-5, atol=1e-5),
               compare("5 pairs of 4-d inputs: d has one distance per pair, shape (5,) (NumPy reference)",
                       ref(x1, x2), student_fn(encoder, tf.constant(x1), tf.constant(x2)), rtol=1e-4, atol=1e-5),
               compare("the same 5 inputs on both sides: d = 0 (one encoder, one set of weights)", np.zeros(5),
                       student_fn(encoder, tf.constant(x1), tf.constant(x1)), atol=1e-4)]
        if not out[-1].ok:
            out[-1].detail += ("; the same photo on both sides must give d = 0: apply the one `encoder` to both "
                               "inputs (a second encoder has weights of its own)")
        with tf.GradientTape() as tape:
            d = student_fn(encoder, tf.constant(x1), tf.constant(x2))
            total = tf.reduce_sum(d) if tf.is_tensor(d) else None
        grads = tape.gradient(total, encoder.trainable_variables) if total is not None else [None]
        ok = all(g is not None for g in grads)
        out.append(Case("the gradient of d reaches the encoder's weights", "a gradient for W and b",
                        "a gradient" if ok else f"no gradient ({type(d).__name__} returned)", ok,
                        "" if ok else f"{GRADIENT_HINT}: call the encoder on both inputs and use tf.norm / "
                                      "tf.reduce_sum (not np.linalg.norm or .numpy())"))
        return out

    return report("check_siamese_distance", run)
