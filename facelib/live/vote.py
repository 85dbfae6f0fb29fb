"""The door's decision over several frames: a majority vote (lesson 10).

One frame can mislead: a blink, a turned head or motion blur pushes a resident's distance above τ, a
lucky angle pulls a stranger's below it. Deciding on the last ``window`` frames together, by the
lecture's rule ``d <= τ`` on each (:func:`facelib.faces.evaluation.accepts`), means that one bad frame
neither opens nor shuts the door.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from facelib.faces.evaluation import accepts

__all__ = ["door_vote"]


def door_vote(distances: Sequence[float | None] | np.ndarray, tau: float, window: int = 5) -> np.ndarray:
    """The door over a run of frames: open at frame t iff most of the last ``window`` frames say "resident".

    Args:
        distances: ``(n,)`` the nearest resident's distance on each frame; ``None`` or NaN when the
            frame has no face (a "no").
        tau: the threshold; a frame says "resident" when ``d <= tau``.
        window: frames per vote. Frames before the first count as "no", so the door needs more than
            ``window / 2`` "yes" frames to open, from the very first frame on (a tie keeps it shut).

    Returns:
        ``(n,) bool``: the door at each frame.
    """
    if int(window) != window or window < 1:
        raise ValueError(f"window must be a positive whole number of frames; got {window!r}")
    d = np.array([np.nan if v is None else float(v) for v in distances], dtype=np.float64)
    if d.size == 0:
        return np.zeros(0, bool)
    votes = np.convolve(accepts(d, tau).astype(np.int64), np.ones(int(window), np.int64))[: len(d)]
    return votes > window / 2
