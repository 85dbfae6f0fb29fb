"""Run every lesson headless the evening before class: executed notebooks as HTML + a summary.

``facelib classroom`` (and ``make demo``) executes each notebook top to bottom in full mode (or
fast mode with ``--fast``) with ``FACELIB_INTERACTIVE=0`` (widgets draw their default view), with a progress bar over its cells, writes ``build/html/NAME.html`` and
``build/html/index.html``, and prints a table (notebook, seconds, status). A failing cell does
not stop the run: the notebook goes on, the error stays visible in its HTML, and the table
names the cell and the error.
"""

from __future__ import annotations

import html
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from facelib.data import atomic_write

__all__ = ["NotebookRun", "run_notebook", "run_all", "summary_table", "default_notebooks"]


@dataclass
class NotebookRun:
    """The outcome of executing one notebook."""

    path: Path
    seconds: float
    errors: list[str] = field(default_factory=list)
    html: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def status(self) -> str:
        return "ok" if self.ok else f"FAILED ({len(self.errors)} cell(s))"


def default_notebooks(root: Path | None = None) -> list[Path]:
    """The lesson notebooks ``notebooks/NN_*.ipynb`` of the checkout, in course order."""
    root = root or Path(__file__).resolve().parent.parent / "notebooks"
    return sorted(root.glob("[0-9][0-9]_*.ipynb"))


def run_notebook(path: Path, out_dir: Path, *, timeout: int = 1800, progress: bool = True) -> NotebookRun:
    """Execute ``path`` (working directory: its folder) and write its HTML into ``out_dir``."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter
    from tqdm.auto import tqdm

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    errors: list[str] = []
    start = time.perf_counter()
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    with client.setup_kernel():
        for index, cell in tqdm(code_cells, desc=path.stem, unit="cell", disable=not progress, leave=True):
            client.execute_cell(cell, index)
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    errors.append(f"cell {index}: {out.get('ename')}: {out.get('evalue')}")
    seconds = time.perf_counter() - start
    out_dir.mkdir(parents=True, exist_ok=True)
    body, _ = HTMLExporter().from_notebook_node(nb)
    target = atomic_write(out_dir / f"{path.stem}.html", lambda tmp: tmp.write_text(body, encoding="utf-8"))
    return NotebookRun(path, seconds, errors, target)


def summary_table(runs: list[NotebookRun]) -> str:
    """A plain-text table: notebook, seconds, status (and each error underneath)."""
    width = max([len(r.path.stem) for r in runs] + [8])
    lines = [f"{'notebook':<{width}}  {'seconds':>8}  status", "-" * (width + 26)]
    for r in runs:
        lines.append(f"{r.path.stem:<{width}}  {r.seconds:8.1f}  {r.status}")
        lines += [f"{'':<{width}}    {e}" for e in r.errors]
    lines.append(f"{'total':<{width}}  {sum(r.seconds for r in runs):8.1f}  "
                 f"{sum(r.ok for r in runs)}/{len(runs)} ok")
    return "\n".join(lines)


def _index_html(runs: list[NotebookRun]) -> str:
    rows = "\n".join(
        f"<tr><td><a href='{html.escape(r.html.name)}'>{html.escape(r.path.stem)}</a></td>"
        f"<td>{r.seconds:.1f}</td><td>{html.escape(r.status)}</td>"
        f"<td>{'<br>'.join(html.escape(e) for e in r.errors)}</td></tr>" for r in runs if r.html)
    return ("<!doctype html><meta charset='utf-8'><title>facelib lessons</title>"
            "<h1>facelib lessons, executed</h1><table border=1 cellpadding=4>"
            "<tr><th>notebook</th><th>seconds</th><th>status</th><th>errors</th></tr>"
            f"{rows}</table>")


def run_all(paths: list[Path], out_dir: Path, *, fast: bool = False, progress: bool = True) -> list[NotebookRun]:
    """Execute each notebook (full mode unless ``fast``), write HTML and ``index.html``."""
    wanted = {"FACELIB_FAST": "1" if fast else "0", "FACELIB_INTERACTIVE": "0"}
    previous = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)  # the kernels inherit them: static output instead of widgets
    try:
        runs = [run_notebook(Path(p), out_dir, progress=progress) for p in paths]
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    (out_dir / "index.html").write_text(_index_html(runs), encoding="utf-8")
    return runs
