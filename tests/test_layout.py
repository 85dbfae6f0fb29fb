"""The package's shape: the folder is the map (issue 23).

Read from the code's own ``ast`` (every ``import``, at module level or inside a function, under
``TYPE_CHECKING`` too): the top level holds only plumbing and the seven sub-packages; the imports form
no circle, between modules or between rooms; no import runs back up a layer; no private name crosses
a room's boundary; no function is over 60 lines and no module over about 450. Also: importing a module
changes no environment variable (outside config and device), and nothing in the repository uses a
path of facelib 0.1 (they live only in ``facelib/_moved.py``).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import facelib
from facelib import _moved

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "facelib"
SUB_PACKAGES = {"data", "faces", "style", "conv", "live", "models", "checks"}
PLUMBING = {"__init__", "_quiet", "_moved", "config", "device", "registry", "assets", "progress", "widgets", "cli",
            "classroom",
            "assignments", "exchange"}

#: The floors of the house, lowest first: a room may import only from rooms on a lower floor (and from itself).
#: Plumbing modules are rooms of their own.
FLOORS = {
    "_quiet": 0, "_moved": 0, "config": 0,
    "progress": 1, "device": 1, "widgets": 1, "registry": 1,
    "assets": 2,
    "data": 3,
    "models": 4,
    "faces": 5,
    "style": 6, "conv": 6,
    "live": 7, "checks": 7,
    "classroom": 8, "assignments": 8, "exchange": 8,
    "cli": 9,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, str | None]]:
    """``(module imported, name taken from it or None)`` for every facelib import in ``path``.

    ``from facelib.faces import detect`` (a module) gives ``("facelib.faces.detect", None)``;
    ``from facelib.faces import verify`` gives ``("facelib.faces", "verify")``; an attribute read on an
    imported module (``detect._align``) gives ``("facelib.faces.detect", "_align")``.
    """
    tree = ast.parse(path.read_text(), str(path))
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("facelib"):
                    aliases[a.asname or a.name] = a.name
                    yield a.name, None
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("facelib"):
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if full in modules:
                    aliases[a.asname or a.name] = full
                    yield full, None
                else:
                    yield node.module, a.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            yield aliases[node.value.id], node.attr


def _room(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules if m != "facelib"}
    for module, path in modules.items():
        if module == "facelib":  # the root: every module is imported through it, it imports lazily
            continue
        for target, _name in _imports(path, modules):
            if target in modules and target not in (module, "facelib"):
                graph[module].add(target)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node, or with a self-loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_circle_finder_finds_a_circle():
    """The test's own tool, on hand-made graphs: a three-module circle and a chain."""
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_top_level_holds_only_plumbing_and_the_seven_sub_packages():
    entries = {p.stem if p.suffix == ".py" else p.name for p in PACKAGE.iterdir()
               if p.name != "__pycache__" and not p.name.endswith(".egg-info")}
    assert entries == PLUMBING | SUB_PACKAGES
    for name in SUB_PACKAGES:
        assert (PACKAGE / name / "__init__.py").is_file(), name
        assert ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text())), f"{name}: its public face"


def test_no_import_circle_between_modules():
    assert _circles(_graph()) == []


def test_no_import_circle_between_rooms_and_none_runs_back_up_a_floor():
    graph = _graph()
    rooms: dict[str, set[str]] = {}
    upward = []
    for module, targets in graph.items():
        for target in targets:
            a, b = _room(module), _room(target)
            if a != b:
                rooms.setdefault(a, set()).add(b)
                if FLOORS[b] >= FLOORS[a]:
                    upward.append(f"{module} -> {target}")
    assert set(FLOORS) == {_room(m) for m in graph}, "every room has a floor"
    assert _circles(rooms) == []
    assert upward == []


def test_no_private_name_crosses_a_rooms_boundary():
    """Inside one sub-package, ``_x`` shared between its files is fine; across rooms only public names."""
    modules = _modules()
    crossing = []
    for module, path in modules.items():
        for target, name in _imports(path, modules):
            if name and name.startswith("_") and not name.startswith("__") and _room(target) != _room(module):
                crossing.append(f"{module} uses {target}.{name}")
    assert crossing == []


