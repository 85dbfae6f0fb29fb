"""Self-checks for lesson 06 (what deep ConvNets learn): receptive fields and top-9 patches.

References are computed here independently of ``facelib``'s lesson-06 module:

- the receptive field *top-down*: one unit's input interval ``[a, b]`` walked back through the
  layers (a unit at positions ``[a, b]`` of layer ``l`` depends on ``[a·s, b·s + k - 1]`` of layer
  ``l - 1``), not with the lesson's bottom-up recurrence; anchored on hand-worked values
  (VGG19's ``block5_conv4`` sees 252 pixels, AlexNet's ``pool5`` 195);
- the top 9 crops of a unit by repeatedly taking the largest remaining value (no ``argsort``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from facelib.checks.core import Case, Verdict, compare, report

__all__ = ["check_receptive_field", "check_top9"]

#: VGG19 up to ``block5_conv4`` as ``(kernel, stride)``: 3×3 stride-1 convolutions, 2×2 stride-2 pools.
_VGG19_TO_BLOCK5_CONV4 = ([(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 4 + [(2, 2)]
                          + [(3, 1)] * 4 + [(2, 2)] + [(3, 1)] * 4)
#: AlexNet's conv1 … pool5: 11/4, pool 3/2, 5/1, pool 3/2, 3/1, 3/1, 3/1, pool 3/2.
_ALEXNET_TO_POOL5 = [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]


def _receptive_field_top_down(layers: Sequence[tuple[int, int]]) -> int:
    """Input pixels seen by one top unit: walk its interval ``[a, b]`` down to the input."""
    a, b = 0, 0
    for k, s in reversed(list(layers)):
        a, b = a * s, b * s + k - 1
    return b - a + 1


#: (description, layers, receptive field worked by hand; the check computes it top-down).
_RF_GRID: list[tuple[str, list[tuple[int, int]], int]] = [
    ("one 3×3 convolution", [(3, 1)], 3),
    ("two 3×3 convolutions", [(3, 1), (3, 1)], 5),
    ("VGG19 up to block2_conv1 (conv, conv, pool 2/2, conv)", [(3, 1), (3, 1), (2, 2), (3, 1)], 10),
    ("a ResNet stem: conv 7/2, pool 3/2, conv 3/1", [(7, 2), (3, 2), (3, 1)], 19),
    ("VGG19 up to block5_conv4 (16 convolutions, 4 poolings)", _VGG19_TO_BLOCK5_CONV4, 252),
    ("AlexNet conv1 … pool5 (first layer 11×11, stride 4)", _ALEXNET_TO_POOL5, 195),
]


def check_receptive_field(receptive_field: Callable[[list[tuple[int, int]]], int]) -> Verdict:
    """Check ``receptive_field(layers)`` → the side, in input pixels, of the last layer's receptive field.

    ``layers`` is a list of ``(kernel_size, stride)`` pairs, the first layer first (convolutions
    and poolings alike). Cases: one and two 3×3 convolutions (3, 5), VGG19 up to ``block2_conv1``
    (10) and ``block5_conv4`` (252), a ResNet stem (7/2, pool 3/2, 3/1 → 19), AlexNet's ``pool5`` (195).
    """

    def cases() -> list[Case]:
        out = []
        for what, layers, _by_hand in _RF_GRID:
            want = _receptive_field_top_down(layers)
            got = receptive_field([(int(k), int(s)) for k, s in layers])
            case = compare(what, want, got, atol=0, rtol=0)
            if not case.ok and any(s > 1 for _, s in layers[:-1]):
                case.detail += ("; each layer adds (k - 1) × the jump of the layers *below* it, and the "
                                "jump multiplies by every stride")
            out.append(case)
        return out

    return report("check_receptive_field", cases)


def _top9_reference(activations: np.ndarray, k: int = 9) -> np.ndarray:
    """``(n_C, k)``: per unit, the crops with the largest strongest-position value, largest first."""
    n = activations.shape[0]
    peak = activations.reshape(n, -1, activations.shape[-1]).max(axis=1)  # (N, n_C): max over positions
    out = np.zeros((peak.shape[1], k), dtype=np.int64)
    for c in range(peak.shape[1]):
        left = list(range(n))
        for r in range(k):  # pick the largest remaining crop, k times
            best = max(left, key=lambda i: peak[i, c])
            out[c, r] = best
            left.remove(best)
    return out


def _top9_case(what: str, activations: np.ndarray, got: Any) -> Case:
    want = _top9_reference(activations)
    g = np.asarray(got.numpy() if hasattr(got, "numpy") else got)
    if g.dtype.kind == "f" and not np.all(np.mod(g, 1) == 0):
        return Case(what, want, g, False, "these are activation values, not crop indices "
                    "(np.argsort returns indices; np.sort returns values)")
    if g.shape == want.shape[::-1] and g.shape != want.shape:
        return Case(what, want, g, False, f"shape {g.shape} is (9, n_C): one row per unit is expected, "
                    f"shape {want.shape}")
    if g.shape != want.shape:
        return Case(what, want, g, False, f"shape differs: expected {want.shape} (n_C units × 9 crops), got "
                    f"{g.shape} — take the maximum over positions (axes 1 and 2), keep the crop and unit axes")
    g = g.astype(np.int64)
    if np.array_equal(g, want):
        return Case(what, want, g, True)
    same_sets = all(set(a.tolist()) == set(b.tolist()) for a, b in zip(g, want))
    if same_sets and np.array_equal(g, want[:, ::-1]):
        detail = "the right nine crops, smallest first: list them largest activation first"
    elif same_sets:
        detail = "the right nine crops in the wrong order: list them largest activation first"
    elif np.all(g == g[:1]):
        detail = ("every unit got the same nine crops: rank the crops separately for each unit "
                  "(do not flatten the unit axis into the positions)")
    else:
        wrong = int(np.sum([len(set(a.tolist()) - set(b.tolist())) for a, b in zip(g, want)]))
        detail = (f"{wrong} of {want.size} crops are not among the top 9 of their unit — rank each unit's "
                  "crops by its strongest response (max over positions), largest first")
    return Case(what, want, g, False, detail)


def check_top9(top9: Callable[[np.ndarray], Any]) -> Verdict:
    """Check ``top9(activations)``: ``(N, n_H, n_W, n_C)`` → ``(n_C, 9)`` int crop indices.

    Row ``c`` lists the nine crops whose strongest response of unit ``c`` (maximum over the
    positions) is largest, largest first — Zeiler & Fergus's "nine patches that maximise the
    unit's activation". Inputs are random, with crops whose *mean* and *maximum* rank differently.
    """
    rng = np.random.default_rng(6)
    inputs = []
    a = rng.normal(size=(40, 4, 4, 6)).astype(np.float32)  # N=40 crops, 4×4 positions, 6 units
    inputs.append(("40 crops, 4×4 positions, 6 units", a))
    b = rng.normal(size=(12, 3, 5, 3)).astype(np.float32)   # non-square map, only 12 crops
    inputs.append(("12 crops, 3×5 positions, 3 units", b))
    c = np.maximum(rng.normal(size=(25, 2, 2, 9)), 0).astype(np.float32)  # ReLU outputs; N=25, n_C=9
    c[3, 0, 1, :] = 10.0   # one strong spot on a dull crop: top by max, not by mean
    inputs.append(("25 crops of ReLU activations, 2×2 positions, 9 units", c))

    def cases() -> list[Case]:
        return [_top9_case(what, x, top9(x.copy())) for what, x in inputs]

    return report("check_top9", cases)
