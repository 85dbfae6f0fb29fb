"""The happy house's door in a notebook cell: the camera widget, or a static demo on stored photos.

:func:`door` returns the camera widget (:class:`facelib.live.widget.LiveDoorWidget`) when a person
is at the keyboard, and otherwise draws :func:`static_demo` (nbval, ``facelib classroom``): the
door's answers on two stored LFW photos of a resident and two of a stranger
(:func:`demo_database` enrols the resident). :mod:`facelib.live` tells the loop for one frame.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from facelib import config
from facelib.live.clip import clip_frames, lfw_photo
from facelib.live.draw import draw
from facelib.live.frames import encode_jpeg
from facelib.live.processor import FrameProcessor, LiveResult

__all__ = ["demo_database", "door", "static_demo"]


def demo_database(person: str = "Ariel_Sharon", photos: Sequence[int] = (1, 2, 3, 4, 5)) -> Any:
    """A :class:`~facelib.faces.database.FaceDatabase` with ``person`` enrolled from LFW photos ``photos``."""
    from facelib.faces.database import FaceDatabase

    db = FaceDatabase()
    db.add(person.replace("_", " "), [lfw_photo(person, k) for k in photos], progress=False)
    return db


def static_demo(database: Any = None, *, enrolled: str = "Ariel_Sharon", stranger: str = "Colin_Powell",
                tau: float | None = None) -> tuple[np.ndarray, list[LiveResult]]:
    """The door on stored photos: two frames of ``enrolled`` and two of ``stranger``, answered and drawn.

    Returns:
        ``(grid, results)``: a ``(2·480, 2·640, 3) uint8`` picture of the four drawn frames and
        the four :class:`LiveResult`.
    """
    db = demo_database(enrolled) if database is None else database
    frames = clip_frames(enrolled, stranger, frames_per_photo=1)
    proc = FrameProcessor(db, tau=tau)
    results, drawn = [], []
    for i, frame in enumerate(frames):
        r = proc.process(encode_jpeg(frame), i + 1, still=True)
        results.append(r)
        drawn.append(draw(frame, r))
    top, bottom = np.concatenate(drawn[:2], axis=1), np.concatenate(drawn[2:4], axis=1)
    return np.concatenate([top, bottom], axis=0), results


def door(database: Any = None, *, tau: float | None = None, interactive: bool | None = None) -> Any | None:
    """The happy house's door for a notebook cell.

    With a person at the keyboard (``facelib.config.settings.interactive``): returns the camera
    widget (:class:`facelib.live.widget.LiveDoorWidget`; display it). Otherwise (nbval,
    ``facelib classroom``): draws the static demo (:func:`static_demo`) with matplotlib and
    returns ``None``.
    """
    show = config.settings.interactive if interactive is None else interactive
    if show:
        from facelib.live.widget import LiveDoorWidget

        return LiveDoorWidget(demo_database() if database is None else database, tau=tau)
    import matplotlib.pyplot as plt

    grid, results = static_demo(database, tau=tau)
    _fig, ax = plt.subplots(figsize=(10, 7.5))
    ax.imshow(grid)
    ax.set_axis_off()
    ax.set_title("The door on stored photos (no camera here): " + ", ".join(
        f"{r.label} → {'open' if r.door_open else 'shut'}" for r in results), fontsize=9)
    plt.show()
    return None
