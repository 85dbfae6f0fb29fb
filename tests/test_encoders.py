"""facelib.faces.encoders: one API over FaceNet, the dlib port and their fusion, each with its own pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from lfw_faces import lfw_labels, lfw_paths
from PIL import Image

from facelib import faces
from facelib.faces import cache_seal, encoder_cache, encoders


def _photos(per_person: int = 2) -> tuple[list, np.ndarray]:
    paths, labels = np.array(lfw_paths()), lfw_labels()
    keep = np.concatenate([np.flatnonzero(labels == p)[:per_person] for p in np.unique(labels)])
    return list(paths[keep]), labels[keep]


@pytest.fixture(scope="module")
def photos():
    return _photos()


def _normalise(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_unknown_names_and_options_are_refused():
    with pytest.raises(ValueError, match="unknown encoder 'arcface'; choose one of facenet, dlib, facenet\\+dlib"):
        encoders.load("arcface")
    with pytest.raises(ValueError, match="preprocessing must be one of"):
        encoders.load("facenet", preprocessing="rgb")
    with pytest.raises(ValueError, match="one preprocessing"):
        encoders.load("dlib", preprocessing="standardize")
    with pytest.raises(ValueError, match="on_no_face must be 'raise' or 'centre'"):
        encoders.load("dlib").encode_photos([np.zeros((64, 64, 3), np.uint8)], on_no_face="skip")


@pytest.mark.parametrize("name", ["facenet", "dlib"])
def test_each_encoder_separates_people_it_never_saw(photos, name):
    """1-NN among the 20 photos of 10 LFW people: every photo's nearest neighbour is the same person."""
    paths, labels = photos
    enc = encoders.load(name)
    x = enc.encode_photos(paths)
    assert x.shape == (20, 128) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(1)] == labels).mean() >= 0.95
    same = labels[:, None] == labels[None]
    np.fill_diagonal(same, False)
    # the default threshold separates most pairs of these photos
    off = ~np.eye(20, dtype=bool)
    assert ((d <= enc.threshold) == same)[off].mean() >= 0.9


def test_encode_faces_and_flip_average(photos):
    enc = encoders.load("dlib", flip=True)
    plain = encoders.load("dlib", flip=False)
    aligned = enc.align_photos(photos[0][:3])
    assert aligned.shape == (3, 150, 150, 3) and aligned.dtype == np.uint8
    got = enc.encode_faces(aligned)
    # independently: the port's raw outputs of the chips and of their mirror images
    raw = plain.embed(aligned)
    raw_flip = plain.embed(aligned[:, :, ::-1].copy())
    expected = _normalise(_normalise(raw) + _normalise(raw_flip))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(plain.encode_faces(aligned), _normalise(raw), atol=1e-5)
    np.testing.assert_allclose(enc.encode_photos(photos[0][:3]), got, atol=1e-5)
    with pytest.raises(ValueError, match=r"dlib expects aligned faces of shape \(m, 150, 150, 3\)"):
        enc.encode_faces(np.zeros((1, 160, 160, 3), np.uint8))


