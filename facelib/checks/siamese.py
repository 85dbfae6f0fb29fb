"""Self-checks for lesson 02 (one-shot learning, Siamese networks): the decision rule and the
contrastive loss.

Expected values are worked out by hand (in the comments) or with an independent NumPy formula —
never with :mod:`facelib.faces.losses`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facelib.checks.core import Case, Verdict, compare, gradient_case, report

__all__ = ["check_contrastive_loss", "check_same_person"]


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
