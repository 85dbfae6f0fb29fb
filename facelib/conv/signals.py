"""1D convolutions on real signals: finding heartbeats in an electrocardiogram (ECG).

Lecture idea (week 4, "1D and 3D generalizations"): a convolution is not tied to images. A 1D
input of length ``n`` with ``n_c`` channels, convolved with ``n_c'`` filters of size ``f``, gives
``n - f + 1`` positions × ``n_c'`` channels: the lecture's 14×1 input and 16 filters of size 5 give
10×16. Here the 1D input is an ECG lead (MIT-BIH Arrhythmia record 100, 360 samples a second).

What lives here: the models of lesson 08.

- :func:`beat_detector` / :func:`train_beat_detector` / :func:`detect_beats`: a small fully
  convolutional Conv1D model trained on 256-sample windows ("is there a beat at the centre?").
  Because every layer is a convolution or a pooling, the same model slides over a recording of
  any length in one call: that *is* the sliding window, computed convolutionally.
- :func:`match_beats`: precision / recall / F1 of found beats against annotations, with a
  tolerance (±50 ms by default).
- :func:`beat_classifier` / :func:`train_beat_classifier`: N (normal) vs A (atrial premature) beats
  on the annotated windows (only 33 A beats in the record: a hard, honest small-data example).

The record holds a single patient, so every split is *by time*: the first 80 % of the recording
trains, the last 20 % tests (:func:`time_split`).

The recording itself (loading, filtering, the split) is :mod:`facelib.conv.ecg`; the output-length
formula and a NumPy reference of ``keras.layers.Conv1D`` are :mod:`facelib.conv.arithmetic`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from facelib.conv.arithmetic import conv1d_output_length
from facelib.conv.ecg import ECGRecord, bandpass, load_mitbih_record, time_split

__all__ = [
    "BeatMatch",
    "make_detector_windows",
    "beat_detector",
    "train_beat_detector",
    "beat_probabilities",
    "detect_beats",
    "match_beats",
    "beat_classifier",
    "train_beat_classifier",
    "DETECTOR_WINDOW",
    "DETECTOR_STRIDE",
]

#: Samples seen by the beat detector at once (256 samples = 0.71 s at 360 Hz).
DETECTOR_WINDOW = 256
#: Output step of the detector: two ``MaxPooling1D(2)`` layers → one probability every 4 samples.
DETECTOR_STRIDE = 4


# --------------------------------------------------------------------------- the beat detector

def make_detector_windows(signal: np.ndarray, beats: np.ndarray, start: int, stop: int, *,
                          window: int = DETECTOR_WINDOW, jitter: int = 3, copies: int = 3,
                          negatives_per_beat: float = 3.0, min_gap: int = 18,
                          seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training windows for the detector from the span ``[start, stop)`` of a (filtered) signal.

    Positives: windows centred within ``±jitter`` samples of a beat (``copies`` per beat).
    Negatives: windows centred at least ``min_gap`` samples (18 = 50 ms at 360 Hz) from every
    beat, half of them "hard" (within 150 ms of a beat: the rising/falling QRS), half anywhere.
    Windows never cross ``start``/``stop``, so the test span stays unseen.

    Args:
        signal: ``(n,)`` float, the whole (band-passed) recording.
        beats: ``(n_beats,)`` int annotated beat samples.

    Returns:
        ``(x, y, centres)``: ``(m, window, 1) float32``, ``(m,) float32`` in {0, 1} and
        ``(m,) int64`` window centres (window ``i`` is ``signal[centres[i] - window//2:][:window]``).
    """
    sig = np.asarray(signal, dtype=np.float32)
    if sig.ndim != 1:
        raise ValueError(f"signal must be 1D (n,), got shape {sig.shape}")
    rng = np.random.default_rng(seed)
    half = window // 2
    lo, hi = start + half, stop - (window - half)
    beats = np.sort(np.asarray(beats, dtype=np.int64))
    inside = beats[(beats >= lo + jitter) & (beats < hi - jitter)]
    pos = (np.repeat(inside, copies) + rng.integers(-jitter, jitter + 1, len(inside) * copies))
    n_neg = int(negatives_per_beat * len(inside))
    hard = np.repeat(inside, 2)[: n_neg // 2] + rng.choice([-1, 1], n_neg // 2) * rng.integers(min_gap, 54, n_neg // 2)
    anywhere = rng.integers(lo, hi, 4 * n_neg)
    cand = np.concatenate([hard, anywhere])
    cand = cand[(cand >= lo) & (cand < hi)]
    around = np.clip(np.searchsorted(beats, cand), 1, len(beats) - 1)[:, None] + np.array([-1, 0])
    nearest = np.abs(beats[around] - cand[:, None]).min(1)
    cand = cand[nearest >= min_gap]
    neg = np.concatenate([cand[: n_neg // 2], rng.permutation(cand[n_neg // 2:])[: n_neg - n_neg // 2]])
    centres = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))]).astype(np.float32)
    idx = centres[:, None] - half + np.arange(window)[None, :]
    x = sig[idx][..., None]
    order = rng.permutation(len(y))
    return x[order], y[order], centres[order].astype(np.int64)


