"""facelib.faces.evaluation against scikit-learn, brute force and hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from facelib import faces


def scores(seed=0, n=200, ties=False):
    rng = np.random.default_rng(seed)
    same = rng.random(n) < 0.3
    d = rng.normal(loc=np.where(same, 0.8, 1.2), scale=0.3)
    if ties:
        d = np.round(d, 1)
    return d, same


def test_pairwise_distances_brute_force():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    ref = np.array([[np.sqrt(sum((a[i, k] - b[j, k]) ** 2 for k in range(3))) for j in range(4)] for i in range(5)])
    np.testing.assert_allclose(faces.pairwise_distances(a, b), ref, atol=1e-9)
    np.testing.assert_allclose(faces.pairwise_distances(a, b, squared=True), ref ** 2, atol=1e-9)
    np.testing.assert_allclose(np.diag(faces.pairwise_distances(a)), 0.0, atol=1e-6)
    np.testing.assert_allclose(faces.pair_distances(a[:4], b), np.diag(ref[:4]), atol=1e-9)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        faces.pairwise_distances(a, b[:, :2])
    with pytest.raises(ValueError, match="same shape"):
        faces.pair_distances(a, b)


def test_pair_distances_by_index_match_numpy_without_pair_arrays():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 7)).astype(np.float32)
    i, j, _ = faces.all_pairs(np.arange(30) // 3)          # 435 pairs > 30² is false: the chunked route
    ref = np.linalg.norm(x[i].astype(np.float64) - x[j], axis=1)
    np.testing.assert_allclose(faces.pair_distances(x, pairs=(i, j)), ref, rtol=1e-12, atol=1e-12)
    ii, jj = np.r_[i, i, np.arange(30)], np.r_[j, j, np.arange(30)]   # 900 pairs = 30²: the Gram route
    got = faces.pair_distances(x, pairs=(ii, jj))
    np.testing.assert_allclose(got[:-30], np.r_[ref, ref], rtol=1e-6, atol=1e-6)
    assert np.all(got[-30:] == 0.0)                             # i == j: exactly zero, not sqrt(rounding)
    twins = np.repeat(x[:1], 20, axis=0) * 1e3                # equal rows: cancellation must not go negative
    d_twins = faces.pair_distances(twins, pairs=(np.zeros(400, int), np.arange(400) % 20))
    assert np.all(np.isfinite(d_twins)) and np.all(d_twins >= 0.0) and np.all(d_twins < 1e-3)
    np.testing.assert_allclose(faces.pair_distances(x[i], x[j]), ref, rtol=1e-12)   # the row-by-row form
    with pytest.raises(ValueError, match="either b or pairs"):
        faces.pair_distances(x, x, pairs=(i, j))
    with pytest.raises(ValueError, match="index arrays"):
        faces.pair_distances(x, pairs=(i, j[:-1]))


@pytest.mark.parametrize("n", [3000, 1000], ids=["3000x4096-chunks", "1000x4096-gram"])
def test_pair_distances_memory_on_4096_pixel_rows(n):
    """Photos of 4,096 pixels: gathered pair arrays would need (pairs × 4,096 × 8) bytes each."""
    import tracemalloc

    rng = np.random.default_rng(2)
    x = rng.random((n, 4096))                                  # float64: no copy needed on either route
    if n == 3000:                                              # 20,000 random pairs: the chunked route
        i, j = rng.integers(0, n, 20_000), rng.integers(0, n, 20_000)
    else:                                                      # every ordered pair and i == i: n² pairs,
        i, j = np.divmod(np.arange(n * n), n)                 # the Gram route
    naive = len(i) * 4096 * 8 * 2                              # x[i] and x[j]: 1.3 GB / 65 GB
    answer, gram = len(i) * 8, n * n * 8 * (n == 1000)
    bound = answer + gram + 16 * 2**20                         # the answer, the Gram matrix, 16 MiB of steps
    tracemalloc.start()
    try:
        d = faces.pair_distances(x, pairs=(i, j))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= bound < naive / 10, (peak, bound)
    k = np.r_[rng.integers(0, len(i), 200), np.flatnonzero(i == j)[:5]]
    np.testing.assert_allclose(d[k], np.linalg.norm(x[i[k]] - x[j[k]], axis=1), rtol=1e-9, atol=1e-9)


def test_pairwise_distances_diagonal_is_exactly_zero():
    x = np.random.default_rng(3).normal(size=(50, 9)) * 100.0
    d = faces.pairwise_distances(x)
    assert np.all(np.diag(d) == 0.0) and np.all(d >= 0.0)
    np.testing.assert_allclose(d, np.linalg.norm(x[:, None] - x[None], axis=-1), rtol=1e-9, atol=1e-9)


def test_all_pairs():
    i, j, same = faces.all_pairs(np.array([0, 0, 1, 1, 1]))
    assert len(i) == 10 and np.all(i < j)
    assert same.sum() == 1 + 3


@pytest.mark.parametrize("ties", [False, True])
def test_roc_and_auc_match_sklearn(ties):
    d, same = scores(1, ties=ties)
    fpr, tpr, thr = faces.roc_curve(d, same)
    s_fpr, s_tpr, s_thr = metrics.roc_curve(same, -d, drop_intermediate=False)
    np.testing.assert_allclose(fpr, s_fpr)
    np.testing.assert_allclose(tpr, s_tpr)
    np.testing.assert_allclose(thr[1:], -s_thr[1:])
    assert faces.auc(fpr, tpr) == pytest.approx(metrics.roc_auc_score(same, -d), abs=1e-12)


def test_auc_hand_worked():
    # perfectly separated -> 1; perfectly inverted -> 0; square (0,0)-(0,.5)-(1,.5)-(1,1) -> 0.5
    assert faces.auc(*faces.roc_curve([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])[:2]) == 1.0
    assert faces.auc(*faces.roc_curve([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])[:2]) == 0.0
    assert faces.auc([0, 0, 1, 1], [0, 0.5, 0.5, 1]) == pytest.approx(0.5)


def test_best_threshold_brute_force():
    d, same = scores(2)
    tau, acc = faces.best_threshold(d, same)
    u = np.unique(d)
    candidates = np.r_[u[0] - 1, (u[1:] + u[:-1]) / 2, u[-1] + 1]
    best = max(np.mean((d <= t) == same) for t in candidates)
    assert acc == pytest.approx(best)
    assert faces.verification_accuracy(d, same, tau) == pytest.approx(acc)


def test_best_threshold_hand_worked():
    tau, acc = faces.best_threshold([0.2, 0.4, 0.9, 1.1], [True, True, False, False])
    assert acc == 1.0 and tau == pytest.approx(0.65)


def test_equal_error_rate_hand_worked_and_brute_force():
    # same at 1, 3; different at 2, 4: at τ = 2, FAR = FRR = 1/2
    eer, tau = faces.equal_error_rate([1, 3, 2, 4], [1, 1, 0, 0])
    assert eer == pytest.approx(0.5) and tau == pytest.approx(2.0)
    assert faces.equal_error_rate([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])[0] == pytest.approx(0.0)
    d, same = scores(3, n=2000)
    eer, tau = faces.equal_error_rate(d, same)
    grid = np.linspace(d.min(), d.max(), 20001)
    far = np.array([np.mean(d[~same] <= t) for t in grid])
    frr = np.array([np.mean(d[same] > t) for t in grid])
    k = np.argmin(np.abs(far - frr))
    assert eer == pytest.approx((far[k] + frr[k]) / 2, abs=0.01)


def test_bad_inputs():
    with pytest.raises(ValueError, match="same length"):
        faces.roc_curve([0.1, 0.2], [True])
    with pytest.raises(ValueError, match="both same-person and different-person"):
        faces.best_threshold([0.1, 0.2], [True, True])


def test_one_shot_accuracy_hand_worked():
    # person 0 photos at 0 and 1, person 1 at 5 and 100 (1-d encodings).
    # query from person 0: always right. Query from person 1: right when the support is 5 and the
    # query 100 (95 < 99), wrong when the support is 100 and the query 5 (95 > 4). -> 0.75
    x = np.array([[0.0], [1.0], [5.0], [100.0]])
    y = np.array([0, 0, 1, 1])
    acc = faces.one_shot_accuracy(None, x, y, n_way=2, trials=4000, seed=0)
    assert acc == pytest.approx(0.75, abs=0.03)


def test_one_shot_accuracy_perfect_and_chance():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(12), 3)
    perfect = np.eye(12)[y] + 0.01 * rng.normal(size=(36, 12))
    assert faces.one_shot_accuracy(None, perfect, y, n_way=10, trials=300) == 1.0
    # encodings unrelated to the person: chance level 1/10 (many photos each, so that the fixed
    # random points carry no accidental structure)
    y_many = np.repeat(np.arange(12), 50)
    unrelated = rng.normal(size=(600, 16))
    assert faces.one_shot_accuracy(None, unrelated, y_many, n_way=10, trials=3000, seed=1) == pytest.approx(
        0.1, abs=0.025)
    noise = rng.normal(size=(36, 12))
    # an encoder function gives the same as its pre-computed encodings
    enc = lambda b: np.asarray(b)[:, :6] * 2.0  # noqa: E731
    assert faces.one_shot_accuracy(enc, noise, y, trials=200, seed=2) == faces.one_shot_accuracy(
        None, noise[:, :6] * 2.0, y, trials=200, seed=2)
    with pytest.raises(ValueError, match="10-way"):
        faces.one_shot_accuracy(None, noise[:27], y[:27], n_way=10)


def test_encode_batches_and_errors():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    calls = []

    def f(batch):
        calls.append(len(batch))
        return batch * 3

    np.testing.assert_array_equal(faces.encode(f, x, batch_size=4), x * 3)
    assert calls == [4, 4, 2]
    with pytest.raises(ValueError, match="empty"):
        faces.encode(f, x[:0])


def test_accepts_is_d_at_most_tau_including_equality():
    assert faces.accepts(0.7, 0.7) is True  # the lecture: d <= τ means "same"
    assert faces.accepts(np.nextafter(0.7, 1.0), 0.7) is False
    assert faces.accepts(0.0, 0.0) is True
    np.testing.assert_array_equal(faces.accepts(np.array([0.5, 0.7, 0.9]), 0.7), [True, True, False])
    # verification_accuracy judges with the same rule: the pair at exactly τ is accepted
    assert faces.verification_accuracy([0.5, 0.7, 0.9], [True, True, False], 0.7) == 1.0
    assert faces.verification_accuracy([0.5, 0.7, 0.9], [True, False, False], 0.7) == pytest.approx(2 / 3)


def test_roc_and_best_threshold_choose_under_the_rule_they_report():
    d, same = scores(5, ties=True)
    fpr, tpr, thr = faces.roc_curve(d, same)
    for f, t, tau in zip(fpr[1:], tpr[1:], thr[1:]):  # every ROC point is "accepts(d, τ)" at τ = a distance
        acc = faces.accepts(d, tau)
        assert t == pytest.approx(acc[same].mean()) and f == pytest.approx(acc[~same].mean())
    tau, acc = faces.best_threshold(d, same)
    assert np.mean(faces.accepts(d, tau) == same) == pytest.approx(acc)


def test_encode_is_the_one_batched_encoder_for_models_and_functions():
    import keras

    rng = np.random.default_rng(3)
    x = rng.random((70, 6, 6, 1)).astype(np.float32)
    inputs = keras.Input((6, 6, 1))
    model = keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Flatten()(keras.layers.Dropout(0.5)(inputs))))
    ref = np.asarray(model(x, training=False))  # eager, inference mode (dropout off)
    np.testing.assert_allclose(faces.encode(model, x, batch_size=16), ref, atol=1e-6)
    np.testing.assert_allclose(faces.encode(model, x, batch_size=16, preprocess=lambda b: 2 * b),
                               np.asarray(model(2 * x, training=False)), atol=1e-6)
    seen = []

    def plain(batch):  # no ``training`` argument
        seen.append(len(batch))
        return batch.reshape(len(batch), -1)[:, :3]

    np.testing.assert_array_equal(faces.encode(plain, x, batch_size=32), x.reshape(70, -1)[:, :3])
    assert seen == [32, 32, 6]
    with pytest.raises(ValueError, match="empty"):
        faces.encode(plain, x[:0])
    # one_shot_accuracy encodes through the same function: same result as on the encodings themselves
    y = np.repeat(np.arange(10), 7)
    assert faces.one_shot_accuracy(model, x, y, trials=50) == faces.one_shot_accuracy(
        None, faces.encode(model, x), y, trials=50)


def test_mining_losses_use_the_same_distances_as_evaluation():
    from facelib.faces import losses

    e = np.random.default_rng(4).normal(size=(9, 5)).astype(np.float32)
    for squared in (True, False):
        np.testing.assert_allclose(losses._batch_distances(e, squared=squared).numpy(),
                                   faces.pairwise_distances(e, squared=squared), atol=1e-4)
    # the one public pairwise_distances is evaluation's (losses' had the opposite ``squared`` default)
    assert not hasattr(losses, "pairwise_distances") and "pairwise_distances" not in losses.__all__


def test_tau_for_false_open_hand_worked():
    from facelib.faces import tau_for_false_open

    # 1-d: 0, 1 (a) | 3, 7 (b); stranger pairs 3, 7, 2, 6 -> sorted 2, 3, 6, 7
    e, y = np.array([[0.0], [1.0], [3.0], [7.0]]), np.array([0, 0, 1, 1])
    assert tau_for_false_open(e, y, 0.0) == 1.0     # k = 0: halfway between 0 and 2
    assert tau_for_false_open(e, y, 0.3) == 2.5     # k = 1: (2 + 3) / 2
    assert tau_for_false_open(e, y, 0.75) == 6.5    # k = 3: (6 + 7) / 2
    d = np.abs(e[:, 0][:, None] - e[:, 0][None])
    strangers = d[y[:, None] != y[None]] / 1.0
    assert np.mean(strangers <= tau_for_false_open(e, y, 0.3)) <= 0.3  # the door keeps to the rate
    with pytest.raises(ValueError, match="rate"):
        tau_for_false_open(e, y, 1.0)
    with pytest.raises(ValueError, match="two different people"):
        tau_for_false_open(e, np.zeros(4), 0.1)
