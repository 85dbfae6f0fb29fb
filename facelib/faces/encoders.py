"""One API for the face encoders: a photo in, a unit-norm encoding ``f(x)`` out.

``load(name)`` returns an encoder that owns its *whole* pipeline, because a network only works on
the faces it was trained on and a threshold only means something for one pipeline:

===============  ======================================  ==========================================
name             pipeline                                 output
===============  ======================================  ==========================================
``"facenet"``    MTCNN → 5-point alignment on             ``(m, 128)`` unit rows
                 :data:`facelib.faces.detect.TEMPLATE_5`, 160×160
                 → ``"standardize"`` (prewhiten) →
                 Inception-ResNet-v1 (davidsandberg
                 20170512-110547)
``"dlib"``       MTCNN → dlib's own 5-point landmarks     ``(m, 128)`` unit rows
                 (its shape predictor, NumPy, in the box
                 dlib's detector would give) → dlib's
                 150×150 chip, padding 0.25
                 (:data:`DLIB_ALIGNMENTS`) → dlib's
                 ResNet-29 (Keras port)
``"facenet+dlib"``  one MTCNN detection, each network     ``(m, 256)`` unit rows: the two unit
                 aligned its own way                      encodings side by side, weighted
===============  ======================================  ==========================================

The fused width is 256: ``[√w₁·f₁ | √w₂·f₂]`` with ``w₁ + w₂ = 1`` has unit norm and its squared
distance is the weighted mean of the two networks' squared distances, ``d² = w₁·d₁² + w₂·d₂²`` — a
vote of the two encoders, weighted by :data:`FUSION_WEIGHTS` (chosen on LFW View 1 DevTrain).

MTCNN's main face must have a probability of 0.9; a photo without one gets the main face of
those above :data:`facelib.faces.detect.FALLBACK_CONFIDENCE` (fewer centre crops).

Every encoder has ``encode_photos(photos, *, on_no_face="raise" | "centre", progress=None)``
(paths, arrays or PIL images → ``(m, dim) float32``) and ``encode_faces(aligned)`` (its own crops
→ encodings), ``threshold`` (τ for ``d <= τ`` ⇒ same person, the equal-error-rate threshold on
LFW View 1 DevTrain, measured by ``bench/lfw.py``) and ``not_found`` (how many photos of the last
``encode_photos`` call had no face and were centre-cropped).

``flip=True`` (the default) averages the encodings of the face and its mirror image before
normalising — a free improvement on LFW; the course functions in :mod:`facelib.faces.verification`
(``img_to_encoding``, ``verify``, ``who_is_it``) keep the course's exact behaviour and are not
affected by anything here.

What an encoder keeps between runs (MTCNN's detections, encodings by photo) is
:mod:`facelib.faces.encoder_cache`; the centre crop and the warp onto a template are :mod:`facelib.faces.detect`.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from facelib.data.images import ImageLike, to_rgb_uint8
from facelib.faces.detect import centre_keypoints, warp_to_template
from facelib.faces.encoder_cache import EncodingStore, detect_photos, photo_key
from facelib.faces.evaluation import traced_network
from facelib.faces.verification import ENCODE_BATCH

__all__ = ["DLIB_ALIGNMENT", "DLIB_ALIGNMENTS", "ENCODERS", "FUSION_WEIGHTS", "THRESHOLDS", "Encoder", "FusedEncoder",
           "NetworkEncoder", "load"]

#: Names :func:`load` knows.
ENCODERS = ("facenet", "dlib", "facenet+dlib")

#: τ per (encoder, FaceNet preprocessing or dlib alignment, flip): the equal-error-rate threshold
#: on all 2,200 LFW View 1 DevTrain pairs, d <= τ ⇒ same. Measured with ``nice python bench/lfw.py``
#: (and ``--alignment landmarks`` for the other dlib route); DevTest accuracies are in bench/lfw.py.
THRESHOLDS: dict[tuple[str, str, bool], float] = {
    ("facenet", "standardize", True): 1.091,
    ("facenet", "standardize", False): 1.091,
    ("facenet", "course", True): 1.075,
    ("facenet", "course", False): 1.088,
    ("dlib", "template", True): 0.412,
    ("dlib", "template", False): 0.426,
    ("dlib", "landmarks", True): 0.414,
    ("dlib", "landmarks", False): 0.428,
    ("dlib", "shape", True): 0.413,
    ("dlib", "shape", False): 0.427,
    ("facenet+dlib/template", "standardize", True): 0.687,
    ("facenet+dlib/template", "standardize", False): 0.693,
    ("facenet+dlib/landmarks", "standardize", True): 0.650,
    ("facenet+dlib/landmarks", "standardize", False): 0.658,
    ("facenet+dlib/shape", "standardize", True): 0.662,
    ("facenet+dlib/shape", "standardize", False): 0.676,
}

#: Weights (FaceNet, dlib) of the fused encoder's squared distances, ``d² = w₁·d₁² + w₂·d₂²``, per
#: dlib alignment: of w₁ = 0.20, 0.25, …, 0.80, the one with the lowest equal-error rate on the
#: 2,200 View 1 DevTrain pairs (flip on), ties broken by the larger separation d′ of same and
#: different pairs' distances (tools/fit_fusion.py). FaceNet's distances are about 2.5× dlib's, so
#: w₁ = 0.3 still gives FaceNet the larger share; the plain concatenation (0.5, 0.5) had DevTrain
#: EER 0.45 % against 0.36 %.
FUSION_WEIGHTS: dict[str, tuple[float, float]] = {
    "facenet+dlib/template": (0.3, 0.7),
    "facenet+dlib/landmarks": (0.25, 0.75),
    # logistic regression P(same) = σ(b − a₁·d₁² − a₂·d₂²) on DevTrain, w = a / Σa (tools/fit_fusion.py):
    # DevTrain EER 0.27 % (0.36 % with the template chips)
    "facenet+dlib/shape": (0.27, 0.73),
}

# ----------------------------------------------------------------------------- encoders
class Encoder:
    """Common part: photo handling, detection, the ``on_no_face`` policy. Subclasses encode."""

    # set by the subclasses (dataclass fields): name, dim, threshold, not_found
    name: str
    threshold: float

    def _align(self, rgb: np.ndarray, keypoints: np.ndarray) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode_faces(self, aligned: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _prepare(self, photos: Sequence[ImageLike] | ImageLike, on_no_face: str, progress: bool | None,
                 cache: bool) -> tuple[list[np.ndarray], list[np.ndarray], list[str] | None]:
        """Read the photos, detect their main faces, apply ``on_no_face`` → ``(rgbs, keypoints, keys)``."""
        if on_no_face not in ("raise", "centre"):
            raise ValueError(f"on_no_face must be 'raise' or 'centre'; got {on_no_face!r}")
        if isinstance(photos, (str, os.PathLike, Image.Image)) or (isinstance(photos, np.ndarray) and photos.ndim == 3):
            photos = [photos]
        photos = list(photos)
        rgbs = [to_rgb_uint8(p) for p in photos]
        keys = [photo_key(p, r) for p, r in zip(photos, rgbs)] if cache else None
        dets = detect_photos(rgbs, keys=keys, progress=progress)
        self.not_found = 0
        self.no_face = np.array([d.keypoints is None for d in dets], bool)
        kps = []
        for photo, rgb, det in zip(photos, rgbs, dets):
            if det.keypoints is None:
                if on_no_face == "raise":
                    from facelib.faces.detect import NoFaceFoundError

                    what = str(photo) if isinstance(photo, (str, os.PathLike)) else f"a {type(photo).__name__} image"
                    raise NoFaceFoundError(f"no face found in {what}; pass on_no_face='centre' to use a centre crop")
                self.not_found += 1
                kps.append(centre_keypoints(rgb.shape))
            else:
                kps.append(det.keypoints)
        return rgbs, kps, keys

    def align_photos(self, photos: Sequence[ImageLike], *, on_no_face: str = "raise",
                     progress: bool | None = None, cache: bool = False) -> Any:
        """Detect and align each photo the way this encoder's network(s) expect (sets ``not_found``)."""
        rgbs, kps, _ = self._prepare(photos, on_no_face, progress, cache)
        return self._stack([self._align(r, k) for r, k in zip(rgbs, kps)])

    def encode_photos(self, photos: Sequence[ImageLike] | ImageLike, *, on_no_face: str = "raise",
                      progress: bool | None = None, cache: bool = False, chunk: int = 64) -> np.ndarray:
        """Photos (paths, ``(H, W, 3)`` arrays or PIL images) → ``(m, dim) float32`` unit rows.

        ``on_no_face="raise"`` raises :class:`facelib.faces.detect.NoFaceFoundError` naming the photo;
        ``"centre"`` aligns a centre crop instead (:func:`centre_keypoints`) and counts it in
        ``self.not_found`` (``self.no_face`` marks which). ``cache=True`` keeps MTCNN's detections
        and each network's encodings (of the face and of its mirror image) in
        ``FACELIB_HOME/cache/``, keyed by the photo's sha256 (encodings also by the face's
        keypoints): a benchmark computes each once. The photos are read, detected and encoded
        ``chunk`` at a time, so memory does not grow with their number (LFW View 1's 4,000+ photos
        and their crops took ~1 GB at once).
        """
        if chunk < 1:
            raise ValueError(f"chunk must be at least 1; got {chunk}")
        single = isinstance(photos, (str, os.PathLike, Image.Image)) or (
            isinstance(photos, np.ndarray) and photos.ndim == 3)
        items: list[ImageLike] = [photos] if single else list(photos)  # type: ignore[list-item,arg-type]
        out, no_face = [], []
        for start in range(0, max(len(items), 1), chunk):
            rgbs, kps, keys = self._prepare(items[start:start + chunk], on_no_face, progress, cache)
            no_face.append(self.no_face)
            out.append(self._encode_detected(rgbs, kps, keys))
        self.no_face = np.concatenate(no_face)
        self.not_found = int(self.no_face.sum())
        return np.concatenate(out)

    def encode_at(self, rgb: np.ndarray, keypoints: Sequence[np.ndarray]) -> np.ndarray:
        """Encode faces already found in one ``(H, W, 3) uint8`` photo, each given by its ``(5, 2)``
        MTCNN keypoints (e.g. every face of a group photo) → ``(k, dim) float32`` unit rows."""
        return self._encode_detected([rgb] * len(keypoints), list(keypoints), None)

    def _encode_detected(self, rgbs: list[np.ndarray], kps: list[np.ndarray],
                         keys: list[str] | None) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _stack(self, aligned: list[Any]) -> Any:
        return np.stack(aligned) if aligned else np.zeros((0, self.size, self.size, 3), np.uint8)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"<facelib encoder {self.name!r}: {self.dim}-d, τ = {self.threshold:.3f}>"  # type: ignore[attr-defined]  # dim: a field or a property of each subclass


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


