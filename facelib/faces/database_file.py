"""The face database's file, and the rules for what a database may hold.

Part of :mod:`facelib.faces.database` (:class:`~facelib.faces.database.FaceDatabase`, lesson 05 and
the CLI): its public methods ``save``, ``load`` and ``enroll`` do their work here. A database is one
``.npz`` file: a JSON header (format version, encoder settings, names, sources, threshold), the
encodings and the index of each one's owner; no pickle.

The functions here see a database as plain data: its settings (a dict of the constructor's keywords) and
its people, ``(name, (k, d) encodings, k sources)`` in enrolment order.

Files are trusted only after checking: :func:`_read_file` refuses every malformed file with a
``ValueError`` naming it (NaN, complex or wrong-width encodings, malformed names, sources,
threshold, a model that is not a registered asset name...); the same rules check what a program
enrols (:func:`check_threshold`, :func:`_clean_name`; :func:`_warn_duplicates` warns about a photo
enrolled twice). Writers serialise on a lock file beside the database (``DB.lock``, an ``flock``,
released by the kernel if the process dies: :func:`_writer_lock`); a file is replaced as a whole
(:func:`facelib.data.images.atomic_write`); ``FaceDatabase.enroll`` reads it again under the lock
before merging, so two simultaneous enrolments keep both people.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facelib.data.archives import npz_arrays
from facelib.data.images import atomic_write, check_input_file, temp_owner

__all__ = [
    "ENCODER_WIDTHS", "ENCODING_WIDTHS", "SAME_FACE_DISTANCE", "THRESHOLD_RANGE", "FaceDatabaseWarning",
    "check_threshold",
]

_FORMAT_VERSION = 1
#: A threshold is a finite number in ``(low, high]``: distances of unit-norm encodings lie in [0, 2].
THRESHOLD_RANGE = (0.0, 4.0)
#: Encoding width of the encoders whose asset name a database may record.
ENCODING_WIDTHS = {"facenet-keras-128": 128}
#: Encoding width of each :mod:`facelib.faces.encoders` pipeline a database may record.
ENCODER_WIDTHS = {"facenet": 128, "dlib": 128, "facenet+dlib": 256}
#: Two encodings nearer than this are the same face (the same photo twice gives ~1e-6).
SAME_FACE_DISTANCE = 1e-2
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
_LOCK_TIMEOUT_S = 120.0
#: The most photos (encoding rows) a database file may hold, and the most bytes of its JSON header: checked
#: from the ``.npz`` member headers before anything is decompressed (a 3 MB file can claim 3 GB).
_MAX_PHOTOS = 200_000
_MAX_META_BYTES = 128 * 2**20
#: How far from 1 an encoding's L2 norm may be (on enrolling and on loading alike).
_UNIT_TOLERANCE = 1e-3
#: A name may not hold characters of these Unicode categories: control (Cc: escape, NUL, newline...), format
#: (Cf: bidi overrides, zero-width joiners...), line/paragraph separators, surrogates, private use, unassigned.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_MAX_NAME = 200


class _NotADatabase(Exception):
    pass


class FaceDatabaseWarning(UserWarning):
    """Something worth a second look in an enrolment (the same photo twice, one face under two names...)."""


def check_threshold(value: object, what: str = "threshold") -> float:
    """``value`` as a float if it is a finite number in (0, 4], else ``ValueError`` naming ``what``."""
    lo, hi = THRESHOLD_RANGE
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not ok or not (math.isfinite(float(value)) and lo < float(value) <= hi):  # type: ignore[arg-type]
        raise ValueError(f"{what} must be a finite number in ({lo:g}, {hi:g}]; got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _check_model_name(value: object, what: str = "model_name") -> str:
    """A registered asset name of weights (never a path: it is resolved only through the registry)."""
    from facelib import registry

    if not isinstance(value, str) or not _ASSET_NAME.match(value):
        raise ValueError(f"{what} must be an asset name such as 'facenet-keras-128' (never a path); got {value!r}")
    try:
        kind = registry.get_asset(value).kind
    except KeyError:
        raise ValueError(f"{what} {value!r} is not a registered asset (see `facelib doctor`)") from None
    if kind != "weights":
        raise ValueError(f"{what} {value!r} is a {kind} asset, not weights")
    return value


def _clean_name(name: object) -> str:
    """A person's name as stored: NFC-normalised (an "é" typed as one character or as "e" + accent is one
    name) and stripped; refused when empty, too long, or holding a control or format character (escape
    sequences, newlines, NUL, right-to-left overrides, zero-width characters), which could act on the
    terminal that prints it or make two names look alike."""
    if not isinstance(name, str):
        raise ValueError(f"a person's name must be a string; got {name!r}")
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise ValueError("a person's name must not be empty")
    if len(cleaned) > _MAX_NAME:
        raise ValueError(f"a person's name must be at most {_MAX_NAME} characters; got {len(cleaned)}")
    bad = [c for c in cleaned if unicodedata.category(c) in _FORBIDDEN_CATEGORIES]
    if bad:
        raise ValueError(f"a person's name must not hold control or format characters; {cleaned!r} holds "
                         f"{', '.join(sorted({f'U+{ord(c):04X}' for c in bad}))}")
    return cleaned


def _width(model: object, encoder: object) -> int | None:
    """The encoding width a database of ``model`` (asset name) and ``encoder`` (pipeline name) holds, if known."""
    if encoder is not None:
        return ENCODER_WIDTHS.get(encoder) if isinstance(encoder, str) else None
    return ENCODING_WIDTHS.get(model) if isinstance(model, str) else None


def _check_encodings(name: str, encodings: np.ndarray, sources: Sequence[str] | None, widths: set[int],
                     width: int | None = None) -> tuple[np.ndarray, list[str]]:
    """Encodings enrolled for ``name``: ``(k, d) float32`` rows (a ``(d,)`` row is one) and their ``k`` sources.

    The rules are those :func:`_read_file` applies, so whatever is enrolled can be saved and loaded again.

    Raises:
        ValueError: not real numbers, not ``(k, d)`` with ``k >= 1``, NaN or infinity, not of unit
            length, a width ``d`` other than the encoder's (``width``) or the database's (``widths``:
            those enrolled), not ``k`` sources (strings), or more than the photos a file may hold.
    """
    raw = np.asarray(encodings)
    if raw.dtype.kind not in "fiu":
        raise ValueError(f"encodings for {name!r} must be real numbers; got dtype {raw.dtype}")
    enc = raw.astype(np.float32)
    if enc.ndim == 1:
        enc = enc[None]
    if enc.ndim != 2 or len(enc) == 0:
        raise ValueError(f"encodings for {name!r} must be (k, d) with k >= 1; got {enc.shape}")
    if not np.isfinite(enc).all():
        raise ValueError(f"encodings for {name!r} contain NaN or infinity")
    norms = np.linalg.norm(enc.astype(np.float64), axis=1)
    if np.abs(norms - 1.0).max() > _UNIT_TOLERANCE:  # the rule _check_contents applies on loading
        raise ValueError(f"encodings for {name!r} must be of unit length (L2-normalised, as FaceDatabase.encode "
                         f"gives them); their norms go from {norms.min():.3g} to {norms.max():.3g}")
    if width is not None and enc.shape[1] != width:
        raise ValueError(f"encodings for {name!r} have {enc.shape[1]} dimensions; this database's encoder gives "
                         f"{width}")
    if widths and enc.shape[1] not in widths:
        raise ValueError(f"encodings for {name!r} have {enc.shape[1]} dimensions; the database uses {min(widths)}")
    if len(enc) > _MAX_PHOTOS:
        raise ValueError(f"{len(enc):,} encodings for {name!r}: a database holds at most {_MAX_PHOTOS:,} photos")
    src = [str(x) for x in sources] if sources is not None else [""] * len(enc)
    if len(src) != len(enc):
        raise ValueError(f"{len(enc)} encodings for {name!r} but {len(src)} sources")
    return enc, src


People = Sequence[tuple[str, np.ndarray, list[str]]]


def _warn_duplicates(people: People, name: str, enc: np.ndarray, src: list[str]) -> None:
    """Warn (:class:`FaceDatabaseWarning`) about each new row of ``name`` already among ``people``: the same
    source, or the same face (nearer than :data:`SAME_FACE_DISTANCE`), for this person or another.
    ``enc``: ``(k, d)``."""
    seen = {s: n for n, _, sources in people for s in sources if s}
    rows = [(n, e) for n, encodings, _ in people for e in encodings]
    for k, (row, s) in enumerate(zip(enc, src)):
        what = f"'{s}'" if s else f"photo {k + 1} of {len(enc)}"
        if s and s in seen:
            warnings.warn(f"{what} is already enrolled for '{seen[s]}'; it is now enrolled "
                          f"{'twice' if seen[s] == name else 'under two names'}", FaceDatabaseWarning, stacklevel=3)
        else:
            near = [n for n, e in rows if float(np.linalg.norm(e - row)) < SAME_FACE_DISTANCE]
            if near:
                warnings.warn(f"{what} is the same face as a photo enrolled for '{near[0]}'"
                              + ("" if near[0] == name
                                 else f" (one face under two names: '{near[0]}' and '{name}')"),
                              FaceDatabaseWarning, stacklevel=3)
        if s:
            seen[s] = name
        rows.append((name, row))


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]  # Windows only; mypy checks Linux
else:
    import fcntl

    def _try_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextlib.contextmanager
def _writer_lock(path: Path, timeout: float = _LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold ``PATH.lock`` exclusively; remove it on exit, and the temporary files killed writers left (see
    :func:`_sweep_stale`).

    The lock is an ``flock`` on an open file: a killed holder releases it. A lock file found on
    disk is therefore never "stale"; after locking, the file is checked to be the one on disk
    (a releasing holder may have just removed it).
    """
    lock = path.with_name(path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            _try_lock(fd)
        except OSError:
            os.close(fd)
            if time.monotonic() > deadline:
                raise TimeoutError(f"'{path}' is being written by another process (lock '{lock}' held for "
                                   f"{timeout:.0f} s); try again") from None
            time.sleep(0.05)
            continue
        try:
            current = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)
    try:
        _sweep_stale(path)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)



