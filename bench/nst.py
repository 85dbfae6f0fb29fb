"""Benchmark of neural style transfer: `facelib.style.stylize` against the course's own loop.

    python bench/nst.py                    # everything (time to quality: the course loop's 500 steps
                                           # at 256 px alone take ~5 min on 2 quiet cores)
    python bench/nst.py --only ttq         # one part: ttq, large, portraits, classroom or steps
    python bench/nst.py --quick            # a smoke test: tiny sizes and step counts, every part

0. Time to quality (the figure users wait for). Under the course's own cost (its layers,
   alpha = 10, beta = 40, [0, 1] inputs, 256 px, the same content, style and start image), the
   course loop (Adam 0.01, float32, from content + noise) runs 500 steps; its final cost J_500 is
   the target. ``stylize``'s best recipe (L-BFGS-B on the float32 gradient, coarse-to-fine from
   128 px, starting from the content image) runs in the same process; the figure is the wall time
   it needs to first reach J_500 over the time the course loop needs for its 500 steps (target
   ≤ 0.05), with the total variation of the image at that moment no higher than the course's.
   The cost-versus-seconds curves of both are drawn to ``build/nst_time_to_quality.png`` (data in
   ``build/nst_time_to_quality.json``, which lesson 07 plots when it exists).
1L. Large images: ``stylize`` at 1024 px (coarse-to-fine 512 → 1024, few steps) and the process's
   peak resident memory.
1P. Portraits keep their face: LFW View 1 portraits (registry ``lfw-view1``) stylised with what
   ``facelib stylize`` does by default for a face photo (the ``portrait`` preset); the share still
   verified as the same person by facelib's FaceNet pipeline (distance to the original photo's
   encoding ≤ τ), and the style cost drop.

1. Step time. The baseline is the course assignment's loop written out here (a VGG19 built with
   the layers up to block5_conv4, the five style layers and block5_conv4 for content, Adam 0.01,
   alpha=10, beta=40, [0, 1] inputs, float32, the train step under ``tf.function``). It runs in
   the same process as ``stylize(preset="course")`` variants (float32; bfloat16 mixed precision;
   bfloat16 + XLA). Each runs the same number of steps from the same start; the step time is the
   median over steps after the first (which includes tracing). Ratios < 1 mean ``stylize`` is
   faster. Final costs of every result are re-evaluated in float32 with the same formulas, so the
   result quality can be compared.
2. The classroom preset on a 256-px photo: wall time of the whole ``stylize`` call (model built,
   traced, coarse-to-fine), the style cost of the content photo and of the result at 256 px
   (same recipe), their ratio, and the image saved as ``build/nst_classroom_256.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tarfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("FACELIB_PROGRESS", "0")

import numpy as np
import tensorflow as tf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import skimage.data  # noqa: E402
from report import record  # noqa: E402

from facelib import assets, data, device  # noqa: E402
from facelib.models.vgg import load_vgg19_weights  # noqa: E402
from facelib.style import PRESETS, evaluate_costs, face_weights, prepare_image, stylize  # noqa: E402

STYLE_LAYERS = [("block1_conv1", 0.2), ("block2_conv1", 0.2), ("block3_conv1", 0.2), ("block4_conv1", 0.2),
                ("block5_conv1", 0.2)]
CONTENT_LAYER = [("block5_conv4", 1)]


# --------------------------------------------------------------------------- the course's loop

def course_loop(content: np.ndarray, style: np.ndarray, G0: np.ndarray, steps: int) -> tuple[np.ndarray, list[float]]:
    """The assignment's recipe, written as the course writes it. Returns (image, per-step times)."""
    h, w = content.shape[1:3]
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(h, w, 3))
    load_vgg19_weights(vgg)
    vgg.trainable = False
    outputs = [vgg.get_layer(name).output for name, _ in STYLE_LAYERS + CONTENT_LAYER]
    vgg_model_outputs = keras.Model([vgg.input], outputs)

    def compute_content_cost(content_output, generated_output):
        a_C, a_G = content_output[-1], generated_output[-1]
        _, n_H, n_W, n_C = a_G.get_shape().as_list()
        a_C_unrolled = tf.reshape(a_C, shape=[1, -1, n_C])
        a_G_unrolled = tf.reshape(a_G, shape=[1, -1, n_C])
        return tf.reduce_sum(tf.square(a_C_unrolled - a_G_unrolled)) / (4.0 * n_H * n_W * n_C)

    def gram_matrix(A):
        return tf.matmul(A, tf.transpose(A))

    def compute_layer_style_cost(a_S, a_G):
        _, n_H, n_W, n_C = a_G.get_shape().as_list()
        a_S = tf.transpose(tf.reshape(a_S, shape=[-1, n_C]))
        a_G = tf.transpose(tf.reshape(a_G, shape=[-1, n_C]))
        GS, GG = gram_matrix(a_S), gram_matrix(a_G)
        return tf.reduce_sum(tf.square(GS - GG)) / (4.0 * n_C**2 * (n_H * n_W) ** 2)

    def compute_style_cost(style_image_output, generated_image_output):
        J_style = 0
        a_S, a_G = style_image_output[:-1], generated_image_output[:-1]
        for i, weight in zip(range(len(a_S)), STYLE_LAYERS):
            J_style += weight[1] * compute_layer_style_cost(a_S[i], a_G[i])
        return J_style

    def total_cost(J_content, J_style, alpha=10, beta=40):
        return alpha * J_content + beta * J_style

    a_C = vgg_model_outputs(tf.constant(content))
    a_S = vgg_model_outputs(tf.constant(style))
    generated_image = tf.Variable(G0)
    optimizer = keras.optimizers.Adam(learning_rate=0.01)

    @tf.function()
    def train_step(generated_image):
        with tf.GradientTape() as tape:
            a_G = vgg_model_outputs(generated_image)
            J_style = compute_style_cost(a_S, a_G)
            J_content = compute_content_cost(a_C, a_G)
            J = total_cost(J_content, J_style, alpha=10, beta=40)
        grad = tape.gradient(J, generated_image)
        optimizer.apply_gradients([(grad, generated_image)])
        generated_image.assign(tf.clip_by_value(generated_image, 0.0, 1.0))
        return J

    times, costs = [], []
    for _ in range(steps):
        t = time.perf_counter()
        costs.append(float(train_step(generated_image)))
        times.append(time.perf_counter() - t)
    course_loop.costs = costs  # type: ignore[attr-defined]  # J before each update, for time-to-quality
    return generated_image.numpy()[0], times


