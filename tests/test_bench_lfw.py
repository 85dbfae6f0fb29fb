"""bench/lfw.py's 10-fold View 1 protocol (folds by pair, τ on nine folds, tested on the tenth), by hand."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import REPO

from facelib import faces

sys.path.insert(0, str(REPO / "bench"))
import lfw  # bench/lfw.py, a script


def test_ten_folds_are_balanced_disjoint_and_cover_every_pair():
    same = np.array([True] * 1600 + [False] * 1600)
    folds = lfw.ten_folds(same)
    assert len(folds) == 10
    allidx = np.concatenate(folds)
    assert sorted(allidx.tolist()) == list(range(3200))
    assert all(len(f) == 320 and same[f].sum() == 160 for f in folds)
    assert not np.array_equal(folds[0], np.arange(320))  # shuffled, by pair
    assert [f.tolist() for f in lfw.ten_folds(same)] == [f.tolist() for f in folds]  # seeded


def test_cross_validate_by_hand():
    # 10 folds of 1 same + 1 different pair: same pairs at d = 0.1…0.5, different at 0.8…1.2, except
    # fold 3, whose pairs are swapped outliers (same at 2.0, different at 0.0). Trained without them
    # (fold 3's own τ, between 0.5 and 0.8) both are wrong; trained with them (the other folds: one
    # false reject and one false accept wherever τ lies in 0.5…0.8) every other fold is right.
    same = np.array([True, False] * 10)
    d = np.where(same, np.repeat(np.linspace(0.1, 0.5, 10), 2), np.repeat(np.linspace(0.8, 1.2, 10), 2))
    d[6], d[7] = 2.0, 0.0
    folds = [np.array([2 * k, 2 * k + 1]) for k in range(10)]
    mean, std, tau = lfw.cross_validate(d, same, folds)
    accs, taus = [], []
    for k in range(10):
        train = np.array([i for i in range(20) if i // 2 != k])
        t = faces.equal_error_rate(d[train], same[train])[1]
        test = folds[k]
        accs.append(np.mean((d[test] <= t) == same[test]))
        taus.append(t)
    assert accs[3] == 0.0 and sum(a == 1.0 for a in accs) >= 8  # the outliers' fold is all wrong
    assert mean == pytest.approx(np.mean(accs)) and std == pytest.approx(np.std(accs))
    assert tau == pytest.approx(np.mean(taus)) and 0.4 <= tau < 0.8
