"""facelib.faces.database: FaceDatabase (enrol, identify, verify, calibrate, save/load) on the LFW subset."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from facelib import faces
from facelib.data import read_image
from facelib.faces import FaceDatabase, NoFaceFoundError, accepts, default_model, img_to_encoding

# The LFW fixtures (paths, labels, model, encodings) come from conftest.py.


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
            unknown_refused += not accepts(dists[name], db.threshold)
    assert correct >= 48  # of 50 (5 enrolled photos match themselves)
    # calibrate picks the equal-error-rate τ (false accepts = false rejects per pair, lesson 01), not the
    # accuracy-maximising one of mostly-impostor pairs; a stranger meets 5 residents, so some get in.
    assert unknown_refused >= 40  # of 50 strangers


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
    assert db.add("Ariel", [paths[0], Image.open(paths[1]), read_image(paths[2])]) == 3
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


def _colour_photos():
    colours = [(200, 40, 40), (190, 60, 45), (185, 45, 70), (40, 200, 40), (60, 190, 50), (40, 40, 200),
               (55, 70, 180)]
    return [np.full((30, 40, 3), c, np.uint8) for c in colours], [0, 0, 0, 1, 1, 2, 2]


def test_calibrate_chooses_and_applies_tau_under_the_same_rule():
    from facelib.checks.verification import colour_encoder

    photos, people = _colour_photos()
    db = FaceDatabase(colour_encoder(), detect=False)
    enc = db.encode(photos)
    for k, (e, p) in enumerate(zip(enc, people)):
        db.add_encodings(f"photo{k}", e, [f"person {p}"])
    tau = db.calibrate(encodings=enc, labels=people)
    i, j, same = faces.all_pairs(np.asarray(people))
    _, best_acc = faces.best_threshold(faces.pairwise_distances(enc)[i, j], same)
    # the database's own decisions on every pair reach the accuracy calibrate chose τ for
    decisions = np.array([db.verify(photos[a], f"photo{b}")[1] for a, b in zip(i, j)])
    assert np.mean(decisions == same) == pytest.approx(best_acc)
    assert db.threshold == tau


def test_identify_and_verify_accept_a_distance_equal_to_the_threshold():
    from facelib.checks.verification import colour_encoder

    photos, _ = _colour_photos()
    db = FaceDatabase(colour_encoder(), detect=False)
    db.add("red", photos[0])
    db.add("green", photos[3])
    dist, who = db.identify(photos[1])
    assert who == "red"
    assert db.identify(photos[1], threshold=dist) == (dist, "red")  # d = τ: accepted
    assert db.identify(photos[1], threshold=np.nextafter(dist, 0.0)) == (dist, None)
    assert db.verify(photos[1], "red", threshold=dist) == (dist, True)
    assert db.verify(photos[1], "red", threshold=np.nextafter(dist, 0.0)) == (dist, False)


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
    rgb = read_image(paths[40])
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
    theta = 2 * np.arcsin(0.15)  # unit rows (what a database holds): one person, pair distance 2 sin(θ/2) = 0.3
    a[0, 0], a[1, 0], a[1, 2] = 1.0, np.cos(theta), np.sin(theta)
    b[:, 1] = 1.0          # another: distance sqrt(2) ≈ 1.414 to both of the first one's photos
    db.add_encodings("a", a)
    db.add_encodings("b", b)
    t = db.calibrate()
    assert 0.3 - 1e-6 <= t < 1.414  # accepts the genuine pair (d = 0.3 <= τ), rejects the impostors
    assert db.effective_threshold() == t


def test_photos_of_different_sizes_encode_the_same_alone_or_together(paths, model):
    small = read_image(paths[20])
    big = np.asarray(Image.fromarray(read_image(paths[30])).resize((400, 300)))
    db = FaceDatabase(model)
    together = db.encode([small, big, paths[25]])
    alone = np.concatenate([db.encode(small), db.encode(big), db.encode(paths[25])])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_faces_re_exports_face_database():
    from facelib.faces import database

    assert faces.FaceDatabase is database.FaceDatabase
    assert "FaceDatabase" in faces.__all__


def test_preprocessing_constants_live_in_facenet_input_and_are_re_exported():
    """Checking a database file needs them without Keras (facelib.models.facenet_input); facelib.faces re-exports
    the same objects."""
    from facelib.models import facenet_input

    for name in ("COURSE_THRESHOLD", "PREPROCESSING", "DEFAULT_THRESHOLDS"):
        assert getattr(faces, name) is getattr(facenet_input, name)
        assert name in faces.__all__ and name in facenet_input.__all__
    assert faces.DEFAULT_THRESHOLDS == {"course": faces.COURSE_THRESHOLD, "standardize": 1.0}
    assert set(faces.PREPROCESSING) == set(faces.DEFAULT_THRESHOLDS)
