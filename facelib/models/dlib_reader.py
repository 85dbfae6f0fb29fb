"""A restricted reader of dlib's binary serialisation, for one network: dlib's face ResNet.

dlib writes a network (``dlib::serialize(net, out)``) as a nested stream: every layer writes a
version number, then the layers below it, then its own details (layer name, shapes, a parameter
tensor) and some training bookkeeping. This reader knows *one* architecture — the
``loss_metric<fc_no_bias<128, avg_pool_everything<...>>>`` ResNet-29 of
``dlib_face_recognition_resnet_model_v1.dat`` — and walks the stream expecting exactly that layer
sequence. Anything else (another layer, another shape, a size that does not fit, trailing bytes,
a truncated file) raises ``ValueError`` naming the file and the byte offset. Nothing is
executed or unpickled; the only data kept are float32 parameter arrays of known shapes.

The primitives, as dlib writes them:

- integer: one byte ``c`` (low 4 bits = number of magnitude bytes ``n``, bit 7 = negative),
  then ``n`` bytes little-endian;
- string: its length (an integer), then the bytes;
- bool: the character ``'0'`` or ``'1'``;
- float/double (hyper-parameters only): integer mantissa, then integer exponent (value = m · 2^e);
- tensor: version 2, four integers ``(num_samples, k, nr, nc)``, then the values as little-endian
  float32;
- alias_tensor (a view into a layer's ``params``): version 1 and four integers, no data.

Layout knowledge (which layers, in which order) lives in :mod:`facelib.models.dlib_resnet`; this
module only turns bytes into ``{layer index: {name: array}}`` for the layer list it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["LayerSpec", "read_network"]

#: The largest parameter tensor this reader accepts (the face ResNet's largest has 589,824 values).
_MAX_TENSOR_VALUES = 4_000_000
_MAX_STRING = 64


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the expected stack, outermost first.

    ``kind`` is one of ``"con"``, ``"affine"``, ``"relu"``, ``"max_pool"``, ``"avg_pool"``,
    ``"add_prev"``, ``"fc"``, ``"tag"``, ``"skip"``. ``args`` holds what the file must say:
    con ``(filters, nr, nc, stride, padding)``, pools ``(nr, nc, stride, padding)``, fc
    ``(outputs,)``; ``channels`` the input channels of a con/fc layer (to check the tensor sizes).
    """

    kind: str
    args: tuple[int, ...] = ()
    channels: int = 0


@dataclass
class _Stream:
    data: bytes
    path: str
    pos: int = 0
    out: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)

    def fail(self, what: str) -> ValueError:
        return ValueError(f"{self.path}: not a dlib face ResNet file ({what} at byte {self.pos})")

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("file ends early")
        c = self.data[self.pos]
        self.pos += 1
        return c

    def integer(self) -> int:
        c = self.byte()
        n = c & 0x0F
        if n > 8 or (c & 0x70):
            raise self.fail(f"bad integer header 0x{c:02x}")
        if self.pos + n > len(self.data):
            raise self.fail("file ends early")
        v = int.from_bytes(self.data[self.pos:self.pos + n], "little")
        self.pos += n
        return -v if c & 0x80 else v

    def expect_int(self, expected: int, what: str) -> None:
        start = self.pos
        v = self.integer()
        if v != expected:
            self.pos = start
            raise self.fail(f"{what} is {v}, expected {expected}")

    def string(self) -> str:
        n = self.integer()
        if not 0 <= n <= _MAX_STRING or self.pos + n > len(self.data):
            raise self.fail(f"bad string length {n}")
        raw = self.data[self.pos:self.pos + n]
        self.pos += n
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise self.fail("non-ASCII layer name") from None

    def expect_str(self, expected: str) -> None:
        start = self.pos
        s = self.string()
        if s != expected:
            self.pos = start
            raise self.fail(f"layer {s!r} where {expected!r} was expected")

    def boolean(self) -> bool:
        c = self.byte()
        if c not in (0x30, 0x31):
            self.pos -= 1
            raise self.fail(f"bool byte 0x{c:02x} (dlib writes '0' or '1')")
        return c == 0x31

    def real(self) -> float:
        mantissa = self.integer()
        exponent = self.integer()
        if abs(exponent) > 2000:
            raise self.fail("bad floating-point exponent")
        return float(np.ldexp(float(mantissa), exponent))

    def tensor(self) -> np.ndarray:
        self.expect_int(2, "tensor version")
        shape = tuple(self.integer() for _ in range(4))
        if any(s < 0 for s in shape):
            raise self.fail(f"negative tensor shape {shape}")
        count = int(np.prod(shape, dtype=np.int64))
        if count > _MAX_TENSOR_VALUES:
            raise self.fail(f"tensor of {count} values is too large")
        end = self.pos + 4 * count
        if end > len(self.data):
            raise self.fail("file ends inside a tensor")
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos = end
        if not np.all(np.isfinite(values)):
            raise self.fail("non-finite parameter")
        return values.astype(np.float32).reshape(shape)

    def empty_tensor(self, what: str) -> None:
        t = self.tensor()
        if t.size:
            raise self.fail(f"{what} holds {t.size} values (a trained, cleaned network stores none)")

    def alias(self) -> tuple[int, ...]:
        self.expect_int(1, "alias_tensor version")
        return tuple(self.integer() for _ in range(4))


