"""dlib's shape predictor in NumPy: landmarks by a cascade of regression trees (Kazemi & Sullivan 2014).

"One millisecond face alignment with an ensemble of regression trees" places a face's landmarks by
starting from the mean shape inside the face box and refining it ``C`` times. At each step
(a *cascade*), the current shape decides where ``P`` feature pixels lie: pixel ``i`` hangs from a
landmark at a fixed offset, rotated and scaled with the similarity that takes the mean shape to the
current one, so the features follow the face. Their grey levels go through ``T`` regression trees;
each tree compares pixel-intensity *differences* ``I[a] − I[b] > θ`` on its way down and returns a
shape increment from its leaf; the increments of all trees are added to the shape.

This is the inference of ``dlib::shape_predictor`` (dlib ``image_processing/shape_predictor.h``,
read, not copied), with dlib's details kept so the landmarks are dlib's:

- shapes live in the box's unit square; the box ``(left, top, right, bottom)`` (dlib's inclusive
  rectangle, ``right = left + width − 1``) maps ``(0, 0)`` to ``(left, top)`` and ``(1, 1)`` to
  ``(right, bottom)``;
- a feature pixel's position is rounded to the nearest pixel (halves up); one outside the photo
  reads 0; a colour pixel's intensity is ``(r + g + b) // 3``;
- the shape and the tree arithmetic are ``float32``, the trees' increments added one after another;
- the landmarks dlib returns are whole pixels (:func:`predict_landmarks` with ``subpixel=False``).

The model is read by :mod:`facelib.models.dlib_shape_reader` (no dlib at run time);
tests/test_dlib_shape.py compares with ``dlib.shape_predictor`` on LFW photos and boxes.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from facelib.models.dlib_shape_reader import ShapeModel, read_shape_predictor
from facelib.models.geometry import similarity_transform

__all__ = ["ShapePredictor", "intensity", "load_shape_predictor"]


def intensity(rgb: np.ndarray) -> np.ndarray:
    """dlib's grey level of an ``(H, W, 3) uint8`` photo (``(r + g + b) // 3``) or of an ``(H, W)`` one."""
    img = np.asarray(rgb)
    if img.ndim == 2:
        return img.astype(np.float32)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB or (H, W) grey photo; got shape {img.shape}")
    return (img.astype(np.uint16).sum(2) // 3).astype(np.float32)


def _round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5)


class ShapePredictor:
    """A loaded shape predictor: ``predictor(rgb, box)`` → the ``(n, 2)`` landmarks ``(x, y)``."""

    def __init__(self, model: ShapeModel) -> None:
        self.model = model

    @property
    def n_landmarks(self) -> int:
        """How many landmarks it places (5 for ``shape_predictor_5_face_landmarks``)."""
        return self.model.n_landmarks

    def __call__(self, rgb: np.ndarray, box: tuple[float, float, float, float] | np.ndarray, *,
                 subpixel: bool = False) -> np.ndarray:
        """Landmarks of the face in ``box`` (``left, top, right, bottom``, dlib's inclusive rectangle).

        Args:
            rgb: ``(H, W, 3) uint8`` photo (or ``(H, W)`` grey levels).
            box: the face box as dlib's detector gives it.
            subpixel: return the landmarks unrounded; ``False`` (the default) rounds them to whole
                pixels, as dlib's ``full_object_detection`` does.

        Returns:
            ``(n, 2) float64`` ``(x, y)`` in photo pixels.
        """
        box = np.asarray(box, np.float64)
        if box.shape != (4,) or not np.all(np.isfinite(box)) or box[2] < box[0] or box[3] < box[1]:
            raise ValueError(f"box must be (left, top, right, bottom) with right >= left, bottom >= top; got {box}")
        grey = intensity(rgb)
        shape = self._refine(grey, box)
        points = self._to_photo(shape, box)
        return points if subpixel else _round_half_up(points)

    @staticmethod
    def _to_photo(shape: np.ndarray, box: np.ndarray) -> np.ndarray:
        """Unit-square ``(k, 2)`` points → photo pixels (dlib's ``unnormalizing_tform``)."""
        left, top, right, bottom = box
        return np.column_stack([left + (right - left) * shape[:, 0].astype(np.float64),
                                top + (bottom - top) * shape[:, 1].astype(np.float64)])

    def _features(self, grey: np.ndarray, box: np.ndarray, shape: np.ndarray, k: int) -> np.ndarray:
        """The ``P`` feature-pixel intensities of cascade ``k`` for the current ``shape``."""
        m = self.model
        tform = similarity_transform(m.initial_shape, shape)[:, :2].astype(np.float32)
        pts = m.deltas[k] @ tform.T + shape[m.anchor_idx[k]]  # float32, as dlib computes it
        xy = _round_half_up(self._to_photo(pts, box)).astype(np.int64)
        h, w = grey.shape
        inside = (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
        values = np.zeros(len(xy), np.float32)
        values[inside] = grey[xy[inside, 1], xy[inside, 0]]
        return values

    def _refine(self, grey: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The cascades: ``(n, 2) float32`` shape in the box's unit square."""
        m = self.model
        shape = m.initial_shape.copy()
        trees = np.arange(m.idx1.shape[1])
        n_splits = m.idx1.shape[2]
        for k in range(m.idx1.shape[0]):
            feat = self._features(grey, box, shape, k)
            node = np.zeros(len(trees), np.intp)
            while node[0] < n_splits:  # complete trees of one depth: every tree reaches a leaf together
                diff = feat[m.idx1[k, trees, node]] - feat[m.idx2[k, trees, node]]
                node = np.where(diff > m.thresh[k, trees, node], 2 * node + 1, 2 * node + 2)
            steps = m.leaves[k, trees, node - n_splits]  # (T, n, 2)
            # one tree after another, in float32, as dlib adds them (cumsum is sequential)
            shape = np.cumsum(np.concatenate([shape[None], steps]), axis=0, dtype=np.float32)[-1]
        return shape


@functools.lru_cache(maxsize=2)
def load_shape_predictor(path: str | Path = "registry") -> ShapePredictor:
    """The shape predictor read from ``path`` (``"registry"``: the asset ``dlib-shape-predictor-5``)."""
    if str(path) == "registry":
        from facelib import assets

        path = assets.fetch("dlib-shape-predictor-5")
    return ShapePredictor(read_shape_predictor(path))
