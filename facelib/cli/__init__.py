"""The ``facelib`` command: fetch assets, check the set-up, style transfer, a face database.

    facelib fetch [NAME ...|--all]        verified weights/data into FACELIB_HOME
    facelib fetch --all --to DIR          a shared, read-only store for a class (FACELIB_ASSETS=DIR)
    facelib doctor                        versions, devices, precision policy, each asset
    facelib stylize CONTENT STYLE -o OUT  neural style transfer (an optimisation per photo)
    facelib paint train STYLE             train a painter network for STYLE (resumable)
    facelib paint PHOTO -o OUT --style S  paint PHOTO in one forward pass of the trained painter
    facelib enroll DB NAME IMG...         add photos of a person to a face database
    facelib identify DB IMG...            who is it? (nearest enrolled person or unknown)
    facelib verify DB NAME IMG            is this NAME? exit 0 accepted, 1 rejected
    facelib classroom [NOTEBOOK...]       run every lesson headless into build/html
    facelib assignments build [--out DIR] the lessons' exercises as an nbgrader course

Exit codes: 0 success/accepted, 1 rejected (verify), 2 error: one line on stderr naming the file
and what is wrong (``--debug`` adds the traceback), 130 interrupted (Ctrl-C; one line). ``identify``
reports every photo (its result or its error) and exits 2 if any failed. A name that starts with ``-``
goes after ``--``: ``facelib enroll DB -- -Dee photo.jpg``.

The parser and the entry point live here; the commands in :mod:`facelib.cli.commands` (fetch, doctor,
enroll, identify, verify, classroom), :mod:`facelib.cli.stylize` (``stylize`` and its argument checks,
made before TensorFlow is imported) and :mod:`facelib.cli.paint` (``paint train`` and ``paint``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from facelib.cli.assignments import add_assignments
from facelib.cli.commands import (
    _cmd_classroom,
    _cmd_doctor,
    _cmd_enroll,
    _cmd_fetch,
    _cmd_identify,
    _cmd_verify,
    _error_line,
    _safe,
)
from facelib.cli.paint import add_paint
from facelib.cli.stylize import STYLIZE_MAX_SIZE, STYLIZE_PRESETS, _cmd_stylize

__all__ = ["STYLIZE_MAX_SIZE", "STYLIZE_PRESETS", "build_parser", "main"]


def _threshold(text: str) -> float:
    """``--threshold``: a finite number in (0, 4] (:func:`facelib.faces.database_file.check_threshold`)."""
    from facelib.faces.database_file import check_threshold

    try:
        return check_threshold(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number in (0, 4]") from None


_NAME_HELP = ("the person's name (spaces around it are stripped); a name that starts with '-' goes "
              "after --, e.g. facelib enroll DB -- -Dee photo.jpg")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``facelib`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an error")
    p = argparse.ArgumentParser(prog="facelib", description=__doc__.split("\n\n")[0], parents=[common])
    p.set_defaults(debug=False)
    sub = p.add_subparsers(dest="command", required=True)
    _add = sub.add_parser

    def add_parser(*a: Any, **k: Any) -> argparse.ArgumentParser:
        return _add(*a, parents=[common], **k)

    sub.add_parser = add_parser  # type: ignore[method-assign]
    for add in (_add_fetch, _add_doctor, _add_stylize, add_paint, _add_enroll, _add_identify, _add_verify,
                _add_classroom, add_assignments):
        add(sub)
    return p


def _add_fetch(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``facelib fetch [NAME ...|--all]``."""
    f = sub.add_parser("fetch", help="download/verify weights and data into FACELIB_HOME")
    f.add_argument("names", nargs="*", help="asset names (see `facelib doctor`)")
    f.add_argument("--all", action="store_true", help="every registered asset")
    f.add_argument("--to", metavar="DIR", default=None,
                   help="install into DIR as a shared store for a class (archives extracted, everything "
                        "world-readable); users then set FACELIB_ASSETS=DIR")
    f.set_defaults(func=_cmd_fetch)


