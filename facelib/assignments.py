"""The lessons' exercises as an nbgrader course: one source, a student version, grades.

``facelib assignments build`` (and ``make assignments``) reads each lesson ``notebooks/NN_*.ipynb``
and writes nbgrader's course layout (``nbgrader_config.py``, ``source/``, ``release/``) under
``build/assignments/``. The lessons stay the single source of truth; they follow the exercise
convention that ``tests/test_solutions.py`` enforces:

- a *student cell* defines the exercise function with ``# YOUR CODE HERE`` and
  ``raise NotImplementedError``;
- a *check cell* after it calls ``facelib.checks.check_NAME(fn)``;
- a collapsed Markdown *solution cell* tagged ``solution`` whose metadata names the function(s) and
  the check, ``{"facelib": {"solution": "fn", "check": "check_NAME"}}``, holds one ```python block;
- the lesson's metadata states the points of each exercise, ``{"facelib": {"points": {"fn": 2}}}``,
  and may add hidden test code, ``{"facelib": {"hidden_tests": {"fn": "..."}}}``.

The assignment of a lesson (one nbgrader assignment per lesson with exercises, named like the
lesson) is the lesson's title, its set-up cell, and for each exercise the Markdown that introduces
it, the student cell turned into an nbgrader *solution* cell (the lesson's solution between
``### BEGIN SOLUTION`` / ``### END SOLUTION``, the stub's signature and docstring kept), and the check
cell turned into a read-only *test* cell worth the exercise's points, which calls
:func:`facelib.checks.graded` so that a failure's message is the check's own report, and holds the
hidden tests between ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``. The demos of the lesson
are left out: grading runs only what the exercises need (seconds per submission, not minutes), and
the student keeps the full lesson to read.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "CELL_TIMEOUT",
    "Exercise",
    "assignment_notebook",
    "build",
    "lesson_exercises",
    "nbgrader_config",
    "solution_source",
    "test_source",
    "write_source",
]

#: nbgrader's per-cell timeout in seconds. Measured while grading on the shared 2-core machine at load
#: average 20: the slowest graded test cell (lesson 05's check_verify) took 4.2 s, but the set-up cells
#: (a cold TensorFlow import) took up to 32 s, over nbgrader's 30 s default. 300 s leaves a 9x margin.
CELL_TIMEOUT = 300
STUB_MARK = "# YOUR CODE HERE"
STUB_RAISE = "raise NotImplementedError"
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_FENCE = re.compile(r"```python\n(.*?)```", re.S)


@dataclass
class Exercise:
    """One exercise of a lesson, found by the convention (indices are cell positions in the lesson)."""

    names: list[str]
    check: str
    points: float
    stub: int
    check_cell: int
    solution: int
    solution_code: str
    hidden: str = ""

    @property
    def grade_id(self) -> str:
        return "_".join(self.names)


def _code(source: str) -> str:
    """Cell source without IPython magics/shell lines, so ``ast`` can read it."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _calls(source: str, name: str) -> bool:
    for node in ast.walk(ast.parse(_code(source))):
        if isinstance(node, ast.Call):
            f = node.func
            if (f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")) == name:
                return True
    return False


def _defines(source: str) -> set[str]:
    return {n.name for n in ast.parse(_code(source)).body if isinstance(n, ast.FunctionDef)}


def _is_solution(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "markdown" and "solution" in cell.metadata.get("tags", [])


def lesson_exercises(nb: nbformat.NotebookNode, where: str = "lesson") -> list[Exercise]:
    """The exercises of a lesson, in order; ValueError (naming ``where``) when one breaks the convention."""
    meta = nb.metadata.get("facelib", {})
    points, hidden = meta.get("points", {}), meta.get("hidden_tests", {})
    cells = nb.cells
    found = []
    for i, cell in enumerate(cells):
        if not _is_solution(cell):
            continue
        info = cell.metadata.get("facelib", {})
        if not {"solution", "check"} <= set(info):
            raise ValueError(f"{where}: solution cell {i} needs metadata facelib.solution and facelib.check")
        names = [n.strip() for n in info["solution"].split(",")]
        key = ", ".join(names)
        blocks = _FENCE.findall(cell.source)
        if len(blocks) != 1:
            raise ValueError(f"{where}: solution cell {i} ({key}) needs exactly one ```python block")
        stubs = [j for j, c in enumerate(cells) if c.cell_type == "code" and STUB_MARK in c.source
                 and set(names) & _defines(c.source)]
        if len(stubs) != 1:
            raise ValueError(f"{where}: exercise {key}: expected one student cell with {STUB_MARK!r} defining it, "
                             f"found {len(stubs)}")
        checks = [j for j in range(stubs[0] + 1, len(cells))
                  if cells[j].cell_type == "code" and _calls(cells[j].source, info["check"])]
        if not checks:
            raise ValueError(f"{where}: exercise {key} has no test: no code cell after its student cell calls "
                             f"{info['check']}")
        if key not in points:
            raise ValueError(f"{where}: exercise {key} has no points: add them to the lesson's metadata "
                             f"facelib.points, e.g. {{{key!r}: 2}}")
        found.append(Exercise(names, info["check"], float(points[key]), stubs[0], checks[0], i, blocks[0],
                              hidden.get(key, "")))
    return found


def _function_region(stub: list[str], mark: int, solution: str, names: list[str]) -> list[str]:
    """The solution lines that replace the stub's marker and ``raise``: the function's body after what
    the stub already holds (docstring, given lines), re-indented to the marker's indentation."""
    tree = ast.parse("\n".join(stub))
    stub_fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef)
                   and n.lineno <= mark + 1 <= (n.end_lineno or 0) + 1 and n.name in names)
    given = [s for s in stub_fn.body if s.lineno <= mark and not _is_docstring(s)]
    sol_lines = solution.splitlines()
    sol_fn = next((n for n in ast.parse(solution).body if isinstance(n, ast.FunctionDef) and n.name == stub_fn.name),
                  None)
    if sol_fn is None:
        raise ValueError(f"the solution does not define {stub_fn.name}")
    extra = [n for n in ast.parse(solution).body if not isinstance(n, ast.FunctionDef) or n.name not in names]
    if extra:
        raise ValueError(f"the solution of {stub_fn.name} has code outside its function(s) (line {extra[0].lineno}): "
                         "the generator keeps only function bodies")
    body = [s for s in sol_fn.body if not _is_docstring(s)]
    if [ast.dump(s) for s in body[:len(given)]] != [ast.dump(s) for s in given]:
        raise ValueError(f"the solution of {stub_fn.name} does not start with the lines its student cell gives")
    rest = body[len(given):]
    if not rest:
        raise ValueError(f"the solution of {stub_fn.name} adds nothing to its student cell")
    first = min([rest[0].lineno] + [d.lineno for d in getattr(rest[0], "decorator_list", [])])
    region = textwrap.dedent("\n".join(sol_lines[first - 1:sol_fn.end_lineno])).splitlines()
    indent = re.match(r"\s*", stub[mark]).group(0)  # type: ignore[union-attr]
    return [indent + line if line.strip() else "" for line in region]


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def solution_source(stub_source: str, solution_code: str, names: list[str]) -> str:
    """The student cell with the ``raise NotImplementedError`` under each ``# YOUR CODE HERE`` line (kept,
    with its hint such as ``(1 line)``) replaced by the solution's lines between nbgrader's solution
    markers; ``generate_assignment`` (with this course's ``code_stub``) turns it back into the stub."""
    lines = stub_source.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].strip().startswith(STUB_MARK):
            region = _function_region(lines, i, solution_code, names)
            indent = re.match(r"\s*", lines[i]).group(0)  # type: ignore[union-attr]
            out += [lines[i], indent + BEGIN_SOLUTION, *region, indent + END_SOLUTION]
            i += 2 if i + 1 < len(lines) and lines[i + 1].strip().startswith(STUB_RAISE) else 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def test_source(check_source: str, check: str, hidden: str = "") -> str:
    """The check cell as a test cell: each ``...check_NAME(args)`` becomes
    ``facelib.checks.graded(...check_NAME, args)`` (raises with the check's report unless it passes),
    and the hidden tests follow between nbgrader's hidden-test markers."""
    source = _code(check_source)
    lines = source.encode().splitlines(keepends=True)  # ast's column offsets count UTF-8 bytes
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    data = source.encode()
    pieces: list[bytes] = []
    last = 0
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call) and _calls_name(n) == check]
    for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
        start = offsets[node.lineno - 1] + node.col_offset
        end = offsets[(node.end_lineno or node.lineno) - 1] + (node.end_col_offset or 0)
        parts = [ast.get_source_segment(source, node.func) or check]
        parts += [ast.get_source_segment(source, a) or "" for a in node.args]
        parts += [f"{k.arg}={ast.get_source_segment(source, k.value)}" for k in node.keywords]
        pieces += [data[last:start], f"facelib.checks.graded({', '.join(parts)})".encode()]
        last = end
    pieces.append(data[last:])
    text = b"".join(pieces).decode().rstrip()
    if not text.startswith("import facelib"):
        text = "import facelib.checks\n" + text
    if hidden.strip():
        text += f"\n{BEGIN_HIDDEN}\n{hidden.strip()}\n{END_HIDDEN}"
    return text


