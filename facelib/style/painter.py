"""A network that paints: the lecture's cost :math:`J` as the training loss of a feed-forward network.

Lesson 07 lowers :math:`J(G) = \\alpha J_{content}(C, G) + \\beta J_{style}(S, G)` by moving the pixels of
one image, :math:`G := G - \\eta\\, \\partial J/\\partial G`, for every photo again. Johnson et al. (2016)
train a network :math:`G = f_W(C)` once, with the *same* :math:`J` averaged over many photos as its loss,
:math:`W := W - \\eta\\, \\partial J/\\partial W` (VGG19 stays frozen), and then paint any photo in one
forward pass. :func:`train_painter` does that with the lesson's functions (``compute_content_cost``,
``layer_style_cost_from_gram`` for the multi-layer style cost, ``total_variation_cost``, ``total_cost``)
under the ``classroom`` recipe (caffe inputs, content at ``block5_conv2``, the course's five style
layers), on the ImageNet sample (:func:`imagenet_split`: 20 photos are never trained on) or your photos.
The network is :func:`facelib.style.painter_net.build_painter_network`.

A trained painter is kept in ``FACELIB_HOME/painters/`` (a ``.keras`` file and a JSON sidecar with the
style's hash, the recipe, the steps done, the loss curve and the file's sha256), found again without
retraining, and resumed when training was interrupted. Only files this cache holds and whose sha256
the sidecar vouches for are loaded, with Keras' ``safe_mode`` (no pickles, no ``Lambda``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from facelib import config
from facelib.style.painter_net import PAINTER_MULTIPLE, build_painter_network

__all__ = ["PAINTER_BETA", "PAINTER_SIZE", "PAINTER_STEPS", "Painter", "imagenet_split", "load_painter",
           "painter_costs", "train_painter"]

#: Training side (pixels) and steps of the default recipe (see ``bench/paint.py`` for why).
PAINTER_SIZE = 128
PAINTER_STEPS = 400
#: Weight of J_style in the painter's loss (alpha = 1). The classroom recipe's 1e-5 suits an optimisation that
#: starts from the photo and stops early; a network trained to the optimum of that J paints texture over the
#: whole picture (400 steps: the subject gone, painted faces no longer found), so the painter weighs content 5x more.
PAINTER_BETA = 2e-6
#: Every this many classes (class index ≡ 0) is held out of training: 20 of the sample's 1,000 photos.
_HELD_OUT_EVERY = 50
#: ImageNet classes (one photo each) read per step when the painter's training photos are prepared.
_READ_CLASSES = 98
_FORMAT = "facelib-painter/1"


def _training_classes() -> list[int]:
    """The sample's classes the painter trains on (all but the held-out ones), in class order."""
    return [c for c in range(1000) if c % _HELD_OUT_EVERY]


def imagenet_split(n_train: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ImageNet sample split for the painter: ``(train, held_out)``, ``(980, 256, 256, 3)`` and
    ``(20, 256, 256, 3)`` uint8; held out are the classes whose index is a multiple of 50. ``train`` is a view
    into the sample's own buffer (196 MB, read once), ``held_out`` a copy.

    Args:
        n_train: read only the first ``n_train`` training photos (in class order) besides the 20 held out,
            e.g. ``0`` for the held-out photos alone: memory and time are those photos', not the sample's.
            ``None``: all 980.
    """
    from facelib.data.datasets import load_imagenet_sample

    if n_train is None:
        sample = load_imagenet_sample()
    else:
        if isinstance(n_train, bool) or not isinstance(n_train, (int, np.integer)) or not 0 <= n_train <= 980:
            raise ValueError(f"n_train must be an integer from 0 to 980, got {n_train!r}")
        sample = load_imagenet_sample(classes=[*range(0, 1000, _HELD_OUT_EVERY), *_training_classes()[:n_train]])
    held = sample.class_index % _HELD_OUT_EVERY == 0
    held_out, images = sample.images[held], sample.images
    keep = np.flatnonzero(~held)
    for k, i in enumerate(keep):  # the training photos moved to the front in place (i >= k): no second copy
        images[k] = images[i]
    return images[:len(keep)], held_out


# --------------------------------------------------------------------------- the painter

class Painter:
    """A trained transform network: ``painter(photo)`` paints one image or a batch in one forward pass.

    Attributes:
        model: the ``keras.Model`` (:func:`~facelib.style.painter_net.build_painter_network`).
        info: the sidecar: ``style``, ``style_sha256``, ``recipe``, ``steps_done``, ``seconds``, ``history``.
        path: the ``.keras`` file in the cache, or ``None``.
    """

    def __init__(self, model: Any, info: dict[str, Any] | None = None, path: Path | None = None) -> None:
        self.model = model
        self.info = dict(info or {})
        self.path = path
        self._forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    @property
    def style(self) -> str:
        """The painting's name (or file stem)."""
        return str(self.info.get("style", "?"))

    @property
    def history(self) -> dict[str, list[float]]:
        """The loss curve: ``{"total", "content", "style", "tv"}``, one value per training step."""
        return dict(self.info.get("history", {}))

    def __repr__(self) -> str:
        return f"Painter(style={self.style!r}, steps={self.info.get('steps_done', 0)}, path={self.path})"

    def __call__(self, photo: Any) -> np.ndarray:
        """Paint ``photo``: a path, PIL image or ``(H, W, 3)`` array → ``(H, W, 3)`` float32 in [0, 1];
        a batch ``(m, H, W, 3)`` (uint8, or float in [0, 1]) → ``(m, H, W, 3)`` float32."""
        batch = isinstance(photo, np.ndarray) and photo.ndim == 4
        x = _as_batch(photo)
        h, w = x.shape[1:3]
        ph, pw = -h % PAINTER_MULTIPLE, -w % PAINTER_MULTIPLE
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="reflect" if min(h, w) > 4 else "edge")
        out = self._forward(tf.constant(x)).numpy()[:, :h, :w]
        return out if batch else out[0]