# --------------------------------------------------------------------------- measurements

def step_time(times: list[float]) -> float:
    """Median step time, leaving out the first step (tracing)."""
    return statistics.median(times[1:])


def bench_size(content: np.ndarray, style: np.ndarray, size: int, steps: int, variants: list[tuple[str, dict]]) -> None:
    C = prepare_image(content, size)
    S = prepare_image(style, size, like=C.shape[1:3])
    # the course's start: content + uniform noise in [-0.25, 0.25], clipped; the same for every run
    G0 = np.clip(C + np.random.default_rng(0).uniform(-0.25, 0.25, C.shape), 0, 1).astype(np.float32)
    img_base, times = course_loop(C, S, G0, steps)
    base = step_time(times)
    costs = evaluate_costs(img_base, C[0], S[0], preset="course", precision="float32")
    print(f"\n{size} px ({C.shape[2]}x{C.shape[1]}), {steps} steps from the same noisy content image")
    print(f"  {'run':<34} {'s/step':>7} {'ratio':>6} {'final J':>10} {'J_content':>10} {'J_style':>10}")
    print(f"  {'course loop (float32, baseline)':<34} {base:7.3f} {1.0:6.2f} {costs['total']:10.4g} "
          f"{costs['content']:10.4g} {costs['style']:10.4g}")
    for label, kw in variants:
        # stylize's own "content+noise" start draws the same noise (seed 0) as G0 above
        img, hist = stylize(C[0], S[0], preset="course", size=size, steps=steps, seed=0, **kw)
        t = step_time(list(np.diff([0.0] + hist["time"])))
        c = evaluate_costs(img, C[0], S[0], preset="course", precision="float32")
        print(f"  {label:<34} {t:7.3f} {t / base:6.2f} {c['total']:10.4g} {c['content']:10.4g} {c['style']:10.4g}")
        same_quality = abs(c["total"] - costs["total"]) <= 0.02 * costs["total"]
        scored = size >= 256 and "(default)" in label  # the target is for what stylize does by default
        target = "≤ 0.8, same final J (±2 %)" if scored else "info"
        record("nst", f"step time {size} px, {label} / course loop (J {c['total']:.4g} vs {costs['total']:.4g})",
               target, t / base, ok=(t / base <= 0.8 and same_quality) if scored else None, ratio=t / base)
        sys.stdout.flush()


