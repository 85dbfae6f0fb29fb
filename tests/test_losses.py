"""facelib.faces.losses against hand-worked numbers and NumPy brute force over every valid triplet."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import tensorflow as tf

from facelib import faces

# --------------------------------------------------------------------------- NumPy references

def np_dist(e: np.ndarray, squared: bool) -> np.ndarray:
    n = len(e)
    d = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            s = float(np.sum((e[i].astype(np.float64) - e[j]) ** 2))
            d[i, j] = s if squared else np.sqrt(s)
    return d


def valid_triplets(y):
    n = len(y)
    for a, p, q in itertools.product(range(n), repeat=3):
        if a != p and y[a] == y[p] and y[a] != y[q]:
            yield a, p, q


def ref_batch_all(y, e, margin, squared):
    d = np_dist(e, squared)
    ls = [max(d[a, p] - d[a, n] + margin, 0.0) for a, p, n in valid_triplets(y)]
    active = [v for v in ls if v > 1e-16]
    return sum(active) / len(active) if active else 0.0


def ref_batch_hard(y, e, margin, squared):
    d = np_dist(e, squared)
    out = []
    for a in range(len(y)):
        pos = [d[a, p] for p in range(len(y)) if p != a and y[p] == y[a]]
        neg = [d[a, n] for n in range(len(y)) if y[n] != y[a]]
        if pos:
            out.append(max(max(pos) - min(neg) + margin, 0.0))
    return float(np.mean(out))


def ref_semi_hard(y, e, margin, squared):
    """Direct reading of TFA's definition, one positive pair at a time."""
    d = np_dist(e, squared)
    out = []
    for a in range(len(y)):
        negs = [n for n in range(len(y)) if y[n] != y[a]]
        for p in range(len(y)):
            if p == a or y[p] != y[a]:
                continue
            farther = [d[a, n] for n in negs if d[a, n] > d[a, p]]
            dn = min(farther) if farther else max(d[a, n] for n in negs)
            out.append(max(d[a, p] - dn + margin, 0.0))
    return float(np.mean(out))


def random_batch(seed, n_people=4, k=3, dim=5, normalise=True):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_people), k)
    rng.shuffle(y)
    e = rng.normal(size=(len(y), dim)).astype(np.float32)
    if normalise:
        e /= np.linalg.norm(e, axis=1, keepdims=True)
    return y, e


# --------------------------------------------------------------------------- triplet_loss

def test_triplet_loss_hand_worked():
    # 1-d encodings so the arithmetic is visible:
    # triplet 1: A=0, P=1, N=3 -> 1 - 9 + 0.2 < 0 -> 0
    # triplet 2: A=0, P=2, N=1 -> 4 - 1 + 0.2 = 3.2
    # triplet 3: A=1, P=1.5, N=1.5 -> 0.25 - 0.25 + 0.2 = 0.2
    a = np.array([[0.0], [0.0], [1.0]], np.float32)
    p = np.array([[1.0], [2.0], [1.5]], np.float32)
    n = np.array([[3.0], [1.0], [1.5]], np.float32)
    assert float(faces.triplet_loss(None, (a, p, n))) == pytest.approx(3.4, abs=1e-6)
    assert float(faces.triplet_loss(None, (a, p, n), alpha=0.0)) == pytest.approx(3.0, abs=1e-6)
    # a (3, m, d) tensor is the same thing
    assert float(faces.triplet_loss(None, np.stack([a, p, n]))) == pytest.approx(3.4, abs=1e-6)


def test_triplet_loss_course_value():
    # The course assignment's check: seed 1, normal(mean=6, stddev=0.1) and (mean=1, stddev=1, 4)
    # is TF-version dependent, so recompute its formula with NumPy on fixed random data instead.
    rng = np.random.default_rng(1)
    a, p, n = (rng.normal(size=(7, 128)).astype(np.float32) for _ in range(3))
    ref = sum(max(np.sum((a[i] - p[i]) ** 2) - np.sum((a[i] - n[i]) ** 2) + 0.2, 0.0) for i in range(7))
    assert float(faces.triplet_loss(None, [a, p, n])) == pytest.approx(ref, rel=1e-5)


def test_triplet_loss_zero_when_satisfied_and_bad_shapes():
    a = np.zeros((2, 4), np.float32)
    p = a + 0.01
    n = a + 1.0
    assert float(faces.triplet_loss(None, (a, p, n))) == 0.0
    with pytest.raises(ValueError, match="anchor, positive and negative"):
        faces.triplet_loss(None, (a, p, n[:1]))
    with pytest.raises(ValueError, match="anchor, positive, negative"):
        faces.triplet_loss(None, (a, p))


# --------------------------------------------------------------------------- mining losses

MINERS = [
    (faces.batch_all_triplet_loss, ref_batch_all),
    (faces.batch_hard_triplet_loss, ref_batch_hard),
    (faces.batch_semi_hard_triplet_loss, ref_semi_hard),
]


