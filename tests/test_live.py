"""The live door's frame processor, without a browser: known face, stranger, no face, dropped frames, bad bytes."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from facelib import live
from facelib.faces import FaceDatabase

ENROLLED, STRANGER = "Ariel_Sharon", "Colin_Powell"


@pytest.fixture(scope="module")
def db() -> FaceDatabase:
    """Ariel Sharon enrolled from LFW photos 1-5 (the clips show photos 9 and 10)."""
    return live.demo_database(ENROLLED)


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    return live.clip_frames(ENROLLED, STRANGER, frames_per_photo=4)  # 4 × A9, 4 × A10, 4 × B9, 4 × B10


def _photo_region(frame: np.ndarray) -> tuple[int, int, int, int]:
    """Where make_clip pasted the photo: the pixels that differ from the background gradient."""
    bg = live.make_clip([np.zeros((2, 2, 3), np.uint8)], 1, amplitude=0)[0]
    diff = np.abs(frame.astype(int) - bg.astype(int)).sum(-1) > 0
    diff[239:241, 319:321] = False  # the 2×2 dummy photo itself
    ys, xs = np.nonzero(diff)
    return xs.min(), ys.min(), xs.max(), ys.max()


def test_known_face_opens_the_door(db, clip):
    proc = live.FrameProcessor(db)
    results = [proc.process(live.encode_jpeg(f), i) for i, f in enumerate(clip[:8])]
    for frame, r in zip(clip[:8], results):
        assert r.error is None
        assert r.box is not None and (r.width, r.height) == (640, 480)
        x0, y0, x1, y1 = _photo_region(frame)
        cx, cy = r.box[0] + r.box[2] / 2, r.box[1] + r.box[3] / 2
        assert x0 < cx < x1 and y0 < cy < y1, f"box {r.box} is not on the photo at {(x0, y0, x1, y1)}"
        assert r.name == "Ariel Sharon" and r.label == "Ariel Sharon" and r.door_open
        assert r.distance is not None and r.distance <= r.tau == pytest.approx(0.7)
    # the same distance as FaceDatabase.identify on the (full-resolution) photo, within alignment noise
    d_ref, who = db.identify(clip[0])
    assert who == "Ariel Sharon" and abs(results[0].distance - d_ref) < 0.2


def test_stranger_stays_outside(db, clip):
    proc = live.FrameProcessor(db)
    for i, f in enumerate(clip[8:]):
        r = proc.process(live.encode_jpeg(f), i)
        assert r.box is not None
        assert r.name is None and r.label == "unknown" and not r.door_open
        assert r.nearest == "Ariel Sharon" and r.distance > r.tau


def test_stranger_replacing_a_resident_is_encoded_again(db, clip):
    """The photo changes in place (A10 → B9): the door must shut on the stranger's first frames."""
    proc = live.FrameProcessor(db, redetect_every=3)
    answers = [proc.process(live.encode_jpeg(f), i) for i, f in enumerate(clip)]
    assert all(r.door_open for r in answers[:8])
    # after the swap: at most redetect_every frames of the old answer, then shut for good
    assert not any(r.door_open for r in answers[8 + 3:])


def test_no_face(db):
    empty = live.make_clip([np.full((100, 100, 3), 128, np.uint8)], 2)
    proc = live.FrameProcessor(db)
    for i, f in enumerate(empty):
        r = proc.process(live.encode_jpeg(f), i)
        assert r.error is None and r.box is None and r.label == "no face" and not r.door_open
        assert r.distance is None and not r.encoded


