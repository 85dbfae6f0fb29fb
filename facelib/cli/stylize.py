"""``facelib stylize CONTENT STYLE -o OUT``: its arguments checked before TensorFlow loads, then the transfer."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

#: ``facelib stylize``'s presets and size cap, known without importing TensorFlow (a test checks
#: that they equal ``facelib.style.PRESETS`` and ``facelib.style.MAX_SIZE``).
STYLIZE_PRESETS = ("auto", "classroom", "portrait", "course", "quality")


STYLIZE_MAX_SIZE = 1024
#: ``facelib.style.MAX_STEPS``, known without importing TensorFlow.
STYLIZE_MAX_STEPS = 10_000


def _parse_style_arg(arg: str) -> tuple[str, float]:
    """``a.jpg`` or ``a.jpg:0.7`` (or a painting name, ``starry-night:0.3``) → ``(style, weight)``."""

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


def _check_output(out: Path) -> None:
    """An output image name: not a folder, a known image suffix, in a folder we can write (``ValueError``)."""
    import os

    from facelib.data.images import IMAGE_SUFFIXES

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


def _check_stylize_args(args: argparse.Namespace) -> list[tuple[str, float]]:
    """Every check that needs no TensorFlow, before anything is loaded or computed."""
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
    if args.steps is not None and args.steps > STYLIZE_MAX_STEPS:
        raise ValueError(f"--steps {args.steps} is above the cap of {STYLIZE_MAX_STEPS:,}")
    _check_painting_side(args.size or 16, args.style_scale)
    out = Path(args.output)
    _check_output(out)
    styles = ([(args.style, 1.0)] if args.style else []) + [_parse_style_arg(a) for a in args.styles or []]
    if not styles:
        raise ValueError("name a style: STYLE, or --style FILE[:WEIGHT] (repeatable), or a painting "
                         "(see `facelib doctor`)")
    if sum(w for _, w in styles) <= 0:
        raise ValueError("the --style weights are all 0")
    from facelib import registry

    paintings = [a.name[len("style-"):] for a in registry.list_assets() if a.name.startswith("style-")]
    for style, _ in styles:
        name = style[len("style-"):] if style.startswith("style-") else style
        if not Path(style).is_file() and name not in paintings:
            raise FileNotFoundError(f"style {style!r} is neither an image file nor a painting of the registry "
                                    f"({', '.join(paintings)})")
    for path in [args.content] + ([args.mask] if args.mask else []):
        if not Path(path).is_file():
            raise FileNotFoundError(f"image file {path} does not exist"
                                    + (" (or is a folder)" if Path(path).exists() else ""))
    _refuse_overwriting_an_input(out, [args.content] + [s for s, _ in styles] + ([args.mask] if args.mask else []))
    return styles


def _refuse_overwriting_an_input(out: Path, inputs: list[str]) -> None:
    """``-o`` must not name one of the input files: the same file by any name (``./``, a symbolic or hard
    link, another letter case on a case-insensitive file system) is refused."""
    import os

    if not out.exists():
        return
    for name in inputs:
        try:
            same = Path(name).is_file() and os.path.samefile(out, name)
        except OSError:
            same = False
        if same or out.resolve() == Path(name).resolve():
            raise ValueError(f"output {out} is the input file {name}: it would be overwritten; "
                             "choose another output name")


def _check_painting_side(size: int, style_scale: float | None) -> None:
    """The painting is ``size * style_scale`` pixels on its longest side: at most the output's cap."""
    if style_scale is not None and not size * style_scale <= STYLIZE_MAX_SIZE:  # `not <=`: NaN and inf too
        raise ValueError(f"--style-scale {style_scale:g} at size {size} makes the painting "
                         f"{size * style_scale:,.0f} px on its longest side, above the cap of {STYLIZE_MAX_SIZE} "
                         "(memory grows with the square of the size); lower --style-scale or --size")


def _cmd_stylize(args: argparse.Namespace) -> int:
    styles = _check_stylize_args(args)
    from facelib import style
    from facelib.data import images

    content = images.read_image(args.content)
    size = args.size
    if size is None:  # the photo's own size, never a silent thumbnail
        size = max(content.shape[:2])
        if size > STYLIZE_MAX_SIZE:
            print(f"note: {args.content} is {content.shape[1]}x{content.shape[0]}; stylising at the cap of "
                  f"{STYLIZE_MAX_SIZE} px on the longest side (pass --size to choose)")
            size = STYLIZE_MAX_SIZE
        size = max(size, 16)
    _check_painting_side(size, args.style_scale)
    resolved = [(style.resolve_style(s), w) for s, w in styles]
    paintings = [(images.read_image(s), w) for s, w in resolved]
    mask = images.read_image(args.mask) if args.mask else None
    preset, weights = args.preset, None
    if preset in ("auto", "portrait"):
        weights = style.face_weights(content)
        if preset == "auto":
            preset = "portrait" if weights is not None else "classroom"
            print(f"preset: {preset} ({'a face was found' if weights is not None else 'no face found'})")
    image, history = style.stylize(content, paintings if len(paintings) > 1 else paintings[0][0], preset=preset,
                                   size=size, steps=args.steps, style_scale=args.style_scale, mask=mask,
                                   content_weights=weights, preserve_color=True if args.preserve_colors else None)
    out = images.save_image(args.output, image)
    costs = history["total"]
    print(f"wrote {out} ({image.shape[1]}x{image.shape[0]}); total cost {costs[0]:.4g} -> {costs[-1]:.4g}")
    return 0