def _details(s: _Stream, spec: LayerSpec, index: int) -> None:
    k = spec.kind
    if k == "relu":
        s.expect_str("relu_")
    elif k == "add_prev":
        s.expect_str("add_prev_")
    elif k in ("max_pool", "avg_pool"):
        s.expect_str(f"{k}_2")
        nr, nc, stride, pad = spec.args
        for value, what in ((nr, "pool rows"), (nc, "pool columns"), (stride, "stride y"),
                            (stride, "stride x"), (pad, "padding y"), (pad, "padding x")):
            s.expect_int(value, what)
    elif k == "con":
        s.expect_str("con_4")
        filters, nr, nc, stride, pad = spec.args
        params = s.tensor()
        n_w = filters * spec.channels * nr * nc
        if params.size != n_w + filters:
            raise s.fail(f"con params of {params.size} values, expected {n_w + filters}")
        for value, what in ((filters, "num_filters"), (nr, "filter rows"), (nc, "filter columns"),
                            (stride, "stride y"), (stride, "stride x"), (pad, "padding y"),
                            (pad, "padding x")):
            s.expect_int(value, what)
        if s.alias() != (filters, spec.channels, nr, nc) or s.alias() != (1, filters, 1, 1):
            raise s.fail("con filter/bias views do not match")
        for _ in range(4):
            s.real()  # learning-rate and weight-decay multipliers
        flat = params.reshape(-1)
        s.out[index] = {"filters": flat[:n_w].reshape(filters, spec.channels, nr, nc),
                        "biases": flat[n_w:].copy()}
    elif k == "affine":
        s.expect_str("affine_")
        params = s.tensor()
        n = params.size // 2
        if params.size != 2 * spec.channels:
            raise s.fail(f"affine params of {params.size} values, expected {2 * spec.channels}")
        if s.alias() != (1, n, 1, 1) or s.alias() != (1, n, 1, 1):
            raise s.fail("affine gamma/beta views do not match")
        s.expect_int(0, "affine mode (0 = CONV_MODE, per channel)")
        flat = params.reshape(-1)
        s.out[index] = {"gamma": flat[:n].copy(), "beta": flat[n:].copy()}
    elif k == "fc":
        s.expect_str("fc_2")
        (outputs,) = spec.args
        s.expect_int(outputs, "fc outputs")
        s.expect_int(spec.channels, "fc inputs")
        params = s.tensor()
        if params.size != outputs * spec.channels:
            raise s.fail(f"fc params of {params.size} values, expected {outputs * spec.channels}")
        w_view, b_view = s.alias(), s.alias()
        if w_view != (spec.channels, outputs, 1, 1) or b_view != (0, 0, 0, 0):
            raise s.fail(f"fc weight/bias views {w_view}, {b_view} do not match")
        s.expect_int(1, "fc bias mode (1 = FC_NO_BIAS)")
        for _ in range(4):
            s.real()
        s.out[index] = {"weights": params.reshape(spec.channels, outputs).copy()}
    else:  # pragma: no cover - the layer lists are written in code
        raise ValueError(f"unknown layer kind {k!r}")


def _bookkeeping(s: _Stream, *, bottom: bool) -> None:
    for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, output disabled
        s.boolean()
    s.empty_tensor("x_grad")
    s.empty_tensor("cached_output")
    s.empty_tensor("grad_final" if bottom else "params_grad")
    if bottom:
        s.expect_int(1, "sample_expansion_factor")


def read_network(path: str | Path, layers: list[LayerSpec], *, input_size: int,
                 loss_name: str = "loss_metric_2") -> tuple[dict[int, dict[str, np.ndarray]], dict[str, float]]:
    """Read a dlib network file laid out as ``layers`` (outermost first, the input excluded).

    Returns ``(params, meta)``: ``params[i]`` holds the arrays of ``layers[i]`` (con: ``filters``
    ``(n_filters, n_in, nr, nc)`` and ``biases``; affine: ``gamma``, ``beta``; fc: ``weights``
    ``(n_in, n_out)``); ``meta`` the input layer's channel means (``avg_red``, ``avg_green``,
    ``avg_blue``, on 0–255) and the loss' ``margin`` and ``distance_threshold``.
    Raises ``ValueError("<path>: ...")`` for anything that is not exactly that network.
    """
    path = Path(path)
    s = _Stream(path.read_bytes(), str(path))
    meta: dict[str, float] = {}
    s.expect_int(1, "loss layer version")
    s.expect_str(loss_name)
    meta["margin"] = s.real()
    meta["distance_threshold"] = s.real()
    for i, spec in enumerate(layers):
        bottom = i == len(layers) - 1
        s.expect_int(3 if bottom else 1 if spec.kind in ("tag", "skip") else 2, f"layer {i} version")
    s.expect_str("input_rgb_image_sized")
    for name in ("avg_red", "avg_green", "avg_blue"):
        meta[name] = s.real()
    s.expect_int(input_size, "input rows")
    s.expect_int(input_size, "input columns")
    for i in range(len(layers) - 1, -1, -1):
        spec = layers[i]
        if spec.kind in ("tag", "skip"):
            continue
        _details(s, spec, i)
        _bookkeeping(s, bottom=i == len(layers) - 1)
    if s.pos != len(s.data):
        raise s.fail(f"{len(s.data) - s.pos} trailing bytes")
    return s.out, meta
