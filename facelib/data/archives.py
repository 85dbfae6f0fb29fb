"""A data archive unpacked into the cache once, atomically (plumbing of the data-set loaders).

:func:`extract_once` is how :func:`facelib.data.datasets.load_imagenet_sample` (the ImageNet sample's
tar) and :func:`facelib.data.lfw.lfw_pairs` (LFW View 1's tar) turn a verified archive from
:func:`facelib.assets.fetch` into a folder of files.

:func:`npz_arrays` reads the shapes and dtypes of the arrays of an ``.npz`` (a zip of ``.npy`` files) from
their headers alone, so a reader can refuse a file whose arrays would not fit in memory (a 3 MB file can
decompress to 3 GB) before anything is decompressed: the face database's file and the encoding cache do.
"""

from __future__ import annotations

import contextlib
import math
import os
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath

import numpy as np

from facelib import assets, config

__all__ = ["extract_once", "npz_arrays"]

_STAMP = ".source"


def extract_once(archive: Path, dest: Path, top: str, *, require: tuple[str, ...] = (), verify: bool = False) -> Path:
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
        verify: also check every extracted file against the sha256 recorded when it was extracted
            (the stamp's second line); a changed, missing or added file makes it extract the archive again.

    Returns:
        the folder ``dest / top``.

    Raises:
        ValueError: naming the archive: not a readable tar, a file outside ``top/``, or a required
        file missing.
    """
    archive, folder = Path(archive), Path(dest) / top
    info = archive.stat()
    key = f"{archive.name} {info.st_size} {info.st_mtime_ns}"

    def good() -> bool:
        return _complete(folder, key) and (not verify or _intact(folder))

    if good():
        return folder
    if assets.in_store(dest):
        store = config.settings.store
        assert store is not None  # in_store is False without one
        folder = config.settings.home / Path(dest).resolve().relative_to(store) / top
        if _complete(folder, key):
            return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _locked(folder.parent / f".{top}.lock"):
        if not good():  # another caller may have finished while this one waited
            _extract(archive, folder, key, require, replace=_complete(folder, key))  # complete, yet changed
    return folder


def _digests(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder`` but its dot-files at the top."""
    import hashlib

    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.relative_to(folder).as_posix().startswith(".")}


def _intact(folder: Path) -> bool:
    """True when ``folder``'s files are exactly those recorded (second line of its stamp) when it was extracted."""
    import json

    try:
        recorded = json.loads((folder / _STAMP).read_text(encoding="utf-8").splitlines()[1])
        return isinstance(recorded, dict) and _digests(folder) == recorded
    except (OSError, ValueError, IndexError, RecursionError):
        return False


def _complete(folder: Path, key: str) -> bool:
    """True when ``folder`` holds a whole extraction of the archive that ``key`` names."""
    stamp = folder / _STAMP
    return stamp.is_file() and (stamp.read_text(encoding="utf-8").splitlines() or [""])[0].strip() == key


def _extract(archive: Path, folder: Path, key: str, require: tuple[str, ...], *, replace: bool = False) -> None:
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
        import json

        digests = json.dumps(_digests(extracted))  # the stamp's second line: what verify=True checks
        (extracted / _STAMP).write_text(key + "\n" + digests + "\n", encoding="utf-8")
        if folder.exists() and (replace or not _complete(folder, key)):
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


def npz_arrays(path: Path, limits: Mapping[str, int], what: str = "file"
               ) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """``{name: (shape, dtype)}`` of the arrays ``limits`` names in the ``.npz`` ``path``, read from their headers.

    Only each member's ``.npy`` header is decompressed (a few hundred bytes), never its data.

    Args:
        path: the ``.npz`` file. limits: ``{array name: most bytes it may hold}``; arrays not named
            here are not looked at. what: how the messages name the file (``"face database"``).

    Raises:
        ValueError: naming the file: not a zip, a member that is not a valid ``.npy`` header, an
            object (pickled) array, or an array larger than its limit.
    """
    found: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            members = set(zf.namelist())
            for name, limit in limits.items():
                if f"{name}.npy" not in members:
                    continue
                with zf.open(f"{name}.npy") as fh:
                    version = np.lib.format.read_magic(fh)
                    shape, _, dtype = (np.lib.format.read_array_header_1_0(fh) if version == (1, 0)
                                       else np.lib.format.read_array_header_2_0(fh))
                if dtype.hasobject:
                    raise ValueError(f"'{path}' is not a valid {what}: array {name!r} holds Python objects")
                size = math.prod(shape) * dtype.itemsize
                if size > limit:
                    raise ValueError(f"'{path}' is not a valid {what}: array {name!r} claims shape {shape} of "
                                     f"{dtype} = {size / 2**20:,.0f} MiB, more than the {limit / 2**20:,.0f} MiB "
                                     "allowed (refused before decompressing it)")
                found[name] = (tuple(shape), dtype)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, RuntimeError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(f"'{path}'"):
            raise
        if isinstance(exc, PermissionError):
            raise PermissionError(f"'{path}': permission denied (the {what} cannot be read)") from None
        raise ValueError(f"'{path}' is not a readable {what} ({type(exc).__name__}: {exc})") from None
    return found
