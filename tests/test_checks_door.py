"""facelib.checks.door (lesson 10): the vote over frames and τ for a false-open rate — right answers pass,
typical mistakes fail, stubs wait."""

from __future__ import annotations

import math

import numpy as np
import pytest
from check_cases import assert_accepts, assert_waits_for_the_stub

from facelib import faces, live
from facelib.checks import CheckFailed
from facelib.checks import door as checks


def vote(distances, tau, window):
    """A plain loop: the last `window` frames, missing ones counted as no."""
    yes = [d is not None and not math.isnan(d) and d <= tau for d in distances]
    return np.array([sum(yes[max(0, t - window + 1): t + 1]) > window / 2 for t in range(len(yes))])


def test_door_vote_accepts_the_loop_and_facelib(capsys):
    assert_accepts(checks.check_door_vote, [vote, live.door_vote], 4, capsys)


def _frame_by_frame(d, tau, window):
    return np.asarray(d) <= tau


def _majority_of_the_frames_seen(d, tau, window):  # at the start, 1 of 1 frames opens the door
    yes = np.asarray(d) <= tau
    return np.array([yes[max(0, t - window + 1): t + 1].mean() > 0.5 for t in range(len(yes))])


def _tie_opens(d, tau, window):
    yes = np.asarray(d) <= tau
    return np.array([yes[max(0, t - window + 1): t + 1].sum() >= window / 2 for t in range(len(yes))])


def _strict(d, tau, window):
    return vote(list(np.where(np.asarray(d) == tau, np.inf, d)), tau, window)  # d < tau


@pytest.mark.parametrize("wrong", [_frame_by_frame, _majority_of_the_frames_seen, _tie_opens, _strict],
                         ids=["frame-by-frame", "majority-of-frames-seen", "tie-opens", "d-below-tau-only"])
def test_door_vote_catches_mistakes(wrong, capsys):
    with pytest.raises(CheckFailed):
        checks.check_door_vote(wrong)
    assert "more than window/2" in capsys.readouterr().out


def test_door_vote_stub_is_not_attempted(capsys):
    assert_waits_for_the_stub(checks.check_door_vote, capsys)


# --------------------------------------------------------------------------- tau_for_false_open

def _pairs(e, labels, *, same_too=False, both_orders=False, self_pairs=False):
    d = []
    for i in range(len(labels)):
        for j in range(len(labels)):
            if (j > i or (both_orders and j < i) or (self_pairs and j == i)) and (same_too or labels[i] != labels[j]
                                                                                  or (self_pairs and j == i)):
                d.append(float(np.linalg.norm(e[i] - e[j])))
    return sorted(d)


def _halfway(d, rate):
    k = math.floor(rate * len(d))
    return ((d[k - 1] if k else 0.0) + d[k]) / 2


def right_tau(e, labels, rate):
    return _halfway(_pairs(e, labels), rate)


def test_tau_for_false_open_accepts_the_loop_and_facelib(capsys):
    assert_accepts(checks.check_tau_for_false_open, [right_tau, faces.tau_for_false_open], 5, capsys)


@pytest.mark.parametrize("wrong", [
    lambda e, y, r: _halfway(_pairs(e, y, same_too=True), r),         # residents' own pairs counted as strangers
    lambda e, y, r: _halfway(_pairs(e, y, both_orders=True), r),      # every pair twice
    lambda e, y, r: _halfway(_pairs(e, y, self_pairs=True), r),       # a photo against itself (d = 0)
    lambda e, y, r: float(np.quantile(_pairs(e, y), r)),              # a quantile, not k = floor(rate N)
    lambda e, y, r: _pairs(e, y)[math.floor(r * len(_pairs(e, y)))],  # the first stranger kept out: one too many in
], ids=["same-person-pairs-too", "pairs-twice", "self-pairs", "quantile", "one-too-many"])
def test_tau_for_false_open_catches_mistakes(wrong, capsys):
    with pytest.raises(CheckFailed):
        checks.check_tau_for_false_open(wrong)
    assert "floor(rate * N)" in capsys.readouterr().out


def test_tau_for_false_open_stub_is_not_attempted(capsys):
    assert_waits_for_the_stub(checks.check_tau_for_false_open, capsys)
