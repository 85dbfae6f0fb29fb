"""Self-checks for lesson 04 (verification as binary classification): the safe χ² features and
the logistic verification head.

Expected values are worked out by hand (in the comments) or with an independent NumPy formula —
never with :mod:`facelib.faces.siamese`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facelib.checks.core import Verdict, compare, gradient_case, report

__all__ = ["check_chi2_features", "check_verification_head"]


def check_chi2_features(student_fn: Callable[[np.ndarray, np.ndarray, float], np.ndarray]) -> Verdict:
    """Lesson 04: ``student_fn(fa, fb, eps)`` → (fa − fb)² / (|fa| + |fb| + eps), element-wise ``(m, d)``."""
    fa = np.array([[0.5, -0.2, 0.0, 0.3]])
    fb = np.array([[0.1, 0.3, 0.0, 0.3]])
    # by hand, eps=0.01: 0.16/0.61, 0.25/0.51, 0/0.01 = 0, 0/0.61 = 0
    expected = np.array([[0.16 / 0.61, 0.25 / 0.51, 0.0, 0.0]])
    pos_a, pos_b = np.array([[0.2, 0.6]]), np.array([[0.4, 0.2]])
    # non-negative encodings, eps=0: the lecture's formula (0.04/0.6, 0.16/0.8)
    expected_pos = np.array([[0.04 / 0.6, 0.16 / 0.8]])

    def run():
        return [
            compare("signed encodings, eps=0.01", expected, student_fn(fa, fb, 0.01)),
            compare("non-negative encodings, eps=0 (lecture's formula)", expected_pos, student_fn(pos_a, pos_b, 0.0)),
        ]

    return report("check_chi2_features", run)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _np_head(f1, f2, w, b, kind, eps):
    f1, f2, w = (np.asarray(t, np.float64) for t in (f1, f2, w))
    if kind == "abs":
        phi = np.abs(f1 - f2)
    else:
        phi = (f1 - f2) ** 2 / (np.abs(f1) + np.abs(f2) + eps)
    return _sigmoid(phi @ w + b)


def check_verification_head(student_fn: Callable) -> Verdict:
    """Lesson 04: ``student_fn(f1, f2, w, b, kind="abs", eps=1e-6)`` → ŷ, a ``(m,)`` tensor of P(same).

    - ``kind="abs"``:  ŷ = σ(Σ_k w_k |f1_k − f2_k| + b);
    - ``kind="chi2"``: ŷ = σ(Σ_k w_k (f1_k − f2_k)² / (|f1_k| + |f2_k| + eps) + b).

    ``f1``, ``f2`` are ``(m, d)`` encodings, ``w`` is ``(d,)``, ``b`` a scalar. The head is trained
    by gradient descent, so the gradient must flow to ``w``, ``b`` and the encodings.
    """
    # hand-worked, d = 2: |f1 - f2| = (0.4, 0.5); 2·0.4 − 1·0.5 + 0.1 = 0.4 -> σ(0.4) = 0.598687660
    f1, f2 = np.array([[0.5, -0.2]], np.float32), np.array([[0.1, 0.3]], np.float32)
    w2, b2 = np.array([2.0, -1.0], np.float32), 0.1
    # chi2 of the same pair, eps = 0: 0.16/0.6 and 0.25/0.5 -> 2·0.26667 − 0.5 + 0.1 = 0.13333
    chi2_hand = 1.0 / (1.0 + np.exp(-(2 * 0.16 / 0.6 - 0.25 / 0.5 + 0.1)))
    rng = np.random.default_rng(11)
    g1, g2 = (rng.normal(size=(5, 128)).astype(np.float32) * 0.1 for _ in range(2))
    w, b = rng.normal(size=128).astype(np.float32), -0.3

    def run():
        import tensorflow as tf

        t = tf.constant
        out = [
            compare("hand-worked abs, d=2: σ(2·0.4 − 1·0.5 + 0.1) = σ(0.4)", [0.598687660112452],
                    student_fn(t(f1), t(f2), t(w2), t(b2), kind="abs"), rtol=1e-5),
            compare("hand-worked chi2, d=2, eps=0: σ(2·0.16/0.6 − 0.25/0.5 + 0.1)", [chi2_hand],
                    student_fn(t(f1), t(f2), t(w2), t(b2), kind="chi2", eps=0.0), rtol=1e-5),
            compare("abs, 5 random 128-d pairs (NumPy formula), shape (m,)", _np_head(g1, g2, w, b, "abs", 0),
                    student_fn(t(g1), t(g2), t(w), t(b), kind="abs"), rtol=1e-4, atol=1e-6),
            compare("chi2, 5 random signed 128-d pairs, eps=1e-3 (NumPy formula)", _np_head(g1, g2, w, b, "chi2", 1e-3),
                    student_fn(t(g1), t(g2), t(w), t(b), kind="chi2", eps=1e-3), rtol=1e-4, atol=1e-6),
            gradient_case("abs: gradient flows to f1, w and b", student_fn, [g1, g2, w, b], wrt=(0, 2, 3),
                          kwargs={"kind": "abs"}),
            gradient_case("chi2: gradient flows to f1, w and b", student_fn, [g1, g2, w, b], wrt=(0, 2, 3),
                          kwargs={"kind": "chi2", "eps": 1e-3}),
        ]
        return out

    return report("check_verification_head", run)