def _calls_name(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")


def _nbgrader(cell: nbformat.NotebookNode, grade_id: str, *, solution: bool = False,
              points: float | None = None) -> nbformat.NotebookNode:
    cell.metadata = {"nbgrader": {"grade": points is not None, "grade_id": grade_id, "locked": not solution,
                                  "schema_version": 3, "solution": solution, "task": False}}
    if points is not None:
        cell.metadata["nbgrader"]["points"] = int(points) if float(points).is_integer() else points
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _intro(cells: list[nbformat.NotebookNode], stub: int) -> list[int]:
    """The Markdown cells right above a student cell (the exercise's text)."""
    j = stub
    while j > 0 and cells[j - 1].cell_type == "markdown" and not _is_solution(cells[j - 1]):
        j -= 1
    return list(range(j, stub))


def assignment_notebook(path: Path) -> nbformat.NotebookNode | None:
    """The nbgrader source notebook of a lesson (None for a lesson without exercises)."""
    nb = nbformat.read(path, as_version=4)
    exercises = lesson_exercises(nb, path.name)
    if not exercises:
        return None
    cells = nb.cells
    setup = next(i for i, c in enumerate(cells) if c.cell_type == "code")
    keep = ([0] if cells[0].cell_type == "markdown" else []) + [setup]
    new = [_nbgrader(nbformat.from_dict(cells[i]), f"lesson_{i}") for i in keep]
    new[-1].source = "\n".join(x for x in new[-1].source.splitlines() if not x.startswith("# NBVAL_"))  # nbval's
    for ex in exercises:
        try:
            sol = solution_source(cells[ex.stub].source, ex.solution_code, ex.names)
        except (ValueError, StopIteration, SyntaxError) as exc:
            raise ValueError(f"{path.name}: exercise {', '.join(ex.names)}: {exc}") from None
        new += [_nbgrader(nbformat.from_dict(cells[i]), f"lesson_{i}") for i in _intro(cells, ex.stub) if i not in keep]
        new.append(_nbgrader(nbformat.v4.new_code_cell(sol), ex.grade_id, solution=True))
        test = test_source(cells[ex.check_cell].source, ex.check, ex.hidden)
        new.append(_nbgrader(nbformat.v4.new_code_cell(test), f"test_{ex.grade_id}", points=ex.points))
    for c in new:
        c.id = c.metadata["nbgrader"]["grade_id"].replace("_", "-")  # stable ids: a rebuild changes nothing
        if c.cell_type == "code":
            c.pop("attachments", None)
    kernel = nb.metadata.get("kernelspec") or {"display_name": "Python 3", "language": "python", "name": "python3"}
    out = nbformat.v4.new_notebook(cells=new, metadata={"kernelspec": kernel, "language_info": {"name": "python"}})
    nbformat.validator.normalize(out)
    return out


def nbgrader_config(course: Path, timeout: int = CELL_TIMEOUT) -> str:
    """The text of the course's ``nbgrader_config.py``."""
    return f'''# Written by `facelib assignments build` (facelib/assignments.py); regenerated on every build.
c = get_config()  # noqa: F821
c.CourseDirectory.root = {str(course)!r}
c.CourseDirectory.course_id = "facelib"
# The stub that replaces a solution: the lessons' own (the "# YOUR CODE HERE" line, with its hint, stays above it).
c.ClearSolutions.code_stub = {{"python": "raise NotImplementedError"}}
# TensorFlow cells exceed nbgrader's 30 s default; {timeout} s is far above the slowest graded cell.
c.Execute.timeout = {timeout}
# Grading kernels print short tracebacks (the check's message, no source lines around the failing one,
# which would show hidden tests), and the feedback pages drop the hidden tests' source.
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--InteractiveShell.xmode=Minimal"]
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
'''


def write_source(lessons: list[Path], course: Path) -> list[str]:
    """Write ``course/source/NAME/NAME.ipynb`` for each lesson with exercises; returns the assignment names."""
    names = []
    if (course / "source").exists():
        shutil.rmtree(course / "source")  # generated: a lesson renamed or removed leaves no stale assignment
    for path in lessons:
        nb = assignment_notebook(path)
        if nb is None:
            continue
        folder = course / "source" / path.stem
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / path.name)
        names.append(path.stem)
    (course / "nbgrader_config.py").write_text(nbgrader_config(course.resolve()))
    return names


def _run_nbgrader(course: Path, *args: str) -> None:
    # nbgrader runs the `alembic` script (creating the gradebook): the venv's bin must be on PATH
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, PATH=path, FACELIB_FAST=os.environ.get("FACELIB_FAST", "1"))
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed in {course}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def build(lessons: list[Path], course: Path, *, release: bool = True) -> list[str]:
    """The nbgrader course of ``lessons`` in ``course``: ``source/`` and, unless ``release`` is False,
    ``release/`` (``nbgrader generate_assignment``). Returns the assignment names."""
    course.mkdir(parents=True, exist_ok=True)
    names = write_source(lessons, course)
    if release and names:
        _run_nbgrader(course, "generate_assignment", "*", "--force")  # one process for all (nbgrader imports slowly)
    return names