def test_fused_is_both_unit_encodings_side_by_side_weighted(photos):
    paths = photos[0][:4]
    fused = encoders.load("facenet+dlib")
    x = fused.encode_photos(paths)
    assert x.shape == (4, 256) and fused.dim == 256
    w_f, w_g = fused.weights
    assert (w_f, w_g) == encoders.FUSION_WEIGHTS[f"facenet+dlib/{encoders.DLIB_ALIGNMENT}"]
    assert w_f + w_g == pytest.approx(1)
    f = encoders.load("facenet").encode_photos(paths)
    g = encoders.load("dlib").encode_photos(paths)
    np.testing.assert_allclose(x, np.hstack([np.sqrt(w_f) * f, np.sqrt(w_g) * g]), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    # the squared fused distance is the weighted mean of the two squared distances
    d2 = ((x[0] - x[1]) ** 2).sum()
    assert d2 == pytest.approx(w_f * ((f[0] - f[1]) ** 2).sum() + w_g * ((g[0] - g[1]) ** 2).sum(), rel=1e-4)
    # equal weights are the plain concatenation / √2
    even = encoders.FusedEncoder(fused.parts)
    np.testing.assert_allclose(even.encode_faces(fused.align_photos(paths)), np.hstack([f, g]) / np.sqrt(2), atol=1e-5)
    for bad in [(0.5,), (0.7, 0.7), (1.2, -0.2)]:
        with pytest.raises(ValueError, match="fusion weights must be 2 positive numbers summing to 1"):
            encoders.FusedEncoder(fused.parts, weights=bad)
    with pytest.raises(ValueError, match="fused encoder uses FaceNet's 'standardize'"):
        encoders.load("facenet+dlib", preprocessing="course")


def test_dlib_alignments_cut_different_chips_and_cache_apart(photos, tmp_home):
    """``alignment="landmarks"`` cuts dlib's chip from predicted dlib landmarks, the default ``"shape"`` with
    dlib's shape predictor (facelib.models.dlib_chip), ``"template"`` on the mean template."""
    from facelib.models.dlib_chip import chip_from_mtcnn, chip_from_shape

    path = photos[0][0]
    lm = encoders.load("dlib", alignment="landmarks")
    tm = encoders.load("dlib", alignment="template")
    sp = encoders.load("dlib")
    rgb = np.asarray(Image.open(path).convert("RGB"))
    chip = lm.align_photos([path])[0]
    kp = faces.detect_face(path).keypoints
    np.testing.assert_array_equal(chip, chip_from_mtcnn(rgb, kp))
    np.testing.assert_array_equal(sp.align_photos([path])[0], chip_from_shape(rgb, kp))
    assert np.abs(chip.astype(int) - tm.align_photos([path])[0].astype(int)).mean() > 1  # not the template's chip
    assert len({lm.cache_key, tm.cache_key, sp.cache_key}) == 3
    assert lm.threshold == encoders.THRESHOLDS[("dlib", "landmarks", True)]
    assert sp.threshold == encoders.THRESHOLDS[("dlib", "shape", True)] and encoders.DLIB_ALIGNMENT == "shape"
    with pytest.raises(ValueError, match="dlib alignment must be one of"):
        encoders.load("dlib", alignment="dlib")


def test_no_face_raises_or_is_centre_cropped_and_counted(photos, tmp_path):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((120, 100, 3), 128, np.uint8)).save(blank)
    enc = encoders.load("facenet")
    with pytest.raises(faces.NoFaceFoundError, match="no face found in .*blank.png; pass on_no_face='centre'"):
        enc.encode_photos([photos[0][0], blank])
    x = enc.encode_photos([photos[0][0], Image.open(blank), np.asarray(Image.open(photos[0][1]))],
                          on_no_face="centre")
    assert x.shape == (3, 128) and enc.not_found == 1 and enc.no_face.tolist() == [False, True, False]
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    # read, detected and encoded two photos at a time (memory bounded): the same rows and counts
    y = enc.encode_photos([blank, photos[0][0], Image.open(blank), photos[0][1], blank], on_no_face="centre", chunk=2)
    assert y.shape == (5, 128) and enc.not_found == 3 and enc.no_face.tolist() == [True, False, True, False, True]
    np.testing.assert_allclose(y[[1, 3]], x[[0, 2]], atol=1e-5)
    np.testing.assert_allclose(y[[0, 2, 4]], np.repeat(x[1:2], 3, axis=0), atol=1e-5)
    with pytest.raises(ValueError, match="chunk"):
        enc.encode_photos([blank], on_no_face="centre", chunk=0)
    kp = faces.centre_keypoints((120, 100))
    assert kp.shape == (5, 2) and 0 < kp[:, 0].min() and kp[:, 0].max() < 100 and kp[:, 1].max() < 120


def test_cache_gives_the_same_encodings(photos, tmp_home):
    paths = photos[0][:3]
    enc = encoders.load("dlib")
    fresh = enc.encode_photos(paths)
    cached = enc.encode_photos(paths, cache=True)
    again = enc.encode_photos(paths, cache=True)
    np.testing.assert_allclose(cached, fresh, atol=1e-5)
    np.testing.assert_array_equal(again, cached)
    assert len(list((tmp_home / "cache" / "mtcnn").rglob("*.json"))) == 3
    assert len(list((tmp_home / "cache" / "encodings").glob("dlib-*.npz"))) == 1


