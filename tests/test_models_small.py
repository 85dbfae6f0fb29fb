"""facelib.models.small: size, unit-norm encodings, L2Normalize, .keras round trip."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from facelib.models import L2Normalize, small_embedding_net


def test_l2normalize_matches_numpy():
    x = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
    got = np.asarray(L2Normalize()(x))
    np.testing.assert_allclose(got, x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
    # the zero vector stays zero instead of becoming NaN
    assert np.all(np.asarray(L2Normalize()(np.zeros((1, 3), np.float32))) == 0)


@pytest.mark.parametrize("shape", [(64, 64, 1), (62, 47, 3)])
def test_small_embedding_net_shapes_and_size(shape):
    model = small_embedding_net(shape, dim=128)
    assert model.count_params() <= 4_000_000
    x = np.random.default_rng(1).random((3, *shape)).astype(np.float32)
    e = np.asarray(model(x))
    assert e.shape == (3, 128)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(e[0], e[1])  # different images, different encodings


def test_small_embedding_net_bad_args():
    with pytest.raises(ValueError, match="input_shape"):
        small_embedding_net((64, 64))
    with pytest.raises(ValueError, match="dim"):
        small_embedding_net((64, 64, 1), dim=0)


def test_keras_round_trip_gives_same_embeddings(tmp_path):
    model = small_embedding_net((32, 32, 1), dim=16, width=8)
    x = np.random.default_rng(2).random((4, 32, 32, 1)).astype(np.float32)
    # one training step so that BatchNorm statistics and weights are not the initial ones
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((4, 16), np.float32), epochs=1, verbose=0)
    before = np.asarray(model(x))
    path = tmp_path / "enc.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert any(isinstance(layer, L2Normalize) for layer in loaded.layers)
    np.testing.assert_array_equal(np.asarray(loaded(x)), before)
    # weights only, too
    w = tmp_path / "enc.weights.h5"
    model.save_weights(w)
    fresh = small_embedding_net((32, 32, 1), dim=16, width=8)
    assert not np.allclose(np.asarray(fresh(x)), before)
    fresh.load_weights(w)
    np.testing.assert_array_equal(np.asarray(fresh(x)), before)
