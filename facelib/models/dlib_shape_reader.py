"""A restricted reader of dlib's shape-predictor file (``shape_predictor_5_face_landmarks.dat``).

``dlib::serialize(shape_predictor, out)`` writes, with dlib's primitives only (every item of this
file is one of dlib's variable-length integers, see :mod:`facelib.models.dlib_reader`):

- the version ``1``;
- ``initial_shape``: a ``matrix<float,0,1>`` — its size as ``-nr, -nc`` (``nc = 1``, ``nr = 2n`` for
  ``n`` landmarks), then ``nr`` floats (each an integer mantissa and an integer exponent);
- ``forests``: a vector (its length, then the items) of cascades, each a vector of regression
  trees; a tree is its ``splits`` (a vector of ``(idx1, idx2, thresh)``: two feature-pixel indices
  and a float) and its ``leaf_values`` (a vector of ``matrix<float,0,1>`` of size ``2n``);
- ``anchor_idx``: per cascade a vector of landmark indices (one per feature pixel);
- ``deltas``: per cascade a vector of ``dlib::vector<float,2>`` (x, y) offsets.

The reader first cuts the file into integers (a header byte ``c``: ``c & 15`` magnitude bytes
follow, bit 7 the sign), then walks that stream expecting exactly this layout, with every tree
complete (``2^depth − 1`` splits, ``2^depth`` leaves) and of one depth. Anything else — another
version, a count that does not fit, an index out of range, a truncated file, trailing bytes —
raises ``ValueError`` naming the file and the byte offset. Nothing is executed; the only data kept
are the arrays of :class:`ShapeModel`.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["ShapeModel", "read_shape_predictor"]

#: Sizes this reader accepts (the 5-point model: 15 cascades × 500 trees of depth 4, 500 pixels).
_MAX_LANDMARKS = 200
_MAX_CASCADES = 100
_MAX_TREES = 5000
_MAX_SPLITS = 1023
_MAX_PIXELS = 10_000
#: Integers decoded at a time (the temporaries of one chunk: a few MB).
_CHUNK = 1 << 18


@dataclass(frozen=True)
class ShapeModel:
    """The arrays of one shape predictor (``C`` cascades, ``T`` trees, ``S`` splits, ``P`` pixels).

    Attributes:
        initial_shape: ``(n, 2) float32`` the mean shape, in units of the face box (0–1).
        idx1, idx2: ``(C, T, S) intp`` the two feature pixels each split compares.
        thresh: ``(C, T, S) float32`` split thresholds (``I[idx1] − I[idx2] > thresh`` → left child).
        leaves: ``(C, T, S + 1, n, 2) float32`` shape increments at the leaves.
        anchor_idx: ``(C, P) intp`` the landmark each feature pixel hangs from.
        deltas: ``(C, P, 2) float32`` its offset from that landmark, in the mean shape's frame.
    """

    initial_shape: np.ndarray
    idx1: np.ndarray
    idx2: np.ndarray
    thresh: np.ndarray
    leaves: np.ndarray
    anchor_idx: np.ndarray
    deltas: np.ndarray

    @property
    def n_landmarks(self) -> int:
        """How many landmarks the model places."""
        return int(self.initial_shape.shape[0])


def _tokens(data: bytes, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Cut the file into dlib integers → ``(values int64, byte offsets)``.

    Memory: the offsets go into an ``array`` (4 bytes per integer, not a Python ``int`` object each), the
    file's bytes are read in place and the integers are decoded :data:`_CHUNK` at a time (the 9 MB 5-point
    model: 3.2 million integers, 65 MB at the peak where a list and whole-stream temporaries took 315 MB).
    """
    pos, end = 0, len(data)
    starts = array("i" if end < 2**31 else "q")   # byte offsets: 4 bytes each where they fit
    while pos < end:
        starts.append(pos)
        pos += 1 + (data[pos] & 0x0F)
    if pos > end:
        raise ValueError(f"{path}: not a dlib shape predictor file (file ends inside an integer at byte {starts[-1]})")
    off = np.frombuffer(starts, np.int32 if starts.typecode == "i" else np.int64)
    raw = np.frombuffer(data, np.uint8)   # read in place: no padded copy of the file
    values = np.empty(len(off), np.int64)
    for s in range(0, len(off), _CHUNK):
        at = off[s:s + _CHUNK]
        head = raw[at]
        n = head & 0x0F
        bad = np.flatnonzero((n > 8) | ((head & 0x70) != 0))
        if bad.size:
            k = s + bad[0]
            raise ValueError(f"{path}: not a dlib shape predictor file "
                             f"(bad integer header 0x{raw[off[k]]:02x} at byte {off[k]})")
        mag = np.zeros(len(at), np.uint64)
        for j in range(8):
            byte = raw[np.minimum(at + (1 + j), end - 1)]   # past an integer's own bytes: masked out below
            mag |= np.where(j < n, byte, 0).astype(np.uint64) << np.uint64(8 * j)
        big = np.flatnonzero(mag >= np.uint64(1 << 62))
        if big.size:
            raise ValueError(f"{path}: not a dlib shape predictor file (integer too large at byte {off[s + big[0]]})")
        signed = mag.astype(np.int64)
        values[s:s + _CHUNK] = np.where(head & 0x80, -signed, signed)
    return values, off


