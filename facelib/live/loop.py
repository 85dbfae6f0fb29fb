"""The live door's loop: no queue, only the newest frame, answered in a worker thread.

Part of :mod:`facelib.live` (lesson 10). Frames that arrive while one is being processed are not
queued: :class:`LatestFrame` keeps only the newest and counts the others as dropped, so the answer
is always about *now*; :class:`LiveLoop` takes it from there, answers it with a
:class:`facelib.live.processor.FrameProcessor` and reports the :class:`~facelib.live.processor.LiveResult`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from facelib.live.processor import FrameProcessor, LiveResult

__all__ = ["LatestFrame", "LiveLoop"]


@dataclass
class _Slot:
    data: Any
    seq: int
    arrived: float
    still: bool = False


class LatestFrame:
    """A one-frame mailbox: a new frame replaces the unprocessed one (counted in ``dropped``).

    Args:
        max_age: a frame that waited longer than this many seconds is dropped too (stale).
    """

    def __init__(self, max_age: float = 0.5) -> None:
        self.max_age = float(max_age)
        self._cond = threading.Condition()
        self._slot: _Slot | None = None
        self.received = 0
        self.dropped = 0

    def put(self, data: Any, seq: int, *, still: bool = False, now: float | None = None) -> None:
        """Offer a frame; an older unprocessed one is dropped."""
        with self._cond:
            self.received += 1
            if self._slot is not None:
                self.dropped += 1
            self._slot = _Slot(data, int(seq), time.monotonic() if now is None else now, still)
            self._cond.notify()

    def get(self, timeout: float | None = None, *, now: float | None = None) -> _Slot | None:
        """The newest frame (removed from the box), ``None`` after ``timeout`` or when it is stale."""
        with self._cond:
            if self._slot is None:
                self._cond.wait(timeout)
            slot, self._slot = self._slot, None
        if slot is None:
            return None
        age = (time.monotonic() if now is None else now) - slot.arrived
        if age > self.max_age and not slot.still:
            with self._cond:
                self.dropped += 1
            return None
        return slot


class LiveLoop:
    """A worker thread: take the newest frame from a :class:`LatestFrame`, process it, report.

    Args:
        processor: the :class:`FrameProcessor`.
        on_result: called with each :class:`LiveResult` (from the worker thread).
        max_age: see :class:`LatestFrame`.
    """

    def __init__(self, processor: FrameProcessor, on_result: Callable[[LiveResult], None], *,
                 max_age: float = 0.5) -> None:
        self.processor = processor
        self.on_result = on_result
        self.frames = LatestFrame(max_age)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.processed = 0
        self._times: list[float] = []

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="facelib-live", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self.frames._cond:
            self.frames._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def submit(self, data: Any, seq: int, *, still: bool = False) -> None:
        self.frames.put(data, seq, still=still)

    def fps(self) -> float:
        """Frames answered per second over the last 2 seconds."""
        now = time.monotonic()
        recent = [t for t in self._times if now - t <= 2.0]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)

    def _run(self) -> None:
        while not self._stop.is_set():
            slot = self.frames.get(timeout=0.2)
            if slot is None:
                continue
            try:
                result = self.processor.process(slot.data, slot.seq, still=slot.still)
            except Exception as err:
                result = LiveResult(seq=slot.seq, error=f"{type(err).__name__}: {err}")
            self.processed += 1
            self._times = [t for t in self._times[-40:]] + [time.monotonic()]
            try:
                self.on_result(result)
            except Exception:
                logging.getLogger("facelib.live").exception("facelib.live: reporting frame %s failed", slot.seq)
