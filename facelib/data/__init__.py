"""Photos and data sets: what every lesson reads before it computes anything.

- :mod:`~facelib.data.images`: a photo read, converted once to ``(H, W, 3) uint8`` and saved
  atomically (all lessons);
- :mod:`~facelib.data.archives`: a verified archive extracted once, safely (under the data sets);
- :mod:`~facelib.data.datasets`: the course's faces (Olivetti, an LFW subset, your own identity
  folders) and the ImageNet sample (lessons 01–06);
- :mod:`~facelib.data.lfw`: LFW's verification protocol, View 1 / View 2 pairs by explicit file name (05);
- :mod:`~facelib.data.sampling`: "choosing the triplets": identity splits, pairs, triplets, P×K
  batches, augmentation (02–04).

``from facelib import data`` then ``data.load_olivetti()``, ``data.triplet_indices(...)``.
"""

from __future__ import annotations

from facelib.data.archives import extract_once, npz_arrays
from facelib.data.datasets import (
    IMAGENET_SAMPLE_ASSET,
    LFW_SUBSET_PEOPLE,
    FaceDataset,
    ImageNetSample,
    iter_imagenet_sample,
    load_identity_folder,
    load_imagenet_sample,
    load_lfw_subset,
    load_olivetti,
)
from facelib.data.images import (
    IMAGE_SUFFIXES,
    MAX_PIXELS,
    ImageLike,
    as_image_list,
    atomic_write,
    check_input_file,
    describe,
    read_image,
    save_image,
    temp_owner,
    to_rgb_uint8,
)
from facelib.data.lfw import LFWPairs, PairSet, lfw_pairs
from facelib.data.sampling import (
    pair_dataset,
    pair_indices,
    pk_batch_indices,
    pk_dataset,
    random_flip_shift,
    split_by_identity,
    triplet_dataset,
    triplet_indices,
)

__all__ = [
    "IMAGENET_SAMPLE_ASSET", "IMAGE_SUFFIXES", "LFW_SUBSET_PEOPLE", "MAX_PIXELS", "FaceDataset", "ImageLike",
    "ImageNetSample", "LFWPairs", "PairSet", "as_image_list", "atomic_write", "check_input_file", "describe",
    "extract_once", "iter_imagenet_sample",
    "lfw_pairs", "load_identity_folder", "load_imagenet_sample", "load_lfw_subset", "load_olivetti", "npz_arrays",
    "pair_dataset", "pair_indices", "pk_batch_indices", "pk_dataset", "random_flip_shift", "read_image", "save_image",
    "split_by_identity", "temp_owner", "to_rgb_uint8", "triplet_dataset", "triplet_indices",
]
