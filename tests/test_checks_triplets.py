"""facelib.checks.triplets (lesson 03): right answers pass, typical mistakes fail, stubs wait."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from check_cases import assert_accepts, assert_waits_for_the_stub

from facelib import faces
from facelib.checks import GRADIENT_HINT, CheckFailed
from facelib.checks import triplets as checks

# --------------------------------------------------------------------------- triplet_loss

def tf_triplet(y_true, y_pred, alpha=0.2):
    anchor, positive, negative = y_pred
    pos = tf.reduce_sum(tf.square(anchor - positive), axis=-1)
    neg = tf.reduce_sum(tf.square(anchor - negative), axis=-1)
    return tf.reduce_sum(tf.maximum(pos - neg + alpha, 0.0))


def test_course_value_is_reproduced_on_this_tensorflow():
    """The course's 527.2598 from its own seeded inputs; measured relative difference on TF 2.21: 5e-8."""
    value = float(tf_triplet(None, checks.course_triplet_inputs(), 0.2))
    assert abs(value - checks.COURSE_TRIPLET_LOSS) / checks.COURSE_TRIPLET_LOSS < checks.COURSE_RTOL
    assert checks.COURSE_RTOL <= 1e-4  # a tolerance, not a loophole: the mistakes below are far off


def test_triplet_loss_accepts_tensorflow_and_facelib(capsys):
    assert_accepts(checks.check_triplet_loss, [tf_triplet, faces.triplet_loss], 8, capsys)


def _np(y, yp, alpha=0.2):
    a, p, n = (np.asarray(t, np.float64) for t in yp)
    return a, p, n


@pytest.mark.parametrize("wrong", [
    lambda y, yp, alpha=0.2: tf.reduce_mean(tf.maximum(tf.reduce_sum(tf.square(yp[0] - yp[1]), axis=-1)
                                                       - tf.reduce_sum(tf.square(yp[0] - yp[2]), axis=-1) + alpha, 0.)),
    lambda y, yp, alpha=0.2: tf.reduce_sum(tf.maximum(tf.reduce_sum(tf.square(yp[0] - yp[1]))
                                                      - tf.reduce_sum(tf.square(yp[0] - yp[2])) + alpha, 0.)),
    lambda y, yp, alpha=0.2: tf.reduce_sum(tf.maximum(tf.norm(yp[0] - yp[1], axis=-1)
                                                      - tf.norm(yp[0] - yp[2], axis=-1) + alpha, 0.)),
    lambda y, yp, alpha=0.2: tf.reduce_sum(tf.maximum(tf.reduce_sum(tf.square(yp[0] - yp[1]), axis=-1)
                                                      - tf.reduce_sum(tf.square(yp[0] - yp[2]), axis=-1), 0.) + alpha),
    lambda y, yp, alpha=0.2: tf.reduce_sum(tf.reduce_sum(tf.square(yp[0] - yp[1]), axis=-1)
                                           - tf.reduce_sum(tf.square(yp[0] - yp[2]), axis=-1) + alpha),
    lambda y, yp, alpha=0.2: tf.reduce_sum(tf.maximum(tf.reduce_sum(tf.square(yp[0] - yp[2]), axis=-1)
                                                      - tf.reduce_sum(tf.square(yp[0] - yp[1]), axis=-1) + alpha, 0.)),
], ids=["mean-not-sum", "reduce_sum-without-axis", "not-squared", "alpha-outside-max", "no-max", "sign-swapped"])
def test_triplet_loss_catches_mistakes(wrong):
    with pytest.raises(CheckFailed):
        checks.check_triplet_loss(wrong)


def test_triplet_loss_numpy_gets_the_gradient_hint(capsys):
    def numpy_loss(y, yp, alpha=0.2):
        a, p, n = _np(y, yp)
        return np.sum(np.maximum(((a - p) ** 2).sum(-1) - ((a - n) ** 2).sum(-1) + alpha, 0))

    with pytest.raises(CheckFailed):
        checks.check_triplet_loss(numpy_loss)
    out = capsys.readouterr().out
    assert GRADIENT_HINT in out and "✓ the course's value" in out


def test_triplet_loss_check_reports_exceptions(capsys):
    with pytest.raises(CheckFailed):
        checks.check_triplet_loss(lambda y, yp, alpha: yp[3])
    assert "IndexError" in capsys.readouterr().out


# --------------------------------------------------------------------------- triplet_kind

def kind(d_ap, d_an, alpha):
    loss = max(d_ap - d_an + alpha, 0.0)
    return "easy" if loss == 0 else "semi-hard" if loss < alpha else "hard"


def test_triplet_kind(capsys):
    assert checks.check_triplet_kind(kind)
    capsys.readouterr()
    assert_waits_for_the_stub(checks.check_triplet_kind, capsys)


