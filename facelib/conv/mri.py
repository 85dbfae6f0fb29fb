"""The brain MRI template of the 3D-convolution lesson: loading, tissue labels, patches.

Lecture idea (week 4, "1D and 3D generalizations"): a CT/MRI scan is a 3D input
``n_1×n_2×n_3×n_c``; a 3D convolution sees a voxel *and* its neighbours along all three axes.
This module holds the data side of lesson 09 (:mod:`facelib.conv.volumes` trains the models on it):

- :func:`load_mni152`: the MNI ICBM152 2009 template (T1 image, grey- and white-matter
  probability maps, 197×233×189 voxels of 1 mm), read with ``nibabel``, as an :class:`MNI152`.
- :func:`tissue_labels`: the tissue at each voxel (0 other — cerebro-spinal fluid and
  background —, 1 grey, 2 white matter); :func:`add_scan_noise`: a noisier scan.
- :func:`slab_split`, :func:`sample_patches`: 3D patches labelled with the tissue at their centre,
  with whole brain *regions* (slabs) held out for testing; :func:`centre_slices`: their middle 2D
  slice, for a 2D baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MNI152",
    "MNI152_SHAPE",
    "TISSUES",
    "load_mni152",
    "tissue_labels",
    "add_scan_noise",
    "slab_split",
    "sample_patches",
    "centre_slices",
]

#: Voxel grid of the MNI ICBM152 2009 template at 1 mm (x: left→right, y: back→front, z: down→up).
MNI152_SHAPE = (197, 233, 189)
#: Tissue label names, in label order.
TISSUES = ("other", "grey", "white")


@dataclass(frozen=True)
class MNI152:
    """The MNI ICBM152 2009 template on its 197×233×189 grid of 1 mm voxels.

    Attributes:
        t1: ``(197, 233, 189) float32`` T1-weighted intensity scaled to [0, 1] (skull removed:
            0 outside the brain).
        gm: ``(197, 233, 189) float32`` grey-matter probability in [0, 1].
        wm: ``(197, 233, 189) float32`` white-matter probability in [0, 1].
        affine: ``(4, 4) float64`` voxel → millimetre (MNI space) transform.
        zooms: voxel size in mm, ``(1.0, 1.0, 1.0)``.
    """

    t1: np.ndarray
    gm: np.ndarray
    wm: np.ndarray
    affine: np.ndarray
    zooms: tuple[float, float, float]

    @property
    def shape(self) -> tuple[int, int, int]:
        """The grid shape, ``(197, 233, 189)``."""
        return tuple(self.t1.shape)

    @property
    def brain_mask(self) -> np.ndarray:
        """``(197, 233, 189) bool``: voxels inside the (skull-stripped) brain, ``t1 > 0``."""
        return self.t1 > 0


def _read_nifti(path: Path, what: str) -> tuple[np.ndarray, Any]:
    import nibabel as nib

    if not path.is_file():
        raise FileNotFoundError(f"{what} NIfTI file {path} not found (run `facelib fetch {what}`)")
    img: Any = nib.load(str(path))  # a Nifti1Image (nibabel's stubs only know the base class)
    if tuple(img.shape) != MNI152_SHAPE:
        raise ValueError(f"{what} {path}: expected a {MNI152_SHAPE} volume, got shape {tuple(img.shape)}")
    return np.asarray(img.dataobj, dtype=np.float32), img


def load_mni152(paths: dict[str, str | Path] | None = None) -> MNI152:
    """Load the T1 template and the grey/white-matter maps (assets ``mni152-t1/gm/wm``).

    The files (from the ``nilearn==0.14.1`` wheel, fetched by the asset registry; nilearn itself
    is not needed) store values 0–255; they are divided by 255 here.

    Args:
        paths: optional ``{"t1": ..., "gm": ..., "wm": ...}`` file paths.

    Returns:
        an :class:`MNI152`. Raises ``ValueError`` if a header's shape is not 197×233×189.
    """
    from facelib import assets

    paths = dict(paths or {})
    arrays = {}
    img = None
    for key in ("t1", "gm", "wm"):
        p = Path(paths[key]) if key in paths else assets.fetch(f"mni152-{key}")
        arrays[key], img = _read_nifti(p, f"mni152-{key}")
        arrays[key] /= 255.0
    assert img is not None
    zooms = tuple(float(z) for z in img.header.get_zooms()[:3])
    return MNI152(arrays["t1"], arrays["gm"], arrays["wm"], np.asarray(img.affine, dtype=np.float64), zooms)  # type: ignore[arg-type]


def tissue_labels(gm: np.ndarray, wm: np.ndarray) -> np.ndarray:
    """Hard tissue label per voxel: ``argmax(1 - gm - wm, gm, wm)``.

    0 = other (cerebro-spinal fluid, or outside the brain), 1 = grey matter, 2 = white matter:
    the most probable of the three (ties go to the lower label).

    Args:
        gm, wm: probability volumes of the same shape, values in [0, 1].

    Returns:
        ``int64`` array of that shape.
    """
    gm = np.asarray(gm, dtype=np.float32)
    wm = np.asarray(wm, dtype=np.float32)
    if gm.shape != wm.shape:
        raise ValueError(f"gm and wm must have the same shape, got {gm.shape} and {wm.shape}")
    return np.argmax(np.stack([1.0 - gm - wm, gm, wm]), axis=0).astype(np.int64)


def add_scan_noise(t1: np.ndarray, sigma: float, seed: int = 0, mask: np.ndarray | None = None) -> np.ndarray:
    """``t1 + N(0, sigma²)`` on the voxels of ``mask`` (default ``t1 > 0``): a noisier scan.

    The template averages 152 brains, so it is far cleaner than one scan; with noise a single
    voxel's brightness no longer tells the tissue and the neighbourhood (the third axis) matters.
    Returns a ``float32`` array of ``t1``'s shape.
    """
    t1 = np.asarray(t1, dtype=np.float32)
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    mask = t1 > 0 if mask is None else np.asarray(mask, dtype=bool)
    rng = np.random.default_rng(seed)
    return (t1 + rng.normal(0.0, sigma, t1.shape).astype(np.float32) * mask).astype(np.float32)


def slab_split(shape: Sequence[int], axis: int = 1, test: tuple[float, float] = (0.45, 0.65),
               margin: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Hold out a brain *region*: the slab ``test`` (fractions of the axis length) along ``axis``.

    Default: planes ``y`` in ``[0.45, 0.65)`` of 233 (a coronal band through the middle of the
    brain, both hemispheres). Training centres keep ``margin`` planes away from the slab so that no
    training patch of size ``2·margin + 1`` overlaps a test voxel.

    Returns:
        ``(train, test)``: two ``(shape[axis],) bool`` masks over the planes of ``axis``.
    """
    if not 0 <= axis < len(shape):
        raise ValueError(f"axis must be in [0, {len(shape)}), got {axis}")
    n = int(shape[axis])
    lo, hi = int(test[0] * n), int(test[1] * n)
    planes = np.arange(n)
    test_mask = (planes >= lo) & (planes < hi)
    train_mask = (planes < lo - margin) | (planes >= hi + margin)
    return train_mask, test_mask