def bench_classroom(content: np.ndarray, style: np.ndarray, out: Path) -> None:
    t = time.perf_counter()
    img, hist = stylize(content, style, preset="classroom", size=256)
    took = time.perf_counter() - t
    start = evaluate_costs(prepare_image(content, 256)[0], content, style, preset="classroom")
    end = evaluate_costs(img, content, style, preset="classroom")
    data.save_image(out, img)
    p = PRESETS["classroom"]
    print(f"\nclassroom preset, 256-px photo ({img.shape[1]}x{img.shape[0]}): {p.coarse_steps} steps at "
          f"{max(16, p.size // 2)} px + {p.steps} at {p.size} px, Adam {p.learning_rate}, caffe inputs, "
          f"content {p.content_layer}, precision auto")
    print(f"  wall time of the stylize call (cold: model build, weights, tracing): {took:.1f} s")
    print(f"  style cost at 256 px: content photo {start['style']:.4g} -> result {end['style']:.4g} "
          f"({start['style'] / end['style']:.0f}x lower); content cost {start['content']:.3g} -> {end['content']:.4g}")
    print(f"  image: {out}")
    record("nst", "classroom preset, 256 px: wall time (cold)", "≤ 60 s", took, unit=" s", ok=took <= 60)
    drop = start["style"] / end["style"]
    record("nst", "classroom preset, 256 px: style cost drop", "≥ 10×", drop, unit="×", ok=drop >= 10)