def _target(path: str | os.PathLike) -> Path:
    """The file a database path names: a symbolic link's target (so the link stays and its file gets the
    new data, and every name of one file shares one writers' lock), else the path itself."""
    path = Path(path)
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


def _sweep_stale(path: Path) -> None:
    """Remove the temporary files of ``path`` that :func:`~facelib.data.images.atomic_write` made in a process
    that is gone (a killed writer); a user's file, or one of a live process, is never touched."""
    for stale in path.parent.glob(f".{path.name}.facelib-*.tmp"):
        pid = temp_owner(stale, path)
        if pid is None or pid == os.getpid() or stale.is_symlink() or not stale.is_file() or _alive(pid):
            continue
        stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if os.name == "nt":  # pragma: no cover - os.kill(pid, 0) would end the process there: sweep nothing
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def _write_file(path: Path, settings: dict[str, Any], people: People) -> Path:
    """Replace ``path`` with a database atomically (``FaceDatabase.save``; the caller holds the writers' lock).

    ``settings``: ``model_name``, ``preprocessing``, ``detect``, ``threshold`` and ``encoder``, as
    :func:`_read_file` returns them.
    """
    meta = {
        "format": "facelib-face-database", "version": _FORMAT_VERSION, "model": settings["model_name"],
        "preprocessing": settings["preprocessing"], "detect": settings["detect"], "threshold": settings["threshold"],
        "encoder": settings["encoder"], "names": [n for n, _, _ in people], "sources": [s for _, _, s in people],
    }
    if people:
        enc = np.concatenate([e for _, e, _ in people]).astype(np.float32)
        owner = np.concatenate([[k] * len(e) for k, (_, e, _) in enumerate(people)]).astype(np.int32)
    else:
        enc, owner = np.zeros((0, 128), np.float32), np.zeros((0,), np.int32)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:  # a file object: np.savez would append ".npz" to a name
            np.savez(fh, meta=np.array(json.dumps(meta)), encodings=enc, owner=owner)

    return atomic_write(path, write)


