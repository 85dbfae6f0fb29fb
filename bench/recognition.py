"""Recognition quality of the pretrained FaceNet pipeline on the LFW subset (10 people × 10 photos).

    python bench/recognition.py            # ≈ 30–60 s on 2 CPU cores
    python bench/recognition.py --quick    # smoke run: 2 photos per person (figures not comparable)

Pipeline (``facelib.faces.FaceDatabase`` defaults): MTCNN → 5-point similarity alignment
→ FaceNet → unit-norm 128-d encodings. Prints, for the default "course" preprocessing (RGB/255,
whose threshold is the course's 0.7) and for "standardize" (per-image mean/std):

- 1-shot identification: the first photo of each person enrolled, the other 90 photos as queries
  (nearest enrolled person), target ≥ 95 %;
- verification accuracy over all 4950 pairs with the calibrated threshold (the accuracy-maximising
  τ on these pairs, in-sample), target ≥ 99 %; also the same with τ calibrated on the *other* 5
  people (2-fold by person, out-of-sample), the AUC, the EER and the accuracy at the course's τ = 0.7;
- for reference, plain MTCNN box crops (no alignment).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from report import record  # bench/report.py: this script's folder is on sys.path

from facelib import assets, data, faces


def scores(enc: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """All the figures for one set of encodings ``(100, 128)``."""
    d = faces.pairwise_distances(enc)
    i, j, same = faces.all_pairs(labels)
    dd = d[i, j]
    tau, acc = faces.best_threshold(dd, same)
    fpr, tpr, _ = faces.roc_curve(dd, same)
    eer, _ = faces.equal_error_rate(dd, same)
    enrolled = np.array([np.flatnonzero(labels == k)[0] for k in np.unique(labels)])
    queries = np.setdiff1d(np.arange(len(labels)), enrolled)
    pred = labels[enrolled][np.argmin(d[np.ix_(queries, enrolled)], axis=1)]
    # out-of-sample: τ from the pairs of people 0-4, tested on people 5-9, and the other way round
    halves = [np.unique(labels)[:5], np.unique(labels)[5:]]
    correct = total = 0
    for fit, test in ((0, 1), (1, 0)):
        mf, mt = np.isin(labels, halves[fit]), np.isin(labels, halves[test])
        fi, fj, fs = faces.all_pairs(labels[mf])
        t_fit, _ = faces.best_threshold(d[np.ix_(mf, mf)][fi, fj], fs)
        ti, tj, ts = faces.all_pairs(labels[mt])
        correct += int((faces.accepts(d[np.ix_(mt, mt)][ti, tj], t_fit) == ts).sum())
        total += len(ts)
    return {"one_shot": float(np.mean(pred == labels[queries])), "verif": acc, "tau": tau,
            "verif_2fold": correct / total, "auc": faces.auc(fpr, tpr), "eer": eer,
            "acc_07": faces.verification_accuracy(dd, same, 0.7),
            "d_same": float(dd[same].mean()), "d_diff": float(dd[~same].mean())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 photos per person (figures not comparable)")
    args = parser.parse_args()
    start = time.perf_counter()
    lfw = data.load_identity_folder(assets.fetch("lfw-subset") / "lfw")
    keep = np.concatenate([np.flatnonzero(lfw.labels == k)[:2 if args.quick else None] for k in np.unique(lfw.labels)])
    paths, labels = [str(lfw.paths[k]) for k in keep], lfw.labels[keep]
    print(f"LFW subset: {len(paths)} photos of {len(lfw.names)} people, {len(faces.all_pairs(labels)[0])} pairs")
    model = faces.default_model()
    db = faces.FaceDatabase(model)
    t = time.perf_counter()
    aligned = db.faces(paths, progress=False)  # MTCNN + alignment, once for every preprocessing
    t_detect = time.perf_counter() - t
    boxes = faces.detect_and_align(paths, keypoints=False)
    results = {}
    t = time.perf_counter()
    for crop, x in (("aligned", aligned), ("box crop", boxes)):
        for prep in ("course", "standardize"):
            results[crop, prep] = scores(faces.encode_faces(x, model, preprocessing=prep, progress=False), labels)
    t_encode = (time.perf_counter() - t) / 4

    main_ = results["aligned", "course"]
    n_people, n_pairs = len(np.unique(labels)), len(faces.all_pairs(labels)[0])
    rows = [
        (f"1-shot identification ({n_people} enrolled, {len(paths) - n_people} queries)", "≥ 95 %",
         f"{100 * main_['one_shot']:.1f} %",
         main_["one_shot"] >= 0.95),
        (f"verification, {n_pairs} pairs, calibrated τ = {main_['tau']:.3f}", "≥ 99 %", f"{100 * main_['verif']:.2f} %",
         main_["verif"] >= 0.99),
        ("verification, τ calibrated on the other 5 people", "(info)", f"{100 * main_['verif_2fold']:.2f} %", None),
        ("ROC AUC", "(info)", f"{main_['auc']:.4f}", None),
        ("equal error rate", "(info)", f"{100 * main_['eer']:.2f} %", None),
        ("verification at the course's τ = 0.7", "(info)", f"{100 * main_['acc_07']:.2f} %", None),
        ("mean distance same / different person", "(info)", f"{main_['d_same']:.3f} / {main_['d_diff']:.3f}", None),
    ]
    print("\nDefault pipeline: MTCNN + 5-point alignment, preprocessing 'course' (RGB/255)")
    print(f"{'figure':<52} {'target':>8} {'measured':>16}  result")
    for what, target, got, ok in rows:
        print(f"{what:<52} {target:>8} {got:>16}  {'' if ok is None else 'PASS' if ok else 'FAIL'}")
    print("\nAll variants (in-sample τ; '2-fold' = τ from the other 5 people)")
    print(f"{'crop':<9} {'preprocessing':<12} {'1-shot':>7} {'verif':>7} {'τ':>6} {'2-fold':>7} {'AUC':>7} "
          f"{'EER':>6} {'acc@0.7':>8}")
    for (crop, prep), r in results.items():
        print(f"{crop:<9} {prep:<12} {100 * r['one_shot']:6.1f}% {100 * r['verif']:6.2f}% {r['tau']:6.3f} "
              f"{100 * r['verif_2fold']:6.2f}% {r['auc']:7.4f} {100 * r['eer']:5.2f}% {100 * r['acc_07']:7.2f}%")
    print(f"\ndetection + alignment {t_detect:.1f} s for {len(paths)} photos; encoding {t_encode:.1f} s per "
          f"{len(paths)} faces; "
          f"total {time.perf_counter() - start:.0f} s")
    print()
    record("recognition", "LFW subset 1-shot identification (aligned, course preprocessing)", "≥ 95 %",
           100 * main_["one_shot"], unit=" %", ok=main_["one_shot"] >= 0.95)
    record("recognition", f"LFW subset verification, {n_pairs} pairs, calibrated τ", "≥ 99 %",
           100 * main_["verif"], unit=" %", ok=main_["verif"] >= 0.99)
    record("recognition", "LFW subset verification, τ from the other 5 people", "info", 100 * main_["verif_2fold"],
           unit=" %")
    record("recognition", "LFW subset ROC AUC", "info", main_["auc"])
    record("recognition", "LFW subset verification at the course's τ = 0.7", "info", 100 * main_["acc_07"], unit=" %")
    st = results["aligned", "standardize"]
    record("recognition", "same with 'standardize' preprocessing: 1-shot", "info", 100 * st["one_shot"], unit=" %")
    record("recognition", "same with 'standardize' preprocessing: verification, calibrated τ", "info",
           100 * st["verif"], unit=" %")
    ok = main_["one_shot"] >= 0.95 and main_["verif"] >= 0.99
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