@pytest.mark.parametrize("fn,ref", MINERS, ids=["all", "hard", "semi-hard"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("squared,margin", [(True, 0.2), (False, 0.5), (True, 1.0)])
def test_mining_losses_match_brute_force(fn, ref, seed, squared, margin):
    y, e = random_batch(seed, n_people=3 + seed, k=2 + seed % 2)
    got = float(fn(y, e, margin, squared=squared))
    assert got == pytest.approx(ref(y, e, margin, squared), rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("fn,ref", MINERS, ids=["all", "hard", "semi-hard"])
def test_mining_losses_uneven_batch(fn, ref):
    # one person with a single photo (an anchor without positive), unnormalised encodings
    y = np.array([0, 0, 0, 1, 1, 2, 3, 3])
    e = np.random.default_rng(5).normal(size=(8, 3)).astype(np.float32)
    assert float(fn(y, e, 0.3)) == pytest.approx(ref(y, e, 0.3, True), rel=1e-4, abs=1e-5)


def test_mining_hand_worked_1d():
    # 1-d encodings: person 0 at 0 and 1, person 1 at 0.5 and 3 (squared distances, margin 0.2)
    y = np.array([0, 0, 1, 1])
    e = np.array([[0.0], [1.0], [0.5], [3.0]], np.float32)
    # d²: d01=1, d02=.25, d03=9, d12=.25, d13=4, d23=6.25
    # valid (a,p,n): a0p1: n2 -> 1-.25+.2=.95, n3 -> 1-9+.2<0
    #                a1p0: n2 -> .95, n3 -> 1-4+.2<0
    #                a2p3: n0 -> 6.25-.25+.2=6.2, n1 -> 6.2 ; a3p2: n0 -> 6.25-9+.2<0, n1 -> 6.25-4+.2=2.45
    # batch all: (.95+.95+6.2+6.2+2.45)/5 = 3.35
    assert float(faces.batch_all_triplet_loss(y, e)) == pytest.approx(3.35, abs=1e-5)
    # batch hard: a0: 1-.25+.2=.95; a1: 1-.25+.2=.95; a2: 6.25-.25+.2=6.2; a3: 6.25-4+.2=2.45 -> mean 2.6375
    assert float(faces.batch_hard_triplet_loss(y, e)) == pytest.approx(2.6375, abs=1e-5)
    # semi-hard: (0,1): negs of 0 farther than 1: {9} -> 1-9+.2<0 -> 0
    #            (1,0): negs of 1 farther than 1: {4} -> 0
    #            (2,3): negs of 2 farther than 6.25: none -> largest .25 -> 6.25-.25+.2 = 6.2
    #            (3,2): negs of 3 farther than 6.25: {9} -> 6.25-9+.2<0 -> 0
    # mean over the 4 positive pairs = 1.55
    assert float(faces.batch_semi_hard_triplet_loss(y, e)) == pytest.approx(1.55, abs=1e-5)


def test_mining_losses_in_graph_mode_and_gradients():
    y, e = random_batch(3, n_people=4, k=4)
    ev = tf.Variable(e)
    for fn, ref in MINERS:
        graph_fn = tf.function(lambda yy, ee, fn=fn: fn(yy, ee, 0.2))
        assert float(graph_fn(tf.constant(y), ev)) == pytest.approx(ref(y, e, 0.2, True), rel=1e-4, abs=1e-5)
        with tf.GradientTape() as tape:
            loss = fn(y, ev, 0.2, squared=False)
        g = tape.gradient(loss, ev).numpy()
        assert np.all(np.isfinite(g)) and np.abs(g).sum() > 0


def test_mining_losses_bad_input():
    y, e = random_batch(0)
    for fn, _ in MINERS:
        with pytest.raises(ValueError, match="batch size"):
            fn(y[:-1], e)
        with pytest.raises(ValueError, match="at least 2 different people"):
            fn(np.zeros(len(e), int), e)
        with pytest.raises(ValueError, match=r"embeddings must be \(B, d\)"):
            fn(y, e[:, :, None])


def test_keras_mining_loss_wrapper_reshapes_labels():
    y, e = random_batch(4, n_people=3, k=3)
    loss = faces.TripletMiningLoss("hard", margin=0.3)
    assert float(loss(y[:, None].astype(np.float32), e)) == pytest.approx(ref_batch_hard(y, e, 0.3, True), rel=1e-4)
    with pytest.raises(ValueError, match="mining"):
        faces.TripletMiningLoss("easy")


# --------------------------------------------------------------------------- contrastive

def test_contrastive_loss_hand_worked():
    # same, d=0.5 -> 0.25 ; different, d=0.3, m=1 -> 0.49 ; different, d=1.5 -> 0 ; same, d=2 -> 4
    y = np.array([1, 0, 0, 1], np.float32)
    d = np.array([0.5, 0.3, 1.5, 2.0], np.float32)
    assert float(faces.contrastive_loss(y, d, margin=1.0)) == pytest.approx((0.25 + 0.49 + 0 + 4) / 4, abs=1e-6)
    with pytest.raises(ValueError, match="pairs"):
        faces.contrastive_loss(y[:3], d)


def test_single_person_batch_in_graph_mode_fails_loudly():
    e = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    for fn, _ in MINERS:
        graph_fn = tf.function(lambda yy, ee, fn=fn: fn(yy, ee, 0.2))
        with pytest.raises(tf.errors.InvalidArgumentError, match="at least 2 different people"):
            graph_fn(tf.constant([7, 7, 7, 7]), tf.constant(e))
