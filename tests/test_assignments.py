"""The lessons' exercises as an nbgrader course (facelib/assignments.py, ``facelib assignments build``).

One module-scope course is built from every lesson in a temporary folder, released with
``nbgrader generate_assignment``, and graded with ``nbgrader autograde`` (one process, every
submission) for these simulated students, per lesson with exercises:

- ``solutions``: each stub replaced by the lesson's solution → full marks;
- ``untouched``: the release as it is → 0 points, no error in the grader (each test cell fails with
  the check's "not attempted yet", not a NameError or a timeout);
- ``mistakes``: every exercise answered with its typical mistake (``tests/assignment_mistakes.py``):
  each test cell scores 0 with its own check's message, and since a test cell reads nothing but its own
  exercise's function (checked below) and the solutions score full marks, one such mistake alone loses
  exactly that exercise's points. ``FACELIB_EACH_MISTAKE=1`` also grades one submission per mistake
  (``wrong-<exercise>``, the rest right) and checks that directly: a submission per exercise instead of
  one per lesson, so ``make test`` leaves it out (grading time: a kernel and its imports per submission).

``nbgrader validate --invert`` passes on the release, the released files hold no line of any
solution, and ``nbgrader generate_feedback`` HTML shows each failed check's own message.
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from assignment_mistakes import FALLBACK, MISTAKES
from conftest import REPO

from facelib import assignments
from facelib.checks import CheckFailed, Verdict, graded
from facelib.checks.verification import GIVEN_BY_THE_CHECK

EACH_MISTAKE = os.environ.get("FACELIB_EACH_MISTAKE") == "1"

LESSONS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WITH_EXERCISES = [p for p in LESSONS if assignments.lesson_exercises(nbformat.read(p, as_version=4), p.name)]


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
               FACELIB_FAST="1", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=3600)


def _exercises(path: Path) -> list[assignments.Exercise]:
    return assignments.lesson_exercises(nbformat.read(path, as_version=4), path.name)


def _submit(course: Path, student: str, name: str, nb: nbformat.NotebookNode) -> None:
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


def _answered(release: nbformat.NotebookNode, source: nbformat.NotebookNode,
              wrong: frozenset[str] | set[str] = frozenset()) -> nbformat.NotebookNode:
    """The release with every solution cell answered by the source's (those in ``wrong`` with their mistake)."""
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.metadata["nbgrader"]["solution"]}
    for cell in nb.cells:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        if grade_id in answers:
            cell.source = answers[grade_id] if grade_id not in wrong else _mistake(grade_id, answers[grade_id])
    return nb