def time_to_quality(content: np.ndarray, style: np.ndarray, size: int, course_steps: int,
                    recipes: list[dict], out: Path) -> None:
    """Part 0: wall time to the course loop's final cost, course loop and stylize side by side."""
    C = prepare_image(content, size)
    S = prepare_image(style, size, like=C.shape[1:3])
    G0 = np.clip(C + np.random.default_rng(0).uniform(-0.25, 0.25, C.shape), 0, 1).astype(np.float32)
    print(f"\ntime to quality at {size} px: the course loop, {course_steps} Adam steps (float32) ...", flush=True)
    img_base, times = course_loop(C, S, G0, course_steps)
    course_costs = list(course_loop.costs)  # type: ignore[attr-defined]
    course_t = list(np.cumsum(times))
    final = evaluate_costs(img_base, C[0], S[0], preset="course", precision="float32")
    target = final["total"]
    print(f"  course loop: {course_t[-1]:.1f} s, J_{course_steps} = {target:.5g} (TV {final['tv']:.4f})", flush=True)

    runs = []
    for recipe in recipes:
        seen: dict = {"near": []}

        # A bfloat16 run's own cost is approximate: images within 5 % of the target are kept and the
        # first whose float32 course cost reaches it (checked after the run, outside the timing) counts.
        def watch(step: int, image: np.ndarray, costs: dict, seen: dict = seen) -> None:
            if image.shape[:2] == C.shape[1:3] and costs["total"] <= 1.05 * target and len(seen["near"]) < 200:
                seen["near"].append((time.perf_counter() - seen["start"], step, image.copy()))

        seen["start"] = time.perf_counter()
        img, hist = stylize(C[0], S[0], "course", size=size, callback=watch, callback_every=1, **recipe)
        # history times count from stylize's own start (after the model is built, as the course loop's)
        offset = time.perf_counter() - seen["start"] - hist["seconds"][0]
        for t, step, image in seen["near"]:
            check = evaluate_costs(image, C[0], S[0], preset="course", precision="float32")
            if check["total"] <= target:
                seen["time"], seen["step"], seen["tv"] = t, step, check["tv"]
                break
        label = ", ".join(f"{k}={v}" for k, v in recipe.items())
        full = [i for i, side in enumerate(hist["size"]) if side == size]
        if "time" not in seen:
            best = min(hist["total"][i] for i in full)
            print(f"  stylize ({label}): did not reach J_{course_steps} (best {best:.5g}) in "
                  f"{hist['seconds'][0]:.1f} s", flush=True)
            ratio, tv = float("inf"), float("nan")
        else:
            reached, tv = seen["time"] - offset, seen["tv"]
            ratio = reached / course_t[-1]
            print(f"  stylize ({label}): reached J_{course_steps} after {reached:.1f} s (evaluation {seen['step']}; "
                  f"ratio {ratio:.3f}), TV {tv:.4f} vs the course's {final['tv']:.4f}", flush=True)
        runs.append({"recipe": recipe, "label": label, "ratio": ratio, "tv": tv, "hist": hist, "full": full})
    # the figure is stylize's best recipe among those tried (the others are recorded as info rows)
    best_run = min(runs, key=lambda run: (run["ratio"], run["tv"]))
    ratio, tv = best_run["ratio"], best_run["tv"]
    ok = ratio <= 0.05 and tv <= final["tv"]
    record("nst", f"time to quality {size} px: stylize (L-BFGS, {best_run['label']}) / course "
           f"loop's {course_steps} steps, TV {tv:.4f} vs {final['tv']:.4f}", "≤ 0.05, TV no higher", ratio, ok=ok,
           ratio=ratio)
    for run in (r for r in runs if r is not best_run):
        record("nst", f"time to quality {size} px, variant {run['label']}", "info", run["ratio"], ratio=run["ratio"])
    out.parent.mkdir(parents=True, exist_ok=True)
    curves = {"size": size, "target": target, "course_tv": final["tv"],
              "course": {"seconds": course_t, "cost": course_costs},
              "stylize": [{"seconds": run["hist"]["time"], "cost": run["hist"]["total"], "size": run["hist"]["size"],
                           "recipe": run["recipe"], "ratio": run["ratio"], "tv": run["tv"]} for run in runs]}
    out.with_suffix(".json").write_text(json.dumps(curves))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(course_t, course_costs, label="course loop (Adam 0.01)")
    for run in runs:
        h, full = run["hist"], run["full"]
        ax.plot([h["time"][i] for i in full], np.minimum.accumulate([h["total"][i] for i in full]),
                label=f"stylize L-BFGS, init {run['recipe']['init']}, coarse {run['recipe']['coarse_steps']}")
    ax.axhline(target, color="grey", ls=":", label=f"J after {course_steps} course steps")
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel("seconds")
    ax.set_ylabel("J (course cost)")
    ax.legend(fontsize=8)
    ax.set_title(f"time to quality at {size} px: ratio {ratio:.3f}")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    print(f"  curves: {out}", flush=True)


