"""Short conceptual questions that close every lesson, checked by a function call.

Each lesson ends with 4–6 questions that rehearse its ideas (verification vs recognition, what one-shot
learning needs, why random triplets teach little, what style transfer updates, output sizes and parameter
counts of 1D/3D convolutions…). A question is multiple choice (answer with its letter) or numeric (a
number, accepted within a stated tolerance, or a tuple of whole numbers for a shape)::

    facelib.checks.answer("03.2", "d")        # lesson 03, question 2
    facelib.checks.answer("08.1", (10, 16))
    facelib.checks.quiz("03")                 # lesson 03's questions as small forms (text in CI)

:func:`answer` prints ✓ and a one-line explanation for a right answer, ✗ and a one-line hint (which never
names the right option) for a wrong one, and "not attempted yet" for the notebook's stub ``...`` (or
``None``): never a pass. It returns a :class:`~facelib.checks.core.Verdict` and does not raise for a wrong
answer, so one question does not stop the ones after it. The questions themselves are data, in
:mod:`facelib.checks.questions_faces` (lessons 00–05) and :mod:`facelib.checks.questions_convnets` (06–10).
"""

from __future__ import annotations

import ast
import html
import math
import numbers
from dataclasses import dataclass
from typing import Any

from facelib import config
from facelib.checks import questions_convnets, questions_faces
from facelib.checks.core import Verdict

__all__ = ["Question", "answer", "question", "question_markdown", "question_widget", "questions", "quiz"]

LETTERS = "abcdefgh"


@dataclass(frozen=True)
class Question:
    """One conceptual question: ``qid`` ("03.2"), its text, the right answer, and two one-line feedbacks.

    ``answer`` is a letter when ``options`` are given (multiple choice), else a number (accepted within
    ``tol``) or a tuple of whole numbers (a shape, compared entry by entry within ``tol``).
    """

    qid: str
    prompt: str
    answer: str | float | tuple[int, ...]
    explain: str
    hint: str
    options: tuple[str, ...] = ()
    tol: float = 0.0

    @property
    def lesson(self) -> str:
        return self.qid.split(".")[0]

    @property
    def kind(self) -> str:
        """``"choice"``, ``"number"`` or ``"shape"``."""
        if self.options:
            return "choice"
        return "shape" if isinstance(self.answer, tuple) else "number"

    def how(self) -> str:
        """How to answer, in one sentence (with the tolerance of a numeric answer)."""
        if self.kind == "choice":
            letters = ", ".join(f'"{x}"' for x in LETTERS[:len(self.options)])
            return f"Answer with one letter in quotes: {letters}."
        if self.kind == "shape":
            return f"Answer with a tuple of {len(self.answer)} whole numbers, in parentheses."  # type: ignore[arg-type]
        if self.tol == 0:
            return "Answer with a whole number (exact)."
        tol = f"{self.tol:.10f}".rstrip("0") if self.tol < 1e-3 else f"{self.tol:g}"
        return f"Answer with a number; within ±{tol} counts as right."


def _load() -> dict[str, tuple[Question, ...]]:
    bank: dict[str, list[Question]] = {}
    for entry in [*questions_faces.QUESTIONS, *questions_convnets.QUESTIONS]:
        entry = dict(entry)
        entry["options"] = tuple(entry.get("options", ()))
        q = Question(**entry)
        bank.setdefault(q.lesson, []).append(q)
    return {lesson: tuple(qs) for lesson, qs in sorted(bank.items())}


#: Every lesson's questions, by lesson number ("00" … "10").
BANK: dict[str, tuple[Question, ...]] = _load()


def _lesson_key(lesson: str | int) -> str:
    key = f"{lesson:02d}" if isinstance(lesson, int) else str(lesson).strip().split("_")[0].zfill(2)
    if key not in BANK:
        raise ValueError(f"no questions for lesson {lesson!r}: the lessons are {', '.join(BANK)}")
    return key


def questions(lesson: str | int) -> tuple[Question, ...]:
    """The questions of one lesson (``"03"``, ``3`` or ``"03_triplet_loss"``), in order."""
    return BANK[_lesson_key(lesson)]


