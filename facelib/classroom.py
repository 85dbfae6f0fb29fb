"""Run every lesson headless the evening before class: executed notebooks as HTML + a summary.

``facelib classroom`` (and ``make demo``) executes each notebook top to bottom in full mode (or
fast mode with ``--fast``) with ``FACELIB_INTERACTIVE=0`` (widgets draw their default view), with
a progress bar over its cells, writes ``build/html/NAME.html`` and ``build/html/index.html``, and
prints a table (notebook, seconds, status). A failing cell does not stop the run: the notebook
goes on, the error stays visible in its HTML, and the table names the cell and the error.

The HTML works offline (the classroom case): maths is typeset by a local copy of MathJax
(from the ``jupyter-server-mathjax`` package, copied once into ``OUT/mathjax``), and no page
loads require.js or anything else from a CDN.

:func:`execute` is the one notebook executor of the project: ``tools/nbstore.py`` (storing
lessons for nbval) runs it too.
"""

from __future__ import annotations

import html
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from facelib._quiet import quiet_environment
from facelib.data.images import atomic_write

__all__ = [
    "MATHJAX_DIR",
    "NotebookRun",
    "default_notebooks",
    "execute",
    "export_html",
    "install_mathjax",
    "run_all",
    "run_notebook",
    "summary_table",
]

#: Folder (inside the HTML output folder) holding the local MathJax copy.
MATHJAX_DIR = "mathjax"
_MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"

# nbconvert's lab template without its CDN require.js (only widget embeds need it, and the
# executed lessons hold static views, no widgets).
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
"""


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


def execute(nb: Any, cwd: Path, *, env: Mapping[str, str] | None = None, timeout: int = 1800,
            allow_errors: bool = True, progress: bool = False, desc: str = "",
            on_cell: Callable[[int], None] | None = None) -> list[str]:
    """Run the code cells of ``nb`` (in place) in a fresh ``python3`` kernel; return the errors.

    ``on_cell(index)`` is called after each code cell has run (``bench/classroom.py`` reads the
    memory each cell took).

    The kernel starts in ``cwd`` with this process's environment, TensorFlow's quiet start-up
    defaults (:mod:`facelib._quiet`) and ``env`` on top. Each error is ``"cell I: Name: message"``
    (``I`` = index in ``nb.cells``). With ``allow_errors=False`` the first failing cell raises
    ``nbclient.exceptions.CellExecutionError`` instead.
    """
    from nbclient import NotebookClient

    from facelib.progress import tqdm

    kernel_env = dict(quiet_environment(dict(os.environ)))
    kernel_env.update(env or {})
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}})
    errors: list[str] = []
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    with client.setup_kernel(env=kernel_env):
        for index, cell in tqdm(code_cells, desc=desc or "cells", unit="cell", disable=not progress, leave=True):
            client.execute_cell(cell, index)
            if on_cell is not None:
                on_cell(index)
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    errors.append(f"cell {index}: {out.get('ename')}: {out.get('evalue')}")
    return errors


def _mathjax_source() -> Path:
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).resolve().parent / "static"


def install_mathjax(out_dir: Path) -> Path:
    """Copy MathJax (from ``jupyter-server-mathjax``) into ``out_dir/mathjax`` once; return it."""
    target = out_dir / MATHJAX_DIR
    if not (target / "MathJax.js").is_file():
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = out_dir / f".{MATHJAX_DIR}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(_mathjax_source(), staging)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def export_html(nb: Any, target: Path) -> Path:
    """Write ``nb`` as a lab-style HTML page whose maths uses the local MathJax beside it."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    install_mathjax(target.parent)
    exporter = HTMLExporter(extra_loaders=[DictLoader({"facelib_offline.html.j2": _TEMPLATE})],
                            template_file="facelib_offline.html.j2",
                            mathjax_url=f"{MATHJAX_DIR}/MathJax.js?config={_MATHJAX_CONFIG}")
    body, _ = exporter.from_notebook_node(nb)
    return atomic_write(target, lambda tmp: tmp.write_text(body, encoding="utf-8"))


def run_notebook(path: Path, out_dir: Path, *, timeout: int = 1800, progress: bool = True,
                 env: Mapping[str, str] | None = None) -> NotebookRun:
    """Execute ``path`` (working directory: its folder) and write its HTML into ``out_dir``."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    errors = execute(nb, path.parent, env=env, timeout=timeout, progress=progress, desc=path.stem)
    seconds = time.perf_counter() - start
    target = export_html(nb, out_dir / f"{path.stem}.html")
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


def _index_html(runs: list[NotebookRun], *, fast: bool) -> str:
    mode = "fast mode (FACELIB_FAST=1: smaller sizes and fewer steps)" if fast else "full mode"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = "\n".join(
        f"<tr class='{'ok' if r.ok else 'failed'}'><td><a href='{html.escape(r.html.name)}'>"
        f"{html.escape(r.path.stem)}</a></td><td>{r.seconds:.1f}</td><td>{html.escape(r.status)}</td>"
        f"<td>{'<br>'.join(html.escape(e) for e in r.errors)}</td></tr>" for r in runs if r.html)
    total = sum(r.seconds for r in runs)
    return ("<!doctype html><meta charset='utf-8'><title>facelib lessons</title>"
            "<style>body{font-family:sans-serif;margin:2em} td,th{padding:4px 10px}"
            " tr.failed td{background:#fdd} tr.ok td:nth-child(3){color:#070}</style>"
            "<h1>facelib lessons, executed</h1>"
            f"<p id='mode'>Executed in <b>{html.escape(mode)}</b> on {when}: "
            f"{sum(r.ok for r in runs)}/{len(runs)} ok, {total:.0f} s in all.</p>"
            "<table border=1>"
            "<tr><th>lesson</th><th>seconds</th><th>status</th><th>errors</th></tr>"
            f"{rows}</table>")


def run_all(paths: list[Path], out_dir: Path, *, fast: bool = False, progress: bool = True) -> list[NotebookRun]:
    """Execute each notebook (full mode unless ``fast``), write HTML and ``index.html``.

    The kernels get ``FACELIB_FAST`` and ``FACELIB_INTERACTIVE=0``: static views, no widgets.
    """
    env = {"FACELIB_FAST": "1" if fast else "0", "FACELIB_INTERACTIVE": "0"}
    runs = [run_notebook(Path(p), out_dir, progress=progress, env=env) for p in paths]
    atomic_write(out_dir / "index.html",
                 lambda tmp: tmp.write_text(_index_html(runs, fast=fast), encoding="utf-8"))
    return runs
