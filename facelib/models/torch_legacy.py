"""A restricted reader for PyTorch's legacy (non-zip) ``torch.save`` files, without torch.

Used for the quantised VGG19 weights (``vgg19-notop-imagenet-q8``). The legacy layout is a run
of consecutive pickles followed by raw tensor data:

1. the magic number ``0x1950a86a20f9469cfc6c``;
2. the protocol version (``1001``);
3. system info (a dict: byte order, sizes of C types);
4. the object itself — here a dict of tensors. Each tensor is pickled as
   ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`` whose
   ``storage`` is a *persistent id* ``('storage', torch.FloatStorage, key, location, numel)``;
5. the list of storage keys;

then, for each key in that order, an 8-byte little-endian element count and the raw
little-endian data.

Pickle can run any importable callable, so :class:`RestrictedUnpickler` allows only the four
globals this format needs and raises :class:`UnsafePickleError` for anything else; nothing from
the file is ever called except our own stand-ins.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = ["MAGIC_NUMBER", "PROTOCOL_VERSION", "UnsafePickleError", "RestrictedUnpickler", "load_legacy"]

#: First pickle of every legacy ``torch.save`` file.
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
#: Second pickle: the legacy format's protocol version.
PROTOCOL_VERSION = 1001


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """The file names a global outside the allowed few (it could run arbitrary code)."""


@dataclass(frozen=True)
class _StorageType:
    """Stand-in for ``torch.FloatStorage``/``torch.ByteStorage``: only a NumPy dtype."""

    name: str
    dtype: np.dtype


_FLOAT_STORAGE = _StorageType("FloatStorage", np.dtype("<f4"))
_BYTE_STORAGE = _StorageType("ByteStorage", np.dtype("u1"))


@dataclass
class _StorageRef:
    """A storage named by a persistent id; its bytes are read after the pickles."""

    key: str
    dtype: np.dtype
    numel: int


@dataclass
class _TensorRef:
    """What ``_rebuild_tensor_v2`` would build: a strided view of a storage."""

    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage: _StorageRef, storage_offset: int, size: tuple, stride: tuple,
                       requires_grad: bool = False, backward_hooks: Any = None, *rest: Any) -> _TensorRef:
    """Our stand-in for ``torch._utils._rebuild_tensor_v2``: record where the tensor lives."""
    if not isinstance(storage, _StorageRef):
        raise pickle.UnpicklingError(f"tensor storage must be a persistent storage id, got {type(storage).__name__}")
    if not (isinstance(storage_offset, int) and all(isinstance(v, int) for v in (*size, *stride))):
        raise pickle.UnpicklingError("tensor offset, size and stride must be integers")
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


_ALLOWED: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch", "FloatStorage"): _FLOAT_STORAGE,
    ("torch", "ByteStorage"): _BYTE_STORAGE,
    ("collections", "OrderedDict"): collections.OrderedDict,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals of a legacy tensor file.

    ``find_class`` maps ``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``,
    ``torch.ByteStorage`` and ``collections.OrderedDict`` to harmless stand-ins and raises
    :class:`UnsafePickleError` (naming the global) for anything else. ``persistent_load``
    accepts only ``('storage', <storage type>, key, location, numel[, None])`` ids.
    """

    def __init__(self, file: BinaryIO, *, source: str = "<stream>") -> None:
        super().__init__(file)
        self.source = source
        self.storages: dict[str, _StorageRef] = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in _ALLOWED)
            raise UnsafePickleError(
                f"{self.source}: refusing to load global {module}.{name}; a legacy tensor file may only "
                f"name {allowed}") from None

    def persistent_load(self, pid: Any) -> _StorageRef:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str) and isinstance(pid[4], int)
                and (len(pid) == 5 or pid[5] is None)):
            raise pickle.UnpicklingError(f"{self.source}: unsupported persistent id {pid!r}")
        _, stype, key, _location, numel = pid[:5]
        ref = self.storages.get(key)
        if ref is None:
            ref = self.storages[key] = _StorageRef(key, stype.dtype, numel)
        elif ref.dtype != stype.dtype:
            raise pickle.UnpicklingError(f"{self.source}: storage {key} used with two types")
        return ref


