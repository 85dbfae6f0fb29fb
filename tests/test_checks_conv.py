"""The lesson 08/09 self-checks accept right answers, reject wrong ones, and spot stubs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facelib import checks
from facelib.checks import CheckFailed


def right_length(n, f, stride=1, padding="valid"):
    return (n - f) // stride + 1 if padding == "valid" else math.ceil(n / stride)


def right_conv1d(x, w):
    f = len(w)
    return np.array([np.dot(x[i: i + f], w) for i in range(len(x) - f + 1)])


def right_conv3d(x, w):
    o = [a - b + 1 for a, b in zip(x.shape, w.shape)]
    out = np.zeros(o)
    for i in range(o[0]):
        for j in range(o[1]):
            for k in range(o[2]):
                out[i, j, k] = np.sum(x[i: i + w.shape[0], j: j + w.shape[1], k: k + w.shape[2]] * w)
    return out


RIGHT_AND_WRONG = [
    ("check_conv1d_output_length", right_length, lambda n, f, stride=1, padding="valid": n - f + 1),
    ("check_conv1d_single", right_conv1d, lambda x, w: np.convolve(x, w, "valid")),  # flips the filter
    ("check_f1_score", lambda tp, fp, fn: 2 * tp / (2 * tp + fp + fn), lambda tp, fp, fn: tp / (tp + fp)),
    ("check_conv3d_output_shape", lambda s, k, f: tuple(n - f + 1 for n in s[:3]) + (k,),
     lambda s, k, f: tuple(n - f for n in s[:3]) + (k,)),
    ("check_conv3d_param_count", lambda f, c, k: f ** 3 * c * k + k, lambda f, c, k: f ** 3 * c * k),
    ("check_conv3d_single", right_conv3d, lambda x, w: right_conv3d(x, w[::-1, ::-1, ::-1])),
]


@pytest.mark.parametrize("name, right, wrong", RIGHT_AND_WRONG, ids=[r[0] for r in RIGHT_AND_WRONG])
def test_check_accepts_right_rejects_wrong(name, right, wrong, capsys) -> None:
    check = getattr(checks, name)
    assert bool(check(right)) is True
    assert "✗" not in capsys.readouterr().out
    with pytest.raises(CheckFailed):
        check(wrong)
    out = capsys.readouterr().out
    assert "✗" in out and "expected" in out


@pytest.mark.parametrize("name", [r[0] for r in RIGHT_AND_WRONG])
def test_check_reports_stub_as_not_attempted(name, capsys) -> None:
    def stub(*args, **kwargs):
        raise NotImplementedError

    assert bool(getattr(checks, name)(stub)) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_conv1d_length_check_catches_wrong_same_padding() -> None:
    def ignores_padding(n, f, stride=1, padding="valid"):
        return (n - f) // stride + 1

    with pytest.raises(CheckFailed):
        checks.check_conv1d_output_length(ignores_padding)