def _as_batch(photo: Any) -> np.ndarray:
    """A photo or a batch → ``(m, H, W, 3)`` float32 in [0, 1]; ``ValueError`` names what is wrong."""
    from facelib.data.images import describe, to_rgb_uint8

    if isinstance(photo, np.ndarray) and photo.ndim == 4:
        if photo.shape[-1] != 3 or 0 in photo.shape:
            raise ValueError(f"a batch of photos must be (m, H, W, 3); got shape {photo.shape}")
        if photo.dtype == np.uint8:
            return photo.astype(np.float32) / 255.0
        if photo.dtype.kind != "f" or not np.all(np.isfinite(photo)) or photo.min() < 0 or photo.max() > 1:
            raise ValueError(f"a batch of photos must be uint8 or float in [0, 1]; got {photo.dtype}")
        return photo.astype(np.float32)
    try:
        rgb = to_rgb_uint8(photo)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{describe(photo)}: {err}") from None
    return rgb[None].astype(np.float32) / 255.0


# --------------------------------------------------------------------------- the loss: the lesson's J

def painter_costs(vgg: Any, grams_S: list[tf.Tensor], painted: tf.Tensor, photos: tf.Tensor,
                  style_layers: tuple[tuple[str, float], ...], alpha: float, beta: float,
                  tv_weight: float) -> tuple[tf.Tensor, ...]:
    """The lesson's :math:`J` of a batch, averaged over its ``m`` images: ``(J, J_content, J_style, TV)``.

    Args:
        vgg: the frozen feature model (style layers, then the content layer) on caffe inputs.
        grams_S: the painting's Gram matrix at each style layer (sized for the batch's positions).
        painted, photos: ``(m, n_H, n_W, 3)`` float32 in [0, 1]: :math:`G = f_W(C)` and :math:`C`.
        style_layers: ``(layer, λ)`` pairs; alpha, beta, tv_weight: the weights of the three costs.
    """
    from facelib.models.vgg import caffe_preprocess
    from facelib.style.costs import (
        compute_content_cost,
        layer_style_cost_from_gram,
        total_cost,
        total_variation_cost,
    )

    m = painted.shape[0]
    outs_G = vgg(caffe_preprocess(painted))
    a_C = tf.stop_gradient(tf.cast(vgg(caffe_preprocess(photos))[-1], tf.float32))
    J_content = compute_content_cost(a_C, tf.cast(outs_G[-1], tf.float32)) / m
    J_style = tf.constant(0.0, tf.float32)
    for (_, weight), G_S, a_G in zip(style_layers, grams_S, outs_G[:len(style_layers)]):
        for i in range(m):
            J_style += weight * layer_style_cost_from_gram(G_S, a_G[i:i + 1]) / m
    tv = total_variation_cost(painted)
    J = total_cost(J_content, J_style, alpha=alpha, beta=beta) + tv_weight * tv
    return J, J_content, J_style, tv


