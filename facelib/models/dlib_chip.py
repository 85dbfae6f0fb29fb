"""dlib's face chip without dlib: the 150×150 crop its ResNet was trained on, from MTCNN's keypoints.

dlib aligns a face for :mod:`facelib.models.dlib_resnet` with its own 5-point landmarks
(``shape_predictor_5_face_landmarks``: the outer and inner corner of each eye and the base of the
nose) and ``get_face_chip(img, shape, size=150, padding=0.25)``: the least-squares similarity that
puts the five landmarks on :data:`DLIB_LANDMARK_TEMPLATE`, sampled bilinearly. The project detects
faces with MTCNN, whose five keypoints (eye *centres*, nose *tip*, mouth corners) are other points,
so the chip is made in two steps:

1. :func:`landmarks_from_mtcnn` predicts dlib's five landmarks from MTCNN's five keypoints with
   :data:`MTCNN_TO_DLIB`, a fitted linear map that commutes with shifting, rotating and scaling
   the photo: each landmark is a fixed complex-weighted sum of the keypoints (points as complex
   numbers ``x + iy``; the weights of each landmark sum to 1). It was fitted by least squares to
   dlib's own landmarks on LFW View 1 DevTrain photos (never DevTest) by
   ``tools/fit_dlib_landmarks.py``; being linear in the keypoints it follows the pose: when the
   head turns, the nose tip moves away from the nose base and the eye corners from the centres.
2. :func:`chip_transform` and :func:`extract_chip` copy ``get_face_chip``'s geometry (the
   similarity onto the template, dlib's chip rectangle, sample at pixel indices, bilinear,
   truncated to ``uint8``, black outside the photo), so that dlib's landmarks give dlib's chip
   (tests/test_dlib_chip.py compares with ``dlib.get_face_chip``).

Since issue 29 the default route of :func:`facelib.faces.encoders.load` is :func:`chip_from_shape`: dlib's
own shape predictor (:mod:`facelib.models.dlib_shape`) started in :func:`box_from_mtcnn`, 1.1 px RMS from
dlib's own chip. The older ``"template"`` route (:data:`facelib.models.dlib_resnet.DLIB_CHIP_TEMPLATE`:
MTCNN's keypoints onto their *mean* positions in dlib's chips) ignores the pose, and its chips lie
farther from dlib's own (5.7 px RMS against 3.1, held out). Yet on LFW View 1 the nearer chips did
not verify better: DevTrain EER 1.09 % against 0.82 % (flip on), DevTest 98.8 % against 98.7 %
(``bench/lfw.py --alignment landmarks``), differences of a few pairs. Even dlib's *own* chips (its
landmarks, measured on DevTrain) reach only 0.73 %: what the last few pixels of framing are worth is
below what View 1's pairs can show, so this route is ``load("dlib", alignment="landmarks")``, kept
for View 2.
"""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image

from facelib.models.geometry import similarity_transform

__all__ = [
    "CHIP_PADDING",
    "DLIB_LANDMARK_TEMPLATE",
    "DLIB_LANDMARK_NAMES",
    "MTCNN_TO_DLIB",
    "ALIGNMENT_ID",
    "BOX_FROM_MTCNN",
    "SHAPE_ALIGNMENT_ID",
    "box_from_mtcnn",
    "chip_from_shape",
    "chip_from_mtcnn",
    "chip_transform",
    "dlib_chip",
    "extract_chip",
    "landmarks_from_mtcnn",
]

#: ``get_face_chip``'s padding for the face-recognition ResNet (``dnn_face_recognition_ex.cpp``).
CHIP_PADDING = 0.25

#: dlib's 5 landmarks in ``shape_predictor_5_face_landmarks``'s order ("right" = right of the picture).
DLIB_LANDMARK_NAMES = ("right_eye_outer", "right_eye_inner", "left_eye_outer", "left_eye_inner", "nose_base")

#: Where ``get_face_chip_details`` puts the 5 landmarks, in units of the face square before
#: padding (dlib ``image_transforms/interpolation.h``), :data:`DLIB_LANDMARK_NAMES` order.
DLIB_LANDMARK_TEMPLATE = np.array([[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677],
                                   [0.1205750620789, 0.2137274526848], [0.3340850613712, 0.2290642403242],
                                   [0.4901123135679, 0.6277975316475]], dtype=np.float64)