def sample_patches(volume: np.ndarray, labels: np.ndarray, n_per_class: int, *, size: int = 7,
                   planes: np.ndarray | None = None, axis: int = 1, mask: np.ndarray | None = None,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cubic patches labelled with the tissue at their centre, ``n_per_class`` of each label.

    Centres are drawn (without replacement) among voxels where ``mask`` is true (default: the
    brain, ``volume > 0``), whose plane along ``axis`` is in ``planes`` (from :func:`slab_split`),
    and far enough from the border for a whole patch. Classes are balanced, so chance is 1/3.

    Args:
        volume: ``(n_1, n_2, n_3) float32`` (e.g. the T1 image).
        labels: ``(n_1, n_2, n_3) int`` tissue labels (:func:`tissue_labels`).
        size: patch side (odd).

    Returns:
        ``(x, y, centres)``: ``(m, size, size, size, 1) float32``, ``(m,) int64``,
        ``(m, 3) int64``, shuffled, ``m = n_per_class · n_labels``.
    """
    volume = np.asarray(volume, dtype=np.float32)
    labels = np.asarray(labels)
    if volume.ndim != 3:
        raise ValueError(f"volume must be 3D (n_1, n_2, n_3), got shape {volume.shape}")
    if labels.shape != volume.shape:
        raise ValueError(f"labels must have the volume's shape {volume.shape}, got {labels.shape}")
    if size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd number, got {size}")
    r = size // 2
    rng = np.random.default_rng(seed)
    ok = (volume > 0) if mask is None else np.asarray(mask, dtype=bool)
    ok = ok.copy()
    for ax, n in enumerate(volume.shape):
        inside = np.zeros(n, dtype=bool)
        inside[r: n - r] = True
        if ax == axis and planes is not None:
            inside &= np.asarray(planes, dtype=bool)
        shape = [1, 1, 1]
        shape[ax] = n
        ok &= inside.reshape(shape)
    centres = []
    ys = []
    for c in np.unique(labels):
        idx = np.argwhere(ok & (labels == c))
        if len(idx) < n_per_class:
            raise ValueError(f"only {len(idx)} voxels of label {c} are available, asked for n_per_class={n_per_class}")
        centres.append(idx[rng.choice(len(idx), n_per_class, replace=False)])
        ys.append(np.full(n_per_class, c, dtype=np.int64))
    cen = np.concatenate(centres)
    y = np.concatenate(ys)
    order = rng.permutation(len(y))
    cen, y = cen[order], y[order]
    offs = np.arange(-r, r + 1)
    i = cen[:, 0, None, None, None] + offs[None, :, None, None]
    j = cen[:, 1, None, None, None] + offs[None, None, :, None]
    k = cen[:, 2, None, None, None] + offs[None, None, None, :]
    x = volume[i, j, k][..., None]
    return x.astype(np.float32), y, cen.astype(np.int64)


def centre_slices(patches: np.ndarray, axis: int = 3) -> np.ndarray:
    """The middle 2D slice of each 3D patch, for the 2D baseline.

    Args:
        patches: ``(m, s, s, s, c)``.
        axis: the patch axis to cut across (3 = the volume's z axis: an axial slice).

    Returns:
        ``(m, s, s, c)``.
    """
    p = np.asarray(patches)
    if p.ndim != 5:
        raise ValueError(f"patches must have shape (m, s, s, s, c), got {p.shape}")
    if axis not in (1, 2, 3):
        raise ValueError(f"axis must be 1, 2 or 3, got {axis}")
    return np.take(p, p.shape[axis] // 2, axis=axis)