@dataclass(repr=False)
class NetworkEncoder(Encoder):
    """One network with its own alignment: ``template`` (5, 2) in side units, ``size`` pixels,
    ``preprocessing`` and ``embed`` (``(m, size, size, 3) uint8`` → raw ``(m, d)``)."""

    name: str
    size: int
    template: np.ndarray
    preprocessing: str
    embed: Callable[[np.ndarray], np.ndarray]
    flip: bool = True
    threshold: float = 1.0
    dim: int = 128
    not_found: int = field(default=0)
    #: ``(rgb, keypoints) → (size, size, 3) uint8`` crop in place of :func:`warp_to_template`, and
    #: a short name of that alignment (its fitted constants) for the encoding cache.
    aligner: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    aligner_id: str = ""

    def _align(self, rgb: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        if self.aligner is not None:
            return self.aligner(rgb, keypoints)
        return warp_to_template(rgb, keypoints, self.template, self.size)

    def encode_faces(self, aligned: np.ndarray) -> np.ndarray:
        """This network's aligned crops ``(m, size, size, 3) uint8`` → ``(m, dim) float32`` unit rows."""
        faces = np.asarray(aligned)
        if faces.ndim != 4 or faces.shape[1:] != (self.size, self.size, 3):
            raise ValueError(f"{self.name} expects aligned faces of shape (m, {self.size}, {self.size}, 3); "
                             f"got {faces.shape}")
        if len(faces) == 0:
            return np.zeros((0, self.dim), np.float32)
        emb = _normalise(self.embed(faces))
        if self.flip:
            emb = _normalise(emb + _normalise(self.embed(faces[:, :, ::-1])))
        return emb

    @property
    def cache_key(self) -> str:
        """Names this network + alignment + preprocessing in the encoding cache."""
        geometry = self.aligner_id if self.aligner is not None else \
            hashlib.sha256(self.template.tobytes()).hexdigest()[:8]
        return f"{self.name}-{self.preprocessing}-{self.size}-{geometry}"

    def _encode_detected(self, rgbs: list[np.ndarray], kps: list[np.ndarray], keys: list[str] | None) -> np.ndarray:
        if keys is None:
            return self.encode_faces(self._stack([self._align(r, k) for r, k in zip(rgbs, kps)]))
        store = EncodingStore.of(self.cache_key, self.dim)
        # the face, not only the photo: a detection that changes (another policy) is encoded again
        keys = [f"{k}-{hashlib.sha256(np.round(kp, 3).tobytes()).hexdigest()[:12]}" for k, kp in zip(keys, kps)]
        todo = [i for i, k in enumerate(keys) if k not in store]
        if todo:
            faces = np.stack([self._align(rgbs[i], kps[i]) for i in todo])
            plain = _normalise(self.embed(faces))
            mirrored = _normalise(self.embed(faces[:, :, ::-1]))
            store.update([keys[i] for i in todo], plain, mirrored)
        plain, mirrored = store.get(keys)
        return _normalise(plain + mirrored) if self.flip else plain


@dataclass(repr=False)
class FusedEncoder(Encoder):
    """Several encoders on one detection: ``[√w₁·f₁ | √w₂·f₂ | …]``, unit norm, width Σ dims.

    ``weights`` (positive, summing to 1; default equal) weigh the networks' squared distances:
    ``d² = Σ_k w_k·d_k²``.
    """

    parts: list[NetworkEncoder]
    name: str = "facenet+dlib"
    threshold: float = 1.0
    not_found: int = field(default=0)
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        w = np.full(len(self.parts), 1 / len(self.parts)) if self.weights is None else np.asarray(self.weights, float)
        if w.shape != (len(self.parts),) or (w <= 0).any() or abs(w.sum() - 1) > 1e-6:
            raise ValueError(f"fusion weights must be {len(self.parts)} positive numbers summing to 1; "
                             f"got {self.weights}")
        self.weights = tuple(float(v) for v in w)

    def _fuse(self, embs: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.sqrt(w) * e for w, e in zip(self.weights or (), embs)], axis=1).astype(np.float32)

    @property
    def dim(self) -> int:
        """Width of the fused encoding (256 for two 128-d networks)."""
        return sum(p.dim for p in self.parts)

    def _align(self, rgb: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(p._align(rgb, keypoints) for p in self.parts)

    def _stack(self, aligned: list[Any]) -> tuple[np.ndarray, ...]:
        return tuple(p._stack([a[k] for a in aligned]) for k, p in enumerate(self.parts))

    def _encode_detected(self, rgbs: list[np.ndarray], kps: list[np.ndarray], keys: list[str] | None) -> np.ndarray:
        return self._fuse([p._encode_detected(rgbs, kps, keys) for p in self.parts])

    def encode_faces(self, aligned: Sequence[np.ndarray]) -> np.ndarray:
        """A tuple with each part's aligned crops (same photos, same order) → ``(m, dim)`` unit rows."""
        if len(aligned) != len(self.parts):
            raise ValueError(f"{self.name} needs {len(self.parts)} stacks of aligned faces, one per network")
        return self._fuse([p.encode_faces(a) for p, a in zip(self.parts, aligned)])


# ----------------------------------------------------------------------------- networks
def _batched(network: Callable[[Any], Any], prep: Callable[[np.ndarray], np.ndarray],
             batch_size: int = ENCODE_BATCH) -> Callable[[np.ndarray], np.ndarray]:
    """``(m, size, size, 3)`` crops → ``prep`` → ``network`` → raw ``(m, d)`` float32, in batches."""

    def embed(faces: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        out = [network(tf.constant(prep(faces[i:i + batch_size]))).numpy() for i in range(0, len(faces), batch_size)]
        return np.concatenate(out).astype(np.float32)

    return embed


@functools.lru_cache(maxsize=2)
def _traced(kind: str) -> Callable[[Any], Any]:
    """The network ``kind`` (``"facenet"`` or ``"dlib"``) as one traced ``tf.function``, built on its
    first call (a run whose encodings are all cached never builds it), shared by every preprocessing."""
    fns: list[Callable[[Any], Any]] = []

    def call(x: Any) -> Any:
        if not fns:
            if kind == "facenet":
                from facelib.faces.verification import default_model

                model = default_model()
            else:
                from facelib.models.dlib_resnet import dlib_resnet

                model = dlib_resnet("registry")
            fns.append(traced_network(model))  # the same trace as encode_faces(model): one per network
        return fns[0](x)

    return call


@functools.lru_cache(maxsize=2)
def _facenet_embed(preprocessing: str) -> Callable[[np.ndarray], np.ndarray]:
    from facelib.models.facenet_input import preprocess

    return _batched(_traced("facenet"), lambda x: preprocess(x, preprocessing))


@functools.lru_cache(maxsize=1)
def _dlib_embed() -> Callable[[np.ndarray], np.ndarray]:
    return _batched(_traced("dlib"), lambda x: np.asarray(x, np.float32))


def _facenet(preprocessing: str, flip: bool) -> NetworkEncoder:
    from facelib.faces.detect import TEMPLATE_5
    from facelib.models.facenet_input import PREPROCESSING

    if preprocessing not in PREPROCESSING:
        raise ValueError(f"facenet preprocessing must be one of {PREPROCESSING}; got {preprocessing!r}")
    return NetworkEncoder("facenet", 160, TEMPLATE_5, preprocessing, _facenet_embed(preprocessing), flip,
                          THRESHOLDS[("facenet", preprocessing, flip)])


#: How ``load("dlib")`` cuts dlib's chip from MTCNN's keypoints: ``"shape"`` (the default) as dlib
#: does, with dlib's own 5-point shape predictor (NumPy port, :mod:`facelib.models.dlib_shape`) started
#: in the box dlib's detector would give (:func:`facelib.models.dlib_chip.chip_from_shape`; 1.1 px RMS
#: from dlib's own chip); ``"template"`` maps the keypoints onto their mean positions in dlib's chips
#: (:data:`facelib.models.dlib_resnet.DLIB_CHIP_TEMPLATE`, 5.7 px); ``"landmarks"`` predicts dlib's
#: landmarks from the keypoints with a fitted linear map (3.1 px). Measured on LFW View 1 DevTrain
#: (flip on, ``bench/lfw.py``, issue 29): dlib alone ties ``"template"`` (EER 0.82 % both, AUC 0.99883
#: against 0.99879) and the fused encoder is better with it (EER 0.27 % against 0.36 %), so it is the
#: default; ``"template"`` is what facelib 0.2's encodings and databases were made with.
DLIB_ALIGNMENTS = ("template", "landmarks", "shape")
#: ``load("dlib")``'s default alignment.
DLIB_ALIGNMENT = "shape"


def _dlib(flip: bool, alignment: str = DLIB_ALIGNMENT) -> NetworkEncoder:
    from facelib.models import dlib_chip
    from facelib.models.dlib_resnet import DLIB_CHIP_TEMPLATE, DLIB_INPUT_SIZE

    if alignment not in DLIB_ALIGNMENTS:
        raise ValueError(f"dlib alignment must be one of {DLIB_ALIGNMENTS}; got {alignment!r}")
    tau = THRESHOLDS[("dlib", alignment, flip)]
    if alignment == "template":
        return NetworkEncoder("dlib", DLIB_INPUT_SIZE, DLIB_CHIP_TEMPLATE, "dlib", _dlib_embed(), flip, tau)
    if alignment == "landmarks":
        return NetworkEncoder("dlib", DLIB_INPUT_SIZE, DLIB_CHIP_TEMPLATE, "dlib", _dlib_embed(), flip, tau,
                              aligner=dlib_chip.chip_from_mtcnn, aligner_id=dlib_chip.ALIGNMENT_ID)
    return NetworkEncoder("dlib", DLIB_INPUT_SIZE, DLIB_CHIP_TEMPLATE, "dlib", _dlib_embed(), flip, tau,
                          aligner=dlib_chip.chip_from_shape, aligner_id=dlib_chip.SHAPE_ALIGNMENT_ID)


def load(name: str = "facenet", *, preprocessing: str | None = None, flip: bool = True,
         alignment: str = DLIB_ALIGNMENT) -> Encoder:
    """The encoder ``name`` (one of :data:`ENCODERS`) with its pipeline and default τ.

    ``preprocessing`` only applies to FaceNet (``"standardize"``, the default, or the course's
    ``"course"``); ``flip`` averages each face with its mirror image; ``alignment`` only applies
    to dlib's network (:data:`DLIB_ALIGNMENTS`). Weights come from the registry
    (``facenet-keras-128``, ``dlib-resnet-v1``), built once per process.
    """
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; choose one of {', '.join(ENCODERS)}")
    if preprocessing is not None and name == "dlib" and preprocessing != "dlib":
        raise ValueError("the dlib encoder has one preprocessing (dlib's channel means / 256)")
    if alignment not in DLIB_ALIGNMENTS:
        raise ValueError(f"dlib alignment must be one of {DLIB_ALIGNMENTS}; got {alignment!r}")
    pre = preprocessing or "standardize"
    if name == "facenet+dlib" and pre != "standardize":
        raise ValueError("the fused encoder uses FaceNet's 'standardize' preprocessing (its τ and weights "
                         "were measured with it)")
    if name == "facenet":
        return _facenet(pre, flip)
    if name == "dlib":
        return _dlib(flip, alignment)
    key = (f"facenet+dlib/{alignment}", pre, flip)
    return FusedEncoder([_facenet(pre, flip), _dlib(flip, alignment)], weights=FUSION_WEIGHTS[key[0]],
                        threshold=THRESHOLDS[key])
