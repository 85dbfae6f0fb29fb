"""facelib.faces.siamese: one shared encoder, training with triplet/contrastive losses, the logistic head."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from facelib import data, faces
from facelib.models import small_embedding_net

SHAPE = (16, 16, 1)


def tiny_encoder(dim=8):
    return small_embedding_net(SHAPE, dim=dim, width=4)


def toy_faces(n_people=4, per=4, seed=0):
    rng = np.random.default_rng(seed)
    protos = rng.random((n_people, *SHAPE)).astype(np.float32)
    y = np.repeat(np.arange(n_people), per)
    x = np.clip(protos[y] + 0.05 * rng.normal(size=(len(y), *SHAPE)), 0, 1).astype(np.float32)
    return x, y


def test_siamese_branches_share_one_encoder():
    enc = tiny_encoder()
    model = faces.SiameseNetwork(enc, loss="triplet")
    x, _ = toy_faces()
    fa, fp, fn = model((x, x, x[::-1]))
    # one copy of the weights: the model's variables ARE the encoder's
    assert len(model.trainable_variables) == len(enc.trainable_variables)
    assert {id(v) for v in model.trainable_variables} == {id(v) for v in enc.trainable_variables}
    np.testing.assert_array_equal(np.asarray(fa), np.asarray(fp))
    np.testing.assert_array_equal(np.asarray(fn), np.asarray(fa)[::-1])
    # changing the encoder changes every branch the same way
    w = enc.get_layer("embedding")
    w.kernel.assign(w.kernel * 2.0 + 0.1)
    ga, gp, _ = model((x, x, x))
    assert not np.allclose(np.asarray(ga), np.asarray(fa))
    np.testing.assert_array_equal(np.asarray(ga), np.asarray(gp))


def test_siamese_triplet_training_lowers_loss_and_updates_the_shared_encoder():
    x, y = toy_faces()
    enc = tiny_encoder()
    model = faces.SiameseNetwork(enc, loss="triplet", margin=0.5)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    ds = data.triplet_dataset(x, y, batch_size=16, seed=0)
    before = [v.numpy().copy() for v in enc.trainable_variables]
    (a, p, n), _ = next(iter(ds))
    loss0 = float(faces.triplet_loss(None, model((a, p, n)), alpha=0.5)) / 16
    hist = model.fit(ds, steps_per_epoch=30, epochs=1, verbose=0)
    loss1 = float(faces.triplet_loss(None, model((a, p, n)), alpha=0.5)) / 16
    assert loss1 < loss0
    assert np.isfinite(hist.history["loss"][0])
    changed = [not np.allclose(b, v.numpy()) for b, v in zip(before, enc.trainable_variables)]
    assert all(changed)


def test_siamese_contrastive_training_runs_and_separates():
    x, y = toy_faces()
    enc = tiny_encoder()
    model = faces.SiameseNetwork(enc, loss="contrastive")
    assert model.margin == 1.0
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(data.pair_dataset(x, y, batch_size=16, seed=0), steps_per_epoch=40, epochs=1, verbose=0)
    e = np.asarray(enc(x, training=False))
    d = np.linalg.norm(e[:, None] - e[None], axis=-1)
    same = y[:, None] == y[None]
    assert d[same].mean() < d[~same].mean()


def test_siamese_bad_arguments():
    with pytest.raises(ValueError, match="triplet"):
        faces.SiameseNetwork(tiny_encoder(), loss="softmax")
    x, _ = toy_faces()
    with pytest.raises(ValueError, match="tuple of 2"):
        faces.SiameseNetwork(tiny_encoder())(x)


def test_pair_features_formulas():
    fa = np.array([[0.5, -0.2, 0.0]], np.float32)
    fb = np.array([[0.1, 0.3, 0.0]], np.float32)
    np.testing.assert_allclose(np.asarray(faces.PairFeatures("abs")([fa, fb])), [[0.4, 0.5, 0.0]], atol=1e-6)
    # chi2: 0.16/0.6, 0.25/0.5, 0/eps -> 0
    np.testing.assert_allclose(np.asarray(faces.PairFeatures("chi2")([fa, fb])), [[0.16 / 0.6, 0.5, 0.0]], atol=1e-5)
    # non-negative encodings: exactly the lecture's (a-b)²/(a+b)
    pa, pb = np.abs(fa) + 0.1, np.abs(fb) + 0.2
    np.testing.assert_allclose(np.asarray(faces.PairFeatures("chi2", epsilon=0.0)([pa, pb])),
                               (pa - pb) ** 2 / (pa + pb), rtol=1e-5)
    with pytest.raises(ValueError, match="head"):
        faces.PairFeatures("cosine")


@pytest.mark.parametrize("head", ["abs", "chi2"])
def test_binary_verification_model_shares_encoder_and_is_logistic(head, tmp_path):
    enc = tiny_encoder()
    model = faces.binary_verification_model(enc, head=head)
    # encoder weights + logistic unit (w, b), no second copy of the encoder
    assert len(model.trainable_variables) == len(enc.trainable_variables) + 2
    x, y = toy_faces()
    i, j, same = data.pair_indices(y, 12, seed=0)
    y_hat = np.asarray(model([x[i], x[j]])).ravel()
    # reference: σ(w·features + b) with NumPy on the encoder's outputs
    ea, eb = np.asarray(enc(x[i])), np.asarray(enc(x[j]))
    feats = np.abs(ea - eb) if head == "abs" else (ea - eb) ** 2 / (np.abs(ea) + np.abs(eb) + 1e-6)
    dense = model.get_layer("verification_head").get_layer("logistic")
    w, b = (v.numpy() for v in dense.weights)
    ref = 1.0 / (1.0 + np.exp(-(feats @ w[:, 0] + b[0])))
    np.testing.assert_allclose(y_hat, ref, rtol=1e-4, atol=1e-6)
    # pre-computed encodings give the same ŷ
    np.testing.assert_allclose(faces.verification_scores(model, ea, eb), ref, rtol=1e-4, atol=1e-6)
    # symmetric in the two photos
    np.testing.assert_allclose(np.asarray(model([x[j], x[i]])).ravel(), y_hat, rtol=1e-5)
    # .keras round trip (registered PairFeatures and L2Normalize)
    model.save(tmp_path / "bv.keras")
    loaded = keras.models.load_model(tmp_path / "bv.keras")
    np.testing.assert_allclose(np.asarray(loaded([x[i], x[j]])).ravel(), y_hat, rtol=1e-6)


def test_binary_verification_trains():
    x, y = toy_faces()
    model = faces.binary_verification_model(tiny_encoder(), head="abs")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    ds = data.pair_dataset(x, y, batch_size=16, seed=0).map(lambda xy, s: ((xy[0], xy[1]), s))
    h = model.fit(ds, steps_per_epoch=40, epochs=2, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    with pytest.raises(ValueError, match="head"):
        faces.binary_verification_model(tiny_encoder(), head="l2")
    with pytest.raises(ValueError, match="same shape"):
        faces.verification_scores(model, np.zeros((2, 8)), np.zeros((3, 8)))