def _add_doctor(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``facelib doctor``."""
    d = sub.add_parser("doctor", help="versions, devices, precision policy and asset status")
    d.set_defaults(func=_cmd_doctor)


def _add_stylize(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``facelib stylize CONTENT STYLE -o OUT`` and its options."""
    s = sub.add_parser("stylize", help="neural style transfer of CONTENT in the style of STYLE",
                       description="Neural style transfer. STYLE (or each --style) is an image file or a "
                                   "painting of the registry (e.g. starry-night; `facelib doctor` lists them).")
    s.add_argument("content", help="the photo (content image)")
    s.add_argument("style", nargs="?", help="the painting: an image file or a registry name (starry-night, ...)")
    s.add_argument("-o", "--output", required=True,
                   help="output image (.png, .jpg, ...: the format follows the suffix)")
    s.add_argument("--style", dest="styles", action="append", metavar="STYLE[:WEIGHT]",
                   help="a painting with its weight, repeatable: --style a.jpg:0.7 --style b.jpg:0.3")
    s.add_argument("--preset", default="auto", metavar="PRESET",
                   help=f"one of {', '.join(STYLIZE_PRESETS)} (default auto: portrait, with the face's content "
                        "weighted up, when the photo shows a face; else classroom)")
    s.add_argument("--size", type=int, default=None,
                   help=f"longest side of the output in pixels, at most {STYLIZE_MAX_SIZE} "
                        "(default: the photo's own, capped)")
    s.add_argument("--steps", type=int, default=None, help="optimisation steps (default: the preset's)")
    s.add_argument("--style-scale", type=float, default=None,
                   help="the painting's size relative to the output (brush size; default 1)")
    s.add_argument("--preserve-colors", action="store_true", help="keep the photo's colours")
    s.add_argument("--mask", default=None, metavar="MASK.png",
                   help="stylise only where MASK is white (black keeps the photo)")
    s.set_defaults(func=_cmd_stylize)


def _add_enroll(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``facelib enroll DB NAME IMG...``."""
    e = sub.add_parser("enroll", help="add photos of NAME to the face database DB (created if missing)",
                       epilog=_NAME_HELP)
    e.add_argument("db")
    e.add_argument("name", help=_NAME_HELP)
    e.add_argument("images", nargs="+")
    e.add_argument("--encoder", choices=("facenet", "dlib", "facenet+dlib"), default=None,
                   help="encoder pipeline of a new database (stored in DB; default: the course's FaceNet)")
    e.set_defaults(func=_cmd_enroll)


def _add_identify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``facelib identify DB IMG...``."""
    c = sub.add_parser("identify", help="who is in each photo?")
    c.add_argument("db")
    c.add_argument("images", nargs="+")
    c.add_argument("--all-faces", action="store_true",
                   help="report every face of each photo (default: the main face; others are noted)")
    _add_answer_options(c)
    c.set_defaults(func=_cmd_identify)


def _add_verify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``facelib verify DB NAME IMG``."""
    c = sub.add_parser("verify", help="is the person in IMG really NAME?")
    c.add_argument("db")
    c.add_argument("name", help=_NAME_HELP)
    c.add_argument("image")
    _add_answer_options(c)
    c.set_defaults(func=_cmd_verify)


def _add_answer_options(c: argparse.ArgumentParser) -> None:
    """``--threshold`` and ``--json``, shared by ``identify`` and ``verify``."""
    c.add_argument("--threshold", type=_threshold, default=None,
                   help="distance threshold, a number in (0, 4] (default: the database's calibrated one, else 0.7)")
    c.add_argument("--json", action="store_true", help="machine-readable output")


def _add_classroom(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``facelib classroom [NOTEBOOK...]``."""
    k = sub.add_parser("classroom", help="execute every lesson headless into HTML, with a summary table")
    k.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/NN_*.ipynb)")
    k.add_argument("--out", default="build/html", help="output folder (default build/html)")
    k.add_argument("--fast", action="store_true", help="fast mode (FACELIB_FAST=1) instead of full")
    k.set_defaults(func=_cmd_classroom)


def _show_warnings(command: str, caught: list[warnings.WarningMessage]) -> None:
    """facelib's own warnings as ``facelib CMD: warning: ...`` lines; others as Python shows them."""
    if not caught:
        return  # nothing to show: don't import facelib.faces (and TensorFlow) for nothing
    from facelib.faces.database_file import FaceDatabaseWarning

    for w in caught:
        if issubclass(w.category, FaceDatabaseWarning):
            print(f"facelib {command}: warning: {_safe(w.message)}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # runs the `finally` clauses: no half-written files, locks released


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread
        previous = None
    try:
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.filterwarnings("always", category=UserWarning, module=r"facelib\.")
                return func(args)
        finally:  # outside the recording: showing a warning there would record it again, forever
            _show_warnings(args.command, caught)
    except KeyboardInterrupt:  # Ctrl-C: one line; files are written atomically, so none is left half-written
        print(f"facelib {args.command}: interrupted (Ctrl-C); no file was left half-written", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        subject = getattr(args, "image", None) or (args.images[0] if len(getattr(args, "images", [])) == 1 else None)
        print(f"facelib {args.command}: error: {_safe(_error_line(exc, subject))}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