def _style_grams(vgg: Any, style: np.ndarray, size: int, style_size: int, n_style: int) -> list[tf.Tensor]:
    """Gram matrices of the painting at ``style_size``, scaled to the positions of a ``size`` image."""
    from facelib.models.vgg import caffe_preprocess
    from facelib.style.costs import style_gram
    from facelib.style.images import _style_at

    S = _style_at(style, (style_size, style_size), 1.0)  # (1, s, s, 3)
    scale = (size / style_size) ** 2  # a Gram is a sum over positions
    return [scale * style_gram(a) for a in vgg(caffe_preprocess(tf.constant(S)))[:n_style]]


# --------------------------------------------------------------------------- the cache

def _cache_dir() -> Path:
    return config.settings.home / "painters"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _trusted(path: Path) -> dict[str, Any]:
    """The sidecar of a cached painter file, after checking that the cache made it; else ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"painter file {path} does not exist")
    if path.resolve().parent != _cache_dir().resolve() or path.suffix != ".keras":
        raise ValueError(f"{path}: only painters trained here are loaded (a .keras file in {_cache_dir()})")
    sidecar = path.with_suffix(".json")
    try:
        info = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValueError(f"{path}: its sidecar {sidecar.name} is missing or unreadable; not loading it") from None
    if info.get("format") != _FORMAT or info.get("file_sha256") != _sha256(path):
        raise ValueError(f"{path}: the file's sha256 is not the one its sidecar recorded; not loading it")
    return dict(info)


def _load(path: Path) -> Painter:
    import keras

    info = _trusted(path)
    model = keras.saving.load_model(path, safe_mode=True, compile=False)
    return Painter(model, info, path)


def _save(painter: Painter, path: Path) -> None:
    """Write the ``.keras`` file and its sidecar atomically (temp files, then ``os.replace``)."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    painter.model.save(tmp)
    painter.info["file_sha256"] = _sha256(tmp)
    os.replace(tmp, path)
    side = path.with_suffix(".json")
    tmp_side = side.with_name(f".{side.name}.{os.getpid()}.tmp")
    tmp_side.write_text(json.dumps(painter.info), encoding="utf-8")
    os.replace(tmp_side, side)
    painter.path = path


def load_painter(style_or_path: Any) -> Painter:
    """A trained painter from the cache: by its ``.keras`` path, or the newest one trained for a style.

    Args:
        style_or_path: a ``.keras`` file in ``FACELIB_HOME/painters/``, or a style as
            :func:`train_painter` takes it (painting name, image file or array).

    Raises:
        FileNotFoundError: no painter was trained for that style (the message says how to train one).
        ValueError: a file outside the cache, or one whose sha256 its sidecar does not vouch for.
    """
    if isinstance(style_or_path, (str, Path)) and str(style_or_path).endswith(".keras"):
        return _load(Path(style_or_path))
    _, label, digest = _read_style(style_or_path)
    found = []
    for side in sorted(_cache_dir().glob("painter-*.json")):
        try:
            info = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if info.get("style_sha256") == digest and side.with_suffix(".keras").is_file():
            found.append((int(info.get("steps_done", 0)) >= int(info.get("steps", 1)), side.stat().st_mtime, side))
    if not found:
        raise FileNotFoundError(f"no painter trained for style {label!r} in {_cache_dir()}; train one with "
                                f"`facelib paint train {label}` or facelib.style.train_painter({label!r})")
    return _load(max(found)[2].with_suffix(".keras"))


def _read_style(style: Any) -> tuple[np.ndarray, str, str]:
    """The painting as ``(H, W, 3)`` float32 in [0, 1], its label and the sha256 of its pixels."""
    from facelib.style.images import _check_image, resolve_style

    label = "array"
    if isinstance(style, (str, Path)):
        label = Path(str(style)).stem if Path(str(style)).suffix else str(style).removeprefix("style-")
    image = _check_image(resolve_style(style), "style image")
    pixels = np.round(image * 255).astype(np.uint8)
    digest = hashlib.sha256(f"{pixels.shape}".encode() + pixels.tobytes()).hexdigest()
    return image, label, digest


# --------------------------------------------------------------------------- training