def _mistake(grade_id: str, source: str) -> str:
    if grade_id not in MISTAKES:  # an exercise added later without an entry: the forgotten return
        begin, end = source.index(assignments.BEGIN_SOLUTION), source.index(assignments.END_SOLUTION)
        indent = source[:begin].rsplit("\n", 1)[-1]
        return f"{source[:begin]}{FALLBACK}\n{indent}{source[end:]}"
    for right, wrong in MISTAKES[grade_id][1]:
        assert right in source, f"tests/assignment_mistakes.py: {grade_id}: {right!r} is not in the solution any more"
        source = source.replace(right, wrong)
    return source


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course built from every lesson, every simulated submission autograded."""
    course = tmp_path_factory.mktemp("course")
    started = time.perf_counter()
    names = assignments.build(LESSONS, course)
    print(f"build and release: {time.perf_counter() - started:.1f} s")
    assert names == [p.stem for p in WITH_EXERCISES]
    for name in names:
        source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
        release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        _submit(course, "solutions", name, _answered(release, source))
        _submit(course, "untouched", name, release)
        exercises = [ex.grade_id for ex in _exercises(REPO / "notebooks" / f"{name}.ipynb")]
        _submit(course, "mistakes", name, _answered(release, source, set(exercises)))
        for grade_id in exercises if EACH_MISTAKE else []:
            _submit(course, f"wrong-{grade_id}", name, _answered(release, source, {grade_id}))
    started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = _nbgrader(course, "autograde", "*", "--force")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    n = len(list((course / "submitted").glob("*/*/*.ipynb")))
    print(f"autograde of {n} submissions: {time.perf_counter() - started:.1f} s, "
          f"CPU {after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime:.1f} s")
    return course


def _grades(course: Path, name: str, student: str) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(name, name, student)
        return {g.name: (g.score, g.max_score) for g in sub.grades}


def _test_outputs(course: Path, name: str, student: str) -> dict[str, str]:
    """Each test cell's text outputs and error (ename: evalue) in the autograded notebook."""
    nb = nbformat.read(course / "autograded" / student / name / f"{name}.ipynb", as_version=4)
    out = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code":
            text = "".join(o.get("text", "") + (f"{o.ename}: {o.evalue}" if o.output_type == "error" else "")
                           for o in cell.outputs)
            out[meta.get("grade_id", "")] = text
    return out


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=[p.stem for p in WITH_EXERCISES])
def test_solutions_get_full_marks_and_the_untouched_release_zero(course, path):
    name = path.stem
    full = _grades(course, name, "solutions")
    points = {f"test_{ex.grade_id}": ex.points for ex in _exercises(path)}
    assert {k: v[1] for k, v in full.items()} == points, "every exercise is graded, with the lesson's points"
    assert all(score == top for score, top in full.values()), f"{name}: solutions lost points: {full}"
    empty = _grades(course, name, "untouched")
    assert all(score == 0 for score, _ in empty.values()), f"{name}: the untouched release scored: {empty}"
    outputs = _test_outputs(course, name, "untouched")
    for grade_id in points:
        assert "CheckFailed" in outputs[grade_id] and "not attempted yet" in outputs[grade_id], (
            f"{name} {grade_id}: the untouched stub should fail with the check's 'not attempted yet', "
            f"got {outputs[grade_id][-400:]!r}")
    setup_errors = [k for k, v in outputs.items() if not k.startswith("test_") and "Error" in v]
    assert not setup_errors, f"{name}: cells {setup_errors} raised in the grader"


def _wrong_cases() -> list:
    return [pytest.param(p, ex, id=f"{p.stem}:{ex.grade_id}") for p in WITH_EXERCISES for ex in _exercises(p)]


@pytest.mark.parametrize(("path", "exercise"), _wrong_cases())
def test_a_typical_wrong_answer_loses_exactly_its_points(course, path, exercise):
    name, target = path.stem, f"test_{exercise.grade_id}"
    grades = _grades(course, name, "mistakes")
    assert grades[target] == (0, exercise.points), f"{name}: the mistake in {exercise.grade_id} scored {grades[target]}"
    message = _test_outputs(course, name, "mistakes")[target]
    assert f"CheckFailed: {exercise.check} did not pass" in message and "✗" in message, message[-600:]
    # no other exercise's cells (its answer, its test) read this one's function: the mistake costs nothing else
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    mine = {exercise.grade_id, target}
    # (a check that gives the student's function the course's version of a name, GIVEN_BY_THE_CHECK, does not read
    # the student's: check_verify grades verify with the course's img_to_encoding)
    cells = [c for c in source.cells if c.cell_type == "code" and c.metadata["nbgrader"]["grade_id"] not in mine
             and (c.metadata["nbgrader"]["solution"] or c.metadata["nbgrader"]["grade"])]
    given = {c.metadata["nbgrader"]["grade_id"]: set(GIVEN_BY_THE_CHECK.get(ex.check, ())) for ex in _exercises(path)
             for c in cells if c.metadata["nbgrader"]["grade_id"] in (ex.grade_id, f"test_{ex.grade_id}")}
    used = {node.id for c in cells for node in ast.walk(ast.parse(c.source))
            if isinstance(node, ast.Name) and node.id not in given.get(c.metadata["nbgrader"]["grade_id"], set())}
    assert not used & set(exercise.names), (f"{name}: other exercises' cells use {sorted(used & set(exercise.names))}: "
                                            f"a mistake in {exercise.grade_id} would cost their points too")
    if EACH_MISTAKE:
        alone = _grades(course, name, f"wrong-{exercise.grade_id}")
        assert alone[target] == (0, exercise.points)
        assert all(v[0] == v[1] for k, v in alone.items() if k != target), f"{name}: {alone}"
    if exercise.grade_id not in MISTAKES:
        pytest.fail(f"{exercise.grade_id} graded with the fallback mistake only: add its typical mistake to "
                    "tests/assignment_mistakes.py")


