"""Benchmark of the painter (a network trained with the lesson's J) against ``stylize``'s optimisation.

    python bench/paint.py              # train one painter (The Starry Night), then speed, quality, identity
    python bench/paint.py --quick      # a smoke test: tiny training, 2 photos, 2 portraits; figures mean nothing

1. Training: ``style.train_painter("starry-night", retrain=True)`` with the default recipe (128 px,
   batch 2, ``PAINTER_STEPS`` Adam steps on the ImageNet sample's 980 training photos), wall time of
   the whole call (photos read, VGG19 built, tracing, checkpoints). Target ≤ 15 min on 2 cores. The
   painter lands in the user's cache, where the CLI, lesson 07 and the live door find it. ``--reuse``
   measures the painter already in the cache instead (``facelib paint train starry-night``), with the
   training loop's time its sidecar recorded.
2. Speed: one forward pass at 256×256, batch 1, median of 30 after 3 warm-up calls → frames/s
   (target ≥ 15); ``stylize(photo, "starry-night", "classroom")`` on the same photo in the same run
   (whole call, median of the photos of part 3) over the painter's time per image (target ≥ 1,000×).
3. Quality on photos never trained on (the 20 held-out ImageNet photos of ``style.imagenet_split``
   plus LFW portraits): J_style and J_content of the painted image and of ``stylize``'s classroom
   result, both measured with ``style.evaluate_costs`` under the classroom recipe at 256 px; the
   figures are the medians of painter / optimised (targets ≤ 3× and ≤ 2×).
4. Identity: LFW View 1 portraits painted at their own size; kept when facelib's FaceNet pipeline
   (``encoders.load("facenet")``, calibrated τ) puts the painted face within τ of the photo (target ≥ 90 %).
   A gallery (photo, stylize, painter) is written to ``build/paint_gallery.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tarfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("FACELIB_PROGRESS", "0")

import numpy as np
from report import record

from facelib import assets, config, data, style

ROOT = Path(__file__).resolve().parent.parent
STYLE = "starry-night"


def _lfw_view1(n: int) -> list[Path]:
    """The first photo of the first ``n`` people of LFW View 1 (extracted into FACELIB_HOME once)."""
    root = config.settings.home / "lfw_view1"
    if not (root / "lfw").is_dir():
        with tarfile.open(assets.fetch("lfw-view1")) as tar:
            tar.extractall(config.settings.home, filter="data")
    people = sorted(p for p in (root / "lfw").iterdir() if p.is_dir())
    return [sorted(p.glob("*.jpg"))[0] for p in people[:n]]


def bench_training(quick: bool, steps: int | None, reuse: bool) -> tuple[style.Painter, float]:
    if reuse:  # the painter in the cache (e.g. from `facelib paint train starry-night`): its own recorded time
        painter = style.load_painter(STYLE)
        secs = float(painter.info["seconds"])
        print(f"reusing {painter}: trained in {secs:.0f} s (the training loop, as its sidecar recorded)")
        record("paint", f"painter training s (one style, {painter.info['steps_done']} steps at "
               f"{painter.info['recipe']['size']} px, batch {painter.info['recipe']['batch_size']}, 2 cores, "
               "the loop's time recorded when it was trained)", "≤ 900 s", secs, unit=" s", ok=secs <= 900)
        return painter, secs
    kw = {"steps": 3, "size": 32, "photos": data.load_imagenet_sample(8).images, "cache": False} if quick else {}
    if steps is not None:
        kw["steps"] = steps
    t = time.perf_counter()
    painter = style.train_painter(STYLE, retrain=True, progress=False, **kw)
    secs = time.perf_counter() - t
    h = painter.history
    print(f"trained {painter}: {secs:.0f} s ({painter.info['seconds']:.0f} s in the loop); J {h['total'][0]:.4g} → "
          f"{np.mean(h['total'][-20:]):.4g} (mean of the last 20 steps)", flush=True)
    record("paint", f"painter training s (one style, {painter.info['steps_done']} steps at "
           f"{painter.info['recipe']['size']} px, batch {painter.info['recipe']['batch_size']}, 2 cores)",
           "≤ 900 s", secs, unit=" s", ok=secs <= 900)
    return painter, secs


def bench_speed(painter: style.Painter, side: int) -> float:
    x = np.random.default_rng(0).integers(0, 256, (1, side, side, 3), dtype=np.uint8)
    for _ in range(3):
        painter(x)
    times = []
    for _ in range(30):
        t = time.perf_counter()
        painter(x)
        times.append(time.perf_counter() - t)
    per = float(np.median(times))
    record("paint", f"painter frames/s at {side}x{side} (batch 1, after warm-up, median of 30)", "≥ 15",
           1.0 / per, ok=1.0 / per >= 15)
    return per


def bench_quality(painter: style.Painter, photos: list[np.ndarray], side: int, steps: int | None,
                  per_image: float) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    painting = data.read_image(assets.fetch(f"style-{STYLE}"))
    rs, rc, secs, shown = [], [], [], []
    for i, photo in enumerate(photos):
        C = style.prepare_image(photo, side)[0]
        t = time.perf_counter()
        opt, _ = style.stylize(C, painting, "classroom", size=side, steps=steps, coarse_steps=None if steps is None
                               else 1)
        secs.append(time.perf_counter() - t)
        painted = painter(C)
        c_opt = style.evaluate_costs(opt, C, painting, preset="classroom")
        c_net = style.evaluate_costs(painted, C, painting, preset="classroom")
        rs.append(c_net["style"] / c_opt["style"])
        rc.append(c_net["content"] / c_opt["content"])
        print(f"  photo {i}: stylize {secs[-1]:.1f} s; J_style {c_opt['style']:.4g} vs painter {c_net['style']:.4g} "
              f"({rs[-1]:.2f}x); J_content {c_opt['content']:.4g} vs {c_net['content']:.4g} ({rc[-1]:.2f}x)",
              flush=True)
        if len(shown) < 4 and i % max(1, len(photos) // 4) == 0:
            shown.append((C, opt, painted))
    ratio = float(np.median(secs)) / per_image
    record("paint", "painter speed-up per image vs stylize classroom (same photos, same run)", "≥ 1000×", ratio,
           unit="×", ok=ratio >= 1000)
    record("paint", f"painter J_style ratio (painter / stylize classroom, median of {len(photos)} held-out photos)",
           "≤ 3", float(np.median(rs)), ok=float(np.median(rs)) <= 3)
    record("paint", f"painter J_content ratio (painter / stylize classroom, median of {len(photos)} held-out photos)",
           "≤ 2", float(np.median(rc)), ok=float(np.median(rc)) <= 2)
    print(f"J_style ratio: median {np.median(rs):.2f}, max {max(rs):.2f}; J_content ratio: median "
          f"{np.median(rc):.2f}, max {max(rc):.2f}", flush=True)
    return shown


def bench_identity(painter: style.Painter, n: int) -> None:
    from facelib import faces

    encoder = faces.encoders.load("facenet")
    paths = _lfw_view1(n)
    kept, dists = 0, []
    for path in paths:
        photo = data.read_image(path)
        painted = data.to_rgb_uint8(painter(photo))
        try:
            e1, e2 = encoder.encode_photos([photo]), encoder.encode_photos([painted])
        except faces.NoFaceFoundError:
            print(f"  {path.name}: no face found (lost)")
            continue
        dists.append(float(np.linalg.norm(e1 - e2)))
        kept += dists[-1] <= encoder.threshold
    share = 100.0 * kept / len(paths)
    print(f"identity: {kept}/{len(paths)} kept (τ = {encoder.threshold}); distance median "
          f"{np.median(dists) if dists else float('nan'):.3f}, max {max(dists) if dists else float('nan'):.3f}")
    record("paint", f"painter identity kept (LFW View 1 portraits painted, {len(paths)} people, FaceNet "
           f"τ = {encoder.threshold})", "≥ 90 %", share, unit=" %", ok=share >= 90)


def save_gallery(shown: list[tuple[np.ndarray, np.ndarray, np.ndarray]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(shown), 3, figsize=(9, 3 * len(shown)), squeeze=False)
    for row, images in zip(axes, shown):
        for ax, img, title in zip(row, images, ("photo (held out)", "stylize classroom", "painter")):
            ax.imshow(np.clip(img, 0, 1))
            ax.set_title(title)
            ax.set_axis_off()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke test: tiny sizes and step counts")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: the recipe's)")
    ap.add_argument("--reuse", action="store_true",
                    help="measure the painter already in the cache instead of training one (its recorded time)")
    ap.add_argument("--photos", type=int, default=20, help="held-out ImageNet photos for quality (default 20)")
    ap.add_argument("--portraits", type=int, default=5, help="LFW portraits among the quality photos (default 5)")
    ap.add_argument("--identity", type=int, default=100, help="LFW View 1 people for identity (default 100)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    painter, _ = bench_training(args.quick, args.steps, args.reuse and not args.quick)
    side = 64 if args.quick else 256
    per_image = bench_speed(painter, side)
    held = list(style.imagenet_split()[1][:1 if args.quick else args.photos])
    portraits = [data.read_image(p) for p in _lfw_view1(1 if args.quick else args.portraits)]
    shown = bench_quality(painter, held + portraits, side, 2 if args.quick else None, per_image)
    if not args.quick:
        save_gallery(shown, ROOT / "build" / "paint_gallery.png")
    bench_identity(painter, 2 if args.quick else args.identity)
    print(f"\ntotal bench time {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