def bench_large(content: np.ndarray, style: np.ndarray, size: int, steps: int) -> None:
    """Part 1L: a large output through coarse-to-fine, with the process's peak memory."""
    t = time.perf_counter()
    img, hist = stylize(content, style, "classroom", size=size, steps=steps, coarse_steps=0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
    levels = sorted(set(hist["size"]))
    print(f"\nlarge image: {img.shape[1]}x{img.shape[0]} through levels {levels} in {time.perf_counter() - t:.0f} s; "
          f"peak resident memory of this process {peak:.2f} GiB")
    record("nst", f"{size} px through coarse-to-fine ({' -> '.join(map(str, levels))}): peak memory", "info", peak,
           unit=" GiB")


def _lfw_portraits(n: int) -> list[Path]:
    """The first photo of the first ``n`` people of LFW View 1 (extracted into FACELIB_HOME once)."""
    from facelib import config

    root = config.settings.home / "lfw_view1"
    if not (root / "lfw").is_dir():
        with tarfile.open(assets.fetch("lfw-view1")) as tar:
            tar.extractall(config.settings.home, filter="data")
    people = sorted(p for p in (root / "lfw").iterdir() if p.is_dir())
    return [sorted(p.glob("*.jpg"))[0] for p in people[:n]]


def bench_portraits(style: np.ndarray, n: int, steps: int | None, side: int | None = None,
                    coarse_steps: int | None = None) -> None:
    """Part 1P: do stylised portraits keep their face? (what `facelib stylize` does by default for a face)

    Each photo is stylised as ``facelib stylize PHOTO PAINTING`` does (its own size, the ``auto``
    preset: ``portrait`` with :func:`facelib.style.face_weights` when a face is found, else
    ``classroom``); the identity check is facelib's FaceNet pipeline (``encoders.load("facenet")``:
    MTCNN, alignment, standardize, flip) with its calibrated τ. ``side``, ``steps`` and
    ``coarse_steps`` shrink the run for ``--quick`` only.
    """
    from facelib import faces

    encoder = faces.encoders.load("facenet")
    threshold = encoder.threshold
    photos = _lfw_portraits(n)
    kept, drops, found, dists = 0, [], 0, []
    t = time.perf_counter()
    for path in photos:
        photo = data.read_image(path)
        if side is not None:
            photo = data.to_rgb_uint8(prepare_image(photo, side)[0])
        weights = face_weights(photo)                       # the CLI's default for a photo with a face
        preset = "portrait" if weights is not None else "classroom"
        img, _ = stylize(photo, style, preset, size=max(photo.shape[:2]), steps=steps,
                         coarse_steps=coarse_steps, content_weights=weights)
        start = evaluate_costs(prepare_image(photo, max(img.shape[:2]))[0], photo, style, preset=preset)
        end = evaluate_costs(img, photo, style, preset=preset)
        drops.append(start["style"] / end["style"])
        stylised = data.to_rgb_uint8(img)
        e1 = encoder.encode_photos([photo])
        try:
            e2 = encoder.encode_photos([stylised])
        except faces.NoFaceFoundError:  # no face found in the stylised image: identity lost
            print(f"  {path.name}: preset {preset}, LOST (no face found in the stylised image), style cost "
                  f"{drops[-1]:.0f}x lower", flush=True)
            continue
        found += 1
        d = float(np.linalg.norm(e1 - e2))
        dists.append(d)
        kept += d <= threshold
        print(f"  {path.name}: preset {preset}, distance {d:.3f} ({'same' if d <= threshold else 'LOST'}), style cost "
              f"{drops[-1]:.0f}x lower", flush=True)
    share = 100.0 * kept / len(photos)
    print(f"portraits: {kept}/{len(photos)} still verified (FaceNet, τ = {threshold}), face found in {found}; "
          f"distances median {np.median(dists) if dists else float('nan'):.3f}, max "
          f"{max(dists) if dists else float('nan'):.3f}; style-cost drop median {np.median(drops):.0f}x, "
          f"min {min(drops):.0f}x; {time.perf_counter() - t:.0f} s")
    record("nst", f"portraits: stylised LFW View 1 faces still verified ({len(photos)} photos, default for a face, "
           f"FaceNet τ = {threshold})", "≥ 90 %", share, unit=" %", ok=share >= 90)
    record("nst", "portraits: median style cost drop", "≥ 10×", float(np.median(drops)), unit="×",
           ok=float(np.median(drops)) >= 10)


#: stylize's recipes for time to quality (course cost); the best of them is the recorded figure.
#: At 256 px against 500 course steps (a quiet 2-core machine, 2026-12-02, ``--only ttq``):
#: the textured start, L-BFGS in bfloat16 (the hit checked in float32): 16.1 s / 321.5 s = 0.050 and
#: 15.9 s / 350.4 s = 0.046 in two runs, TV 0.167 vs the course's 0.305 (0.057 before the box bounds
#: gave way to a clip in the cost); the colour-matched start with 30 evaluations at 128 px, float32:
#: 0.144 / 0.138 (TV 0.136), 0.282 while L-BFGS's gradient ran eagerly. The ratio sits just under the
#: target: stylize's time repeats, the course loop's varied by 9 % between the two runs.
TTQ_RECIPES = [
    {"optimizer": "lbfgs", "init": "content+texture", "coarse_steps": 0, "steps": 50, "precision": "bfloat16"},
    {"optimizer": "lbfgs", "init": "content+colors", "coarse_steps": 30, "steps": 60, "precision": "float32"},
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke test: tiny sizes and step counts")
    ap.add_argument("--only", choices=["ttq", "large", "portraits", "classroom", "steps"], action="append",
                    help="run only these parts (repeatable)")
    ap.add_argument("--portraits", type=int, default=20, help="number of LFW portraits (default 20)")
    ap.add_argument("--ttq-size", type=int, default=256, help="time to quality: image size (default 256)")
    ap.add_argument("--ttq-steps", type=int, default=500, help="time to quality: course loop steps (default 500)")
    ap.add_argument("--out", default=str(ROOT / "build" / "nst_classroom_256.png"))
    args = ap.parse_args(argv)
    parts = set(args.only or ["ttq", "large", "portraits", "classroom", "steps"])
    info = device.describe()
    print(f"TensorFlow {info.tensorflow}, Keras {info.keras}, {os.cpu_count()} CPU(s), "
          f"AVX-512 BF16: {info.cpu_bf16}, GPUs: {len(info.gpus)}")
    content = skimage.data.astronaut()
    style = data.read_image(assets.fetch("style-starry-night"))
    t0 = time.perf_counter()
    build = Path(args.out).parent
    if "ttq" in parts:
        if args.quick:
            time_to_quality(content, style, 48, 10, [dict(r, coarse_steps=min(2, r["coarse_steps"]), steps=6)
                                                     for r in TTQ_RECIPES], build / "nst_time_to_quality_quick.png")
        else:
            time_to_quality(content, style, args.ttq_size, args.ttq_steps, TTQ_RECIPES,
                            build / "nst_time_to_quality.png")
    if "large" in parts:
        bench_large(content, style, *((64, 1) if args.quick else (1024, 4)))
    if "portraits" in parts:
        if args.quick:  # one small photo, two steps: the pipeline runs, the figures mean nothing
            bench_portraits(style, 1, 2, side=128, coarse_steps=0)
        else:
            bench_portraits(style, args.portraits, None)
    if "classroom" in parts and not args.quick:
        bench_classroom(content, style, Path(args.out))
    if "steps" in parts:
        plan = [(48, 3)] if args.quick else [(128, 10), (256, 8), (400, 6)]
        for size, steps in plan:
            variants = [("stylize course, bfloat16 (default)", {})]
            if not args.quick:
                variants = [("stylize course, float32", {"precision": "float32"})] + variants
            if 128 <= size <= 256:
                variants.append(("stylize course, bfloat16 + XLA", {"jit_compile": True}))
            bench_size(content, style, size, steps, variants)
    print(f"\ntotal bench time {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
