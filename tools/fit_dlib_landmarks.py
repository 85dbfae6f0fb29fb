"""Fit ``facelib.models.dlib_chip.MTCNN_TO_DLIB``: dlib's 5 landmarks predicted from MTCNN's 5 keypoints.

dlib's ResNet was trained on chips aligned on dlib's own landmarks (eye corners, nose base); the
project has MTCNN's keypoints (eye centres, nose tip, mouth corners). This tool fits, by least
squares, the linear map from the keypoints to the landmarks that commutes with shifts, rotations
and scalings of the photo: with points as complex numbers ``z = x + iy``,
``landmark_j ≈ Σ_k W[j, k]·z_k`` with ``Σ_k W[j, k] = 1`` (25 complex weights).

Data: the photos of LFW View 1 **DevTrain** only (never DevTest, which measures the result).
The teacher is dlib itself (``dlib-bin``, a development-time dependency, not needed at run time):
its HOG detector (one up-sampling) and ``shape_predictor_5_face_landmarks`` (registry asset
``dlib-shape-predictor-5``), the face nearest the photo's centre; MTCNN's keypoints are those of
:func:`facelib.faces.encoder_cache.detect_photos` (cached in ``FACELIB_HOME/cache/mtcnn``). Photos where one
detector finds no face, or where the two found different faces (eye midpoints more than half an
eye distance apart), are left out. Each photo is also used mirrored (x → W − 1 − x, left and
right points swapped), so the map treats both sides of the face alike, as flip averaging needs.
Residuals are divided by the photo's MTCNN eye distance, so large and small faces count alike.

It reports the held-out error (5 folds by person) of the chip geometry in chip pixels: the RMS
distance, over the 150×150 chip, between where dlib's chip and the predicted one sample the photo
— for this map and for the older mean-template route (``DLIB_CHIP_TEMPLATE``) — then prints the
fitted weights to paste into ``facelib/models/dlib_chip.py``::

    python tools/fit_dlib_landmarks.py [--teacher-cache /tmp/dlib_teacher.npz] [--limit N]

The full DevTrain (3,443 photos) takes about 5 minutes of a quiet 2-core CPU for dlib's landmarks
(plus MTCNN's detections when they are not cached yet).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

CHIP = 150


def teacher_landmarks(photos: list[Path]) -> np.ndarray:
    """dlib's 5 landmarks ``(n, 5, 2)`` of the face nearest each photo's centre (NaN: HOG found none)."""
    import dlib
    from PIL import Image

    from facelib import assets

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(assets.fetch("dlib-shape-predictor-5")))
    out = np.full((len(photos), 5, 2), np.nan)
    for i, photo in enumerate(photos):
        img = np.asarray(Image.open(photo).convert("RGB"))
        rects = list(detector(img, 1))
        if not rects:
            continue
        h, w = img.shape[:2]
        rect = min(rects, key=lambda r: np.hypot(r.center().x - w / 2, r.center().y - h / 2) - r.width() / 2)
        shape = predictor(img, rect)
        out[i] = [[shape.part(j).x, shape.part(j).y] for j in range(5)]
        if (i + 1) % 500 == 0:
            print(f"  dlib landmarks: {i + 1}/{len(photos)}", flush=True)
    return out


def mtcnn_keypoints(photos: list[Path]) -> np.ndarray:
    """MTCNN's main-face keypoints ``(n, 5, 2)`` (NaN: no face), through the project's detection cache."""
    from facelib.data import to_rgb_uint8
    from facelib.faces import encoder_cache

    out = np.full((len(photos), 5, 2), np.nan)
    for s in range(0, len(photos), 128):
        chunk = photos[s:s + 128]
        rgbs = [to_rgb_uint8(p) for p in chunk]
        keys = [encoder_cache.photo_key(p, r) for p, r in zip(chunk, rgbs)]
        for i, det in enumerate(encoder_cache.detect_photos(rgbs, keys=keys, progress=False)):
            if det.keypoints is not None:
                out[s + i] = det.keypoints
    return out


def mirrored(points: np.ndarray, order: list[int], width: int) -> np.ndarray:
    """Points ``(n, 5, 2)`` of the mirror image: x → width − 1 − x, left and right swapped."""
    out = points[:, order].copy()
    out[..., 0] = width - 1 - out[..., 0]
    return out


def fit(kp: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Least-squares ``(5, 5)`` complex ``W`` (rows sum to 1): ``lm_j ≈ Σ_k W[j, k] kp_k``."""
    z = kp[..., 0] + 1j * kp[..., 1]
    t = lm[..., 0] + 1j * lm[..., 1]
    m = z.mean(1, keepdims=True)
    scale = np.abs(z[:, 1] - z[:, 0])[:, None]  # eye distance: every face counts alike
    a, b = (z - m) / scale, (t - m) / scale
    w, *_ = np.linalg.lstsq(a, b, rcond=None)  # (5 keypoints, 5 landmarks)
    w = w.T
    # Σ_k (z_k − m) = 0, so a constant added to a row changes nothing: make each row sum to 1
    return w + (1 - w.sum(1, keepdims=True)) / 5


