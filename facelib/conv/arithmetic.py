"""Convolution arithmetic: output sizes, parameter counts and plain-NumPy references (1D and 3D).

Lecture ideas (week 1, "strided convolutions" and "one layer of a convolutional network"; week 4,
"1D and 3D generalizations"): a convolution with filters of size ``f``, stride ``s`` and no
padding turns ``n`` positions into ``floor((n - f) / s) + 1``; a layer of ``n_c'`` filters of
size ``f×…×f×n_c`` has ``(Π f_i)·n_c·n_c' + n_c'`` parameters. The lecture's 1D case (14×1 input,
16 filters of 5) gives 10×16; its 3D case (14×14×14×1, 16 filters of 5×5×5) gives 10×10×10×16.

- :func:`conv1d_output_length`, :func:`conv3d_output_shape`: what ``keras.layers.Conv1D`` /
  ``Conv3D`` compute for ``"valid"``, ``"same"`` (and, in 1D, ``"causal"``) padding.
- :func:`conv_param_count`: weights + biases of a convolution layer in any dimension.
- :func:`conv1d_numpy`, :func:`conv3d_numpy`: cross-correlations in plain NumPy, the references
  the Keras layers are tested against.

:mod:`facelib.conv.signals` (1D, ECG) and :mod:`facelib.conv.volumes` (3D, MRI and video) use these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["conv1d_numpy", "conv1d_output_length", "conv3d_numpy", "conv3d_output_shape", "conv_param_count"]

_PADDINGS_1D = ("valid", "same", "causal")
_PADDINGS_ND = ("valid", "same")


# --------------------------------------------------------------------------- 1D

def conv1d_output_length(n: int, f: int, stride: int = 1, padding: str = "valid", dilation: int = 1) -> int:
    """Length of a 1D convolution's output, as ``keras.layers.Conv1D`` computes it.

    With ``f_eff = dilation·(f - 1) + 1``:

    - ``"valid"`` (no padding, the lecture's case): ``floor((n - f_eff) / stride) + 1``;
      14 samples and ``f = 5`` give 10;
    - ``"same"``: ``ceil(n / stride)`` (zeros added so that stride 1 keeps the length);
    - ``"causal"``: ``f_eff - 1`` zeros on the left only, then valid: also ``ceil(n / stride)``.

    Args:
        n: input length; f: filter size; stride: step; padding: ``"valid"``, ``"same"``, ``"causal"``.

    Returns:
        The output length (0 when the filter does not fit in a ``"valid"`` convolution).
    """
    for name, value in (("n", n), ("f", f), ("stride", stride), ("dilation", dilation)):
        if int(value) != value or value < (0 if name == "n" else 1):
            raise ValueError(f"{name} must be a {'non-negative' if name == 'n' else 'positive'} integer, got {value!r}")
    if padding not in _PADDINGS_1D:
        raise ValueError(f"padding must be one of {_PADDINGS_1D}, got {padding!r}")
    f_eff = dilation * (f - 1) + 1
    if padding == "valid":
        return max(0, (n - f_eff) // stride + 1)
    return -(-n // stride)


def conv1d_numpy(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride: int = 1,
                 padding: str = "valid") -> np.ndarray:
    """1D convolution (cross-correlation, as in deep learning) in plain NumPy.

    ``out[i, k] = b[k] + Σ_{j < f} Σ_c x[i·stride + j, c] · w[j, c, k]``.

    Args:
        x: ``(n, n_c)`` or ``(batch, n, n_c)`` input.
        w: ``(f, n_c, n_c')`` filters (the layout of ``Conv1D.kernel``).
        b: ``(n_c',)`` biases or None.
        stride: step between positions.
        padding: ``"valid"``, ``"same"`` (Keras/TensorFlow split: extra zero on the right) or
            ``"causal"`` (all zeros on the left).

    Returns:
        ``(n_out, n_c')`` (or ``(batch, n_out, n_c')``) float64, ``n_out`` from
        :func:`conv1d_output_length`.
    """
    x, w, single = _batch_and_filters(x, w, "n", "f")
    f = w.shape[0]
    n = x.shape[1]
    n_out = conv1d_output_length(n, f, stride, padding)
    if padding == "same":
        total = max((n_out - 1) * stride + f - n, 0)
        x = np.pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0)))
    elif padding == "causal":
        x = np.pad(x, ((0, 0), (f - 1, 0), (0, 0)))
    out = np.zeros((x.shape[0], n_out, w.shape[2]))
    for j in range(f):
        out += np.einsum("bic,ck->bik", x[:, j: j + (n_out - 1) * stride + 1: stride, :], w[j])
    return _add_bias(out, b, single)


def _batch_and_filters(x: np.ndarray, w: np.ndarray, axes: str, f_axes: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """``x`` as ``(batch, *spatial, n_c)`` float64 (and whether it came without the batch axis), ``w``
    as ``(*f, n_c, n_c')`` float64; ``axes``/``f_axes`` name the spatial and filter axes in errors."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n_spatial = axes.count(",") + 1
    single = x.ndim == n_spatial + 1
    if single:
        x = x[None]
    if x.ndim != n_spatial + 2:
        raise ValueError(f"x must have shape ({axes}, n_c) or (batch, {axes}, n_c), got {np.shape(x)}")
    if w.ndim != n_spatial + 2 or w.shape[-2] != x.shape[-1]:
        raise ValueError(f"w must have shape ({f_axes}, n_c={x.shape[-1]}, n_filters), got {w.shape}")
    return x, w, single


def _add_bias(out: np.ndarray, b: np.ndarray | None, single: bool) -> np.ndarray:
    """``out + b`` (when given), without the batch axis again when the input had none."""
    if b is not None:
        out = out + np.asarray(b, dtype=np.float64)
    return out[0] if single else out


# --------------------------------------------------------------------------- 3D and any dimension

def _sizes(value: int | Sequence[int], n: int) -> tuple[Any, ...] | None:
    """``value`` repeated ``n`` times (a number) or as a tuple (one per axis).

    ``None`` when that is not ``n`` positive integers.
    """
    t: tuple[Any, ...] = (value,) * n if np.ndim(value) == 0 else tuple(np.asarray(value).ravel().tolist())
    if len(t) != n or any(isinstance(v, str) or int(v) != v or v < 1 for v in t):
        return None
    return tuple(int(v) for v in t)


def _triple(value: int | Sequence[int], name: str) -> tuple[int, int, int]:
    t = _sizes(value, 3)
    if t is None:
        raise ValueError(f"{name} must be a positive integer or 3 positive integers, got {value!r}")
    return t[0], t[1], t[2]


def conv3d_output_shape(input_shape: Sequence[int], filters: int, kernel_size: int | Sequence[int],
                        strides: int | Sequence[int] = 1, padding: str = "valid") -> tuple[int, int, int, int]:
    """Output shape of ``keras.layers.Conv3D(filters, kernel_size, strides, padding)``.

    Per axis: ``"valid"`` → ``floor((n - f) / s) + 1``; ``"same"`` → ``ceil(n / s)``.
    The lecture: ``(14, 14, 14, 1)``, 16 filters of 5 → ``(10, 10, 10, 16)``.

    Args:
        input_shape: ``(n_1, n_2, n_3, n_c)`` (no batch axis).

    Returns:
        ``(o_1, o_2, o_3, filters)``.
    """
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (n_1, n_2, n_3, n_c) (4 numbers, no batch), got {tuple(input_shape)}")
    if padding not in _PADDINGS_ND:
        raise ValueError(f"padding must be one of {_PADDINGS_ND}, got {padding!r}")
    if int(filters) != filters or filters < 1:
        raise ValueError(f"filters must be a positive integer, got {filters!r}")
    f = _triple(kernel_size, "kernel_size")
    s = _triple(strides, "strides")
    out = []
    for n, fi, si in zip(input_shape[:3], f, s):
        out.append(max(0, (n - fi) // si + 1) if padding == "valid" else -(-n // si))
    return (out[0], out[1], out[2], int(filters))


def conv_param_count(kernel_size: int | Sequence[int], in_channels: int, filters: int, *, ndim: int = 3) -> int:
    """Weights + biases of a convolution layer: ``(Π f_i) · n_c · n_c' + n_c'``.

    ``kernel_size`` is an int (repeated ``ndim`` times) or one size per axis; e.g. the lecture's
    first 3D layer, 16 filters 5×5×5 on 1 channel: ``125·1·16 + 16 = 2016``; the 1D one,
    16 filters of 5 on 1 channel: ``5·1·16 + 16 = 96`` (``ndim=1``).
    """
    ks = _sizes(kernel_size, ndim)
    if ks is None:
        raise ValueError(f"kernel_size must be a positive integer or {ndim} of them, got {kernel_size!r}")
    return int(np.prod(ks)) * int(in_channels) * int(filters) + int(filters)


def conv3d_numpy(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None,
                 strides: int | Sequence[int] = 1) -> np.ndarray:
    """A "valid" 3D convolution (cross-correlation) in plain NumPy.

    ``out[i, j, k, c'] = b[c'] + Σ_{a,b,d,c} x[i·s_1 + a, j·s_2 + b, k·s_3 + d, c] · w[a, b, d, c, c']``.

    Args:
        x: ``(n_1, n_2, n_3, n_c)`` or ``(batch, n_1, n_2, n_3, n_c)``.
        w: ``(f_1, f_2, f_3, n_c, n_c')`` (the layout of ``Conv3D.kernel``).
        b: ``(n_c',)`` or None.

    Returns:
        ``(o_1, o_2, o_3, n_c')`` (or with the batch axis) float64.
    """
    x, w, single = _batch_and_filters(x, w, "n_1, n_2, n_3", "f_1, f_2, f_3")
    s = _triple(strides, "strides")
    o = conv3d_output_shape(x.shape[1:], w.shape[4], w.shape[:3], s)
    out = np.zeros((x.shape[0], o[0], o[1], o[2], w.shape[4]))
    for a in range(w.shape[0]):
        for bb in range(w.shape[1]):
            for d in range(w.shape[2]):
                view = x[:, a: a + (o[0] - 1) * s[0] + 1: s[0], bb: bb + (o[1] - 1) * s[1] + 1: s[1],
                         d: d + (o[2] - 1) * s[2] + 1: s[2], :]
                out += view @ w[a, bb, d]
    return _add_bias(out, b, single)
