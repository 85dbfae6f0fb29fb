"""Face detection and alignment: find the face, then cut it out the same way every time.

FaceNet compares *faces*, not photos: before encoding, a photo goes through

1. **detection** — :func:`detect_faces` runs MTCNN (Zhang et al. 2016, the ``mtcnn`` package,
   which ships its weights): a box, a confidence and 5 keypoints (eyes, nose, mouth corners) per
   face;
2. **alignment** — :func:`align` maps the 5 keypoints onto a canonical template with a
   similarity transform (rotation + uniform scale + shift, least squares; Umeyama 1991), so the
   eyes always land on the same pixels of the ``size × size`` output. With ``keypoints=False`` it
   is a plain box crop (box plus ``margin``, resized), as the original FaceNet code did.

For many photos at once, :func:`main_faces` batches the detection and :func:`detect_and_align`
does both steps (what :class:`facelib.faces.database.FaceDatabase` runs on every photo).

Memory: MTCNN's image pyramid needs about 190 bytes per pixel (a 12-megapixel phone photo took 2.3 GB,
a 144-megapixel one 22 GB). Detection therefore runs on a copy shrunk to at most
:data:`DETECT_MAX_PIXELS` (2 megapixels, about 1,630 × 1,225) and the boxes and keypoints are scaled
back to the photo's own pixels, so alignment still cuts the face from the full-resolution photo.
We downscale rather than refuse because phone photos are mostly larger than that and their faces stay
findable: MTCNN finds faces of 20 pixels and up, so after shrinking a face is found when it spans at
least about 1/80 of the photo's longer side (50 px of a 4,000-px photo). Files above
:data:`facelib.data.images.MAX_PIXELS` are refused from their header before decoding.

A photo with no face raises :class:`NoFaceFoundError` (a ``ValueError``) naming the file.

A photo is converted to an ``(H, W, 3) uint8`` RGB array once, where it enters (the public
functions accept paths, PIL images or arrays); the work is done by private functions on that array.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from facelib.data.images import ImageLike, describe, to_rgb_uint8
from facelib.models.geometry import similarity_transform

__all__ = [
    "CENTRE_FRACTION", "DETECT_CHUNK", "DETECT_MAX_PIXELS", "FALLBACK_CONFIDENCE", "Face", "KEYPOINT_NAMES",
    "NoFaceFoundError", "TEMPLATE_5", "align",
    "centre_keypoints", "crop_box", "detect_and_align", "detect_face", "detect_faces", "detect_faces_batch",
    "main_face", "main_faces", "warp_to_template",
]

#: The 5 MTCNN keypoints in the order used by every array here.
KEYPOINT_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")

#: Canonical positions of the 5 keypoints in the face square, in ``[0, 1]`` units ("left_eye" is
#: the eye on the left of the picture). This is the geometry FaceNet was trained on: the mean
#: keypoint positions inside MTCNN box crops (16-pixel margin) of the LFW subset's 100 photos,
#: made left-right symmetric. (The tighter 112×112 ArcFace template, made for other networks,
#: puts the face where this FaceNet does not expect it: 1-shot accuracy fell to 78–98 %.)
TEMPLATE_5 = np.array([[0.3116, 0.4018], [0.6884, 0.4018], [0.5000, 0.5786],
                       [0.3315, 0.7251], [0.6685, 0.7251]], dtype=np.float64)

#: A fallback for photos where no face reaches the usual 0.9: the probability MTCNN's own last
#: stage (ONet) already requires in the ``mtcnn`` package (``threshold_onet``), i.e. any face it
#: returns. On LFW View 1 it finds the face of all 6 of the 4,992 photos where none reached 0.9
#: (clear faces scored 0.86–0.90: two babies, a grimace, a face by the edge), which would
#: otherwise get a centre crop.
FALLBACK_CONFIDENCE = 0.8

#: Detection runs on a copy of the photo of at most this many pixels (see the module docstring).
DETECT_MAX_PIXELS = 2_000_000

#: Photos MTCNN sees per call in the batched functions. On 2 CPU cores and LFW's 250 × 250 photos:
#: 18 ms a photo in batches of 16, 24 ms in batches of 8, 33 ms in batches of 4, 85 ms one at a time.
#: A batch of 16 needs about 110 MB more at its peak than one of 8, and TensorFlow's CPU allocator keeps
#: that memory for the rest of the process: a lesson pays it once and keeps paying it.
DETECT_CHUNK = 8

#: Default margin of :func:`align` with keypoints: border added on each side of the template
#: square, as a fraction of it (0 = the template's own framing, which already includes a margin).
ALIGN_MARGIN = 0.0
#: Default margin of a box crop, in pixels of the original photo (total, as in FaceNet's code).
BOX_MARGIN = 32
#: Photos with no MTCNN face are replaced by "centre" keypoints: the template square is taken as
#: this fraction of the photo's shorter side, centred (about where LFW's centred faces lie).
CENTRE_FRACTION = 0.45


class NoFaceFoundError(ValueError):
    """The detector found no face (with enough confidence) in an image; the message names it."""


@dataclass(frozen=True)
class Face:
    """One detected face.

    Attributes:
        box: ``(x, y, width, height)`` in pixels of the photo (x to the right, y down).
        keypoints: ``(5, 2) float64`` ``(x, y)`` of :data:`KEYPOINT_NAMES`.
        confidence: the detector's probability that this is a face, in ``[0, 1]``.
    """

    box: tuple[int, int, int, int]
    keypoints: np.ndarray
    confidence: float

    @property
    def area(self) -> int:
        """Box area in pixels."""
        return int(self.box[2]) * int(self.box[3])


@functools.lru_cache(maxsize=1)
def _detector():
    from mtcnn import MTCNN

    return MTCNN()


def _to_faces(raw: list[dict], min_confidence: float) -> list[Face]:
    faces = []
    for r in raw:
        conf = float(r["confidence"])
        if conf < min_confidence:
            continue
        kp = np.array([[float(v) for v in r["keypoints"][k]] for k in KEYPOINT_NAMES], dtype=np.float64)
        faces.append(Face(tuple(int(v) for v in r["box"]), kp, conf))  # type: ignore[arg-type]
    return sorted(faces, key=lambda f: -f.confidence)


def detect_faces(image: ImageLike, *, min_confidence: float = 0.9) -> list[Face]:
    """Every face MTCNN finds in one photo, most confident first.

    Args:
        image: a path, PIL image or ``(H, W, 3)`` array (any format :func:`facelib.data.images.to_rgb_uint8`
            reads: greyscale, RGBA, CMYK, 16-bit are converted to RGB).
        min_confidence: drop detections below this probability.

    Returns:
        A list of :class:`Face` (empty when there is none).
    """
    return _detect_faces(to_rgb_uint8(image), min_confidence)


def _detect_faces(rgb: np.ndarray, min_confidence: float) -> list[Face]:
    return _to_faces(_mtcnn([rgb])[0], min_confidence)


def _shrunk(rgb: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``rgb`` shrunk to at most :data:`DETECT_MAX_PIXELS` and the factors ``(sx, sy)`` back to its pixels."""
    h, w = rgb.shape[:2]
    if h * w <= DETECT_MAX_PIXELS:
        return rgb, 1.0, 1.0
    f = (DETECT_MAX_PIXELS / (h * w)) ** 0.5
    nw, nh = max(1, int(w * f)), max(1, int(h * f))
    small = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=2.0))
    return small, w / nw, h / nh