def _read_exact(fh: BinaryIO, n: int, what: str, source: str) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise ValueError(f"{source} is truncated: expected {n} bytes of {what}, found {len(data)}")
    return data


def _materialise(t: _TensorRef, data: dict[str, np.ndarray], name: str, source: str) -> np.ndarray:
    flat = data[t.storage.key]
    if not t.size:
        return flat[t.offset:t.offset + 1].reshape(()).copy()
    last = t.offset + sum((s - 1) * st for s, st in zip(t.size, t.stride))
    if t.offset < 0 or any(st < 0 for st in t.stride) or (min(t.size) > 0 and last >= flat.size):
        raise ValueError(f"{source}: tensor {name!r} (size {t.size}, stride {t.stride}, offset {t.offset}) "
                         f"lies outside its storage of {flat.size} elements")
    item = flat.itemsize
    view = np.lib.stride_tricks.as_strided(flat[t.offset:], shape=t.size,
                                           strides=tuple(st * item for st in t.stride), writeable=False)
    return np.array(view)


def _read_storages(fh: BinaryIO, keys: list[str], storages: dict[str, _StorageRef],
                   source: str) -> dict[str, np.ndarray]:
    """The raw data after the pickles: for each key in order, an 8-byte element count then the elements."""
    data: dict[str, np.ndarray] = {}
    for key in keys:
        ref = storages.get(key)
        if ref is None:
            raise ValueError(f"{source}: storage {key} is listed but no tensor uses it")
        (count,) = struct.unpack("<q", _read_exact(fh, 8, f"storage {key} header", source))
        if count != ref.numel:
            raise ValueError(f"{source}: storage {key} holds {count} elements, its id says {ref.numel}")
        buf = _read_exact(fh, count * ref.dtype.itemsize, f"storage {key} data", source)
        data[key] = np.frombuffer(buf, dtype=ref.dtype)
    missing = set(storages) - set(data)
    if missing:
        raise ValueError(f"{source}: storages {sorted(missing)} have no data")
    return data


def load_legacy(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a legacy ``torch.save`` file holding a dict of tensors.

    Args:
        path: the file (e.g. ``fetch("vgg19-notop-imagenet-q8")``).

    Returns:
        ``{name: array}`` with NumPy arrays in the tensors' shapes (``uint8`` for ``ByteStorage``,
        ``float32`` for ``FloatStorage``), in file order.

    Raises:
        FileNotFoundError: no such file.
        UnsafePickleError: a pickle names a global other than the four this format needs.
        ValueError: not a legacy torch file (magic number/protocol), a truncated file, or
            inconsistent storage sizes. The message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist")
    source = str(path)
    with path.open("rb") as raw:
        fh = io.BufferedReader(raw)

        def load() -> Any:
            unpickler = RestrictedUnpickler(fh, source=source)
            try:
                obj = unpickler.load()
            except UnsafePickleError:
                raise
            except (EOFError, pickle.UnpicklingError, struct.error, IndexError, TypeError, AttributeError) as exc:
                raise ValueError(f"{source} is truncated or not a legacy torch file: "
                                 f"{type(exc).__name__}: {exc}") from None
            return obj, unpickler

        magic, _ = load()
        if magic != MAGIC_NUMBER:
            raise ValueError(f"{source} is not a legacy torch.save file (magic number {magic!r}, "
                             f"expected {MAGIC_NUMBER:#x}); zip-format files are not supported")
        version, _ = load()
        if version != PROTOCOL_VERSION:
            raise ValueError(f"{source}: unsupported legacy protocol version {version!r} (expected {PROTOCOL_VERSION})")
        sys_info, _ = load()
        if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
            raise ValueError(f"{source}: only little-endian legacy files are supported (system info {sys_info!r})")
        obj, unpickler = load()
        keys, _ = load()
        if not isinstance(obj, dict) or not all(isinstance(v, _TensorRef) for v in obj.values()):
            raise ValueError(f"{source}: expected a dict of tensors, got {type(obj).__name__}")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ValueError(f"{source}: the storage-key list is malformed")
        data = _read_storages(fh, keys, unpickler.storages, source)
        return {name: _materialise(t, data, name, source) for name, t in obj.items()}
