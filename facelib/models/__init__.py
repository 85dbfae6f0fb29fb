"""Model builders, one file per architecture, each with its own preprocessing beside it.

- :func:`small_embedding_net` (``models/small.py``): a compact ConvNet mapping a face to a unit
  128-d encoding, trained from scratch in the Siamese lessons.
- :func:`facenet` (``models/inception_resnet.py``): Inception-ResNet-v1 with pretrained FaceNet weights;
  its input (preprocessing modes, their thresholds, ``preprocess``) in ``models/facenet_input.py``.
- dlib's face-recognition ResNet (``models/dlib_resnet.py``), the reader of dlib's file
  (``models/dlib_reader.py``) and dlib's face chip (``models/dlib_chip.py``); dlib's 5-point shape
  predictor, the regression-tree cascade that places the chip's landmarks (``models/dlib_shape.py``,
  its file reader ``models/dlib_shape_reader.py``).
- :func:`vgg19_features` (``models/vgg.py``): VGG19 feature extractor for style transfer (its
  Torch-7 weights read by ``models/torch_legacy.py``).
- ``models/geometry.py``: the similarity transform that both face models' alignment use.

Nothing here imports the lesson packages (``facelib.faces``, ``style``, ...): they import the models.

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
    "ShapePredictor": "dlib_shape",
    "load_shape_predictor": "dlib_shape",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"facelib.models.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'facelib.models' has no attribute {name!r}")