def _photos_id(photos: Any) -> tuple[list[np.ndarray] | None, str]:
    """The user's photos as RGB uint8 and their identity for the cache key; ``(None, ...)`` for the ImageNet
    sample, which is only read when training needs it (a cached painter is loaded without it)."""
    from facelib.data.images import to_rgb_uint8

    if photos is None:
        return None, "imagenet-sample-256:train"
    if isinstance(photos, (str, Path)) or (isinstance(photos, np.ndarray) and photos.ndim == 3):
        raise ValueError("photos must be a list of photos or an (n, H, W, 3) array, not one photo")
    raw = [to_rgb_uint8(p) for p in photos]
    if not raw:
        raise ValueError("photos is empty: give at least one photo (or None for the ImageNet sample)")
    h = hashlib.sha256()
    for r in raw:
        h.update(f"{r.shape}".encode() + r.tobytes())
    return raw, h.hexdigest()


def _training_photos(raw: list[np.ndarray] | None, size: int) -> np.ndarray:
    """``(n, size, size, 3)`` uint8 training photos (centre-cropped squares, resized, rounded), filled in place:
    the sample's 980 photos take 48 MB at 128 px (193 MB as float32); a batch is scaled to [0, 1] when it is
    drawn. The sample's training classes are read :data:`_READ_CLASSES` at a time (the sample checked and
    listed once), so its 256-px photos (193 MB for all of them) are never in memory at once."""
    from facelib.data.datasets import iter_imagenet_sample

    if raw is not None:
        return _squares(raw, np.empty((len(raw), size, size, 3), np.uint8))
    training = _training_classes()   # imagenet_split's training view, in the same order
    out = np.empty((len(training), size, size, 3), np.uint8)
    start = 0
    for part in iter_imagenet_sample(training, batch=_READ_CLASSES):
        _squares(part.images, out[start:start + len(part)])
        start += len(part)
        del part   # freed before the next batch is decoded
    return out


def _squares(photos: Any, out: np.ndarray) -> np.ndarray:
    """Each photo centre-cropped to a square and resized into ``out`` ``(n, size, size, 3)`` uint8."""
    from facelib.style.images import _crop_to_aspect, _resize

    if len(photos) != len(out):
        raise ValueError(f"{len(photos)} photos for {len(out)} places")
    size = out.shape[1]
    for k, r in enumerate(photos):
        square = _resize(_crop_to_aspect(r.astype(np.float32) / 255.0, (size, size)), (size, size))
        out[k] = np.rint(np.clip(square, 0.0, 1.0) * 255.0)
    return out


def _recipe(size: int, batch_size: int, learning_rate: float, style_size: int, tv_weight: float,
            beta: float | None, photos_id: str, network: dict[str, int]) -> dict[str, Any]:
    from facelib.style.presets import PRESETS

    r = PRESETS["classroom"]
    return {"size": size, "batch_size": batch_size, "learning_rate": learning_rate, "style_size": style_size,
            "tv_weight": tv_weight, "alpha": r.alpha, "beta": PAINTER_BETA if beta is None else float(beta),
            "content_layer": r.content_layer, "style_layers": [list(p) for p in r.style_layers],
            "photos": photos_id, "network": network}


