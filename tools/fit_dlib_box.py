"""Fit ``facelib.models.dlib_chip.BOX_FROM_MTCNN``: the box dlib's HOG detector would give, from MTCNN's keypoints.

dlib's shape predictor starts from the mean shape placed in dlib's *own* detector's box, and was
trained on those boxes; the project detects faces with MTCNN. This tool fits, by least squares, the
box (left, top, right, bottom) that dlib's frontal HOG detector (one up-sampling) gives, from
MTCNN's five keypoints (eye centres ``l``, ``r``, nose ``n``, mouth corners), with ``e`` the eyes'
midpoint and ``u`` the vector from ``e`` to the mouth corners' midpoint::

    centre_x = e_x + a₁·u_x + a₂·(n_x − e_x)        centre_y = e_y + b₁·u_y + b₂·(n_y − e_y)
    side     = g₁·|r − l| + g₂·|u|                  (dlib's boxes are square: right − left = side)

six numbers that follow the photo's shifts and scalings. Data: the photos of LFW View 1
**DevTrain** only, each also mirrored; the teacher is dlib itself (``dlib-bin``, needed only here):
its HOG detector and ``shape_predictor_5_face_landmarks``, the face nearest the photo's centre.
Photos where one detector finds no face, or where they found different faces, are left out.

It reports, held out (5 folds by person), how far the landmarks that
:mod:`facelib.models.dlib_shape` places in the fitted box lie from dlib's landmarks in dlib's box
(pixels of the photo), and the chip error (RMS over the 150-pixel chip, as
``tools/fit_dlib_landmarks.py`` measures it) of this route, of ``MTCNN_TO_DLIB`` and of the mean
template; then prints the coefficients to paste into ``facelib/models/dlib_chip.py``::

    python tools/fit_dlib_box.py [--teacher-cache /tmp/dlib_box_teacher.npz] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_dlib_landmarks import chip_error, mirrored, mtcnn_keypoints, old_transform


def teacher(photos: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """dlib's HOG box ``(n, 4)`` and landmarks ``(n, 5, 2)`` of the face nearest each photo's centre (NaN: none)."""
    import dlib
    from PIL import Image

    from facelib import assets

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(assets.fetch("dlib-shape-predictor-5")))
    boxes, lms = np.full((len(photos), 4), np.nan), np.full((len(photos), 5, 2), np.nan)
    for i, photo in enumerate(photos):
        img = np.asarray(Image.open(photo).convert("RGB"))
        rects = list(detector(img, 1))
        if rects:
            h, w = img.shape[:2]
            r = min(rects, key=lambda r: np.hypot(r.center().x - w / 2, r.center().y - h / 2) - r.width() / 2)
            shape = predictor(img, r)
            boxes[i] = [r.left(), r.top(), r.right(), r.bottom()]
            lms[i] = [[shape.part(j).x, shape.part(j).y] for j in range(5)]
        if (i + 1) % 500 == 0:
            print(f"  dlib: {i + 1}/{len(photos)}", flush=True)
    return boxes, lms


def features(kp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(e, dx features (n, 2), dy features (n, 2), side features (n, 2))`` of keypoints ``(n, 5, 2)``."""
    e = kp[:, :2].mean(1)
    u = kp[:, 3:].mean(1) - e
    nose = kp[:, 2] - e
    fx = np.stack([u[:, 0], nose[:, 0]], 1)
    fy = np.stack([u[:, 1], nose[:, 1]], 1)
    fs = np.stack([np.linalg.norm(kp[:, 1] - kp[:, 0], axis=1), np.linalg.norm(u, axis=1)], 1)
    return e, fx, fy, fs