def _read_file(path: Path) -> tuple[dict[str, Any], list[tuple[str, np.ndarray, list[str]]]]:
    """A database file read and checked: ``(settings, people)`` (``FaceDatabase.load`` documents the errors)."""
    try:
        check_input_file(path, "face database")
    except FileNotFoundError as exc:
        if os.path.lexists(path):
            raise
        raise FileNotFoundError(f"face database '{path}' does not exist "
                                f"(create it with `facelib enroll {path} NAME IMG...`)") from exc
    npz_arrays(path, {"meta": _MAX_META_BYTES, "encodings": _MAX_PHOTOS * max(ENCODER_WIDTHS.values()) * 4,
                      "owner": _MAX_PHOTOS * 8}, "face database")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"][()])) if "meta" in z.files else None
            if not isinstance(meta, dict) or meta.get("format") != "facelib-face-database":
                raise _NotADatabase
            raw_enc = np.asarray(z["encodings"])
            raw_owner = np.asarray(z["owner"])
    except _NotADatabase:
        raise ValueError(f"'{path}' is not a facelib face database file") from None
    except RecursionError:
        raise ValueError(f"'{path}' is not a valid face database: its JSON header is nested too deeply") from None
    except PermissionError:
        raise PermissionError(f"'{path}': permission denied (the face database cannot be read)") from None
    except (OSError, ValueError, KeyError, EOFError, IndexError, TypeError, zipfile.BadZipFile) as exc:
        raise ValueError(f"'{path}' is not a readable face database file ({type(exc).__name__}: {exc})") from None
    if meta.get("version") != _FORMAT_VERSION:
        raise ValueError(f"'{path}' has face-database format version {meta.get('version')!r}; "
                         f"this facelib reads {_FORMAT_VERSION}")
    settings, names, sources, enc = _check_contents(path, meta, raw_enc, raw_owner)
    return settings, list(zip(names, enc, sources))


