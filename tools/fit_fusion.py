"""Choose ``facelib.faces.encoders.FUSION_WEIGHTS``: how much each network's distance counts in ``facenet+dlib``.

The fused encoding ``[√w·f_facenet | √(1−w)·f_dlib]`` has the squared distance
``d² = w·d_facenet² + (1 − w)·d_dlib²``. This tool tries w = 0.20, 0.25, …, 0.80 on the 2,200
pairs of LFW View 1 **DevTrain** only (DevTest is what ``bench/lfw.py`` reports) and picks the w
with the lowest equal-error rate, ties broken by the larger separation

    d′ = (mean d_different − mean d_same) / √((var d_same + var d_different) / 2),

a smooth figure that still moves when the error counts (a pair is 0.05 %) do not. It also prints
the z-scored distance sum ``d_facenet/σ₁ + d_dlib/σ₂`` (σ: DevTrain standard deviations), which
is not an embedding distance, for comparison. Encodings come from the cache that
``bench/lfw.py`` fills (``encode_photos(cache=True)``, flip on)::

    python tools/fit_fusion.py [--alignment template|landmarks|shape]

It also fits a logistic regression on the two squared distances (score-level fusion of calibrated
distances, DevTrain only) and prints the weights it implies.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def dprime(d: np.ndarray, same: np.ndarray) -> float:
    """Separation of the same-person and different-person distances, in pooled standard deviations."""
    g, i = d[same], d[~same]
    return float((i.mean() - g.mean()) / np.sqrt((g.var() + i.var()) / 2))


def logistic_weights(sq: list[np.ndarray], same: np.ndarray, iters: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression ``P(same) = σ(b − Σ_k a_k·d_k²)`` on the squared distances (Newton's method)
    → ``(the coefficients [b, −a₁, −a₂, …], the fusion weights a / Σa)``: score-level fusion of calibrated
    distances that is still an embedding distance, ``d² = Σ w_k·d_k²``."""
    x = np.column_stack([np.ones(len(same)), *sq])
    y = same.astype(float)
    w = np.zeros(x.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-x @ w))
        hess = (x * (p * (1 - p))[:, None]).T @ x + 1e-9 * np.eye(len(w))
        w -= np.linalg.solve(hess, x.T @ (p - y))
    a = -w[1:]
    return w, a / a.sum()


def main(argv: list[str]) -> int:
    from facelib import faces
    from facelib.data import lfw_pairs

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alignment", choices=faces.encoders.DLIB_ALIGNMENTS, default="template")
    args = ap.parse_args(argv)

    train = lfw_pairs(1).splits["train"]
    photos = train.photos
    sq = []
    for name in ("facenet", "dlib"):
        enc = faces.encoders.load(name, alignment=args.alignment)
        x = dict(zip(photos, enc.encode_photos(photos, on_no_face="centre", cache=True, progress=True)))
        a, b = np.stack([x[p] for p in train.a]), np.stack([x[p] for p in train.b])
        sq.append(((a - b) ** 2).sum(1))
    d_f, d_g = sq
    print(f"{len(train)} DevTrain pairs, dlib chips by {args.alignment!r}; flip on")
    print(f"{'w (FaceNet)':>12}{'EER':>9}{'d′':>8}{'τ':>8}")
    rows = []
    for w in np.round(np.arange(0.20, 0.801, 0.05), 2):
        d = np.sqrt(w * d_f + (1 - w) * d_g)
        eer, tau = faces.equal_error_rate(d, train.same)
        rows.append((round(eer, 4), -dprime(d, train.same), w, tau))  # EERs within 0.01 % tie
        print(f"{w:>12.2f}{100 * eer:>8.2f}%{dprime(d, train.same):>8.3f}{tau:>8.3f}")
    eer, neg_dp, w, tau = min(rows)
    print(f"chosen: w = {w:.2f} (EER {100 * eer:.2f} %, d′ {-neg_dp:.3f}, τ {tau:.3f}) "
          f"→ FUSION_WEIGHTS['facenet+dlib/{args.alignment}'] = ({w:.2f}, {1 - w:.2f})")
    coef, lw = logistic_weights([d_f, d_g], train.same)
    d = np.sqrt(lw[0] * d_f + lw[1] * d_g)
    print(f"logistic regression on (d_facenet², d_dlib²): P(same) = σ({coef[0]:.2f} − {-coef[1]:.2f}·d_f² − "
          f"{-coef[2]:.2f}·d_d²) → w = ({lw[0]:.3f}, {lw[1]:.3f}), EER "
          f"{100 * faces.equal_error_rate(d, train.same)[0]:.2f} %, d′ {dprime(d, train.same):.3f}")
    z = np.sqrt(d_f) / np.sqrt(d_f).std() + np.sqrt(d_g) / np.sqrt(d_g).std()
    print(f"z-scored distance sum: EER {100 * faces.equal_error_rate(z, train.same)[0]:.2f} %, "
          f"d′ {dprime(z, train.same):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
