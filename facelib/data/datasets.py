"""The course's data sets.

Faces: :func:`load_olivetti` (40 people × 10 grey 64×64 faces), :func:`load_lfw_subset` (10 people × 10
photos of Labeled Faces in the Wild), :func:`load_identity_folder` (your own photos, one
sub-folder per person), returned as a :class:`FaceDataset`.
Objects: :func:`load_imagenet_sample` (1,000 ImageNet photos, one per class; lesson 06's search pool),
returned as an :class:`ImageNetSample`, or :func:`iter_imagenet_sample` (chosen classes, a batch at a
time). All come from verified copies (``facelib.assets``).
LFW's verification pairs are :mod:`facelib.data.lfw`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from facelib import assets, config
from facelib.data.archives import extract_once
from facelib.data.images import IMAGE_SUFFIXES, read_image

__all__ = [
    "IMAGENET_SAMPLE_ASSET", "LFW_SUBSET_PEOPLE", "FaceDataset", "ImageNetSample",
    "iter_imagenet_sample", "load_identity_folder", "load_imagenet_sample", "load_lfw_subset", "load_olivetti",
]


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

    def subset(self, index: np.ndarray) -> FaceDataset:
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
        faces = fetch_olivetti_faces(data_home=str(config.settings.sklearn_home), download_if_missing=True)
    images = faces.images.astype(np.float32)[..., None]
    labels = faces.target.astype(np.int32)
    return FaceDataset(images, labels, [f"person {i:02d}" for i in range(labels.max() + 1)])


LFW_SUBSET_PEOPLE = (
    "Ariel_Sharon", "Arnold_Schwarzenegger", "Colin_Powell", "Donald_Rumsfeld", "George_W_Bush",
    "Gerhard_Schroeder", "Hugo_Chavez", "Jacques_Chirac", "Tony_Blair", "Vladimir_Putin",
)


def load_lfw_subset(*, color: bool = True, resize: float = 0.5,
                    slice_: tuple | None = (slice(70, 195), slice(78, 172))) -> FaceDataset:
    """Labeled Faces in the Wild, 10 people × 10 photos, through ``fetch_lfw_people``.

    Offline the verified mirror subset is used; online scikit-learn downloads full LFW and the
    same 10 people (10 photos each) are kept. The order within a person is scikit-learn's
    (shuffled with its fixed seed); use :func:`load_identity_folder` for file order.
    ``slice_``/``resize`` are scikit-learn's (default: its 125×94 face crop at half size → 62×47);
    ``slice_=None, resize=1`` gives the
    whole 250×250 photo.

    Returns:
        ``FaceDataset`` with images ``(100, H, W, 3 or 1) float32`` in [0, 1].
    """
    from sklearn.datasets import fetch_lfw_people

    kwargs = dict(funneled=False, min_faces_per_person=10, color=color, resize=resize, slice_=slice_)
    try:
        home = _writable_lfw_home(assets.fetch("lfw-subset"))
        lfw = fetch_lfw_people(data_home=str(home), download_if_missing=False, **kwargs)
    except assets.AssetUnavailableError:
        if config.settings.offline:
            raise
        lfw = fetch_lfw_people(data_home=str(config.settings.sklearn_home), download_if_missing=True, **kwargs)
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


def _writable_lfw_home(lfw_home: Path) -> Path:
    """A ``data_home`` for scikit-learn's ``fetch_lfw_people``, which writes its joblib cache into ``lfw_home``.

    Outside the shared store that is the asset's own folder; in the read-only store, a folder under
    ``FACELIB_HOME`` whose ``lfw_home`` holds links to the store's photos and files (read in place, not copied),
    so the cache goes to the user's folder.
    """
    if not assets.in_store(lfw_home):
        return lfw_home.parent
    twin = config.settings.home / "store-links" / "scikit_learn_data"
    for entry in sorted(lfw_home.iterdir()):  # the photos folder and the pairs files, each one link
        link = twin / "lfw_home" / entry.name
        if link.is_symlink() and link.resolve() == entry.resolve():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(entry, target_is_directory=entry.is_dir())
    return twin


#: The largest side :func:`load_identity_folder` resizes to (a data set of faces, held as float32 in memory).
_MAX_SIDE = 1024


def _valid_side_pair(size: object) -> bool:
    return isinstance(size, (tuple, list)) and len(size) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 1 <= v <= _MAX_SIDE for v in size)


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
        ValueError: no person sub-folder with images, a corrupt image (named), mixed sizes, or a
            ``size`` that is not 1 to 1024 pixels a side.
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
    if size is not None and not _valid_side_pair(size):
        raise ValueError(f"size must be an int or (height, width) of integers from 1 to {_MAX_SIDE}; got {size!r}")
    images, labels, paths = [], [], []
    for label, person_files in enumerate(files.values()):
        for f in person_files:
            arr = read_image(f)
            if size is not None:
                arr = np.asarray(Image.fromarray(arr).resize((size[1], size[0]), Image.Resampling.BILINEAR))
            images.append(arr)
            labels.append(label)
            paths.append(f)
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise ValueError(f"images in {root} have different sizes {sorted(shapes)}; pass size=")
    x = np.stack(images).astype(np.float32) / 255.0
    return FaceDataset(x, np.asarray(labels, np.int32), list(files), paths)


# --------------------------------------------------------------------------- ImageNet sample (lesson 06)

#: Registry asset of the ImageNet sample: a tar of ``imagenet_sample_256/NNN_<wnid>_<name>.jpg``.
IMAGENET_SAMPLE_ASSET = "imagenet-sample-256"
_IMAGENET_FOLDER = "imagenet_sample_256"
_IMAGENET_NAME = re.compile(r"^(\d{3})_(n\d{8})_([^/]+)\.jpg$")


@dataclass(frozen=True)
class ImageNetSample:
    """Photos of the ImageNet (ILSVRC-2012) sample: one per class, 256×256 centre crops.

    Attributes:
        images: ``(n, 256, 256, 3) uint8`` RGB.
        class_index: ``(n,) int64`` ILSVRC class index, 0–999 (the ``NNN`` of the file name).
        wnid: WordNet id of each photo's class (``"n01440764"``).
        class_name: readable class name (``"tench"``; underscores for spaces).
    """

    images: np.ndarray
    class_index: np.ndarray
    wnid: tuple[str, ...]
    class_name: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.class_index)


def load_imagenet_sample(n: int | None = None, *, seed: int = 0, archive: str | Path | None = None,
                         classes: Iterable[int] | None = None) -> ImageNetSample:
    """The ImageNet sample of lesson 06: ``n`` of its 1,000 photos (one per class), or all of them.

    The registry asset ``imagenet-sample-256`` (a tar, checksum-verified by :func:`facelib.assets.fetch`)
    is extracted once into ``FACELIB_HOME/imagenet_sample_256`` (or read in place from the shared store's);
    its photos are checked against the sha256 recorded at extraction on every call (about 20 MB), and
    extracted again if one changed. With ``n`` a seeded random subset of classes is taken (returned in class
    order), so a small pool still spans many kinds of objects.

    Args:
        n: number of photos, 1–1000 (``None``: all).
        seed: chooses the subset.
        archive: a local tar to read instead of the registry asset (tests).
        classes: read only the photos of these class indices (the ``NNN`` of the file names), in class
            order; not with ``n``. Only they are decoded: memory is theirs, not the whole sample's.

    Returns:
        an :class:`ImageNetSample`. Raises ``ValueError`` for a bad ``n``, ``n`` with ``classes``, a class
        the sample does not hold, an archive with other files, or a file name that is not
        ``NNN_<wnid>_<name>.jpg``.
    """
    if n is not None and classes is not None:  # the arguments first: before any file is read
        raise ValueError("give n (a random subset) or classes (chosen ones), not both")
    path, parsed = _imagenet_files(archive)
    if n is not None and not 1 <= n <= len(parsed):
        raise ValueError(f"n must be between 1 and {len(parsed)} (photos in the sample), got {n}")
    if n is not None:
        keep = np.sort(np.random.default_rng(seed).choice(len(parsed), n, replace=False))
        parsed = [parsed[i] for i in keep]
    elif classes is not None:
        parsed = _chosen(path, parsed, classes)
    return _decode(parsed)


def iter_imagenet_sample(classes: Iterable[int], *, batch: int = 100,
                         archive: str | Path | None = None) -> Iterator[ImageNetSample]:
    """The photos of ``classes`` (in class order), ``batch`` classes at a time: the sample is checked and
    listed once, and only one batch of decoded photos (``(batch, 256, 256, 3)`` uint8) is in memory.

    The same photos as :func:`load_imagenet_sample` with ``classes``, in the same order, cut into
    :class:`ImageNetSample` pieces of ``batch`` (the last one shorter). ``ValueError`` for a ``batch`` below 1
    or a class the sample does not hold, before any photo is decoded.
    """
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be a whole number of at least 1, got {batch!r}")
    path, parsed = _imagenet_files(archive)
    parsed = _chosen(path, parsed, classes)
    for start in range(0, len(parsed), int(batch)):
        yield _decode(parsed[start:start + int(batch)])


def _imagenet_files(archive: str | Path | None) -> tuple[Path, list[tuple[int, str, str, Path]]]:
    """The sample's archive and its photos ``(class, wnid, name, path)``, extracted once and checked."""
    path = Path(archive) if archive is not None else assets.fetch(IMAGENET_SAMPLE_ASSET)
    if not path.is_file():
        raise FileNotFoundError(f"ImageNet sample archive {path} not found")
    folder = extract_once(path, assets.root_of(path), _IMAGENET_FOLDER, verify=True)  # a changed photo: again
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    parsed = []
    for p in files:
        m = _IMAGENET_NAME.match(p.name)
        if m is None:
            raise ValueError(f"{p}: ImageNet sample file names must be NNN_<wnid>_<name>.jpg")
        parsed.append((int(m.group(1)), m.group(2), m.group(3), p))
    if not parsed:
        raise ValueError(f"{path}: the ImageNet sample archive holds no photos")
    return path, parsed


def _chosen(path: Path, parsed: list[tuple[int, str, str, Path]],
            classes: Iterable[int]) -> list[tuple[int, str, str, Path]]:
    wanted = {int(c) for c in classes}
    missing = sorted(wanted - {q[0] for q in parsed})
    if missing:
        raise ValueError(f"{path}: the ImageNet sample holds no class {missing[:5]}"
                         f"{' ...' if len(missing) > 5 else ''} (its classes are numbered by file name)")
    return [q for q in parsed if q[0] in wanted]


def _decode(parsed: list[tuple[int, str, str, Path]]) -> ImageNetSample:
    images = np.empty((len(parsed), 256, 256, 3), np.uint8)  # filled in place: 196 MB for 1,000 photos, not twice
    for k, (_, _, _, p) in enumerate(parsed):
        with Image.open(p) as im:
            rgb = im.convert("RGB")
            if rgb.size != (256, 256):
                rgb = rgb.resize((256, 256), Image.Resampling.BILINEAR)
            images[k] = np.asarray(rgb, dtype=np.uint8)
    return ImageNetSample(images, np.array([q[0] for q in parsed], dtype=np.int64),
                          tuple(q[1] for q in parsed), tuple(q[2] for q in parsed))
