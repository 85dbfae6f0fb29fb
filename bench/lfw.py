"""Face verification on LFW, the field's own benchmark: every encoder × preprocessing, and fused.

    python bench/lfw.py                      # View 1 offline: τ on DevTrain, accuracy on DevTest
    python bench/lfw.py --lfw-home DIR       # + View 2: 6,000 pairs, 10 folds (τ on 9, test on 1)
    python bench/lfw.py --quick              # a smoke run: 40 + 40 pairs, no targets
    python bench/lfw.py --alignment template    # dlib's chips on the mean template (facelib 0.2's default)
    python bench/lfw.py --robustness         # the robustness card (blur, JPEG, dark, mask, rotation) + figure

View 1 rows: ``1`` is τ on DevTrain, accuracy on DevTest (± the standard error); ``1×10`` is a
10-fold cross-validation over all 3,200 View 1 pairs (folds by pair, each balanced, seed 0; τ on
nine folds, accuracy on the tenth; mean ± std over the folds: View 2's protocol, so its ± compares).

Encoders (:func:`facelib.faces.encoders.load`): ``facenet`` with the course's preprocessing (RGB/255)
and with ``standardize`` (prewhiten, what the weights were trained with); ``dlib`` (the Keras port
of dlib's ResNet on 150×150 chips aligned from MTCNN's keypoints, by ``--alignment``: ``shape``,
the default, dlib's own landmarks from its shape predictor; ``template`` or ``landmarks``);
``facenet+dlib`` (both unit encodings side by side, weighted by ``encoders.FUSION_WEIGHTS``).
Each with and without flipped-image averaging ("flip").

For each: accuracy (± the standard error of a proportion on View 1; ± the standard deviation
over the 10 folds on View 2), AUC, TAR at FAR = 0.1 %, τ, photos without a detected face (they get
a centre crop, so no pair is dropped), photos/s end to end (MTCNN + alignment + network(s), a
sample of uncached photos). τ is the equal-error-rate threshold of the training pairs (DevTrain,
or the other nine folds): the rule of lesson 01 and of :meth:`FaceDatabase.calibrate`; on LFW's
balanced pairs it is where the accuracy-maximising threshold lies too.

Targets (issue 13, View 2): FaceNet ≥ 99.3 %, dlib port ≥ 99.38 % (dlib's published figure),
fused ≥ 99.5 %; issue 29, on the View 1 10-fold figure (flip on): dlib ≥ 99.4 %, fused ≥ 99.6 %,
FaceNet no lower than before (99.41 %); View 1 DevTest is reported beside them (no target). Detections and encodings
are cached in ``FACELIB_HOME/cache`` keyed by photo hash: the first full View 1 run detects 4,992
photos (about 20 minutes of a quiet 2-core CPU); later runs take seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from report import record

from facelib import faces
from facelib.data import LFWPairs, PairSet, lfw_pairs, to_rgb_uint8
from facelib.faces.robustness import DEGRADATIONS, degrade

#: (encoder, preprocessing) rows of the table; each is run with flip off and on.
CONFIGS = (("facenet", "standardize"), ("dlib", None), ("facenet+dlib", "standardize"), ("facenet", "course"))
#: View 2 targets (fraction) of the issue, per encoder (the FaceNet one for "standardize").
TARGETS = {("facenet", "standardize"): 0.993, ("dlib", None): 0.9938, ("facenet+dlib", "standardize"): 0.995}
#: Targets (fraction) of issue 29 on the 10-fold View 1 figure (flip on); FaceNet's is its figure
#: before that issue (99.41 %: its pipeline did not change), "no lower than today".
TARGETS_V1_10 = {("facenet", "standardize"): 0.9941, ("dlib", None): 0.994, ("facenet+dlib", "standardize"): 0.996}
CHUNK = 128


def tar_at_far(d: np.ndarray, same: np.ndarray, far: float = 1e-3) -> float:
    """True-accept rate at the loosest threshold whose false-accept rate is ≤ ``far``."""
    fpr, tpr, _ = faces.roc_curve(d, same)
    ok = fpr <= far
    return float(tpr[ok].max()) if ok.any() else 0.0


def eer_threshold(d: np.ndarray, same: np.ndarray) -> float:
    """τ where false accepts equal false rejects on these pairs (``d <= τ`` ⇒ same)."""
    return faces.equal_error_rate(d, same)[1]


def encode_all(name: str, pre: str | None, flip: bool, photos: list[Path],
               alignment: str = faces.encoders.DLIB_ALIGNMENT) -> tuple[dict[Path, np.ndarray], int]:
    """Cached encodings of every photo → ``({path: encoding}, photos without a face)``."""
    enc = faces.encoders.load(name, preprocessing=pre, flip=flip, alignment=alignment)
    out: dict[Path, np.ndarray] = {}
    missing = 0
    for s in range(0, len(photos), CHUNK):
        chunk = photos[s:s + CHUNK]
        x = enc.encode_photos(chunk, on_no_face="centre", cache=True, progress=False)
        missing += enc.not_found
        out.update(zip(chunk, x))
        if len(photos) > CHUNK:
            print(f"  {name}/{pre or 'dlib'}/flip={flip}: {min(s + CHUNK, len(photos))}/{len(photos)} photos",
                  flush=True)
    return out, missing


def distances(pairs: PairSet, emb: dict[Path, np.ndarray]) -> np.ndarray:
    return faces.pair_distances(np.stack([emb[p] for p in pairs.a]), np.stack([emb[p] for p in pairs.b]))


def photos_per_second(name: str, pre: str | None, photos: list[Path],
                      alignment: str = faces.encoders.DLIB_ALIGNMENT) -> float:
    """End-to-end throughput on uncached photos (MTCNN + alignment + networks, flip on)."""
    enc = faces.encoders.load(name, preprocessing=pre, flip=True, alignment=alignment)
    enc.encode_photos(photos[:1], on_no_face="centre")  # warm-up: builds and traces the network(s)
    t0 = time.perf_counter()
    enc.encode_photos(photos, on_no_face="centre")
    return len(photos) / (time.perf_counter() - t0)


def subset(pairs: PairSet, n: int) -> PairSet:
    """``n`` pairs, half same and half different (the first of each)."""
    return pairs.head(n)


def ten_folds(same: np.ndarray, k: int = 10, seed: int = 0) -> list[np.ndarray]:
    """Pair indices of ``k`` folds, by pair: same-person and different-person pairs each shuffled
    (``seed``) and dealt in turn, so every fold is balanced as View 2's are."""
    rng = np.random.default_rng(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    for group in (np.flatnonzero(same), np.flatnonzero(~same)):
        for j, i in enumerate(rng.permutation(group)):
            folds[j % k].append(int(i))
    return [np.sort(np.array(f, int)) for f in folds]


def cross_validate(d: np.ndarray, same: np.ndarray, folds: list[np.ndarray]) -> tuple[float, float, float]:
    """τ (equal-error rate) on all folds but one, accuracy on that one → ``(mean, std, mean τ)``."""
    accs, taus = [], []
    for k, test in enumerate(folds):
        train = np.concatenate([f for j, f in enumerate(folds) if j != k])
        tau = eer_threshold(d[train], same[train])
        accs.append(faces.verification_accuracy(d[test], same[test], tau))
        taus.append(tau)
    return float(np.mean(accs)), float(np.std(accs)), float(np.mean(taus))


def joined(*sets: PairSet) -> PairSet:
    """Several pair sets as one (View 1: DevTrain's 2,200 pairs, then DevTest's 1,000)."""
    return PairSet(sum((s.a for s in sets), ()), sum((s.b for s in sets), ()), np.concatenate([s.same for s in sets]))


def view1_rows(v1: LFWPairs, quick: bool, train_pairs: int | None = None,
               alignment: str = faces.encoders.DLIB_ALIGNMENT) -> list[dict]:
    """Per encoder: τ on DevTrain → DevTest (view ``1``), and 10 folds over all View 1 pairs (``1×10``)."""
    train, test = v1.splits["train"], v1.splits["test"]
    if quick:
        train, test = subset(train, 40), subset(test, 40)
    elif train_pairs:
        train = subset(train, train_pairs)
    every = joined(train, test)
    folds = ten_folds(every.same)
    photos = every.photos
    rows = []
    for name, pre in CONFIGS:
        for flip in (False, True):
            emb, missing = encode_all(name, pre, flip, photos, alignment)
            d = distances(every, emb)
            d_tr, d_te = d[:len(train)], d[len(train):]
            tau = eer_threshold(d_tr, train.same)
            acc = faces.verification_accuracy(d_te, test.same, tau)
            fpr, tpr, _ = faces.roc_curve(d_te, test.same)
            common = dict(encoder=name, pre=pre or "dlib", flip=flip, missing=missing, photos=len(photos))
            rows.append(dict(view=1, acc=acc, std=float(np.sqrt(acc * (1 - acc) / len(test))),
                             auc=faces.auc(fpr, tpr), tar=tar_at_far(d_te, test.same), tau=tau, **common))
            print_row(rows[-1])
            mean, std, tau10 = cross_validate(d, every.same, folds)
            fpr, tpr, _ = faces.roc_curve(d, every.same)
            rows.append(dict(view="1×10", acc=mean, std=std, auc=faces.auc(fpr, tpr), tar=tar_at_far(d, every.same),
                             tau=tau10, **common))
            print_row(rows[-1])
    return rows


HEADER = (f"{'view':<5}{'encoder':<14}{'preprocessing':<14}{'flip':<6}{'accuracy':>18}{'AUC':>9}"
          f"{'TAR@FAR=0.1%':>14}{'τ':>8}{'no face':>12}")


def print_row(r: dict, speed: float | None = None) -> None:
    acc = f"{100 * r['acc']:.2f} ± {100 * r['std']:.2f} %"
    extra = "" if speed is None else f"{speed:>10.2f}"
    print(f"{r['view']:<5}{r['encoder']:<14}{r['pre']:<14}{r['flip']!s:<6}{acc:>18}{r['auc']:>9.4f}"
          f"{100 * r['tar']:>13.1f}%{r['tau']:>8.3f}{r['missing']:>6}/{r['photos']:<5}{extra}", flush=True)


def view2_rows(v2: LFWPairs, quick: bool, alignment: str = faces.encoders.DLIB_ALIGNMENT) -> list[dict]:
    folds = v2.folds
    if quick:
        folds = [subset(f, 8) for f in folds]
    photos = sorted(set().union(*(set(f.photos) for f in folds)))
    rows = []
    for name, pre in CONFIGS:
        for flip in (False, True):
            emb, missing = encode_all(name, pre, flip, photos, alignment)
            ds = [distances(f, emb) for f in folds]
            accs, taus = [], []
            for k, f in enumerate(folds):
                d_tr = np.concatenate([d for j, d in enumerate(ds) if j != k])
                s_tr = np.concatenate([g.same for j, g in enumerate(folds) if j != k])
                tau = eer_threshold(d_tr, s_tr)
                accs.append(faces.verification_accuracy(ds[k], f.same, tau))
                taus.append(tau)
            d_all, s_all = np.concatenate(ds), np.concatenate([f.same for f in folds])
            fpr, tpr, _ = faces.roc_curve(d_all, s_all)
            rows.append(dict(view=2, encoder=name, pre=pre or "dlib", flip=flip, acc=float(np.mean(accs)),
                             std=float(np.std(accs)), auc=faces.auc(fpr, tpr), tar=tar_at_far(d_all, s_all),
                             tau=float(np.mean(taus)), missing=missing, photos=len(photos)))
            print_row(rows[-1])
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run on a few pairs (no targets)")
    ap.add_argument("--lfw-home", type=Path, default=None,
                    help="a folder with pairs.txt and lfw/<Name>/ photos (scikit-learn's lfw_home) for View 2")
    ap.add_argument("--speed-photos", type=int, default=None, help="uncached photos timed per encoder")
    ap.add_argument("--train-pairs", type=int, default=None,
                    help="choose View 1's τ on this many DevTrain pairs (half same, half different) "
                         "instead of all 2,200")
    ap.add_argument("--alignment", choices=faces.encoders.DLIB_ALIGNMENTS, default=faces.encoders.DLIB_ALIGNMENT,
                    help="how dlib's chip is cut from MTCNN's keypoints (faces.encoders.DLIB_ALIGNMENTS)")
    ap.add_argument("--robustness", action="store_true",
                    help="only the robustness card (the robustness card below) and its figure")
    ap.add_argument("--robustness-pairs", type=int, default=100, help="DevTest pairs of the robustness card")
    args = ap.parse_args(argv)
    if args.robustness:
        return robustness(args.robustness_pairs if not args.quick else 8)

    v1 = lfw_pairs(1)
    weights = faces.encoders.FUSION_WEIGHTS[f"facenet+dlib/{args.alignment}"]
    print(f"dlib chips: {args.alignment} alignment; fused d² = {weights[0]:.2f}·d_facenet² + "
          f"{weights[1]:.2f}·d_dlib²")
    print(HEADER)
    rows = view1_rows(v1, args.quick, args.train_pairs, args.alignment)
    if args.lfw_home is not None:
        rows += view2_rows(lfw_pairs(2, args.lfw_home), args.quick, args.alignment)

    n_speed = args.speed_photos or (1 if args.quick else 16)
    sample = v1.splits["test"].photos[:n_speed]
    speed = {(name, pre): photos_per_second(name, pre, sample, args.alignment) for name, pre in CONFIGS}

    print(f"\n{HEADER}{'photos/s':>10}")
    for r in rows:
        print_row(r, speed[(r["encoder"], None if r["pre"] == "dlib" else r["pre"])])
    print()
    for r in rows:
        key = (r["encoder"], None if r["pre"] == "dlib" else r["pre"])
        chips = f", {args.alignment} chips" if "dlib" in r["encoder"] and args.alignment != "template" else ""
        label = f"{r['encoder']} ({r['pre']}{', flip' if r['flip'] else ''}{chips})"
        where = {1: "View 1 DevTest", "1×10": "View 1 10-fold"}.get(r["view"], "View 2 10-fold")
        table = {2: TARGETS, "1×10": TARGETS_V1_10}.get(r["view"], {})
        target = table.get(key)
        ok = None
        if target is not None and r["flip"] and not args.quick:
            ok = r["acc"] >= target
        text = (f"≥ {100 * target:.2f} %" if target else "none (reference)") if not args.quick else "smoke run"
        record("lfw", f"{where} accuracy, {label}", text, 100 * r["acc"], unit=" %", ok=ok)
        if r["view"] != 1:
            record("lfw", f"{where} accuracy std over the folds, {label}", "reported", 100 * r["std"], unit=" %")
        record("lfw", f"{where} τ (equal-error rate on the training pairs), {label}", "reported", r["tau"])
    for (name, pre), v in speed.items():
        record("lfw", f"photos/s end to end, {name} ({pre or 'dlib'}, flip)", "reported", v, unit=" photos/s")
    return 0


# ----------------------------------------------------------------------------- robustness card
# The robustness card of ``bench/lfw.py --robustness``: accuracy and TAR @ FAR 0.1 % per encoder as the
# probe photo degrades (blur, JPEG quality, darkness, a lower-face mask, in-plane rotation; three levels
# each, :data:`facelib.faces.robustness.DEGRADATIONS`).
#
# Protocol: the thresholds are chosen on clean LFW View 1 DevTrain (τ at the equal-error rate for the
# accuracy; the loosest τ with at most 0.1 % false accepts for the TAR); then, for a balanced subset of
# View 1 DevTest pairs (``--robustness-pairs``, the first same and first different pairs), the second
# photo of each pair is degraded and goes through the whole pipeline (MTCNN finds the face again,
# alignment, network, flip averaging), while the first photo stays clean (an enrolment photo and a
# probe at the door). The figure goes to ``docs/gallery/robustness.png``.

ROBUSTNESS_ENCODERS = ("facenet", "dlib", "facenet+dlib")
FIGURE = Path(__file__).resolve().parent.parent / "docs" / "gallery" / "robustness.png"


def far_threshold(d: np.ndarray, same: np.ndarray, far: float = 1e-3) -> float:
    """The loosest τ whose false-accept rate on these pairs is at most ``far``."""
    diff = np.sort(d[~same])
    a = int(np.floor(far * len(diff)))
    return float(np.nextafter(diff[a], -np.inf))


def _thresholds(enc, train) -> tuple[float, float]:
    photos = train.photos
    x = dict(zip(photos, enc.encode_photos(photos, on_no_face="centre", cache=True, progress=False)))
    d = np.linalg.norm(np.stack([x[p] for p in train.a]) - np.stack([x[p] for p in train.b]), axis=1)
    return faces.equal_error_rate(d, train.same)[1], far_threshold(d, train.same)


def robustness_card(v1: LFWPairs, n_pairs: int) -> list[dict]:
    """Rows ``{encoder, kind, level, acc, tar, no_face}`` (``kind="clean"``, level 0, first)."""
    train, test = v1.splits["train"], v1.splits["test"].head(n_pairs)
    clean_b = [to_rgb_uint8(p) for p in test.b]
    keypoints = [d.keypoints for d in faces.encoder_cache.detect_photos(clean_b, progress=False)]
    variants: list[tuple[str, float, list[np.ndarray]]] = [("clean", 0.0, clean_b)]
    for kind, levels in DEGRADATIONS.items():
        for level in levels:
            variants.append((kind, level, [degrade(rgb, kind, level, kp if kp is not None else
                                                   faces.centre_keypoints(rgb.shape))
                                           for rgb, kp in zip(clean_b, keypoints)]))
    rows = []
    for name in ROBUSTNESS_ENCODERS:
        enc = faces.encoders.load(name)
        tau_eer, tau_far = _thresholds(enc, train)
        a = enc.encode_photos(list(test.a), on_no_face="centre", cache=True, progress=False)
        for kind, level, photos in variants:
            b = enc.encode_photos(photos, on_no_face="centre", cache=True, progress=False)
            d = np.linalg.norm(a - b, axis=1)
            rows.append(dict(encoder=name, kind=kind, level=level,
                             acc=faces.verification_accuracy(d, test.same, tau_eer),
                             tar=float(np.mean(d[test.same] <= tau_far)), no_face=enc.not_found))
            r = rows[-1]
            print(f"  {name:<14}{kind:<10}{level:>6g}{100 * r['acc']:>9.1f} %{100 * r['tar']:>9.1f} %"
                  f"{r['no_face']:>6}/{len(photos)}", flush=True)
    return rows


def robustness_figure(rows: list[dict], n_pairs: int, path: Path = FIGURE) -> Path:
    """Accuracy (solid) and TAR @ FAR 0.1 % (dashed) against each degradation's level, one panel per kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(DEGRADATIONS), figsize=(3.2 * len(DEGRADATIONS), 3.4), sharey=True)
    for ax, (kind, levels) in zip(axes, DEGRADATIONS.items()):
        for k, name in enumerate(ROBUSTNESS_ENCODERS):
            clean = next(r for r in rows if r["encoder"] == name and r["kind"] == "clean")
            mine = [clean] + [r for r in rows if r["encoder"] == name and r["kind"] == kind]
            x = np.arange(len(mine))
            ax.plot(x, [100 * r["acc"] for r in mine], "o-", color=f"C{k}", label=f"{name} accuracy")
            ax.plot(x, [100 * r["tar"] for r in mine], "s--", color=f"C{k}", alpha=0.6, label=f"{name} TAR@FAR 0.1 %")
        ax.set_xticks(range(len(levels) + 1), ["clean", *(f"{v:g}" for v in levels)])
        ax.set_title(kind)
        ax.set_xlabel({"blur": "Gaussian σ (px)", "jpeg": "JPEG quality", "dark": "brightness ×",
                       "mask": "mask reach (0 mouth, 1 nose)", "rotation": "degrees"}[kind])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("% of pairs (accuracy) / of same pairs (TAR)")
    axes[0].set_ylim(0, 101)
    axes[-1].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Robustness card: LFW View 1 DevTest, {n_pairs} pairs, probe photo degraded, τ from clean DevTrain")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def robustness(n_pairs: int) -> int:
    """The robustness card: rows printed and recorded, the figure written."""
    print(f"robustness card: {n_pairs} View 1 DevTest pairs, the second photo degraded; τ from clean DevTrain")
    print(f"  {'encoder':<14}{'kind':<10}{'level':>6}{'accuracy':>11}{'TAR@0.1%':>11}{'no face':>9}")
    rows = robustness_card(lfw_pairs(1), n_pairs)
    for r in rows:
        what = "clean" if r["kind"] == "clean" else f"{r['kind']} {r['level']:g}"
        record("lfw", f"robustness, {r['encoder']}, {what}: accuracy", "reported", 100 * r["acc"], unit=" %")
        record("lfw", f"robustness, {r['encoder']}, {what}: TAR @ FAR 0.1 %", "reported", 100 * r["tar"], unit=" %")
    print(f"figure: {robustness_figure(rows, n_pairs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
