"""facelib.checks.faces: right answers pass, typical mistakes fail, stubs say "not attempted"."""

from __future__ import annotations

import numpy as np
import pytest

from facelib import losses
from facelib.checks import CheckFailed
from facelib.checks import faces


def stub(*args):
    raise NotImplementedError


# --------------------------------------------------------------------------- lesson 01

def test_false_alarm_probability(capsys):
    assert faces.check_false_alarm_probability(lambda far, k: 1 - (1 - far) ** k)
    with pytest.raises(CheckFailed):
        faces.check_false_alarm_probability(lambda far, k: far * k)  # the union bound is not it
    assert not faces.check_false_alarm_probability(stub)
    assert "not attempted yet" in capsys.readouterr().out


# --------------------------------------------------------------------------- lesson 02

def _same(e1, e2, tau):
    d = np.sqrt(((np.asarray(e1) - np.asarray(e2)) ** 2).sum(1))
    return d, d <= tau


def test_same_person(capsys):
    assert faces.check_same_person(_same)
    with pytest.raises(CheckFailed):  # strict < misses d == tau
        faces.check_same_person(lambda a, b, t: (_same(a, b, t)[0], _same(a, b, t)[0] < t))
    with pytest.raises(CheckFailed):  # squared distance
        faces.check_same_person(lambda a, b, t: (_same(a, b, t)[0] ** 2, _same(a, b, t)[0] ** 2 <= t))
    assert "expected" in capsys.readouterr().out
    assert not faces.check_same_person(stub)


# --------------------------------------------------------------------------- lesson 03

def _np_triplet(y_true, y_pred, alpha=0.2):
    a, p, n = (np.asarray(t, np.float64) for t in y_pred)
    return np.sum(np.maximum(((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + alpha, 0))


def test_triplet_loss_check_accepts_numpy_and_facelib():
    assert faces.check_triplet_loss(_np_triplet)
    assert faces.check_triplet_loss(losses.triplet_loss)


@pytest.mark.parametrize("wrong", [
    lambda y, yp, alpha=0.2: np.mean(np.maximum(((np.asarray(yp[0]) - yp[1]) ** 2).sum(1)
                                                - ((np.asarray(yp[0]) - yp[2]) ** 2).sum(1) + alpha, 0)),  # mean
    lambda y, yp, alpha=0.2: np.sum(((np.asarray(yp[0]) - yp[1]) ** 2).sum(1)
                                    - ((np.asarray(yp[0]) - yp[2]) ** 2).sum(1) + alpha),  # no max
    lambda y, yp, alpha=0.2: np.sum(np.maximum(np.linalg.norm(np.asarray(yp[0]) - yp[1], axis=1)
                                               - np.linalg.norm(np.asarray(yp[0]) - yp[2], axis=1) + alpha, 0)),  # not squared
], ids=["mean", "no-max", "not-squared"])
def test_triplet_loss_check_catches_mistakes(wrong):
    with pytest.raises(CheckFailed):
        faces.check_triplet_loss(wrong)


def test_triplet_loss_check_reports_exceptions(capsys):
    with pytest.raises(CheckFailed):
        faces.check_triplet_loss(lambda y, yp, alpha: yp[3])
    assert "IndexError" in capsys.readouterr().out


# --------------------------------------------------------------------------- lesson 04

def test_chi2_features():
    assert faces.check_chi2_features(lambda a, b, eps: (a - b) ** 2 / (np.abs(a) + np.abs(b) + eps))
    with pytest.raises(CheckFailed):  # the lecture's formula without |.| breaks on signed encodings
        faces.check_chi2_features(lambda a, b, eps: (a - b) ** 2 / (a + b + eps))
    assert not faces.check_chi2_features(stub)


def test_checks_reachable_from_package():
    import facelib.checks

    assert facelib.checks.check_triplet_loss is faces.check_triplet_loss
