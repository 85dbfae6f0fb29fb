"""Measure where MTCNN's five keypoints fall inside dlib's 150×150 face chip (padding 0.25).

dlib aligns a face for its ResNet with its own 5-point landmarks (eye corners and the base of the
nose, ``shape_predictor_5_face_landmarks``) and ``get_face_chip(size=150, padding=0.25)``. The
project detects faces with MTCNN, whose five keypoints (eye centres, nose tip, mouth corners) are
different points. To give the dlib network the chip it was trained on from MTCNN's keypoints, we
need the *template*: the average position of each MTCNN keypoint inside dlib's chip.

How it is measured, per photo (LFW photos are 250×250):

1. dlib's own pipeline: HOG detector → 5-point shape → ``get_face_chip_details(shape, 150, 0.25)``;
2. the chip's geometry: ``extract_image_chip`` applied to a *coordinate image* (red = x,
   green = y of each photo pixel) gives, at every chip pixel, the photo pixel it was sampled from
   (bilinear sampling of a linear ramp is exact); a least-squares fit over the chip gives the
   similarity chip → photo;
3. MTCNN's keypoints on the same photo, mapped into the chip by the inverse similarity.

The template is the mean over the photos, made left-right symmetric, in units of the chip side
(``facelib.models.dlib_resnet.DLIB_CHIP_TEMPLATE``). Run offline (needs ``dlib-bin``)::

    python tools/dlib_chip_template.py DIR_WITH_LFW_PHOTOS [N]

tests/test_dlib_resnet.py re-measures it on the 100 LFW-subset photos and checks that the
stored template agrees and that chips made from MTCNN keypoints frame the face where dlib does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

CHIP_SIZE = 150
CHIP_PADDING = 0.25


def chip_to_photo(details, shape_hw: tuple[int, int]) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The ``(2, 3)`` similarity mapping chip pixel ``(x, y, 1)`` to photo pixel, for a dlib chip."""
    import dlib

    from facelib.models.geometry import similarity_transform

    h, w = shape_hw
    if max(h, w) > 256:
        raise ValueError("the coordinate-image trick needs photos of at most 256×256 pixels")
    yy, xx = np.mgrid[0:h, 0:w]
    coords = np.ascontiguousarray(np.stack([xx, yy, np.zeros_like(xx)], -1).astype(np.uint8))
    chip = np.asarray(dlib.extract_image_chip(coords, details)).astype(np.float64)
    cy, cx = np.mgrid[0:details.rows, 0:details.cols]
    inside = (chip[..., 0] > 0) & (chip[..., 0] < w - 1) & (chip[..., 1] > 0) & (chip[..., 1] < h - 1)
    src = np.stack([cx[inside], cy[inside]], 1).astype(np.float64)
    dst = chip[inside][:, :2]
    return similarity_transform(src, dst)


def measure(photos: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """``(template (5, 2) in [0, 1] units, per-photo keypoints (n, 5, 2) in chip pixels)``."""
    import dlib
    from PIL import Image

    from facelib import assets
    from facelib.faces import NoFaceFoundError, detect_face

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(assets.fetch("dlib-shape-predictor-5")))
    per_photo = []
    for photo in photos:
        img = np.asarray(Image.open(photo).convert("RGB"))
        boxes = detector(img, 1)
        if not boxes:
            continue
        try:
            face = detect_face(img)
        except NoFaceFoundError:
            continue
        details = dlib.get_face_chip_details(predictor(img, boxes[0]), size=CHIP_SIZE, padding=CHIP_PADDING)
        m = np.vstack([chip_to_photo(details, img.shape[:2]), [0, 0, 1]])
        inv = np.linalg.inv(m)[:2]
        kp = np.hstack([face.keypoints, np.ones((5, 1))]) @ inv.T
        per_photo.append(kp)
    pts = np.array(per_photo)
    mean = pts.mean(0) / CHIP_SIZE
    # left-right symmetric: mirror x -> 1 - x and swap left/right eye and mouth corners
    mirrored = mean[[1, 0, 2, 4, 3]] * [-1, 1] + [1, 0]
    return (mean + mirrored) / 2, pts


def main(argv: list[str]) -> None:
    root = Path(argv[0])
    n = int(argv[1]) if len(argv) > 1 else 300
    photos = sorted(root.rglob("*.jpg"))
    photos = photos[:: max(1, len(photos) // n)][:n]
    template, pts = measure(photos)
    spread = (pts / CHIP_SIZE - template).std(0)
    print(f"{len(pts)} photos (of {len(photos)}) where both detectors found the face")
    print("template (x, y) in chip units:")
    print(np.array2string(template, precision=4, separator=", "))
    print("per-keypoint std (chip units):", np.array2string(spread, precision=4, separator=", "))


if __name__ == "__main__":
    main(sys.argv[1:])
