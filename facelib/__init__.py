"""facelib: the helper package of the face recognition & neural style transfer course companion.

Seven sub-packages, one per group of lecture ideas, each with a public face
(``from facelib import faces`` then ``faces.verify(...)``):

- :mod:`facelib.data`: photos and data sets (Olivetti, LFW, ImageNet sample), pairs and triplets;
- :mod:`facelib.faces`: one-shot learning, Siamese networks, the triplet loss, verification and
  recognition, the face database and the state-of-the-art encoders;
- :mod:`facelib.style`: neural style transfer: the lecture's costs and ``stylize``;
- :mod:`facelib.conv`: what deep ConvNets learn; 1D and 3D convolutions;
- :mod:`facelib.live`: the happy house's live webcam door;
- :mod:`facelib.models`: one architecture per file, each with its own preprocessing;
- :mod:`facelib.checks`: the exercises' self-checks.

Plumbing at the top: ``config`` (settings from the environment), ``device`` (CPU/GPU set-up),
``registry`` (the list of weights and data), ``assets`` (verified downloads),
``progress`` (progress bars), ``widgets`` (notebook controls),
``cli`` (the ``facelib`` command) and ``classroom`` (a teacher's build of every lesson).
CONTRIBUTING.md has the map. Sub-packages are imported on first use, so ``import facelib`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from facelib import _moved
from facelib._quiet import quiet_environment

quiet_environment()  # before anything imports TensorFlow: its C++ runtime prints at load time
_moved.install()  # the old module paths of facelib 0.1 (facelib/_moved.py), until 0.3

__version__ = "0.2.0"

_SUBMODULES = {
    "assets", "checks", "classroom", "cli", "config", "conv", "data", "device", "faces", "live", "models",
    "progress", "registry", "style", "widgets",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES or f"facelib.{name}" in _moved.MOVED:
        return importlib.import_module(f"facelib.{name}")
    raise AttributeError(f"module 'facelib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
