"""``facelib paint``: train a painter once, then paint photos in one forward pass.

    facelib paint train STYLE [--steps N] [--size S] [--photos DIR]   train (or resume) the painter of STYLE
    facelib paint PHOTO -o OUT --style NAME            paint PHOTO with the trained painter of NAME

``paint train`` shows a progress bar, writes a checkpoint every 50 steps and when interrupted
(Ctrl-C keeps the last finished step), and resumes from it when run again. ``paint PHOTO`` never
trains: without a painter for the style it says how to train one (exit 2). ``facelib stylize`` is the
optimisation of the lesson, one photo at a time. Arguments are checked before TensorFlow is imported.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

_USAGE = "facelib paint train STYLE | facelib paint PHOTO -o OUT --style NAME"


def add_paint(sub: Any) -> None:
    """``facelib paint ...``: one sub-command whose first word is ``train`` or a photo."""
    p = sub.add_parser("paint", help="paint photos with a trained network (train one first: paint train STYLE)",
                       description=__doc__.split("\n\n")[0] + " Usage: " + _USAGE)
    p.add_argument("target", metavar="PHOTO|train", help="a photo to paint, or `train`")
    p.add_argument("style_name", nargs="?", metavar="STYLE", help="with `train`: the painting (name or image file)")
    p.add_argument("-o", "--output", default=None, help="the painted image (.png, .jpg, ...)")
    p.add_argument("--style", default=None, help="the painting whose trained painter paints PHOTO")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the recipe's)")
    p.add_argument("--size", type=int, default=None, help="training side in pixels, a multiple of 4 (default 128)")
    p.add_argument("--photos", default=None, metavar="DIR",
                   help="train on the photos in DIR (default: the ImageNet sample's 980 training photos)")
    p.set_defaults(func=cmd_paint)


def _check_style(name: str) -> None:
    from facelib import assets

    paintings = [a.name[len("style-"):] for a in assets.list_assets() if a.name.startswith("style-")]
    short = name.removeprefix("style-")
    if not Path(name).is_file() and short not in paintings:
        raise FileNotFoundError(f"style {name!r} is neither an image file nor a painting of the registry "
                                f"({', '.join(paintings)})")


def _check_train(args: argparse.Namespace) -> None:
    if not args.style_name:
        raise ValueError(f"name the painting to train: {_USAGE}")
    if args.output or args.style:
        raise ValueError("`paint train STYLE` takes no -o/--style; paint a photo with `facelib paint PHOTO -o OUT "
                         "--style NAME`")
    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps {args.steps}: must be a positive integer")
    if args.size is not None and (args.size < 16 or args.size % 4):
        raise ValueError(f"--size {args.size}: must be a multiple of 4, at least 16")
    _check_style(args.style_name)
    if args.photos is not None and not Path(args.photos).is_dir():
        raise FileNotFoundError(f"--photos {args.photos}: not a folder of photos")


def _check_paint(args: argparse.Namespace) -> None:
    from facelib.cli.stylize import _check_output

    if args.style_name:
        raise ValueError(f"unexpected argument {args.style_name!r}: {_USAGE}")
    if not args.style:
        raise ValueError(f"--style NAME is required to paint a photo: {_USAGE}")
    if args.output is None:
        raise ValueError(f"-o OUT is required to paint a photo: {_USAGE}")
    if not Path(args.target).is_file():
        raise FileNotFoundError(f"image file {args.target} does not exist"
                                + (" (or is a folder)" if Path(args.target).exists() else ""))
    _check_output(Path(args.output))
    _check_style(args.style)


def cmd_paint(args: argparse.Namespace) -> int:
    """Run ``facelib paint``; returns the exit code (errors are raised and printed by :func:`facelib.cli.main`)."""
    if args.target == "train":
        _check_train(args)
        return _train(args)
    _check_paint(args)
    from facelib import style
    from facelib.data import images

    photo = images.read_image(args.target)
    painter = style.load_painter(args.style)
    out = images.save_image(args.output, painter(photo))
    print(f"wrote {out} ({photo.shape[1]}x{photo.shape[0]}) with {painter}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from facelib import style

    kw: dict[str, Any] = {k: v for k, v in (("steps", args.steps), ("size", args.size)) if v is not None}
    if args.photos is not None:
        from facelib.data.images import IMAGE_SUFFIXES

        kw["photos"] = sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not kw["photos"]:
            raise FileNotFoundError(f"--photos {args.photos}: no images ({', '.join(IMAGE_SUFFIXES)}) in the folder")
    try:
        painter = style.train_painter(args.style_name, progress=True, **kw)
    except KeyboardInterrupt:
        print("interrupted: the last checkpoint is kept; run the same command again to resume", file=sys.stderr)
        return 130
    h = painter.history
    print(f"painter for {painter.style}: {painter.info['steps_done']} steps, {painter.info['seconds']:.0f} s of "
          f"training; J {h['total'][0]:.4g} -> {h['total'][-1]:.4g}; saved at {painter.path}")
    return 0