#: ``(5, 5)`` complex weights: dlib landmark ``j`` (row, :data:`DLIB_LANDMARK_NAMES` order) ≈
#: ``Σ_k W[j, k]·z_k`` for MTCNN keypoints ``z_k = x + iy`` (column, :data:`facelib.faces.detect.KEYPOINT_NAMES`
#: order); every row sums to 1. Made by ``python tools/fit_dlib_landmarks.py``: least squares on the
#: 3,417 LFW View 1 DevTrain photos where dlib (HOG + ``shape_predictor_5_face_landmarks``) and MTCNN
#: found the same face, each also mirrored. Held out (5 folds by person), the chip it gives lies
#: 3.1 px RMS (median 2.3) from dlib's own chip over the 150-pixel chip, against 5.7 px (median
#: 4.4) for the mean template; a quadratic map in a normalised frame did no better (3.0 px).
#: Reading the weights: an outer eye corner is 1.10 × its eye centre − 0.06 × the other one (the
#: eye line, stretched), the nose base 0.70 × the nose tip + 0.13 × each mouth corner (± a
#: sideways part that follows the head's turn).
MTCNN_TO_DLIB = np.array([
    [-0.06082+0.04892j, +1.10359+0.01291j, -0.09723-0.00929j, -0.02074-0.07636j, +0.07520+0.02382j],
    [+0.20605+0.00558j, +0.76666-0.00600j, +0.02729+0.00158j, -0.01924-0.03409j, +0.01925+0.03294j],
    [+1.10359-0.01291j, -0.06082-0.04892j, -0.09723+0.00929j, +0.07520-0.02382j, -0.02074+0.07636j],
    [+0.76666+0.00600j, +0.20605-0.00558j, +0.02729-0.00158j, +0.01925-0.03294j, -0.01924+0.03409j],
    [+0.01603-0.00294j, +0.01603+0.00294j, +0.70498-0.00000j, +0.13148-0.09133j, +0.13148+0.09133j],
], dtype=np.complex128)
MTCNN_TO_DLIB += (1 - MTCNN_TO_DLIB.sum(1, keepdims=True)) / 5  # rows sum to 1 exactly, not to 1 ± 1e-5

#: Names this alignment (the map's weights, the chip geometry) in the encoding cache.
ALIGNMENT_ID = "lm-" + hashlib.sha256(MTCNN_TO_DLIB.tobytes() + b"dlib-chip-1").hexdigest()[:8]


#: ``(3, 2)`` coefficients of :func:`box_from_mtcnn`: rows ``(a₁, a₂)``, ``(b₁, b₂)``, ``(g₁, g₂)``.
#: Made by ``python tools/fit_dlib_box.py``: least squares against dlib's own frontal HOG detector
#: (``dlib-bin``, one up-sampling, the face nearest the centre) on the 3,422 LFW View 1 DevTrain photos
#: where it and MTCNN found the same face, each also mirrored. Held out (5 folds by person), the box
#: is off by a median 0.19 eye distances on its worst side, yet dlib's shape predictor started in it
#: puts the landmarks a median 0.45 px (RMS over the 5; 95th percentile 1.10 px) from where it puts
#: them in dlib's own box, and the chip lies 1.14 px RMS from dlib's own chip (median 0.71) against
#: 3.05 px for :data:`MTCNN_TO_DLIB` and 5.74 px for the mean template. Reading it: the box centre is
#: 0.31 of the way from the eyes to the mouth (plus a quarter of the nose's offset, which follows a
#: turned head), its side 1.04 eye distances + 1.37 eye-to-mouth distances.
BOX_FROM_MTCNN = np.array([[+0.3140, -0.0605], [+0.2970, +0.2519], [+1.0436, +1.3692]])

#: Names the shape-predictor alignment (the box map, the chip geometry) in the encoding cache.
SHAPE_ALIGNMENT_ID = "sp-" + hashlib.sha256(BOX_FROM_MTCNN.tobytes() + b"dlib-shape-5+chip-1").hexdigest()[:8]


def box_from_mtcnn(keypoints: np.ndarray, coefficients: np.ndarray | None = None) -> np.ndarray:
    """The box ``(left, top, right, bottom)`` dlib's HOG detector would give, from MTCNN's ``(5, 2)`` keypoints.

    With ``e`` the eyes' midpoint, ``u`` the vector from ``e`` to the mouth corners' midpoint, ``n``
    the nose: centre ``x = e_x + a₁·u_x + a₂·(n_x − e_x)``, ``y = e_y + b₁·u_y + b₂·(n_y − e_y)``, side
    ``g₁·|r − l| + g₂·|u|`` (eye centres ``l``, ``r``), square, dlib's inclusive convention
    (``right = left + side − 1``). ``coefficients``: ``(3, 2)``, default :data:`BOX_FROM_MTCNN`.
    """
    kp = np.asarray(keypoints, np.float64)
    if kp.shape != (5, 2):
        raise ValueError(f"keypoints must be (5, 2) (x, y) of MTCNN's five points; got {kp.shape}")
    (a1, a2), (b1, b2), (g1, g2) = BOX_FROM_MTCNN if coefficients is None else np.asarray(coefficients, np.float64)
    e = kp[:2].mean(0)
    u = kp[3:].mean(0) - e
    nose = kp[2] - e
    cx, cy = e[0] + a1 * u[0] + a2 * nose[0], e[1] + b1 * u[1] + b2 * nose[1]
    side = g1 * float(np.hypot(*(kp[1] - kp[0]))) + g2 * float(np.hypot(*u))
    half = (side - 1) / 2
    return np.array([cx - half, cy - half, cx + half, cy + half])