def test_encode_only_when_the_box_moved_and_tau_acts_at_once(db, clip):
    proc = live.FrameProcessor(db)
    jpeg = live.encode_jpeg(clip[0])
    first = proc.process(jpeg, 1)
    second = proc.process(jpeg, 2)
    assert first.encoded and first.source == "detect"
    assert not second.encoded and second.source == "track" and second.box == first.box
    assert second.distance == pytest.approx(first.distance)
    proc.tau = first.distance - 0.01  # the door shuts without encoding again
    third = proc.process(jpeg, 3)
    assert not third.encoded and not third.door_open and third.label == "unknown"
    # a big move is re-encoded
    shifted = np.roll(clip[0], 40, axis=1)
    assert proc.process(live.encode_jpeg(shifted), 4).encoded
    assert proc.counts["encodings"] == 2


def test_bad_jpeg_is_an_error_in_the_answer_not_a_crash(db):
    proc = live.FrameProcessor(db)
    r = proc.process(b"\xff\xd8\xff\xe0 this is not really a jpeg", 7)
    assert r.seq == 7 and r.box is None and not r.door_open
    assert r.error is not None and "not a JPEG/PNG image" in r.error and "bytes" in r.error
    assert proc.process(b"", 8).error.startswith("the frame is empty")
    assert r.to_state()["error"] == r.error
    with pytest.raises(ValueError, match="not a JPEG/PNG"):
        live.decode_frame(b"GIF89a-broken")


def test_latest_frame_drops_what_was_not_taken():
    box = live.LatestFrame(max_age=0.5)
    for seq in (1, 2, 3):
        box.put(b"x", seq, now=10.0)
    slot = box.get(now=10.1)
    assert slot is not None and slot.seq == 3
    assert box.received == 3 and box.dropped == 2
    box.put(b"y", 4, now=10.0)
    assert box.get(now=11.0) is None and box.dropped == 3  # waited 1 s > max_age: stale
    assert box.get(timeout=0.01) is None


def test_live_loop_answers_the_newest_frame_and_drops_the_rest():
    class Slow:
        def __init__(self):
            self.seen = []

        def process(self, data, seq, still=False):
            self.seen.append(seq)
            time.sleep(0.05)
            return live.LiveResult(seq=seq)

    proc = Slow()
    answers = []
    loop = live.LiveLoop(proc, answers.append, max_age=5.0)  # type: ignore[arg-type]
    loop.start()
    try:
        for seq in range(1, 41):
            loop.submit(b"", seq)
            time.sleep(0.005)
        deadline = time.monotonic() + 5
        while (not answers or answers[-1].seq != 40) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        loop.stop()
    assert answers[-1].seq == 40
    assert proc.seen == sorted(proc.seen) and len(proc.seen) < 40
    assert loop.frames.dropped == 40 - len(proc.seen)


def test_enrol_from_camera_frames_then_remove(db, clip):
    mine = FaceDatabase(db.model)
    mine.add_encodings("Ariel Sharon", db.encodings("Ariel Sharon"))
    proc = live.FrameProcessor(mine)
    stranger = [live.encode_jpeg(f) for f in clip[8:12]]  # Colin Powell, photo 9
    assert not proc.process(stranger[0], 0).door_open
    proc.enrol("Colin Powell", n_frames=3)
    messages = [proc.process(j, i).message for i, j in enumerate(stranger[1:4])]
    assert messages[0].startswith("enrolling Colin Powell: 1/3")
    assert messages[-1] == "enrolled Colin Powell from 3 frames"
    assert mine.names == ["Ariel Sharon", "Colin Powell"] and len(mine.encodings("Colin Powell")) == 3
    other_photo = live.encode_jpeg(clip[12])  # Colin Powell, photo 10: not enrolled from
    r = proc.process(other_photo, 10)
    assert r.name == "Colin Powell" and r.door_open
    assert proc.remove("Colin Powell") == 3
    assert proc.process(other_photo, 11).label == "unknown"
    with pytest.raises(ValueError, match="name"):
        proc.enrol("  ")


def test_background_detection_keeps_frames_flowing(db, clip):
    proc = live.FrameProcessor(db, async_detect=True)
    try:
        answers = []
        deadline = time.monotonic() + 120
        i = 0
        while time.monotonic() < deadline:
            answers.append(proc.process(live.encode_jpeg(clip[i % 8]), i))
            i += 1
            if answers[-1].door_open and i > 20:
                break
            time.sleep(0.05)
        assert answers[0].box is None  # no detector answer yet: nothing is assumed
        assert answers[-1].name == "Ariel Sharon" and answers[-1].source in {"track", "detect"}
        assert proc.counts["detections"] >= 1
        # the stranger takes the resident's place: the door is shut from the very first frame on
        strangers = []
        for k in range(30):
            strangers.append(proc.process(live.encode_jpeg(clip[8 + k % 8]), 1000 + k))
            time.sleep(0.05)
        assert not any(r.door_open for r in strangers)
        assert strangers[-1].label in {"unknown", "no face", "checking…"}
        assert all(r.distance is None for r in strangers if r.label == "checking…")
    finally:
        proc.close()


def test_ncc_track_finds_a_known_shift():
    rng = np.random.default_rng(0)
    img = rng.random((120, 160)).astype(np.float32)
    template = img[40:70, 50:75].copy()
    moved = np.roll(np.roll(img, 3, axis=0), -5, axis=1)  # content moves down 3, left 5
    x, y, score = live.ncc_track(moved, template, 50, 40, radius=8)
    assert (x, y) == (45, 43) and score == pytest.approx(1.0, abs=1e-4)
    *_, low = live.ncc_track(rng.random((120, 160)).astype(np.float32), template, 50, 40, radius=8)
    assert low < 0.5


def test_y4m_is_what_chromium_reads(tmp_path):
    frames = [np.full((4, 6, 3), v, np.uint8) for v in (0, 128, 255)]
    path = live.write_y4m(tmp_path / "c.y4m", frames, fps=5)
    raw = path.read_bytes()
    header = b"YUV4MPEG2 W6 H4 F5:1 Ip A1:1 C420jpeg\n"
    assert raw.startswith(header)
    body = raw[len(header):]
    per = 6 + 6 * 4 + 2 * (3 * 2)
    assert len(body) == 3 * per and body[:6] == b"FRAME\n"
    # BT.601 limited range: black → Y 16, grey 128 → Y 126, white → Y 235; chroma 128
    for k, y in enumerate((16, 126, 235)):
        planes = body[k * per + 6:(k + 1) * per]
        assert set(planes[:24]) == {y} and set(planes[24:]) == {128}
    with pytest.raises(ValueError, match="even"):
        live.write_y4m(tmp_path / "odd.y4m", [np.zeros((3, 4, 3), np.uint8)])


def test_draw_marks_the_box_and_the_door():
    frame = np.zeros((480, 640, 3), np.uint8)
    r = live.LiveResult(seq=1, width=640, height=480, box=(100, 150, 80, 100), name="Ann", nearest="Ann",
                        distance=0.4, door_open=True, tau=0.7)
    out = live.draw(frame, r)
    assert out.shape == frame.shape and frame.max() == 0  # a new array
    assert tuple(out[200, 100]) == (40, 200, 70)  # green box edge
    shut = live.draw(frame, dataclasses.replace(r, door_open=False, name=None))
    assert tuple(shut[200, 100]) == (230, 50, 50)
    door_open, door_shut = np.asarray(live.door_picture(True)), np.asarray(live.door_picture(False))
    assert door_open[..., 1].mean() > door_shut[..., 1].mean()  # the open door lets light in (yellow/green)


def test_static_demo_on_stored_photos(db):
    grid, results = live.static_demo(db)
    assert grid.shape == (960, 1280, 3)
    assert [r.door_open for r in results] == [True, True, False, False]
    assert [r.label for r in results] == ["Ariel Sharon", "Ariel Sharon", "unknown", "unknown"]


