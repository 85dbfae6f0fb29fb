"""Siamese networks: one encoder f applied to two or three photos (lectures "Siamese network",
"Triplet loss", "Face verification and binary classification").

- :class:`SiameseNetwork` wraps *one* encoder; calling it on ``(x1, x2)`` or ``(A, P, N)`` runs
  every branch through that same encoder (the same weights — there is only one copy), and
  ``fit`` trains it with the course's :func:`~facelib.faces.losses.triplet_loss` on triplets or the
  :func:`~facelib.faces.losses.contrastive_loss` on same/different pairs.
- :func:`binary_verification_model` poses verification as binary classification: a logistic unit
  on the element-wise difference of the two encodings,

      ŷ = σ( Σ_k w_k |f(x^{(i)})_k − f(x^{(j)})_k| + b )                         (head="abs")
      ŷ = σ( Σ_k w_k (f(x^{(i)})_k − f(x^{(j)})_k)² / (|f(x^{(i)})_k| + |f(x^{(j)})_k| + ε) + b )  (head="chi2")

  The lecture's χ² form divides by f_k(x^{(i)}) + f_k(x^{(j)}), which assumes non-negative encodings
  (e.g. after a ReLU). Unit-norm encodings from :func:`facelib.models.small_embedding_net` have
  negative components, where that sum can be 0 or negative (division by zero, sign flips). We use
  |f_k(x^{(i)})| + |f_k(x^{(j)})| + ε instead: identical to the lecture for non-negative encodings,
  always positive, and each term stays ≤ |f_k(x^{(i)})| + |f_k(x^{(j)})|.

Save the trained *encoder* (``model.encoder.save("f.keras")``); database encodings can then be
pre-computed once and compared with :func:`verification_scores`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from facelib.faces import losses

__all__ = ["PairFeatures", "SiameseNetwork", "binary_verification_model", "verification_head",
           "verification_scores"]


class SiameseNetwork(keras.Model):
    """Two or three branches sharing ONE encoder, trainable with a triplet or contrastive loss.

    Args:
        encoder: a Keras model ``(m, H, W, C) → (m, d)``; it is stored once and reused by every
            branch, so the branches cannot drift apart.
        loss: ``"triplet"`` (inputs ``(A, P, N)``; loss J/m with J = Σ_i L(A_i, P_i, N_i), the
            course's :func:`~facelib.faces.losses.triplet_loss`) or ``"contrastive"`` (inputs ``(x1, x2)``
            with targets ``same`` ``(m,)``; :func:`~facelib.faces.losses.contrastive_loss`).
        margin: α for the triplet loss (default 0.2), the margin of the contrastive loss (default 1.0).

    Calling the model on a tuple of image batches returns the tuple of their encodings,
    each ``(m, d) float32``. Train with ``compile(optimizer=...)`` then ``fit(dataset, ...)`` where
    the dataset yields ``(inputs, targets)`` as ``facelib.data.triplet_dataset`` /
    ``pair_dataset`` do.
    """

    def __init__(self, encoder: keras.Model, loss: str = "triplet", margin: float | None = None, **kwargs):
        super().__init__(**kwargs)
        if loss not in ("triplet", "contrastive"):
            raise ValueError(f"loss must be 'triplet' or 'contrastive'; got {loss!r}")
        self.encoder = encoder
        self.loss_name = loss
        self.margin = float(margin if margin is not None else (0.2 if loss == "triplet" else 1.0))
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, inputs: Sequence[tf.Tensor], training: bool | None = None) -> tuple[tf.Tensor, ...]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError("a SiameseNetwork takes a tuple of 2 (pair) or 3 (anchor, positive, negative) "
                             "image batches")
        return tuple(self.encoder(x, training=training) for x in inputs)

    def _compute(self, x, y, training: bool) -> tf.Tensor:
        encodings = self(x, training=training)
        if self.loss_name == "triplet":
            if len(encodings) != 3:
                raise ValueError("loss='triplet' needs (anchor, positive, negative) inputs")
            m = tf.cast(tf.shape(encodings[0])[0], tf.float32)
            return losses.triplet_loss(None, encodings, alpha=self.margin) / m
        if len(encodings) != 2:
            raise ValueError("loss='contrastive' needs (x1, x2) inputs")
        distance = tf.norm(encodings[0] - encodings[1] + 1e-12, axis=-1)
        return losses.contrastive_loss(y, distance, margin=self.margin)

    def train_step(self, data):
        x, y = data[0], data[1]
        with tf.GradientTape() as tape:
            loss = self._compute(x, y, training=True)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        x, y = data[0], data[1]
        self.loss_tracker.update_state(self._compute(x, y, training=False))
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]


@keras.saving.register_keras_serializable(package="facelib")
class PairFeatures(layers.Layer):
    """Element-wise comparison of two encodings ``[f_a, f_b]`` (each ``(m, d)``) → ``(m, d)``.

    ``head="abs"``: |f_a − f_b|. ``head="chi2"``: (f_a − f_b)² / (|f_a| + |f_b| + ε) (see the module
    docstring for why the absolute values).
    """

    def __init__(self, head: str = "abs", epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        if head not in ("abs", "chi2"):
            raise ValueError(f"head must be 'abs' or 'chi2'; got {head!r}")
        self.head, self.epsilon = head, float(epsilon)

    def call(self, inputs):
        fa, fb = inputs
        if self.head == "abs":
            return ops.abs(fa - fb)
        return ops.square(fa - fb) / (ops.abs(fa) + ops.abs(fb) + self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self) -> dict:
        return {**super().get_config(), "head": self.head, "epsilon": self.epsilon}


def verification_head(dim: int, head: str = "abs", name: str = "verification_head") -> keras.Model:
    """The logistic unit on encodings: ``[(m, dim), (m, dim)] → (m, 1)`` probabilities "same person"."""
    ea = keras.Input(shape=(dim,), name="encoding_a")
    eb = keras.Input(shape=(dim,), name="encoding_b")
    features = PairFeatures(head, name=f"{head}_features")([ea, eb])
    y_hat = layers.Dense(1, activation="sigmoid", name="logistic")(features)
    return keras.Model([ea, eb], y_hat, name=name)


def binary_verification_model(encoder: keras.Model, head: str = "abs") -> keras.Model:
    """Face verification as binary classification (the lecture's alternative to the triplet loss).

    Args:
        encoder: ``(m, H, W, C) → (m, d)``, shared by both inputs (one copy of the weights).
        head: ``"abs"`` or ``"chi2"`` (formulas in the module docstring).

    Returns:
        A model ``[(m, H, W, C), (m, H, W, C)] → (m, 1)`` giving ŷ = P(same person); train it with
        ``binary_crossentropy`` on ``facelib.data.pair_dataset``. Its sub-model
        ``model.get_layer("verification_head")`` takes pre-computed encodings
        (see :func:`verification_scores`).
    """
    if head not in ("abs", "chi2"):
        raise ValueError(f"head must be 'abs' or 'chi2'; got {head!r}")
    shape = tuple(encoder.input_shape[1:])
    dim = int(encoder.output_shape[-1])
    xa = keras.Input(shape=shape, name="image_a")
    xb = keras.Input(shape=shape, name="image_b")
    y_hat = verification_head(dim, head)([encoder(xa), encoder(xb)])
    return keras.Model([xa, xb], y_hat, name=f"binary_verification_{head}")


def verification_scores(model: keras.Model, enc_a: np.ndarray, enc_b: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """ŷ for pairs of *pre-computed* encodings (database encodings computed once).

    Args:
        model: a :func:`binary_verification_model` (or its ``verification_head``).
        enc_a, enc_b: ``(n, d) float32`` encodings, compared row by row.

    Returns:
        ``(n,) float32`` probabilities "same person".
    """
    enc_a, enc_b = np.asarray(enc_a, np.float32), np.asarray(enc_b, np.float32)
    if enc_a.shape != enc_b.shape or enc_a.ndim != 2:
        raise ValueError(f"expected two (n, d) encodings of the same shape; got {enc_a.shape} and {enc_b.shape}")
    head = model.get_layer("verification_head") if model.name != "verification_head" else model
    out = [np.asarray(head([enc_a[i:i + batch_size], enc_b[i:i + batch_size]]))
           for i in range(0, len(enc_a), batch_size)]
    return np.concatenate(out).reshape(-1).astype(np.float32)
