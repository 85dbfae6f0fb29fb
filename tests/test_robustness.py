"""facelib.faces.robustness: the degradations of the robustness card do what they say (NumPy references)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.path import Path as PolygonPath

from facelib.faces.robustness import DEGRADATIONS, MASK_RGB, degrade, mask_polygon

KP = np.array([[90, 100], [150, 100], [120, 130], [100, 160], [140, 160]], float)


@pytest.fixture
def photo():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(250, 250, 3)).astype(np.uint8)


def test_levels_and_kinds():
    assert set(DEGRADATIONS) == {"blur", "jpeg", "dark", "mask", "rotation"}
    assert all(len(v) == 3 for v in DEGRADATIONS.values())
    with pytest.raises(ValueError, match="unknown degradation"):
        degrade(np.zeros((4, 4, 3), np.uint8), "fog", 1)


def test_dark_blur_jpeg(photo):
    np.testing.assert_array_equal(degrade(photo, "dark", 0.25), (photo * 0.25).astype(np.uint8))
    stds = [degrade(photo, "blur", s).astype(float).std() for s in DEGRADATIONS["blur"]]
    assert photo.std() > stds[0] > stds[1] > stds[2]  # stronger blur, less texture
    errs = [np.abs(degrade(photo, "jpeg", q).astype(float) - photo).mean() for q in DEGRADATIONS["jpeg"]]
    assert 0 < errs[0] < errs[2]


def test_rotation(photo):
    np.testing.assert_array_equal(degrade(photo, "rotation", 0), photo)
    np.testing.assert_array_equal(degrade(photo, "rotation", 90), np.rot90(photo))  # PIL turns counter-clockwise


def test_mask_covers_the_lower_face_only(photo):
    inside = {reach: PolygonPath(mask_polygon(KP, reach)) for reach in DEGRADATIONS["mask"]}
    mouth, nose, eyes = KP[3:], KP[2], KP[:2]
    assert inside[0.5].contains_points(mouth).all() and inside[1.0].contains_points([nose]).all()
    assert not inside[0.0].contains_points([nose]).any()
    assert not any(p.contains_points(eyes).any() for p in inside.values())
    out = degrade(photo, "mask", 1.0, KP)
    assert tuple(out[160, 120]) == MASK_RGB and np.array_equal(out[100, 90], photo[100, 90])
    with pytest.raises(ValueError, match="keypoints"):
        degrade(photo, "mask", 1.0)
