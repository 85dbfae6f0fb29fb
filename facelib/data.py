"""Old home of images, data sets and samplers; kept so that ``from facelib import data`` still works.

Everything that lived here moved (and is re-exported here unchanged):

- to :mod:`facelib.images`: ``read_image``, ``to_rgb_uint8``, ``save_image``, ``atomic_write``,
  ``ImageLike``, ``IMAGE_SUFFIXES``;
- to :mod:`facelib.datasets`: ``FaceDataset``, ``load_olivetti``, ``load_lfw_subset``,
  ``load_identity_folder``, ``LFW_SUBSET_PEOPLE``;
- to :mod:`facelib.sampling`: ``split_by_identity``, ``pair_indices``, ``triplet_indices``,
  ``pk_batch_indices``, ``pair_dataset``, ``triplet_dataset``, ``pk_dataset``, ``random_flip_shift``.

New code imports from those modules.
"""

from __future__ import annotations

from facelib.datasets import (LFW_SUBSET_PEOPLE, FaceDataset, load_identity_folder, load_lfw_subset,
                              load_olivetti)
from facelib.images import IMAGE_SUFFIXES, ImageLike, atomic_write, read_image, save_image, to_rgb_uint8
from facelib.sampling import (pair_dataset, pair_indices, pk_batch_indices, pk_dataset, random_flip_shift,
                              split_by_identity, triplet_dataset, triplet_indices)

__all__ = [
    "FaceDataset", "IMAGE_SUFFIXES", "ImageLike", "LFW_SUBSET_PEOPLE", "atomic_write", "load_identity_folder",
    "load_lfw_subset", "load_olivetti", "pair_dataset", "pair_indices", "pk_batch_indices", "pk_dataset",
    "random_flip_shift", "read_image", "save_image", "split_by_identity", "to_rgb_uint8", "triplet_dataset",
    "triplet_indices",
]
