"""Judging a face encoder: distances, ROC/AUC, thresholds, one-shot accuracy.

The lecture's similarity function is ``d(img1, img2) = ||f(img1) - f(img2)||``: two photos are
"the same person" when ``d <= τ`` (:func:`accepts`, the one place this rule is written; a
distance equal to τ counts as the same person). Everything here takes distances and a boolean
``same`` (ground truth) and asks how good that rule is, for every τ at once (ROC) or for the best one.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, overload

import numpy as np

__all__ = [
    "accepts", "all_pairs", "auc", "best_threshold", "encode", "equal_error_rate", "one_shot_accuracy",
    "pair_distances", "pairwise_distances", "roc_curve", "tau_for_false_open", "traced_network",
    "verification_accuracy",
]


@overload
def accepts(distance: float, threshold: float) -> bool: ...
@overload
def accepts(distance: np.ndarray, threshold: float) -> np.ndarray: ...
def accepts(distance: float | np.ndarray, threshold: float) -> bool | np.ndarray:
    """The lecture's acceptance rule: "the same person" iff ``d <= τ``.

    Used by :func:`facelib.faces.verification.verify`/:func:`~facelib.faces.verification.who_is_it`,
    :class:`facelib.faces.database.FaceDatabase`, :func:`verification_accuracy`, :func:`roc_curve`
    / :func:`best_threshold` (which choose τ under this same rule) and the lessons' checks.

    Args:
        distance: one distance or an array of them.
        threshold: τ.

    Returns:
        ``bool`` for a scalar distance, else a boolean array of the same shape.
    """
    accepted = np.asarray(distance, dtype=np.float64) <= float(threshold)
    return bool(accepted) if accepted.ndim == 0 else accepted


def pairwise_distances(a: np.ndarray, b: np.ndarray | None = None, *, squared: bool = False) -> np.ndarray:
    """Euclidean distances between every row of ``a`` ``(n, d)`` and of ``b`` ``(m, d)``.

    Returns ``(n, m) float64``; ``b=None`` means ``b = a`` (the diagonal is then exactly 0).
    ``squared=True`` gives ``||·||²``. Computed as ``||a||² + ||b||² - 2 a·b`` on the Gram matrix,
    in place: the only large array is the ``(n, m)`` answer (negatives from rounding are clipped).
    """
    a = np.asarray(a, dtype=np.float64)
    same = b is None
    b = a if b is None else np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected (n, d) and (m, d) encodings; got {a.shape} and {b.shape}")
    d2 = a @ b.T
    d2 *= -2.0
    d2 += np.einsum("ij,ij->i", a, a)[:, None]
    d2 += np.einsum("ij,ij->i", b, b)[None, :]
    np.maximum(d2, 0.0, out=d2)
    if same:
        np.fill_diagonal(d2, 0.0)
    return d2 if squared else np.sqrt(d2, out=d2)


# Largest temporary pair_distances allocates per step (bytes), besides its answer: 8 MiB.
_PAIR_CHUNK_BYTES = 8 * 1024 * 1024


def pair_distances(a: np.ndarray, b: np.ndarray | None = None, *,
                   pairs: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Distances of pairs of rows, never building the ``(pairs, d)`` arrays of the rows themselves.

    ``pair_distances(a, b)``: row by row, ``||a_k - b_k||`` for two ``(n, d)`` arrays → ``(n,)``.
    ``pair_distances(x, pairs=(i, j))``: ``||x[i_k] - x[j_k]||`` for index arrays ``i``, ``j``
    (e.g. :func:`all_pairs`' ``i, j``) → ``(len(i),)``; the same as ``pair_distances(x[i], x[j])``
    without the two gathered copies (44,850 pairs of 4,096 pixels are 1.4 GiB each in float64).

    When there are more pairs than entries of the Gram matrix ``x xᵀ`` (all pairs of a set), the
    distances come from ``||x_i||² + ||x_j||² - 2 x_i·x_j`` on it (negatives from rounding clipped,
    exactly 0 when ``i == j``); otherwise from differences, a chunk of rows at a time. Besides the
    ``float64`` answer, no step allocates more than 8 MiB (plus the Gram matrix,
    and a ``float64`` copy of ``x`` for the Gram route when ``x`` is not ``float64`` already).
    """
    x = np.asarray(a)
    if x.ndim != 2:
        raise ValueError(f"expected (n, d) rows; got shape {x.shape}")
    if pairs is None:
        if b is None:
            raise ValueError("pair_distances needs a second (n, d) array b, or pairs=(i, j) indexing a")
        y = np.asarray(b)
        if y.shape != x.shape:
            raise ValueError(f"expected two (n, d) arrays of the same shape; got {x.shape} and {y.shape}")
        i = j = np.arange(len(x))
    else:
        if b is not None:
            raise ValueError("give either b or pairs=(i, j), not both")
        y = x
        i, j = (np.asarray(k) for k in pairs)
        if i.shape != j.shape or i.ndim != 1 or not (np.issubdtype(i.dtype, np.integer) or i.size == 0):
            raise ValueError(f"pairs must be two 1-D integer index arrays of one length; got {i.shape} and {j.shape}")
    out = np.empty(len(i), np.float64)
    if pairs is not None and len(x) ** 2 <= len(i):
        x64 = np.asarray(x, np.float64)
        gram = x64 @ x64.T
        sq = np.diagonal(gram).copy()
        step = max(1, _PAIR_CHUNK_BYTES // 32)
        for s in range(0, len(i), step):
            ii, jj = i[s:s + step], j[s:s + step]
            d2 = sq[ii] + sq[jj] - 2.0 * gram[ii, jj]
            np.sqrt(np.maximum(d2, 0.0), out=out[s:s + step])
        out[i == j] = 0.0
        return out
    step = max(1, _PAIR_CHUNK_BYTES // (3 * 8 * max(1, x.shape[1])))
    for s in range(0, len(i), step):
        diff = np.asarray(x[i[s:s + step]], np.float64) - np.asarray(y[j[s:s + step]], np.float64)
        out[s:s + step] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out


def all_pairs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every unordered pair ``i < j``: indices ``i``, ``j`` and ``same = labels[i] == labels[j]``.

    For ``n`` images there are ``n(n-1)/2`` pairs (4950 for 100 photos).
    """
    labels = np.asarray(labels)
    i, j = np.triu_indices(len(labels), k=1)
    return i, j, labels[i] == labels[j]


def tau_for_false_open(encodings: np.ndarray, labels: np.ndarray, rate: float) -> float:
    """The door's τ for a target false-open rate, chosen on the enrolled class alone.

    Every pair of photos of two *different* enrolled people (``i < j``) is one stranger at the door.
    With their distances sorted, ``d_(1) ≤ … ≤ d_(N)``, at most ``k = ⌊rate · N⌋`` of them may open
    it (the rule is ``d <= τ``); τ is halfway between the last one let in and the first one kept out,
    ``τ = (d_(k) + d_(k+1)) / 2`` with ``d_(0) = 0``.

    Args:
        encodings: ``(n, d)`` encodings of the enrolled photos.
        labels: ``(n,)`` person of each photo (at least two people).
        rate: the target false-open rate, ``0 <= rate < 1``.
    """
    e = np.asarray(encodings, np.float64)
    i, j, same = all_pairs(labels)
    if e.ndim != 2 or len(e) != len(np.asarray(labels)):
        raise ValueError(f"expected (n, d) encodings and (n,) labels; got {e.shape} and {np.shape(labels)}")
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"rate must be in [0, 1); got {rate}")
    d = np.sort(np.linalg.norm(e[i[~same]] - e[j[~same]], axis=1))
    if len(d) == 0:
        raise ValueError("tau_for_false_open needs photos of at least two different people")
    k = int(np.floor(rate * len(d) + 1e-9))
    below = d[k - 1] if k > 0 else 0.0
    return float((below + d[k]) / 2.0)


def _check(distances: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(distances, dtype=np.float64).ravel()
    s = np.asarray(same, dtype=bool).ravel()
    if d.shape != s.shape:
        raise ValueError(f"distances {d.shape} and same {s.shape} must have the same length")
    if s.all() or not s.any():
        raise ValueError("need both same-person and different-person pairs")
    return d, s


def roc_curve(distances: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC of the rule "same person iff d <= τ" over every useful τ.

    Returns ``(fpr, tpr, thresholds)``, each ``(k,)``, thresholds increasing; the first point is
    ``τ = -inf`` (nothing accepted: fpr = tpr = 0).
    """
    d, s = _check(distances, same)
    order = np.argsort(d, kind="mergesort")
    d, s = d[order], s[order]
    last = np.r_[np.flatnonzero(np.diff(d)), len(d) - 1]  # last index of each distinct distance
    tp = np.cumsum(s)[last]
    fp = np.cumsum(~s)[last]
    tpr = np.r_[0.0, tp / s.sum()]
    fpr = np.r_[0.0, fp / (~s).sum()]
    return fpr, tpr, np.r_[-np.inf, d[last]]


def auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under a ROC curve (trapezoidal rule)."""
    fpr, tpr = np.asarray(fpr, np.float64), np.asarray(tpr, np.float64)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def verification_accuracy(distances: np.ndarray, same: np.ndarray, threshold: float) -> float:
    """Fraction of pairs judged right by "same iff d <= threshold"."""
    d, s = _check(distances, same)
    return float(np.mean(accepts(d, threshold) == s))


def best_threshold(distances: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The τ with the highest accuracy on these pairs → ``(threshold, accuracy)``.

    τ is placed half-way between neighbouring distances so that it generalises symmetrically.
    """
    d, s = _check(distances, same)
    fpr, tpr, thr = roc_curve(d, s)
    n_pos, n_neg = s.sum(), (~s).sum()
    acc = (tpr * n_pos + (1.0 - fpr) * n_neg) / len(d)
    k = int(np.argmax(acc))
    sorted_d = np.unique(d)
    if k == 0:
        tau = sorted_d[0] - 1e-6
    else:
        pos = np.searchsorted(sorted_d, thr[k])
        tau = (sorted_d[pos] + sorted_d[pos + 1]) / 2.0 if pos + 1 < len(sorted_d) else sorted_d[pos] + 1e-6
    return float(tau), float(acc[k])


def equal_error_rate(distances: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """Where false accepts equal false rejects → ``(eer, threshold)`` (linear interpolation)."""
    fpr, tpr, thr = roc_curve(distances, same)
    fnr = 1.0 - tpr
    k = int(np.argmax(fpr >= fnr))  # first point where FAR has caught up with FRR
    if k == 0:
        return float(fpr[0]), float(thr[1])
    # interpolate between points k-1 and k on (fpr - fnr) = 0
    g0, g1 = fpr[k - 1] - fnr[k - 1], fpr[k] - fnr[k]
    w = g0 / (g0 - g1) if g1 != g0 else 0.0
    eer = fpr[k - 1] + w * (fpr[k] - fpr[k - 1])
    t0 = thr[k - 1] if np.isfinite(thr[k - 1]) else thr[k]
    return float(eer), float(t0 + w * (thr[k] - t0))


def encode(encoder: Callable[..., Any], x: np.ndarray, batch_size: int = 64, *,
           preprocess: Callable[[np.ndarray], np.ndarray] | None = None, progress: bool | None = False) -> np.ndarray:
    """The one way to encode a batch: ``(n, H, W, C)`` images → ``(n, d) float32`` encodings, in batches.

    Args:
        encoder: a Keras model (called in inference mode through one compiled ``tf.function`` per
            model, traced once for any batch size) or any function of a batch (called with
            ``training=False`` if it takes that argument).
        x: the images (any array; only one batch at a time is converted).
        batch_size: images per call.
        preprocess: applied to each batch before the encoder (e.g. FaceNet's ``preprocess``).
        progress: show a progress bar over the batches (``None``: ``facelib.config.settings.progress``;
            never for a single batch).

    Returns:
        ``(n, d) float32`` (not normalised; :func:`facelib.faces.verification.encode_faces` normalises).

    Raises:
        ValueError: ``x`` is empty.
    """
    from facelib import config
    from facelib.progress import tqdm

    if len(x) == 0:
        raise ValueError("no images to encode (x is empty)")
    call = _batch_call(encoder)
    show = config.settings.progress if progress is None else progress
    starts = range(0, len(x), batch_size)
    out = []
    for i in tqdm(starts, desc="encoding", unit="batch", disable=not show or len(starts) < 2, leave=False):
        batch = x[i:i + batch_size]
        out.append(call(batch if preprocess is None else preprocess(batch)))
    return np.concatenate(out).astype(np.float32)


_COMPILED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def traced_network(model: Any) -> Callable[[Any], Any]:
    """A Keras model as one ``tf.function`` (inference mode, float32 out) for any batch size.

    Traced once per model and kept while the model lives: everything that encodes with the same
    network (``encode``, :mod:`facelib.faces.encoders`) shares that one trace, which costs about
    50 MB for FaceNet.

    Args:
        model: a ``keras.Model`` taking ``(m, *input_shape)`` float32 batches.

    Returns:
        ``fn(batch)`` → ``(m, d) float32`` tensor.
    """
    fn = _COMPILED.get(model)
    if fn is None:
        import tensorflow as tf

        shape = tuple(model.input_shape[1:])
        fn = tf.function(lambda t: tf.cast(model(t, training=False), tf.float32),
                         input_signature=[tf.TensorSpec((None, *shape), tf.float32)], reduce_retracing=True)
        _COMPILED[model] = fn
    return fn


def _batch_call(encoder: Callable[..., Any]) -> Callable[[np.ndarray], np.ndarray]:
    """``batch → float32 encodings`` for a Keras model (compiled once, cached per model) or a function."""
    import keras

    if isinstance(encoder, keras.Model):
        fn = traced_network(encoder)
        return lambda batch: fn(np.asarray(batch, np.float32)).numpy()

    def call(batch: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(encoder(batch, training=False))
        except TypeError:  # a plain function without a ``training`` argument
            return np.asarray(encoder(batch))

    return call


def one_shot_accuracy(encoder: Callable[[np.ndarray], np.ndarray] | None, x: np.ndarray, y: np.ndarray, *,
                      n_way: int = 10, trials: int = 1000, seed: int = 0, batch_size: int = 64) -> float:
    """N-way one-shot identification accuracy.

    Each trial draws ``n_way`` people, one *support* photo of each (the one enrolled photo) and a
    *query* photo of one of them (a different photo); the query is assigned to the nearest
    support encoding. Returns the fraction of trials answered right (chance = 1 / n_way).

    Args:
        encoder: maps images ``(b, ...)`` to encodings ``(b, d)`` (a Keras model or function);
            ``None`` means ``x`` already holds encodings ``(n, d)``.
        x: images ``(n, H, W, C)`` (or encodings with ``encoder=None``).
        y: person labels ``(n,)``; every person used needs at least two photos.
    """
    y = np.asarray(y)
    people = np.array([p for p in np.unique(y) if (y == p).sum() >= 2])
    if len(people) < n_way:
        raise ValueError(f"{n_way}-way one-shot needs {n_way} people with ≥ 2 photos; found {len(people)}")
    emb = np.asarray(x, np.float64) if encoder is None else encode(encoder, x, batch_size)
    by_person = {p: np.flatnonzero(y == p) for p in people}
    rng = np.random.default_rng(seed)
    correct = 0
    for _ in range(trials):
        chosen = rng.choice(people, size=n_way, replace=False)
        target = int(rng.integers(n_way))
        support = []
        for k, p in enumerate(chosen):
            if k == target:
                s_idx, q_idx = rng.choice(by_person[p], size=2, replace=False)
                query = q_idx
            else:
                s_idx = rng.choice(by_person[p])
            support.append(s_idx)
        d = pair_distances(emb, pairs=(np.asarray(support), np.full(n_way, query)))
        correct += int(np.argmin(d) == target)
    return correct / trials