def _check_contents(path: Path, meta: dict, raw_enc: np.ndarray, raw_owner: np.ndarray
                    ) -> tuple[dict[str, Any], list[str], list[list[str]], list[np.ndarray]]:
    """Every field of a database file checked: ``(constructor settings, names, sources, rows per person)``."""
    def bad(what: str) -> ValueError:
        return ValueError(f"'{path}' is not a valid face database: {what}")

    names = meta.get("names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad(f"'names' must be a list of strings; got {names!r:.80}")
    for n in names:
        try:
            ok = _clean_name(n) == n
        except ValueError as exc:
            raise bad(f"name {n!r:.80}: {exc}") from None
        if not ok:
            raise bad(f"name {n!r:.80} is not NFC-normalised and stripped")
    if len(set(names)) != len(names):
        raise bad(f"'names' must be distinct; got {names!r:.80}")
    if raw_enc.dtype.kind not in "f" or raw_enc.ndim != 2:
        raise bad(f"'encodings' must be a 2-D array of real floats; got {raw_enc.dtype} {raw_enc.shape}")
    enc = raw_enc.astype(np.float32)
    if raw_owner.dtype.kind not in "iu" or raw_owner.shape != (len(enc),):
        raise bad(f"'owner' must be {len(enc)} integers; got {raw_owner.dtype} {raw_owner.shape}")
    owner = raw_owner.astype(np.int64)
    if len(owner) and (owner.min() < 0 or owner.max() >= len(names)):
        raise bad(f"'owner' points outside the {len(names)} names")
    counts = [int((owner == k).sum()) for k in range(len(names))]
    if 0 in counts:
        raise bad(f"{names[counts.index(0)]!r} has no encodings")
    if not np.isfinite(enc).all():
        raise bad("the encodings contain NaN or infinity")
    norms = np.linalg.norm(enc.astype(np.float64), axis=1)
    if len(norms) and np.abs(norms - 1.0).max() > _UNIT_TOLERANCE:
        raise bad(f"the encodings are not of unit length (norms from {norms.min():.3g} to {norms.max():.3g})")
    model = meta.get("model", "facenet-keras-128")
    encoder = meta.get("encoder")
    if encoder is not None and encoder not in ENCODER_WIDTHS:
        raise bad(f"'encoder' must be one of {sorted(ENCODER_WIDTHS)} or null; got {encoder!r:.80}")
    width = _width(model, encoder)
    if width is not None and len(enc) and enc.shape[1] != width:
        raise bad(f"the encodings have {enc.shape[1]} dimensions; {encoder or model!r} gives {width}")
    sources = meta.get("sources")
    if sources is None:
        sources = [[""] * c for c in counts]
    if (not isinstance(sources, list) or len(sources) != len(names)
            or not all(isinstance(s, list) and all(isinstance(x, str) for x in s) for s in sources)):
        raise bad(f"'sources' must be one list of strings per name; got {sources!r:.80}")
    if [len(s) for s in sources] != counts:
        raise bad(f"'sources' has {[len(s) for s in sources]} entries per name, the encodings {counts}")
    threshold = meta.get("threshold")
    if threshold is not None:
        try:
            check_threshold(threshold)
        except ValueError as exc:
            raise bad(str(exc)) from None
    if not isinstance(meta.get("detect"), bool):
        raise bad(f"'detect' must be true or false; got {meta.get('detect')!r}")
    settings = {"preprocessing": meta.get("preprocessing"), "detect": meta["detect"], "threshold": threshold,
                "model_name": model, "encoder": encoder}
    return settings, names, sources, [enc[owner == k] for k in range(len(names))]
