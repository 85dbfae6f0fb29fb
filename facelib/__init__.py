"""facelib: the helper package of the face recognition & neural style transfer course companion.

One module per lecture idea: ``sampling`` (identity splits, pairs, triplets), ``losses`` (triplet
loss), ``siamese``, ``verification`` (``verify``/``who_is_it``), ``face_database`` (its file format in
``face_database_file``), ``detect``, ``evaluation``, ``encoders``, ``convnet_features`` (what ConvNets
learn; its search pools in ``patch_pools``), ``nst`` (content/style costs) and ``style_transfer`` (with ``style_*``),
``live`` (the webcam door; its parts in ``live_*``), ``conv_arithmetic``, ``signals``/``volumes``
(1D/3D convolutions; their data in ``ecg``/``mri``), plus plumbing (``config``, ``device``, ``assets``,
``archives``, ``images``, ``datasets``, ``lfw_pairs``, ``cli``). ``data`` and ``visualize`` are the old
names, kept as re-exports. See CONTRIBUTING.md for the map.
Sub-modules are imported on first use, so ``import facelib`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from facelib._quiet import quiet_environment

quiet_environment()  # before anything imports TensorFlow: its C++ runtime prints at load time

__version__ = "0.1.0"

_SUBMODULES = {
    "assets", "checks", "classroom", "cli", "config", "conv_arithmetic", "convnet_features", "data", "datasets",
    "detect", "device", "evaluation", "face_database", "images", "losses", "models", "nst", "sampling", "siamese",
    "signals", "verification", "visualize", "volumes", "widgets", "encoders", "style_transfer", "live", "progress",
    "archives", "ecg", "lfw_pairs", "mri", "patch_pools", "face_database_file", "live_clip", "live_draw",
    "live_frames", "live_loop", "live_processor", "live_widget", "style_images", "style_optim", "style_presets",
    "encoder_cache",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"facelib.{name}")
    raise AttributeError(f"module 'facelib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
