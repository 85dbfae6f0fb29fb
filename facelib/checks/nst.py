"""Self-checks for the neural style transfer exercises (notebook 07).

Each check runs the student's function on fixed random tensors and compares it with a NumPy
formula written out here, independently of :mod:`facelib.nst`, plus one hand-worked case.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from facelib.checks.core import Case, compare, report

__all__ = ["check_compute_content_cost", "check_gram_matrix", "check_compute_layer_style_cost",
           "check_total_cost"]


def _tf(x: np.ndarray):  # type: ignore[no-untyped-def]
    import tensorflow as tf

    return tf.constant(x, dtype=tf.float32)


def _acts(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).normal(1.0, 4.0, size=shape).astype(np.float32)


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


def check_compute_content_cost(compute_content_cost: Callable) -> bool:
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
        return out
    return report("compute_content_cost", cases)


def check_gram_matrix(gram_matrix: Callable) -> bool:
    """Check ``gram_matrix(A)`` for ``A`` of shape ``(n_C, n_H*n_W)``."""
    def cases() -> list[Case]:
        A = _acts(4, (3, 8))
        out = [compare("G = A A^T for a random (3, 8) A", _np_gram(A), gram_matrix(_tf(A)))]
        hand = np.array([[1.0, 2.0], [0.0, 3.0]])
        # rows (1,2) and (0,3): G = [[1+4, 0+6], [6, 0+9]]
        out.append(compare("hand-worked: A=[[1,2],[0,3]] gives [[5,6],[6,9]]", np.array([[5.0, 6.0], [6.0, 9.0]]),
                           gram_matrix(_tf(hand))))
        return out
    return report("gram_matrix", cases)


def check_compute_layer_style_cost(compute_layer_style_cost: Callable) -> bool:
    """Check ``compute_layer_style_cost(a_S, a_G)`` on random ``(1, n_H, n_W, n_C)`` tensors."""
    def cases() -> list[Case]:
        out = []
        for seed, shape in ((5, (1, 4, 4, 3)), (6, (1, 3, 5, 6))):
            a_S, a_G = _acts(seed, shape), _acts(seed + 100, shape)
            out.append(compare(f"J_style^[l] on random {shape} activations", _np_layer_style(a_S, a_G),
                               compute_layer_style_cost(_tf(a_S), _tf(a_G)), rtol=1e-4))
        a = _acts(7, (1, 3, 3, 4))
        out.append(compare("J_style^[l](S, S) = 0", 0.0, compute_layer_style_cost(_tf(a), _tf(a)), atol=1e-3))
        return out
    return report("compute_layer_style_cost", cases)


def check_total_cost(total_cost: Callable) -> bool:
    """Check ``total_cost(J_content, J_style, alpha=10, beta=40)``: a weighted *sum*."""
    def cases() -> list[Case]:
        return [
            compare("defaults: J_content=2, J_style=3 -> 10*2 + 40*3 = 140", 140.0, total_cost(2.0, 3.0)),
            compare("alpha=1, beta=0.5: J_content=4, J_style=6 -> 7", 7.0, total_cost(4.0, 6.0, alpha=1, beta=0.5)),
            compare("random values 0.3 and 1.7 with the defaults", 10 * 0.3 + 40 * 1.7, total_cost(0.3, 1.7)),
        ]
    return report("total_cost", cases)
