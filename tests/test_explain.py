"""facelib.faces.explain (occlusion sensitivity, saliency) and its lesson exercise's check
(facelib.checks.occlusion): the right answer passes, the stub is "not attempted yet", the usual
slips fail; the library's batched loop equals the check's plain NumPy loop."""

from __future__ import annotations

import numpy as np
import pytest
from check_cases import stub

from facelib.checks import CheckFailed
from facelib.checks.occlusion import block_encoder, check_occlusion_deltas
from facelib.faces import explain


def _answer(encode, face, other, patch, stride, fill=128):
    return explain.occlusion_deltas(encode, face, other, patch=patch, stride=stride, fill=fill)


def _no_copy(encode, face, other, patch, stride, fill=128):
    """Greys the face itself: every patch stays, the occlusions pile up."""
    base = np.linalg.norm(encode(face[None])[0] - other)
    rows = []
    for y in range(0, face.shape[0] - patch + 1, stride):
        row = []
        for x in range(0, face.shape[1] - patch + 1, stride):
            face[y:y + patch, x:x + patch] = fill
            row.append(np.linalg.norm(encode(face[None])[0] - other) - base)
        rows.append(row)
    return np.array(rows)


def _last_place_missed(encode, face, other, patch, stride, fill=128):
    """range(0, H - patch, stride): the patch never reaches the last place where it fits."""
    base = np.linalg.norm(encode(face[None])[0] - other)
    out = []
    for y in range(0, face.shape[0] - patch, stride):
        for x in range(0, face.shape[1] - patch, stride):
            hidden = face.copy()
            hidden[y:y + patch, x:x + patch] = fill
            out.append(np.linalg.norm(encode(hidden[None])[0] - other) - base)
    n = len(range(0, face.shape[0] - patch, stride))
    return np.array(out).reshape(n, -1)


def _distance_not_change(encode, face, other, patch, stride, fill=128):
    """Returns d(occluded, other) itself, not its change."""
    return _answer(encode, face, other, patch, stride, fill) + np.linalg.norm(encode(face[None])[0] - other)


def test_right_answer_passes_and_stub_is_not_attempted(capsys):
    assert check_occlusion_deltas(_answer)
    capsys.readouterr()
    assert not check_occlusion_deltas(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", [_no_copy, _last_place_missed, _distance_not_change])
def test_typical_mistakes_fail(mistake, capsys):
    with pytest.raises(CheckFailed):
        check_occlusion_deltas(mistake)
    assert "✗" in capsys.readouterr().out


def test_occlusion_by_hand():
    """A 'network' that reads only the top-left 4×4 block: only patches covering it change d."""
    def encode(faces):
        x = np.asarray(faces, float)[:, :4, :4].mean((1, 2, 3))[:, None]
        return np.hstack([x, np.ones_like(x)]) / np.hypot(x, 1)

    face = np.full((12, 12, 3), 255, np.uint8)
    other = encode(face[None])[0]
    deltas = explain.occlusion_deltas(encode, face, other, patch=4, stride=4, fill=0)
    assert deltas.shape == (3, 3)
    assert deltas[0, 0] > 0.1 and np.allclose(np.delete(deltas.ravel(), 0), 0)
    with pytest.raises(ValueError, match="patch"):
        explain.occlusion_deltas(encode, face, other, patch=13, stride=4)


def test_occlusion_map_both_faces():
    encode = block_encoder()
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 256, size=(2, 24, 24, 3)).astype(np.uint8)
    om = explain.occlusion_map(encode, a, b, patch=8, stride=8)
    ea, eb = encode(np.stack([a, b]))
    assert om.distance == pytest.approx(np.linalg.norm(ea - eb))
    assert np.allclose(om.delta_b, _answer(encode, b, ea, 8, 8))
    assert om.delta_a.shape == om.delta_b.shape == (3, 3)


def test_saliency_on_a_small_network():
    """Saliency is |∂d/∂x|: zero where the network does not look (a crop layer keeps the left half)."""
    import keras

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Cropping2D(((0, 0), (0, 4)))(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(6)(x))
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 256, size=(2, 8, 8, 3)).astype(np.uint8)
    sal, cam = explain.saliency_maps(model, lambda f: np.asarray(f, np.float32) / 255, a, b)
    assert sal.shape == cam.shape == (8, 8)
    assert sal[:, 4:].max() == 0 and sal[:, :4].max() == pytest.approx(1.0)
    assert cam.min() >= 0 and cam.max() == pytest.approx(1.0)
