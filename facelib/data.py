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
from typing import Union

import numpy as np
from PIL import Image, UnidentifiedImageError

from facelib import assets, config

__all__ = [
    "FaceDataset", "ImageLike", "LFW_SUBSET_PEOPLE", "load_identity_folder", "load_lfw_subset",
    "load_olivetti", "read_image", "save_image", "to_rgb_uint8",
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
    path = Path(path)
    arr = to_rgb_uint8(image)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix or ".png", dir=path.parent)
    os.close(fd)
    try:
        Image.fromarray(arr).save(tmp)
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
