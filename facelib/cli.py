"""The ``facelib`` command: fetch assets, check the set-up, style transfer, a face database.

    facelib fetch [NAME ...|--all]        verified weights/data into FACELIB_HOME
    facelib doctor                        versions, devices, precision policy, each asset
    facelib stylize CONTENT STYLE -o OUT  neural style transfer
    facelib enroll DB NAME IMG...         add photos of a person to a face database
    facelib identify DB IMG...            who is it? (nearest enrolled person or unknown)
    facelib verify DB NAME IMG            is this NAME? exit 0 accepted, 1 rejected
    facelib classroom [NOTEBOOK...]       run every lesson headless into build/html

Exit codes: 0 success/accepted, 1 rejected (verify), 2 error (message on stderr).
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

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
            path = assets.fetch(asset.name)
            print(f"{asset.name}: verified at {path}")
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
    return 0


def _cmd_stylize(args: argparse.Namespace) -> int:
    from facelib import data, nst

    content = data.read_image(args.content)
    style = data.read_image(args.style)
    image, history = nst.stylize(content, style, preset=args.preset, size=args.size, steps=args.steps)
    out = data.save_image(args.output, image)
    costs = history["total"]
    print(f"wrote {out} ({image.shape[1]}x{image.shape[0]}); total cost {costs[0]:.4g} -> {costs[-1]:.4g}")
    return 0


def _open_db(path: str, *, must_exist: bool, encoder: str | None = None):
    from pathlib import Path

    from facelib.verification import FaceDatabase

    if Path(path).exists() or must_exist:
        db = FaceDatabase.load(path)
        if encoder is not None and db.encoder_name != encoder:
            raise ValueError(f"{path} holds encodings of encoder {db.encoder_name or 'course (facenet, no --encoder)'}; "
                             f"--encoder {encoder} cannot be mixed into it")
        return db
    return FaceDatabase(encoder=encoder)


def _cmd_enroll(args: argparse.Namespace) -> int:
    db = _open_db(args.db, must_exist=False, encoder=args.encoder)
    added = db.add(args.name, args.images)
    db.save(args.db)
    print(f"enrolled {added} photo(s) of {args.name}; {args.db} now holds {len(db)} people")
    return 0


def _cmd_identify(args: argparse.Namespace) -> int:
    import json

    db = _open_db(args.db, must_exist=True)
    results = []
    for image in args.images:
        dist, identity = db.identify(image, threshold=args.threshold)
        results.append({"image": image, "identity": identity, "distance": round(float(dist), 4)})
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"{r['image']}: {r['identity'] or 'unknown'} (distance {r['distance']:.3f})")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    import json

    db = _open_db(args.db, must_exist=True)
    dist, accepted = db.verify(args.image, args.name, threshold=args.threshold)
    if args.json:
        print(json.dumps({"image": args.image, "name": args.name, "distance": round(float(dist), 4),
                          "accepted": bool(accepted)}))
    else:
        verdict = f"It's {args.name}, welcome in!" if accepted else f"It's not {args.name}, please go away"
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``facelib`` command."""
    p = argparse.ArgumentParser(prog="facelib", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    f = sub.add_parser("fetch", help="download/verify weights and data into FACELIB_HOME")
    f.add_argument("names", nargs="*", help="asset names (see `facelib doctor`)")
    f.add_argument("--all", action="store_true", help="every registered asset")
    f.set_defaults(func=_cmd_fetch)

    d = sub.add_parser("doctor", help="versions, devices, precision policy and asset status")
    d.set_defaults(func=_cmd_doctor)

    s = sub.add_parser("stylize", help="neural style transfer of CONTENT in the style of STYLE")
    s.add_argument("content")
    s.add_argument("style")
    s.add_argument("-o", "--output", required=True, help="output image (PNG/JPEG by suffix)")
    s.add_argument("--preset", default="classroom", help="course | classroom | quality (default classroom)")
    s.add_argument("--size", type=int, default=None, help="longest side in pixels (default: the preset's)")
    s.add_argument("--steps", type=int, default=None, help="optimisation steps (default: the preset's)")
    s.set_defaults(func=_cmd_stylize)

    e = sub.add_parser("enroll", help="add photos of NAME to the face database DB (created if missing)")
    e.add_argument("db")
    e.add_argument("name")
    e.add_argument("images", nargs="+")
    e.add_argument("--encoder", choices=("facenet", "dlib", "facenet+dlib"), default=None,
                   help="encoder pipeline of a new database (stored in DB; default: the course's FaceNet)")
    e.set_defaults(func=_cmd_enroll)

    for name, helptext, func in (("identify", "who is in each photo?", _cmd_identify),
                                 ("verify", "is the person in IMG really NAME?", _cmd_verify)):
        c = sub.add_parser(name, help=helptext)
        c.add_argument("db")
        if name == "verify":
            c.add_argument("name")
            c.add_argument("image")
        else:
            c.add_argument("images", nargs="+")
        c.add_argument("--threshold", type=float, default=None,
                       help="distance threshold (default: the database's calibrated one, else 0.7)")
        c.add_argument("--json", action="store_true", help="machine-readable output")
        c.set_defaults(func=func)

    k = sub.add_parser("classroom", help="execute every lesson headless into HTML, with a summary table")
    k.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/NN_*.ipynb)")
    k.add_argument("--out", default="build/html", help="output folder (default build/html)")
    k.add_argument("--fast", action="store_true", help="fast mode (FACELIB_FAST=1) instead of full")
    k.set_defaults(func=_cmd_classroom)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"facelib {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
