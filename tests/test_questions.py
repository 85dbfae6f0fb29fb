"""The questions that close every lesson (``facelib.checks.answer``): each checker accepts its right answer,
rejects every other option (multiple choice) or the typical wrong numbers, and says "not attempted yet" for
the notebook's stub. Every numeric answer is recomputed here independently of the question bank: output
shapes by building the Keras layer, parameter counts with ``count_params()``, receptive fields from the
footprint of a gradient, probabilities with scipy, the rest with NumPy.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from facelib import checks
from facelib.checks.questions import BANK, LETTERS, Question, question_markdown

ALL = [q for qs in BANK.values() for q in qs]
CHOICE = [q for q in ALL if q.kind == "choice"]
NUMERIC = [q for q in ALL if q.kind != "choice"]


def _ids(qs: list[Question]) -> list[str]:
    return [q.qid for q in qs]


# --------------------------------------------------------------------------- independent references

def _keras_output(layer, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    import keras

    return tuple(layer(keras.Input(input_shape)).shape[1:])


def _keras_params(layer, input_shape: tuple[int | None, ...]) -> int:
    import keras

    layer(keras.Input(input_shape))
    return layer.count_params()


def _receptive_field(layers: list[tuple[int, int]]) -> int:
    """The width of the input pixels that reach the centre unit of the last layer: the support of its gradient
    (linear convolutions with all-one kernels, so nothing cancels)."""
    import keras
    import tensorflow as tf

    x = tf.Variable(tf.ones((1, 64, 64, 1)))
    model = keras.Sequential([keras.layers.Conv2D(1, k, strides=s, kernel_initializer="ones", use_bias=False)
                              for k, s in layers])
    with tf.GradientTape() as tape:
        y = model(x)
        centre = y[0, y.shape[1] // 2, y.shape[2] // 2, 0]
    grad = tape.gradient(centre, x).numpy()[0, :, :, 0]
    cols = np.nonzero(grad.any(axis=0))[0]
    return int(cols[-1] - cols[0] + 1)


def _gram(a: np.ndarray) -> np.ndarray:
    unrolled = a.reshape(-1, a.shape[-1]).T  # (n_C, n_H n_W)
    return unrolled @ unrolled.T


def _recompute(qid: str):
    import keras

    L = keras.layers
    refs = {
        "00.1": lambda: np.linalg.norm(np.array([2, -1, 4]) - np.array([-1, 3, 4])),
        "00.2": lambda: max(np.linalg.norm(u - v) for u, v in _unit_pairs()),
        "01.3": lambda: stats.binom.sf(0, 50, 0.01),
        "01.4": lambda: optimize.brentq(lambda far: 1 - (1 - far) ** 100 - 0.01, 1e-9, 0.5, xtol=1e-14),
        "02.4": lambda: 0 * 0.4**2 + (1 - 0) * max(1 - 0.4, 0) ** 2,
        "03.1": lambda: _triplet(np.array([0.0, 0.0]), np.array([1.0, 1.0]), np.array([1.0, 0.0]), 0.5),
        "04.1": lambda: _keras_params(L.Dense(1, activation="sigmoid"), (128,)),
        "04.2": lambda: (0.6 - 0.2) ** 2 / (abs(0.6) + abs(0.2)),
        "05.3": lambda: np.linalg.norm(np.array([1.0, 0.0]) - np.array([0.5, math.sqrt(3) / 2])),
        "06.1": lambda: _receptive_field([(3, 1), (3, 1)]),
        "06.2": lambda: _receptive_field([(7, 2), (3, 1)]),
        "06.3": lambda: _keras_params(L.Conv2D(64, 3), (None, None, 3)),
        "07.3": lambda: _gram(np.random.default_rng(0).normal(size=(1, 32, 32, 64))).shape,
        "07.4": lambda: np.sum((np.ones((1, 2, 2, 3)) - np.zeros((1, 2, 2, 3))) ** 2) / (4 * 2 * 2 * 3),
        "08.1": lambda: _keras_output(L.Conv1D(16, 5), (14, 1)),
        "08.2": lambda: _keras_params(L.Conv1D(16, 5), (14, 1)),
        "08.3": lambda: _keras_params(L.Conv1D(16, 9), (None, 8)),
        "08.4": lambda: _keras_output(L.Conv1D(1, 7, strides=3), (100, 1))[0],
        "09.1": lambda: _keras_output(L.Conv3D(12, 5), (20, 20, 20, 3)),
        "09.2": lambda: _keras_params(L.Conv3D(12, 5), (20, 20, 20, 3)),
        "09.3": lambda: _keras_output(L.Conv3D(4, 3, strides=2, padding="same"), (17, 17, 17, 2)),
        "10.1": lambda: 1 / 0.240,
        "10.2": lambda: (640 * 480) / ((640 / 3) * (480 / 3)),
    }
    return refs[qid]()


def _unit_pairs():
    rng = np.random.default_rng(1)
    u = rng.normal(size=(2000, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    yield from zip(u[:1000], u[1000:])
    yield u[0], -u[0]  # opposite points: the largest distance is reached


def _triplet(a: np.ndarray, p: np.ndarray, n: np.ndarray, alpha: float) -> float:
    return max(np.sum((a - p) ** 2) - np.sum((a - n) ** 2) + alpha, 0.0)


#: Typical wrong answers a student gives (unsquared distances, forgotten biases, stride ignored, K·FAR...).
WRONG = {
    "00.1": [25, 7, 1], "00.2": [1, math.sqrt(2), 4, 0],
    "01.3": [0.5, 0.01, 0.99**50, 0.99], "01.4": [0.01, 0.001, 0.0099, 1e-6],
    "02.4": [0.6, 0.16, 0.0, 1.0], "03.1": [math.sqrt(2) - 1 + 0.5, 0.0, 2.5, 1.0],
    "04.1": [128, 256, 257, 130], "04.2": [0.4, 0.16, 0.8], "05.3": [0.5, math.sqrt(0.5), math.sqrt(2), 0],
    "06.1": [3, 6, 9, 4], "06.2": [9, 10, 7, 13], "06.3": [1728, 640, 576, 1856],
    "07.3": [(1024, 1024), (32, 32), (64, 1024), (1, 64, 64)], "07.4": [1.0, 12, 0.0625, 0.5],
    "08.1": [(14, 16), (10, 1), (16, 10), (11, 16)], "08.2": [80, 112, 90, 16], "08.3": [1152, 160, 144, 1184],
    "08.4": [94, 34, 31, 33],
    "09.1": [(16, 16, 16, 3), (15, 15, 15, 12), (20, 20, 20, 12), (16, 16, 16)], "09.2": [4500, 1512, 376, 4524],
    "09.3": [(8, 8, 8, 4), (17, 17, 17, 4), (9, 9, 9, 2), (15, 15, 15, 4)],
    "10.1": [0.24, 10, 240, 5], "10.2": [3, 6, 1 / 9, 27],
}


# --------------------------------------------------------------------------- the bank itself

def test_every_lesson_has_four_to_six_questions_numbered_in_order():
    assert list(BANK) == [f"{n:02d}" for n in range(11)]
    for lesson, qs in BANK.items():
        assert 4 <= len(qs) <= 6, lesson
        assert _ids(list(qs)) == [f"{lesson}.{k}" for k in range(1, len(qs) + 1)]


@pytest.mark.parametrize("q", ALL, ids=_ids(ALL))
def test_each_question_is_well_formed(q):
    for text in (q.prompt, q.explain, q.hint):
        assert text.strip() and "\n" not in text, f"{q.qid}: one line each"
    if q.kind == "choice":
        assert 3 <= len(q.options) <= len(LETTERS) and q.answer in LETTERS[:len(q.options)]
        assert len(set(q.options)) == len(q.options)
        right = q.options[LETTERS.index(q.answer)]
        assert right.lower() not in q.hint.lower(), f"{q.qid}: the hint gives the answer away"
        assert q.tol == 0
    else:
        assert q.tol >= 0 and q.qid in WRONG, f"{q.qid}: list its typical wrong answers in WRONG"


def test_the_right_letters_are_spread_over_the_options():
    """A student who always answers "b" should not score well."""
    counts = {letter: sum(q.answer == letter for q in CHOICE) for letter in "abcd"}
    assert max(counts.values()) <= 2 * min(counts.values()), counts


# --------------------------------------------------------------------------- the numbers, recomputed

@pytest.mark.parametrize("q", NUMERIC, ids=_ids(NUMERIC))
def test_numeric_answer_matches_an_independent_computation(q, capsys):
    ref = _recompute(q.qid)
    if q.kind == "shape":
        assert tuple(int(v) for v in ref) == q.answer
    else:
        assert abs(float(ref) - float(q.answer)) <= max(q.tol / 10, 1e-12), (q.qid, ref, q.answer)
    assert checks.answer(q.qid, ref if q.kind == "number" else tuple(int(v) for v in ref))
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("q", NUMERIC, ids=_ids(NUMERIC))
def test_numeric_checker_rejects_typical_wrong_answers(q, capsys):
    for wrong in WRONG[q.qid]:
        verdict = checks.answer(q.qid, wrong)
        out = capsys.readouterr().out
        assert not verdict and "✗" in out and "✓" not in out, (q.qid, wrong, out)
    if q.kind == "number" and q.tol > 0:  # the stated tolerance is honoured on both sides
        assert checks.answer(q.qid, float(q.answer) + 0.9 * q.tol)
        assert checks.answer(q.qid, float(q.answer) - 0.9 * q.tol)
        assert not checks.answer(q.qid, float(q.answer) + 1.5 * q.tol)
        assert not checks.answer(q.qid, float(q.answer) - 1.5 * q.tol)


def test_hand_worked_multiple_choice_facts():
    """The multiple-choice questions whose right option follows from a computation."""
    kind = {q.qid: q.options[LETTERS.index(q.answer)] for q in CHOICE}
    loss = max(0.5 - 0.6 + 0.2, 0.0)  # 03.3: 0 < L < alpha → semi-hard
    assert 0 < loss < 0.2 and kind["03.3"] == "semi-hard"
    distances = {"Ana": 0.82, "Ben": 0.55, "Cem": 0.61}  # 05.2: the nearest, if within tau
    nearest = min(distances, key=distances.get)
    assert distances[nearest] <= 0.7 and kind["05.2"] == nearest
    a = np.random.default_rng(3).normal(size=(1, 6, 5, 4))  # 07.6: shuffling positions keeps the Gram matrix
    flat = a.reshape(-1, 4)
    shuffled = flat[np.random.default_rng(4).permutation(len(flat))].reshape(a.shape)
    assert np.allclose(_gram(a), _gram(shuffled)) and kind["07.6"] == "It is unchanged."
    assert kind["07.1"].startswith("The pixels of the generated image")


# --------------------------------------------------------------------------- the checker

@pytest.mark.parametrize("q", CHOICE, ids=_ids(CHOICE))
def test_choice_accepts_the_right_letter_and_rejects_every_other(q, capsys):
    for form in (q.answer, q.answer.upper(), f" ({q.answer}) "):
        assert checks.answer(q.qid, form)
        out = capsys.readouterr().out
        assert out.startswith(f"✓ {q.qid}: right") and q.explain in out
    for letter in LETTERS[:len(q.options)]:
        if letter != q.answer:
            verdict = checks.answer(q.qid, letter)
            out = capsys.readouterr().out
            assert not verdict and "is not right" in out and q.hint in out and "✓" not in out, (q.qid, letter)


@pytest.mark.parametrize("q", ALL, ids=_ids(ALL))
def test_the_stub_is_not_attempted_yet(q, capsys):
    for stub in ((...,), (None,), ()):
        verdict = checks.answer(q.qid, *stub)
        out = capsys.readouterr().out
        assert not verdict and "not attempted yet" in out and "✓" not in out and "right" not in out.split("—")[0]


@pytest.mark.parametrize(("qid", "given", "says"), [
    ("03.2", 4, "answer with a letter in quotes"),
    ("03.2", "e", "is not one of the options a, b, c, d"),
    ("03.2", "ab", "is not one of the options"),
    ("03.3", "d", "is not one of the options a, b, c"),
    ("08.2", "b", "answer with one number"),
    ("08.2", True, "answer with one number"),
    ("08.2", [96], "answer with one number"),
    ("08.1", (10,), "a tuple of 2 whole numbers"),
    ("08.1", "10, 16", "a tuple of 2 whole numbers"),
    ("08.1", (10, "x"), "must be a number"),
])
def test_an_answer_of_the_wrong_form_says_what_form_is_expected(qid, given, says, capsys):
    assert not checks.answer(qid, given)
    out = capsys.readouterr().out
    assert out.startswith(f"✗ {qid}:") and says in out


def test_answers_in_other_numeric_forms_are_read():
    assert checks.answer("08.2", np.int64(96)) and checks.answer("08.2", "96") and checks.answer("08.2", 96.0)
    assert checks.answer("08.1", [10, 16]) and checks.answer("08.1", np.array([10, 16]))
    assert not checks.answer("08.2", float("nan"))


def test_unknown_question_or_lesson_is_one_clear_error():
    with pytest.raises(ValueError, match="no question '03.9'"):
        checks.answer("03.9", "a")
    with pytest.raises(ValueError, match="no questions for lesson '11'"):
        checks.quiz("11")
    assert checks.question("3.2") is checks.question("03.2")
    assert checks.questions(3) == checks.questions("03_triplet_loss") == BANK["03"]


def _interactive(monkeypatch, value: bool) -> None:
    import dataclasses

    from facelib import config

    monkeypatch.setattr(config, "settings", dataclasses.replace(config.settings, interactive=value))


def test_quiz_prints_every_question_of_the_lesson_and_no_answer(monkeypatch, capsys):
    _interactive(monkeypatch, False)  # CI, nbval, FACELIB_INTERACTIVE=0
    assert checks.quiz("07") is None
    out = capsys.readouterr().out
    for q in BANK["07"]:
        assert q.prompt in out and q.how() in out and q.explain not in out
    assert "✓" not in out


def test_question_markdown_shows_the_options_and_the_tolerance():
    md = question_markdown(checks.question("03.3"))
    assert md.startswith("**Question 03.3.**") and "- **b)** semi-hard" in md and '"a", "b", "c"' in md
    assert "within ±0.01" in question_markdown(checks.question("03.1"))
    assert "whole number (exact)" in question_markdown(checks.question("08.2"))


# --------------------------------------------------------------------------- the lessons

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_each_lesson_ends_with_its_questions_and_stores_no_pass(path):
    """A "## Questions" section right before the final summary (or at the end): per question of the bank, its
    Markdown and a cell ``facelib.checks.answer("NN.k", ...)`` whose stored output says "not attempted yet"."""
    import nbformat

    cells = nbformat.read(path, as_version=4).cells
    lesson = path.name[:2]
    start = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Questions"))
    for k, q in enumerate(BANK[lesson]):
        md, code = cells[start + 1 + 2 * k], cells[start + 2 + 2 * k]
        assert md.cell_type == "markdown" and md.source == question_markdown(q), f"{path.name}: {q.qid} text"
        assert code.cell_type == "code" and code.source.startswith(f'facelib.checks.answer("{q.qid}", ...)')
        text = "".join(o.get("text", "") for o in code.outputs)
        assert "not attempted yet" in text and "✓" not in text, f"{path.name}: {q.qid} stores {text!r}"
    after = cells[start + 1 + 2 * len(BANK[lesson]):]
    assert not after or after[0].source.startswith("## Summary"), (
        f"{path.name}: the questions come right before the final summary (or end the lesson)")


def test_the_widget_checks_what_the_student_picked_or_typed(capsys):
    from facelib.checks.questions import question_widget

    _title, field, button, _out = question_widget(checks.question("03.2")).children
    button.click()  # nothing picked yet
    assert "not attempted yet" in capsys.readouterr().out
    field.value = "a"
    button.click()
    assert "✗ 03.2: 'a' is not right" in capsys.readouterr().out
    field.value = "d"
    button.click()
    assert "✓ 03.2: right" in capsys.readouterr().out
    _title, field, button, _out = question_widget(checks.question("08.1")).children
    for typed, says in [("", "not attempted yet"), ("(10, 16)", "✓ 08.1: right"), ("10 16", "a tuple of 2"),
                        ("(14, 16)", "is not right")]:
        field.value = typed
        button.click()
        assert says in capsys.readouterr().out, typed
    _title, field, button, _out = question_widget(checks.question("08.2")).children
    field.value = " 96 "
    button.click()
    assert "✓ 08.2: right" in capsys.readouterr().out


def test_quiz_shows_one_form_per_question_when_interactive(monkeypatch, capsys):
    _interactive(monkeypatch, True)
    box = checks.quiz("09")
    assert len(box.children) == len(BANK["09"]) and capsys.readouterr().out == ""