def test_the_checks_find_an_import_up_a_floor_and_a_private_crossing(tmp_path, monkeypatch):
    """The two tests above, on a hand-made package: a model that imports a lesson's private name."""
    fake = tmp_path / "facelib"
    (fake / "models").mkdir(parents=True)
    (fake / "faces").mkdir()
    for f in ("__init__.py", "models/__init__.py", "faces/__init__.py"):
        (fake / f).write_text("")
    (fake / "faces" / "detect.py").write_text("from facelib.models import small\n")
    (fake / "models" / "small.py").write_text("from facelib.faces.detect import _align\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    modules = _modules()
    assert set(_imports(modules["facelib.models.small"], modules)) == {("facelib.faces.detect", "_align")}
    assert _circles(_graph()) == [["facelib.faces.detect", "facelib.models.small"]]


def test_each_sub_package_face_offers_what_its_all_says():
    import importlib

    for name in SUB_PACKAGES - {"models", "checks"}:
        face = importlib.import_module(f"facelib.{name}")
        assert [n for n in face.__all__ if not hasattr(face, n)] == [], name
        assert len(set(face.__all__)) == len(face.__all__), name


def test_no_function_is_over_60_lines():
    """One idea per function too: a long one reads as a few named steps (issue 23)."""
    long = {}
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > 60:
                    long[f"{module}.{node.name}"] = n
    assert long == {}


def test_no_module_is_over_about_450_lines():
    """CONTRIBUTING's house rule (issue 11): past about 450 lines a module holds more than one idea."""
    long = {str(f.relative_to(PACKAGE)): n for f in sorted(PACKAGE.rglob("*.py"))
            if (n := len(f.read_text().splitlines())) > 460}
    assert long == {}, f"split these modules along the lecture's ideas: {long}"


# config reads the environment and device silences TensorFlow before importing it: their job.
# The package itself (facelib/__init__.py) sets TensorFlow's quiet start-up defaults (facelib._quiet, issue 15)
# before any sub-module loads: imported first, outside the measurement.
_ALLOWED = {"facelib", "facelib.config", "facelib.device"}


def test_importing_a_module_changes_no_environment_variable():
    modules = sorted(set(_modules()) - _ALLOWED)
    script = (
        "import importlib, json, os, sys\n"
        # third-party libraries set their own variables when imported (TF2_BEHAVIOR, KMP_...): not ours
        "import anywidget, h5py, keras, matplotlib, PIL.Image, sklearn, tensorflow, tqdm\n"
        "import facelib\n"
        "changed = {}\n"
        f"for name in {modules!r}:\n"
        "    before = dict(os.environ)\n"
        "    importlib.import_module(name)\n"
        "    diff = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))\n"
        "    if diff:\n"
        "        changed[name] = diff\n"
        "print(json.dumps(changed))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}


_OLD = "|".join(sorted((m.split(".")[1] for m in _moved.MOVED), key=len, reverse=True))
_OLD_PATH = re.compile(rf"\bfacelib\.(?:{_OLD})\b(?![\w/])|from facelib import [^\n]*\b(?:{_OLD})\b|"
                       rf"\bfacelib/(?:{_OLD})\.py\b")


def test_nothing_in_the_repository_uses_an_old_path():
    """Lessons, package, tests, bench, tools, README and CONTRIBUTING use the new paths; the old ones live
    only in facelib/_moved.py (and in the test of that table)."""
    files = [*PACKAGE.rglob("*.py"), *(REPO / "tests").rglob("*.py"), *(REPO / "bench").glob("*.py"),
             *(REPO / "tools").glob("*.py"), *(REPO / "notebooks").glob("*.ipynb"), REPO / "README.md",
             REPO / "CONTRIBUTING.md", *(REPO / "docs").glob("*.md")]
    skip = {PACKAGE / "_moved.py", REPO / "tests" / "test_moved.py", Path(__file__)}
    found = [f"{f.relative_to(REPO)}: {m.group(0)}" for f in files if f not in skip
             for m in _OLD_PATH.finditer(f.read_text())]
    assert found == []
    assert _OLD_PATH.search("from facelib.verification import verify")
    assert _OLD_PATH.search("from facelib import data, evaluation")
    assert not _OLD_PATH.search("from facelib.faces.verification import verify")
    assert not _OLD_PATH.search("facelib.live.door()")


def test_import_facelib_stays_cheap():
    """``import facelib`` loads no sub-package (they load on first use) and no TensorFlow."""
    script = "import sys, facelib; print(sorted(m for m in sys.modules if m.startswith(('facelib.', 'tensorflow'))))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert json.loads(out.stdout.strip().replace("'", '"')) == ["facelib._moved", "facelib._quiet"]
    assert facelib.__version__ == "0.2.0"
