"""The triplet loss (FaceNet) and its relatives, as in the lecture "Triplet loss".

For an anchor A, a positive P (same person) and a negative N (someone else) we want

    ||f(A) − f(P)||² + α ≤ ||f(A) − f(N)||²,

so the loss of one triplet is L(A, P, N) = max(||f(A) − f(P)||² − ||f(A) − f(N)||² + α, 0) and the
cost is J = Σ_i L(A^{(i)}, P^{(i)}, N^{(i)}) (:func:`triplet_loss`, the course's function).

Random triplets are mostly "too easy" (L = 0, no gradient), so the *online mining* losses look at
every valid triplet inside a batch of ``labels``/``embeddings`` (from a P×K sampler,
``facelib.data.sampling.pk_dataset``) and pick the useful ones:

- :func:`batch_all_triplet_loss`: every valid triplet (a, p, n), averaged over those with L > 0;
- :func:`batch_hard_triplet_loss`: per anchor, the farthest positive and the closest negative;
- :func:`batch_semi_hard_triplet_loss`: per positive pair, the closest negative *farther* than the
  positive (FaceNet's semi-hard negatives), exactly as TensorFlow Addons' (deprecated)
  ``tfa.losses.TripletSemiHardLoss``;
- :func:`contrastive_loss`: the pair loss of Hadsell, Chopra & LeCun (2006), for Siamese pairs.

Distances are squared Euclidean by default (``squared=True``), as in the lecture; ``squared=False``
uses ||·|| instead. All losses are TensorFlow functions usable with ``model.compile(loss=...)``
(:class:`TripletMiningLoss`) or in a custom training step.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

__all__ = [
    "TripletMiningLoss", "batch_all_triplet_loss", "batch_hard_triplet_loss",
    "batch_semi_hard_triplet_loss", "contrastive_loss", "triplet_loss",
]


def triplet_loss(y_true: object, y_pred: Sequence[tf.Tensor] | tf.Tensor, alpha: float = 0.2) -> tf.Tensor:
    """The course's triplet loss J = Σ_i max(||f(A_i) − f(P_i)||² − ||f(A_i) − f(N_i)||² + α, 0).

    Args:
        y_true: unused (Keras passes labels; the triplet's order *is* the label).
        y_pred: ``(anchor, positive, negative)``, each ``(m, d) float32`` encodings (a list/tuple,
            or one tensor of shape ``(3, m, d)``).
        alpha: the margin α (the lecture's 0.2).

    Returns:
        Scalar ``float32``: the *sum* over the m triplets (not the mean).

    Raises:
        ValueError: ``y_pred`` is not three arrays of the same ``(m, d)`` shape.
    """
    del y_true
    if isinstance(y_pred, (list, tuple)):
        if len(y_pred) != 3:
            raise ValueError(f"y_pred must be (anchor, positive, negative); got {len(y_pred)} arrays")
        anchor, positive, negative = (tf.convert_to_tensor(t, tf.float32) for t in y_pred)
    else:
        y_pred = tf.convert_to_tensor(y_pred, tf.float32)
        if y_pred.shape.rank != 3 or y_pred.shape[0] != 3:
            raise ValueError("y_pred must be (anchor, positive, negative) or a (3, m, d) tensor; "
                             f"got shape {y_pred.shape}")
        anchor, positive, negative = y_pred[0], y_pred[1], y_pred[2]
    shapes = [anchor.shape, positive.shape, negative.shape]
    if any(s.rank != 2 for s in shapes) or not (shapes[0].is_compatible_with(shapes[1])
                                                 and shapes[0].is_compatible_with(shapes[2])):
        raise ValueError(f"anchor, positive and negative must all be (m, d) with the same shape; got "
                         f"{[tuple(s) for s in shapes]}")
    pos_dist = tf.reduce_sum(tf.square(anchor - positive), axis=-1)  # ||f(A) - f(P)||², (m,)
    neg_dist = tf.reduce_sum(tf.square(anchor - negative), axis=-1)  # ||f(A) - f(N)||², (m,)
    basic_loss = pos_dist - neg_dist + alpha
    return tf.reduce_sum(tf.maximum(basic_loss, 0.0))


# --------------------------------------------------------------------------- batch (online) mining

def _batch_distances(embeddings: tf.Tensor, *, squared: bool) -> tf.Tensor:
    """In-graph, differentiable twin of :func:`facelib.faces.evaluation.pairwise_distances` for the mining losses.

    ``embeddings`` ``(B, d)`` → ``(B, B) float32``, by the same formula ||a||² − 2a·b + ||b||²
    (clipped at 0, exact 0 on the diagonal); for ``squared=False`` the square root is taken with a
    safe gradient at 0. ``squared`` has no default: each loss states which distance it mines with.
    (The one public ``pairwise_distances`` is :func:`facelib.faces.evaluation.pairwise_distances`.)
    """
    e = tf.convert_to_tensor(embeddings, tf.float32)
    dot = tf.matmul(e, e, transpose_b=True)
    sq = tf.linalg.diag_part(dot)
    d2 = tf.maximum(sq[:, None] - 2.0 * dot + sq[None, :], 0.0)
    d2 = d2 * (1.0 - tf.eye(tf.shape(e)[0]))
    if squared:
        return d2
    zero = tf.cast(tf.equal(d2, 0.0), tf.float32)
    return tf.sqrt(d2 + zero * 1e-16) * (1.0 - zero)


def _prepare(labels: tf.Tensor, embeddings: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Check shapes (and, when eager, that the batch has ≥ 2 people); labels → ``(B,)``."""
    embeddings = tf.convert_to_tensor(embeddings)
    if embeddings.dtype != tf.float32:
        embeddings = tf.cast(embeddings, tf.float32)
    labels = tf.convert_to_tensor(labels)
    if embeddings.shape.rank != 2:
        raise ValueError(f"embeddings must be (B, d); got shape {tuple(embeddings.shape)}")
    if labels.shape.rank is not None and labels.shape.rank > 1:
        if labels.shape.rank == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        else:
            raise ValueError(f"labels must be (B,) (or (B, 1)); got shape {tuple(labels.shape)}")
    labels = tf.reshape(labels, [-1])
    nl, ne = labels.shape[0], embeddings.shape[0]
    if nl is not None and ne is not None and nl != ne:
        raise ValueError(f"labels and embeddings disagree on the batch size: {nl} labels for {ne} embeddings")
    if tf.executing_eagerly():
        n_people = int(tf.size(tf.unique(labels)[0]))
        if n_people < 2:
            raise ValueError(f"a batch needs at least 2 different people to form a triplet; got {n_people} "
                             "(use facelib.data.sampling.pk_dataset with P >= 2)")
    else:
        tf.debugging.assert_equal(tf.shape(labels)[0], tf.shape(embeddings)[0],
                                  message="labels and embeddings disagree on the batch size")
        tf.debugging.assert_greater_equal(tf.size(tf.unique(labels)[0]), 2,
                                          message="a batch needs at least 2 different people to form a triplet")
    return labels, embeddings


def _masks(labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """``positive[a, p]``: same person and a ≠ p; ``negative[a, n]``: different people."""
    same = tf.equal(labels[:, None], labels[None, :])
    not_diag = tf.logical_not(tf.cast(tf.eye(tf.shape(labels)[0]), tf.bool))
    return tf.logical_and(same, not_diag), tf.logical_not(same)


def batch_all_triplet_loss(labels: tf.Tensor, embeddings: tf.Tensor, margin: float = 0.2, *,
                           squared: bool = True) -> tf.Tensor:
    """Batch-all mining: average of L(a, p, n) over the valid triplets with L > 0.

    Valid triplets: a ≠ p, ``labels[a] == labels[p]``, ``labels[a] != labels[n]``. Each has
    L = max(d(a, p) − d(a, n) + margin, 0); the result is Σ L / #{L > 1e-16} (0 when every triplet
    is already satisfied). Averaging over the *active* triplets keeps the gradient from vanishing
    as most triplets become easy (Hermans et al. 2017; Moindrot's "batch all").

    Args:
        labels: ``(B,)`` (or ``(B, 1)``) integer person ids.
        embeddings: ``(B, d) float32``.
        margin: α.
        squared: squared Euclidean distances (default, as in the lecture) or plain.

    Returns:
        Scalar ``float32``.

    Raises:
        ValueError: shapes disagree, or (when run eagerly) the batch holds a single person.
            Inside a ``tf.function`` (e.g. ``fit``), a single-person batch raises
            ``tf.errors.InvalidArgumentError`` with the same message instead.
    """
    labels, embeddings = _prepare(labels, embeddings)
    d = _batch_distances(embeddings, squared=squared)
    pos, neg = _masks(labels)
    valid = tf.cast(tf.logical_and(pos[:, :, None], neg[:, None, :]), tf.float32)  # (a, p, n)
    loss = tf.maximum(d[:, :, None] - d[:, None, :] + margin, 0.0) * valid
    n_active = tf.reduce_sum(tf.cast(loss > 1e-16, tf.float32))
    return tf.reduce_sum(loss) / tf.maximum(n_active, 1.0)


def batch_hard_triplet_loss(labels: tf.Tensor, embeddings: tf.Tensor, margin: float = 0.2, *,
                            squared: bool = True) -> tf.Tensor:
    """Batch-hard mining: per anchor, its farthest positive against its closest negative.

    For every anchor a that has at least one positive in the batch,
    L_a = max(max_p d(a, p) − min_n d(a, n) + margin, 0); the result is the mean of L_a over those
    anchors (Hermans, Beyer & Leibe 2017). In a P×K batch with K ≥ 2 every anchor counts, and this
    equals TensorFlow Addons' ``triplet_hard_loss`` (with ``distance_metric="L_2"``, i.e. squared).

    Args and raises as :func:`batch_all_triplet_loss`. Returns a scalar ``float32``.
    """
    labels, embeddings = _prepare(labels, embeddings)
    d = _batch_distances(embeddings, squared=squared)
    pos, neg = _masks(labels)
    posf, negf = tf.cast(pos, tf.float32), tf.cast(neg, tf.float32)
    hardest_pos = tf.reduce_max(d * posf, axis=1)  # distances are ≥ 0, so masked entries (0) never win
    big = tf.reduce_max(d) + 1.0
    hardest_neg = tf.reduce_min(d + big * (1.0 - negf), axis=1)
    has_pos = tf.cast(tf.reduce_any(pos, axis=1), tf.float32)
    per_anchor = tf.maximum(hardest_pos - hardest_neg + margin, 0.0) * has_pos
    return tf.reduce_sum(per_anchor) / tf.maximum(tf.reduce_sum(has_pos), 1.0)


def batch_semi_hard_triplet_loss(labels: tf.Tensor, embeddings: tf.Tensor, margin: float = 0.2, *,
                                 squared: bool = True) -> tf.Tensor:
    """Semi-hard mining, with the definition of TensorFlow Addons' ``TripletSemiHardLoss``.

    For every positive pair (a, p) (a ≠ p, same person) the negative used is

    - the *semi-hard* one: the smallest d(a, n) among the negatives with d(a, n) > d(a, p)
      (strictly farther than the positive — it may or may not lie within the margin);
    - if no negative is farther than the positive: the *largest* d(a, n) over all negatives of a
      (the easiest of the hard negatives).

    Then L(a, p) = max(d(a, p) − d(a, n*) + margin, 0), and the loss is the mean over *all*
    positive pairs (a, p), including those with L = 0.

    TFA's defaults (``TripletSemiHardLoss()``, ``distance_metric="L_2"``) use *squared* Euclidean
    distances and ``margin=1.0``: they equal ``batch_semi_hard_triplet_loss(y, e, margin=1.0)``
    here. This implementation builds the (a, p, n) cube directly instead of TFA's tiled masked
    minimum/maximum, with the same result.

    Args and raises as :func:`batch_all_triplet_loss`. Returns a scalar ``float32``.
    """
    labels, embeddings = _prepare(labels, embeddings)
    d = _batch_distances(embeddings, squared=squared)
    pos, neg = _masks(labels)
    negf = tf.cast(neg, tf.float32)
    big = tf.reduce_max(d) + 1.0
    # outside[a, p, n]: n is a negative of a farther than p
    outside = tf.logical_and(neg[:, None, :], d[:, None, :] > d[:, :, None])
    d_an = tf.broadcast_to(d[:, None, :], tf.shape(outside))
    semi_hard = tf.reduce_min(tf.where(outside, d_an, big), axis=2)  # (a, p)
    easiest_hard = tf.reduce_max(d * negf, axis=1, keepdims=True)  # (a, 1) largest negative distance
    has_outside = tf.reduce_any(outside, axis=2)
    d_neg = tf.where(has_outside, semi_hard, tf.broadcast_to(easiest_hard, tf.shape(semi_hard)))
    posf = tf.cast(pos, tf.float32)
    loss = tf.maximum(d - d_neg + margin, 0.0) * posf
    return tf.reduce_sum(loss) / tf.maximum(tf.reduce_sum(posf), 1.0)


def contrastive_loss(y_true: tf.Tensor, distance: tf.Tensor, margin: float = 1.0) -> tf.Tensor:
    """Contrastive loss of a Siamese pair (Hadsell, Chopra & LeCun 2006).

    L = y · d² + (1 − y) · max(margin − d, 0)², averaged over the pairs: same-person pairs
    (y = 1) are pulled together, different-person pairs (y = 0) pushed at least ``margin`` apart.

    Args:
        y_true: ``(m,)`` 1 for the same person, 0 for different people.
        distance: ``(m,)`` Euclidean distances d = ||f(x^{(1)}) − f(x^{(2)})|| (not squared).
        margin: the distance beyond which different people cost nothing.

    Returns:
        Scalar ``float32`` (the mean over the m pairs).
    """
    y = tf.reshape(tf.cast(tf.convert_to_tensor(y_true), tf.float32), [-1])
    d = tf.reshape(tf.cast(tf.convert_to_tensor(distance), tf.float32), [-1])
    if y.shape[0] is not None and d.shape[0] is not None and y.shape[0] != d.shape[0]:
        raise ValueError(f"y_true has {y.shape[0]} pairs but distance has {d.shape[0]}")
    return tf.reduce_mean(y * tf.square(d) + (1.0 - y) * tf.square(tf.maximum(margin - d, 0.0)))


_MINING = {
    "all": batch_all_triplet_loss,
    "hard": batch_hard_triplet_loss,
    "semi-hard": batch_semi_hard_triplet_loss,
}


@keras.saving.register_keras_serializable(package="facelib")
class TripletMiningLoss(keras.losses.Loss):
    """A Keras loss for ``encoder.compile(loss=...)`` with online triplet mining.

    ``y_true`` are the ``(B,)`` person ids of a P×K batch and ``y_pred`` the ``(B, d)`` encodings.

    Args:
        mining: ``"all"``, ``"hard"`` or ``"semi-hard"``.
        margin: α.
        squared: squared (default) or plain Euclidean distances.
    """

    def __init__(self, mining: str = "semi-hard", margin: float = 0.2, squared: bool = True,
                 name: str | None = None, **kwargs):
        if mining not in _MINING:
            raise ValueError(f"mining must be one of {sorted(_MINING)}; got {mining!r}")
        super().__init__(name=name or f"triplet_{mining}", **kwargs)
        self.mining, self.margin, self.squared = mining, float(margin), bool(squared)

    def call(self, y_true, y_pred):
        return _MINING[self.mining](tf.reshape(y_true, [-1]), y_pred, self.margin, squared=self.squared)

    def get_config(self) -> dict:
        return {**super().get_config(), "mining": self.mining, "margin": self.margin, "squared": self.squared}
