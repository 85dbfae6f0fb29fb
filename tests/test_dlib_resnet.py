"""The Keras port of dlib's face ResNet equals dlib itself, and its reader refuses broken files.

The reference is dlib (``dlib-bin``, a test-only dependency): ``face_recognition_model_v1``
applied to the same 150×150 chips; the chips are random images and dlib's own aligned chips of
LFW photos (HOG detector + 5-point shape predictor + ``get_face_chip(size=150, padding=0.25)``).
"""

from __future__ import annotations

from pathlib import Path

import dlib  # test-only dependency: dlib-bin (requirements.txt, the "test" extra)
import numpy as np
import pytest
from PIL import Image

from facelib import assets
from facelib.models.dlib_reader import LayerSpec, read_network
from facelib.models.dlib_resnet import PadAdd, dlib_resnet, layer_specs


@pytest.fixture(scope="module")
def weights() -> Path:
    return assets.fetch("dlib-resnet-v1")


@pytest.fixture(scope="module")
def port(weights):
    return dlib_resnet(weights)


@pytest.fixture(scope="module")
def dlib_net(weights):
    return dlib.face_recognition_model_v1(str(weights))


def _dlib_chips(n: int) -> np.ndarray:
    """dlib's own 150×150 chips of the first ``n`` LFW-subset photos where HOG finds a face."""
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(assets.fetch("dlib-shape-predictor-5")))
    photos = sorted((assets.fetch("lfw-subset") / "lfw").glob("*/*_0001.jpg"))
    chips = []
    for photo in photos:
        img = np.asarray(Image.open(photo).convert("RGB"))
        boxes = detector(img, 1)
        if boxes:
            chips.append(dlib.get_face_chip(img, predictor(img, boxes[0]), size=150, padding=0.25))
        if len(chips) == n:
            break
    assert len(chips) == n
    return np.stack(chips)


def test_port_equals_dlib_on_random_and_aligned_chips(port, dlib_net):
    rng = np.random.default_rng(0)
    chips = np.concatenate([rng.integers(0, 256, (2, 150, 150, 3), dtype=np.uint8), _dlib_chips(4)])
    ours = port.predict(chips.astype(np.float32), verbose=0)
    ref = np.array([np.array(dlib_net.compute_face_descriptor(np.ascontiguousarray(c))) for c in chips])
    assert ours.shape == (6, 128)
    np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=0)
    # the descriptors are not trivially equal to each other: the test can fail
    assert np.linalg.norm(ref[2] - ref[3]) > 0.1


def test_architecture_matches_dlibs_template():
    specs = layer_specs()
    assert sum(s.kind == "con" for s in specs) == 29 and sum(s.kind == "affine" for s in specs) == 29
    assert specs[0] == LayerSpec("fc", (128,), 256)
    model = dlib_resnet(weights=None)
    assert model.output_shape == (None, 128)
    # spatial sizes of the levels: 72 after the 7x7/2 conv, 35, 17, 8, 4 (3x3 branch padded), 2
    sizes = {layer.output.shape[1] for layer in model.layers if layer.name.endswith("_add_prev")}
    assert sizes == {35, 17, 8, 4, 2}
    # counted by hand from the template: 29 convs (+ biases), 29 affines (γ, β), the 256×128 fc;
    # times 4 bytes it is 22,458,368 of the file's 22,466,066 bytes
    assert model.count_params() == 5_614_592


def test_pad_add_zero_pads_at_the_end():
    a = np.arange(1 * 3 * 3 * 2, dtype=np.float32).reshape(1, 3, 3, 2)
    b = np.ones((1, 4, 4, 4), np.float32)
    out = np.asarray(PadAdd()([a, b]))
    expected = b.copy()
    expected[:, :3, :3, :2] += a
    np.testing.assert_array_equal(out, expected)


def test_keras_file_round_trip(port, tmp_path):
    import keras

    path = tmp_path / "dlib.keras"
    port.save(path)
    again = keras.models.load_model(path)
    x = np.random.default_rng(1).uniform(0, 255, (1, 150, 150, 3)).astype(np.float32)
    np.testing.assert_allclose(again.predict(x, verbose=0), port.predict(x, verbose=0), atol=1e-6)


def test_reader_reads_the_metadata(weights):
    params, meta = read_network(weights, layer_specs(), input_size=150)
    assert len(params) == 59
    assert meta["distance_threshold"] == pytest.approx(0.6) and meta["margin"] == pytest.approx(0.04)
    assert (meta["avg_red"], meta["avg_green"], meta["avg_blue"]) == pytest.approx((122.782, 117.001, 104.298))


