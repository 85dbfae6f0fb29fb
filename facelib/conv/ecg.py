"""The electrocardiogram (ECG) of the 1D-convolution lesson: recordings, filtering, a time split.

Lecture idea (week 4, "1D and 3D generalizations"): a convolution is not tied to images; a 1D
input of length ``n`` with ``n_c`` channels is a signal such as an ECG lead. This module holds the
data side of lesson 08 (:mod:`facelib.conv.signals` trains the Conv1D models on it):

- :func:`load_mitbih_record` (MIT-BIH Arrhythmia record 100, 360 samples a second, annotated
  beats and labelled windows, as an :class:`ECGRecord`) and :func:`load_electrocardiogram`
  (scipy's recording of another patient), in millivolts.
- :func:`bandpass`: the zero-phase filter every recording goes through before the detector.
- :func:`time_split`: the record holds a single patient, so every split is *by time*: the first
  80 % of the recording trains, the last 20 % tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["ECGRecord", "load_mitbih_record", "load_electrocardiogram", "bandpass", "time_split"]


@dataclass(frozen=True)
class ECGRecord:
    """One ECG recording and its annotations.

    Attributes:
        signal: ``(n_samples,) float32`` lead MLII in millivolts (``(digital - 1024) / 200``).
        signals: ``(n_samples, 2) float32`` both leads (MLII, V5) in millivolts.
        fs: sampling rate in Hz (360).
        beat_samples: ``(n_beats,) int64`` sample index of each annotated beat (R peak).
        beat_symbols: ``(n_beats,) <U1`` beat type: ``N`` normal, ``A`` atrial premature,
            ``V`` premature ventricular.
        windows: ``(n_windows, 256) float32`` MLII windows in mV, centred (index 128) on a beat
            or on a non-beat instant at least 54 samples from every beat.
        window_labels: ``(n_windows,) int64`` 0 none, 1 N, 2 A, 3 V.
        window_centers: ``(n_windows,) int64`` sample index of each window's centre.
        label_names: ``("none", "N", "A", "V")``.
        record: record name (``"100"``).
    """

    signal: np.ndarray
    signals: np.ndarray
    fs: int
    beat_samples: np.ndarray
    beat_symbols: np.ndarray
    windows: np.ndarray
    window_labels: np.ndarray
    window_centers: np.ndarray
    label_names: tuple[str, ...]
    record: str

    @property
    def duration_s(self) -> float:
        """Length of the recording in seconds."""
        return len(self.signal) / self.fs


def _ecg_file(path: str | Path | None, asset: str, what: str) -> Path:
    """``path``, or the registry asset ``asset`` when ``None``; ``FileNotFoundError`` naming it when absent."""
    if path is None:
        from facelib import assets

        path = assets.fetch(asset)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} not found (run `facelib fetch {asset}`)")
    return path


def load_mitbih_record(path: str | Path | None = None) -> ECGRecord:
    """Load MIT-BIH Arrhythmia record 100 (asset ``mitbih-100``) in millivolts.

    Args:
        path: the ``.npz`` file; default ``facelib.assets.fetch("mitbih-100")``.

    Returns:
        An :class:`ECGRecord`: 650000 samples at 360 Hz (30 min 5 s), 2273 beats
        (N 2239, A 33, V 1) and 4542 labelled 256-sample windows.
    """
    path = _ecg_file(path, "mitbih-100", "ECG record")
    with np.load(path, allow_pickle=False) as d:
        needed = {"signal", "fs", "gain", "baseline", "beat_samples", "beat_symbols", "windows",
                  "window_labels", "window_centers", "label_names", "record"}
        missing = needed - set(d.files)
        if missing:
            raise ValueError(f"{path} lacks the keys {sorted(missing)} (expected the mitbih-100 asset)")
        raw = d["signal"]
        if raw.ndim != 2 or raw.shape[1] != 2:
            raise ValueError(f"{path}: signal must have shape (n, 2), got {raw.shape}")
        mv = ((raw.astype(np.float32) - float(d["baseline"])) / float(d["gain"])).astype(np.float32)
        return ECGRecord(
            signal=np.ascontiguousarray(mv[:, 0]),
            signals=mv,
            fs=int(d["fs"]),
            beat_samples=d["beat_samples"].astype(np.int64),
            beat_symbols=d["beat_symbols"].astype(str),
            windows=d["windows"].astype(np.float32),
            window_labels=d["window_labels"].astype(np.int64),
            window_centers=d["window_centers"].astype(np.int64),
            label_names=tuple(str(x) for x in d["label_names"]),
            record=str(d["record"]),
        )


def load_electrocardiogram(path: str | Path | None = None) -> tuple[np.ndarray, int]:
    """Load scipy's ``electrocardiogram()`` recording (MIT-BIH record 208 excerpt) in millivolts.

    ``scipy.datasets.electrocardiogram()`` needs the optional package ``pooch`` to locate its
    file. We read the very same file (asset ``scipy-ecg``, an ``.npz`` with key ``"ecg"``,
    ``uint16``) with ``np.load(allow_pickle=False)`` and apply scipy's own conversion
    ``(ecg - 1024) / 200.0``, so the values equal scipy's.

    Returns:
        ``(signal, fs)``: ``(108000,) float64`` millivolts (5 minutes) and ``fs = 360`` Hz.
        Another patient than record 100, with many premature ventricular beats; no labels.
    """
    path = _ecg_file(path, "scipy-ecg", "ECG file")
    with np.load(path, allow_pickle=False) as d:
        if "ecg" not in d.files:
            raise ValueError(f"{path} has no key 'ecg' (keys: {d.files}); expected scipy's ecg.dat")
        ecg = d["ecg"].astype(np.int64)
    return (ecg - 1024) / 200.0, 360


def bandpass(signal: np.ndarray, fs: float, low: float = 0.5, high: float = 40.0) -> np.ndarray:
    """Zero-phase Butterworth band-pass (order 2, ``low``–``high`` Hz) of a 1D signal.

    Removes baseline wander (< 0.5 Hz) and mains/muscle noise (> 40 Hz) so that the detector
    sees the same kind of input on every recording.

    Args:
        signal: ``(n,)`` float, millivolts.
        fs: sampling rate in Hz.

    Returns:
        ``(n,) float32``.
    """
    from scipy.signal import butter, sosfiltfilt

    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"signal must be 1D (n,), got shape {x.shape}")
    sos = butter(2, [low, high], btype="bandpass", fs=fs, output="sos")
    return sosfiltfilt(sos, x).astype(np.float32)


def time_split(n_samples: int, train_fraction: float = 0.8) -> int:
    """The sample index where the test span starts: ``int(train_fraction * n_samples)``.

    One patient only, so samples are split by time: ``[0, cut)`` trains, ``[cut, n)`` tests.
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    return int(train_fraction * n_samples)
