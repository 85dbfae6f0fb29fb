"""When does it fail? The photo degradations of the robustness card (``bench/lfw.py --robustness``).

A verifier's published accuracy is measured on clear, well-lit, frontal photos. A door meets blur
(a moving visitor), strong JPEG compression (a cheap camera), darkness, a mask over the lower face
and a tilted head. :func:`degrade` applies one of these, at three levels, to a photo; the card
encodes the degraded probe photo through the *whole* pipeline (MTCNN finds the face again, then
alignment and the network) and compares it with the clean photo of the pair, at the thresholds
chosen on clean photos (:data:`DEGRADATIONS` lists the kinds and levels).

The mask needs to know where the face is: it is drawn from MTCNN's keypoints of the clean photo
(a surgical-mask blue polygon from the chin up to below the nose at the strongest level).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

__all__ = ["DEGRADATIONS", "degrade", "mask_polygon"]

#: kind → its three levels, mildest first: Gaussian blur σ (pixels), JPEG quality, brightness
#: factor, how far up the mask reaches (0: below the mouth, 0.5: over the mouth, 1: up to the nose),
#: in-plane rotation (degrees, about the photo's centre).
DEGRADATIONS: dict[str, tuple[float, ...]] = {
    "blur": (1.5, 3.0, 5.0),
    "jpeg": (20, 10, 5),
    "dark": (0.4, 0.2, 0.08),
    "mask": (0.0, 0.5, 1.0),
    "rotation": (15.0, 30.0, 45.0),
}

#: The mask's colour (RGB): a light surgical-mask blue.
MASK_RGB = (150, 190, 215)


def mask_polygon(keypoints: np.ndarray, reach: float) -> list[tuple[float, float]]:
    """A lower-face mask from MTCNN's ``(5, 2)`` keypoints: its top edge ``reach`` of the way from the
    mouth line (0) up to the nose tip (1), its bottom below the chin, as wide as the cheeks."""
    kp = np.asarray(keypoints, np.float64)
    eyes, nose, mouth = kp[:2].mean(0), kp[2], kp[3:].mean(0)
    across = kp[1] - kp[0]
    across /= max(np.linalg.norm(across), 1e-9)
    down = np.array([-across[1], across[0]])  # perpendicular to the eye line, pointing to the chin
    eye_d = np.linalg.norm(kp[1] - kp[0])
    top = mouth + reach * (nose - mouth) - 0.15 * eye_d * down
    chin = mouth + 1.1 * np.dot(mouth - eyes, down) * down
    half = 0.95 * eye_d
    return [tuple(p) for p in (top - half * across, top + half * across, chin + 0.7 * half * across,
                               chin - 0.7 * half * across)]


def degrade(rgb: np.ndarray, kind: str, level: float, keypoints: np.ndarray | None = None) -> np.ndarray:
    """One degradation of the card → a new ``(H, W, 3) uint8`` photo.

    Args:
        rgb: ``(H, W, 3) uint8`` photo.
        kind: a key of :data:`DEGRADATIONS`.
        level: its strength (e.g. one of ``DEGRADATIONS[kind]``).
        keypoints: MTCNN's ``(5, 2)`` keypoints of the face (needed by ``"mask"`` only).
    """
    img = Image.fromarray(np.asarray(rgb, np.uint8))
    if kind == "blur":
        return np.asarray(img.filter(ImageFilter.GaussianBlur(level)))
    if kind == "jpeg":
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=int(level))
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    if kind == "dark":
        return np.clip(np.asarray(rgb, np.float64) * level, 0, 255).astype(np.uint8)
    if kind == "mask":
        if keypoints is None:
            raise ValueError("the mask is drawn from the face's keypoints: pass keypoints=(5, 2)")
        ImageDraw.Draw(img).polygon(mask_polygon(keypoints, level), fill=MASK_RGB)
        return np.asarray(img)
    if kind == "rotation":
        return np.asarray(img.rotate(level, resample=Image.Resampling.BILINEAR))
    raise ValueError(f"unknown degradation {kind!r}; choose one of {', '.join(DEGRADATIONS)}")
