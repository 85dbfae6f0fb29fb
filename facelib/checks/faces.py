"""Self-checks for lesson 01 (verification vs recognition), and the face lessons' checks in one place.

Lesson 02's checks live in :mod:`facelib.checks.siamese`, lesson 03's in
:mod:`facelib.checks.triplets`, lesson 04's in :mod:`facelib.checks.binary`; they are re-exported
here (and all are reachable as ``facelib.checks.check_...``).
"""

from __future__ import annotations

from collections.abc import Callable

from facelib.checks.binary import check_chi2_features, check_verification_head
from facelib.checks.core import Verdict, compare, report
from facelib.checks.siamese import check_contrastive_loss, check_same_person
from facelib.checks.triplets import check_batch_hard_triplet_loss, check_triplet_kind, check_triplet_loss

__all__ = ["check_batch_hard_triplet_loss", "check_chi2_features", "check_contrastive_loss",
           "check_false_alarm_probability", "check_same_person", "check_triplet_kind", "check_triplet_loss",
           "check_verification_head"]


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
