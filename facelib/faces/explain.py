"""Why did it match? Occlusion sensitivity and saliency for a pair of faces (lesson 05, going further).

A verifier answers with one number, ``d(f(A), f(B))``. To see *which parts of the faces* that
number rests on (lesson 06's "what are deep ConvNets learning", applied to faces):

- **occlusion sensitivity** (Zeiler & Fergus 2014): slide a grey patch over face A, encode each
  occluded copy, and record how much the distance to B changes,
  ``Δd(i, j) = d(f(A with the patch at (i, j)), f(B)) − d(f(A), f(B))``. Where hiding a region
  makes the faces look *less* alike (Δd > 0), the match rested on it. Model-agnostic: any
  ``encode`` (aligned faces ``(m, H, W, 3) → (m, d)`` encodings) will do, e.g. an encoder's
  ``encode_faces`` — about 100 forward passes per face (:func:`occlusion_deltas`, :func:`occlusion_map`);
- **saliency** (Simonyan et al. 2014): the gradient of ``d(f(A), f(B))`` with respect to A's
  pixels, one backward pass; and **Grad-CAM** (Selvaraju et al. 2017): the last convolutional
  feature maps weighted by the mean gradient of ``d`` on each, a coarser and steadier map
  (:func:`saliency_maps`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["GREY", "OcclusionMap", "encoder_network", "occlusion_deltas", "occlusion_map", "patch_starts",
           "saliency_maps", "show_occlusion"]

#: The grey of the occluding patch (the middle of 0–255).
GREY = 128


def patch_starts(size: int, patch: int, stride: int) -> list[int]:
    """Where a ``patch``-wide square starts along a side of ``size``: 0, stride, … while it fits."""
    if not 0 < patch <= size or stride <= 0:
        raise ValueError(f"need 0 < patch <= size and stride > 0; got size={size}, patch={patch}, stride={stride}")
    return list(range(0, size - patch + 1, stride))


def occlusion_deltas(encode: Callable[[np.ndarray], np.ndarray], face: np.ndarray, other: np.ndarray, *,
                     patch: int = 30, stride: int = 15, fill: int = GREY, batch: int = 8) -> np.ndarray:
    """``Δd`` for a grey patch at each place of ``face``: its distance to ``other`` occluded minus intact.

    Args:
        encode: ``(m, H, W, 3) uint8 → (m, d)`` encodings (unit rows, e.g. an encoder's ``encode_faces``).
        face: ``(H, W, 3) uint8`` aligned face A.
        other: ``(d,)`` the encoding of face B.
        patch, stride: the square's side and step in pixels; fill: its grey level.
        batch: occluded copies encoded at once (8: TensorFlow's working memory grows with the batch, the
            speed on CPUs hardly).

    Returns:
        ``(rows, cols) float64``; ``[i, j]`` for the patch whose top-left corner is at
        ``(patch_starts(H)[i], patch_starts(W)[j])``.
    """
    face = np.asarray(face)
    other = np.asarray(other, np.float64).ravel()
    ys, xs = patch_starts(face.shape[0], patch, stride), patch_starts(face.shape[1], patch, stride)
    base = float(np.linalg.norm(np.asarray(encode(face[None]), np.float64)[0] - other))
    corners = [(y, x) for y in ys for x in xs]
    out = np.empty(len(corners))
    for s in range(0, len(corners), batch):
        copies = np.repeat(face[None], len(corners[s:s + batch]), axis=0)
        for k, (y, x) in enumerate(corners[s:s + batch]):
            copies[k, y:y + patch, x:x + patch] = fill
        enc = np.asarray(encode(copies), np.float64)
        out[s:s + len(copies)] = np.linalg.norm(enc - other, axis=1) - base
    return out.reshape(len(ys), len(xs))


@dataclass(frozen=True)
class OcclusionMap:
    """Both faces' occlusion maps: ``delta_a`` (A occluded, B intact), ``delta_b`` (the other way),
    ``distance`` = d(f(A), f(B)) intact, the ``patch`` and ``stride`` used."""

    delta_a: np.ndarray
    delta_b: np.ndarray
    distance: float
    patch: int
    stride: int


def occlusion_map(encode: Callable[[np.ndarray], np.ndarray], face_a: np.ndarray, face_b: np.ndarray, *,
                  patch: int = 30, stride: int = 15, fill: int = GREY) -> OcclusionMap:
    """:func:`occlusion_deltas` of A against B and of B against A (two aligned ``(H, W, 3) uint8`` faces)."""
    enc = np.asarray(encode(np.stack([face_a, face_b])), np.float64)
    return OcclusionMap(occlusion_deltas(encode, face_a, enc[1], patch=patch, stride=stride, fill=fill),
                        occlusion_deltas(encode, face_b, enc[0], patch=patch, stride=stride, fill=fill),
                        float(np.linalg.norm(enc[0] - enc[1])), patch, stride)


def show_occlusion(face_a: np.ndarray, face_b: np.ndarray, omap: OcclusionMap, *, title: str = "", axes: Any = None):
    """Plot each face with its ``Δd`` map over it (red: hiding this makes them look less alike)."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(7, 3.6))
    lim = max(np.abs(omap.delta_a).max(), np.abs(omap.delta_b).max(), 1e-6)
    for ax, face, delta, label in ((axes[0], face_a, omap.delta_a, "A"), (axes[1], face_b, omap.delta_b, "B")):
        h, w = face.shape[:2]
        half = omap.patch / 2
        ys, xs = patch_starts(h, omap.patch, omap.stride), patch_starts(w, omap.patch, omap.stride)
        ax.imshow(face)
        im = ax.imshow(delta, cmap="RdBu_r", vmin=-lim, vmax=lim, alpha=0.55, interpolation="bilinear",
                       extent=(xs[0] + half, xs[-1] + half, ys[-1] + half, ys[0] + half))
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)
        ax.set_title(f"face {label} occluded")
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
    axes[1].figure.colorbar(im, ax=list(axes), label="Δd when this patch is grey")
    axes[0].figure.suptitle(title or f"Occlusion sensitivity, d(A, B) = {omap.distance:.3f}")
    return axes


