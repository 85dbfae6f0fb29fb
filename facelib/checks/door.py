"""Self-checks for lesson 10 (the live door): the vote over frames and τ for a target false-open rate.

References are worked out by hand (in the comments) or computed here with plain NumPy loops —
never with :mod:`facelib.live.vote` or :func:`facelib.faces.evaluation.tau_for_false_open`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from facelib.checks.core import Case, Verdict, compare, report

__all__ = ["check_door_vote", "check_tau_for_false_open"]

_NAN = float("nan")


def check_door_vote(door_vote: Callable) -> Verdict:
    """Lesson 10: ``door_vote(distances, tau, window)`` → ``(n,)`` bool, the door at each frame.

    Open at frame t iff more than ``window / 2`` of the ``window`` frames ending at t have
    ``d <= tau``; frames before the first, and frames with no face (NaN), count as "no".
    """
    # (distances, tau, window) -> door, worked by hand ("yes" = d <= tau; count over the last `window` frames)
    grid = [
        # yes: 1 0 1 1 1 0 1 0 0 0 ; counts (w=3): 1 1 2 2 3 2 2 1 1 0 ; open iff count >= 2
        ("a resident, then a stranger; one bad frame each way (window 3)",
         [0.5, 0.9, 0.5, 0.5, 0.5, 0.9, 0.5, 0.9, 0.9, 0.9], 0.7, 3,
         [False, False, True, True, True, True, True, False, False, False]),
        # yes: 1 1 0 1 1 ; counts (w=4): 1 2 2 3 3 ; a tie (2 of 4) keeps the door shut
        ("window 4: two of four is a tie, not a majority", [0.6, 0.6, 0.8, 0.6, 0.6], 0.7, 4,
         [False, False, False, True, True]),
        # d = tau counts as yes (the lecture's d <= tau); NaN = no face = no. yes: 1 1 0 1 0 1 1
        # counts (w=3): 1 2 2 2 1 2 2
        ("d equal to tau counts; frames with no face (NaN) count as no", [0.7, 0.7, _NAN, 0.7, _NAN, 0.2, 0.3],
         0.7, 3, [False, True, True, True, False, True, True]),
        ("window 1: the frame-by-frame door", [0.5, 0.9, 0.7, _NAN], 0.7, 1, [True, False, True, False]),
    ]

    def cases() -> list[Case]:
        out = []
        for what, d, tau, window, expected in grid:
            got = door_vote(np.array(d), tau, window)
            arr = np.asarray(got)
            ok = arr.shape == (len(expected),) and arr.dtype.kind in "bui" and np.array_equal(arr.astype(bool),
                                                                                              expected)
            out.append(Case(f"{what} (tau={tau}, window={window})", np.array(expected), arr, ok,
                            "" if ok else "open iff more than window/2 of the last `window` frames have d <= tau "
                                          "(frames before the first and frames with no face count as no)"))
        return out

    return report("check_door_vote", cases)


def _ref_tau(encodings: np.ndarray, labels: np.ndarray, rate: float) -> float:
    """Loop over the pairs i < j of different people; the halfway τ after the k = ⌊rate·N⌋ nearest."""
    d = []
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            if labels[i] != labels[j]:
                d.append(math.dist(encodings[i], encodings[j]))
    d.sort()
    k = math.floor(rate * len(d))
    return ((d[k - 1] if k else 0.0) + d[k]) / 2


def check_tau_for_false_open(tau_for_false_open: Callable) -> Verdict:
    """Lesson 10: ``tau_for_false_open(encodings, labels, rate)`` → τ (a float).

    Stranger trials are the pairs of photos of two different enrolled people (each pair once);
    sorted, at most k = ⌊rate·N⌋ may open the door, and τ = (d_(k) + d_(k+1)) / 2 with d_(0) = 0.
    """
    # hand-worked: 1-d encodings 0, 1 (person a), 3, 7 (person b); different-person pairs:
    # 0-3: 3, 0-7: 7, 1-3: 2, 1-7: 6 -> sorted 2, 3, 6, 7 (N = 4)
    #   rate 0    -> k = 0: tau = (0 + 2) / 2 = 1.0
    #   rate 0.3  -> k = 1: tau = (2 + 3) / 2 = 2.5
    #   rate 0.5  -> k = 2: tau = (3 + 6) / 2 = 4.5
    hand_e, hand_l = np.array([[0.0], [1.0], [3.0], [7.0]]), np.array(["a", "a", "b", "b"])
    rng = np.random.default_rng(10)
    pk_l = np.repeat(np.arange(4), 3)                                   # 4 people × 3 photos: N = 54 pairs
    pk_e = rng.normal(size=(12, 8)) + 2.0 * np.repeat(rng.normal(size=(4, 8)), 3, axis=0)
    pk_e /= np.linalg.norm(pk_e, axis=1, keepdims=True)
    grid = [("hand-worked 1-d: 0, 1 | 3, 7", hand_e, hand_l, rate, tau)
            for rate, tau in ((0.0, 1.0), (0.3, 2.5), (0.5, 4.5))]
    # rate·N = 2.7 and 10.8: counting each pair twice would pick another τ
    grid += [("4 people × 3 photos, unit 8-d encodings", pk_e, pk_l, rate, _ref_tau(pk_e, pk_l, rate))
             for rate in (0.05, 0.2)]

    def cases() -> list[Case]:
        out = []
        for what, e, lab, rate, tau in grid:
            c = compare(f"{what}, rate={rate}", tau, tau_for_false_open(e.copy(), lab.copy(), rate), rtol=1e-6)
            if not c.ok:
                c.detail += ("; stranger pairs = photos of two different people, each pair once; "
                             "tau halfway between the k-th and (k+1)-th smallest, k = floor(rate * N)")
            out.append(c)
        return out

    return report("check_tau_for_false_open", cases)
