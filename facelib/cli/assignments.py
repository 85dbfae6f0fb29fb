"""``facelib assignments build [--out DIR]``: the lessons' exercises as an nbgrader course.

The library side is :mod:`facelib.assignments`; this module adds the sub-command to the parser.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_assignments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``facelib assignments build [--out DIR] [--no-release] [NOTEBOOK...]``."""
    a = sub.add_parser("assignments", help="the lessons' exercises as an nbgrader course (source/, release/)")
    verbs = a.add_subparsers(dest="verb", required=True)
    b = verbs.add_parser("build", help="write nbgrader's course folder from the lessons",
                         description="Write nbgrader's course layout (nbgrader_config.py, source/, release/) "
                                     "from the lessons: one assignment per lesson with exercises.")
    b.add_argument("notebooks", nargs="*", help="lessons to use (default: notebooks/NN_*.ipynb)")
    b.add_argument("--out", default="build/assignments", help="course folder (default build/assignments)")
    b.add_argument("--no-release", action="store_true",
                   help="write source/ only (skip nbgrader generate_assignment)")
    b.set_defaults(func=_cmd_assignments_build)


def _cmd_assignments_build(args: argparse.Namespace) -> int:
    from facelib import assignments, classroom

    paths = [Path(p) for p in args.notebooks] or classroom.default_notebooks()
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(f"{p}: no such notebook")
    out = Path(args.out)
    names = assignments.build(paths, out, release=not args.no_release)
    for name in names:
        print(f"{name}: {out / 'source' / name}" + ("" if args.no_release else f", {out / 'release' / name}"))
    print(f"{len(names)} assignments in {out} (nbgrader course; see the README's teacher section)")
    return 0