@pytest.mark.parametrize("cut", [0, 5, 400, 20_000, 11_000_000, 22_466_065])
def test_reader_refuses_truncated_files(weights, tmp_path, cut):
    bad = tmp_path / "truncated.dat"
    bad.write_bytes(weights.read_bytes()[:cut])
    with pytest.raises(ValueError, match="truncated.dat: not a dlib face ResNet file"):
        read_network(bad, layer_specs(), input_size=150)


def _garble(data: bytes, old: bytes, new: bytes) -> bytes:
    at = data.index(old)
    return data[:at] + new + data[at + len(old):]


@pytest.mark.parametrize("what,change", [
    ("layer name", lambda d: _garble(d, b"\x05con_4", b"\x05cxn_4")),
    ("loss name", lambda d: _garble(d, b"loss_metric_2", b"loss_metric_9")),
    ("input size", lambda d: _garble(d, b"\x01\x96\x01\x96", b"\x01\x97\x01\x96")),
    ("tensor shape", lambda d: _garble(d, b"\x05con_4\x01\x02\x02\x80\x12", b"\x05con_4\x01\x02\x02\x81\x12")),
    ("trailing bytes", lambda d: d + b"\x00"),
    ("bool", lambda d: _garble(d, b"110\x01\x02", b"1x0\x01\x02")),
    ("non-finite weight", lambda d: d[:1_000] + b"\x00\x00\xc0\x7f" + d[1_004:]),
])
def test_reader_refuses_garbled_files(weights, tmp_path, what, change):
    bad = tmp_path / "garbled.dat"
    bad.write_bytes(change(weights.read_bytes()))
    with pytest.raises(ValueError, match="garbled.dat: not a dlib face ResNet file"):
        read_network(bad, layer_specs(), input_size=150)


def _template_tool():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "tools" / "dlib_chip_template.py"
    spec = importlib.util.spec_from_file_location("dlib_chip_template", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mtcnn_template_frames_the_face_like_dlibs_own_chip(port, dlib_net, monkeypatch):
    """Re-measure DLIB_CHIP_TEMPLATE on LFW-subset photos (not the ones it was measured on), and check
    that chips cut from MTCNN keypoints give nearly dlib's own descriptors."""
    from facelib import faces
    from facelib.models.dlib_resnet import DLIB_CHIP_TEMPLATE

    # MTCNN once for the 20 photos, batched (4x faster than one by one, the same keypoints): the tool's
    # and the chips' detect_face calls below get these faces
    photos = sorted((assets.fetch("lfw-subset") / "lfw").glob("*/*_000[12].jpg"))
    imgs = [np.asarray(Image.open(p).convert("RGB")) for p in photos]
    found = {im.tobytes(): faces.main_face(detected, im.shape)
             for im, detected in zip(imgs, faces.detect_faces_batch(imgs))}
    mtcnn = faces.detect_face

    def detect_face(img, **kw):  # type: ignore[no-untyped-def]
        face = None if kw else found.get(np.ascontiguousarray(img).tobytes())
        return mtcnn(img, **kw) if face is None else face

    monkeypatch.setattr(faces, "detect_face", detect_face)  # where the tool looks it up
    tool = _template_tool()
    template, pts = tool.measure(photos)
    assert len(pts) >= 15
    assert np.abs(template - DLIB_CHIP_TEMPLATE).max() < 0.02  # 3 pixels of the 150-pixel chip
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(assets.fetch("dlib-shape-predictor-5")))
    ours, theirs = [], []
    for photo in photos[:8]:
        img = np.asarray(Image.open(photo).convert("RGB"))
        theirs.append(dlib.get_face_chip(img, predictor(img, detector(img, 1)[0]), size=150, padding=0.25))
        ours.append(faces.warp_to_template(img, faces.detect_face(img).keypoints, DLIB_CHIP_TEMPLATE, 150))
    a = port.predict(np.stack(ours).astype(np.float32), verbose=0)
    b = port.predict(np.stack(theirs).astype(np.float32), verbose=0)
    same_photo = np.linalg.norm(a - b, axis=1)
    other = np.linalg.norm(b[:, None] - b[None], axis=-1)[~np.eye(8, dtype=bool)]
    # measured: 0.11-0.25 for the same photo (MTCNN's points are not dlib's eye corners and nose
    # base), vs dlib's own same-person rule d < 0.6 on these raw descriptors
    assert same_photo.max() < 0.3 and np.median(same_photo) < 0.5 * np.median(other)
