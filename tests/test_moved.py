"""The old module paths of facelib 0.1 (issue 23): every public name still imports and works, with a
DeprecationWarning that names the new path, from one table (facelib/_moved.py)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

import facelib
from facelib import _moved

#: The flat modules of facelib 0.1 that moved (written out here, independently of the table).
OLD_MODULES = {
    "archives", "conv_arithmetic", "convnet_features", "datasets", "detect", "ecg", "encoder_cache", "encoders",
    "evaluation", "face_database", "face_database_file", "images", "lfw_pairs", "live_clip", "live_draw",
    "live_frames", "live_loop", "live_processor", "live_widget", "losses", "mri", "nst", "patch_pools", "sampling",
    "siamese", "signals", "style_images", "style_optim", "style_presets", "style_transfer", "verification",
    "visualize", "volumes",
}

ROWS = [(old, name) for old, homes in _moved.MOVED.items() for names in homes.values() for name in names.split()]


def test_the_table_covers_every_moved_module_of_0_1():
    assert {old.removeprefix("facelib.") for old in _moved.MOVED} == OLD_MODULES
    assert len(ROWS) == len(set(ROWS)) > 250


@pytest.mark.parametrize("old, name", ROWS, ids=[f"{o.removeprefix('facelib.')}.{n}" for o, n in ROWS])
def test_an_old_path_works_and_names_the_new_one(old, name):
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning) as caught:
        value = getattr(module, name)
    new = _moved.new_path(old, name)
    assert [str(w.message) for w in caught] == [f"{old}.{name} moved to {new}; the old path goes in facelib 0.3"]
    new_module, _, new_name = new.rpartition(".")
    assert value is getattr(importlib.import_module(new_module), new_name)
    assert not new.startswith(old + ".")


def test_the_issues_examples_name_the_public_face():
    expected = {
        ("facelib.verification", "verify"): "facelib.faces.verify",
        ("facelib.nst", "compute_layer_style_cost"): "facelib.style.compute_layer_style_cost",
        ("facelib.encoders", "load"): "facelib.faces.encoders.load",
        ("facelib.face_database", "FaceDatabase"): "facelib.faces.FaceDatabase",
        ("facelib.style_transfer", "stylize"): "facelib.style.stylize",
        ("facelib.losses", "triplet_loss"): "facelib.faces.triplet_loss",
        ("facelib.sampling", "triplet_indices"): "facelib.data.triplet_indices",
        ("facelib.verification", "PREPROCESSING"): "facelib.models.facenet_input.PREPROCESSING",
        ("facelib.nst", "stylize"): "facelib.style.stylize",
    }
    assert {key: _moved.new_path(*key) for key in expected} == expected


def test_the_statement_forms_work():
    with pytest.warns(DeprecationWarning, match=r"facelib\.losses\.triplet_loss moved to facelib\.faces\.triplet_loss"):
        from facelib.losses import triplet_loss
    assert triplet_loss is facelib.faces.triplet_loss
    with pytest.warns(DeprecationWarning, match=r"facelib\.verification\.verify moved to facelib\.faces\.verify"):
        assert facelib.verification.verify is facelib.faces.verify
    assert importlib.import_module("facelib.sampling") is sys.modules["facelib.sampling"]


def test_an_unknown_name_of_an_old_module_is_an_attribute_error():
    module = importlib.import_module("facelib.verification")
    with pytest.raises(AttributeError, match="facelib.verification.*no attribute '_as_encodings'.*facelib.faces"):
        module._as_encodings  # noqa: B018 - the attribute read is the test
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("facelib.no_such_module")
    with pytest.raises(AttributeError):
        facelib.no_such_module  # noqa: B018


def test_the_names_of_the_two_old_modules_that_became_packages_are_on_their_faces():
    """``facelib.data`` and ``facelib.live`` were modules in 0.1 and are sub-packages now: same path, no warning."""
    data_01 = ["FaceDataset", "IMAGE_SUFFIXES", "ImageLike", "LFW_SUBSET_PEOPLE", "atomic_write",
               "load_identity_folder", "load_lfw_subset", "load_olivetti", "pair_dataset", "pair_indices",
               "pk_batch_indices", "pk_dataset", "random_flip_shift", "read_image", "save_image",
               "split_by_identity", "to_rgb_uint8", "triplet_dataset", "triplet_indices"]
    live_01 = ["FRAME_SIZE", "FrameProcessor", "LatestFrame", "LiveLoop", "LiveResult", "TrackState", "clip_frames",
               "decode_frame", "demo_database", "door", "door_picture", "draw", "encode_jpeg", "lfw_photo",
               "make_clip", "ncc_track", "static_demo", "write_y4m"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [n for n in data_01 if not hasattr(facelib.data, n)] == []
        assert [n for n in live_01 if not hasattr(facelib.live, n)] == []


def test_old_paths_are_found_only_after_import_facelib_and_only_for_the_table():
    """The finder is installed by ``import facelib`` and answers for the table's names alone."""
    script = ("import sys; import facelib; from facelib._moved import _FINDER; "
              "assert _FINDER in sys.meta_path; assert _FINDER.find_spec('facelib.faces', None) is None; "
              "assert _FINDER.find_spec('facelib.nst', None) is not None; print('ok')")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr
