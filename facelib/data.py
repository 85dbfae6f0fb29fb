"""Loading images and the course's data sets.

Data sets: :func:`load_olivetti` (40 people × 10 grey 64×64 faces), :func:`load_lfw_subset`
(10 people × 10 photos of Labeled Faces in the Wild), :func:`load_identity_folder` (your own
photos, one sub-folder per person). All come from verified copies (``facelib.assets``).

Images: :func:`read_image` reads any common format (JPEG, PNG, BMP, TIFF; greyscale, RGBA,
CMYK, 16-bit) into an ``(H, W, 3) uint8`` RGB array with clear errors for missing, corrupt or
truncated files; :func:`save_image` writes atomically.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

from facelib import assets, config

__all__ = [
    "FaceDataset", "ImageLike", "LFW_SUBSET_PEOPLE", "load_identity_folder", "load_lfw_subset",
    "atomic_write", "load_olivetti", "read_image", "save_image", "to_rgb_uint8",
]

#: Anything :func:`read_image`/:func:`to_rgb_uint8` accept: a path, a PIL image or an array.
ImageLike = Union[str, os.PathLike, Image.Image, np.ndarray]


def _pil_to_rgb(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(arr[..., None], 3, axis=-1)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as RGB.

    Args:
        path: an image file in any format Pillow reads.

    Returns:
        ``(H, W, 3) uint8`` array. Greyscale is repeated over 3 channels, transparency is
        composited on white, CMYK is converted, 16-bit images are scaled to 8 bits.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not an image, or is corrupt or truncated (the message names it).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file {path} does not exist")
    try:
        with Image.open(path) as img:
            img.load()
            return _pil_to_rgb(img)
    except UnidentifiedImageError:
        raise ValueError(f"{path} is not an image file Pillow can read (corrupt or another format)") from None
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"{path} is a corrupt or truncated image: {exc}") from None


def to_rgb_uint8(image: ImageLike) -> np.ndarray:
    """Turn a path, PIL image or array into an ``(H, W, 3) uint8`` RGB array.

    Float arrays are taken to be in ``[0, 1]``; ``(H, W)`` and ``(H, W, 1)`` are greyscale;
    ``(H, W, 4)`` drops alpha. Anything else raises ``ValueError`` stating the shape.
    """
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    if isinstance(image, Image.Image):
        return _pil_to_rgb(image)
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[-1] not in (1, 3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got {arr.shape}")
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    arr = arr[..., :3]
    if arr.dtype.kind == "f":
        arr = np.clip(arr * 255.0 + 0.5, 0, 255)
    elif arr.dtype == np.uint16:
        arr = arr / 257.0 + 0.5
    return arr.astype(np.uint8)


def save_image(path: str | os.PathLike, image: ImageLike) -> Path:
    """Write an image atomically (temp file, then rename); the format follows the suffix."""
    arr = to_rgb_uint8(image)
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower()) if path.suffix else "PNG"
    if fmt is None:
        raise ValueError(f"{path}: unknown image file extension {path.suffix!r} (use .png, .jpg, ...)")
    return atomic_write(path, lambda tmp: Image.fromarray(arr).save(tmp, format=fmt))


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The temporary file is removed if ``write`` fails, so ``path`` is either the old file or the
    complete new one, never half-written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


# --------------------------------------------------------------------------- face data sets

@dataclass
class FaceDataset:
    """Face images with integer identities.

    Attributes:
        images: ``(n, H, W, C) float32`` in ``[0, 1]`` (``C`` = 1 grey or 3 RGB).
        labels: ``(n,) int32`` person index into ``names``.
        names: the people, ``names[label]``.
        paths: the source file of each image, when loaded from files.
    """

    images: np.ndarray
    labels: np.ndarray
    names: list[str]
    paths: list[Path] | None = None

    def __post_init__(self) -> None:
        if self.images.ndim != 4:
            raise ValueError(f"images must be (n, H, W, C); got shape {self.images.shape}")
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> "FaceDataset":
        """The images selected by a boolean mask or integer index (names are kept)."""
        index = np.asarray(index)
        paths = None if self.paths is None else [p for p, keep in zip(self.paths, self._as_mask(index)) if keep]
        return FaceDataset(self.images[index], self.labels[index], self.names, paths)

    def _as_mask(self, index: np.ndarray) -> np.ndarray:
        if index.dtype == bool:
            return index
        mask = np.zeros(len(self), dtype=bool)
        mask[index] = True
        if len(np.unique(index)) != len(index) or not np.all(np.diff(index) > 0):
            raise ValueError("subset with paths needs a boolean mask or sorted unique indices")
        return mask


def _sklearn_home() -> Path:
    return config.settings.home / "scikit_learn_data"


def load_olivetti() -> FaceDataset:
    """The Olivetti faces: 400 grey 64×64 images, 10 of each of 40 people.

    Uses the verified mirror copy in the cache (``assets.fetch("olivetti-faces")``) with
    scikit-learn's own loader; without a mirror, scikit-learn downloads the data set.

    Returns:
        ``FaceDataset`` with images ``(400, 64, 64, 1) float32`` in [0, 1], labels 0–39.
    """
    from sklearn.datasets import fetch_olivetti_faces

    try:
        home = assets.fetch("olivetti-faces").parent
        faces = fetch_olivetti_faces(data_home=str(home), download_if_missing=False)
    except assets.AssetUnavailableError:
        if config.settings.offline:
            raise
        faces = fetch_olivetti_faces(data_home=str(_sklearn_home()), download_if_missing=True)
    images = faces.images.astype(np.float32)[..., None]
    labels = faces.target.astype(np.int32)
    return FaceDataset(images, labels, [f"person {i:02d}" for i in range(labels.max() + 1)])


LFW_SUBSET_PEOPLE = (
    "Ariel_Sharon", "Arnold_Schwarzenegger", "Colin_Powell", "Donald_Rumsfeld", "George_W_Bush",
    "Gerhard_Schroeder", "Hugo_Chavez", "Jacques_Chirac", "Tony_Blair", "Vladimir_Putin",
)


def load_lfw_subset(*, color: bool = True, resize: float = 0.5, slice_: tuple | None = (slice(70, 195), slice(78, 172))) -> FaceDataset:
    """Labeled Faces in the Wild, 10 people × 10 photos, through ``fetch_lfw_people``.

    Offline the verified mirror subset is used; online scikit-learn downloads full LFW and the
    same 10 people (10 photos each) are kept. The order within a person is scikit-learn's
    (shuffled with its fixed seed); use :func:`load_identity_folder` for file order.
    ``slice_``/``resize`` are scikit-learn's (default: its 125×94 face crop at half size → 62×47); ``slice_=None, resize=1`` gives the
    whole 250×250 photo.

    Returns:
        ``FaceDataset`` with images ``(100, H, W, 3 or 1) float32`` in [0, 1].
    """
    from sklearn.datasets import fetch_lfw_people

    kwargs = dict(funneled=False, min_faces_per_person=10, color=color, resize=resize, slice_=slice_)
    try:
        home = assets.fetch("lfw-subset").parent
        lfw = fetch_lfw_people(data_home=str(home), download_if_missing=False, **kwargs)
    except assets.AssetUnavailableError:
        if config.settings.offline:
            raise
        lfw = fetch_lfw_people(data_home=str(_sklearn_home()), download_if_missing=True, **kwargs)
    names = [str(n) for n in lfw.target_names]
    keep_names = [n for n in LFW_SUBSET_PEOPLE if n.replace("_", " ") in names]
    images, labels = [], []
    for new_label, person in enumerate(keep_names):
        idx = np.flatnonzero(lfw.target == names.index(person.replace("_", " ")))[:10]
        images.append(lfw.images[idx])
        labels += [new_label] * len(idx)
    x = np.concatenate(images).astype(np.float32)
    x = x / 255.0 if x.max() > 1.0 else x
    if x.ndim == 3:
        x = x[..., None]
    return FaceDataset(x, np.asarray(labels, np.int32), [n.replace("_", " ") for n in keep_names])


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def load_identity_folder(path: str | os.PathLike, size: int | tuple[int, int] | None = None) -> FaceDataset:
    """Load a folder with one sub-folder per person (``root/NAME/*.jpg``).

    Args:
        path: the root folder.
        size: resize every image to ``size`` (int = square, or ``(height, width)``); ``None``
            keeps the size, which must then be the same for all images.

    Returns:
        ``FaceDataset`` with images ``(n, H, W, 3) float32`` in [0, 1], people sorted by name,
        files sorted within a person, and ``paths`` set.

    Raises:
        FileNotFoundError: the folder does not exist.
        ValueError: no person sub-folder with images, a corrupt image (named), or mixed sizes.
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"identity folder {root} does not exist")
    people = sorted(d for d in root.iterdir() if d.is_dir())
    files = {d.name: sorted(f for f in d.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES) for d in people}
    files = {k: v for k, v in files.items() if v}
    if not files:
        raise ValueError(f"{root} holds no person sub-folders with images ({', '.join(IMAGE_SUFFIXES)})")
    if isinstance(size, int):
        size = (size, size)
    images, labels, paths = [], [], []
    for label, (name, person_files) in enumerate(files.items()):
        for f in person_files:
            arr = read_image(f)
            if size is not None:
                arr = np.asarray(Image.fromarray(arr).resize((size[1], size[0]), Image.BILINEAR))
            images.append(arr)
            labels.append(label)
            paths.append(f)
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise ValueError(f"images in {root} have different sizes {sorted(shapes)}; pass size=")
    x = np.stack(images).astype(np.float32) / 255.0
    return FaceDataset(x, np.asarray(labels, np.int32), list(files), paths)


# --------------------------------------------------------------------------- splits and samplers
# (Siamese / triplet-loss lessons.) Index samplers are plain NumPy so they can be tested and
# reused; the ``*_dataset`` functions wrap them into endless ``tf.data`` streams of batches.

__all__ += [
    "pair_dataset", "pair_indices", "pk_batch_indices", "pk_dataset", "random_flip_shift",
    "split_by_identity", "triplet_dataset", "triplet_indices",
]

def _check_xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"labels must be (n,); got shape {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    return x, y


def split_by_identity(x: np.ndarray, y: np.ndarray, n_test_people: int, seed: int = 0
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split by *person*, not by photo: the test people are never seen in training.

    Args:
        x: images ``(n, H, W, C)`` (or any ``(n, ...)`` array).
        y: person ids ``(n,)``.
        n_test_people: how many people go to the test side (chosen at random with ``seed``).
        seed: NumPy seed of the choice.

    Returns:
        ``(x_train, y_train, x_test, y_test)``; labels keep their original ids and the order of
        the input is kept within each side.

    Raises:
        ValueError: shapes disagree, or ``n_test_people`` is not in ``1 .. n_people − 1``.
    """
    x, y = _check_xy(x, y)
    people = np.unique(y)
    if not 1 <= n_test_people < len(people):
        raise ValueError(f"n_test_people must be between 1 and {len(people) - 1} (there are {len(people)} people); "
                         f"got {n_test_people}")
    test_people = np.random.default_rng(seed).choice(people, size=n_test_people, replace=False)
    test = np.isin(y, test_people)
    return x[~test], y[~test], x[test], y[test]


def _by_person(y: np.ndarray, min_photos: int) -> dict[int, np.ndarray]:
    groups = {int(p): np.flatnonzero(y == p) for p in np.unique(y)}
    return {p: idx for p, idx in groups.items() if len(idx) >= min_photos}



def _sampling_groups(y: np.ndarray, what: str) -> tuple[dict, np.ndarray, np.ndarray]:
    """Photos per person with ≥ 2 photos, all people, and the people usable as anchors.

    Raises ``ValueError`` (naming ``what``) when there is no such person or fewer than 2 people.
    """
    groups = _by_person(y, 2)
    people = np.unique(y)
    if not groups or len(people) < 2:
        raise ValueError(f"{what} need ≥ 2 people and a person with ≥ 2 photos; got {len(people)} people, "
                         f"{len(groups)} with ≥ 2 photos")
    return groups, people, np.array(sorted(groups))

def pair_indices(labels: np.ndarray, n_pairs: int, seed: int | np.random.Generator = 0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balanced random pairs: half "same person", half "different people".

    Returns ``(i, j, same)``, each ``(n_pairs,)``: image indices and ``same`` (``float32`` 1/0),
    alternating same (even positions) and different (odd positions); ``i != j`` always.

    Raises:
        ValueError: no person has two photos, or fewer than two people.
    """
    y = np.asarray(labels)
    rng = np.random.default_rng(seed)
    groups, people, multi = _sampling_groups(y, "pairs")
    i = np.empty(n_pairs, np.int64)
    j = np.empty(n_pairs, np.int64)
    same = np.zeros(n_pairs, np.float32)
    for k in range(n_pairs):
        if k % 2 == 0:
            i[k], j[k] = rng.choice(groups[int(rng.choice(multi))], size=2, replace=False)
            same[k] = 1.0
        else:
            p, q = rng.choice(people, size=2, replace=False)
            i[k] = rng.choice(np.flatnonzero(y == p))
            j[k] = rng.choice(np.flatnonzero(y == q))
    return i, j, same


def triplet_indices(labels: np.ndarray, n_triplets: int, seed: int | np.random.Generator = 0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random (anchor, positive, negative) index triplets: A and P the same person (A ≠ P), N another.

    Returns ``(a, p, n)``, each ``(n_triplets,) int64``. These are the lecture's *random* triplets
    (mostly easy); the mining losses in ``facelib.losses`` choose harder ones inside a batch.
    """
    y = np.asarray(labels)
    rng = np.random.default_rng(seed)
    groups, people, multi = _sampling_groups(y, "triplets")
    a = np.empty(n_triplets, np.int64)
    p = np.empty(n_triplets, np.int64)
    n = np.empty(n_triplets, np.int64)
    for k in range(n_triplets):
        person = int(rng.choice(multi))
        a[k], p[k] = rng.choice(groups[person], size=2, replace=False)
        n[k] = rng.choice(np.flatnonzero(y != person))
    return a, p, n


def pk_batch_indices(labels: np.ndarray, P: int, K: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """One P×K batch: ``P`` different people, ``K`` photos each → ``(P·K,) int64`` indices.

    Photos are drawn without replacement when a person has at least ``K`` of them (with
    replacement otherwise). The batch is ordered person by person.

    Raises:
        ValueError: ``P < 2``, ``K < 2``, or fewer than ``P`` people in ``labels``.
    """
    y = np.asarray(labels)
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
    people = np.unique(y)
    if P < 2 or K < 2:
        raise ValueError(f"P×K batches need P ≥ 2 people and K ≥ 2 photos each; got P={P}, K={K}")
    if len(people) < P:
        raise ValueError(f"P={P} people per batch but the labels hold only {len(people)} people")
    chosen = rng.choice(people, size=P, replace=False)
    out = []
    for person in chosen:
        idx = np.flatnonzero(y == person)
        out.append(rng.choice(idx, size=K, replace=len(idx) < K))
    return np.concatenate(out)


def _images_tensor(x: np.ndarray):
    import tensorflow as tf

    return tf.constant(np.asarray(x, np.float32))


def pair_dataset(x: np.ndarray, y: np.ndarray, batch_size: int = 32, seed: int = 0, augment=None):
    """Endless ``tf.data`` stream of balanced pair batches ``((x1, x2), same)``.

    ``x1``, ``x2``: ``(batch_size, H, W, C) float32``; ``same``: ``(batch_size,) float32`` (1 = same
    person), half of each. Use with ``fit(..., steps_per_epoch=...)``. ``augment``: optional
    ``augment(images, seed)`` applied to the batch of both (see :func:`pk_dataset`).
    """
    import tensorflow as tf

    x, y = _check_xy(x, y)
    images = _images_tensor(x)
    rng = np.random.default_rng(seed)

    def batches():
        while True:
            i, j, same = pair_indices(y, batch_size, rng)
            yield i, j, same, rng.integers(0, 2**31 - 1, size=2)

    sig = (tf.TensorSpec([batch_size], tf.int64), tf.TensorSpec([batch_size], tf.int64),
           tf.TensorSpec([batch_size], tf.float32), tf.TensorSpec([2], tf.int64))
    ds = tf.data.Dataset.from_generator(batches, output_signature=sig)

    def pair(i, j, same, aug_seed):
        batch = tf.gather(images, tf.concat([i, j], axis=0))
        if augment is not None:
            batch = augment(batch, aug_seed)
        x1, x2 = tf.split(batch, 2, axis=0)
        return (x1, x2), same

    return ds.map(pair).prefetch(2)


def triplet_dataset(x: np.ndarray, y: np.ndarray, batch_size: int = 32, seed: int = 0, augment=None):
    """Endless ``tf.data`` stream of random triplet batches ``((anchor, positive, negative), zeros)``.

    Each image batch is ``(batch_size, H, W, C) float32``; the dummy target ``(batch_size,)`` is
    ignored by the triplet loss (the order in the tuple is the label). ``augment``: optional
    ``augment(images, seed)`` applied to the batch of all three (see :func:`pk_dataset`).
    """
    import tensorflow as tf

    x, y = _check_xy(x, y)
    images = _images_tensor(x)
    rng = np.random.default_rng(seed)

    def batches():
        while True:
            yield (*triplet_indices(y, batch_size, rng), rng.integers(0, 2**31 - 1, size=2))

    sig = tuple(tf.TensorSpec([batch_size], tf.int64) for _ in range(3)) + (tf.TensorSpec([2], tf.int64),)
    ds = tf.data.Dataset.from_generator(batches, output_signature=sig)

    def triplet(a, p, n, aug_seed):
        batch = tf.gather(images, tf.concat([a, p, n], axis=0))
        if augment is not None:
            batch = augment(batch, aug_seed)
        xa, xp, xn = tf.split(batch, 3, axis=0)
        return (xa, xp, xn), tf.zeros([batch_size])

    return ds.map(triplet).prefetch(2)


def pk_dataset(x: np.ndarray, y: np.ndarray, P: int = 8, K: int = 4, seed: int = 0, augment=None):
    """Endless ``tf.data`` stream of P×K batches ``(images, labels)`` for online triplet mining.

    ``images``: ``(P·K, H, W, C) float32``; ``labels``: ``(P·K,) int32`` person ids (P people, K
    photos each). ``augment``: optional ``augment(images, seed)`` applied to each image batch with a
    ``(2,)`` seed drawn from the stream's generator (e.g. :func:`random_flip_shift`), so that streams
    repeat exactly.
    """
    import tensorflow as tf

    x, y = _check_xy(x, y)
    pk_batch_indices(y, P, K, 0)  # validate P, K against the labels now, not inside the generator
    images = _images_tensor(x)
    labels = tf.constant(y.astype(np.int32))
    rng = np.random.default_rng(seed)

    def batches():
        while True:
            yield pk_batch_indices(y, P, K, rng), rng.integers(0, 2**31 - 1, size=2)

    sig = (tf.TensorSpec([P * K], tf.int64), tf.TensorSpec([2], tf.int64))
    ds = tf.data.Dataset.from_generator(batches, output_signature=sig)

    def batch(i, aug_seed):
        im = tf.gather(images, i)
        return (augment(im, aug_seed) if augment is not None else im), tf.gather(labels, i)

    return ds.map(batch).prefetch(2)


def random_flip_shift(images, seed=None, max_shift: int = 4):
    """Light augmentation for faces: random horizontal flip and a shift of up to ``max_shift`` pixels.

    Args:
        images: ``(b, H, W, C) float32`` → same shape (edges padded by reflection); each image gets
            its own flip and shift.
        seed: ``(2,)`` integer seed of TensorFlow's *stateless* random ops, so that the same seed
            gives the same augmentation whatever the threading (the ``*_dataset`` streams pass one
            per batch, drawn from their NumPy generator); ``None`` draws one from ``tf.random``.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    if seed is None:
        seed = tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int32)
    seed = tf.cast(seed, tf.int32)
    shape = tf.shape(images)
    flip_seed = tf.random.experimental.stateless_fold_in(seed, 1)
    shift_seed = tf.random.experimental.stateless_fold_in(seed, 2)
    images = tf.image.stateless_random_flip_left_right(images, flip_seed)
    padded = tf.pad(images, [[0, 0], [max_shift, max_shift], [max_shift, max_shift], [0, 0]], mode="REFLECT")
    offsets = tf.random.stateless_uniform([shape[0], 2], shift_seed, 0, 2 * max_shift + 1, dtype=tf.int32)

    def crop(args):
        im, off = args
        return tf.slice(im, [off[0], off[1], 0], [shape[1], shape[2], shape[3]])

    return tf.map_fn(crop, (padded, offsets), fn_output_signature=tf.float32)
