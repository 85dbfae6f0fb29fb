"""facelib.verification: img_to_encoding, verify, who_is_it, FaceDatabase (FaceNet on the LFW subset)."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from PIL import Image

from facelib import assets, data
from facelib.checks.verification import colour_encoder
from facelib.detect import NoFaceFoundError
from facelib.verification import (FaceDatabase, course_image, default_model, img_to_encoding, verify,
                                  who_is_it)


@pytest.fixture(scope="module")
def lfw():
    return assets.fetch("lfw-subset") / "lfw"


@pytest.fixture(scope="module")
def paths(lfw):
    ps = sorted(lfw.glob("*/*.jpg"))
    assert len(ps) == 100
    return ps


@pytest.fixture(scope="module")
def labels(paths):
    names = sorted({p.parent.name for p in paths})
    return np.array([names.index(p.parent.name) for p in paths])


@pytest.fixture(scope="module")
def model():
    return default_model()


@pytest.fixture(scope="module")
def encodings(paths, model):
    """All 100 photos through the database pipeline (MTCNN + alignment + FaceNet), course preprocessing."""
    return FaceDatabase(model).encode(paths, progress=False)


# ----------------------------------------------------------------- the course's functions

def test_course_image_is_keras_load_img(paths):
    expected = np.asarray(keras.utils.load_img(paths[0], target_size=(160, 160)))
    np.testing.assert_array_equal(course_image(paths[0]), expected)


def test_img_to_encoding_is_the_course_formula(paths, model):
    enc = img_to_encoding(paths[0], model)
    assert enc.shape == (1, 128) and enc.dtype == np.float32
    # the course: load_img → /255 → predict_on_batch → / ||·||
    x = np.asarray(keras.utils.load_img(paths[0], target_size=(160, 160)), np.float32)[None] / 255.0
    raw = model.predict_on_batch(x)
    np.testing.assert_allclose(enc, raw / np.linalg.norm(raw), atol=2e-5)


def test_encodings_have_unit_norm_and_distance_is_a_metric(encodings):
    np.testing.assert_allclose(np.linalg.norm(encodings, axis=1), 1.0, atol=1e-5)
    d = np.linalg.norm(encodings[:, None] - encodings[None], axis=-1)
    np.testing.assert_allclose(d, d.T, atol=1e-6)
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-6)


def test_same_image_gives_distance_zero(paths, model):
    a = img_to_encoding(paths[5], model, detect=True)
    b = img_to_encoding(Image.open(paths[5]), model, detect=True)
    assert float(np.linalg.norm(a - b)) < 1e-5


def test_same_person_is_clearly_nearer_than_different_people(encodings, labels):
    d = np.linalg.norm(encodings[:, None] - encodings[None], axis=-1)
    i, j = np.triu_indices(100, 1)
    same = labels[i] == labels[j]
    d_same, d_diff = d[i, j][same].mean(), d[i, j][~same].mean()
    assert d_same + 0.4 < d_diff, (d_same, d_diff)


def test_verify_and_who_is_it_against_numpy():
    model = colour_encoder()
    w = model.layers[-1].get_weights()[0].astype(np.float64)

    def enc(c):
        e = np.asarray(c, np.float64) / 255.0 @ w
        return e / np.linalg.norm(e)

    colours = {"a": (200, 40, 40), "b": (40, 200, 40)}
    db = {n: enc(c)[None] for n, c in colours.items()}
    img = np.full((50, 70, 3), (190, 55, 45), np.uint8)  # resized to 160×160 like the course
    q = enc((190, 55, 45))
    dist, ok = verify(img, "a", db, model)
    assert dist == pytest.approx(np.linalg.norm(q - db["a"]), abs=1e-4) and ok is True
    dist, ok = verify(img, "b", db, model)
    assert dist == pytest.approx(np.linalg.norm(q - db["b"]), abs=1e-4) and ok is False
    d, who = who_is_it(img, db, model)
    assert who == "a" and d == pytest.approx(np.linalg.norm(q - db["a"]), abs=1e-4)
    d, who = who_is_it(img, db, model, threshold=0.01)
    assert who is None
    with pytest.raises(KeyError, match="nobody|'c'"):
        verify(img, "c", db, model)
    with pytest.raises(ValueError, match="empty"):
        who_is_it(img, {}, model)


# ----------------------------------------------------------------- FaceDatabase

def _db_from(encodings, labels, paths, people, first_only=True):
    db = FaceDatabase(default_model())
    for k in people:
        rows = np.flatnonzero(labels == k)[:1 if first_only else None]
        db.add_encodings(paths[rows[0]].parent.name, encodings[rows], [str(paths[r]) for r in rows])
    return db


def test_one_shot_identification_and_unknown_people(encodings, labels, paths):
    db = _db_from(encodings, labels, paths, range(5))  # residents: 5 people, first photo each
    db.calibrate(encodings=encodings, labels=labels)
    correct = unknown_refused = 0
    for e, k in zip(encodings, labels):
        dists = db.distances(e)
        name = min(dists, key=dists.get)
        if k < 5:
            correct += name == paths[np.flatnonzero(labels == k)[0]].parent.name
        else:
            unknown_refused += dists[name] >= db.threshold
    assert correct >= 48  # of 50 (5 enrolled photos match themselves)
    assert unknown_refused >= 45  # of 50 strangers


def test_identify_and_verify_on_photos(paths, labels, encodings):
    db = _db_from(encodings, labels, paths, range(3))
    db.calibrate(encodings=encodings, labels=labels)
    names = db.names
    k = np.flatnonzero(labels == 1)[3]
    expected = {n: float(np.linalg.norm(encodings[k] - encodings[np.flatnonzero(labels == i)[0]]))
                for i, n in enumerate(names)}  # from the batch encodings of the fixture
    dist, who = db.identify(paths[k])
    assert dist == pytest.approx(expected[names[1]], abs=1e-4)
    assert dist == pytest.approx(min(expected.values()), abs=1e-4) and who == names[1]
    assert db.verify(paths[k], names[1]) == (pytest.approx(dist, abs=1e-5), True)
    d_other, accepted = db.verify(paths[k], names[0])
    assert not accepted and d_other == pytest.approx(expected[names[0]], abs=1e-4)
    stranger = paths[np.flatnonzero(labels == 8)[0]]
    d, who = db.identify(stranger, threshold=0.5)
    assert who is None and d >= 0.5


def test_add_remove_and_len(paths, model):
    db = FaceDatabase(model)
    assert len(db) == 0
    with pytest.raises(ValueError, match="empty"):
        db.identify(paths[0])
    assert db.add("Ariel", [paths[0], Image.open(paths[1]), data.read_image(paths[2])]) == 3
    assert db.add("Ariel", paths[3]) == 1
    assert len(db) == 1 and db.n_photos == 4 and db.encodings("Ariel").shape == (4, 128)
    with pytest.raises(KeyError, match="Colin"):
        db.verify(paths[0], "Colin")
    assert db.remove("Ariel") == 4 and len(db) == 0


def test_calibrate_picks_the_separating_threshold():
    db = FaceDatabase(model=object())
    enc = np.zeros((4, 128), np.float32)
    enc[:, 0] = [0.0, 0.2, 1.0, 1.1]  # same-person distances 0.2 and 0.1; different ≥ 0.8
    t = db.calibrate(encodings=enc, labels=[0, 0, 1, 1])
    assert 0.2 < t < 0.8 and db.threshold == t
    assert db.effective_threshold() == t and db.effective_threshold(0.3) == 0.3
    with pytest.raises(ValueError, match="same-person and different-person"):
        db.calibrate(encodings=enc[:2], labels=[0, 1])


def test_default_threshold_is_the_course_one():
    assert FaceDatabase(model=object()).effective_threshold() == 0.7


def test_save_load_round_trip_loses_nothing(tmp_path, encodings, labels, paths):
    db = _db_from(encodings, labels, paths, range(4), first_only=False)
    db.calibrate()
    path = db.save(tmp_path / "house.db")
    assert [p.name for p in tmp_path.iterdir()] == ["house.db"]  # no temporary file left
    with np.load(path, allow_pickle=False) as z:  # plain arrays and a JSON header
        meta = json.loads(str(z["meta"][()]))
        assert meta["names"] == db.names and z["encodings"].shape == (40, 128)
    again = FaceDatabase.load(path)
    assert again.names == db.names and again.threshold == db.threshold and len(again) == 4
    assert again.preprocessing == db.preprocessing and again.detect == db.detect
    for n in db.names:
        np.testing.assert_array_equal(again.encodings(n), db.encodings(n))


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.db"):
        FaceDatabase.load(tmp_path / "nothing.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database")
    with pytest.raises(ValueError, match="junk.db"):
        FaceDatabase.load(junk)
    db = FaceDatabase(model=object())
    db.add_encodings("x", np.eye(2, 128, dtype=np.float32))
    good = db.save(tmp_path / "good.db")
    cut = tmp_path / "cut.db"
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(ValueError, match="cut.db"):
        FaceDatabase.load(cut)
    other = tmp_path / "other.npz"
    np.savez(other, meta=np.array(json.dumps({"format": "something else"})))
    with pytest.raises(ValueError, match="not a facelib face database"):
        FaceDatabase.load(other)


def test_no_face_and_broken_images_are_clear_errors(tmp_path, paths, model):
    db = FaceDatabase(model)
    wall = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 200, 3), 90, np.uint8)).save(wall)
    with pytest.raises(NoFaceFoundError, match="wall.png"):
        db.add("wall", [wall])
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(paths[0].read_bytes()[:1500])
    with pytest.raises(ValueError, match="broken.jpg"):
        db.add("broken", [broken])
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        db.add("missing", [tmp_path / "missing.jpg"])
    assert len(db) == 0  # nothing half-enrolled


@pytest.mark.parametrize("mode", ["RGBA", "CMYK", "L", "I;16"])
def test_other_image_modes_encode_like_the_rgb_photo(tmp_path, paths, model, mode):
    rgb = data.read_image(paths[40])
    db = FaceDatabase(model)
    ref = db.encode(paths[40])
    if mode == "I;16":
        grey = np.asarray(Image.fromarray(rgb).convert("L"), np.uint16) * 257
        Image.fromarray(grey).save(tmp_path / "x.png")
        path = tmp_path / "x.png"
    else:
        path = tmp_path / ("x.tif" if mode == "CMYK" else "x.png")
        Image.fromarray(rgb).convert(mode).save(path)
    d = float(np.linalg.norm(db.encode(path) - ref))
    limit = {"RGBA": 1e-4, "CMYK": 0.15}.get(mode, 0.6)  # greyscale loses colour but not the person
    assert d < limit, (mode, d)


def test_database_without_detection_is_the_course_pipeline(paths, model):
    db = FaceDatabase(model, detect=False)
    np.testing.assert_allclose(db.encode(paths[7]), img_to_encoding(paths[7], model), atol=1e-5)
    std = FaceDatabase(model, detect=False, preprocessing="standardize")
    assert std.effective_threshold() == 1.0
    np.testing.assert_allclose(std.encode(paths[7]), img_to_encoding(paths[7], model, preprocessing="standardize"),
                               atol=1e-5)
    with pytest.raises(ValueError, match="preprocessing"):
        FaceDatabase(model, preprocessing="imagenet")


def test_calibrate_from_the_enrolled_photos():
    db = FaceDatabase(model=object())
    a, b = np.zeros((2, 128), np.float32), np.zeros((1, 128), np.float32)
    a[:, 0] = [0.0, 0.3]  # one person: pair distance 0.3
    b[:, 1] = 1.0          # another: distances 1.0 and sqrt(1.09) ≈ 1.044 to the first one's photos
    db.add_encodings("a", a)
    db.add_encodings("b", b)
    t = db.calibrate()
    assert 0.3 < t < 1.0
    assert db.effective_threshold() == t


def test_photos_of_different_sizes_encode_the_same_alone_or_together(paths, model):
    small = data.read_image(paths[20])
    big = np.asarray(Image.fromarray(data.read_image(paths[30])).resize((400, 300)))
    db = FaceDatabase(model)
    together = db.encode([small, big, paths[25]])
    alone = np.concatenate([db.encode(small), db.encode(big), db.encode(paths[25])])
    np.testing.assert_allclose(together, alone, atol=1e-4)
