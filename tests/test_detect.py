"""facelib.faces.detect: MTCNN detection, similarity alignment, box crops, the main face, no face."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facelib import assets
from facelib.data import read_image
from facelib.faces import (
    TEMPLATE_5,
    Face,
    NoFaceFoundError,
    align,
    crop_box,
    detect_face,
    detect_faces,
    detect_faces_batch,
    main_face,
)
from facelib.models.geometry import similarity_transform


@pytest.fixture(scope="module")
def lfw():
    return assets.fetch("lfw-subset") / "lfw"


@pytest.fixture(scope="module")
def blair(lfw):
    return lfw / "Tony_Blair" / "Tony_Blair_0001.jpg"


def test_similarity_transform_recovers_a_known_one():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    a, s, t = np.deg2rad(30.0), 1.7, np.array([12.0, -4.0])
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dst = src @ (s * rot).T + t
    m = similarity_transform(src, dst)
    np.testing.assert_allclose(m, np.hstack([s * rot, t[:, None]]), atol=1e-9)


def test_similarity_transform_never_reflects():
    src = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    dst = src * [-1.0, 1.0]  # a mirror image: best similarity is not a reflection
    m = similarity_transform(src, dst)
    assert np.linalg.det(m[:, :2]) > 0
    with pytest.raises(ValueError, match="point sets"):
        similarity_transform(src, dst[:2])


def test_align_puts_the_keypoints_on_the_template():
    # a dark 300×240 photo with a bright 3×3 dot at each of 5 tilted "keypoints"
    h, w = 240, 300
    a, s, t = np.deg2rad(-20.0), 0.8, np.array([70.0, 40.0])
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    kps = (TEMPLATE_5 * 160) @ (s * rot).T + t
    img = np.zeros((h, w, 3), np.uint8)
    for x, y in np.round(kps).astype(int):
        img[y - 1:y + 2, x - 1:x + 2] = 255
    face = Face((0, 0, w, h), kps, 1.0)
    out = align(img, face, size=160, margin=0.0)
    assert out.shape == (160, 160, 3) and out.dtype == np.uint8
    for (x, y) in TEMPLATE_5 * 160:
        patch = out[int(round(y)) - 2:int(round(y)) + 3, int(round(x)) - 2:int(round(x)) + 3, 0]
        assert patch.max() > 100, f"no dot near template point ({x:.1f}, {y:.1f})"
    assert (out[..., 0] > 100).mean() < 0.02  # and nothing much elsewhere


def test_crop_box_takes_the_box_plus_margin():
    img = np.zeros((100, 100, 3), np.uint8)
    img[20:60, 30:70] = (10, 200, 30)
    out = crop_box(img, Face((30, 20, 40, 40), np.zeros((5, 2)), 1.0), size=32, margin=0)
    assert out.shape == (32, 32, 3)
    np.testing.assert_array_equal(out[4:-4, 4:-4].reshape(-1, 3).min(0), [10, 200, 30])
    np.testing.assert_array_equal(out[4:-4, 4:-4].reshape(-1, 3).max(0), [10, 200, 30])


def test_main_face_prefers_large_and_central():
    small_centre = Face((45, 45, 10, 10), np.zeros((5, 2)), 0.99)
    big_centre = Face((30, 30, 40, 40), np.zeros((5, 2)), 0.95)
    big_corner = Face((0, 0, 40, 40), np.zeros((5, 2)), 0.999)
    assert main_face([small_centre, big_corner, big_centre], (100, 100, 3)) is big_centre
    assert main_face([], (100, 100, 3)) is None


def test_detects_one_face_with_sensible_keypoints(blair):
    faces = detect_faces(blair)
    assert len(faces) >= 1
    f = detect_face(blair)
    assert f.confidence > 0.95
    x, y, w, h = f.box
    assert 60 < x + w / 2 < 190 and 60 < y + h / 2 < 190 and 50 < w < 200  # LFW centres the face in 250×250
    kp = f.keypoints
    assert kp.shape == (5, 2)
    assert kp[0, 0] < kp[1, 0] and kp[3, 0] < kp[4, 0]  # left eye/mouth corner left of the right ones
    assert kp[:2, 1].max() < kp[2, 1] < kp[3:, 1].min()  # eyes above nose above mouth
    assert np.all((kp >= [x, y]) & (kp <= [x + w, y + h]))


def test_batch_detection_agrees_with_single(lfw):
    paths = [lfw / "Colin_Powell" / f"Colin_Powell_000{i}.jpg" for i in (1, 2, 3)]
    batch = detect_faces_batch(paths)
    for p, faces in zip(paths, batch):
        single = detect_face(p)
        best = main_face(faces, (250, 250, 3))
        assert best is not None
        assert np.max(np.abs(np.array(best.box) - np.array(single.box))) <= 4
    in_twos = detect_faces_batch(paths, chunk=2)   # MTCNN sees 2 + 1 photos: the same faces, in order
    assert [[f.box for f in fs] for fs in in_twos] == [[f.box for f in fs] for fs in batch[:2]] + [
        [f.box for f in detect_faces_batch(paths[2:])[0]]]
    with pytest.raises(ValueError, match="chunk"):
        detect_faces_batch(paths, chunk=0)


def test_no_face_raises_naming_the_file(tmp_path):
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(blank)
    assert detect_faces(blank) == []
    with pytest.raises(NoFaceFoundError, match="wall.png"):
        detect_face(blank)
    assert issubclass(NoFaceFoundError, ValueError)


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "I;16"])
def test_other_image_modes_find_the_same_face(blair, tmp_path, mode):
    rgb = read_image(blair)
    if mode == "I;16":
        grey = np.asarray(Image.fromarray(rgb).convert("L"), np.uint16) * 257
        img = Image.fromarray(grey.astype(np.uint16))
        assert img.mode.startswith("I;16")
        path = tmp_path / "face16.png"
    else:
        img = Image.fromarray(rgb).convert(mode)
        path = tmp_path / ("face.tif" if mode == "CMYK" else "face.png")
    img.save(path)
    ref, got = detect_face(blair), detect_face(path)
    assert np.max(np.abs(np.array(got.box) - np.array(ref.box))) <= 6


def test_truncated_image_is_a_clear_error(blair, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(blair.read_bytes()[:2000])
    with pytest.raises(ValueError, match="broken.jpg"):
        detect_faces(broken)


def test_fallback_finds_the_face_mtcnn_scores_below_0_9(blair):
    """LFW View 1's Princess_Aiko_0001 (a baby, centred): MTCNN's best face scores 0.87–0.90."""
    from facelib.data import lfw_pairs
    from facelib.faces import FALLBACK_CONFIDENCE, main_faces

    v1 = lfw_pairs(1)
    aiko = next(p for p in v1.photos if p.name == "Princess_Aiko_0001.jpg")
    faces = detect_faces(aiko, min_confidence=0.0)
    assert faces and max(f.confidence for f in faces) < 0.9  # what makes it a miss at 0.9
    plain, fallback = main_faces([aiko, blair]), main_faces([aiko, blair], fallback_confidence=FALLBACK_CONFIDENCE)
    assert plain[0] is None and fallback[0] is not None
    x, y, w, h = fallback[0].box
    assert 60 < x + w / 2 < 190 and 60 < y + h / 2 < 190  # the centred face, not something at the edge
    # a photo with a face above 0.9 gets the same face with or without the fallback
    assert plain[1] is not None and fallback[1] is not None and plain[1].box == fallback[1].box


def test_batched_detection_hands_mtcnn_at_most_detect_chunk_photos(lfw, monkeypatch):
    from facelib.faces import DETECT_CHUNK, detect, detect_and_align, encoders, main_faces

    seen: list[int] = []
    real = detect._mtcnn

    def spy(rgbs):
        seen.append(len(rgbs))
        return real(rgbs)

    monkeypatch.setattr(detect, "_mtcnn", spy)
    photos = [read_image(lfw / "Colin_Powell" / f"Colin_Powell_000{i % 3 + 1}.jpg")
              for i in range(2 * DETECT_CHUNK + 1)]
    assert len(detect_faces_batch(photos)) == len(photos)
    assert seen == [DETECT_CHUNK, DETECT_CHUNK, 1]    # a batch of 16 kept ~110 MB more for the whole kernel
    for run in (lambda: main_faces(photos), lambda: detect_and_align(photos),
                lambda: encoders.load("facenet").encode_photos(photos, on_no_face="centre")):
        seen.clear()
        run()
        assert seen and max(seen) <= DETECT_CHUNK and sum(seen) == len(photos)
