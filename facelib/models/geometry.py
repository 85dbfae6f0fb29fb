"""Face geometry that the models' preprocessing shares: a face's keypoints mapped onto a template.

FaceNet's aligned face (:func:`facelib.faces.detect.warp_to_template`) and dlib's face chip
(:mod:`facelib.models.dlib_chip`) both place a face by the least-squares similarity transform
(rotation, uniform scale, translation) that takes its detected keypoints onto the model's template.
NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["similarity_transform"]


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity ``dst ≈ s·R·src + t`` (Umeyama 1991), as a ``(2, 3)`` matrix.

    Args:
        src, dst: ``(k, 2)`` corresponding points, ``k ≥ 2``.

    Returns:
        ``(2, 3) float64`` ``[s·R | t]`` mapping ``(x, y, 1)`` of ``src`` to ``dst``.
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise ValueError(f"need two (k, 2) point sets with k >= 2; got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s0, d0 = src - mu_s, dst - mu_d
    cov = d0.T @ s0 / len(src)
    u, sig, vt = np.linalg.svd(cov)
    e = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[1, 1] = -1.0
    rot = u @ e @ vt
    var_s = (s0 ** 2).sum() / len(src)
    scale = np.trace(np.diag(sig) @ e) / var_s
    t = mu_d - scale * rot @ mu_s
    return np.hstack([scale * rot, t[:, None]])
