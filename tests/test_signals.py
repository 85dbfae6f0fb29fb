"""facelib.conv.signals against Keras layers, NumPy references and hand-worked numbers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from facelib import conv


@pytest.fixture(scope="module")
def record() -> conv.ECGRecord:
    return conv.load_mitbih_record()


# --------------------------------------------------------------------------- detector plumbing

def test_detector_windows_respect_span_and_gaps(record: conv.ECGRecord) -> None:
    sig = record.signal
    x, y, centres = conv.make_detector_windows(sig, record.beat_samples, 0, 100000, seed=3)
    assert x.shape == (len(y), 256, 1) and x.dtype == np.float32
    assert 0 < y.mean() < 1
    assert (centres - 128 >= 0).all() and (centres + 128 <= 100000).all()
    nearest = np.abs(centres[:, None] - record.beat_samples[None, :]).min(axis=1)
    assert (nearest[y == 1] <= 3).all()
    assert (nearest[y == 0] >= 18).all()
    for i in (0, len(y) // 2, len(y) - 1):
        np.testing.assert_array_equal(x[i, :, 0], sig[centres[i] - 128: centres[i] + 128])


def test_detector_shapes_and_sliding_equals_windows() -> None:
    keras.utils.set_random_seed(0)
    model = conv.beat_detector()
    assert model(np.zeros((2, 256, 1), np.float32)).shape == (2, 1, 1)
    # the fully convolutional pass over a long signal equals the model on each window at stride 4
    rng = np.random.default_rng(0)
    long = rng.normal(size=(1, 256 + 4 * 30, 1)).astype(np.float32)
    dense = np.asarray(model(long))[0, :, 0]
    assert dense.shape == (31,)
    windows = np.stack([long[0, 4 * i: 4 * i + 256] for i in range(31)])
    one_by_one = np.asarray(model(windows))[:, 0, 0]
    np.testing.assert_allclose(dense, one_by_one, atol=1e-5)


class _FakeModel:
    """Returns fixed per-position probabilities, to test peak picking alone."""

    def __init__(self, prob: np.ndarray) -> None:
        self.prob = prob

    def __call__(self, x, training=False):
        n_out = (x.shape[1] - 256) // 4 + 1
        p = np.zeros(n_out, np.float32)
        p[: len(self.prob)] = self.prob[:n_out]
        return p[None, :, None]


def test_detect_beats_non_max_suppression() -> None:
    prob = np.zeros(500, np.float32)
    # steps of 4 samples; refractory 0.2 s * 360 Hz / 4 = 18 steps; threshold 0.5
    prob[[20, 22]] = [0.9, 0.95]            # 2 steps apart: only the stronger (22) stays
    prob[[100, 115, 120]] = [0.7, 0.8, 0.6]  # within 18 steps of 115: 100 and 120 are suppressed
    prob[300] = 0.4                          # below the threshold
    found = conv.detect_beats(np.zeros(2000, np.float32), _FakeModel(prob), fs=360, filtered=True)
    np.testing.assert_array_equal(found, [88, 460])


def test_detect_beats_wrong_rank() -> None:
    with pytest.raises(ValueError, match=r"signal must be 1D \(n,\), got shape \(2, 100\)"):
        conv.detect_beats(np.zeros((2, 100)), _FakeModel(np.zeros(1)))


def test_match_beats_hand_worked() -> None:
    # tolerance 50 ms at 360 Hz = 18 samples
    m = conv.match_beats([100, 200, 300], [105, 260, 301, 302])
    assert (m.tp, m.fp, m.fn) == (2, 2, 1)   # 105-100, 301-300; 302 is a duplicate, 260 too far
    assert m.precision == pytest.approx(0.5)
    assert m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(4 / 7)
    assert conv.match_beats([100], [118]).tp == 1 and conv.match_beats([100], [119]).tp == 0
    # closest pairs first: 110 goes to 115's nearer beat 112, not 100
    m2 = conv.match_beats([100, 112], [110])
    assert (m2.tp, m2.fp, m2.fn) == (1, 0, 1)


def test_trained_detector_finds_held_out_beats(record: conv.ECGRecord) -> None:
    model, info = conv.train_beat_detector(record, epochs=2, copies=1)
    cut = info["cut"]
    assert cut == 520000
    found = conv.detect_beats(record.signal[cut:], model, record.fs)
    true = record.beat_samples[record.beat_samples >= cut] - cut
    m = conv.match_beats(true, found)
    assert m.f1 >= 0.95, m
