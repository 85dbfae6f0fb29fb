"""The ``facelib`` commands besides ``stylize``: fetch, doctor, enroll, identify, verify, classroom.

Each ``_cmd_NAME(args)`` returns the exit code (:mod:`facelib.cli` documents them); TensorFlow and the
face models are imported inside the commands that need them, so ``facelib --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import traceback
import unicodedata
from pathlib import Path
from typing import Any


def _cmd_fetch(args: argparse.Namespace) -> int:
    from facelib import assets, config, registry

    if args.to:
        _to_store(Path(args.to))
    if args.all:
        chosen = registry.list_assets()
    elif args.names:
        chosen = [registry.get_asset(name) for name in args.names]
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
    if args.to and not failed:
        _prepare_store(config.settings.home)
    return 2 if failed else 0


def _to_store(folder: Path) -> None:
    """``fetch --to DIR``: fetch into ``DIR`` as if it were ``FACELIB_HOME``, with no other store in the way."""
    import os

    from facelib import config

    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"--to {folder}: not a folder")
    os.environ["FACELIB_HOME"] = str(folder.resolve())
    os.environ.pop("FACELIB_ASSETS", None)
    config.reload()


def _prepare_store(store: Path) -> None:
    """Extract the archives where the lessons look for them, then make the store world-readable."""
    import os

    from facelib import assets, data

    for name, prepare in (("lfw-view1", lambda: data.lfw_pairs(1)),
                          (data.IMAGENET_SAMPLE_ASSET, lambda: data.load_imagenet_sample(1))):
        if assets.asset_status(name) == "verified":
            prepare()
            print(f"{name}: extracted in {store}")
    for root, dirs, files in os.walk(store):
        for name in dirs + files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | (0o555 if name in dirs else 0o444))
    os.chmod(store, os.stat(store).st_mode | 0o555)
    print(f"shared store ready: {store} (read-only for the users: set FACELIB_ASSETS={store} "
          "and give each user a FACELIB_HOME of their own)")


def _cmd_doctor(args: argparse.Namespace) -> int:
    import os

    from facelib import assets, config, device, registry

    info = device.describe()
    s = config.settings
    print(f"TensorFlow {info.tensorflow}, Keras {info.keras}")
    print(f"devices: {', '.join(info.gpus) or 'CPU only'}; CPU bfloat16: {'yes' if info.cpu_bf16 else 'no'}")
    print(f"mixed-precision policy: {info.policy}")
    print(f"shared store (FACELIB_ASSETS): {s.store if s.store else 'not set'}"
          + ("" if s.store is None or s.store.is_dir() else " (missing!)")
          + ("" if s.store is None or not os.access(s.store, os.W_OK) else " (writable by you: only the admin)"))
    print(f"cache (FACELIB_HOME): {s.home}" + ("" if _writable(s.home) else " (not writable: no caches)"))
    print(f"CPU threads (FACELIB_THREADS / OMP_NUM_THREADS): {s.threads or 'all cores'}")
    print(f"mirror (FACELIB_MIRROR): {s.mirror if s.mirror else 'not set'}"
          + ("" if s.mirror is None or s.mirror.is_dir() else " (missing!)"))
    print(f"fast mode: {s.fast}; offline: {s.offline}")
    print("assets:")
    for asset, status in assets.iter_status():
        note = " (optional)" if asset.optional and status != "verified" else ""
        where = " (shared store)" if status == "verified" and assets.store_path(asset.name) else ""
        print(f"  {asset.name:<26} {asset.kind:<8} {status}{where}{note}")
    paintings = [a for a in registry.list_assets() if a.name.startswith("style-")]
    if paintings:
        print("paintings (facelib stylize PHOTO NAME, or --style NAME:WEIGHT):")
        for asset in paintings:
            print(f"  {asset.name[len('style-'):]:<26} {assets.store_path(asset.name) or asset.local_path()}")
    return 0


def _writable(folder: Path) -> bool:
    """True when ``folder`` (or its nearest existing parent) can be written by this user."""
    import os

    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK)


def _safe(text: object, *, lines: bool = False) -> str:
    """``text`` for a terminal: every control or format character (escape sequences, carriage returns,
    bidi overrides, NUL...) written as a visible ``\\xNN``/``\\uNNNN`` escape, so nothing a name or a file
    name holds can move the cursor, set the title, clear the screen or forge another line (``lines``: keep
    the text's own line breaks)."""
    return "".join(c if (lines and c == "\n") or unicodedata.category(c) not in _UNSAFE else ascii(c)[1:-1]
                   for c in str(text))


_UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _open_db(path: str):
    from facelib.faces.database import FaceDatabase

    return FaceDatabase.load(path)


def _finite(dist: float, image: str) -> float:
    if not math.isfinite(dist):
        raise ValueError(f"'{image}': the distance is not a finite number ({dist}); the encoder returned "
                         "NaN or infinity for this photo")
    return round(float(dist), 4)


def _cmd_enroll(args: argparse.Namespace) -> int:
    from facelib.faces.database import FaceDatabase

    name = args.name.strip()
    options = {} if args.encoder is None else {"encoder": args.encoder}
    if args.encoder is not None and Path(args.db).is_file():
        held = FaceDatabase.load(args.db).encoder_name
        if held != args.encoder:
            raise ValueError(f"'{args.db}' holds encodings of encoder '{held or 'facenet (course pipeline)'}'; "
                             f"--encoder {args.encoder} cannot be mixed into it")
    added, db = FaceDatabase.enroll(args.db, name, args.images, **options)  # safe against simultaneous enrols
    print(_safe(f"enrolled {_plural(added, 'photo', 'photos')} of '{unicodedata.normalize('NFC', name)}'; "
                f"'{args.db}' now holds {_plural(len(db), 'person', 'people')}"))
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
                print(f"facelib identify: error: {_safe(results[-1]['error'])}", file=sys.stderr)
            continue
        if not args.json:
            print(_safe(_identify_text(results[-1]), lines=True))
    if args.json:
        print(json.dumps(results, indent=2, allow_nan=False))
    return 2 if any("error" in r for r in results) else 0


def _cmd_verify(args: argparse.Namespace) -> int:
    name = unicodedata.normalize("NFC", args.name).strip()
    db = _open_db(args.db)
    dist, accepted = db.verify(args.image, name, threshold=args.threshold)
    dist = _finite(dist, args.image)
    if args.json:
        print(json.dumps({"image": args.image, "name": name, "distance": dist, "accepted": bool(accepted)},
                         allow_nan=False))
    else:
        verdict = f"It's {name}, welcome in!" if accepted else f"It's not {name}, please go away"
        print(_safe(f"{verdict} (distance {dist:.3f})"))
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
    if isinstance(exc, OSError) and first:  # our own messages name the file (FACELIB_HOME, a database...)
        return f"{about}{exc.strerror if exc.errno is not None and exc.strerror else first}"
    if isinstance(exc, RecursionError):
        return f"{about}nested too deeply to read (RecursionError)"
    if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":
        return (f"{about}out of memory ({type(exc).__name__}: {first or 'no details'}); "
                "try smaller photos or fewer at once")
    return f"{about}{type(exc).__name__}: {first or 'no details'} (run with --debug for the traceback)"