def test_feedback_html_shows_each_failed_checks_message(course):
    done = _nbgrader(course, "generate_feedback", "*", "--force")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for path in WITH_EXERCISES:
        for ex in _exercises(path):
            page = course / "feedback" / "mistakes" / path.stem / f"{path.stem}.html"
            text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
            assert f"{ex.check} did not pass" in text, f"{page}: no message of {ex.check}"
            # the check's own lines: what was wrong, what was expected, what came back
            assert "✗" in text and ("expected" in text or "your function raised" in text), f"{page}: {text[-800:]}"
        page = course / "feedback" / "untouched" / path.stem / f"{path.stem}.html"
        assert "not attempted yet" in html.unescape(page.read_text())
        # the hidden tests stay hidden: not in the cells' source, not in tracebacks (grading kernels: xmode Minimal)
        hidden = nbformat.read(path, as_version=4).metadata["facelib"].get("hidden_tests", {}).values()
        released = (course / "release" / path.stem / path.name).read_text()
        lines = {x.strip() for code in hidden for x in code.splitlines() if x.strip() and x.strip() not in released}
        for student in ("mistakes", "untouched"):
            page = course / "feedback" / student / path.stem / f"{path.stem}.html"
            text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
            assert assignments.BEGIN_HIDDEN not in text and not [x for x in lines if x in text], (student, path.stem)


def test_validate_invert_passes_on_the_release(course):
    notebooks = sorted(str(p) for p in (course / "release").glob("*/*.ipynb"))
    done = _nbgrader(course, "validate", "--invert", *notebooks)
    assert done.returncode == 0 and "ERROR" not in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.count("Success! The notebook does not pass any tests.") == len(notebooks), done.stdout[-3000:]


def _solution_lines(source: nbformat.NotebookNode) -> list[str]:
    lines = []
    for cell in source.cells:
        if cell.metadata["nbgrader"]["solution"]:
            region = cell.source.split(assignments.BEGIN_SOLUTION)[1].split(assignments.END_SOLUTION)[0]
            lines += [line.strip() for line in region.splitlines() if line.strip()]
    return lines


def test_the_release_holds_no_solution_text(course):
    for path in WITH_EXERCISES:
        released = "\n".join(
            cell.source for f in (course / "release" / path.stem).rglob("*.ipynb")
            for cell in nbformat.read(f, as_version=4).cells)
        lesson = nbformat.read(path, as_version=4)
        shown = "\n".join(c.source for c in lesson.cells if "solution" not in c.metadata.get("tags", []))
        lines = _solution_lines(nbformat.read(course / "source" / path.stem / f"{path.name}", as_version=4))
        assert lines, path.name
        leaked = [line for line in lines if line in released and line not in shown]
        assert not leaked, f"{path.name}: the release shows solution lines {leaked}"
        assert "**Solution**" not in released and assignments.BEGIN_HIDDEN not in released
        for cell in lesson.cells:  # and the collapsed Markdown solutions, line by line
            if "solution" in cell.metadata.get("tags", []):
                body = cell.source.split("```python", 1)[1]
                hidden = [x.strip() for x in body.splitlines() if x.strip() and x.strip() not in shown]
                assert not [x for x in hidden if x in released and x != "```"], path.name


def test_release_stubs_are_the_lessons_own(course):
    for path in WITH_EXERCISES:
        lesson = nbformat.read(path, as_version=4)
        release = nbformat.read(course / "release" / path.stem / path.name, as_version=4)
        released = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells}
        for ex in _exercises(path):
            assert released[ex.grade_id] == lesson.cells[ex.stub].source.rstrip(), (path.name, ex.grade_id)
            assert released[f"test_{ex.grade_id}"].count("facelib.checks.graded(") >= 1


