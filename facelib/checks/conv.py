"""Self-checks for lessons 08 (1D convolutions, ECG) and 09 (3D convolutions, volumes).

References are computed here independently of ``facelib.conv.signals``/``facelib.conv.volumes``: by
counting filter positions with ``range``, with ``np.correlate``/``scipy.signal.correlate``, or
from the lecture's hand-worked numbers (14×1 * 16 filters of 5 → 10×16; 14×14×14×1 * 16 filters
5×5×5 → 10×10×10×16).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facelib.checks.core import Case, Verdict, compare, report

__all__ = [
    "check_conv1d_output_length",
    "check_conv1d_single",
    "check_f1_score",
    "check_conv3d_output_shape",
    "check_conv3d_param_count",
    "check_conv3d_single",
]


def _positions(n: int, f: int, stride: int, padding: str) -> int:
    """Count the filter's start positions one by one (no closed formula)."""
    if padding == "valid":
        return len(range(0, n - f + 1, stride))
    # "same" and "causal": one output for every stride-th input sample
    return len(range(0, n, stride))


def check_conv1d_output_length(conv1d_output_length: Callable[..., int]) -> Verdict:
    """Check ``conv1d_output_length(n, f, stride=1, padding="valid")`` on the lecture's case and more."""
    grid = [(14, 5, 1, "valid"), (256, 9, 1, "valid"), (10, 3, 2, "valid"), (11, 4, 3, "valid"),
            (14, 5, 1, "same"), (9, 3, 2, "same"), (14, 4, 1, "same"), (10, 2, 3, "same"),
            (14, 5, 1, "causal"), (13, 4, 4, "causal")]
    # the even filters under "same" catch symmetric padding p = (f - 1) // 2 (n = 14, f = 4 -> 13, not 14):
    # Keras pads an even filter unevenly (one more zero at the end)

    def cases() -> list[Case]:
        out = []
        for n, f, s, p in grid:
            got = conv1d_output_length(n, f, stride=s, padding=p)
            out.append(compare(f"n={n}, f={f}, stride={s}, padding={p!r}", _positions(n, f, s, p), got, atol=0))
        return out

    return report("check_conv1d_output_length", cases)


def check_conv1d_single(conv1d_single: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Verdict:
    """Check a one-channel "valid" 1D convolution ``conv1d_single(x, w)``: ``(n,), (f,) → (n - f + 1,)``.

    The reference is ``np.correlate(x, w, "valid")`` (deep learning's "convolution" does not flip
    the filter).
    """
    rng = np.random.default_rng(8)
    inputs = [(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])),
              (rng.normal(size=14), rng.normal(size=5)),
              (rng.normal(size=30), np.array([0.25, 0.5, 0.25]))]

    def cases() -> list[Case]:
        out = []
        for x, w in inputs:
            got = conv1d_single(x.copy(), w.copy())
            out.append(compare(f"x of length {len(x)}, filter of size {len(w)}", np.correlate(x, w, "valid"), got))
        return out

    return report("check_conv1d_single", cases)


def check_f1_score(f1_score: Callable[[int, int, int], float]) -> Verdict:
    """Check ``f1_score(tp, fp, fn)`` = harmonic mean of precision and recall (hand-worked values)."""
    # (tp, fp, fn) -> F1, worked by hand: P = tp/(tp+fp), R = tp/(tp+fn), F1 = 2PR/(P+R) = 2tp/(2tp+fp+fn)
    worked = [((2, 2, 1), 4 / 7), ((456, 1, 2), 912 / 915), ((10, 0, 0), 1.0), ((3, 1, 3), 0.6)]

    def cases() -> list[Case]:
        return [compare(f"tp={tp}, fp={fp}, fn={fn}", f1, f1_score(tp, fp, fn)) for (tp, fp, fn), f1 in worked]

    return report("check_f1_score", cases)


def check_conv3d_output_shape(conv3d_output_shape: Callable[..., tuple]) -> Verdict:
    """Check ``conv3d_output_shape(input_shape, filters, f, stride=1, padding="valid")`` → ``(o1, o2, o3, filters)``.

    The lecture's cases (valid, stride 1), then an even filter (f = 4) with stride 2, "valid" vs
    "same" (Keras' "same": ``ceil(n / s)`` positions, whatever ``f``), and unequal sides. Expected
    values count the filter's start positions one by one.
    """
    grid = [((14, 14, 14, 1), 16, 5, 1, "valid"), ((10, 10, 10, 16), 32, 5, 1, "valid"),
            ((7, 7, 7, 1), 8, 3, 1, "valid"), ((8, 16, 16, 1), 8, 3, 1, "valid"),
            ((197, 233, 189, 1), 4, 3, 1, "valid"),
            ((14, 14, 14, 1), 8, 4, 2, "valid"), ((14, 14, 14, 1), 8, 4, 2, "same"),
            ((15, 15, 15, 1), 8, 4, 2, "valid"), ((15, 15, 15, 1), 8, 4, 2, "same"),
            ((16, 16, 16, 3), 4, 4, 1, "same"), ((10, 11, 12, 2), 6, 2, 2, "valid"),
            ((10, 11, 12, 2), 6, 2, 2, "same")]

    def cases() -> list[Case]:
        out = []
        for shape, k, f, s, p in grid:
            want = tuple(_positions(n, f, s, p) for n in shape[:3]) + (k,)
            got = conv3d_output_shape(shape, k, f, stride=s, padding=p)
            what = f"input {shape}, {k} filters of {f}×{f}×{f}, stride {s}, padding {p!r}"
            case = compare(what, want, tuple(got), atol=0, rtol=0)
            if not case.ok and p == "same" and f % 2 == 0:
                case.detail += ("; with an even filter there is no p with 2p = f - 1: Keras' 'same' pads so "
                                "that the output has ceil(n / s) positions")
            out.append(case)
        return out

    return report("check_conv3d_output_shape", cases)


def check_conv3d_param_count(conv3d_param_count: Callable[[int, int, int], int]) -> Verdict:
    """Check ``conv3d_param_count(f, n_c, filters)``: weights ``f·f·f·n_c`` per filter plus one bias."""
    grid = [(5, 1, 16), (5, 16, 32), (3, 1, 8), (3, 8, 16)]

    def cases() -> list[Case]:
        out = []
        for f, c, k in grid:
            want = np.ones((f, f, f, c, k)).size + np.ones(k).size  # count every number in the layer
            out.append(compare(f"{k} filters of {f}×{f}×{f}×{c}", want, conv3d_param_count(f, c, k), atol=0))
        return out

    return report("check_conv3d_param_count", cases)


def check_conv3d_single(conv3d_single: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Verdict:
    """Check a one-channel "valid" 3D convolution ``conv3d_single(x, w)``: ``(n1, n2, n3), (f1, f2, f3)``.

    The reference is ``scipy.signal.correlate(x, w, mode="valid")``.
    """
    from scipy.signal import correlate

    rng = np.random.default_rng(9)
    inputs = [(np.ones((3, 3, 3)), np.ones((2, 2, 2))),
              (rng.normal(size=(6, 5, 4)), rng.normal(size=(3, 3, 3))),
              (rng.normal(size=(8, 8, 8)), rng.normal(size=(5, 2, 1)))]

    def cases() -> list[Case]:
        out = []
        for x, w in inputs:
            got = conv3d_single(x.copy(), w.copy())
            out.append(compare(f"x {x.shape}, filter {w.shape}", correlate(x, w, mode="valid"), got))
        return out

    return report("check_conv3d_single", cases)
