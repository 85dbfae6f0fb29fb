"""Self-checks for the face lessons 01–04 (verification, one-shot, triplet loss, binary head).

Each check runs the student's function on fixed inputs and compares with numbers worked out by
hand (written in the comments) or with an independent NumPy formula — never with ``facelib``'s
own implementation.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from facelib.checks.core import Case, Verdict, compare, report

__all__ = ["check_chi2_features", "check_false_alarm_probability", "check_same_person", "check_triplet_loss"]


def check_false_alarm_probability(student_fn: Callable[[float, int], float]) -> Verdict:
    """Lesson 01: P(at least one of K independent comparisons falsely accepts) = 1 − (1 − FAR)^K.

    ``student_fn(far, K)`` → float.
    """
    # hand-worked: (far, K) -> expected
    cases = [
        ((0.01, 1), 0.01),
        ((0.01, 2), 1 - 0.99 * 0.99),            # 0.0199
        ((0.5, 3), 1 - 0.125),                   # 0.875
        ((0.0, 100), 0.0),
        ((0.1, 10), 0.6513215599),               # 1 - 0.9**10
        ((0.01, 100), 0.6339676587267709),       # the lecture's K = 100
    ]

    def run():
        return [compare(f"far={far}, K={k}", expected, student_fn(far, k), rtol=1e-6, atol=1e-9)
                for (far, k), expected in cases]

    return report("check_false_alarm_probability", run)


def check_same_person(student_fn: Callable[[np.ndarray, np.ndarray, float], tuple]) -> Verdict:
    """Lesson 02: ``student_fn(enc1, enc2, tau)`` → ``(d, same)`` with d = ||enc1 − enc2|| per row
    and ``same = d <= tau``; ``enc1``, ``enc2`` are ``(m, d)``.
    """
    enc1 = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 4.0], [0.6, 0.8]])
    enc2 = np.array([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0], [0.8, 0.6]])
    # distances by hand: 0, 1, 5, sqrt(0.04 + 0.04) = 0.28284...
    d_ref = np.array([0.0, 1.0, 5.0, np.sqrt(0.08)])

    def run():
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


def _np_triplet(a, p, n, alpha):
    a, p, n = (np.asarray(t, np.float64) for t in (a, p, n))
    return float(np.sum(np.maximum(((a - p) ** 2).sum(-1) - ((a - n) ** 2).sum(-1) + alpha, 0.0)))


def check_triplet_loss(student_fn: Callable) -> Verdict:
    """Lesson 03: ``student_fn(y_true, y_pred, alpha)`` with ``y_pred = (anchor, positive, negative)``
    returns J = Σ_i max(||f(A)−f(P)||² − ||f(A)−f(N)||² + α, 0).
    """
    hand = [
        # A = P = N: loss = alpha
        ("A = P = N, alpha=5", ([[1.0, 1.0]], [[1.0, 1.0]], [[1.0, 1.0]]), 5.0, 5.0),
        # d(A,P)=0, d(A,N)=2: 0 - 2 + 3 = 1
        ("negative farther, alpha=3", ([[1.0, 1.0]], [[1.0, 1.0]], [[0.0, 0.0]]), 3.0, 1.0),
        # d(A,P)=2, d(A,N)=0: 2 - 0 + 0 = 2
        ("positive farther, alpha=0", ([[1.0, 1.0]], [[0.0, 0.0]], [[1.0, 1.0]]), 0.0, 2.0),
        # everything 0 and a negative alpha: max(-2, 0) = 0
        ("the max(·, 0), alpha=-2", ([[0.0, 0.0]], [[0.0, 0.0]], [[0.0, 0.0]]), -2.0, 0.0),
        # two triplets: (5 - 1 + 3 = 7) + max(2 - 5 + 3, 0) = 7 + 0 = 7  (a sum, not a mean)
        ("sum over two triplets, alpha=3", ([[1.0, 1.0], [2.0, 0.0]], [[0.0, 3.0], [1.0, 1.0]],
                                           [[1.0, 0.0], [0.0, 1.0]]), 3.0, 7.0),
    ]
    rng = np.random.default_rng(4)
    rand = tuple(rng.normal(size=(6, 128)).astype(np.float32) * 0.1 for _ in range(3))

    def run():
        cases = []
        for what, (a, p, n), alpha, expected in hand:
            y_pred = tuple(np.asarray(t, np.float32) for t in (a, p, n))
            cases.append(compare(what, expected, student_fn(None, y_pred, alpha), rtol=1e-5, atol=1e-5))
        cases.append(compare("6 random 128-d triplets, alpha=0.2 (NumPy formula)", _np_triplet(*rand, 0.2),
                             student_fn(None, rand, 0.2), rtol=1e-4, atol=1e-5))
        return cases

    return report("check_triplet_loss", run)


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
