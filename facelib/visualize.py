"""Old name of lesson 06's module; kept so that ``from facelib import visualize`` still works.

Everything moved, unchanged, to :mod:`facelib.convnet_features` ("What are deep ConvNets
learning?": receptive fields, the patch pool, top-9 activating patches, activation
maximisation, filter and feature-map plots) and is re-exported here. New code imports from there
(the patch pools ``imagenet_pool`` and ``patch_pool`` now live in :mod:`facelib.patch_pools`).
"""

from __future__ import annotations

from facelib.convnet_features import (
    ReceptiveField,
    activation_maximisation,
    imagenet_pool,
    layer_activations,
    patch_mosaic,
    patch_pool,
    plot_feature_maps,
    plot_filters,
    plot_top9_grid,
    receptive_field,
    top_activating_patches,
)

__all__ = [
    "ReceptiveField", "activation_maximisation", "imagenet_pool", "layer_activations", "patch_mosaic", "patch_pool",
    "plot_feature_maps", "plot_filters", "plot_top9_grid", "receptive_field", "top_activating_patches",
]
