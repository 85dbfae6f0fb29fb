"""1D and 3D convolutions on real data: the targets of lessons 08 and 09.

    python bench/conv.py            # full sizes, ≈ 3–5 minutes on 2 CPU cores
    python bench/conv.py --quick    # smoke run: tiny data, one epoch (figures not comparable)

Everything is seeded (seed 0), trained from scratch in this run, and measured on held-out data:

1. ECG beat detection (``facelib.conv.signals``): the Conv1D detector trained on the first 80 % of
   MIT-BIH record 100, slid over the last 20 % (6 min, 458 beats); a found beat is correct within
   ±50 ms of an annotation (one-to-one). Target F1 ≥ 0.98. Precision and recall are printed too.
2. Brain tissue (``facelib.conv.volumes``): 7×7×7 patches of the MNI152 T1 with scan noise σ = 0.15,
   label = tissue at the centre (other / grey / white), classes balanced; test patches from a
   held-out coronal slab (y in [0.45, 0.65) of the grid). Conv3D target ≥ 90 %, and above the
   2D baseline (the same network with Conv2D on the centre slice): ratio 3D / 2D > 1.
   The one-voxel rule (thresholds on the centre voxel) is printed for reference.
3. Spheres vs tubes (``facelib.conv.volumes``): a small sphere or a short tube along the slice axis
   placed into the noisy T1 (9×9×9 patches, held-out slab); both have the same centre slice, so the
   2D centre-slice model sits near chance (target ≤ 60 %) and Conv3D must see the third axis
   (target ≥ 90 %).
4. Video direction (``facelib.conv.volumes``): 8×16×16 clips of a moving square, 4 directions.
   Conv3D target ≥ 95 %, above the frame-wise Conv2D (features averaged over time): ratio > 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from report import record  # bench/report.py: this script's folder is on sys.path

from facelib import conv, device

BENCH = "conv"


def _first_seconds(rec: conv.ECGRecord, seconds: float) -> conv.ECGRecord:
    n = int(seconds * rec.fs)
    beats = rec.beat_samples < n
    windows = (rec.window_centers >= 128) & (rec.window_centers < n - 128)
    return dataclasses.replace(rec, signal=rec.signal[:n], signals=rec.signals[:n],
                               beat_samples=rec.beat_samples[beats], beat_symbols=rec.beat_symbols[beats],
                               windows=rec.windows[windows], window_labels=rec.window_labels[windows],
                               window_centers=rec.window_centers[windows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny data, one epoch")
    args = parser.parse_args()
    q = args.quick
    device.set_seed(0)
    print(device.describe().summary(), f"; {os.cpu_count()} CPU cores visible", flush=True)
    rows = []
    started = time.perf_counter()

    # 1. ECG beat detection on the held-out last 20 % of record 100
    t = time.perf_counter()
    rec = conv.load_mitbih_record()
    if q:  # smoke run: the first 3 minutes of the record
        rec = _first_seconds(rec, 180)
    model, info = conv.train_beat_detector(rec, epochs=1 if q else 8, copies=1 if q else 3, seed=0)
    cut = info["cut"]
    found = conv.detect_beats(rec.signal[cut:], model, rec.fs)
    true = rec.beat_samples[rec.beat_samples >= cut] - cut
    m = conv.match_beats(true, found, rec.fs, tolerance_s=0.05)
    print(f"ECG: {info['n_train']} training windows; held-out {len(true)} beats, found {len(found)} "
          f"(TP {m.tp}, FP {m.fp}, FN {m.fn}); {time.perf_counter() - t:.0f} s", flush=True)
    rows.append(record(BENCH, "ECG beats, held-out 20 %: F1 (±50 ms)", "≥ 0.98", m.f1, ok=m.f1 >= 0.98))
    rows.append(record(BENCH, "ECG beats, held-out 20 %: precision", "", m.precision))
    rows.append(record(BENCH, "ECG beats, held-out 20 %: recall", "", m.recall))

    # 2. Tissue classification on a held-out slab
    t = time.perf_counter()
    brain = conv.load_mni152()  # one copy of the T1 and tissue maps for experiments 2 and 3
    tissue = conv.run_tissue_experiment(brain, n_train_per_class=100 if q else 5000,
                                        n_test_per_class=50 if q else 1000, size=7, noise=0.15,
                                        epochs=1 if q else 8, seed=0)
    print(f"tissue: {tissue['n_train']} training / {tissue['n_test']} held-out patches; "
          f"{time.perf_counter() - t:.0f} s", flush=True)
    a3, a2 = tissue["acc_3d"], tissue["acc_2d"]
    rows.append(record(BENCH, "tissue, held-out slab: Conv3D accuracy", "≥ 90 %", 100 * a3, unit=" %", ok=a3 >= 0.90))
    rows.append(record(BENCH, "tissue: Conv3D vs 2D centre-slice baseline", "ratio > 1", 100 * a3, unit=" %",
                       ratio=a3 / a2, ok=a3 > a2))
    rows.append(record(BENCH, "tissue: 2D centre-slice baseline accuracy", "", 100 * a2, unit=" %"))
    rows.append(record(BENCH, "tissue: one-voxel threshold accuracy", "", 100 * tissue["acc_voxel"], unit=" %"))

    # 3. Spheres vs tubes: only the third axis tells them apart
    t = time.perf_counter()
    shapes = conv.run_shape_experiment(brain, n_train_per_class=150 if q else 2000,
                                       n_test_per_class=100 if q else 500, epochs=1 if q else 6, seed=0)
    print(f"spheres vs tubes: {shapes['n_train']} training / {shapes['n_test']} held-out patches; "
          f"{time.perf_counter() - t:.0f} s", flush=True)
    s3, s2 = shapes["acc_3d"], shapes["acc_2d"]
    rows.append(record(BENCH, "spheres vs tubes: Conv3D accuracy", "≥ 90 %", 100 * s3, unit=" %", ok=s3 >= 0.90))
    rows.append(record(BENCH, "spheres vs tubes: 2D centre slice (chance 50 %)", "≤ 60 %", 100 * s2, unit=" %",
                       ok=s2 <= 0.60))
    rows.append(record(BENCH, "spheres vs tubes: Conv3D vs 2D centre slice", "ratio > 1", 100 * s3, unit=" %",
                       ratio=s3 / s2, ok=s3 > s2))

    # 4. Video direction
    t = time.perf_counter()
    video = conv.run_video_experiment(n_train=64 if q else 2000, n_test=32 if q else 500, epochs=1 if q else 8,
                                      seed=0)
    print(f"video: {time.perf_counter() - t:.0f} s", flush=True)
    v3, v2 = video["acc_3d"], video["acc_2d"]
    rows.append(record(BENCH, "video direction: Conv3D accuracy", "≥ 95 %", 100 * v3, unit=" %", ok=v3 >= 0.95))
    rows.append(record(BENCH, "video: Conv3D vs frame-wise Conv2D", "ratio > 1", 100 * v3, unit=" %",
                       ratio=v3 / v2, ok=v3 > v2))
    rows.append(record(BENCH, "video: frame-wise Conv2D accuracy (chance 25 %)", "", 100 * v2, unit=" %"))

    print(f"\n{'figure':52s} {'target':10s} {'measured':>10s} {'ratio':>7s}  result")
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.3f}"
        result = "" if r["ok"] is None else ("pass" if r["ok"] else "MISS")
        print(f"{r['figure']:52s} {r['target']:10s} {r['measured']:>8.4g}{r['unit'][:2]:2s} {ratio:>7s}  {result}")
    print(f"total {time.perf_counter() - started:.0f} s{' (--quick)' if q else ''}")
    missed = [r for r in rows if r["ok"] is False]
    return 1 if missed and not q else 0


if __name__ == "__main__":
    sys.exit(main())