def _mtcnn(rgbs: list[np.ndarray]) -> list[list[dict]]:
    """MTCNN's raw detections of each photo, found on copies of at most :data:`DETECT_MAX_PIXELS`,
    in each photo's own pixels."""
    shrunk = [_shrunk(r) for r in rgbs]
    smalls = [s for s, _, _ in shrunk]
    raw = [_detector().detect_faces(smalls[0])] if len(smalls) == 1 else _detector().detect_faces(smalls)
    out = []
    for found, (_, sx, sy) in zip(raw, shrunk):
        out.append([{**d, "box": [round(d["box"][0] * sx), round(d["box"][1] * sy), round(d["box"][2] * sx),
                             round(d["box"][3] * sy)],
                     "keypoints": {k: (float(x) * sx, float(y) * sy) for k, (x, y) in d["keypoints"].items()}}
                    if (sx, sy) != (1.0, 1.0) else d for d in found])
    return out


def detect_faces_batch(images: Sequence[ImageLike], *, min_confidence: float = 0.9,
                       chunk: int = DETECT_CHUNK) -> list[list[Face]]:
    """:func:`detect_faces` for several photos at once (MTCNN batches them; much faster).

    Photos of different sizes are padded by MTCNN; the boxes are in each photo's own pixels (photos
    above :data:`DETECT_MAX_PIXELS` are detected on a shrunk copy, see the module docstring).
    MTCNN sees ``chunk`` photos per call: its image pyramids grow with the batch (400 photos at
    once took gigabytes); :data:`DETECT_CHUNK` weighs speed against memory.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1; got {chunk}")
    out: list[list[Face]] = []
    for start in range(0, len(images), chunk):
        rgbs = [to_rgb_uint8(im) for im in images[start:start + chunk]]
        out += [_to_faces(r, min_confidence) for r in _mtcnn(rgbs)]
    return out


def main_face(faces: Sequence[Face], image_shape: tuple[int, ...]) -> Face | None:
    """The face a portrait is "of": large and near the centre.

    Scores each face by box area minus twice its squared distance from the photo's centre
    (the rule of FaceNet's ``align_dataset_mtcnn.py``); ``None`` for no face.
    """
    if not faces:
        return None
    h, w = image_shape[:2]

    def score(f: Face) -> float:
        x, y, bw, bh = f.box
        dx, dy = x + bw / 2 - w / 2, y + bh / 2 - h / 2
        return f.area - 2.0 * (dx * dx + dy * dy)

    return max(faces, key=score)


def detect_face(image: ImageLike, *, min_confidence: float = 0.9) -> Face:
    """The main face of a photo (see :func:`main_face`).

    Raises:
        NoFaceFoundError: no face with at least ``min_confidence``; the message names the image.
    """
    return _detect_face(to_rgb_uint8(image), describe(image), min_confidence)


def _detect_face(rgb: np.ndarray, name: str, min_confidence: float) -> Face:
    face = main_face(_detect_faces(rgb, min_confidence), rgb.shape)
    if face is None:
        raise NoFaceFoundError(f"no face found in {name} (MTCNN confidence ≥ {min_confidence}); "
                               "use a photo where the face is visible, or pass detect=False to use the whole image")
    return face


def centre_keypoints(shape_hw: tuple[int, ...]) -> np.ndarray:
    """Stand-in keypoints for a photo without a detected face: :data:`TEMPLATE_5`
    in a centred square of :data:`CENTRE_FRACTION` of the shorter side ("centre crop")."""
    h, w = shape_hw[:2]
    side = CENTRE_FRACTION * min(h, w)
    return TEMPLATE_5 * side + [(w - side) / 2, (h - side) / 2]


def warp_to_template(rgb: np.ndarray, keypoints: np.ndarray, template: np.ndarray, size: int) -> np.ndarray:
    """Map ``keypoints`` (5, 2) onto ``template`` (5, 2, in units of the side) by a least-squares
    similarity and sample the ``(size, size, 3) uint8`` crop bilinearly (black outside the photo)."""
    m = similarity_transform(keypoints, np.asarray(template) * size)
    inv = np.linalg.inv(np.vstack([m, [0.0, 0.0, 1.0]]))[:2]
    out = Image.fromarray(rgb).transform((size, size), Image.Transform.AFFINE, tuple(inv.ravel()),
                                  resample=Image.Resampling.BILINEAR)
    return np.asarray(out)


def crop_box(image: ImageLike, face: Face, size: int = 160, margin: int = BOX_MARGIN) -> np.ndarray:
    """The face's box grown by ``margin`` pixels (half on each side), clipped, resized bilinearly.

    Returns:
        ``(size, size, 3) uint8``.
    """
    return _crop_box(to_rgb_uint8(image), face, size, margin)


def _crop_box(rgb: np.ndarray, face: Face, size: int, margin: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    x, y, bw, bh = face.box
    x0, y0 = max(int(x - margin / 2), 0), max(int(y - margin / 2), 0)
    x1, y1 = min(int(x + bw + margin / 2), w), min(int(y + bh + margin / 2), h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"face box {face.box} lies outside the {w}×{h} image")
    return np.asarray(Image.fromarray(rgb[y0:y1, x0:x1]).resize((size, size), Image.Resampling.BILINEAR))


def align(image: ImageLike, face: Face, size: int = 160, margin: float | None = None, *,
          keypoints: bool = True) -> np.ndarray:
    """Cut out an aligned face.

    Args:
        image: the photo the face was detected in (path, PIL image or array).
        face: a :class:`Face` from :func:`detect_faces`.
        size: side of the output square (160 for FaceNet).
        margin: with ``keypoints=True``, the border around the canonical face square on each
            side as a fraction of it (default :data:`ALIGN_MARGIN`); with ``keypoints=False``,
            pixels added around the box (default :data:`BOX_MARGIN`).
        keypoints: ``True`` maps the 5 keypoints onto :data:`TEMPLATE_5` with a similarity
            transform (bilinear sampling, black outside the photo); ``False`` is a box crop.

    Returns:
        ``(size, size, 3) uint8`` RGB face.
    """
    return _align(to_rgb_uint8(image), face, size, margin, keypoints)


def _align(rgb: np.ndarray, face: Face, size: int, margin: float | None, keypoints: bool) -> np.ndarray:
    if not keypoints:
        return _crop_box(rgb, face, size, int(BOX_MARGIN if margin is None else margin))
    margin = ALIGN_MARGIN if margin is None else float(margin)
    return warp_to_template(rgb, face.keypoints, (TEMPLATE_5 + margin) / (1.0 + 2.0 * margin), size)



def main_faces(images: Sequence[ImageLike], *, min_confidence: float = 0.9, chunk: int = DETECT_CHUNK,
               progress: bool | None = None, fallback_confidence: float | None = None) -> list[Face | None]:
    """The main face (:func:`main_face`) of each photo, detected in batches; ``None`` where there is none.

    MTCNN pads a batch to its largest photo, which shifts the boxes of smaller ones a little: only
    photos of the same size are batched together, so a photo's face is the same alone or in a batch.

    Args:
        images: photos (paths, PIL images or arrays; each converted once with :func:`to_rgb_uint8`).
        min_confidence: drop detections below this probability.
        chunk: photos read and detected at a time.
        progress: show a progress bar (default: ``facelib.config.settings.progress`` and more than one chunk).
        fallback_confidence: where no face reaches ``min_confidence``, take the main face of those
            reaching this lower probability instead of ``None`` (e.g. :data:`FALLBACK_CONFIDENCE`;
            ``None``: no fallback).

    Returns:
        One :class:`Face` or ``None`` per photo, in order.
    """
    out: list[Face | None] = []
    for _, rgbs in _chunks(list(images), chunk, progress):
        out += _chunk_main_faces(rgbs, min_confidence, fallback_confidence)
    return out


def detect_and_align(images: Sequence[ImageLike], *, size: int = 160, margin: float | None = None,
                     keypoints: bool = True, min_confidence: float = 0.9, chunk: int = DETECT_CHUNK,
                     progress: bool | None = None, hint: str = "use a photo where the face is visible") -> np.ndarray:
    """Detect the main face of every photo (batched as in :func:`main_faces`) and :func:`align` it.

    Args:
        images: photos (paths, PIL images or arrays).
        size, margin, keypoints: as in :func:`align`.
        min_confidence, chunk, progress: as in :func:`main_faces`.
        hint: advice appended to the error message when a photo has no face.

    Returns:
        ``(m, size, size, 3) uint8`` aligned faces, one per photo (``(0, size, size, 3)`` for none).

    Raises:
        NoFaceFoundError: a photo without a face; the message names it.
        FileNotFoundError / ValueError: a missing or unreadable image (named).
    """
    out = []
    for part, rgbs in _chunks(list(images), chunk, progress):
        for im, rgb, face in zip(part, rgbs, _chunk_main_faces(rgbs, min_confidence)):
            if face is None:
                raise NoFaceFoundError(f"no face found in {describe(im)}; {hint}")
            out.append(_align(rgb, face, size, margin, keypoints))
    return np.stack(out) if out else np.zeros((0, size, size, 3), np.uint8)


def _chunks(images: list, chunk: int, progress: bool | None):
    """``(photos, their RGB arrays)`` ``chunk`` at a time, with an optional progress bar."""
    from facelib import config
    from facelib.progress import tqdm

    show = config.settings.progress if progress is None else progress
    for start in tqdm(range(0, len(images), chunk), desc="detecting", unit="batch", leave=False,
                      disable=not show or len(images) <= chunk):
        part = images[start:start + chunk]
        yield part, [to_rgb_uint8(im) for im in part]


def _chunk_main_faces(rgbs: list[np.ndarray], min_confidence: float,
                      fallback_confidence: float | None = None) -> list[Face | None]:
    lowest = min_confidence if fallback_confidence is None else min(min_confidence, fallback_confidence)
    found: list[list[Face]] = [[] for _ in rgbs]
    for shape in {r.shape for r in rgbs}:
        idx = [k for k, r in enumerate(rgbs) if r.shape == shape]
        for k, faces in zip(idx, detect_faces_batch([rgbs[k] for k in idx], min_confidence=lowest)):
            found[k] = faces
    out = []
    for rgb, faces in zip(rgbs, found):
        sure = [f for f in faces if f.confidence >= min_confidence]
        out.append(main_face(sure or faces, rgb.shape))
    return out