class _Cursor:
    """Walks the integer stream; every failure names the file and the byte offset."""

    def __init__(self, values: np.ndarray, off: np.ndarray, path: str, size: int) -> None:
        self.v, self.off, self.path, self.size, self.i = values, off, path, size, 0

    def fail(self, what: str, at: int | None = None) -> ValueError:
        i = self.i if at is None else at
        where = int(self.off[i]) if i < len(self.off) else self.size
        return ValueError(f"{self.path}: not a dlib shape predictor file ({what} at byte {where})")

    def take(self, k: int) -> np.ndarray:
        if self.i + k > len(self.v):
            raise self.fail("file ends early", len(self.v))
        out = self.v[self.i:self.i + k]
        self.i += k
        return out

    def count(self, what: str, low: int, high: int) -> int:
        at = self.i
        (n,) = self.take(1)
        if not low <= n <= high:
            raise self.fail(f"{what} is {n}, expected {low}..{high}", at)
        return int(n)

    def expect(self, value: int, what: str) -> None:
        at = self.i
        (n,) = self.take(1)
        if n != value:
            raise self.fail(f"{what} is {n}, expected {value}", at)

    def floats(self, k: int) -> np.ndarray:
        """``k`` floats (mantissa, exponent pairs) → ``float32``."""
        at = self.i
        pairs = self.take(2 * k).reshape(k, 2)
        bad = np.flatnonzero((np.abs(pairs[:, 1]) > 300) | (np.abs(pairs[:, 0]) >= 1 << 53))
        if bad.size:
            raise self.fail("bad float (or a non-finite one)", at + 2 * int(bad[0]))
        return np.ldexp(pairs[:, 0].astype(np.float64), pairs[:, 1]).astype(np.float32)

    def column(self, rows: int) -> np.ndarray:
        """A ``matrix<float,0,1>`` of ``rows`` values (its size written as ``-rows, -1``)."""
        self.expect(-rows, "matrix rows (written negated)")
        self.expect(-1, "matrix columns (written negated)")
        return self.floats(rows)


def _tree(c: _Cursor, n_coords: int, depth: list[int]) -> tuple[np.ndarray, np.ndarray, int]:
    """One regression tree → ``(splits (S, 3) float64 [idx1, idx2, thresh], leaves (S + 1, 2n), byte offset)``."""
    at = c.i
    s = c.count("number of splits", 1, _MAX_SPLITS)
    if not depth:
        if (s + 1) & s:
            raise c.fail(f"a tree of {s} splits is not complete (2^depth − 1)", at)
        depth.append(s)
    elif s != depth[0]:
        raise c.fail(f"a tree of {s} splits where the others have {depth[0]}", at)
    body_at = c.i
    body = c.take(4 * s).reshape(s, 4)
    if (body[:, :2] < 0).any():
        raise c.fail("negative feature-pixel index", body_at)
    thresh = np.ldexp(body[:, 2].astype(np.float64), body[:, 3])
    if (np.abs(body[:, 3]) > 300).any():
        raise c.fail("bad split threshold", at)
    c.expect(s + 1, "number of leaves")
    width = 2 + 2 * n_coords
    leaf_at = c.i
    raw = c.take((s + 1) * width).reshape(s + 1, width)
    if (raw[:, 0] != -n_coords).any() or (raw[:, 1] != -1).any():
        raise c.fail(f"a leaf is not a {n_coords}-value column", leaf_at)
    pairs = raw[:, 2:].reshape(s + 1, n_coords, 2)
    if (np.abs(pairs[..., 1]) > 300).any():
        raise c.fail("bad leaf value", leaf_at)
    leaves = np.ldexp(pairs[..., 0].astype(np.float64), pairs[..., 1]).astype(np.float32)
    return np.column_stack([body[:, :2], thresh]), leaves, int(c.off[body_at])


