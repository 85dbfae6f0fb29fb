"""facelib.models.dlib_shape: dlib's 5-point shape predictor in NumPy equals dlib's, and its reader
refuses broken files with the byte offset.

The reference is dlib itself (``dlib-bin``, a test-only dependency): ``dlib.shape_predictor`` with
the registry's ``shape_predictor_5_face_landmarks.dat`` on the same photo and the same box (dlib's
HOG detector's boxes, boxes shifted and resized from them, and boxes partly outside the photo).
"""

from __future__ import annotations

import re

import dlib  # test-only dependency: dlib-bin (requirements.txt, the "test" extra)
import numpy as np
import pytest
from PIL import Image

from facelib import assets
from facelib.models.dlib_shape import ShapePredictor, intensity, load_shape_predictor
from facelib.models.dlib_shape_reader import read_shape_predictor


@pytest.fixture(scope="module")
def model_path():
    return assets.fetch("dlib-shape-predictor-5")


@pytest.fixture(scope="module")
def cases():
    """``[(rgb, (left, top, right, bottom))]``: 12 LFW-subset photos × 3 boxes each."""
    detector = dlib.get_frontal_face_detector()
    rng = np.random.default_rng(29)
    out = []
    for photo in sorted((assets.fetch("lfw-subset") / "lfw").glob("*/*.jpg"))[::9][:12]:
        img = np.asarray(Image.open(photo).convert("RGB"))
        rects = list(detector(img, 1))
        r = rects[0] if rects else dlib.rectangle(75, 75, 174, 174)
        box = (r.left(), r.top(), r.right(), r.bottom())
        out.append((img, box))
        dx, dy, grow = rng.integers(-12, 13, 3)
        out.append((img, (box[0] + dx, box[1] + dy, box[2] + dx + grow, box[3] + dy + grow)))
        out.append((img, (box[0] - 90, box[1] + 40, box[2] - 40, box[3] + 95)))  # partly outside the photo
    return out


def _dlib_landmarks(predictor, img, box) -> np.ndarray:
    shape = predictor(img, dlib.rectangle(*(int(v) for v in box)))
    return np.array([[shape.part(j).x, shape.part(j).y] for j in range(shape.num_parts)], float)


def test_landmarks_equal_dlibs(model_path, cases):
    ours = load_shape_predictor(model_path)
    ref = dlib.shape_predictor(str(model_path))
    assert ours.n_landmarks == 5
    moved = 0
    for img, box in cases:
        want = _dlib_landmarks(ref, img, box)
        got = ours(img, box)
        assert np.abs(got - want).max() <= 0.01, (box, got, want)
        moved += np.abs(want - ours._to_photo(ours.model.initial_shape, np.asarray(box, float))).max() > 2
        # unrounded landmarks round to dlib's
        fine = ours(img, box, subpixel=True)
        assert np.abs(fine - got).max() <= 0.5 + 1e-9
    assert moved >= len(cases) // 2  # the cascades really moved the mean shape (not a trivial pass)


def test_grey_photo_and_intensity(model_path, cases):
    img, box = cases[0]
    manual = (img[..., 0].astype(int) + img[..., 1] + img[..., 2]) // 3
    assert np.array_equal(intensity(img), manual)
    grey = manual.astype(np.uint8)
    want = _dlib_landmarks(dlib.shape_predictor(str(model_path)), grey, box)
    assert np.abs(load_shape_predictor(model_path)(grey, box) - want).max() <= 0.01
    with pytest.raises(ValueError, match="box"):
        load_shape_predictor(model_path)(img, (10, 10, 5, 50))


def _offsets(data: bytes) -> list[int]:
    """Byte offset of every dlib integer in the file (an independent walk: header byte + c & 15 bytes)."""
    out, pos = [], 0
    while pos < len(data):
        out.append(pos)
        pos += 1 + (data[pos] & 15)
    return out


def _offset_in(err: pytest.ExceptionInfo) -> int:
    found = re.search(r"at byte (\d+)", str(err.value))
    assert found, str(err.value)
    return int(found.group(1))


@pytest.fixture(scope="module")
def raw(model_path):
    return model_path.read_bytes()


def _write(tmp_path, data: bytes):
    path = tmp_path / "broken.dat"
    path.write_bytes(data)
    return path


def test_reader_reads_the_whole_model(raw, model_path):
    m = read_shape_predictor(model_path)
    assert m.idx1.shape == (15, 500, 15) and m.leaves.shape == (15, 500, 16, 5, 2)
    assert m.anchor_idx.shape == (15, 800) and m.deltas.shape == (15, 800, 2)
    # the mean shape: two eyes' corners level, the nose base below them, inside the unit square
    assert (0 < m.initial_shape).all() and (m.initial_shape < 1).all()
    assert m.initial_shape[4, 1] > m.initial_shape[:4, 1].max()


