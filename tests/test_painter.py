"""The painter (``facelib/style/painter.py``, ``painter_net.py``): a network trained with the lesson's J.

Shapes and padding, instance normalisation against NumPy, the ``.keras`` round trip in safe mode, the
loss of a batch against the formulas written out in NumPy, a few training steps lowering the loss, the
cache (a hit does not retrain, a checkpoint resumes, files the cache did not make are refused).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from facelib import style

TINY = {"width": 4, "residual_width": 8, "n_residual": 1}


def _stripes(n: int = 48) -> np.ndarray:
    x = np.arange(n)
    img = np.zeros((n, n, 3), np.uint8)
    img[..., 0] = 255 * ((x[None, :] // 4) % 2)
    img[..., 2] = 255 * ((x[:, None] // 6) % 2)
    return img


def _photos(k: int = 4, n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:n, 0:n] / n
    base = np.stack([yy, xx, 0.5 * (yy + xx)], -1)
    return np.stack([np.clip(base * rng.uniform(0.5, 1.0, 3) + 0.1 * rng.normal(size=(n, n, 3)), 0, 1) * 255
                     for _ in range(k)]).astype(np.uint8)


def test_network_keeps_the_shape_and_paints_into_0_1() -> None:
    model = style.build_painter_network(**TINY)
    x = tf.random.uniform((2, 32, 36, 3))
    y = model(x).numpy()
    assert y.shape == (2, 32, 36, 3)
    assert 0.0 <= y.min() and y.max() <= 1.0
    with pytest.raises(ValueError, match="width"):
        style.build_painter_network(width=0)


def test_painter_pads_odd_sizes_and_paints_one_image_or_a_batch() -> None:
    painter = style.Painter(style.build_painter_network(**TINY))
    photos = _photos(3, 30)[:, :, :27]                         # 30 x 27: not multiples of 4
    batch = painter(photos)
    assert batch.shape == (3, 30, 27, 3) and batch.dtype == np.float32
    one = painter(photos[1])
    assert one.shape == (30, 27, 3)
    np.testing.assert_allclose(one, batch[1], atol=1e-5)       # instance norm: a photo's painting ignores the batch
    with pytest.raises(ValueError, match=r"\(m, H, W, 3\)"):
        painter(np.zeros((2, 8, 8, 4), np.uint8))


def test_instance_normalisation_against_numpy() -> None:
    x = np.random.default_rng(1).normal(3.0, 2.0, (2, 5, 6, 3)).astype(np.float32)
    layer = style.InstanceNormalization(epsilon=1e-3)
    layer.build(x.shape)
    layer.gamma.assign([1.0, 2.0, 0.5])
    layer.beta.assign([0.0, 1.0, -1.0])
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    want = np.array([1.0, 2.0, 0.5]) * (x - mean) / np.sqrt(var + 1e-3) + np.array([0.0, 1.0, -1.0])
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-4, atol=1e-4)


def test_keras_round_trip_in_safe_mode(tmp_path: Path) -> None:
    model = style.build_painter_network(**TINY, seed=3)
    path = tmp_path / "p.keras"
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True, compile=False)
    x = tf.random.uniform((1, 16, 20, 3), seed=1)
    np.testing.assert_allclose(again(x).numpy(), model(x).numpy(), atol=1e-6)
    kinds = {type(layer).__name__ for layer in again.layers}
    assert {"InstanceNormalization", "ResidualBlock", "SpaceToDepth", "DepthToSpace"} <= kinds


def test_batch_costs_against_the_formulas_in_numpy() -> None:
    rng = np.random.default_rng(2)
    outs = {"G": [rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(2, 2, 2, 5)), rng.normal(size=(2, 2, 2, 5))],
            "C": [rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(2, 2, 2, 5)), rng.normal(size=(2, 2, 2, 5))]}
    painted = tf.constant(rng.uniform(size=(2, 8, 8, 3)), tf.float32)
    photos = tf.constant(rng.uniform(size=(2, 8, 8, 3)), tf.float32)

    def fake_vgg(x: tf.Tensor) -> list[tf.Tensor]:           # "G" for the painted batch, "C" for the photos
        is_painted = bool(np.allclose(x.numpy(), _caffe(painted.numpy()), atol=1e-3))
        return [tf.constant(a, tf.float32) for a in outs["G" if is_painted else "C"]]

    grams = [tf.constant(rng.normal(size=(3, 3)), tf.float32), tf.constant(rng.normal(size=(5, 5)), tf.float32)]
    layers = (("a", 0.3), ("b", 0.7))
    J, Jc, Js, tv = style.painter_costs(fake_vgg, grams, painted, photos, layers, alpha=2.0, beta=0.5, tv_weight=3.0)
    aC, aG = outs["C"][-1], outs["G"][-1]
    want_c = np.mean([np.sum((aC[i] - aG[i]) ** 2) / (4 * 2 * 2 * 5) for i in range(2)])
    want_s = 0.0
    for (_, lam), G_S, a in zip(layers, grams, outs["G"][:2]):
        for i in range(2):
            A = a[i].reshape(-1, a.shape[-1]).T
            nHW, nC = A.shape[1], A.shape[0]
            want_s += lam * np.sum((G_S.numpy() - A @ A.T) ** 2) / (4 * nC ** 2 * nHW ** 2) / 2
    p = painted.numpy()
    want_tv = np.abs(np.diff(p, axis=1)).mean() + np.abs(np.diff(p, axis=2)).mean()
    np.testing.assert_allclose([float(Jc), float(Js), float(tv)], [want_c, want_s, want_tv], rtol=1e-4)
    np.testing.assert_allclose(float(J), 2 * want_c + 0.5 * want_s + 3 * want_tv, rtol=1e-4)


def _caffe(x: np.ndarray) -> np.ndarray:
    return x[..., ::-1] * 255.0 - np.array([103.939, 116.779, 123.68])


def test_a_few_training_steps_lower_the_loss() -> None:
    painter = style.train_painter(_stripes(), photos=_photos(), size=32, steps=40, style_size=32, batch_size=2,
                                  learning_rate=1e-2, progress=False, cache=False, network=TINY)
    total = painter.history["total"]
    assert len(total) == 40 and painter.info["steps_done"] == 40
    assert np.mean(total[-5:]) < 0.7 * np.mean(total[:5]), (total[:5], total[-5:])
    assert painter(_photos(1)[0]).shape == (40, 40, 3)


def test_cache_hit_does_not_retrain_and_a_checkpoint_resumes(tmp_home: Path) -> None:
    calls: list[int] = []
    kw = {"photos": _photos(), "size": 32, "style_size": 32, "network": TINY,
          "progress": lambda step, costs: calls.append(step)}
    first = style.train_painter(_stripes(), steps=2, **kw)
    assert calls == [1, 2] and first.path is not None and first.path.parent == tmp_home / "painters"
    again = style.train_painter(_stripes(), steps=2, **kw)
    assert calls == [1, 2], "a cached painter was trained again"
    x = _photos(1)[0]
    np.testing.assert_allclose(again(x), first(x), atol=1e-6)
    more = style.train_painter(_stripes(), steps=4, **kw)   # more steps: resumed from the checkpoint at step 2
    assert calls == [1, 2, 3, 4] and more.info["steps_done"] == 4 and len(more.history["total"]) == 4
    assert style.load_painter(_stripes()).info["steps_done"] == 4
    with pytest.raises(FileNotFoundError, match="facelib paint train"):
        style.load_painter(_photos(1)[0])                   # no painter for this "painting"


def test_only_files_the_cache_made_are_loaded(tmp_home: Path, tmp_path: Path) -> None:
    painter = style.train_painter(_stripes(), photos=_photos(), size=32, steps=1, style_size=32, network=TINY,
                                  progress=False)
    path = painter.path
    assert path is not None and style.load_painter(path).info["style_sha256"] == painter.info["style_sha256"]
    outside = tmp_path / "elsewhere.keras"
    shutil.copy(path, outside)
    shutil.copy(path.with_suffix(".json"), outside.with_suffix(".json"))
    with pytest.raises(ValueError, match="only painters trained here"):
        style.load_painter(outside)
    side = path.with_suffix(".json")
    info = json.loads(side.read_text())
    side.write_text(json.dumps({**info, "file_sha256": "0" * 64}))
    with pytest.raises(ValueError, match="sha256"):
        style.load_painter(path)
    side.unlink()
    with pytest.raises(ValueError, match="sidecar"):
        style.load_painter(path)


def test_train_painter_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="multiple of 4"):
        style.train_painter(_stripes(), photos=_photos(), size=30, steps=1, progress=False, cache=False)
    with pytest.raises(ValueError, match="steps"):
        style.train_painter(_stripes(), photos=_photos(), size=32, steps=0, progress=False, cache=False)
    with pytest.raises(ValueError, match="one photo"):
        style.train_painter(_stripes(), photos=_photos(1)[0], size=32, steps=1, progress=False, cache=False)


def test_ctrl_c_leaves_the_last_good_checkpoint(tmp_home: Path) -> None:
    def stop_at_3(step: int, costs: dict) -> None:
        if step == 3:
            raise KeyboardInterrupt

    kw = {"photos": _photos(), "size": 32, "style_size": 32, "network": TINY, "checkpoint_every": 50}
    with pytest.raises(KeyboardInterrupt):
        style.train_painter(_stripes(), steps=6, progress=stop_at_3, **kw)
    assert style.load_painter(_stripes()).info["steps_done"] == 3
    seen: list[int] = []
    done = style.train_painter(_stripes(), steps=6, progress=lambda t, c: seen.append(t), **kw)
    assert seen == [4, 5, 6] and len(done.history["total"]) == 6


def test_the_imagenet_sample_is_read_only_to_train(tmp_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """photos=None: a complete cached painter comes back without reading the sample (lesson 07 loads a trained
    painter in 8 s and 730 MiB less); training reads the held-out rule's other classes, 98 at a time (never the
    sample's 193 MB at once), prepared as before (NumPy reference: each photo cropped, resized and stacked)."""
    from facelib.data import datasets
    from facelib.style import painter as painter_module
    from facelib.style.images import _crop_to_aspect, _resize

    pixels = np.random.default_rng(3).integers(0, 256, (60, 256, 256, 3), dtype=np.uint8)
    reads: list[list[int] | None] = []

    def fake(*args: object, classes: list[int] | None = None, **kwargs: object) -> datasets.ImageNetSample:
        """A 60-class sample when read whole; class c is photo c % 60 when classes are named (fresh arrays)."""
        reads.append(None if classes is None else list(classes))
        idx = np.arange(60) if classes is None else np.array(classes, dtype=np.int64)
        return datasets.ImageNetSample(pixels[idx % 60], idx, tuple(f"n{i:08d}" for i in idx),
                                       tuple(f"class_{i}" for i in idx))

    listings: list[int] = []

    def fake_iter(classes: list[int], *, batch: int = 100, **kwargs: object):
        """The loader's batches: the sample listed (and checked) once per call."""
        listings.append(batch)
        classes = list(classes)
        for start in range(0, len(classes), batch):
            yield fake(classes=classes[start:start + batch])

    monkeypatch.setattr(datasets, "load_imagenet_sample", fake)
    monkeypatch.setattr(datasets, "iter_imagenet_sample", fake_iter)
    train, held = style.imagenet_split()
    assert len(train) == 58 and len(held) == 2 and reads == [None]          # classes 0 and 50 held out
    np.testing.assert_array_equal(held, pixels[[0, 50]])
    np.testing.assert_array_equal(train, np.delete(pixels, [0, 50], axis=0))   # in order, moved in place
    squares = np.stack([_resize(_crop_to_aspect(r.astype(np.float32) / 255.0, (32, 32)), (32, 32)) for r in pixels])
    squares = np.rint(np.clip(squares, 0, 1) * 255).astype(np.uint8)      # stored as uint8: 1/4 of float32's memory
    training = [c for c in range(1000) if c % 50]
    reads.clear()
    np.testing.assert_array_equal(painter_module._training_photos(None, 32), squares[np.array(training) % 60])
    assert all(r is not None and 0 < len(r) <= 98 for r in reads) and len(reads) == 10
    assert [c for r in reads for c in r or []] == training                 # every training class once, in order
    assert listings == [98]                                                # one listing and check, not ten
    kw = {"size": 32, "style_size": 32, "network": TINY, "progress": False}
    first = style.train_painter(_stripes(), steps=1, **kw)
    assert len(reads) == 20 and first.info["recipe"]["photos"] == "imagenet-sample-256:train"
    again = style.train_painter(_stripes(), steps=1, **kw)
    assert len(reads) == 20, "a complete cached painter read the ImageNet sample"
    assert again.info["steps_done"] == 1


