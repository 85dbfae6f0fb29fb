"""Model builders, one file per architecture.

- :func:`small_embedding_net` (``models/small.py``): a compact ConvNet mapping a face to a unit
  128-d encoding, trained from scratch in the Siamese lessons.
- :func:`facenet` (``models/inception_resnet.py``): Inception-ResNet-v1 with pretrained FaceNet weights.
- :func:`vgg19_features` (``models/vgg.py``): VGG19 feature extractor for style transfer.

Names are resolved lazily so that importing one builder does not build or import the others.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "small_embedding_net": "small",
    "L2Normalize": "small",
    "facenet": "inception_resnet",
    "vgg19_features": "vgg",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"facelib.models.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'facelib.models' has no attribute {name!r}")