def test_truncated_files_name_the_offset(raw, tmp_path):
    for cut in (len(raw) // 2, len(raw) - 1, 7):
        with pytest.raises(ValueError, match=r"broken\.dat.*(ends|early)") as err:
            read_shape_predictor(_write(tmp_path, raw[:cut]))
        assert cut - 16 <= _offset_in(err) <= cut


def test_wrong_counts_name_the_offset(raw, tmp_path):
    offs = _offsets(raw)
    first_tree = raw.find(bytes([1, 15, 2, 0xF4, 1])) + 5  # "15 cascades, 500 trees", then the first tree
    assert raw[first_tree:first_tree + 2] == bytes([1, 15])
    # 7 splits instead of 15: the reader takes 7 × 4 integers, then finds no "8 leaves"
    bad = bytearray(raw)
    bad[first_tree + 1] = 7
    with pytest.raises(ValueError, match="number of leaves") as err:
        read_shape_predictor(_write(tmp_path, bytes(bad)))
    k = offs.index(first_tree)
    assert _offset_in(err) == offs[k + 1 + 7 * 4]
    # 6 splits: not a complete tree
    bad[first_tree + 1] = 6
    with pytest.raises(ValueError, match="not complete") as err:
        read_shape_predictor(_write(tmp_path, bytes(bad)))
    assert _offset_in(err) == first_tree
    # a wrong version, a broken integer header, trailing bytes
    with pytest.raises(ValueError, match="version is 2") as err:
        read_shape_predictor(_write(tmp_path, bytes([1, 2]) + raw[2:]))
    assert _offset_in(err) == 0
    with pytest.raises(ValueError, match="header 0x21") as err:
        read_shape_predictor(_write(tmp_path, raw[:2] + bytes([0x21]) + raw[3:]))
    assert _offset_in(err) == 2
    with pytest.raises(ValueError, match="2 trailing bytes") as err:
        read_shape_predictor(_write(tmp_path, raw + bytes([1, 5])))
    assert _offset_in(err) == len(raw)


def test_predictor_accepts_any_read_model(model_path):
    p = ShapePredictor(read_shape_predictor(model_path))
    img = np.zeros((50, 50, 3), np.uint8)
    # a flat photo: every difference is 0, the trees still answer, the shape stays inside the box
    pts = p(img, (0, 0, 49, 49))
    assert pts.shape == (5, 2) and (pts >= -5).all() and (pts <= 55).all()


#: LFW-subset people absent from View 1 DevTrain (so absent from BOX_FROM_MTCNN's fit)
HELD_OUT = ("Ariel_Sharon", "Arnold_Schwarzenegger", "Hugo_Chavez", "Jacques_Chirac")


def test_box_from_mtcnn_by_hand():
    from facelib.models.dlib_chip import BOX_FROM_MTCNN, box_from_mtcnn

    # a frontal face: eyes (90, 100), (150, 100); nose (120, 130); mouth corners (100, 160), (140, 160)
    kp = np.array([[90, 100], [150, 100], [120, 130], [100, 160], [140, 160]], float)
    (a1, a2), (b1, b2), (g1, g2) = BOX_FROM_MTCNN
    cy = 100 + b1 * 60 + b2 * 30
    side = g1 * 60 + g2 * 60
    want = [120 - (side - 1) / 2, cy - (side - 1) / 2, 120 + (side - 1) / 2, cy + (side - 1) / 2]
    np.testing.assert_allclose(box_from_mtcnn(kp), want, atol=1e-9)
    # twice as large and shifted: the centre moves with the photo, the side doubles
    big = box_from_mtcnn(2 * kp + [7, -3])
    np.testing.assert_allclose((big[:2] + big[2:]) / 2, [2 * 120 + 7, 2 * cy - 3], atol=1e-9)
    assert big[2] - big[0] + 1 == pytest.approx(2 * side)
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        box_from_mtcnn(kp[:3])


def test_chip_from_shape_is_dlibs_own_chip_on_unseen_people():
    """MTCNN's keypoints → the fitted box → the NumPy shape predictor → the chip: a pixel or so from
    dlib's own chip (HOG box + dlib's predictor + get_face_chip), nearer than the fitted-landmark map."""
    from facelib.faces import detect_face
    from facelib.models import dlib_chip

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(assets.fetch("dlib-shape-predictor-5")))
    root = assets.fetch("lfw-subset") / "lfw"
    shape_err, map_err = [], []
    for person in HELD_OUT:
        for photo in sorted((root / person).glob("*.jpg"))[:2]:
            img = np.asarray(Image.open(photo).convert("RGB"))
            shape = predictor(img, detector(img, 1)[0])
            ref = dlib.get_face_chip(img, shape, size=150, padding=0.25).astype(float)
            kp = detect_face(img).keypoints
            shape_err.append(np.abs(dlib_chip.chip_from_shape(img, kp).astype(float) - ref).mean())
            map_err.append(np.abs(dlib_chip.chip_from_mtcnn(img, kp).astype(float) - ref).mean())
    assert np.mean(shape_err) < 0.6 * np.mean(map_err)


def test_reader_memory_is_bounded_by_the_file(model_path) -> None:
    """Reading the 9 MB model allocates a few times its 3.2 million integers (8 bytes each), not a Python int
    object per integer: lesson 05's dlib alignment peaked 300 MB above the kernel's memory while the file was
    read (a list of offsets and whole-stream temporaries: 315 MB traced; int64 offsets and a padded copy of
    the file: 78 MB, 8.5x the file; now 65 MB); the arrays kept are unchanged."""
    import tracemalloc

    size = model_path.stat().st_size
    tracemalloc.start()
    try:
        m = read_shape_predictor(model_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * size, f"reading a {size / 2**20:.1f} MB model peaked at {peak / 2**20:.0f} MB"
    assert m.idx1.shape == (15, 500, 15) and m.leaves.shape == (15, 500, 16, 5, 2)
