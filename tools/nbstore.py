"""Execute lesson notebooks in fast mode and store them clean for nbval.

    python tools/nbstore.py notebooks/03_triplet_loss.ipynb [...]

For each notebook: run it top to bottom with ``FACELIB_FAST=1`` and ``FACELIB_INTERACTIVE=0``
(static views; kernel ``python3``, working directory ``notebooks/``) by the project's one
executor, :func:`facelib.classroom.execute`, then keep only outputs that must repeat run to run:

- a code cell keeps its outputs (and execution count, so nbval compares them) when they are all
  text: stdout streams and ``text/plain``/``text/html``/``text/latex`` results;
- a cell with any image, widget or stderr output, or marked ``# NBVAL_IGNORE_OUTPUT`` /
  ``# NBVAL_SKIP``, is stored with no outputs and no execution count (nbval runs it but does not
  compare it) — plots appear when a student runs the notebook;
- execution timing metadata is removed.

Prints the wall time of each notebook; fails (exit 1) if a cell raises.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError

from facelib.classroom import execute

#: The kernel's settings while storing: fast sizes, static widget views (what nbval compares).
STORE_ENV = {"FACELIB_FAST": "1", "FACELIB_INTERACTIVE": "0"}

TEXT_MIME = {"text/plain", "text/html", "text/latex", "text/markdown"}


def _keep(cell: nbformat.NotebookNode) -> bool:
    if "NBVAL_IGNORE_OUTPUT" in cell.source or "NBVAL_SKIP" in cell.source:
        return False
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name != "stdout":
            return False
        if out.output_type in {"display_data", "execute_result"}:
            if not set(out.data) <= TEXT_MIME:
                return False
            if "<Figure size" in str(out.data.get("text/plain", "")):
                return False
        if out.output_type == "error":
            return False
    return True


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip run-to-run outputs and metadata as described in the module docstring."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        if not _keep(cell) or not cell.outputs:
            cell.outputs = []
            cell.execution_count = None
        else:
            for out in cell.outputs:
                out.pop("metadata", None) if out.output_type == "stream" else None
    nb.metadata.pop("widgets", None)
    return nb


def store(path: Path) -> float:
    """Execute ``path`` in fast mode, clean it and write it back; return seconds taken."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    execute(nb, path.parent, env=STORE_ENV, timeout=900, allow_errors=False)
    took = time.perf_counter() - start
    nbformat.write(clean(nb), path)
    return took


def main(paths: list[str]) -> int:
    status = 0
    for p in paths:
        try:
            took = store(Path(p))
            print(f"{p}: {took:.1f} s")
        except CellExecutionError as exc:
            status = 1
            print(f"{p}: FAILED\n{str(exc)[-3000:]}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
