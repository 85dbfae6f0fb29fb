"""Configuration read once from the environment.

Every setting of the package lives here so that notebooks, tests and the CLI agree:

``FACELIB_HOME``
    The user's own, writable folder: fetched weights and data not in the shared store, and every
    cache (detections, encodings, extracted archives). Default ``~/.cache/facelib``.
``FACELIB_ASSETS``
    A shared, read-only asset store (a class server's: installed once by an admin with
    ``facelib fetch --all --to DIR``). A verified asset there is read in place, never copied into
    ``FACELIB_HOME``, and nothing is ever written into it; unset means "no store".
``FACELIB_THREADS``
    The CPU threads one user's TensorFlow may use (its intra-op pool; the inter-op pool gets
    half, at least 1), for a server shared by a class. Falls back to ``OMP_NUM_THREADS``; unset
    or ``0`` leaves TensorFlow's default (every core). Read by :func:`facelib.device.configure`.
``FACELIB_MIRROR``
    Folder laid out like ``shared/mirror`` (with ``MANIFEST.json``) used before any
    network source; unset means "no mirror".
``FACELIB_FAST``
    ``1`` shrinks image sizes, epochs and step counts so that every notebook runs in CI
    in about a minute. It never changes *what* a cell teaches.
``FACELIB_OFFLINE``
    ``1`` forbids network sources (package index and URLs); only cache and mirror are used.
``FACELIB_INTERACTIVE``
    ``1``/``0`` shows or replaces ipywidgets controls. By default they are shown whenever a person
    may be at the keyboard (fast mode included) and replaced only when automated: ``CI=true`` or
    under pytest/nbval (``PYTEST_CURRENT_TEST``, which nbval's kernels inherit). ``facelib
    classroom`` and ``tools/nbstore.py`` set ``0``: controls draw their default view once, statically.
``FACELIB_PROGRESS``
    ``1``/``0`` shows or hides progress bars; by default they are shown except in fast mode
    (progress bars write to stderr, which would differ between nbval runs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "settings", "FAST", "reload", "pick"]


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _threads(env: os._Environ[str] | dict[str, str]) -> int | None:
    """``FACELIB_THREADS``, else ``OMP_NUM_THREADS``, as a positive count; ``None`` when unset or ``0``.

    ``OMP_NUM_THREADS`` may be OpenMP's nested list (``"4,2"``): its first level counts; a value
    OpenMP itself would ignore is ignored here too. A bad ``FACELIB_THREADS`` is a ``ValueError``.
    """
    value = (env.get("FACELIB_THREADS") or "").strip()
    if value:
        if not value.isdigit():
            raise ValueError(f"FACELIB_THREADS={value!r}: expected a whole number of CPU threads (0 or unset: all)")
        return int(value) or None
    first = (env.get("OMP_NUM_THREADS") or "").split(",")[0].strip()
    return (int(first) or None) if first.isdigit() else None


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment variables that steer ``facelib``."""

    home: Path
    mirror: Path | None
    fast: bool
    offline: bool
    progress: bool
    interactive: bool
    store: Path | None = None
    threads: int | None = None

    @property
    def sklearn_home(self) -> Path:
        """Where scikit-learn's fetchers keep what they download (``data_home``): ``home/scikit_learn_data``."""
        return self.home / "scikit_learn_data"

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default ``os.environ``)."""
        env = os.environ if environ is None else environ
        home = Path(env.get("FACELIB_HOME") or Path.home() / ".cache" / "facelib").expanduser()
        mirror_value = env.get("FACELIB_MIRROR")
        mirror = Path(mirror_value).expanduser().resolve() if mirror_value else None
        fast = _flag(env.get("FACELIB_FAST"))
        store_value = env.get("FACELIB_ASSETS")
        return cls(
            home=home,
            mirror=mirror,
            fast=fast,
            offline=_flag(env.get("FACELIB_OFFLINE")),
            progress=_flag(env["FACELIB_PROGRESS"]) if "FACELIB_PROGRESS" in env else not fast,
            interactive=(_flag(env["FACELIB_INTERACTIVE"]) if "FACELIB_INTERACTIVE" in env
                         else not (_flag(env.get("CI")) or "PYTEST_CURRENT_TEST" in env)),
            store=Path(store_value).expanduser().resolve() if store_value else None,
            threads=_threads(env),
        )


settings: Settings = Settings.from_env()
#: True when ``FACELIB_FAST=1``: notebooks shrink sizes and step counts for CI.
FAST: bool = settings.fast


def reload() -> Settings:
    """Re-read the environment (used by tests that change ``FACELIB_*`` variables)."""
    global settings, FAST
    settings = Settings.from_env()
    FAST = settings.fast
    return settings


def pick(fast: object, full: object) -> object:
    """Return ``fast`` in fast mode and ``full`` otherwise (e.g. ``pick(2, 30)`` epochs)."""
    return fast if settings.fast else full