def read_shape_predictor(path: str | Path) -> ShapeModel:
    """Read ``shape_predictor_*.dat`` → :class:`ShapeModel`; ``ValueError`` (file, byte offset) otherwise."""
    path = Path(path)
    data = path.read_bytes()
    c = _Cursor(*_tokens(data, str(path)), str(path), len(data))
    c.expect(1, "shape_predictor version")
    at = c.i
    (nr,) = c.take(1)
    if not -2 * _MAX_LANDMARKS <= nr <= -2 or nr % 2:
        raise c.fail(f"initial shape rows {-nr} (written negated; an even number of coordinates expected)", at)
    n_coords = int(-nr)
    c.expect(-1, "initial shape columns (written negated)")
    initial = c.floats(n_coords).reshape(-1, 2)
    n_cascades = c.count("number of cascades", 1, _MAX_CASCADES)
    n_trees = 0
    depth: list[int] = []
    splits, leaves, tree_at = [], [], []
    for k in range(n_cascades):
        at = c.i
        t = c.count("number of trees", 1, _MAX_TREES)
        if k and t != n_trees:
            raise c.fail(f"a cascade of {t} trees where the first has {n_trees}", at)
        n_trees = t
        for _ in range(t):
            sp, lv, where = _tree(c, n_coords, depth)
            splits.append(sp)
            leaves.append(lv)
            tree_at.append(where)
    c.expect(n_cascades, "number of cascades in anchor_idx")
    anchors = []
    n_pixels = 0
    for k in range(n_cascades):
        at = c.i
        p = c.count("number of feature pixels", 1, _MAX_PIXELS)
        if k and p != n_pixels:
            raise c.fail(f"a cascade of {p} feature pixels where the first has {n_pixels}", at)
        n_pixels = p
        at = c.i
        idx = c.take(p)
        if ((idx < 0) | (idx >= n_coords // 2)).any():
            raise c.fail(f"anchor landmark outside 0..{n_coords // 2 - 1}", at)
        anchors.append(idx)
    c.expect(n_cascades, "number of cascades in deltas")
    deltas = []
    for _ in range(n_cascades):
        c.expect(n_pixels, "number of pixel offsets")
        deltas.append(c.floats(2 * n_pixels).reshape(n_pixels, 2))
    if c.i != len(c.v):
        raise c.fail(f"{len(data) - int(c.off[c.i])} trailing bytes")
    s = depth[0]
    sp_all = np.stack(splits).reshape(n_cascades, n_trees, s, 3)
    pix = sp_all[..., :2].astype(np.intp)
    outside = np.flatnonzero((pix >= n_pixels).reshape(n_cascades * n_trees, -1).any(1))
    if outside.size:
        raise ValueError(f"{path}: not a dlib shape predictor file (a split names a feature pixel ≥ {n_pixels} "
                         f"in the tree at byte {tree_at[outside[0]]})")
    return ShapeModel(initial_shape=initial, idx1=pix[..., 0], idx2=pix[..., 1],
                      thresh=sp_all[..., 2].astype(np.float32),
                      leaves=np.stack(leaves).reshape(n_cascades, n_trees, s + 1, n_coords // 2, 2),
                      anchor_idx=np.stack(anchors).astype(np.intp), deltas=np.stack(deltas))
