"""The restricted reader of legacy torch.save files, on files written here opcode by opcode."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from facelib.models.torch_legacy import MAGIC_NUMBER, UnsafePickleError, load_legacy


def _unicode(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _int(i: int) -> bytes:
    return b"J" + struct.pack("<i", i)


def _global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def _tuple(items: list[bytes]) -> bytes:
    return b"(" + b"".join(items) + b"t"


def write_legacy(path: Path, tensors: dict[str, tuple[str, np.ndarray, int, tuple, tuple]],
                 hooks_global: tuple[str, str] = ("collections", "OrderedDict")) -> None:
    """tensors: name -> (storage type, flat storage data, offset, size, stride)."""
    keys = []
    body = b""
    for i, (name, (stype, flat, offset, size, stride)) in enumerate(tensors.items()):
        key = str(1000 + i)
        keys.append((key, flat))
        pid = _tuple([_unicode("storage"), _global("torch", stype), _unicode(key), _unicode("cpu"),
                      _int(flat.size), b"N"])
        args = _tuple([pid + b"Q", _int(offset), _tuple([_int(s) for s in size]), _tuple([_int(s) for s in stride]),
                       b"\x89", _global(*hooks_global) + b")R"])
        body += _unicode(name) + _global("torch._utils", "_rebuild_tensor_v2") + args + b"R"
    main = b"\x80\x02}(" + body + b"u."
    raw = b""
    for _, flat in keys:
        raw += struct.pack("<q", flat.size) + flat.astype(flat.dtype.newbyteorder("<")).tobytes()
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    path.write_bytes(pickle.dumps(MAGIC_NUMBER, protocol=2) + pickle.dumps(1001, protocol=2)
                     + pickle.dumps(sys_info, protocol=2) + main
                     + pickle.dumps([k for k, _ in keys], protocol=2) + raw)


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, dict]:
    rng = np.random.default_rng(0)
    q = rng.integers(0, 256, size=2 * 3 * 3 * 3, dtype=np.uint8)
    table = rng.normal(size=256).astype(np.float32)
    big = np.arange(20, dtype=np.float32)
    tensors = {
        "conv_W_q": ("ByteStorage", q, 0, (2, 3, 3, 3), (27, 9, 3, 1)),
        "conv_W_table": ("FloatStorage", table, 0, (256,), (1,)),
        # a view with an offset and non-contiguous strides: rows 1..3 of a (4, 5) matrix, transposed
        "view": ("FloatStorage", big, 5, (5, 3), (1, 5)),
    }
    path = tmp_path / "weights.bin"
    write_legacy(path, tensors)
    return path, {"q": q, "table": table, "big": big}


def test_reads_tensors_with_shapes_offsets_and_strides(sample: tuple[Path, dict]) -> None:
    path, raw = sample
    out = load_legacy(path)
    assert list(out) == ["conv_W_q", "conv_W_table", "view"]
    assert out["conv_W_q"].dtype == np.uint8 and out["conv_W_q"].shape == (2, 3, 3, 3)
    # element (o, i, h, w) sits at o*27 + i*9 + h*3 + w of the flat storage
    assert out["conv_W_q"][1, 2, 0, 1] == raw["q"][27 + 18 + 0 + 1]
    assert out["conv_W_table"].dtype == np.float32
    np.testing.assert_array_equal(out["conv_W_table"], raw["table"])
    expected_view = np.arange(5, 20, dtype=np.float32).reshape(3, 5).T
    np.testing.assert_array_equal(out["view"], expected_view)


def test_rejects_any_other_global_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.bin"
    # The "hooks" slot names os.system: a plain pickle.load would run it on REDUCE.
    write_legacy(path, {"t": ("FloatStorage", np.zeros(2, np.float32), 0, (2,), (1,))}, hooks_global=("os", "system"))
    with pytest.raises(UnsafePickleError, match=r"global os\.system"):
        load_legacy(path)
    assert not marker.exists()
    path2 = tmp_path / "evil2.bin"
    write_legacy(path2, {"t": ("FloatStorage", np.zeros(2, np.float32), 0, (2,), (1,))},
                 hooks_global=("builtins", "eval"))
    with pytest.raises(UnsafePickleError) as info:
        load_legacy(path2)
    assert "builtins" in str(info.value) and "eval" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_rejects_truncated_files(sample: tuple[Path, dict], tmp_path: Path) -> None:
    path, _ = sample
    data = path.read_bytes()
    for cut, _where in ((len(data) - 7, "data"), (len(data) - 80 * 4 - 3, "data"), (200, "pickle"), (3, "header")):
        bad = tmp_path / f"cut{cut}.bin"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="truncated"):
            load_legacy(bad)


def test_rejects_other_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_legacy(tmp_path / "missing.bin")
    other = tmp_path / "other.bin"
    other.write_bytes(pickle.dumps(12345, protocol=2) + b"rest")
    with pytest.raises(ValueError, match="magic number"):
        load_legacy(other)
    text = tmp_path / "text.bin"
    text.write_text("not a pickle at all")
    with pytest.raises(ValueError):
        load_legacy(text)