def test_imagenet_split_reads_only_the_photos_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """``imagenet_split(n_train)`` asks the loader for the 20 held-out classes and the first ``n_train`` others
    (lesson 07 in fast mode: 64 photos, not 1,000), and splits them as the whole sample is split."""
    from facelib.data import datasets

    asked: list[list[int]] = []

    def fake(*args: object, classes: list[int] | None = None, **kwargs: object) -> datasets.ImageNetSample:
        assert classes is not None and not args, "the whole sample was read"
        asked.append(sorted(classes))
        idx = np.array(sorted(classes), dtype=np.int64)
        pixels = np.stack([np.full((256, 256, 3), c % 256, np.uint8) for c in idx]) if len(idx) else \
            np.empty((0, 256, 256, 3), np.uint8)
        return datasets.ImageNetSample(pixels, idx, tuple("n0" for _ in idx), tuple("x" for _ in idx))

    monkeypatch.setattr(datasets, "load_imagenet_sample", fake)
    train, held = style.imagenet_split(3)
    assert asked[-1] == [0, 1, 2, 3, *range(50, 1000, 50)]
    assert [int(t[0, 0, 0]) for t in train] == [1, 2, 3]
    assert [int(h[0, 0, 0]) for h in held] == [c % 256 for c in range(0, 1000, 50)]
    train, held = style.imagenet_split(0)
    assert train.shape == (0, 256, 256, 3) and len(held) == 20
    for bad in (-1, 981, 2.0, True):
        with pytest.raises(ValueError, match="n_train must be an integer from 0 to 980"):
            style.imagenet_split(bad)
