"""FaceNet encoding throughput on this machine: batches of 32 and one image at a time.

    python bench/encode.py            # ≈ 1–3 minutes on 2 CPU cores
    python bench/encode.py --quick    # smoke run: batches of 4, one repetition (figures not comparable)

Measures what the API does, each after a warm-up:

- batch 32, ``facelib.faces.encode_faces`` (a ``tf.function`` over ``model(x, training=False)``),
  float32 and — where the CPU has AVX-512 BF16/AMX — a ``mixed_bfloat16`` model
  (``facenet(policy="mixed_bfloat16")``); targets ≥ 60 images/s (best available precision);
- batch 32 through ``model.predict`` (Keras' own loop) for comparison;
- one image at a time (the interactive case): ``img_to_encoding`` (the course's function: resize,
  /255, compiled forward pass), target ≥ 25 images/s; and ``model.predict`` on one image, which
  is what a naive loop does;
- for information, ``FaceDatabase.identify`` of one photo: MTCNN + alignment + encoding.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from report import record  # bench/report.py: this script's folder is on sys.path

from facelib import assets, device
from facelib.data import read_image
from facelib.faces import FaceDatabase, course_image, default_model, encode_faces, img_to_encoding
from facelib.models import facenet
from facelib.models.facenet_input import preprocess


def rate(fn, n_images: int, repeats: int) -> float:
    """Images per second of ``fn()`` (which handles ``n_images``), best of ``repeats`` after one warm-up."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n_images / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: batches of 4, one repetition")
    args = parser.parse_args()
    reps = 1 if args.quick else 5
    n = 4 if args.quick else 32  # images per batch
    info = device.describe()
    print(f"{info.summary()}; {os.cpu_count()} CPU cores visible")
    paths = sorted((assets.fetch("lfw-subset") / "lfw").glob("*/*.jpg"))
    faces = np.stack([course_image(p) for p in paths[:2 * n]])  # (2n, 160, 160, 3) uint8
    batch = faces[:n]
    f32 = default_model()

    rows = []  # (figure, target, measured, ok)
    r32 = rate(lambda: encode_faces(batch, f32, progress=False), n, reps)
    rows.append((f"batch {n}, float32, encode_faces (tf.function)", "(info)", r32, None))
    rbf = None
    if info.cpu_bf16 or info.gpus:
        bf = facenet(policy="mixed_bfloat16")
        rbf = rate(lambda: encode_faces(batch, bf, progress=False), n, reps)
        rows.append((f"batch {n}, mixed_bfloat16, encode_faces (tf.function)", "(info)", rbf, None))
        a = encode_faces(faces[:8], f32, progress=False)
        b = encode_faces(faces[:8], bf, progress=False)
        print(f"bfloat16 vs float32 encodings: largest distance {np.max(np.linalg.norm(a - b, axis=1)):.4f}")
    best = max(r32, rbf or 0.0)
    precision = "bfloat16" if rbf and rbf > r32 else "float32"
    rows.append((f"batch {n}, best precision ({precision})", "≥ 60 img/s", best, best >= 60))
    x32 = preprocess(batch, "course")
    rows.append((f"batch {n}, float32, model.predict", "(info)",
                 rate(lambda: f32.predict(x32, batch_size=n, verbose=0), n, reps), None))

    n_single = 2 if args.quick else 40
    singles = [faces[i] for i in range(n_single)]
    r1 = rate(lambda: [img_to_encoding(im, f32) for im in singles], n_single, max(3, reps))
    rows.append(("one image at a time, img_to_encoding (float32)", "≥ 25 img/s", r1, r1 >= 25))
    few = singles[:8]
    rows.append(("one image at a time, model.predict (naive loop)", "(info)",
                 rate(lambda: [f32.predict(preprocess(im[None]), verbose=0) for im in few], len(few), 1), None))
    db = FaceDatabase(f32)
    db.add("someone", [paths[0]], progress=False)
    photos = [read_image(p) for p in paths[10:12 if args.quick else 18]]
    rows.append(("one photo at a time, FaceDatabase.identify (MTCNN + align + encode)", "(info)",
                 rate(lambda: [db.identify(p) for p in photos], len(photos), 1), None))

    print(f"\n{'figure':<70} {'target':>11} {'measured':>14}  result")
    for what, target, got, ok in rows:
        print(f"{what:<70} {target:>11} {got:>9.1f} img/s  {'' if ok is None else 'PASS' if ok else 'FAIL'}")
    print()
    for what, target, got, ok in rows:
        record("encode", f"FaceNet {what}", target.strip("()"), got, unit=" img/s", ok=ok)
    return 0 if args.quick or all(ok is not False for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