def question(qid: str) -> Question:
    """One question by its id, ``"03.2"`` (``"3.2"`` works too)."""
    lesson, _, number = str(qid).strip().partition(".")
    found = [q for q in BANK.get(lesson.zfill(2), ()) if q.qid.split(".")[1] == number]
    if not found:
        raise ValueError(f"no question {qid!r}: ids look like \"03.2\" (lesson 03, question 2); "
                         f"call facelib.checks.quiz(lesson) to list a lesson's questions")
    return found[0]


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _as_number(value: Any) -> float | None:
    """``value`` as a float, or None when it is not one number (``True`` is not a number here)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    if hasattr(value, "shape") and getattr(value, "size", 0) == 1 and hasattr(value, "item"):
        return _as_number(value.item())
    return None


def _judge(q: Question, given: Any) -> tuple[bool | None, str]:
    """``(True, "")`` right; ``(False, why)`` wrong; ``(None, why)`` unreadable (a format problem)."""
    if q.kind == "choice":
        if not isinstance(given, str):
            return None, f"answer with a letter in quotes, not {type(given).__name__} {_show(given)}"
        letter = given.strip().strip("().").strip().lower()
        if len(letter) != 1 or letter not in LETTERS[:len(q.options)]:
            return None, f"{given!r} is not one of the options {', '.join(LETTERS[:len(q.options)])}"
        return letter == q.answer, ""
    if q.kind == "shape":
        expected = tuple(q.answer)  # type: ignore[arg-type]
        if isinstance(given, str) or not hasattr(given, "__len__") or len(given) != len(expected):
            return None, f"answer with a tuple of {len(expected)} whole numbers"
        values = [_as_number(v) for v in given]
        if any(v is None for v in values):
            return None, f"every entry of {_show(given)} must be a number"
        return all(abs(v - e) <= q.tol for v, e in zip(values, expected)), ""  # type: ignore[operator]
    value = _as_number(given)
    if value is None or math.isnan(value):
        return None, f"answer with one number, not {type(given).__name__} {_show(given)}"
    return abs(value - float(q.answer)) <= q.tol + 1e-12, ""  # type: ignore[arg-type]


def answer(qid: str, your_answer: Any = ...) -> Verdict:
    """Check your answer to question ``qid`` (``"03.2"``) and print the verdict with one line of feedback.

    ``...`` or ``None`` (the notebook's stub) prints "not attempted yet" and is never a pass. A right answer
    prints ✓ and why it is right; a wrong one prints ✗ and a hint (not the answer); an answer of the wrong
    form (a number for a multiple choice, a letter that is not an option) says what form is expected.
    Returns a :class:`Verdict`, truthy only for a right answer; never raises for a wrong answer.
    Raises ValueError for an unknown ``qid``.
    """
    q = question(qid)
    if your_answer is ... or your_answer is None:
        print(f"{q.qid}: not attempted yet — replace ... with your answer and run this cell again. {q.how()}")
        return Verdict(False)
    right, why = _judge(q, your_answer)
    if right is None:
        print(f"✗ {q.qid}: {why}. {q.how()}")
        return Verdict(False)
    if right:
        print(f"✓ {q.qid}: right — {q.explain}")
        return Verdict(True)
    print(f"✗ {q.qid}: {_show(your_answer)} is not right. Hint: {q.hint} Try again.")
    return Verdict(False)


def _text(q: Question, *, markdown: bool) -> str:
    bold = "**" if markdown else ""
    lines = [f"{bold}Question {q.qid}.{bold} {q.prompt}", ""]
    lines += [f"- {bold}{letter}){bold} {option}" for letter, option in zip(LETTERS, q.options)]
    if q.options:
        lines.append("")
    lines.append(q.how())
    return "\n".join(lines)


def question_markdown(q: Question) -> str:
    """The Markdown a lesson shows above the question's answer cell (the text of :func:`quiz`)."""
    return _text(q, markdown=True)


def _read(text: str, q: Question) -> Any:
    """A widget's text as an answer: empty → ``...`` (not attempted), a shape's "(10, 16)" → a tuple."""
    text = text.strip()
    if not text:
        return ...
    if q.kind == "shape":
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
    return text


def question_widget(q: Question) -> Any:
    """One question as a small ipywidgets form: the question, radio buttons or a text box, a Check button
    and the verdict of :func:`answer` below it."""
    import ipywidgets as w

    title = w.HTML(f"<b>Question {q.qid}.</b> {html.escape(q.prompt)}")
    if q.kind == "choice":
        field = w.RadioButtons(options=[(f"{x}) {o}", x) for x, o in zip(LETTERS, q.options)], value=None,
                               layout=w.Layout(width="auto"))
    else:
        field = w.Text(placeholder="(a, b, …)" if q.kind == "shape" else "a number", description="answer")
    button, out = w.Button(description="Check"), w.Output()

    def check(_: Any) -> None:
        out.clear_output()
        value = field.value
        with out:
            answer(q.qid, _read(value, q) if isinstance(value, str) and q.kind != "choice" else value)

    button.on_click(check)
    return w.VBox([title, field, button, out])


def quiz(lesson: str | int) -> Any:
    """One lesson's questions (``"03"``): a small form per question in JupyterLab (see
    :func:`question_widget`); printed as text, with their options and how to answer each, in automated
    runs (CI, nbval, ``FACELIB_INTERACTIVE=0``)."""
    qs = questions(lesson)
    if config.settings.interactive:
        import ipywidgets as w

        return w.VBox([question_widget(q) for q in qs])
    print(f"Lesson {qs[0].lesson}: {len(qs)} questions. Answer each with "
          f"facelib.checks.answer(\"{qs[0].qid}\", your_answer).\n")
    print("\n\n".join(_text(q, markdown=False) for q in qs))
    return None
