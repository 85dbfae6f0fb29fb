"""facelib.signals against Keras layers, NumPy references and hand-worked numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from facelib import signals as S  # noqa: E402


# --------------------------------------------------------------------------- output length vs Keras

def keras_conv1d_length(n: int, f: int, stride: int, padding: str) -> int:
    layer = keras.layers.Conv1D(1, f, strides=stride, padding=padding)
    return int(layer(np.zeros((1, n, 1), dtype=np.float32)).shape[1])


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_output_length_matches_keras(padding: str) -> None:
    checked = 0
    for n, f, stride in itertools.product([5, 8, 14, 17, 32], [1, 2, 3, 5], [1, 2, 3]):
        if padding == "valid" and f > n:
            continue
        assert S.conv1d_output_length(n, f, stride, padding) == keras_conv1d_length(n, f, stride, padding), (n, f, stride)
        checked += 1
    assert checked == 60


def test_conv1d_output_length_lecture_and_hand_cases() -> None:
    # lecture: 14x1 input, filters of 5 -> 10 positions
    assert S.conv1d_output_length(14, 5) == 10
    # (n - f)//s + 1 worked by hand: (10 - 3)//2 + 1 = 4; filter larger than input -> nothing
    assert S.conv1d_output_length(10, 3, 2) == 4
    assert S.conv1d_output_length(3, 5) == 0
    assert S.conv1d_output_length(7, 3, 2, "same") == 4
    # dilation 2 makes a size-3 filter span 5 samples
    assert S.conv1d_output_length(14, 3, dilation=2) == 10


@pytest.mark.parametrize("kwargs, word", [({"padding": "full"}, "padding"), ({"stride": 0}, "stride"),
                                          ({"f": 0}, "f")])
def test_conv1d_output_length_bad_arguments(kwargs: dict, word: str) -> None:
    args = {"n": 14, "f": 5, **kwargs}
    with pytest.raises(ValueError, match=word):
        S.conv1d_output_length(**args)


# --------------------------------------------------------------------------- NumPy conv1d vs Keras

def test_conv1d_numpy_hand_worked() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])[:, None]
    w = np.array([1.0, 0.0, -1.0])[:, None, None]
    np.testing.assert_allclose(S.conv1d_numpy(x, w)[:, 0], [-2.0, -2.0])
    np.testing.assert_allclose(S.conv1d_numpy(x, w, b=np.array([0.5]))[:, 0], [-1.5, -1.5])


@pytest.mark.parametrize("padding, stride", [("valid", 1), ("valid", 2), ("same", 1), ("same", 3), ("causal", 1),
                                             ("causal", 2)])
def test_conv1d_numpy_equals_keras_layer(padding: str, stride: int) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 23, 3)).astype(np.float32)
    layer = keras.layers.Conv1D(4, 5, strides=stride, padding=padding)
    got_keras = np.asarray(layer(x))
    w, b = (np.asarray(v) for v in layer.get_weights())
    b = rng.normal(size=b.shape).astype(np.float32)
    layer.set_weights([w, b])
    got_keras = np.asarray(layer(x))
    ours = S.conv1d_numpy(x, w, b, stride=stride, padding=padding)
    assert ours.shape == got_keras.shape
    np.testing.assert_allclose(ours, got_keras, atol=1e-5)


def test_lecture_conv1d_shape_and_parameters() -> None:
    layer = keras.layers.Conv1D(16, 5)
    out = layer(np.zeros((1, 14, 1), dtype=np.float32))
    assert tuple(out.shape) == (1, 10, 16)
    assert layer.count_params() == 5 * 1 * 16 + 16 == 96


@pytest.mark.parametrize("x, w, word", [(np.zeros(14), np.zeros((5, 1, 16)), "x"),
                                        (np.zeros((14, 1)), np.zeros((5, 16)), "w"),
                                        (np.zeros((14, 2)), np.zeros((5, 1, 16)), "w")])
def test_conv1d_numpy_wrong_rank(x: np.ndarray, w: np.ndarray, word: str) -> None:
    with pytest.raises(ValueError, match=rf"^{word} must have shape"):
        S.conv1d_numpy(x, w)


# --------------------------------------------------------------------------- loaders

@pytest.fixture(scope="module")
def record() -> S.ECGRecord:
    return S.load_mitbih_record()


def test_load_mitbih_record_shapes_and_labels(record: S.ECGRecord) -> None:
    assert record.fs == 360 and record.record == "100"
    assert record.signal.shape == (650000,) and record.signal.dtype == np.float32
    assert record.signals.shape == (650000, 2)
    assert record.beat_samples.shape == (2273,)
    symbols, counts = np.unique(record.beat_symbols, return_counts=True)
    assert dict(zip(symbols.tolist(), counts.tolist())) == {"N": 2239, "A": 33, "V": 1}
    assert record.windows.shape == (4542, 256) and record.windows.dtype == np.float32
    assert set(np.unique(record.window_labels).tolist()) == {0, 1, 2, 3}
    assert record.label_names == ("none", "N", "A", "V")
    assert np.all(np.diff(record.beat_samples) > 0)
    assert record.duration_s == pytest.approx(650000 / 360)


def test_load_mitbih_record_millivolts(record: S.ECGRecord) -> None:
    from facelib import assets

    with np.load(assets.fetch("mitbih-100"), allow_pickle=False) as d:
        raw = d["signal"].astype(np.float64)
    # digital 995 at t=0 on MLII: (995 - 1024) / 200 mV
    assert raw[0, 0] == 995 and record.signal[0] == pytest.approx(-0.145)
    np.testing.assert_allclose(record.signals, (raw - 1024) / 200, atol=1e-6)
    # every stored window is the MLII signal around its centre (index 128 of 256)
    for i in (0, 1000, 4541):
        c = record.window_centers[i]
        np.testing.assert_allclose(record.windows[i], record.signal[c - 128: c + 128], atol=1e-6)
    # beat windows sit on annotated beats, non-beat windows >= 54 samples away from all beats
    beat_windows = record.window_centers[record.window_labels > 0]
    assert np.isin(beat_windows, record.beat_samples).all()
    none = record.window_centers[record.window_labels == 0]
    gap = np.abs(none[:, None] - record.beat_samples[None, :]).min(axis=1)
    assert gap.min() >= 54


def test_load_electrocardiogram() -> None:
    ecg, fs = S.load_electrocardiogram()
    assert fs == 360 and ecg.shape == (108000,) and ecg.dtype == np.float64
    # first raw values of scipy's ecg.dat are 975, 981: scipy's conversion (ecg - 1024) / 200
    np.testing.assert_allclose(ecg[:2], [(975 - 1024) / 200, (981 - 1024) / 200])


def test_load_electrocardiogram_wrong_file(tmp_path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, signal=np.zeros(3))
    with pytest.raises(ValueError, match="'ecg'"):
        S.load_electrocardiogram(bad)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        S.load_mitbih_record(tmp_path / "missing.npz")


def test_time_split() -> None:
    assert S.time_split(650000) == 520000
    with pytest.raises(ValueError, match="train_fraction"):
        S.time_split(100, 1.5)


# --------------------------------------------------------------------------- detector plumbing

def test_detector_windows_respect_span_and_gaps(record: S.ECGRecord) -> None:
    sig = record.signal
    x, y, centres = S.make_detector_windows(sig, record.beat_samples, 0, 100000, seed=3)
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
    model = S.beat_detector()
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
    found = S.detect_beats(np.zeros(2000, np.float32), _FakeModel(prob), fs=360, filtered=True)
    np.testing.assert_array_equal(found, [88, 460])


def test_detect_beats_wrong_rank() -> None:
    with pytest.raises(ValueError, match=r"signal must be 1D \(n,\), got shape \(2, 100\)"):
        S.detect_beats(np.zeros((2, 100)), _FakeModel(np.zeros(1)))


def test_match_beats_hand_worked() -> None:
    # tolerance 50 ms at 360 Hz = 18 samples
    m = S.match_beats([100, 200, 300], [105, 260, 301, 302])
    assert (m.tp, m.fp, m.fn) == (2, 2, 1)   # 105-100, 301-300; 302 is a duplicate, 260 too far
    assert m.precision == pytest.approx(0.5)
    assert m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(4 / 7)
    assert S.match_beats([100], [118]).tp == 1 and S.match_beats([100], [119]).tp == 0
    # closest pairs first: 110 goes to 115's nearer beat 112, not 100
    m2 = S.match_beats([100, 112], [110])
    assert (m2.tp, m2.fp, m2.fn) == (1, 0, 1)


def test_trained_detector_finds_held_out_beats(record: S.ECGRecord) -> None:
    model, info = S.train_beat_detector(record, epochs=2, copies=1)
    cut = info["cut"]
    assert cut == 520000
    found = S.detect_beats(record.signal[cut:], model, record.fs)
    true = record.beat_samples[record.beat_samples >= cut] - cut
    m = S.match_beats(true, found)
    assert m.f1 >= 0.95, m
