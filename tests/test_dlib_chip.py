"""facelib.models.dlib_chip: dlib's face chip without dlib, and dlib's landmarks from MTCNN's keypoints.

The reference is dlib itself (``dlib-bin``, a test-only dependency): its HOG detector, its 5-point
shape predictor and ``get_face_chip``. The photos are LFW-subset people who are not in LFW View 1
DevTrain, the photos the map was fitted on.
"""

from __future__ import annotations

import dlib  # test-only dependency: dlib-bin (requirements.txt, the "test" extra)
import numpy as np
import pytest
from PIL import Image

from facelib import assets
from facelib.faces import detect_face
from facelib.models import dlib_chip

#: LFW-subset people absent from View 1 DevTrain (so absent from the map's fit)
HELD_OUT = ("Ariel_Sharon", "Arnold_Schwarzenegger", "Hugo_Chavez", "Jacques_Chirac")


@pytest.fixture(scope="module")
def faces():
    """``[(rgb, dlib's 5 landmarks, dlib's full_object_detection)]`` of 8 held-out photos."""
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(assets.fetch("dlib-shape-predictor-5")))
    root = assets.fetch("lfw-subset") / "lfw"
    out = []
    for person in HELD_OUT:
        for photo in sorted((root / person).glob("*.jpg"))[:2]:
            img = np.asarray(Image.open(photo).convert("RGB"))
            shape = predictor(img, detector(img, 1)[0])
            out.append((img, np.array([[shape.part(j).x, shape.part(j).y] for j in range(5)], float), shape))
    return out


def test_dlib_landmarks_give_dlibs_own_chip(faces):
    for img, landmarks, shape in faces:
        ours = dlib_chip.dlib_chip(img, landmarks).astype(int)
        ref = dlib.get_face_chip(img, shape, size=150, padding=0.25).astype(int)
        assert ours.shape == (150, 150, 3)
        # same geometry, same bilinear sampling and truncation: at most 1 grey level apart
        assert np.abs(ours - ref).max() <= 1
    # a large photo, where dlib first halves the image with its pyramid (ours: a box filter)
    img, landmarks, _ = faces[0]
    big = np.asarray(Image.fromarray(img).resize((1000, 1000), Image.Resampling.BILINEAR))
    shape = dlib.full_object_detection(dlib.rectangle(0, 0, 999, 999),
                                       [dlib.point(int(4 * x), int(4 * y)) for x, y in landmarks])
    ref = dlib.get_face_chip(big, shape, size=150, padding=0.25).astype(int)
    ours = dlib_chip.dlib_chip(big, np.array([[p.x, p.y] for p in shape.parts()], float)).astype(int)
    assert np.abs(ours - ref).mean() < 3


def test_landmarks_from_mtcnn_are_near_dlibs_and_nearer_than_the_mean_template(faces):
    """The fitted map puts the chip nearer dlib's own than the mean-template route, on unseen people."""
    from facelib.faces import warp_to_template
    from facelib.models.dlib_resnet import DLIB_CHIP_TEMPLATE

    new_err, old_err = [], []
    for img, landmarks, _ in faces:
        kp = detect_face(img).keypoints
        predicted = dlib_chip.landmarks_from_mtcnn(kp)
        eye_corners = np.linalg.norm(landmarks[0] - landmarks[2])
        assert np.linalg.norm(predicted - landmarks, axis=1).max() < 0.15 * eye_corners
        ref = dlib_chip.dlib_chip(img, landmarks).astype(float)
        new_err.append(np.abs(dlib_chip.chip_from_mtcnn(img, kp).astype(float) - ref).mean())
        old_err.append(np.abs(warp_to_template(img, kp, DLIB_CHIP_TEMPLATE, 150).astype(float) - ref).mean())
    assert np.mean(new_err) < np.mean(old_err)


def test_the_map_commutes_with_moving_the_photo_and_with_mirroring():
    kp = np.array([[93.0, 115.0], [150.0, 112.0], [124.0, 148.0], [99.0, 172.0], [148.0, 170.0]])
    lm = dlib_chip.landmarks_from_mtcnn(kp)
    a = np.radians(20)
    rot = 1.7 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    moved = dlib_chip.landmarks_from_mtcnn(kp @ rot.T + [30, -12])
    np.testing.assert_allclose(moved, lm @ rot.T + [30, -12], atol=1e-9)
    # mirrored photo (x -> 249 - x, left and right swapped): the mirrored landmarks, to a fraction of a pixel
    mirror_kp = kp[[1, 0, 2, 4, 3]] * [-1, 1] + [249, 0]
    mirror_lm = dlib_chip.landmarks_from_mtcnn(mirror_kp)[[2, 3, 0, 1, 4]] * [-1, 1] + [249, 0]
    np.testing.assert_allclose(mirror_lm, lm, atol=0.2)
    np.testing.assert_allclose(dlib_chip.MTCNN_TO_DLIB.sum(1), 1.0, atol=1e-4)
    with pytest.raises(ValueError, match=r"keypoints must be \(5, 2\)"):
        dlib_chip.landmarks_from_mtcnn(kp[:4])
