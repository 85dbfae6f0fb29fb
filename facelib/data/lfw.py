"""LFW verification pairs by explicit file name: the protocol of Labeled Faces in the Wild.

Lecture idea (lesson 05, "face verification"): a verification system answers "same person?" for a
*pair* of photos; LFW's protocol fixes the pairs. View 1 (development: pairsDevTrain.txt /
pairsDevTest.txt) tunes the threshold τ, View 2 (pairs.txt, ten folds) is the benchmark.

- :func:`lfw_pairs`: the pairs of one view, read by explicit file name (not scikit-learn's "n-th
  file of the folder"), from the registry's View 1 archive, scikit-learn's download, or any folder
  laid out the same way, as :class:`LFWPairs` of :class:`PairSet`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facelib import assets, config
from facelib.data.archives import extract_once

__all__ = ["LFWPairs", "PairSet", "lfw_pairs"]


@dataclass(frozen=True)
class PairSet:
    """Verification pairs: photo ``a[k]`` against photo ``b[k]``, ``same[k]`` if one person.

    Attributes:
        a, b: the two photos of each pair (paths).
        same: ``(n,) bool``.
    """

    a: tuple[Path, ...]
    b: tuple[Path, ...]
    same: np.ndarray

    def __len__(self) -> int:
        return len(self.same)

    @property
    def photos(self) -> list[Path]:
        """Every photo the pairs name, once, sorted."""
        return sorted(set(self.a) | set(self.b))

    def head(self, n: int) -> PairSet:
        """The first ``n // 2`` same-person and first ``n // 2`` different-person pairs (a balanced sample)."""
        idx = np.concatenate([np.flatnonzero(self.same)[: n // 2], np.flatnonzero(~self.same)[: n // 2]])
        return PairSet(tuple(self.a[i] for i in idx), tuple(self.b[i] for i in idx), self.same[idx])


@dataclass(frozen=True)
class LFWPairs:
    """The pairs of one LFW protocol view.

    View 1 (development): ``splits["train"]`` (pairsDevTrain.txt, 1,100 same + 1,100 different)
    and ``splits["test"]`` (pairsDevTest.txt, 500 + 500). View 2 (the benchmark): ten folds
    ``splits["fold_0"]`` … ``splits["fold_9"]`` of 300 same + 300 different pairs (pairs.txt);
    τ is chosen on nine folds and tested on the tenth. (Smaller folders laid out the same way,
    e.g. the LFW subset's, give what their headers say.)
    """

    view: int
    root: Path
    splits: dict[str, PairSet]

    @property
    def folds(self) -> list[PairSet]:
        """View 2's ten folds in order (empty for View 1)."""
        return [self.splits[f"fold_{k}"] for k in range(len(self.splits)) if f"fold_{k}" in self.splits]

    @property
    def photos(self) -> list[Path]:
        """Every photo named by any pair, once, sorted."""
        return sorted(set().union(*(set(s.photos) for s in self.splits.values())))


def _photo(root: Path, name: str, number: str, where: str) -> Path:
    try:
        n = int(number)
    except ValueError:
        raise ValueError(f"{where}: photo number {number!r} is not an integer") from None
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"{where}: bad person name {name!r}")
    return root / "lfw" / name / f"{name}_{n:04d}.jpg"


def _read_pairs(path: Path, root: Path, n_header: int) -> list[PairSet]:
    """Parse an LFW pairs file: a header (``N``, or ``blocks N`` for pairs.txt), then ``blocks`` ×
    (``N`` same-person lines, then ``N`` different-person lines)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing (an LFW pairs file)")
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    head = lines[0].split() if lines else []
    try:
        numbers = [int(v) for v in head]
    except ValueError:
        numbers = []
    if len(numbers) != n_header or any(v <= 0 for v in numbers):
        want = "'N'" if n_header == 1 else "'folds N'"
        raise ValueError(f"{path}, line 1: expected the header {want}; got {' '.join(head)!r}")
    blocks, per_block = (1, numbers[0]) if n_header == 1 else (numbers[0], numbers[1])
    body = lines[1:]
    if len(body) != blocks * 2 * per_block:
        raise ValueError(f"{path}: {len(body)} pair lines, expected {blocks * 2 * per_block}")
    out = []
    for k in range(blocks):
        a, b, same = [], [], []
        for j in range(2 * per_block):
            lineno = 2 + k * 2 * per_block + j
            where = f"{path}, line {lineno}"
            f = body[k * 2 * per_block + j].split()
            if j < per_block:
                if len(f) != 3:
                    raise ValueError(f"{where}: expected 'name n1 n2' (a same-person pair); got {' '.join(f)!r}")
                pa, pb = _photo(root, f[0], f[1], where), _photo(root, f[0], f[2], where)
            else:
                if len(f) != 4:
                    raise ValueError(f"{where}: expected 'name1 n1 name2 n2' (a different-person pair); "
                                     f"got {' '.join(f)!r}")
                pa, pb = _photo(root, f[0], f[1], where), _photo(root, f[2], f[3], where)
            a.append(pa)
            b.append(pb)
            same.append(j < per_block)
        out.append(PairSet(tuple(a), tuple(b), np.array(same, bool)))
    return out


def _check_photos(pairs: LFWPairs) -> LFWPairs:
    missing = [p for p in pairs.photos if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{missing[0]} is missing ({len(missing)} photos named by the LFW View "
                                f"{pairs.view} pairs are not under {pairs.root / 'lfw'})")
    return pairs


def _extract_view1() -> Path:
    """The registry's View 1 archive, extracted once into ``FACELIB_HOME/lfw/lfw_view1``."""
    archive = assets.fetch("lfw-view1")
    return extract_once(archive, archive.parent, "lfw_view1", require=("pairsDevTrain.txt",))


def _sklearn_lfw_download(view: int) -> Path:
    """scikit-learn's own LFW download (photos + pairs files) into its data home; the lfw_home path."""
    from sklearn.datasets import fetch_lfw_pairs

    home = config.settings.sklearn_home
    try:  # only the download step of fetch_lfw_pairs (skips decoding 13,233 photos)
        from sklearn.datasets._lfw import _check_fetch_lfw

        lfw_home, _ = _check_fetch_lfw(data_home=str(home), funneled=False, download_if_missing=True)
        return Path(lfw_home)
    except ImportError:  # pragma: no cover - scikit-learn moved its private helper
        fetch_lfw_pairs(subset="10_folds" if view == 2 else "train", data_home=str(home), funneled=False,
                        download_if_missing=True)
        return home / "lfw_home"


def lfw_pairs(view: int = 1, lfw_home: str | os.PathLike | None = None) -> LFWPairs:
    """LFW verification pairs by explicit file name (not scikit-learn's "n-th file of the folder").

    Args:
        view: ``1`` (development: DevTrain / DevTest) or ``2`` (the 10-fold benchmark).
        lfw_home: a folder holding the pairs files (``pairsDevTrain.txt``, ``pairsDevTest.txt``,
            ``pairs.txt``) and the photos as ``lfw/<Name>/<Name>_<NNNN>.jpg`` — scikit-learn's
            ``lfw_home`` or any folder laid out the same way. ``None``: View 1 from the registry
            asset ``lfw-view1`` (offline mirror; extracted once into ``FACELIB_HOME``), View 2
            from scikit-learn's download of full LFW (online).

    Returns:
        :class:`LFWPairs`; every named photo is checked to exist.

    Raises:
        FileNotFoundError: a missing pairs file or photo (named); ValueError: a malformed line
        (file and line named) or a bad ``view``.
    """
    if view not in (1, 2):
        raise ValueError(f"view must be 1 (development) or 2 (10-fold benchmark); got {view!r}")
    if lfw_home is not None:
        root = Path(lfw_home)
        if not root.is_dir():
            raise FileNotFoundError(f"{root} is not a folder (lfw_home: pairs files + lfw/<Name>/ photos)")
    elif view == 1:
        try:
            root = _extract_view1()
        except assets.AssetUnavailableError:
            if config.settings.offline:
                raise
            root = _sklearn_lfw_download(1)
    else:
        if config.settings.offline:
            raise FileNotFoundError("LFW View 2 needs the full LFW: pass lfw_home=DIR (scikit-learn's "
                                    "lfw_home or the same layout), or go online (FACELIB_OFFLINE is set)")
        root = _sklearn_lfw_download(2)
    if view == 1:
        train = _read_pairs(root / "pairsDevTrain.txt", root, 1)[0]
        test = _read_pairs(root / "pairsDevTest.txt", root, 1)[0]
        pairs = LFWPairs(1, root, {"train": train, "test": test})
    else:
        folds = _read_pairs(root / "pairs.txt", root, 2)
        pairs = LFWPairs(2, root, {f"fold_{k}": f for k, f in enumerate(folds)})
    return _check_photos(pairs)
