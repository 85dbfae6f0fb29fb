"""The ``facelib`` command: fetch assets, check the set-up, style transfer, a face database.

    facelib fetch [NAME ...|--all]        verified weights/data into FACELIB_HOME
    facelib doctor                        versions, devices, precision policy, each asset
    facelib stylize CONTENT STYLE -o OUT  neural style transfer
    facelib enroll DB NAME IMG...         add photos of a person to a face database
    facelib identify DB IMG...            who is it? (nearest enrolled person or unknown)
    facelib verify DB NAME IMG            is this NAME? exit 0 accepted, 1 rejected
    facelib classroom [NOTEBOOK...]       run every lesson headless into build/html

Exit codes: 0 success/accepted, 1 rejected (verify), 2 error: one line on stderr naming the file
and what is wrong (``--debug`` adds the traceback). ``identify`` reports every photo (its result or
its error) and exits 2 if any failed. A name that starts with ``-`` goes after ``--``:
``facelib enroll DB -- -Dee photo.jpg``.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser"]


def _cmd_fetch(args: argparse.Namespace) -> int:
    from facelib import assets

    if args.all:
        chosen = assets.list_assets()
    elif args.names:
        chosen = [assets.get_asset(name) for name in args.names]
    else:
        raise ValueError("name at least one asset, or pass --all (see `facelib doctor` for the list)")
    failed = 0
    for asset in chosen:
        try:
            was = assets.asset_status(asset.name)
            path = assets.fetch(asset.name)
            note = " (the cached copy was corrupt; re-fetched)" if was == "corrupt" else ""
            print(f"{asset.name}: verified at {path}{note}")
        except (FileNotFoundError, ValueError) as exc:
            if asset.optional and args.all:
                first = str(exc).splitlines()[1].strip() if "\n" in str(exc) else str(exc)
                print(f"{asset.name}: not available (optional, a fallback exists): {first}")
                continue
            failed += 1
            print(f"{asset.name}: FAILED\n{exc}", file=sys.stderr)
    return 2 if failed else 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from facelib import assets, config, device

    info = device.describe()
    s = config.settings
    print(f"TensorFlow {info.tensorflow}, Keras {info.keras}")
    print(f"devices: {', '.join(info.gpus) or 'CPU only'}; CPU bfloat16: {'yes' if info.cpu_bf16 else 'no'}")
    print(f"mixed-precision policy: {info.policy}")
    print(f"cache (FACELIB_HOME): {s.home}")
    print(f"mirror (FACELIB_MIRROR): {s.mirror if s.mirror else 'not set'}"
          + ("" if s.mirror is None or s.mirror.is_dir() else " (missing!)"))
    print(f"fast mode: {s.fast}; offline: {s.offline}")
    print("assets:")
    for asset, status in assets.iter_status():
        note = " (optional)" if asset.optional and status != "verified" else ""
        print(f"  {asset.name:<26} {asset.kind:<8} {status}{note}")
    paintings = [a for a in assets.list_assets() if a.name.startswith("style-")]
    if paintings:
        print("paintings (facelib stylize PHOTO NAME, or --style NAME:WEIGHT):")
        for asset in paintings:
            print(f"  {asset.name[len('style-'):]:<26} {asset.local_path()}")
    return 0


#: ``facelib stylize``'s presets and size cap, known without importing TensorFlow (a test checks
#: that they equal ``facelib.nst.PRESETS`` and ``facelib.nst.MAX_SIZE``).
STYLIZE_PRESETS = ("auto", "classroom", "portrait", "course", "quality")
STYLIZE_MAX_SIZE = 1024


def _parse_style_arg(arg: str) -> tuple[str, float]:
    """``a.jpg`` or ``a.jpg:0.7`` (or a painting name, ``starry-night:0.3``) → ``(style, weight)``."""
    import math

    head, sep, tail = arg.rpartition(":")
    if sep and head:
        try:
            weight = float(tail)
        except ValueError:
            return arg, 1.0  # a ':' that is part of the path
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"--style {arg!r}: the weight after ':' must be a number >= 0")
        return head, weight
    return arg, 1.0


def _check_stylize_args(args: argparse.Namespace) -> list[tuple[str, float]]:
    """Every check that needs no TensorFlow, before anything is loaded or computed."""
    import os
    from pathlib import Path

    from facelib.images import IMAGE_SUFFIXES

    if args.preset not in STYLIZE_PRESETS:
        raise ValueError(f"--preset {args.preset!r} is not a preset; choose one of {', '.join(STYLIZE_PRESETS)}")
    for name in ("size", "steps"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name} {value}: {name} must be a positive integer")
    if args.size is not None and args.size > STYLIZE_MAX_SIZE:
        raise ValueError(f"--size {args.size} is above the cap of {STYLIZE_MAX_SIZE} pixels (memory grows with "
                         f"the square of the size); larger outputs are not supported")
    if args.size is not None and args.size < 16:
        raise ValueError(f"--size {args.size}: size must be at least 16 pixels (VGG19 pools 4 times)")
    if args.style_scale is not None and not args.style_scale > 0:
        raise ValueError(f"--style-scale {args.style_scale}: must be a number > 0")
    out = Path(args.output)
    if out.is_dir():
        raise ValueError(f"output {out} is a directory; give an image file name such as {out / 'result.png'}")
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"output {out}: unknown image suffix {out.suffix or '(none)'!r}; use one of "
                         f"{', '.join(IMAGE_SUFFIXES)}")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"output {out}: cannot write into {parent} (not a writable folder)")
    styles = ([(args.style, 1.0)] if args.style else []) + [_parse_style_arg(a) for a in args.styles or []]
    if not styles:
        raise ValueError("name a style: STYLE, or --style FILE[:WEIGHT] (repeatable), or a painting "
                         "(see `facelib doctor`)")
    if sum(w for _, w in styles) <= 0:
        raise ValueError("the --style weights are all 0")
    from facelib import assets

    paintings = [a.name[len("style-"):] for a in assets.list_assets() if a.name.startswith("style-")]
    for style, _ in styles:
        name = style[len("style-"):] if style.startswith("style-") else style
        if not Path(style).is_file() and name not in paintings:
            raise FileNotFoundError(f"style {style!r} is neither an image file nor a painting of the registry "
                                    f"({', '.join(paintings)})")
    for path in [args.content] + ([args.mask] if args.mask else []):
        if not Path(path).is_file():
            raise FileNotFoundError(f"image file {path} does not exist"
                                    + (" (or is a folder)" if Path(path).exists() else ""))
    return styles


def _cmd_stylize(args: argparse.Namespace) -> int:
    styles = _check_stylize_args(args)
    from facelib import images as data
    from facelib import nst

    content = data.read_image(args.content)
    size = args.size
    if size is None:  # the photo's own size, never a silent thumbnail
        size = max(content.shape[:2])
        if size > STYLIZE_MAX_SIZE:
            print(f"note: {args.content} is {content.shape[1]}x{content.shape[0]}; stylising at the cap of "
                  f"{STYLIZE_MAX_SIZE} px on the longest side (pass --size to choose)")
            size = STYLIZE_MAX_SIZE
        size = max(size, 16)
    resolved = [(nst.resolve_style(s), w) for s, w in styles]
    style = [(data.read_image(s), w) for s, w in resolved]
    mask = data.read_image(args.mask) if args.mask else None
    preset, weights = args.preset, None
    if preset in ("auto", "portrait"):
        weights = nst.face_weights(content)
        if preset == "auto":
            preset = "portrait" if weights is not None else "classroom"
            print(f"preset: {preset} ({'a face was found' if weights is not None else 'no face found'})")
    image, history = nst.stylize(content, style if len(style) > 1 else style[0][0], preset=preset, size=size,
                                 steps=args.steps, style_scale=args.style_scale, mask=mask, content_weights=weights,
                                 preserve_color=True if args.preserve_colors else None)
    out = data.save_image(args.output, image)
    costs = history["total"]
    print(f"wrote {out} ({image.shape[1]}x{image.shape[0]}); total cost {costs[0]:.4g} -> {costs[-1]:.4g}")
    return 0


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _open_db(path: str):
    from facelib.face_database import FaceDatabase

    return FaceDatabase.load(path)


def _finite(dist: float, image: str) -> float:
    if not math.isfinite(dist):
        raise ValueError(f"'{image}': the distance is not a finite number ({dist}); the encoder returned "
                         "NaN or infinity for this photo")
    return round(float(dist), 4)


def _cmd_enroll(args: argparse.Namespace) -> int:
    from facelib.face_database import FaceDatabase

    name = args.name.strip()
    options = {} if args.encoder is None else {"encoder": args.encoder}
    if args.encoder is not None and Path(args.db).is_file():
        held = FaceDatabase.load(args.db).encoder_name
        if held != args.encoder:
            raise ValueError(f"'{args.db}' holds encodings of encoder '{held or 'facenet (course pipeline)'}'; "
                             f"--encoder {args.encoder} cannot be mixed into it")
    added, db = FaceDatabase.enroll(args.db, name, args.images, **options)  # safe against simultaneous enrols
    print(f"enrolled {_plural(added, 'photo', 'photos')} of '{name}'; '{args.db}' now holds "
          f"{_plural(len(db), 'person', 'people')}")
    return 0


def _identify_one(db: Any, image: str, threshold: float | None, all_faces: bool) -> dict[str, Any]:
    if not all_faces:
        dist, identity = db.identify(image, threshold=threshold)
        return {"image": image, "identity": identity, "distance": _finite(dist, image)}
    faces = [{"box": None if face is None else [int(v) for v in face.box], "identity": identity,
              "distance": _finite(dist, image)} for face, dist, identity in db.identify_all(image, threshold=threshold)]
    return {"image": image, "faces": faces}


def _identify_text(r: dict[str, Any]) -> str:
    if "faces" not in r:
        return f"{r['image']}: {r['identity'] or 'unknown'} (distance {r['distance']:.3f})"
    lines = [f"{r['image']}: {_plural(len(r['faces']), 'face', 'faces')}"]
    for k, f in enumerate(r["faces"], 1):
        where = "" if f["box"] is None else " at x={} y={} {}x{}".format(*f["box"])
        lines.append(f"  face {k}{where}: {f['identity'] or 'unknown'} (distance {f['distance']:.3f})")
    return "\n".join(lines)


def _cmd_identify(args: argparse.Namespace) -> int:
    db = _open_db(args.db)
    results: list[dict[str, Any]] = []
    for image in args.images:
        try:
            results.append(_identify_one(db, image, args.threshold, args.all_faces))
        except Exception as exc:
            if args.debug:
                traceback.print_exc()
            results.append({"image": image, "error": _error_line(exc, image)})
            if not args.json:
                print(f"facelib identify: error: {results[-1]['error']}", file=sys.stderr)
            continue
        if not args.json:
            print(_identify_text(results[-1]))
    if args.json:
        print(json.dumps(results, indent=2, allow_nan=False))
    return 2 if any("error" in r for r in results) else 0


def _cmd_verify(args: argparse.Namespace) -> int:
    name = args.name.strip()
    db = _open_db(args.db)
    dist, accepted = db.verify(args.image, name, threshold=args.threshold)
    dist = _finite(dist, args.image)
    if args.json:
        print(json.dumps({"image": args.image, "name": name, "distance": dist, "accepted": bool(accepted)},
                         allow_nan=False))
    else:
        verdict = f"It's {name}, welcome in!" if accepted else f"It's not {name}, please go away"
        print(f"{verdict} (distance {dist:.3f})")
    return 0 if accepted else 1


def _cmd_classroom(args: argparse.Namespace) -> int:
    from pathlib import Path

    from facelib import classroom, config

    paths = [Path(p) for p in args.notebooks] or classroom.default_notebooks()
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"notebook(s) not found: {', '.join(missing)}")
    runs = classroom.run_all(paths, Path(args.out), fast=args.fast, progress=config.settings.progress)
    print(classroom.summary_table(runs))
    print(f"HTML: {Path(args.out) / 'index.html'}")
    return 0 if all(r.ok for r in runs) else 1


def _threshold(text: str) -> float:
    """``--threshold``: a finite number in (0, 4] (:func:`facelib.face_database.check_threshold`)."""
    from facelib.face_database import check_threshold

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

    f = sub.add_parser("fetch", help="download/verify weights and data into FACELIB_HOME")
    f.add_argument("names", nargs="*", help="asset names (see `facelib doctor`)")
    f.add_argument("--all", action="store_true", help="every registered asset")
    f.set_defaults(func=_cmd_fetch)

    d = sub.add_parser("doctor", help="versions, devices, precision policy and asset status")
    d.set_defaults(func=_cmd_doctor)

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

    e = sub.add_parser("enroll", help="add photos of NAME to the face database DB (created if missing)",
                       epilog=_NAME_HELP)
    e.add_argument("db")
    e.add_argument("name", help=_NAME_HELP)
    e.add_argument("images", nargs="+")
    e.add_argument("--encoder", choices=("facenet", "dlib", "facenet+dlib"), default=None,
                   help="encoder pipeline of a new database (stored in DB; default: the course's FaceNet)")
    e.set_defaults(func=_cmd_enroll)

    for name, helptext, func in (("identify", "who is in each photo?", _cmd_identify),
                                 ("verify", "is the person in IMG really NAME?", _cmd_verify)):
        c = sub.add_parser(name, help=helptext)
        c.add_argument("db")
        if name == "verify":
            c.add_argument("name", help=_NAME_HELP)
            c.add_argument("image")
        else:
            c.add_argument("images", nargs="+")
            c.add_argument("--all-faces", action="store_true",
                           help="report every face of each photo (default: the main face; others are noted)")
        c.add_argument("--threshold", type=_threshold, default=None,
                       help="distance threshold, a number in (0, 4] (default: the database's calibrated one, else 0.7)")
        c.add_argument("--json", action="store_true", help="machine-readable output")
        c.set_defaults(func=func)

    k = sub.add_parser("classroom", help="execute every lesson headless into HTML, with a summary table")
    k.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/NN_*.ipynb)")
    k.add_argument("--out", default="build/html", help="output folder (default build/html)")
    k.add_argument("--fast", action="store_true", help="fast mode (FACELIB_FAST=1) instead of full")
    k.set_defaults(func=_cmd_classroom)
    return p


def _error_line(exc: BaseException, subject: str | None = None) -> str:
    """One line saying what went wrong, naming the file (``subject``: the photo being processed)."""
    about = f"'{subject}': " if subject else ""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, OSError) and exc.filename is not None:
        reason = {IsADirectoryError: "is a directory, not a file", PermissionError: "permission denied",
                  NotADirectoryError: "a part of the path is not a directory",
                  FileExistsError: "is a file, not a directory"}.get(type(exc), (exc.strerror or first).lower())
        return f"'{exc.filename}' {reason}" if type(exc) in (IsADirectoryError, FileExistsError) \
            else f"'{exc.filename}': {reason}"
    if isinstance(exc, (FileNotFoundError, ValueError, TimeoutError)) and first:
        return str(exc).strip()
    if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":
        return (f"{about}out of memory ({type(exc).__name__}: {first or 'no details'}); "
                "try smaller photos or fewer at once")
    return f"{about}{type(exc).__name__}: {first or 'no details'} (run with --debug for the traceback)"


def _show_warnings(command: str, caught: list[warnings.WarningMessage]) -> None:
    """facelib's own warnings as ``facelib CMD: warning: ...`` lines; others as Python shows them."""
    from facelib.face_database import FaceDatabaseWarning

    for w in caught:
        if issubclass(w.category, FaceDatabaseWarning):
            print(f"facelib {command}: warning: {w.message}", file=sys.stderr)
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
        with warnings.catch_warnings(record=True) as caught:
            warnings.filterwarnings("always", category=UserWarning, module=r"facelib\.")
            try:
                return func(args)
            finally:
                _show_warnings(args.command, caught)
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        subject = getattr(args, "image", None) or (args.images[0] if len(getattr(args, "images", [])) == 1 else None)
        print(f"facelib {args.command}: error: {_error_line(exc, subject)}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
