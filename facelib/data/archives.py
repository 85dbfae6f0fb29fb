"""A data archive unpacked into the cache once, atomically (plumbing of the data-set loaders).

:func:`extract_once` is how :func:`facelib.data.datasets.load_imagenet_sample` (the ImageNet sample's
tar) and :func:`facelib.data.lfw.lfw_pairs` (LFW View 1's tar) turn a verified archive from
:func:`facelib.assets.fetch` into a folder of files.
"""

from __future__ import annotations

import contextlib
import os
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from facelib import assets, config

__all__ = ["extract_once"]

_STAMP = ".source"


def extract_once(archive: Path, dest: Path, top: str, *, require: tuple[str, ...] = ()) -> Path:
    """Extract the tar ``archive``, all of whose files lie under ``top/``, into ``dest / top`` once.

    A stamp file ``top/.source`` names the archive (file name, size, modification time); while it
    matches, later calls return at once. The files are extracted (``tarfile`` with
    ``filter="data"``) into a temporary folder beside the target, then renamed into place, so no
    caller ever sees a half-extracted folder. Callers that come at the same moment take turns (an
    ``flock`` on ``dest/.top.lock`` where the system has one): the first extracts, the others find
    its complete copy; without the lock the first complete copy stays and the others drop theirs.
    An outdated copy (another archive's stamp) is renamed away whole, never emptied in place.
    Where ``dest`` lies in the shared, read-only store (``FACELIB_ASSETS``), its complete copy (made by
    ``facelib fetch --all --to DIR``) is used in place; without one, the archive is extracted into the
    same place under the user's ``FACELIB_HOME``: nothing is ever written into the store.

    Args:
        archive: the tar file. dest: the folder to extract into. top: the archive's top folder.
        require: files (relative to ``top``) the archive must hold.

    Returns:
        the folder ``dest / top``.

    Raises:
        ValueError: naming the archive: not a readable tar, a file outside ``top/``, or a required
        file missing.
    """
    archive, folder = Path(archive), Path(dest) / top
    info = archive.stat()
    key = f"{archive.name} {info.st_size} {info.st_mtime_ns}"

    if _complete(folder, key):
        return folder
    if assets.in_store(dest):
        store = config.settings.store
        assert store is not None  # in_store is False without one
        folder = config.settings.home / Path(dest).resolve().relative_to(store) / top
        if _complete(folder, key):
            return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _locked(folder.parent / f".{top}.lock"):
        if not _complete(folder, key):  # another caller may have finished while this one waited
            _extract(archive, folder, key, require)
    return folder


def _complete(folder: Path, key: str) -> bool:
    """True when ``folder`` holds a whole extraction of the archive that ``key`` names."""
    stamp = folder / _STAMP
    return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == key


def _extract(archive: Path, folder: Path, key: str, require: tuple[str, ...]) -> None:
    """Extract into a temporary folder beside ``folder``, stamp it with ``key``, rename it into place."""
    top = folder.name
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{top}-") as tmp:
        try:
            with tarfile.open(archive) as tar:
                members = [m for m in tar.getmembers() if m.isfile()]
                bad = [m.name for m in members if PurePosixPath(m.name).parts[:1] != (top,)]
                if bad:
                    raise ValueError(f"{archive}: expected only files under {top}/, found {bad[0]!r}")
                tar.extractall(tmp, members=members, filter="data")
        except tarfile.TarError as exc:
            raise ValueError(f"{archive}: not a readable tar archive ({exc})") from exc
        extracted = Path(tmp) / top
        missing = [name for name in require if not (extracted / name).is_file()]
        if missing:
            raise ValueError(f"{archive}: no {top}/{missing[0]} inside")
        extracted.mkdir(exist_ok=True)
        (extracted / _STAMP).write_text(key + "\n", encoding="utf-8")
        if folder.exists() and not _complete(folder, key):
            try:
                os.replace(folder, Path(tmp) / "outdated")  # deleted with the temporary folder
            except FileNotFoundError:  # another caller moved it away first
                pass
        try:
            os.replace(extracted, folder)
        except OSError:  # another caller's complete copy got there first: keep it
            if not _complete(folder, key):
                raise


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed); a no-op where ``fcntl`` is missing."""
    try:
        import fcntl
    except ImportError:  # Windows: the rename protocol of extract_once alone keeps the folder whole
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