def _check_args(size: int, steps: int, batch_size: int) -> None:
    for name, value, low in (("size", size, 16), ("steps", steps, 1), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if size % PAINTER_MULTIPLE:
        raise ValueError(f"size must be a multiple of {PAINTER_MULTIPLE}, got {size}")


def train_painter(style: Any, *, photos: Any = None, size: int = PAINTER_SIZE, steps: int = PAINTER_STEPS,
                  progress: bool | Callable[[int, dict[str, float]], None] = True, batch_size: int = 2,
                  learning_rate: float = 2e-3, style_size: int = 256, tv_weight: float = 0.0,
                  beta: float | None = None, cache: bool = True, retrain: bool = False, checkpoint_every: int = 50,
                  seed: int = 0, network: dict[str, int] | None = None) -> Painter:
    """Train a painter for ``style`` with the lesson's cost as the loss (or load it from the cache).

    Args:
        style: the painting: a registry name (``"starry-night"``), an image file or an ``(H, W, 3)`` array.
        photos: training photos (a list of paths/images or an ``(n, H, W, 3)`` array); ``None``: the
            ImageNet sample's 980 training photos (:func:`imagenet_split`).
        size: training side in pixels (photos centre-cropped to squares); a multiple of 4.
        steps: Adam steps of ``batch_size`` photos; a cached painter with fewer steps is trained on.
        progress: show a progress bar (``True``), none (``False``), or call ``progress(step, costs)``.
        learning_rate: Adam's. style_size: side at which the painting's Gram matrices are taken (the
            brush size, as at ``stylize``'s 256 px). tv_weight: weight of total variation.
        beta: weight of :math:`J_{style}` (default :data:`PAINTER_BETA`, with :math:`\\alpha = 1`).
        cache: look up, resume and save in ``FACELIB_HOME/painters/`` (checkpoint every
            ``checkpoint_every`` steps and on Ctrl-C); ``retrain`` starts afresh and overwrites the cached
            one. seed: initial weights and photo order.
        network: keyword arguments of :func:`~facelib.style.painter_net.build_painter_network`.

    Returns:
        The :class:`Painter` (``painter.history`` holds the loss curve).
    """
    _check_args(size, steps, batch_size)
    S, label, digest = _read_style(style)
    raw, photos_id = _photos_id(photos)
    net = dict(network or {})
    recipe = _recipe(size, batch_size, float(learning_rate), int(style_size), float(tv_weight), beta, photos_id, net)
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    path = _cache_dir() / f"painter-{digest[:16]}-{key}.keras"
    painter = _resume(path) if cache and not retrain else None
    if painter is None:
        painter = Painter(build_painter_network(**net, seed=seed), {
            "format": _FORMAT, "style": label, "style_sha256": digest, "recipe": recipe, "steps_done": 0,
            "seconds": 0.0, "history": {"total": [], "content": [], "style": [], "tv": []}})
    painter.info["steps"] = max(int(steps), int(painter.info.get("steps", 0)))
    if painter.info["steps_done"] >= steps:
        return painter
    _fit(painter, S, _training_photos(raw, size), steps, progress, seed, path if cache else None, checkpoint_every)
    return painter


def _resume(path: Path) -> Painter | None:
    """The cached painter at ``path`` (complete or a checkpoint), or ``None`` (none, or not trusted)."""
    if not path.is_file():
        return None
    try:
        return _load(path)
    except ValueError:
        return None


def _fit(painter: Painter, style: np.ndarray, train: np.ndarray, steps: int,
         progress: bool | Callable[[int, dict[str, float]], None], seed: int, path: Path | None,
         checkpoint_every: int) -> None:
    """Adam on the network's weights from ``steps_done`` to ``steps``; checkpoints at ``path``."""
    import keras

    from facelib.progress import tqdm
    from facelib.style.optim import _feature_model, _resolve_precision

    r = painter.info["recipe"]
    layers = tuple((str(n), float(w)) for n, w in r["style_layers"])
    vgg = _feature_model(tuple(n for n, _ in layers) + (r["content_layer"],), _resolve_precision("auto"))
    grams = _style_grams(vgg, style, r["size"], r["style_size"], len(layers))
    model, opt = painter.model, keras.optimizers.Adam(r["learning_rate"])

    @tf.function
    def step(photos: tf.Tensor) -> tuple[tf.Tensor, ...]:
        with tf.GradientTape() as tape:
            costs = painter_costs(vgg, grams, model(photos, training=True), photos, layers, r["alpha"], r["beta"],
                                  r["tv_weight"])
        grads = tape.gradient(costs[0], model.trainable_variables)   # dJ/dW: the network learns, VGG is frozen
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return costs

    done, hist = int(painter.info["steps_done"]), painter.info["history"]
    bar = tqdm(total=steps, initial=done, desc=f"painter ({painter.style})", unit="step",
               disable=progress is not True or not config.settings.progress)
    start = time.perf_counter() - float(painter.info.get("seconds", 0.0))
    try:
        for t in range(done, steps):
            m = r["batch_size"]
            idx = np.random.default_rng([seed, t]).choice(len(train), m, replace=len(train) < m)
            batch = train[idx][:, :, ::-1] if t % 2 else train[idx]  # every other batch mirrored
            values = [float(v) for v in step(tf.constant(batch.astype(np.float32) / 255.0))]
            for k, v in zip(("total", "content", "style", "tv"), values):
                hist[k].append(v)
            painter.info["steps_done"], painter.info["seconds"] = t + 1, time.perf_counter() - start
            bar.update(1)
            if callable(progress):
                progress(t + 1, dict(zip(("total", "content", "style", "tv"), values)))
            if path is not None and ((t + 1) % checkpoint_every == 0 or t + 1 == steps):
                _save(painter, path)
    except KeyboardInterrupt:
        if path is not None:
            _save(painter, path)  # the last finished step: `train_painter` again resumes from here
        raise
    finally:
        bar.close()
