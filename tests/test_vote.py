"""facelib.live.vote: the door's majority vote over frames (hand-worked)."""

from __future__ import annotations

import numpy as np
import pytest

from facelib.live import door_vote


def test_one_bad_frame_neither_opens_nor_shuts_the_door():
    # yes = d <= 0.7: 1 0 1 1 1 0 1 0 0 0; votes over 3 frames (before the first: no): 1 1 2 2 3 2 2 1 1 0
    d = [0.5, 0.9, 0.5, 0.5, 0.5, 0.9, 0.5, 0.9, 0.9, 0.9]
    assert door_vote(d, 0.7, 3).tolist() == [False, False, True, True, True, True, True, False, False, False]


def test_ties_keep_it_shut_and_no_face_is_a_no():
    assert door_vote([0.6, 0.6, 0.8, 0.6, 0.6], 0.7, 4).tolist() == [False, False, False, True, True]
    assert door_vote([0.7, None, np.nan, 0.2], 0.7, 1).tolist() == [True, False, False, True]  # d = tau counts
    assert door_vote([], 0.7, 3).shape == (0,)


@pytest.mark.parametrize("window", [0, -1, 2.5])
def test_window_must_be_a_positive_whole_number(window):
    with pytest.raises(ValueError, match="window"):
        door_vote([0.5], 0.7, window)