def beat_detector(window: int = DETECTOR_WINDOW, filters: tuple[int, int, int] = (8, 16, 16),
                  kernel_size: int = 9) -> Any:
    """A small fully convolutional Conv1D beat detector.

    Layers (for ``window = 256``): ``Conv1D(8, 9)`` → 248×8, ``MaxPooling1D(2)`` → 124×8,
    ``Conv1D(16, 9)`` → 116×16, ``MaxPooling1D(2)`` → 58×16, ``Conv1D(16, 9)`` → 50×16,
    ``Conv1D(1, 50, sigmoid)`` → 1×1: the probability that a beat sits at the window's centre.

    The input length is ``None``: given a whole recording ``(1, n, 1)``, the model returns
    ``(1, (n - window) // 4 + 1, 1)``, the probability for the window starting at every 4th
    sample (see :func:`beat_probabilities`).

    Returns:
        an uncompiled ``keras.Model`` mapping ``(batch, n, 1) float32`` → ``(batch, n', 1)``.
    """
    import keras
    from keras import layers

    n = window
    for _ in range(2):
        n = conv1d_output_length(n, kernel_size) // 2
    n = conv1d_output_length(n, kernel_size)
    if n < 1:
        raise ValueError(f"window={window} is too short for kernel_size={kernel_size}")
    inputs = keras.Input((None, 1), name="ecg")
    h = layers.Conv1D(filters[0], kernel_size, activation="relu", name="conv1")(inputs)
    h = layers.MaxPooling1D(2, name="pool1")(h)
    h = layers.Conv1D(filters[1], kernel_size, activation="relu", name="conv2")(h)
    h = layers.MaxPooling1D(2, name="pool2")(h)
    h = layers.Conv1D(filters[2], kernel_size, activation="relu", name="conv3")(h)
    out = layers.Conv1D(1, n, activation="sigmoid", name="beat")(h)
    return keras.Model(inputs, out, name="beat_detector")


def train_beat_detector(record: ECGRecord | None = None, *, epochs: int = 8, train_fraction: float = 0.8,
                        seed: int = 0, copies: int = 3, scale_range: tuple[float, float] = (0.6, 1.6),
                        batch_size: int = 64) -> tuple[Any, dict]:
    """Train :func:`beat_detector` on the first ``train_fraction`` of record 100 (by time).

    The signal is band-passed (:func:`bandpass`); each training window is multiplied by a random
    gain in ``scale_range`` so that the detector does not depend on one patient's amplitude.

    Returns:
        ``(model, info)``: the trained model and ``{"cut": first test sample, "history": ...,
        "n_train": number of windows}``.
    """
    import keras

    record = record or load_mitbih_record()
    keras.utils.set_random_seed(seed)
    filtered = bandpass(record.signal, record.fs)
    cut = time_split(len(filtered), train_fraction)
    x, y, _ = make_detector_windows(filtered, record.beat_samples, 0, cut, copies=copies, seed=seed)
    rng = np.random.default_rng(seed + 1)
    x = x * rng.uniform(*scale_range, size=(len(x), 1, 1)).astype(np.float32)
    model = beat_detector()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y[:, None, None], epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
    return model, {"cut": cut, "history": hist.history, "n_train": len(y)}


