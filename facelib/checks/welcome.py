"""Self-check of the welcome notebook's warm-up exercise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facelib.checks.core import Case, Verdict, compare, report


def check_distance(distance: Callable[[np.ndarray, np.ndarray], float]) -> Verdict:
    """Check ``distance(a, b) = ||a - b||_2`` on hand-worked vectors.

    (3, 4) vs (0, 0) is 5 (the 3-4-5 triangle); identical vectors are 0; the distance is symmetric.
    """
    def cases() -> list[Case]:
        a, b = np.array([3.0, 4.0]), np.array([0.0, 0.0])
        u, v = np.array([1.0, 2.0, 2.0]), np.array([1.0, 0.0, 0.0])
        return [
            compare("d((3, 4), (0, 0)) = 5", 5.0, distance(a, b)),
            compare("d(x, x) = 0", 0.0, distance(u, u)),
            compare("d((1, 2, 2), (1, 0, 0)) = √8", np.sqrt(8.0), distance(u, v)),
            compare("symmetric: d(a, b) = d(b, a)", distance(u, v), distance(v, u)),
        ]

    return report("check_distance", cases)