def predict(w: np.ndarray, kp: np.ndarray) -> np.ndarray:
    z = (w @ (kp[..., 0] + 1j * kp[..., 1]).T).T
    return np.stack([z.real, z.imag], -1)


def chip_error(t_pred: np.ndarray, t_true: np.ndarray) -> float:
    """RMS distance (chip pixels) over the chip grid between two chip → photo affines ``(2, 3)``."""
    ys, xs = np.mgrid[0:CHIP:5, 0:CHIP:5]
    grid = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    inv = np.linalg.inv(np.vstack([t_true, [0, 0, 1]]))[:2]
    back = inv @ np.vstack([t_pred @ grid, np.ones(grid.shape[1])])
    return float(np.sqrt(((back - grid[:2]) ** 2).sum(0).mean()))


def old_transform(kp: np.ndarray) -> np.ndarray:
    """The chip → photo affine of the mean-template route (``facelib.faces.warp_to_template``)."""
    from facelib.models.dlib_resnet import DLIB_CHIP_TEMPLATE
    from facelib.models.geometry import similarity_transform

    m = similarity_transform(kp, DLIB_CHIP_TEMPLATE * CHIP)
    return np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]


def main(argv: list[str]) -> int:
    from facelib.data import lfw_pairs
    from facelib.models.dlib_chip import chip_transform

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teacher-cache", type=Path, default=None, help="keep dlib's landmarks in this .npz")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N DevTrain photos")
    args = ap.parse_args(argv)

    photos = sorted(set(lfw_pairs(1).splits["train"].photos))[:args.limit]
    if args.teacher_cache is not None and args.teacher_cache.is_file():
        z = np.load(args.teacher_cache)
        assert [str(p) for p in photos] == [str(p) for p in z["photos"]], "teacher cache is for other photos"
        lm = z["landmarks"]
    else:
        lm = teacher_landmarks(photos)
        if args.teacher_cache is not None:
            np.savez(args.teacher_cache, photos=np.array([str(p) for p in photos]), landmarks=lm)
    kp = mtcnn_keypoints(photos)
    both = np.isfinite(lm).all((1, 2)) & np.isfinite(kp).all((1, 2))
    eye_d = np.linalg.norm(kp[:, 1] - kp[:, 0], axis=1)
    gap = np.linalg.norm(lm[:, :4].mean(1) - kp[:, :2].mean(1), axis=1)
    ok = both & (gap < 0.5 * eye_d)
    print(f"{len(photos)} DevTrain photos: dlib found {np.isfinite(lm).all((1, 2)).sum()}, MTCNN "
          f"{np.isfinite(kp).all((1, 2)).sum()}, both and the same face {ok.sum()}")
    people = np.array([p.parent.name for p in photos])[ok]
    kp, lm = kp[ok], lm[ok]
    width = 250  # LFW photos are 250×250
    kp2 = np.concatenate([kp, mirrored(kp, [1, 0, 2, 4, 3], width)])
    lm2 = np.concatenate([lm, mirrored(lm, [2, 3, 0, 1, 4], width)])

    # held-out error: 5 folds by person (a person's photos all in one fold)
    names = np.unique(people)
    fold_of = dict(zip(names, np.random.default_rng(0).permutation(len(names)) % 5))
    fold = np.array([fold_of[p] for p in people])
    fold2 = np.concatenate([fold, fold])
    err_new, err_old = [], []
    for f in range(5):
        w = fit(kp2[fold2 != f], lm2[fold2 != f])
        for k in np.flatnonzero(fold == f):
            t_true = chip_transform(lm[k])
            err_new.append(chip_error(chip_transform(predict(w, kp[k:k + 1])[0]), t_true))
            err_old.append(chip_error(old_transform(kp[k]), t_true))
    for label, e in (("mean template (DLIB_CHIP_TEMPLATE)", err_old), ("fitted map (MTCNN_TO_DLIB)", err_new)):
        e = np.array(e)
        print(f"held-out chip error, {label:<36}: RMS {np.sqrt((e ** 2).mean()):.2f} px, median "
              f"{np.median(e):.2f}, 95th percentile {np.percentile(e, 95):.2f} (of a {CHIP}-pixel chip)")

    w = fit(kp2, lm2)
    print("\nMTCNN_TO_DLIB = np.array([")
    for row in w:
        print("    [" + ", ".join(f"{c.real:+.5f}{c.imag:+.5f}j" for c in row) + "],")
    print("], dtype=np.complex128)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
