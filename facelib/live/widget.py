"""The camera widget of the live happy house (on ``anywidget``; JupyterLab 4, Notebook 7, VS Code, Colab).

The browser half lives in ``camera.js``: ``getUserMedia`` → canvas → JPEG bytes sent to
the kernel as custom messages, at most two frames in flight; it draws the answers (box, name or
"unknown", distance, the door) on the video. The kernel half here puts each frame in a
:class:`facelib.live.loop.LatestFrame` (the newest wins, stale ones are dropped), answers it in a
worker thread with :class:`facelib.live.processor.FrameProcessor` and syncs the answer back as ``state``.

Messages from the browser: ``frame`` (one JPEG/PNG buffer; ``still`` for an uploaded photo),
``enrol`` (``name``), ``remove`` (``name``), ``snapshot`` (style the current frame with
:func:`facelib.style.stylize`, classroom preset) and ``clip`` (send the recorded clip, for a
machine without a camera). The ``painting`` switch paints every frame with a trained painter
(:class:`facelib.live.painting.PaintingProcessor`): the browser shows the painted frames (``painted_frame``)
and the door answers the painted face.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets
from PIL import Image

from facelib.live.clip import clip_frames
from facelib.live.frames import encode_jpeg
from facelib.live.loop import LiveLoop
from facelib.live.painting import PaintingProcessor
from facelib.live.processor import FrameProcessor, LiveResult

__all__ = ["LiveDoorWidget"]

_HERE = Path(__file__).resolve().parent


class LiveDoorWidget(anywidget.AnyWidget):
    """The webcam door: camera, answers drawn live, τ slider, enrol/remove, start/stop, snapshot → NST.

    Args:
        database: the residents (:class:`facelib.faces.database.FaceDatabase`).
        tau: the door's threshold (``None``: the database's).
        style: the painting for the snapshot button (an asset name or path; default The Starry Night).
        enrol_frames: frames taken when enrolling the person in front of the camera.
        stylize_options: keyword arguments for :func:`facelib.style.stylize` (e.g. ``steps=20``).
        processor_options: keyword arguments for :class:`facelib.live.processor.FrameProcessor`.
        painter: the :class:`facelib.style.Painter` of the painting mode (default: the one trained for
            ``style``, found in the cache when the mode is switched on).
    """

    _esm = _HERE / "camera.js"
    _css = _HERE / "camera.css"

    state = traitlets.Dict({}).tag(sync=True)
    tau = traitlets.Float(0.7).tag(sync=True)
    people = traitlets.List(traitlets.Unicode()).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    stylized = traitlets.Bytes(b"").tag(sync=True)
    running = traitlets.Bool(True).tag(sync=True)
    capture_fps = traitlets.Int(15).tag(sync=True)
    enrol_frames = traitlets.Int(5).tag(sync=True)
    painting = traitlets.Bool(False).tag(sync=True)
    painted_frame = traitlets.Bytes(b"").tag(sync=True)

    def __init__(self, database: Any, *, tau: float | None = None, style: str = "style-starry-night",
                 enrol_frames: int = 5, stylize_options: dict[str, Any] | None = None,
                 processor_options: dict[str, Any] | None = None, painter: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.painter = painter
        options = {"async_detect": True, **(processor_options or {})}
        self.processor = FrameProcessor(database, tau=tau, **options)
        self.database = database
        self.style = style
        self.stylize_options = dict(stylize_options or {})
        self.enrol_frames = int(enrol_frames)
        self.tau = self.processor.threshold()
        self.people = list(database.names)
        self.loop = LiveLoop(self.processor, self._on_result)
        self._snapshot_thread: threading.Thread | None = None
        self.on_msg(self._on_msg)
        self.observe(self._on_tau, names="tau")
        self.observe(self._on_running, names="running")
        self.observe(self._on_painting, names="painting")
        self.loop.start()

    # ------------------------------------------------------------------ kernel → browser
    def _on_result(self, result: LiveResult) -> None:
        state = result.to_state()
        state.update(fps=round(self.loop.fps(), 2), answered=self.loop.processed, received=self.loop.frames.received,
                     dropped=self.loop.frames.dropped)
        proc = self.loop.processor
        if isinstance(proc, PaintingProcessor) and proc.last_painted:
            state.update(painted=proc.painted, paint_ms=round(proc.paint_ms, 1))
            self.painted_frame = proc.last_painted
        self.state = state
        if result.message.startswith("enrolled"):
            self.people = list(self.database.names)
            self.status = result.message
        elif result.message.startswith("enrolling"):
            self.status = result.message

    def _on_tau(self, change: dict[str, Any]) -> None:
        self.processor.tau = float(change["new"])

    def _on_running(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.processor.reset()
            self.loop.start()
        else:
            self.loop.stop()

    def _on_painting(self, change: dict[str, Any]) -> None:
        """Switch the painting mode: every frame through the painter, the door answering the painted face."""
        if not change["new"]:
            self.loop.processor = self.processor
            self.painted_frame = b""
            self.status = "painting mode off"
            return
        if self.painter is None:
            from facelib.style.painter import load_painter

            try:
                self.painter = load_painter(self.style)
            except (FileNotFoundError, ValueError) as err:
                self.painting = False   # (its observer says "painting mode off": the reason goes after it)
                self.status = str(err)
                return
        self.loop.processor = PaintingProcessor(self.processor, self.painter)  # type: ignore[assignment]
        self.status = f"painting every frame ({getattr(self.painter, 'style', 'painter')}): does the painting " \
                      "still open the door?"

    # ------------------------------------------------------------------ browser → kernel
    def _on_msg(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            if kind == "frame":
                if not buffers:
                    self.state = {**LiveResult(seq=int(content.get("seq", 0)), error="a frame message came without "
                                               "image bytes").to_state()}
                    return
                self.loop.submit(bytes(buffers[0]), int(content.get("seq", 0)), still=bool(content.get("still")))
            elif kind == "enrol":
                self.processor.enrol(str(content.get("name", "")), self.enrol_frames)
                self.status = f"enrolling {str(content.get('name')).strip()}: look at the camera"
            elif kind == "remove":
                n = self.processor.remove(str(content.get("name", "")))
                self.people = list(self.database.names)
                self.status = f"removed {content.get('name')} ({n} photos)"
            elif kind == "snapshot":
                self.snapshot()
            elif kind == "clip":
                self.send_clip()
        except (ValueError, KeyError) as err:
            self.status = str(err).strip("'\"")

    def send_clip(self, fps: int = 10) -> int:
        """Send the recorded clip (an enrolled LFW person, then a stranger) to the browser; returns its length."""
        frames = [encode_jpeg(f, 80) for f in clip_frames(frames_per_photo=15)]
        self.send({"type": "clip", "fps": int(fps), "n": len(frames)}, buffers=frames)
        self.status = f"playing the recorded clip ({len(frames)} frames)"
        return len(frames)

    # ------------------------------------------------------------------ snapshot → NST
    def snapshot(self, wait: bool = False) -> None:
        """Style the current frame with :func:`facelib.style.stylize` (classroom preset) in a thread."""
        rgb = self.processor.last_rgb
        if rgb is None:
            self.status = "no frame yet: start the camera (or upload a photo) first"
            return
        if self._snapshot_thread is not None and self._snapshot_thread.is_alive():
            self.status = "still painting the last snapshot"
            return
        self._snapshot_thread = threading.Thread(target=self._stylize, args=(rgb.copy(),), daemon=True,
                                                 name="facelib-snapshot")
        self._snapshot_thread.start()
        if wait:
            self._snapshot_thread.join()

    def _stylize(self, rgb: np.ndarray) -> None:
        from facelib import assets
        from facelib.data.images import read_image
        from facelib.style.transfer import stylize

        try:
            style_path = Path(self.style) if Path(self.style).is_file() else assets.fetch(self.style)
            style = read_image(style_path)
            self.status = "painting the snapshot (classroom preset)…"

            def progress(step: int, _image: np.ndarray, _costs: Any) -> None:
                self.status = f"painting the snapshot: step {step}"

            out, history = stylize(rgb, style, preset="classroom", callback=progress, **self.stylize_options)
            buf = io.BytesIO()
            Image.fromarray((np.clip(out, 0, 1) * 255).round().astype(np.uint8)).save(buf, "PNG")
            self.stylized = buf.getvalue()
            secs: Any = history.get("seconds", 0.0)
            secs = secs[-1] if isinstance(secs, (list, tuple)) and secs else secs
            self.status = f"snapshot painted in {float(secs or 0.0):.0f} s"
        except Exception as err:
            self.status = f"snapshot failed: {type(err).__name__}: {err}"

    def close(self) -> None:
        self.loop.stop()
        self.processor.close()
        super().close()
