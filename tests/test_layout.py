"""The package's house rules: no import-time side effects outside config/device, old names still importable."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import facelib

REPO = Path(__file__).resolve().parents[1]
# config reads the environment and device silences TensorFlow before importing it: their job.
# The package itself (facelib/__init__.py) sets TensorFlow's quiet start-up defaults (facelib._quiet, issue 15)
# before any sub-module loads: imported first, outside the measurement.
_ALLOWED = {"config", "device"}


def test_importing_a_module_changes_no_environment_variable():
    modules = sorted(facelib._SUBMODULES - _ALLOWED) + ["models.inception_resnet", "models.small", "models.vgg"]
    script = (
        "import importlib, json, os, sys\n"
        # third-party libraries set their own variables when imported (TF2_BEHAVIOR, KMP_...): not ours
        "import h5py, keras, matplotlib, PIL.Image, sklearn, tensorflow, tqdm\n"
        "import facelib\n"
        "changed = {}\n"
        f"for name in {modules!r}:\n"
        "    before = dict(os.environ)\n"
        "    importlib.import_module('facelib.' + name)\n"
        "    diff = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))\n"
        "    if diff:\n"
        "        changed[name] = diff\n"
        "print(json.dumps(changed))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}


# Issue 11 (one idea per module): where a module was split, the old module re-exports every moved
# public name (the same object, listed in its __all__), so `from facelib.live import X` keeps working.
_MOVED = {
    "live": {
        "live_frames": ["FRAME_SIZE", "TrackState", "decode_frame", "encode_jpeg", "ncc_track"],
        "live_processor": ["FrameProcessor", "LiveResult"],
        "live_loop": ["LatestFrame", "LiveLoop"],
        "live_draw": ["door_picture", "draw"],
        "live_clip": ["clip_frames", "lfw_photo", "make_clip", "write_y4m"],
    },
    "face_database": {
        "face_database_file": ["ENCODER_WIDTHS", "ENCODING_WIDTHS", "SAME_FACE_DISTANCE", "THRESHOLD_RANGE",
                               "FaceDatabaseWarning", "check_threshold"],
    },
    "encoders": {
        "encoder_cache": ["Detection", "detect_photos"],
        "detect": ["CENTRE_FRACTION", "centre_keypoints", "warp_to_template"],
    },
}


@pytest.mark.parametrize("old, new, name", [(old, new, name) for old, homes in _MOVED.items()
                                            for new, names in homes.items() for name in names])
def test_a_moved_name_is_re_exported_by_its_old_module(old, new, name):
    old_module = importlib.import_module(f"facelib.{old}")
    new_module = importlib.import_module(f"facelib.{new}")
    assert name in new_module.__all__ and name in old_module.__all__
    assert getattr(old_module, name) is getattr(new_module, name)


def test_the_split_modules_keep_every_public_name_they_had():
    """The public module-level names of facelib.live, face_database and encoders before the split (issue 11)."""
    from facelib import encoders, face_database, live

    before = {
        live: ["FRAME_SIZE", "FrameProcessor", "LatestFrame", "LiveLoop", "LiveResult", "TrackState", "clip_frames",
               "decode_frame", "demo_database", "door", "door_picture", "draw", "encode_jpeg", "lfw_photo",
               "make_clip", "ncc_track", "static_demo", "write_y4m"],
        face_database: ["ENCODER_WIDTHS", "ENCODING_WIDTHS", "SAME_FACE_DISTANCE", "THRESHOLD_RANGE", "FaceDatabase",
                        "FaceDatabaseWarning", "check_threshold"],
        encoders: ["ENCODERS", "Detection", "Encoder", "FusedEncoder", "NetworkEncoder", "centre_keypoints",
                   "detect_photos", "load", "warp_to_template", "CENTRE_FRACTION", "THRESHOLDS", "FUSION_WEIGHTS",
                   "DLIB_ALIGNMENTS"],
    }
    for module, names in before.items():
        assert [n for n in names if not hasattr(module, n)] == [], module.__name__
        assert set(names) <= set(module.__all__), module.__name__


# Issue 11 ("one idea per module"): names that moved out of a module, and where they live now.
MOVED = {
    ("volumes", "mri"): ("MNI152", "MNI152_SHAPE", "TISSUES", "load_mni152", "tissue_labels", "add_scan_noise",
                         "slab_split", "sample_patches", "centre_slices"),
    ("signals", "ecg"): ("ECGRecord", "load_mitbih_record", "load_electrocardiogram", "bandpass", "time_split"),
    ("convnet_features", "patch_pools"): ("imagenet_pool", "patch_pool"),
    ("visualize", "patch_pools"): ("imagenet_pool", "patch_pool"),
    ("datasets", "lfw_pairs"): ("LFWPairs", "PairSet", "lfw_pairs"),
}


def test_moved_names_are_re_exported_by_their_old_module_and_documented():
    import importlib

    for (old_name, new_name), names in MOVED.items():
        old = importlib.import_module(f"facelib.{old_name}")
        new = getattr(facelib, new_name)  # a package sub-module, imported on first use
        assert new is importlib.import_module(f"facelib.{new_name}")
        assert f"facelib.{new_name}" in old.__doc__, f"{old_name}'s docstring should say what moved to {new_name}"
        assert [n for n in old.__all__ if not hasattr(old, n)] == [], f"{old_name}.__all__ names what it lacks"
        for name in names:
            assert getattr(old, name) is getattr(new, name), f"{old_name}.{name}"
            assert name in old.__all__ and name in new.__all__, f"{old_name}.{name}"


def test_no_module_is_over_about_450_lines():
    """CONTRIBUTING's house rule (issue 11): past about 450 lines a module holds more than one idea."""
    package = Path(facelib.__file__).parent
    long = {str(f.relative_to(package)): n for f in sorted(package.rglob("*.py"))
            if (n := len(f.read_text().splitlines())) > 460}
    assert long == {}, f"split these modules along the lecture's ideas: {long}"