@pytest.mark.parametrize("wrong", [
    lambda ap, an, a: kind(an, ap, a),                                                    # arguments swapped
    lambda ap, an, a: "easy" if an > ap + a else "semi-hard" if an > ap else "hard",      # easy boundary
    lambda ap, an, a: "easy" if an >= ap + a else "semi-hard" if an >= ap else "hard",    # hard boundary
    lambda ap, an, a: "easy" if an >= ap + a else "hard",                                 # no semi-hard
    lambda ap, an, a: "easy" if an >= ap + a else "semi_hard" if an > ap else "hard",     # spelling
], ids=["swapped", "L=0-is-not-semi-hard", "L=alpha-is-hard", "no-semi-hard", "spelling"])
def test_triplet_kind_catches_mistakes(wrong, capsys):
    with pytest.raises(CheckFailed):
        checks.check_triplet_kind(wrong)
    assert "return one of 'easy', 'semi-hard', 'hard'" in capsys.readouterr().out


# --------------------------------------------------------------------------- batch_hard_triplet_loss

def _sq(e):
    return tf.reduce_sum(tf.square(e[:, None, :] - e[None, :, :]), axis=-1)


def batch_hard(labels, embeddings, margin, *, squared=True, hardest_pos=tf.reduce_max, reduce=tf.reduce_mean,
               margin_inside=True, closest_neg=True):
    d = _sq(embeddings) if squared else tf.sqrt(_sq(embeddings) + 1e-12)
    same = tf.equal(labels[:, None], labels[None, :])
    pos = tf.logical_and(same, tf.logical_not(tf.eye(tf.shape(labels)[0], dtype=tf.bool)))
    big = tf.reduce_max(d) + 1.0
    if hardest_pos is tf.reduce_max:
        hp = tf.reduce_max(tf.where(pos, d, 0.0), axis=1)
    else:
        hp = tf.reduce_min(tf.where(pos, d, big), axis=1)
    if closest_neg:
        hn = tf.reduce_min(tf.where(same, big, d), axis=1)
    else:
        hn = tf.reduce_max(tf.where(same, 0.0, d), axis=1)
    has = tf.reduce_any(pos, axis=1)
    per = tf.maximum(hp - hn + margin, 0.0) if margin_inside else tf.maximum(hp - hn, 0.0) + margin
    return reduce(tf.boolean_mask(per, has))


def test_batch_hard_accepts_the_reference_and_facelib(capsys):
    assert_accepts(checks.check_batch_hard_triplet_loss, [batch_hard, faces.batch_hard_triplet_loss], 5, capsys)


def test_brute_force_reference_is_hand_checked():
    # two people, 1-d: 0, 2 | 3; anchor 0: pos 4, neg 9 -> max(4 - 9 + 1, 0) = 0; anchor 2: pos 4, neg 1 -> 4
    # anchor 3 has no positive: skipped. mean(0, 4) = 2
    assert checks._brute_force_batch_hard(np.array([0, 0, 1]), np.array([[0.0], [2.0], [3.0]]), 1.0) == 2.0


def test_batch_hard_hand_worked_case_tells_squared_from_unsquared(capsys):
    """The hand-worked case alone rejects unsquared distances (it used to give 0.125 both ways)."""
    labels, emb = np.array([0, 0, 1, 1]), np.array([[0.0], [2.0], [3.0], [6.0]])
    assert checks._brute_force_batch_hard(labels, emb, 0.5) == 3.0  # (0 + 3.5 + 8.5 + 0) / 4
    unsquared = float(batch_hard(tf.constant(labels), tf.constant(emb, tf.float32), 0.5, squared=False))
    assert unsquared == pytest.approx(1.0, abs=1e-5)  # (0 + 1.5 + 2.5 + 0) / 4
    with pytest.raises(CheckFailed):
        checks.check_batch_hard_triplet_loss(lambda y, e, m: batch_hard(y, e, m, squared=False))
    out = capsys.readouterr().out
    assert "✗ hand-worked" in out


@pytest.mark.parametrize("options", [
    {"squared": False}, {"reduce": tf.reduce_sum}, {"hardest_pos": tf.reduce_min},
    {"margin_inside": False}, {"closest_neg": False},
], ids=["not-squared", "sum-not-mean", "easiest-positive", "margin-outside-max", "farthest-negative"])
def test_batch_hard_catches_mistakes(options):
    with pytest.raises(CheckFailed):
        checks.check_batch_hard_triplet_loss(lambda y, e, m: batch_hard(y, e, m, **options))


def test_batch_hard_mean_over_all_anchors_is_wrong():
    """An anchor without a positive in the batch forms no triplet; counting it lowers the mean."""
    def over_all(labels, embeddings, margin):
        d = _sq(embeddings)
        same = tf.equal(labels[:, None], labels[None, :])
        hp = tf.reduce_max(tf.where(same, d, 0.0), axis=1)
        hn = tf.reduce_min(tf.where(same, tf.reduce_max(d) + 1.0, d), axis=1)
        return tf.reduce_mean(tf.maximum(hp - hn + margin, 0.0))

    with pytest.raises(CheckFailed):
        checks.check_batch_hard_triplet_loss(over_all)


def test_batch_hard_numpy_gets_the_gradient_hint(capsys):
    def numpy_loss(labels, embeddings, margin):
        return checks._brute_force_batch_hard(np.asarray(labels), np.asarray(embeddings), margin)

    with pytest.raises(CheckFailed):
        checks.check_batch_hard_triplet_loss(numpy_loss)
    out = capsys.readouterr().out
    assert GRADIENT_HINT in out and out.count("✓") == 4