# ---------------------------------------------------------------- the convention's errors (no nbgrader)

def _lesson(points: dict | None, check: bool = True) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell("# 99 · A lesson"), nbformat.v4.new_code_cell("import facelib"),
             nbformat.v4.new_markdown_cell("### Exercise"),
             nbformat.v4.new_code_cell("def twice(x):\n    '''2x.'''\n    # YOUR CODE HERE\n"
                                       "    raise NotImplementedError")]
    if check:
        cells.append(nbformat.v4.new_code_cell("facelib.checks.check_twice(twice)"))
    sol = nbformat.v4.new_markdown_cell("**Solution** — expand to reveal, copy into the cell above.\n\n"
                                        "```python\ndef twice(x):\n    '''2x.'''\n    return 2 * x\n```\n")
    sol.metadata = {"tags": ["solution"], "facelib": {"solution": "twice", "check": "check_twice"},
                    "jupyter": {"source_hidden": True}}
    cells.append(sol)
    nb = nbformat.v4.new_notebook(cells=cells)
    if points is not None:
        nb.metadata["facelib"] = {"points": points, "hidden_tests": {"twice": "assert twice(4) == 8"}}
    return nb


def test_an_exercise_without_points_or_test_is_refused():
    with pytest.raises(ValueError, match="99.ipynb: exercise twice has no points"):
        assignments.lesson_exercises(_lesson(None), "99.ipynb")
    with pytest.raises(ValueError, match="exercise twice has no test: no code cell after its student cell calls"):
        assignments.lesson_exercises(_lesson({"twice": 1}, check=False), "99.ipynb")


def test_the_source_cells_of_a_small_lesson(tmp_path):
    nbformat.write(_lesson({"twice": 3}), tmp_path / "99_small.ipynb")
    nb = assignments.assignment_notebook(tmp_path / "99_small.ipynb")
    assert nb is not None
    sources = [c.source for c in nb.cells]
    assert sources[3] == ("def twice(x):\n    '''2x.'''\n    # YOUR CODE HERE\n"
                          "    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION")
    assert sources[4] == ("import facelib.checks\nfacelib.checks.graded(facelib.checks.check_twice, twice)\n"
                          "### BEGIN HIDDEN TESTS\nassert twice(4) == 8\n### END HIDDEN TESTS")
    assert nb.cells[4].metadata["nbgrader"] == {"grade": True, "grade_id": "test_twice", "locked": True,
                                                "points": 3, "schema_version": 3, "solution": False, "task": False}
    assert nb.cells[3].metadata["nbgrader"]["solution"] is True and not nb.cells[3].metadata["nbgrader"]["locked"]


def test_graded_raises_with_the_checks_report(capsys):
    def check_twice(fn):
        ok = fn(4) == 8
        print(f"  {'✓' if ok else '✗'} twice(4): expected 8, got {fn(4)}")
        return Verdict(ok)

    assert graded(check_twice, lambda x: 2 * x)
    assert "✓ twice(4)" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=r"check_twice did not pass:\n  ✗ twice\(4\): expected 8, got 5"):
        graded(check_twice, lambda x: x + 1)

    def stub(a, b):
        raise NotImplementedError

    from facelib.checks import check_distance

    with pytest.raises(CheckFailed, match="not attempted yet"):
        graded(check_distance, stub)


def test_cli_writes_the_source_folder(tmp_path, capsys):
    from facelib.cli import main

    assert main(["assignments", "build", "--no-release", "--out", str(tmp_path), str(LESSONS[0])]) == 0
    assert (tmp_path / "source" / LESSONS[0].stem / LESSONS[0].name).is_file()
    assert "c.Execute.timeout" in (tmp_path / "nbgrader_config.py").read_text()
    assert main(["assignments", "build", "--out", str(tmp_path), str(tmp_path / "nope.ipynb")]) == 2
    assert "nope.ipynb: no such notebook" in capsys.readouterr().err
    shutil.rmtree(tmp_path / "source")
