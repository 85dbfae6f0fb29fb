"""The seal on what facelib caches: a keyed checksum (HMAC-SHA256) of each cache entry, with a key of the user's own.

:mod:`facelib.faces.encoder_cache` keeps MTCNN detections and encodings by photo under ``FACELIB_HOME/cache/``.
A plausibility check (finite, unit length, the right width) cannot tell one photo's valid encoding from
another's: two rows swapped, or a detection file copied from another photo of the same size, pass it. So
each entry carries :func:`tag` of everything that decides its result (which store, which photo, the exact
values), keyed by 32 random bytes that facelib creates once in ``FACELIB_HOME/cache.key`` (mode ``0600``,
outside ``cache/`` so that clearing or sharing the cache leaves it alone). An entry whose tag is missing or
wrong is recomputed, never returned.

What this protects against: a cache folder edited, swapped or shared by someone else (a classmate's copy,
a cache unpacked from an archive, rows shuffled by a tool) and a cache written by an older facelib
(recomputed once). What it does not: someone who can read your key file (your account, root, a backup of
your home) can forge entries, and a key made readable to others (``chmod``) protects nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

import numpy as np

from facelib import config

__all__ = ["KEY_BYTES", "key_path", "secret_key", "tag", "tag_ok"]

#: How many random bytes the key holds.
KEY_BYTES = 32


def key_path() -> Path:
    """Where the key lives: ``FACELIB_HOME/cache.key``, beside ``cache/`` rather than in it."""
    return Path(config.settings.home) / "cache.key"


def secret_key() -> bytes:
    """This user's cache key, created on first use (``O_EXCL``, mode ``0600``).

    Processes that race to create it all end up with the one that was created first: the loser of
    ``O_EXCL`` reads the winner's (waiting a moment for its bytes). A key file of the wrong length
    (a crash between creating and writing) is replaced. Raises ``OSError`` where the key can be neither
    read nor created (a read-only home): the caller then goes on without a cache.
    """
    path = key_path()
    for _ in range(2):
        try:
            return _create(path)
        except FileExistsError:
            pass
        key = _read(path)
        if key is not None:
            return key
        _replace(path)  # damaged: a fresh key, made whole before it appears
    raise OSError(f"cannot read the cache key {path}")


def _create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def _read(path: Path) -> bytes | None:
    """The key in ``path``, waiting up to a second for a racing creator to finish writing; ``None`` if short."""
    for _ in range(50):
        key = path.read_bytes()
        if len(key) == KEY_BYTES:
            return key
        time.sleep(0.02)
    return None


def _replace(path: Path) -> None:
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.facelib-{os.getpid()}-", suffix=".tmp", dir=path.parent)
    try:
        try:
            os.write(fd, secrets.token_bytes(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)  # mkstemp made it 0600
    except BaseException:
        os.unlink(tmp)
        raise


def tag(key: bytes, *parts: str | bytes | np.ndarray) -> bytes:
    """HMAC-SHA256 under ``key`` of ``parts``, each length-prefixed (so no two part lists give the same message);
    an array counts by its dtype, shape and bytes."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        if isinstance(part, np.ndarray):
            blobs = [part.dtype.str.encode(), str(part.shape).encode(), np.ascontiguousarray(part).tobytes()]
        else:
            blobs = [part.encode() if isinstance(part, str) else bytes(part)]
        for blob in blobs:
            mac.update(len(blob).to_bytes(8, "little"))
            mac.update(blob)
    return mac.digest()


def tag_ok(key: bytes, claimed: object, *parts: str | bytes | np.ndarray) -> bool:
    """Whether ``claimed`` (bytes, or their hex) is :func:`tag` of ``parts``, compared in constant time."""
    if isinstance(claimed, str):
        try:
            claimed = bytes.fromhex(claimed)
        except ValueError:
            return False
    if isinstance(claimed, np.ndarray):
        claimed = claimed.tobytes() if claimed.dtype == np.uint8 else b""
    if not isinstance(claimed, bytes):
        return False
    return hmac.compare_digest(claimed, tag(key, *parts))