def fit(kp: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Least squares → ``(3, 2)`` rows ``(a₁, a₂), (b₁, b₂), (g₁, g₂)``; residuals divided by the eye distance."""
    e, fx, fy, fs = features(kp)
    scale = fs[:, :1]
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    side = boxes[:, 2] - boxes[:, 0] + 1
    rows = []
    for f, t in ((fx, centre[:, 0] - e[:, 0]), (fy, centre[:, 1] - e[:, 1]), (fs, side)):
        rows.append(np.linalg.lstsq(f / scale, t / scale[:, 0], rcond=None)[0])
    return np.array(rows)


def main(argv: list[str]) -> int:
    from facelib.data import lfw_pairs
    from facelib.models.dlib_chip import box_from_mtcnn, chip_transform, landmarks_from_mtcnn
    from facelib.models.dlib_shape import load_shape_predictor

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teacher-cache", type=Path, default=None, help="keep dlib's boxes and landmarks in this .npz")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N DevTrain photos")
    args = ap.parse_args(argv)

    photos = sorted(set(lfw_pairs(1).splits["train"].photos))[:args.limit]
    if args.teacher_cache is not None and args.teacher_cache.is_file():
        z = np.load(args.teacher_cache)
        assert [str(p) for p in photos] == [str(p) for p in z["photos"]], "teacher cache is for other photos"
        boxes, lm = z["boxes"], z["landmarks"]
    else:
        boxes, lm = teacher(photos)
        if args.teacher_cache is not None:
            np.savez(args.teacher_cache, photos=np.array([str(p) for p in photos]), boxes=boxes, landmarks=lm)
    kp = mtcnn_keypoints(photos)
    eye_d = np.linalg.norm(kp[:, 1] - kp[:, 0], axis=1)
    gap = np.linalg.norm(lm[:, :4].mean(1) - kp[:, :2].mean(1), axis=1)
    ok = np.isfinite(boxes).all(1) & np.isfinite(kp).all((1, 2)) & (gap < 0.5 * eye_d)
    print(f"{len(photos)} DevTrain photos: dlib found {np.isfinite(boxes).all(1).sum()}, both and the same face "
          f"{ok.sum()}")
    idx = np.flatnonzero(ok)
    people = np.array([photos[i].parent.name for i in idx])
    width = 250
    kp_ok, box_ok = kp[idx], boxes[idx]
    box_m = np.stack([width - 1 - box_ok[:, 2], box_ok[:, 1], width - 1 - box_ok[:, 0], box_ok[:, 3]], 1)
    kp2 = np.concatenate([kp_ok, mirrored(kp_ok, [1, 0, 2, 4, 3], width)])
    box2 = np.concatenate([box_ok, box_m])

    names = np.unique(people)
    fold_of = dict(zip(names, np.random.default_rng(0).permutation(len(names)) % 5))
    fold = np.array([fold_of[p] for p in people])
    fold2 = np.concatenate([fold, fold])
    predictor = load_shape_predictor()
    from PIL import Image

    lm_err, chip_new, chip_lm, chip_old, box_err = [], [], [], [], []
    for f in range(5):
        coef = fit(kp2[fold2 != f], box2[fold2 != f])
        for j in np.flatnonzero(fold == f):
            i = idx[j]
            rgb = np.asarray(Image.open(photos[i]).convert("RGB"))
            box = box_from_mtcnn(kp[i], coef)
            box_err.append(np.abs(box - boxes[i]).max() / eye_d[i])
            ours = predictor(rgb, box)
            lm_err.append(np.sqrt(((ours - lm[i]) ** 2).sum(1).mean()))
            t_true = chip_transform(lm[i])
            chip_new.append(chip_error(chip_transform(ours), t_true))
            chip_lm.append(chip_error(chip_transform(landmarks_from_mtcnn(kp[i])), t_true))
            chip_old.append(chip_error(old_transform(kp[i]), t_true))
    print(f"held-out box error (largest side, / eye distance): median {np.median(box_err):.3f}")
    print(f"held-out landmark error (RMS over 5, photo px): median {np.median(lm_err):.2f}, "
          f"mean {np.mean(lm_err):.2f}, 95th percentile {np.percentile(lm_err, 95):.2f}")
    for label, e in (("mean template (DLIB_CHIP_TEMPLATE)", chip_old), ("fitted map (MTCNN_TO_DLIB)", chip_lm),
                     ("shape predictor in the fitted box", chip_new)):
        e = np.array(e)
        print(f"held-out chip error, {label:<36}: RMS {np.sqrt((e ** 2).mean()):.2f} px, median "
              f"{np.median(e):.2f}, 95th percentile {np.percentile(e, 95):.2f}")
    coef = fit(kp2, box2)
    print("\nBOX_FROM_MTCNN = np.array([" + ", ".join(f"[{a:+.4f}, {b:+.4f}]" for a, b in coef) + "])")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