def beat_probabilities(signal: np.ndarray, model: Any, *, window: int = DETECTOR_WINDOW,
                       stride: int = DETECTOR_STRIDE, fs: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Slide the detector over a whole recording in one convolutional pass.

    The signal is reflect-padded by ``window // 2`` samples on each side so that every sample can
    be a window centre; output ``i`` then belongs to sample ``i·stride``.

    Args:
        signal: ``(n,)`` float millivolts, *already band-passed* unless ``fs`` is given (then
            :func:`bandpass` is applied here).
        model: a model from :func:`beat_detector`.

    Returns:
        ``(samples, prob)``: ``(m,) int64`` sample indices and ``(m,) float32`` probabilities.
    """
    x = np.asarray(signal, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"signal must be 1D (n,), got shape {x.shape}")
    if fs is not None:
        x = bandpass(x, fs)
    half = window // 2
    padded = np.pad(x, (half, window - half + stride), mode="reflect")
    prob = np.asarray(model(padded[None, :, None], training=False))[0, :, 0]
    samples = np.arange(len(prob), dtype=np.int64) * stride
    keep = samples < len(x)
    return samples[keep], prob[keep].astype(np.float32)


def detect_beats(signal: np.ndarray, model: Any, fs: float = 360, *, threshold: float = 0.5,
                 refractory_s: float = 0.2, filtered: bool = False) -> np.ndarray:
    """Beat sample indices found by sliding ``model`` over ``signal`` (peak picking with NMS).

    1. band-pass the signal (unless ``filtered``), 2. per-position probabilities
    (:func:`beat_probabilities`), 3. non-maximum suppression: keep local maxima above
    ``threshold``, at least ``refractory_s`` apart (200 ms: no heart beats 300 times a minute),
    strongest first.

    Args:
        signal: ``(n,)`` float millivolts.
        model: a trained :func:`beat_detector`.
        fs: sampling rate in Hz (the model was trained at 360 Hz).

    Returns:
        ``(n_found,) int64`` sorted sample indices.
    """
    from scipy.signal import find_peaks

    x = np.asarray(signal, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"signal must be 1D (n,), got shape {x.shape}")
    samples, prob = beat_probabilities(x if filtered else bandpass(x, fs), model)
    step = samples[1] - samples[0] if len(samples) > 1 else 1
    distance = max(1, int(round(refractory_s * fs / step)))
    peaks, _ = find_peaks(np.concatenate([[0.0], prob, [0.0]]), height=threshold, distance=distance)
    return samples[peaks - 1]


@dataclass(frozen=True)
class BeatMatch:
    """Found beats against annotated ones (one-to-one matching within a tolerance)."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        """``tp / (tp + fp)``: the fraction of found beats that are real (1.0 when none found)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """``tp / (tp + fn)``: the fraction of real beats that were found (1.0 when none exist)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def match_beats(true: np.ndarray, found: np.ndarray, fs: float = 360, tolerance_s: float = 0.05) -> BeatMatch:
    """Match found beats to annotated beats, one to one, within ``±tolerance_s`` (50 ms).

    Pairs are taken closest first; every annotated beat matches at most one found beat and vice
    versa. Unmatched found beats are false positives, unmatched annotations false negatives.

    Args:
        true: ``(n_true,)`` int annotated sample indices; found: ``(n_found,)`` int.

    Returns:
        a :class:`BeatMatch` with ``tp, fp, fn`` and ``precision, recall, f1``.
    """
    t = np.sort(np.asarray(true, dtype=np.int64).ravel())
    g = np.sort(np.asarray(found, dtype=np.int64).ravel())
    tol = tolerance_s * fs
    pairs = []
    for i, s in enumerate(g):
        lo, hi = np.searchsorted(t, s - tol, "left"), np.searchsorted(t, s + tol, "right")
        for j in range(lo, hi):
            pairs.append((abs(int(t[j]) - int(s)), i, j))
    pairs.sort()
    used_g, used_t = set(), set()
    for _, i, j in pairs:
        if i not in used_g and j not in used_t:
            used_g.add(i)
            used_t.add(j)
    tp = len(used_g)
    return BeatMatch(tp=tp, fp=len(g) - tp, fn=len(t) - tp)


# --------------------------------------------------------------------------- N vs A beats

def beat_classifier(window: int = 256, n_classes: int = 2) -> Any:
    """A small Conv1D classifier of beat-centred windows, ``(batch, 256, 1)`` → ``(batch, n_classes)``.

    ``Conv1D(8, 9)`` → ``MaxPooling1D(4)`` → ``Conv1D(16, 9)`` → ``MaxPooling1D(4)`` →
    ``Flatten`` → ``Dense(16)`` → ``Dense(n_classes, softmax)``.
    """
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((window, 1)),
        layers.Conv1D(8, 9, activation="relu"),
        layers.MaxPooling1D(4),
        layers.Conv1D(16, 9, activation="relu"),
        layers.MaxPooling1D(4),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(16, activation="relu"),
        layers.Dense(n_classes, activation="softmax"),
    ], name="beat_classifier")


def train_beat_classifier(record: ECGRecord | None = None, *, epochs: int = 20, train_fraction: float = 0.8,
                          seed: int = 0) -> tuple[Any, dict]:
    """Train :func:`beat_classifier` on N (label 0) vs A (label 1) windows, split by time.

    Windows centred before the cut train, the others test. A beats are rare (25 train, 8 test
    out of 33), so the loss weighs each class by the inverse of its frequency. Each window is
    centred (its median subtracted).

    Returns:
        ``(model, info)`` with ``info["confusion"]`` (2×2, rows = true N/A, columns = predicted)
        and ``info["recall"]`` (per class) on the held-out windows, plus ``info["counts"]``.
    """
    import keras

    record = record or load_mitbih_record()
    keras.utils.set_random_seed(seed)
    keep = np.isin(record.window_labels, (1, 2))
    x = record.windows[keep]
    x = (x - np.median(x, axis=1, keepdims=True))[..., None].astype(np.float32)
    y = (record.window_labels[keep] == 2).astype(np.int64)
    cut = time_split(len(record.signal), train_fraction)
    train = record.window_centers[keep] < cut
    counts = {"train": np.bincount(y[train], minlength=2).tolist(),
              "test": np.bincount(y[~train], minlength=2).tolist()}
    n0, n1 = counts["train"]
    weights = {0: len(y[train]) / (2 * n0), 1: len(y[train]) / (2 * max(n1, 1))}
    model = beat_classifier()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[train], y[train], epochs=epochs, batch_size=64, verbose=0, class_weight=weights)
    pred = np.argmax(model.predict(x[~train], verbose=0), axis=1)
    conf = np.zeros((2, 2), dtype=np.int64)
    np.add.at(conf, (y[~train], pred), 1)
    recall = (np.diag(conf) / np.maximum(conf.sum(1), 1)).tolist()
    return model, {"confusion": conf, "recall": recall, "counts": counts}
