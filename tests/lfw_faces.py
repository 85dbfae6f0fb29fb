"""Shared, cached LFW-subset fixtures of the face tests (computed once per test session)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from facelib import assets


@functools.lru_cache(maxsize=1)
def lfw_paths() -> tuple[Path, ...]:
    """The 100 photos of the LFW subset (10 people × 10), sorted by person then file."""
    ps = tuple(sorted((assets.fetch("lfw-subset") / "lfw").glob("*/*.jpg")))
    assert len(ps) == 100
    return ps


def lfw_labels() -> np.ndarray:
    """``(100,)`` person index of each of :func:`lfw_paths`."""
    paths = lfw_paths()
    names = sorted({p.parent.name for p in paths})
    return np.array([names.index(p.parent.name) for p in paths])


@functools.lru_cache(maxsize=1)
def lfw_encodings() -> np.ndarray:
    """All 100 photos through the database pipeline (MTCNN + alignment + FaceNet), course preprocessing."""
    from facelib.faces import FaceDatabase, default_model

    enc = FaceDatabase(default_model()).encode(list(lfw_paths()), progress=False)
    enc.setflags(write=False)
    return enc
