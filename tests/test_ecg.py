"""facelib.conv.ecg: the two recordings in millivolts (against their raw files), errors, the time split."""

from __future__ import annotations

import numpy as np
import pytest

from facelib import conv

# --------------------------------------------------------------------------- loaders

@pytest.fixture(scope="module")
def record() -> conv.ECGRecord:
    return conv.load_mitbih_record()


def test_load_mitbih_record_shapes_and_labels(record: conv.ECGRecord) -> None:
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


def test_load_mitbih_record_millivolts(record: conv.ECGRecord) -> None:
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
    signal, fs = conv.load_electrocardiogram()
    assert fs == 360 and signal.shape == (108000,) and signal.dtype == np.float64
    # first raw values of scipy's ecg.dat are 975, 981: scipy's conversion (ecg - 1024) / 200
    np.testing.assert_allclose(signal[:2], [(975 - 1024) / 200, (981 - 1024) / 200])


def test_load_electrocardiogram_wrong_file(tmp_path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, signal=np.zeros(3))
    with pytest.raises(ValueError, match="'ecg'"):
        conv.load_electrocardiogram(bad)
    with pytest.raises(FileNotFoundError, match=r"ECG record .*missing.npz not found \(run `facelib fetch mitbih-100"):
        conv.load_mitbih_record(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError, match=r"ECG file .*missing.npz not found \(run `facelib fetch scipy-ecg`\)"):
        conv.load_electrocardiogram(tmp_path / "missing.npz")


def test_time_split() -> None:
    assert conv.time_split(650000) == 520000
    with pytest.raises(ValueError, match="train_fraction"):
        conv.time_split(100, 1.5)