def chip_from_shape(rgb: np.ndarray, keypoints: np.ndarray, size: int = 150) -> np.ndarray:
    """dlib's chip as dlib cuts it: the box :func:`box_from_mtcnn`, dlib's 5-point shape predictor in it
    (:mod:`facelib.models.dlib_shape`, NumPy), then :func:`dlib_chip` → ``(size, size, 3) uint8``."""
    from facelib.models.dlib_shape import load_shape_predictor

    return dlib_chip(rgb, load_shape_predictor()(rgb, box_from_mtcnn(keypoints)), size)


def landmarks_from_mtcnn(keypoints: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """MTCNN's ``(5, 2)`` keypoints (x, y) → dlib's ``(5, 2)`` landmarks (:data:`DLIB_LANDMARK_NAMES`).

    ``weights``: a ``(5, 5)`` complex map (default :data:`MTCNN_TO_DLIB`).
    """
    kp = np.asarray(keypoints, np.float64)
    if kp.shape != (5, 2):
        raise ValueError(f"keypoints must be (5, 2) (x, y) of MTCNN's five points; got {kp.shape}")
    w = MTCNN_TO_DLIB if weights is None else np.asarray(weights, np.complex128)
    z = w @ (kp[:, 0] + 1j * kp[:, 1])
    return np.stack([z.real, z.imag], 1)


def chip_transform(landmarks: np.ndarray, size: int = 150, padding: float = CHIP_PADDING) -> np.ndarray:
    """``get_face_chip_details`` for 5 landmarks: the ``(2, 3)`` affine chip pixel → photo pixel.

    dlib fits the similarity chip → photo that takes :data:`DLIB_LANDMARK_TEMPLATE` (padded, times
    ``size``) to the landmarks, then keeps its angle, its scale ``s`` and where it maps the chip
    centre ``size / 2``; chip pixel ``(0, 0)`` and ``(size - 1, size - 1)`` are the corners of the
    ``size·s - 1`` wide rectangle around that centre. Pixel ``(x, y)`` is at index ``[y, x]``.
    """
    chip_points = (DLIB_LANDMARK_TEMPLATE + padding) / (2 * padding + 1) * size
    m = similarity_transform(chip_points, np.asarray(landmarks, np.float64))
    scale = float(np.hypot(*m[:, 0]))
    centre = m[:, :2] @ [size / 2, size / 2] + m[:, 2]
    a = m[:, :2] / scale * (size * scale - 1) / (size - 1)
    return np.hstack([a, (centre - a @ [(size - 1) / 2, (size - 1) / 2])[:, None]])


def extract_chip(rgb: np.ndarray, transform: np.ndarray, size: int = 150) -> np.ndarray:
    """Sample the ``(size, size, 3) uint8`` chip: chip pixel ``(x, y)`` ← photo at ``transform @ (x, y, 1)``.

    Bilinear between the four pixels around each point, truncated to ``uint8`` (as dlib does);
    black where those four pixels are not all inside the photo. When the chip shrinks the face
    more than 2×, the photo is first halved (box filter) as often as needed, as dlib halves it
    with its image pyramid, so fine detail does not alias.
    """
    img = np.asarray(rgb)
    t = np.asarray(transform, np.float64).copy()
    while np.hypot(*t[:, 0]) > 2.0 and min(img.shape[:2]) >= 4:
        img = np.asarray(Image.fromarray(img).reduce(2))  # pixel i of the half is pixels 2i, 2i+1
        t = t / 2.0
        t[:, 2] -= 0.25
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    px = t[0, 0] * xs + t[0, 1] * ys + t[0, 2]
    py = t[1, 0] * xs + t[1, 1] * ys + t[1, 2]
    x0, y0 = np.floor(px), np.floor(py)
    inside = (x0 >= 0) & (y0 >= 0) & (x0 + 1 < w) & (y0 + 1 < h)
    fx, fy = (px - x0)[..., None], (py - y0)[..., None]
    xi, yi = np.where(inside, x0, 0).astype(np.intp), np.where(inside, y0, 0).astype(np.intp)
    x1, y1 = np.minimum(xi + 1, w - 1), np.minimum(yi + 1, h - 1)
    f = img.astype(np.float64)
    top = (1 - fx) * f[yi, xi] + fx * f[yi, x1]
    bottom = (1 - fx) * f[y1, xi] + fx * f[y1, x1]
    out = ((1 - fy) * top + fy * bottom).astype(np.uint8)  # truncation, like dlib's cast
    out[~inside] = 0
    return out


def chip_from_mtcnn(rgb: np.ndarray, keypoints: np.ndarray, size: int = 150) -> np.ndarray:
    """The ``(size, size, 3) uint8`` dlib chip of a photo from MTCNN's ``(5, 2)`` keypoints
    (:func:`landmarks_from_mtcnn`, then :func:`dlib_chip`): what ``load("dlib", alignment="landmarks")``
    feeds the network."""
    return dlib_chip(rgb, landmarks_from_mtcnn(keypoints), size)


def dlib_chip(rgb: np.ndarray, landmarks: np.ndarray, size: int = 150, padding: float = CHIP_PADDING) -> np.ndarray:
    """dlib's face chip ``(size, size, 3) uint8`` of an ``(H, W, 3) uint8`` photo from dlib's 5 landmarks."""
    return extract_chip(rgb, chip_transform(landmarks, size, padding), size)