def test_widget_answers_frames_and_reports_bad_bytes(db, clip):
    from facelib.live.widget import LiveDoorWidget

    mine = FaceDatabase(db.model)
    mine.add_encodings("Ariel Sharon", db.encodings("Ariel Sharon"))
    w = LiveDoorWidget(mine, processor_options={"async_detect": False})
    try:
        assert w.people == ["Ariel Sharon"] and w.tau == pytest.approx(0.7)
        w._on_msg(w, {"type": "frame", "seq": 1}, [b"not an image"])
        _wait(lambda: w.state.get("seq") == 1)
        assert "not a JPEG/PNG image" in w.state["error"] and w.state["door_open"] is False
        w._on_msg(w, {"type": "frame", "seq": 2}, [memoryview(live.encode_jpeg(clip[0]))])
        _wait(lambda: w.state.get("seq") == 2)
        assert w.state["error"] is None and w.state["door_open"] is True and w.state["label"] == "Ariel Sharon"
        assert w.state["answered"] == 2 and isinstance(w.state["box"], list)
        w.tau = 0.05
        w._on_msg(w, {"type": "frame", "seq": 3}, [live.encode_jpeg(clip[0])])
        _wait(lambda: w.state.get("seq") == 3)
        assert w.state["door_open"] is False and w.state["tau"] == pytest.approx(0.05)
        w._on_msg(w, {"type": "remove", "name": "Ariel Sharon"}, [])
        assert w.people == [] and "removed Ariel Sharon" in w.status
        w._on_msg(w, {"type": "remove", "name": "Nobody"}, [])
        assert "not enrolled" in w.status
    finally:
        w.close()
    assert not w.loop.running


def _wait(cond, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "the widget did not answer in time"
        time.sleep(0.02)


def test_door_is_the_widget_for_a_person_and_a_picture_for_nbval(db):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from facelib.live.widget import LiveDoorWidget

    before = set(plt.get_fignums())
    assert live.door(db, interactive=False) is None
    new = set(plt.get_fignums()) - before
    assert len(new) == 1
    title = plt.figure(new.pop()).axes[0].get_title()
    assert "Ariel Sharon → open" in title and "unknown → shut" in title
    plt.close("all")
    w = live.door(db, interactive=True)
    try:
        assert isinstance(w, LiveDoorWidget) and w.people == ["Ariel Sharon"]
        esm = w.get_state()["_esm"]  # the browser half, shipped to the page with the widget
        assert "getUserMedia" in esm and "export default" in esm
    finally:
        w.close()


def test_snapshot_goes_to_style_transfer(db, clip):
    import io

    from PIL import Image

    from facelib.live.widget import LiveDoorWidget

    w = LiveDoorWidget(db, processor_options={"async_detect": False},
                       stylize_options={"steps": 2, "coarse_steps": 0, "size": 64})
    try:
        w.snapshot(wait=True)
        assert w.status.startswith("no frame yet") and w.stylized == b""
        w.processor.process(live.encode_jpeg(clip[0]), 1)
        w.snapshot(wait=True)
        assert w.status.startswith("snapshot painted"), w.status
        painted = Image.open(io.BytesIO(w.stylized))
        assert painted.format == "PNG" and max(painted.size) == 64 and painted.size[0] > painted.size[1]  # 4:3
    finally:
        w.close()


def test_an_uploaded_photo_is_answered_on_its_own(db):
    proc = live.FrameProcessor(db, async_detect=True)  # a still is detected and encoded at once even so
    try:
        resident = proc.process(live.lfw_photo(ENROLLED, 10).read_bytes(), 1, still=True)
        stranger = proc.process(live.lfw_photo(STRANGER, 10).read_bytes(), 2, still=True)
    finally:
        proc.close()
    assert (resident.width, resident.height) == (250, 250) and resident.source == "detect"
    assert resident.label == "Ariel Sharon" and resident.door_open
    assert stranger.label == "unknown" and not stranger.door_open