def encoder_network(name: str) -> tuple[Any, Callable[[np.ndarray], np.ndarray]]:
    """The Keras network behind encoder ``"facenet"`` or ``"dlib"`` and its preprocessing, for
    :func:`saliency_maps` (FaceNet's ``"standardize"``; dlib's chips as float 0–255)."""
    if name == "facenet":
        from facelib.faces.verification import default_model
        from facelib.models.facenet_input import preprocess

        return default_model(), lambda x: preprocess(x, "standardize")
    if name == "dlib":
        from facelib.models.dlib_resnet import dlib_resnet

        return dlib_resnet("registry"), lambda x: np.asarray(x, np.float32)
    raise ValueError(f"saliency needs one network: 'facenet' or 'dlib'; got {name!r}")


def _last_conv(model: Any) -> Any:
    """The last layer of ``model`` with a 4-D output (the last feature maps before pooling)."""
    for layer in reversed(model.layers):
        shape = getattr(layer, "output", None)
        if shape is not None and len(getattr(shape, "shape", ())) == 4:
            return layer
    raise ValueError(f"{model.name} has no 4-D feature maps for Grad-CAM")


def saliency_maps(model: Any, prepare: Callable[[np.ndarray], np.ndarray], face_a: np.ndarray,
                  face_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Saliency and Grad-CAM of ``d(f(A), f(B))`` on face A.

    Args:
        model: a functional Keras network ``(1, H, W, 3) float32 → (1, d)``.
        prepare: its preprocessing, ``(m, H, W, 3) uint8 → float32`` (NumPy).
        face_a, face_b: aligned ``(H, W, 3) uint8`` faces.

    Returns:
        ``(saliency (H, W), grad_cam (H, W))``, each scaled to ``[0, 1]``: ``|∂d/∂x|`` (largest over
        the colour channels) and ``ReLU(Σ_k ᾱ_k A_k)`` (the last feature maps ``A_k`` weighted by the
        mean gradient ``ᾱ_k = mean ∂d/∂A_k``), upsampled to the face.
    """
    import keras
    import tensorflow as tf

    conv = _last_conv(model)
    probe = keras.Model(model.inputs, [conv.output, model.output])
    b = tf.math.l2_normalize(model(tf.constant(prepare(np.asarray(face_b)[None])), training=False), axis=1)
    x = tf.Variable(prepare(np.asarray(face_a)[None]))
    with tf.GradientTape(persistent=True) as tape:
        maps, enc = probe(x, training=False)
        d = tf.norm(tf.math.l2_normalize(enc, axis=1) - b)
    sal = np.abs(tape.gradient(d, x).numpy()[0]).max(-1)
    grads = tape.gradient(d, maps).numpy()[0]
    cam = np.maximum((maps.numpy()[0] * grads.mean((0, 1))).sum(-1), 0)
    h, w = np.asarray(face_a).shape[:2]
    cam = tf.image.resize(cam[..., None], (h, w), method="bilinear").numpy()[..., 0]
    return sal / max(sal.max(), 1e-12), cam / max(cam.max(), 1e-12)
