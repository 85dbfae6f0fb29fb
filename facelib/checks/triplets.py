"""Self-checks for lesson 03 (the triplet loss and choosing the triplets).

Distances in this lesson are the lecture's **squared** Euclidean distances,
d(A, P) = ||f(A) − f(P)||². Expected values are worked out by hand (in the comments), taken from
the course (527.2598) or computed here by an independent brute-force NumPy loop — never with
:mod:`facelib.faces.losses`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facelib.checks.core import Case, Verdict, compare, gradient_case, report

__all__ = ["COURSE_TRIPLET_LOSS", "check_batch_hard_triplet_loss", "check_triplet_kind", "check_triplet_loss",
           "course_triplet_inputs"]

#: The course's published value of ``triplet_loss`` on :func:`course_triplet_inputs` (alpha = 0.2).
COURSE_TRIPLET_LOSS = 527.2598
#: Relative tolerance on the course value. Measured on TensorFlow 2.21 (CPU): the seeded draws give
#: 527.25983, relative difference 5e-8; other shapes' draws are known to differ from the course's
#: by ~1e-4 relative on TF 2.21, so the check allows 1e-4 (a wrong loss is off by far more).
COURSE_RTOL = 1e-4


def course_triplet_inputs():
    """The course's test input: ``tf.random.set_seed(1)``, then three ``(3, 128)`` normals with seed 1
    (means 6, 1, 3; standard deviations 0.1, 1, 4). Resets TensorFlow's global seed to 1.
    """
    import tensorflow as tf

    tf.random.set_seed(1)
    return (tf.random.normal([3, 128], mean=6, stddev=0.1, seed=1),
            tf.random.normal([3, 128], mean=1, stddev=1, seed=1),
            tf.random.normal([3, 128], mean=3, stddev=4, seed=1))


def _np_triplet(a, p, n, alpha):
    a, p, n = (np.asarray(t, np.float64) for t in (a, p, n))
    return float(np.sum(np.maximum(((a - p) ** 2).sum(-1) - ((a - n) ** 2).sum(-1) + alpha, 0.0)))


def check_triplet_loss(student_fn: Callable) -> Verdict:
    """Lesson 03: ``student_fn(y_true, y_pred, alpha)`` with ``y_pred = (anchor, positive, negative)``
    returns J = Σ_i max(||f(A)−f(P)||² − ||f(A)−f(N)||² + α, 0) as a ``tf.Tensor``.

    Checks the course's value 527.2598 (tolerance :data:`COURSE_RTOL`), hand-worked cases and that
    the gradient flows to the encodings (the loss trains the encoder, so NumPy fails).
    Note: resets TensorFlow's global seed to 1 (the course's input).
    """
    hand = [
        # A = P = N: loss = alpha
        ("A = P = N, alpha=5", ([[1.0, 1.0]], [[1.0, 1.0]], [[1.0, 1.0]]), 5.0, 5.0),
        # d(A,P)=0, d(A,N)=2: 0 - 2 + 3 = 1
        ("negative farther, alpha=3", ([[1.0, 1.0]], [[1.0, 1.0]], [[0.0, 0.0]]), 3.0, 1.0),
        # d(A,P)=2, d(A,N)=0: 2 - 0 + 0 = 2
        ("positive farther, alpha=0", ([[1.0, 1.0]], [[0.0, 0.0]], [[1.0, 1.0]]), 0.0, 2.0),
        # everything 0 and a negative alpha: max(-2, 0) = 0
        ("the max(·, 0), alpha=-2", ([[0.0, 0.0]], [[0.0, 0.0]], [[0.0, 0.0]]), -2.0, 0.0),
        # two triplets: (5 - 1 + 3 = 7) + max(2 - 5 + 3, 0) = 7 + 0 = 7  (a sum over rows, each with its max)
        ("sum over two triplets, alpha=3", ([[1.0, 1.0], [2.0, 0.0]], [[0.0, 3.0], [1.0, 1.0]],
                                           [[1.0, 0.0], [0.0, 1.0]]), 3.0, 7.0),
    ]
    rng = np.random.default_rng(4)
    rand = tuple(rng.normal(size=(6, 128)).astype(np.float32) * 0.1 for _ in range(3))
    # gradient of J wrt the anchor rows that violate the margin: 2(n - p); rows with L = 0 get 0
    a, p, n = (np.asarray(t, np.float64) for t in rand)
    active = (((a - p) ** 2).sum(-1) - ((a - n) ** 2).sum(-1) + 0.2) > 0
    grad_anchor = 2.0 * (n - p) * active[:, None]

    def run() -> list[Case]:
        import tensorflow as tf

        out = [compare("the course's value: 527.2598 (tf.random.set_seed(1), three (3, 128) normals)",
                       COURSE_TRIPLET_LOSS, student_fn(None, course_triplet_inputs(), 0.2), rtol=COURSE_RTOL)]
        for what, trip, alpha, expected in hand:
            y_pred = tuple(tf.constant(t, tf.float32) for t in trip)
            out.append(compare(what, expected, student_fn(None, y_pred, alpha), rtol=1e-5, atol=1e-5))
        expected_rand = _np_triplet(rand[0], rand[1], rand[2], 0.2)
        out.append(compare("6 random 128-d triplets, alpha=0.2 (NumPy formula)", expected_rand,
                           student_fn(None, tuple(tf.constant(t) for t in rand), 0.2), rtol=1e-4, atol=1e-5))

        def on_anchor(anchor):
            return student_fn(None, (anchor, tf.constant(rand[1]), tf.constant(rand[2])), 0.2)

        out.append(gradient_case("gradient flows to f(A) (6 random triplets)", on_anchor, [rand[0]],
                                 expected_grads=[grad_anchor]))
        return out

    return report("check_triplet_loss", run)


# --------------------------------------------------------------------------- triplet kinds

def check_triplet_kind(student_fn: Callable[[float, float, float], str]) -> Verdict:
    """Lesson 03: ``student_fn(d_ap, d_an, alpha)`` → ``"easy"``, ``"semi-hard"`` or ``"hard"``.

    With L = max(d_ap − d_an + α, 0) (squared distances): easy ⇔ L = 0 (d_an ≥ d_ap + α);
    semi-hard ⇔ 0 < L < α (d_ap < d_an < d_ap + α); hard ⇔ L ≥ α (d_an ≤ d_ap).
    All inputs below are exact in binary floating point, so the boundaries are exact.
    """
    # (d_ap, d_an, alpha) -> kind, with L worked out by hand
    grid = [
        ((0.5, 1.0, 0.25), "easy"),        # L = max(0.5 - 1 + 0.25, 0) = 0
        ((0.5, 0.75, 0.25), "easy"),       # boundary: L = 0 exactly (d_an = d_ap + α)
        ((0.5, 0.625, 0.25), "semi-hard"),  # L = 0.125, between 0 and α
        ((2.0, 2.25, 0.5), "semi-hard"),   # L = 0.25
        ((0.0, 0.25, 0.5), "semi-hard"),   # L = 0.25: P on the anchor, N inside the margin
        ((0.5, 0.5, 0.25), "hard"),        # boundary: L = α exactly (d_an = d_ap)
        ((0.5, 0.25, 0.25), "hard"),       # L = 0.5 > α: the negative is closer than the positive
        ((1.0, 0.0, 0.2), "hard"),         # N on the anchor
    ]
    hint = {"easy": "L = 0: d(A,N) ≥ d(A,P) + α", "semi-hard": "0 < L < α: d(A,P) < d(A,N) < d(A,P) + α",
            "hard": "L ≥ α: d(A,N) ≤ d(A,P)"}

    def run() -> list[Case]:
        out = []
        for (d_ap, d_an, alpha), kind in grid:
            got = student_fn(d_ap, d_an, alpha)
            loss = max(d_ap - d_an + alpha, 0.0)
            ok = isinstance(got, str) and got == kind
            out.append(Case(f"d_ap={d_ap}, d_an={d_an}, alpha={alpha} (L = {loss:g})", kind, got, ok,
                            "" if ok else f"this triplet is {kind} ({hint[kind]}); return one of "
                                          "'easy', 'semi-hard', 'hard'"))
        return out

    return report("check_triplet_kind", run)


# --------------------------------------------------------------------------- batch-hard mining

def _brute_force_batch_hard(labels: np.ndarray, emb: np.ndarray, margin: float) -> float:
    """Loop over every anchor: its farthest positive, its closest negative (squared distances)."""
    labels, emb = np.asarray(labels), np.asarray(emb, np.float64)
    losses = []
    for a in range(len(labels)):
        pos = [float(np.sum((emb[a] - emb[p]) ** 2)) for p in range(len(labels)) if p != a and labels[p] == labels[a]]
        neg = [float(np.sum((emb[a] - emb[n]) ** 2)) for n in range(len(labels)) if labels[n] != labels[a]]
        if not pos or not neg:
            continue  # an anchor with no positive (or no negative) in the batch forms no triplet
        losses.append(max(max(pos) - min(neg) + margin, 0.0))
    return float(np.mean(losses)) if losses else 0.0


def check_batch_hard_triplet_loss(student_fn: Callable) -> Verdict:
    """Lesson 03: ``student_fn(labels, embeddings, margin)`` → batch-hard triplet loss, a scalar tensor.

    For every anchor a with at least one positive in the batch,
    L_a = max(max_p d(a, p) − min_n d(a, n) + margin, 0) with **squared** distances
    d(a, b) = ||f(a) − f(b)||²; the result is the mean of L_a over those anchors. Compared with a
    brute-force NumPy loop over all anchors; the gradient must flow to the embeddings.
    """
    # hand-worked, 1-d embeddings, labels 0 0 1 1, margin 0.5:
    #   points 0, 2 (person 0) and 3, 6 (person 1); squared distances 0-2: 4, 0-3: 9, 0-6: 36,
    #   2-3: 1, 2-6: 16, 3-6: 9
    #   anchor 0: hardest pos d=4, closest neg d=9  -> max(4 - 9 + .5, 0) = 0
    #   anchor 2: hardest pos 4, closest neg 1      -> max(4 - 1 + .5, 0) = 3.5
    #   anchor 3: hardest pos 9, closest neg 1      -> max(9 - 1 + .5, 0) = 8.5
    #   anchor 6: hardest pos 9, closest neg 16     -> 0                   mean = 3.0
    #   (unsquared distances 2, 3, 6, 1, 4, 3 would give 0, 1.5, 2.5, 0: mean 1.0, so this case alone
    #   tells squared from unsquared distances)
    hand_labels, hand_emb = np.array([0, 0, 1, 1]), np.array([[0.0], [2.0], [3.0], [6.0]], np.float32)
    rng = np.random.default_rng(7)
    pk_labels = np.repeat(np.arange(4), 3)                            # P = 4 people × K = 3 photos
    pk_emb = rng.normal(size=(12, 8)).astype(np.float32)
    pk_emb /= np.linalg.norm(pk_emb, axis=1, keepdims=True)
    odd_labels = np.array([2, 0, 1, 0, 1, 2, 3])                    # person 3: one photo, no positive
    odd_emb = (rng.normal(size=(7, 5)) * 0.5).astype(np.float32)

    def run() -> list[Case]:
        import tensorflow as tf

        out = [compare("hand-worked: 1-d points 0, 2 | 3, 6, margin=0.5, squared d (mean of 0, 3.5, 8.5, 0)", 3.0,
                       student_fn(tf.constant(hand_labels), tf.constant(hand_emb), 0.5), rtol=1e-5, atol=1e-6)]
        for what, lab, emb, margin in [
            ("P×K batch (4 people × 3), unit 8-d embeddings, margin=0.2", pk_labels, pk_emb, 0.2),
            ("same batch, margin=1.0", pk_labels, pk_emb, 1.0),
            ("shuffled labels, one person with a single photo (skipped), margin=0.3", odd_labels, odd_emb, 0.3),
        ]:
            out.append(compare(f"{what} (brute-force loop)", _brute_force_batch_hard(lab, emb, margin),
                               student_fn(tf.constant(lab), tf.constant(emb), margin), rtol=1e-4, atol=1e-5))
        out.append(gradient_case("gradient flows to the embeddings",
                                 lambda e: student_fn(tf.constant(pk_labels), e, 1.0), [pk_emb]))
        return out

    return report("check_batch_hard_triplet_loss", run)