def test_calibrate_uses_the_equal_error_rate_not_raw_accuracy():
    """All pairs of 10 people × 10 photos are 91 % impostors: τ must balance FAR and FRR (lesson 01)."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 10)
    enc = rng.normal(size=(10, 8))[labels] * 0.7 + rng.normal(size=(100, 8)) * 0.5
    tau = faces.FaceDatabase(model=object()).calibrate(encodings=enc, labels=labels)
    i, j = np.triu_indices(100, 1)
    d, same = np.linalg.norm(enc[i] - enc[j], axis=1), labels[i] == labels[j]
    assert 0.08 < (same.mean()) < 0.1
    far, frr = np.mean(d[~same] <= tau), np.mean(d[same] > tau)
    assert abs(far - frr) < 0.01 and 0.02 < far < 0.5  # balanced, and the classes really overlap
    # the raw-accuracy threshold (brute force) is stricter and rejects many more genuine pairs
    cands = np.sort(d)
    acc = [np.mean((d <= t) == same) for t in cands]
    t_acc = cands[int(np.argmax(acc))]
    assert t_acc < tau and np.mean(d[same] > t_acc) > frr + 0.05


def test_face_database_with_an_encoder_round_trips_it(photos, tmp_path):
    paths, _ = photos
    db = faces.FaceDatabase(encoder="dlib")
    db.add("a", paths[0])
    db.add("b", paths[2])
    assert db.encoder_name == "dlib" and db.effective_threshold() == encoders.load("dlib").threshold
    assert db.encodings("a").shape == (1, 128)
    again = faces.FaceDatabase.load(db.save(tmp_path / "house.db"))
    assert again.encoder_name == "dlib"
    dist, who = again.identify(paths[1])
    assert who == "a" and dist < again.effective_threshold()
    np.testing.assert_allclose(again.encodings("a"), encoders.load("dlib").encode_photos([paths[0]]), atol=1e-5)


def test_cli_encoder_is_stored_and_not_mixed(photos, tmp_path, capsys):
    from facelib import cli

    paths, _ = photos
    db = tmp_path / "door.db"
    assert cli.main(["enroll", str(db), "a", str(paths[0]), "--encoder", "dlib"]) == 0
    assert faces.FaceDatabase.load(db).encoder_name == "dlib"
    assert cli.main(["enroll", str(db), "b", str(paths[2])]) == 0  # the stored encoder is used
    assert cli.main(["enroll", str(db), "c", str(paths[4]), "--encoder", "facenet"]) == 2
    assert "holds encodings of encoder 'dlib'; --encoder facenet cannot be mixed" in capsys.readouterr().err
    assert cli.main(["identify", str(db), str(paths[1]), "--json"]) == 0
    assert '"identity": "a"' in capsys.readouterr().out


def test_cached_detections_follow_the_detection_policy(photos, tmp_home):
    """A cached face found at 0.9 is reused under the fallback policy; a cached miss made without the
    fallback is detected again; the policy is written into each file."""
    import json

    from facelib.data import to_rgb_uint8

    paths = photos[0][:2]
    rgbs = [to_rgb_uint8(p) for p in paths]
    keys = [encoder_cache.photo_key(p, r) for p, r in zip(paths, rgbs)]
    files = [tmp_home / "cache" / "mtcnn" / k[:2] / f"{k}.json" for k in keys]
    for f in files:
        f.parent.mkdir(parents=True, exist_ok=True)
    planted = [[float(v), float(v)] for v in range(5)]
    # files made at 0.9 without fallback (sealed with this user's key, as facelib writes them): a face, and a miss
    seal = cache_seal.secret_key()
    encoder_cache._store_cached(files[0], encoder_cache.Detection(np.array(planted), 0.95), [0.9, None],
                                rgbs[0].shape, seal=seal, key=keys[0])
    encoder_cache._store_cached(files[1], encoder_cache.Detection(None, 0.0), [0.9, None], rgbs[1].shape,
                                seal=seal, key=keys[1])
    got = encoder_cache.detect_photos(rgbs, keys=keys)
    np.testing.assert_array_equal(got[0].keypoints, planted)  # reused as it is
    assert got[1].keypoints is not None and got[1].confidence > 0.9  # detected again
    assert json.loads(files[1].read_text())["policy"] == [0.9, faces.FALLBACK_CONFIDENCE]
    # another min_confidence is another policy: the planted face is not reused
    again = encoder_cache.detect_photos(rgbs[:1], keys=keys[:1], min_confidence=0.95)
    assert np.abs(again[0].keypoints - planted).max() > 10


def test_networks_see_at_most_encode_batch_faces_per_pass() -> None:
    import tensorflow as tf

    from facelib.faces import ENCODE_BATCH, encode_faces
    from facelib.faces.encoders import _batched

    seen: list[int] = []

    class Net:  # records each forward pass
        output_shape = (None, 4)

        def __call__(self, x, training=False):
            seen.append(len(x))
            return np.ones((len(x), 4), np.float32)

    faces = np.random.default_rng(0).integers(0, 256, (2 * ENCODE_BATCH + 3, 16, 16, 3), dtype=np.uint8)
    assert encode_faces(faces, Net(), progress=False).shape == (len(faces), 4)
    assert seen == [ENCODE_BATCH, ENCODE_BATCH, 3]   # a batch of 32 kept ~107 MB more for the whole kernel
    seen.clear()
    def network(t):   # _batched's networks take and return tensors
        return tf.constant(Net()(t.numpy()))

    assert _batched(network, lambda b: b.astype(np.float32))(faces).shape == (len(faces), 4)
    assert seen == [ENCODE_BATCH, ENCODE_BATCH, 3]


def test_encoders_and_encode_faces_share_one_trace_of_facenet(monkeypatch: pytest.MonkeyPatch) -> None:
    from facelib.faces import default_model, evaluation, traced_network

    model = default_model()
    x = np.random.default_rng(1).integers(0, 256, (2, 160, 160, 3), dtype=np.uint8)
    fn = traced_network(model)
    calls: list[int] = []

    def spy(t):
        calls.append(int(t.shape[0]))
        return fn(t)

    monkeypatch.setitem(evaluation._COMPILED, model, spy)
    encoders._traced.cache_clear()
    encoders._facenet_embed.cache_clear()
    try:
        plain = faces.encode_faces(x, model, progress=False)
        assert calls == [2]
        mine = encoders.load("facenet", preprocessing="course").encode_faces(x)   # the face and its mirror image
        assert calls == [2, 2, 2]   # a second trace of FaceNet cost ~25 MB more
    finally:
        encoders._traced.cache_clear()
        encoders._facenet_embed.cache_clear()
    assert fn.experimental_get_tracing_count() == 1
    assert mine.shape == plain.shape == (2, 128)
