"""facelib.faces.calibration: τ for a target false-open rate from the enrolled photos, against hand-worked
cases and a plain-loop NumPy reference; FaceDatabase.calibrate_from_enrolment keeps it."""

from __future__ import annotations

import numpy as np
import pytest

from facelib import faces
from facelib.faces.calibration import (
    calibrate_from_enrolment,
    genuine_scores,
    impostor_scores,
    threshold_for_far,
)


def _line_people() -> dict[str, np.ndarray]:
    """Three people on a line (1-d encodings): distances can be read off by hand."""
    return {"ann": np.array([[0.0], [0.2]]), "bob": np.array([[1.0], [1.5]]), "cy": np.array([[3.0]])}


def test_scores_by_hand():
    scores, who = impostor_scores(_line_people())
    # ann 0.0 → bob 1.0; ann 0.2 → 0.8; bob 1.0 → ann 0.2: 0.8; bob 1.5 → 1.3; cy 3.0 → bob 1.5: 1.5
    assert np.allclose(scores, [1.0, 0.8, 0.8, 1.3, 1.5])
    assert who.tolist() == [0, 0, 1, 1, 2]
    assert np.allclose(genuine_scores(_line_people()), [0.2, 0.2, 0.5, 0.5])  # cy has one photo


def test_threshold_rule_by_hand():
    s = np.array([0.8, 0.8, 1.0, 1.3, 1.5])
    # 5 scores: a = ⌊0.2·5⌋ = 1 may pass → just below the 2nd smallest (0.8): none of the 0.8s pass
    tau = threshold_for_far(s, 0.2)
    assert tau < 0.8 and tau == np.nextafter(0.8, 0) and np.mean(s <= tau) == 0.0
    tau = threshold_for_far(s, 0.5)  # a = 2 → just below 1.0: both 0.8 pass (40 % ≤ 50 %)
    assert 0.8 < tau < 1.0 and np.mean(s <= tau) == pytest.approx(0.4)
    tau = threshold_for_far(s, 0.1)  # a = 0 → below everything
    assert tau < 0.8
    for bad in (0.0, 1.0, -0.1, 2):
        with pytest.raises(ValueError, match="target_far"):
            threshold_for_far(s, bad)


def _reference(people: list[np.ndarray], far: float) -> tuple[float, float, float]:
    """Plain loops: every photo's nearest other-person photo, the sorted-score rule, the true-accept rate."""
    imp, gen = [], []
    for i, g in enumerate(people):
        for a, x in enumerate(g):
            imp.append(min(np.linalg.norm(x - y) for j, h in enumerate(people) if j != i for y in h))
            if len(g) > 1:
                gen.append(min(np.linalg.norm(x - y) for b, y in enumerate(g) if b != a))
    imp = sorted(imp)
    a = int(np.floor(far * len(imp) + 1e-9))
    tau = np.nextafter(imp[a], -np.inf) if a < len(imp) else imp[-1]
    return float(tau), float(np.mean(np.array(imp) <= tau)), float(np.mean(np.array(gen) <= tau))


def test_matches_a_loop_reference_on_synthetic_encodings():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(12, 16))
    people = [c + 0.25 * rng.normal(size=(rng.integers(1, 5), 16)) for c in centres]
    people = [p / np.linalg.norm(p, axis=1, keepdims=True) for p in people]
    for far in (0.02, 0.1, 0.3):
        got = calibrate_from_enrolment(people, far, n_boot=200)
        tau, rate, tar = _reference(people, far)
        assert got.threshold == pytest.approx(tau, abs=1e-12)
        assert got.far == pytest.approx(rate) and got.far <= far
        assert got.tar == pytest.approx(tar)
        assert got.n_impostor == sum(len(p) for p in people) and got.n_people == 12
        lo, hi = got.interval
        assert lo <= hi and lo <= got.threshold + 1e-9 and got.threshold - 1e-9 <= hi


def test_interval_is_a_point_when_every_person_looks_alike():
    """Four people at the corners of a square, two photos each, the same spread: every resample has the
    same impostor scores, so the bootstrap interval is τ itself."""
    corners = np.array([[0, 0], [4, 0], [0, 4], [4, 4]], float)
    people = [np.stack([c, c + [0.5, 0]]) for c in corners]
    got = calibrate_from_enrolment(people, 0.3, n_boot=100)
    assert got.interval == (pytest.approx(got.threshold), pytest.approx(got.threshold))


def test_bootstrap_resamples_people_as_documented():
    """The interval equals a plain re-computation: people drawn with replacement (seeded), their
    leave-one-person-out scores pooled, the sorted-score rule, the middle 90 % of the thresholds."""
    rng = np.random.default_rng(1)
    people = [rng.normal(size=8) + 0.4 * rng.normal(size=(rng.integers(1, 4), 8)) for _ in range(10)]
    got = calibrate_from_enrolment(people, 0.1, n_boot=150, confidence=0.9, seed=7)
    scores = []
    for i, g in enumerate(people):
        others = np.concatenate([h for j, h in enumerate(people) if j != i])
        scores.append([np.linalg.norm(others - x, axis=1).min() for x in g])
    draw = np.random.default_rng(7)
    taus = []
    for _ in range(150):
        pooled = np.sort(np.concatenate([scores[k] for k in draw.integers(0, 10, 10)]))
        a = int(np.floor(0.1 * len(pooled) + 1e-9))
        taus.append(np.nextafter(pooled[a], -np.inf) if a < len(pooled) else pooled[-1])
    assert got.interval == pytest.approx(tuple(np.quantile(taus, [0.05, 0.95])))
    assert got.interval[1] > got.interval[0]  # ten people: τ really is uncertain


def test_bad_enrolments_are_refused():
    with pytest.raises(ValueError, match="two enrolled people"):
        calibrate_from_enrolment({"ann": np.zeros((3, 4))})
    with pytest.raises(ValueError, match="widths"):
        calibrate_from_enrolment([np.zeros((2, 4)), np.ones((2, 5))])
    with pytest.raises(ValueError, match="confidence"):
        calibrate_from_enrolment([np.zeros((2, 4)), np.ones((2, 4))], confidence=1.5)


def test_face_database_keeps_the_threshold():
    # The line's points on a unit circle (a database holds unit-length encodings): angle 0.3·x, so every
    # distance becomes the chord 2·sin(0.3·|Δx| / 2), in the same order as on the line.
    db = faces.FaceDatabase(model=object(), detect=False)
    for name, enc in _line_people().items():
        on_circle = np.zeros((len(enc), 128), np.float32)
        on_circle[:, 0], on_circle[:, 1] = np.cos(0.3 * enc[:, 0]), np.sin(0.3 * enc[:, 0])
        db.add_encodings(name, on_circle)
    got = db.calibrate_from_enrolment(target_far=0.5, n_boot=50)
    # between the chords of 0.8 and 1.0 (float32 encodings: to 1e-6)
    assert 2 * np.sin(0.12) < got.threshold < 2 * np.sin(0.15) + 1e-6 and db.threshold == got.threshold
    assert got.tar == pytest.approx(1.0)  # every genuine score (0.2, 0.5) is below τ
