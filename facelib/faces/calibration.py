"""A door that calibrates itself: τ for a target false-open rate from the enrolled people's own photos.

Lecture idea (lesson 05 "face verification", lesson 10's happy house): the door opens when the
nearest enrolled person is within ``τ``, ``d(f(x), f(y)) ≤ τ``. The risk that matters is the
**false open**: someone who is *not* enrolled walks up and the door opens. Nobody photographs
strangers for you, but the enrolled people can play them: leave one person out of the database and
ask how near their photos come to everyone else — exactly what a stranger's photo does
(:func:`impostor_scores`). The largest ``τ`` at which at most a fraction ``target_far`` of those
"strangers" get in is the door's threshold (:func:`threshold_for_far`).

A class is small: with N people of k photos there are only N·k such scores, so a false-open rate
below ``1 / (N·k)`` cannot be measured at all, and the chosen ``τ`` moves with who happened to
enrol. :func:`calibrate_from_enrolment` therefore also gives a bootstrap interval: people (not
photos: one person's photos are alike) are drawn with replacement and ``τ`` chosen again, ``n_boot``
times; the interval holds the middle ``confidence`` of those thresholds.

The same photos, each left out of its own person in turn (:func:`genuine_scores`), say how often an
enrolled person would be let in at that ``τ`` (the true-accept rate), when people have two photos or more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from facelib.faces.evaluation import pairwise_distances

__all__ = ["EnrolmentCalibration", "calibrate_from_enrolment", "genuine_scores", "impostor_scores",
           "threshold_for_far"]


@dataclass(frozen=True)
class EnrolmentCalibration:
    """What :func:`calibrate_from_enrolment` found.

    Attributes:
        threshold: τ (``d ≤ τ`` ⇒ open).
        interval: ``(low, high)`` bootstrap interval of τ (people resampled).
        target_far: the false-open rate asked for.
        far: the false-open rate of ``threshold`` on the enrolment's own impostor scores.
        tar: the share of enrolled photos let in at ``threshold`` (leave one photo out; NaN when
            nobody has two photos).
        n_impostor: how many impostor scores τ was chosen from (``1 / n_impostor`` is the smallest
            false-open rate they can measure).
        n_people: enrolled people.
        confidence: the interval's coverage.
    """

    threshold: float
    interval: tuple[float, float]
    target_far: float
    far: float
    tar: float
    n_impostor: int
    n_people: int
    confidence: float


def _groups(people: Mapping[str, np.ndarray] | list[np.ndarray]) -> list[np.ndarray]:
    groups = list(people.values()) if isinstance(people, Mapping) else list(people)
    out = [np.atleast_2d(np.asarray(g, np.float64)) for g in groups]
    if len(out) < 2 or any(len(g) == 0 for g in out):
        raise ValueError("self-calibration needs at least two enrolled people, each with at least one photo")
    if len({g.shape[1] for g in out}) != 1:
        raise ValueError(f"encodings of different widths: {sorted({g.shape[1] for g in out})}")
    return out


def impostor_scores(people: Mapping[str, np.ndarray] | list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each photo as a stranger: its distance to the nearest photo of *another* person.

    Args:
        people: ``{name: (k_i, d) encodings}`` (or a list of the arrays), at least two people.

    Returns:
        ``(scores (Σk_i,), person index (Σk_i,))``, photos in the order given.
    """
    groups = _groups(people)
    x = np.concatenate(groups)
    who = np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)])
    d = pairwise_distances(x)
    d[who[:, None] == who[None, :]] = np.inf
    return d.min(1), who


def genuine_scores(people: Mapping[str, np.ndarray] | list[np.ndarray]) -> np.ndarray:
    """Each photo of a person with two or more: its distance to the nearest *other* photo of that
    person (what the door sees when they come home) → ``(n,)`` (empty if nobody has two photos)."""
    out = []
    for g in _groups(people):
        if len(g) > 1:
            d = pairwise_distances(g)
            np.fill_diagonal(d, np.inf)
            out.append(d.min(1))
    return np.concatenate(out) if out else np.zeros(0)


def threshold_for_far(scores: np.ndarray, target_far: float) -> float:
    """The largest τ with at most ``target_far`` of the impostor ``scores`` at ``d ≤ τ``.

    With ``n`` scores sorted ``s₁ ≤ … ≤ s_n``, ``a = ⌊target_far·n⌋`` of them may get in: τ is the
    float just below ``s_{a+1}`` (``s_n`` itself when every score may pass).
    """
    s = np.sort(np.asarray(scores, np.float64).ravel())
    if not 0.0 < target_far < 1.0:
        raise ValueError(f"target_far must be a rate in (0, 1); got {target_far}")
    if s.size == 0:
        raise ValueError("no impostor scores to choose τ from")
    a = int(np.floor(target_far * len(s) + 1e-9))
    if a >= len(s):
        return float(s[-1])
    return float(np.nextafter(s[a], -np.inf))


def calibrate_from_enrolment(people: Mapping[str, np.ndarray] | list[np.ndarray], target_far: float = 0.01, *,
                             n_boot: int = 1000, confidence: float = 0.95, seed: int = 0) -> EnrolmentCalibration:
    """τ for a target false-open rate from the enrolled people's own photos, with a bootstrap interval.

    Args:
        people: ``{name: (k_i, d) encodings}`` of the enrolled people (at least two).
        target_far: the false-open rate wanted (a stranger let in), in ``(0, 1)``.
        n_boot: bootstrap rounds; each draws as many people as enrolled, with replacement, and
            chooses τ on their impostor scores (:func:`impostor_scores` of the whole enrolment).
        confidence: coverage of the percentile interval.
        seed: the bootstrap's random seed.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    scores, who = impostor_scores(people)
    tau = threshold_for_far(scores, target_far)
    n_people = int(who.max()) + 1
    by_person = [scores[who == i] for i in range(n_people)]
    rng = np.random.default_rng(seed)
    boot = np.array([threshold_for_far(np.concatenate([by_person[i] for i in rng.integers(0, n_people, n_people)]),
                                       target_far) for _ in range(int(n_boot))])
    lo, hi = np.quantile(boot, [(1 - confidence) / 2, (1 + confidence) / 2]) if len(boot) else (tau, tau)
    genuine = genuine_scores(people)
    return EnrolmentCalibration(threshold=tau, interval=(float(lo), float(hi)), target_far=float(target_far),
                                far=float(np.mean(scores <= tau)),
                                tar=float(np.mean(genuine <= tau)) if genuine.size else float("nan"),
                                n_impostor=int(scores.size), n_people=n_people, confidence=float(confidence))
