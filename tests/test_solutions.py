"""Every lesson's exercise solutions pass their checks, and nothing in a notebook fakes a pass.

The convention (PLAN.md, "Exercises: no false passes"): the student cell defines the function with
``# YOUR CODE HERE`` and ``raise NotImplementedError``; the next code cell calls
``facelib.checks.check_xxx(fn)``; the solution is a collapsed *Markdown* cell tagged ``solution``
whose metadata names the function(s) and the check,
``{"facelib": {"solution": "fn" or "fn, gn", "check": "check_xxx"}}``, with one fenced python block.

For every solution cell of every notebook this test execs the notebook's set-up cell (its first code
cell) in a fresh namespace, then the solution blocks of the notebook's earlier exercises (a later
exercise may call an earlier one, as lesson 05's ``verify`` calls the student's ``img_to_encoding``),
then the solution block, and runs the check on the function(s): it must pass. For every notebook it
also asserts that Run All cannot print a pass for work nobody did: no code cell is a solution, an
exercise function is bound only in its student cell, and the stored output of every check cell (what
nbval compares a fresh run with) says "not attempted yet" and has
no "✓".
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HEADER = "**Solution** — expand to reveal, copy into the cell above."
FENCE = re.compile(r"```python\n(.*?)```", re.S)


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code(source: str) -> str:
    """Cell source without IPython magics/shell lines, so ``ast``/``exec`` can read it."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _solution_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if "solution" in c.metadata.get("tags", []) or "facelib" in c.metadata]


def _names(cell: nbformat.NotebookNode) -> list[str]:
    return [n.strip() for n in cell.metadata["facelib"]["solution"].split(",")]


def _bound_names(source: str) -> set[str]:
    """Names a code cell binds at top level: def, class, assignment, import-as, for targets."""
    bound: set[str] = set()
    for node in ast.parse(_code(source)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For)):
                targets = [node.target]
            for t in targets:
                bound.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return bound


def _check_calls(source: str) -> list[str]:
    """Names of ``check_*`` functions a code cell calls."""
    calls = []
    for node in ast.walk(ast.parse(_code(source))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name.startswith("check_"):
                calls.append(name)
    return calls


def _is_stub(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and "# YOUR CODE HERE" in cell.source and "raise NotImplementedError" in cell.source


def _solutions() -> list:
    params = []
    for path in NOTEBOOKS:
        for cell in _solution_cells(_read(path)):
            meta = cell.metadata.get("facelib", {})
            params.append(pytest.param(path, cell.get("id"), id=f"{path.stem}:{meta.get('solution', cell.get('id'))}"))
    return params


@pytest.mark.parametrize(("path", "cell_id"), _solutions())
def test_solution_passes_its_check(path, cell_id, monkeypatch, capsys):
    nb = _read(path)
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    assert cell.cell_type == "markdown", f"{path.name} cell {cell_id}: a solution must be a Markdown cell"
    assert "solution" in cell.metadata.get("tags", []), f"{path.name} cell {cell_id}: tag it 'solution'"
    assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, f"{path.name} cell {cell_id}: collapse it"
    meta = cell.metadata.get("facelib", {})
    assert {"solution", "check"} <= set(meta), f"{path.name} cell {cell_id}: metadata.facelib needs solution and check"
    assert cell.source.startswith(HEADER), f"{path.name} cell {cell_id}: start with {HEADER!r}"
    blocks = FENCE.findall(cell.source)
    assert len(blocks) == 1, f"{path.name} cell {cell_id}: exactly one ```python block, found {len(blocks)}"

    import facelib.checks

    monkeypatch.chdir(path.parent)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    namespace: dict = {"__name__": "__main__"}
    exec(compile(_code(setup.source), f"{path.name}:set-up", "exec"), namespace)
    for earlier in _solution_cells(nb)[:_solution_cells(nb).index(cell)]:  # a later exercise may use an earlier one
        exec(compile(FENCE.findall(earlier.source)[0], f"{path.name}:{earlier.get('id')}", "exec"), namespace)
    exec(compile(blocks[0], f"{path.name}:{cell_id}", "exec"), namespace)
    functions = [namespace[n] for n in _names(cell)]
    capsys.readouterr()
    verdict = getattr(facelib.checks, meta["check"])(*functions)
    out = capsys.readouterr().out
    assert verdict, out
    assert "✓" in out and "✗" not in out and "not attempted" not in out, out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_code_cell_solution_and_exercises_bound_only_in_the_student_cell(path):
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    code_solutions = [c.get("id") for c in code
                      if "solution" in c.metadata.get("tags", []) or c.source.lstrip().startswith("# Solution")]
    assert not code_solutions, (f"{path.name}: code cells {code_solutions} are solutions; Run All would replace the "
                                "student's function and print a pass. Make them Markdown solution cells (PLAN.md).")
    exercises = {n for c in _solution_cells(nb) for n in _names(c)}
    for stub in filter(_is_stub, code):
        defined = {n.name for n in ast.parse(_code(stub.source)).body if isinstance(n, ast.FunctionDef)}
        assert defined & exercises, (f"{path.name}: student cell {stub.get('id')} defines {sorted(defined)} but no "
                                     "Markdown solution cell names them in metadata.facelib.solution")
    for name in sorted(exercises):
        binders = [c for c in code if name in _bound_names(c.source)]
        ids = [c.get("id") for c in binders]
        assert len(binders) == 1 and _is_stub(binders[0]), (
            f"{path.name}: `{name}` is bound in code cells {ids}; it must be defined only in its student cell "
            "(with # YOUR CODE HERE and raise NotImplementedError). Later cells use facelib's implementation.")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_check_outputs_say_not_attempted(path):
    """nbval compares a fresh fast-mode run with these outputs: a fresh Run All prints no pass."""
    nb = _read(path)
    for cell in nb.cells:
        if cell.cell_type != "code" or not _check_calls(cell.source):
            continue
        text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)
        assert "not attempted yet" in text, (f"{path.name} cell {cell.get('id')} calls {_check_calls(cell.source)} "
                                             f"but its stored output is {text[:200]!r}, not 'not attempted yet'")
        assert "✓" not in text and "passed" not in text, (f"{path.name} cell {cell.get('id')} "
                                                          f"stores a pass: {text[:300]!r}")
