"""Convolutions: what deep ConvNets learn (lesson 06), and convolutions in 1D and 3D (lessons 08, 09).

- :mod:`~facelib.conv.arithmetic`: output sizes, parameter counts and plain-NumPy references, 1D and 3D;
- :mod:`~facelib.conv.features`: "What are deep ConvNets learning?": receptive fields, the top-9
  patches of a unit, activation maximisation, filter and feature-map plots; the image pools it
  searches in :mod:`~facelib.conv.patch_pools` (06);
- :mod:`~facelib.conv.ecg` and :mod:`~facelib.conv.signals`: an ECG recording, and the Conv1D beat
  detector and classifier trained on it (08);
- :mod:`~facelib.conv.mri` and :mod:`~facelib.conv.volumes`: an MRI template, and the Conv3D models
  on its tissue and on video (09).

``from facelib import conv`` then ``conv.conv1d_output_length(14, 5)``, ``conv.receptive_field(model, layer)``.
"""

from __future__ import annotations

from facelib.conv.arithmetic import (
    conv1d_numpy,
    conv1d_output_length,
    conv3d_numpy,
    conv3d_output_shape,
    conv_param_count,
)
from facelib.conv.ecg import ECGRecord, bandpass, load_electrocardiogram, load_mitbih_record, time_split
from facelib.conv.features import (
    ReceptiveField,
    UnitPeaks,
    activation_maximisation,
    layer_activations,
    patch_mosaic,
    plot_feature_maps,
    plot_filters,
    plot_top9_grid,
    receptive_field,
    top_activating_patches,
    unit_peaks,
)
from facelib.conv.mri import (
    MNI152,
    MNI152_SHAPE,
    TISSUES,
    add_scan_noise,
    centre_slices,
    load_mni152,
    sample_patches,
    slab_split,
    tissue_labels,
)
from facelib.conv.patch_pools import imagenet_pool, patch_pool
from facelib.conv.signals import (
    DETECTOR_STRIDE,
    DETECTOR_WINDOW,
    BeatMatch,
    beat_classifier,
    beat_detector,
    beat_probabilities,
    detect_beats,
    make_detector_windows,
    match_beats,
    train_beat_classifier,
    train_beat_detector,
)
from facelib.conv.volumes import (
    DIRECTIONS,
    SHAPES,
    make_motion_videos,
    make_shape_patches,
    run_shape_experiment,
    run_tissue_experiment,
    run_video_experiment,
    shape_masks,
    tissue_classifier_2d,
    tissue_classifier_3d,
    video_conv3d,
    video_framewise_conv2d,
)

__all__ = [
    "DETECTOR_STRIDE", "DETECTOR_WINDOW", "DIRECTIONS", "MNI152", "MNI152_SHAPE", "SHAPES", "TISSUES",
    "activation_maximisation", "add_scan_noise", "bandpass", "beat_classifier", "beat_detector",
    "beat_probabilities", "centre_slices", "conv1d_numpy", "conv1d_output_length", "conv3d_numpy",
    "conv3d_output_shape", "conv_param_count", "detect_beats", "imagenet_pool", "layer_activations",
    "load_electrocardiogram", "load_mitbih_record", "load_mni152", "make_detector_windows", "make_motion_videos",
    "make_shape_patches", "match_beats", "patch_mosaic", "patch_pool", "plot_feature_maps", "plot_filters",
    "plot_top9_grid", "receptive_field", "run_shape_experiment", "run_tissue_experiment", "run_video_experiment",
    "sample_patches", "shape_masks", "slab_split", "time_split", "tissue_classifier_2d", "tissue_classifier_3d",
    "tissue_labels", "top_activating_patches", "train_beat_classifier", "train_beat_detector", "video_conv3d",
    "video_framewise_conv2d", "BeatMatch", "ECGRecord", "ReceptiveField", "UnitPeaks", "unit_peaks",
]
