"""The old module paths of facelib 0.1, kept for one release: one table and the finder that serves it.

facelib 0.2 moved its flat modules into sub-packages (CONTRIBUTING.md, "The layout"). Every public
name an old module offered still imports from its old path — ``from facelib.verification import
verify``, ``facelib.nst.compute_layer_style_cost`` — and works, with a :class:`DeprecationWarning`
that names the new path (the sub-package's public face where the name is there,
``facelib.faces.verify``, else its module). Nothing else in the package knows the old paths: no
shim module stands in the tree. The table and this module go in facelib 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Any

__all__ = ["MOVED", "install", "new_path"]

#: Old module → {the module where its names live now: the names, space-separated}. The first entry
#: is the old module's successor.
MOVED: dict[str, dict[str, str]] = {
    "facelib.archives": {
        "facelib.data.archives": "extract_once",
    },
    "facelib.conv_arithmetic": {
        "facelib.conv.arithmetic": (
            "conv1d_numpy conv1d_output_length conv3d_numpy conv3d_output_shape "
            "conv_param_count"
        ),
    },
    "facelib.convnet_features": {
        "facelib.conv.features": (
            "Preprocess ReceptiveField activation_maximisation layer_activations patch_mosaic "
            "plot_feature_maps plot_filters plot_top9_grid receptive_field "
            "top_activating_patches"
        ),
        "facelib.conv.patch_pools": "imagenet_pool patch_pool",
    },
    "facelib.datasets": {
        "facelib.data.datasets": (
            "FaceDataset IMAGENET_SAMPLE_ASSET ImageNetSample LFW_SUBSET_PEOPLE "
            "load_identity_folder load_imagenet_sample load_lfw_subset load_olivetti"
        ),
        "facelib.data.lfw": "LFWPairs PairSet lfw_pairs",
    },
    "facelib.detect": {
        "facelib.faces.detect": (
            "ALIGN_MARGIN BOX_MARGIN CENTRE_FRACTION FALLBACK_CONFIDENCE Face KEYPOINT_NAMES "
            "NoFaceFoundError TEMPLATE_5 align centre_keypoints crop_box detect_and_align "
            "detect_face detect_faces detect_faces_batch main_face main_faces warp_to_template"
        ),
        "facelib.models.geometry": "similarity_transform",
    },
    "facelib.ecg": {
        "facelib.conv.ecg": "ECGRecord bandpass load_electrocardiogram load_mitbih_record time_split",
    },
    "facelib.encoder_cache": {
        "facelib.faces.encoder_cache": "Detection EncodingStore detect_photos photo_key",
    },
    "facelib.encoders": {
        "facelib.faces.encoders": (
            "DLIB_ALIGNMENTS ENCODERS Encoder FUSION_WEIGHTS FusedEncoder NetworkEncoder "
            "THRESHOLDS load"
        ),
        "facelib.faces.detect": "CENTRE_FRACTION centre_keypoints warp_to_template",
        "facelib.faces.encoder_cache": "Detection detect_photos",
    },
    "facelib.evaluation": {
        "facelib.faces.evaluation": (
            "accepts all_pairs auc best_threshold encode equal_error_rate one_shot_accuracy "
            "pair_distances pairwise_distances roc_curve verification_accuracy"
        ),
    },
    "facelib.face_database": {
        "facelib.faces.database": "FaceDatabase",
        "facelib.faces.database_file": (
            "ENCODER_WIDTHS ENCODING_WIDTHS FaceDatabaseWarning SAME_FACE_DISTANCE "
            "THRESHOLD_RANGE check_threshold"
        ),
    },
    "facelib.face_database_file": {
        "facelib.faces.database_file": (
            "ENCODER_WIDTHS ENCODING_WIDTHS FaceDatabaseWarning SAME_FACE_DISTANCE "
            "THRESHOLD_RANGE check_threshold"
        ),
    },
    "facelib.images": {
        "facelib.data.images": "IMAGE_SUFFIXES ImageLike atomic_write describe read_image save_image to_rgb_uint8",
    },
    "facelib.lfw_pairs": {
        "facelib.data.lfw": "LFWPairs PairSet lfw_pairs",
    },
    "facelib.live_clip": {
        "facelib.live.clip": "clip_frames lfw_photo make_clip write_y4m",
    },
    "facelib.live_draw": {
        "facelib.live.draw": "door_picture draw",
    },
    "facelib.live_frames": {
        "facelib.live.frames": "FRAME_SIZE TrackState decode_frame encode_jpeg ncc_track",
    },
    "facelib.live_loop": {
        "facelib.live.loop": "LatestFrame LiveLoop",
    },
    "facelib.live_processor": {
        "facelib.live.processor": "FrameProcessor LiveResult",
    },
    "facelib.live_widget": {
        "facelib.live.widget": "LiveDoorWidget",
    },
    "facelib.losses": {
        "facelib.faces.losses": (
            "TripletMiningLoss batch_all_triplet_loss batch_hard_triplet_loss "
            "batch_semi_hard_triplet_loss contrastive_loss triplet_loss"
        ),
    },
    "facelib.mri": {
        "facelib.conv.mri": (
            "MNI152 MNI152_SHAPE TISSUES add_scan_noise centre_slices load_mni152 sample_patches "
            "slab_split tissue_labels"
        ),
    },
    "facelib.nst": {
        "facelib.style.costs": (
            "COURSE_STYLE_LAYERS compute_content_cost compute_layer_style_cost "
            "compute_style_cost gram_matrix layer_style_cost_from_gram style_gram total_cost "
            "total_variation_cost train_step"
        ),
        "facelib.style.images": "face_weights painting_names prepare_image resolve_style",
        "facelib.style.presets": "MAX_SIZE PRESETS Preset",
        "facelib.style.transfer": "evaluate_costs stylize",
    },
    "facelib.patch_pools": {
        "facelib.conv.patch_pools": "imagenet_pool patch_pool",
    },
    "facelib.sampling": {
        "facelib.data.sampling": (
            "pair_dataset pair_indices pk_batch_indices pk_dataset random_flip_shift "
            "split_by_identity triplet_dataset triplet_indices"
        ),
    },
    "facelib.siamese": {
        "facelib.faces.siamese": (
            "PairFeatures SiameseNetwork binary_verification_model verification_head "
            "verification_scores"
        ),
    },
    "facelib.signals": {
        "facelib.conv.signals": (
            "BeatMatch DETECTOR_STRIDE DETECTOR_WINDOW beat_classifier beat_detector "
            "beat_probabilities detect_beats make_detector_windows match_beats "
            "train_beat_classifier train_beat_detector"
        ),
        "facelib.conv.arithmetic": "conv1d_numpy conv1d_output_length",
        "facelib.conv.ecg": "ECGRecord bandpass load_electrocardiogram load_mitbih_record time_split",
    },
    "facelib.style_images": {
        "facelib.style.images": "face_weights painting_names prepare_image resolve_style",
    },
    "facelib.style_optim": {"facelib.style.optim": ""},
    "facelib.style_presets": {
        "facelib.style.presets": "MAX_SIZE PRESETS Preset",
    },
    "facelib.style_transfer": {
        "facelib.style.transfer": "evaluate_costs stylize",
        "facelib.style.images": "face_weights painting_names prepare_image resolve_style",
        "facelib.style.presets": "MAX_SIZE PRESETS Preset",
    },
    "facelib.verification": {
        "facelib.faces.verification": (
            "course_image default_model encode_faces face_crop img_to_encoding input_size "
            "nearest_person person_distances require_people verify who_is_it"
        ),
        "facelib.faces.database": "FaceDatabase",
        "facelib.models.facenet_input": "COURSE_THRESHOLD DEFAULT_THRESHOLDS PREPROCESSING",
    },
    "facelib.visualize": {
        "facelib.conv.features": (
            "ReceptiveField activation_maximisation layer_activations patch_mosaic "
            "plot_feature_maps plot_filters plot_top9_grid receptive_field "
            "top_activating_patches"
        ),
        "facelib.conv.patch_pools": "imagenet_pool patch_pool",
    },
    "facelib.volumes": {
        "facelib.conv.volumes": (
            "DIRECTIONS SHAPES make_motion_videos make_shape_patches run_shape_experiment "
            "run_tissue_experiment run_video_experiment shape_masks tissue_classifier_2d "
            "tissue_classifier_3d video_conv3d video_framewise_conv2d"
        ),
        "facelib.conv.arithmetic": "conv3d_numpy conv3d_output_shape conv_param_count",
        "facelib.conv.mri": (
            "MNI152 MNI152_SHAPE TISSUES add_scan_noise centre_slices load_mni152 sample_patches "
            "slab_split tissue_labels"
        ),
    },}


def _home(old: str, name: str) -> str | None:
    """The module that holds ``name`` of the old module ``old`` now, or ``None``."""
    for module, names in MOVED[old].items():
        if name in names.split():
            return module
    return None


def new_path(old: str, name: str) -> str:
    """Where ``old.name`` is to be imported from now: ``facelib.PACKAGE.name`` when the sub-package's
    public face offers the same object, else ``MODULE.name``. ``KeyError`` for a name the table lacks."""
    module = _home(old, name)
    if module is None:
        raise KeyError(f"{old}.{name}")
    obj = getattr(importlib.import_module(module), name)
    package = ".".join(module.split(".")[:2])
    face = importlib.import_module(package)
    return f"{package}.{name}" if getattr(face, name, None) is obj else f"{module}.{name}"


def _attribute(old: str, name: str) -> Any:
    module = _home(old, name)
    if module is None:
        raise AttributeError(f"module {old!r} has no attribute {name!r} (it moved in facelib 0.2: see "
                             f"{next(iter(MOVED[old]))})")
    warnings.warn(f"{old}.{name} moved to {new_path(old, name)}; the old path goes in facelib 0.3",
                  DeprecationWarning, stacklevel=3)
    return getattr(importlib.import_module(module), name)


class _OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old module path as a small module whose attributes are looked up in :data:`MOVED`."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # the default module

    def exec_module(self, module: types.ModuleType) -> None:
        old = module.__name__
        module.__doc__ = f"Old path of facelib 0.1; its names moved to {', '.join(MOVED[old])} (goes in facelib 0.3)."
        module.__all__ = sorted(name for names in MOVED[old].values() for name in names.split())  # type: ignore[attr-defined]
        module.__getattr__ = lambda name: _attribute(old, name)  # type: ignore[method-assign]


_FINDER = _OldPaths()


def install() -> None:
    """Put the finder of old paths on ``sys.meta_path`` (once; ``facelib/__init__`` calls it)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.append(_FINDER)
