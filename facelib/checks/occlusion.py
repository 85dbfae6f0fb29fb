"""Self-check for lesson 05's "going further" exercise: the occlusion loop behind "why did it match?".

The student writes ``occlusion_deltas(encode, face, other, patch, stride, fill=128)``: a grey
``patch × patch`` square at every place of ``face`` (top-left corners ``0, stride, …`` while it
fits), each occluded copy encoded, and the change of its distance to the encoding ``other``. The
check hands it a small, fully known network instead of FaceNet — the face cut into 4×4-pixel blocks,
each block's mean grey level, a fixed random matrix, normalised — and compares with the same
loop written here in plain NumPy, on faces and patches where the usual slips show.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facelib.checks.core import Case, Verdict, compare, report

__all__ = ["block_encoder", "check_occlusion_deltas"]

_SEED = 29


def block_encoder(size: int = 24, dim: int = 16) -> Callable[[np.ndarray], np.ndarray]:
    """The check's small network: ``(m, size, size, 3) uint8 → (m, dim)`` unit rows."""
    w = np.random.default_rng(_SEED).normal(size=((size // 4) ** 2, dim))

    def encode(faces: np.ndarray) -> np.ndarray:
        x = np.asarray(faces, np.float64)
        if x.ndim != 4 or x.shape[1:] != (size, size, 3):
            raise ValueError(f"the check's network takes (m, {size}, {size}, 3) faces; got {x.shape}")
        grey = x.mean(-1).reshape(len(x), size // 4, 4, size // 4, 4).mean((2, 4)).reshape(len(x), -1) / 255
        e = grey @ w
        return e / np.linalg.norm(e, axis=1, keepdims=True)

    return encode


def _reference(encode: Callable[[np.ndarray], np.ndarray], face: np.ndarray, other: np.ndarray, patch: int,
               stride: int, fill: int) -> np.ndarray:
    h, w = face.shape[:2]
    base = np.linalg.norm(encode(face[None])[0] - other)
    rows = []
    for y in range(0, h - patch + 1, stride):
        row = []
        for x in range(0, w - patch + 1, stride):
            hidden = face.copy()
            hidden[y:y + patch, x:x + patch] = fill
            row.append(np.linalg.norm(encode(hidden[None])[0] - other) - base)
        rows.append(row)
    return np.array(rows)


def check_occlusion_deltas(occlusion_deltas: Callable) -> Verdict:
    """Check ``occlusion_deltas(encode, face, other, patch, stride, fill=128) -> (rows, cols)`` Δd."""

    def cases() -> list[Case]:
        rng = np.random.default_rng(_SEED)
        encode = block_encoder()
        faces = rng.integers(0, 256, size=(2, 24, 24, 3)).astype(np.uint8)
        other = encode(faces[1:])[0]
        out = []
        for patch, stride, fill in ((8, 4, 128), (8, 8, 128), (12, 5, 0), (4, 4, 255)):
            face = faces[0].copy()
            expected = _reference(encode, face, other, patch, stride, fill)
            got = occlusion_deltas(encode, face, other, patch, stride, fill)
            out.append(compare(f"patch {patch}, stride {stride}, fill {fill}: Δd map", expected, got,
                               rtol=1e-6, atol=1e-9))
            if not np.array_equal(face, faces[0]):
                out.append(Case("the face passed in", "unchanged", "changed", False,
                                "grey a copy of the face (face.copy()), not the face itself"))
        return out

    return report("check_occlusion_deltas", cases)
