"""Recorded clips for the live door: LFW photos moving a little on a background, as a camera would film them.

Part of :mod:`facelib.live` (lesson 10). For a machine without a camera (nbval, the classroom
build, tests, the bench, the browser test's fake camera): :func:`clip_frames` is the standard clip
(an enrolled person, then a stranger), :func:`make_clip` builds one from any photos,
:func:`write_y4m` writes it as the video Chromium's fake camera plays, :func:`lfw_photo` finds a
photo of the LFW subset.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from facelib.live.frames import FRAME_SIZE

__all__ = ["clip_frames", "lfw_photo", "make_clip", "write_y4m"]


def lfw_photo(person: str, k: int) -> Path:
    """Path of photo ``k`` (1-10) of ``person`` in the LFW subset (e.g. ``"Ariel_Sharon", 3``)."""
    from facelib import assets

    name = person.replace(" ", "_")
    path = assets.fetch("lfw-subset") / "lfw" / name / f"{name}_{int(k):04d}.jpg"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no photo {k} of {person!r} in the LFW subset")
    return path


def make_clip(photos: Sequence[np.ndarray], frames_per_photo: int = 20, *, size: tuple[int, int] = FRAME_SIZE,
              amplitude: float = 6.0, seed: int = 0) -> list[np.ndarray]:
    """A recorded clip: each photo pasted on a ``size`` background, moving a little, for some frames.

    Args:
        photos: ``(h, w, 3) uint8`` photos (e.g. 250×250 LFW), shown one after the other.
        frames_per_photo: frames per photo.
        size: ``(width, height)`` of the frames.
        amplitude: the photo drifts on a slow ellipse of this many pixels (plus ±1 px jitter).

    Returns:
        ``(height, width, 3) uint8`` frames.
    """
    width, height = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    bg = np.stack([70 + 40 * xx / width, 80 + 30 * yy / height, 95 + 20 * (xx + yy) / (width + height)],
                  -1).astype(np.uint8)
    frames = []
    t = 0
    for photo in photos:
        photo = np.asarray(photo, np.uint8)
        ph, pw = photo.shape[:2]
        if ph > height or pw > width:
            raise ValueError(f"a {pw}×{ph} photo does not fit a {width}×{height} frame")
        for _ in range(frames_per_photo):
            cx = (width - pw) / 2 + amplitude * np.cos(t / 7.0) + rng.integers(-1, 2)
            cy = (height - ph) / 2 + amplitude * 0.6 * np.sin(t / 7.0) + rng.integers(-1, 2)
            x0, y0 = int(np.rint(cx)), int(np.rint(cy))
            frame = bg.copy()
            frame[y0:y0 + ph, x0:x0 + pw] = photo
            frames.append(frame)
            t += 1
    return frames


def clip_frames(enrolled: str = "Ariel_Sharon", stranger: str = "Colin_Powell", frames_per_photo: int = 20,
                photos: Sequence[int] = (9, 10)) -> list[np.ndarray]:
    """The standard recorded clip: photos ``photos`` of ``enrolled``, then the same of ``stranger``.

    (Enrol ``enrolled`` from photos 1-5: the clip's photos are not among them.)
    """
    from facelib.data.images import read_image

    imgs = [read_image(lfw_photo(p, k)) for p in (enrolled, stranger) for k in photos]
    return make_clip(imgs, frames_per_photo)


def write_y4m(path: str | os.PathLike, frames: Sequence[np.ndarray], fps: int = 10) -> Path:
    """Write RGB frames as an uncompressed YUV4MPEG2 (4:2:0) video, the format Chromium's fake camera reads.

    Frame sizes must be even. BT.601 limited-range conversion.
    """
    frames = [np.asarray(f, np.uint8) for f in frames]
    if not frames:
        raise ValueError("no frames to write")
    h, w = frames[0].shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"y4m 4:2:0 needs even sizes; got {w}×{h}")
    out = Path(path)
    with open(out, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F{int(fps)}:1 Ip A1:1 C420jpeg\n".encode())
        for f in frames:
            if f.shape[:2] != (h, w):
                raise ValueError(f"frame of shape {f.shape} in a {w}×{h} clip")
            rgb = f.astype(np.float32)
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
            u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
            v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
            u = u.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
            v = v.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
            fh.write(b"FRAME\n")
            fh.writelines(np.clip(np.round(plane), 0, 255).astype(np.uint8).tobytes() for plane in (y, u, v))
    return out
