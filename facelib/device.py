"""Where the maths runs: CPU or GPU(s), memory growth, mixed precision, notebook set-up.

Every lesson starts with :func:`setup_notebook`; training code that wants several GPUs uses the
strategy returned by :func:`configure`. Everything degrades to the CPU when no GPU is present.
"""

from __future__ import annotations

import functools
import os
import random
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from facelib import config

__all__ = ["DeviceInfo", "cpu_supports_bf16", "configure", "describe", "set_seed", "setup_notebook"]


@dataclass(frozen=True)
class DeviceInfo:
    """What TensorFlow sees: GPU names and compute capabilities, CPU features, policy."""

    gpus: tuple[str, ...]
    compute_capabilities: tuple[tuple[int, int] | None, ...]
    cpu_bf16: bool
    policy: str
    tensorflow: str
    keras: str

    def summary(self) -> str:
        """One line for a notebook's first output."""
        if self.gpus:
            where = f"{len(self.gpus)} GPU(s): " + ", ".join(self.gpus)
        else:
            where = "CPU only" + (" (AVX-512 BF16)" if self.cpu_bf16 else "")
        return f"TensorFlow {self.tensorflow}, Keras {self.keras}; {where}; precision policy {self.policy}"


def cpu_supports_bf16() -> bool:
    """True when the CPU advertises AVX-512 BF16 or AMX-BF16 (Linux ``/proc/cpuinfo``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = fh.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _compute_capability(gpu: object) -> tuple[int, int] | None:
    try:
        details = tf.config.experimental.get_device_details(gpu)
    except (ValueError, RuntimeError):
        return None
    cc = details.get("compute_capability")
    return tuple(cc) if cc else None


def describe() -> DeviceInfo:
    """Describe the devices TensorFlow can use (no side effects)."""
    gpus = tf.config.list_physical_devices("GPU")
    return DeviceInfo(
        gpus=tuple(g.name for g in gpus),
        compute_capabilities=tuple(_compute_capability(g) for g in gpus),
        cpu_bf16=cpu_supports_bf16(),
        policy=keras.mixed_precision.global_policy().name,
        tensorflow=tf.__version__,
        keras=keras.__version__,
    )


def _set_threads(threads: int | None) -> None:
    """Size TensorFlow's CPU pools: ``threads`` intra-op, half of them (at least 1) inter-op.

    The pools are fixed once TensorFlow has run its first operation; a later, different request warns
    once (restart the kernel) instead of failing.
    """
    if not threads:
        return
    want = (threads, max(1, threads // 2))
    have = (tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads())
    if have == want:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(want[0])
        tf.config.threading.set_inter_op_parallelism_threads(want[1])
    except RuntimeError:
        import warnings

        warnings.warn(f"facelib: TensorFlow is already running, so its thread pools stay as they are; the "
                      f"budget of {threads} threads (FACELIB_THREADS) applies after a kernel restart",
                      RuntimeWarning, stacklevel=3)


def configure(memory_growth: bool = True, mixed_precision: bool | str | None = None,
              threads: int | None = None) -> tf.distribute.Strategy:
    """Prepare the devices and return a distribution strategy.

    Args:
        memory_growth: let TensorFlow grow GPU memory on demand instead of taking it all
            (must run before the GPUs are first used; ignored when they already are).
        mixed_precision: ``None`` (auto) turns on ``mixed_float16`` only on GPUs with compute
            capability >= 7.0; ``True`` forces ``mixed_float16`` on a GPU or ``mixed_bfloat16``
            on a CPU; ``False`` keeps ``float32``; a string sets that Keras policy.
        threads: CPU threads for TensorFlow's intra-op pool (the inter-op pool gets half, at least 1);
            ``None`` takes the user's budget, ``FACELIB_THREADS`` or else ``OMP_NUM_THREADS`` (a class
            server sets it per student), and without one leaves TensorFlow's default (every core).

    Returns:
        ``MirroredStrategy`` for more than one GPU, otherwise the default strategy.
    """
    _set_threads(config.settings.threads if threads is None else threads)
    gpus = tf.config.list_physical_devices("GPU")
    if memory_growth:
        for gpu in gpus:
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:  # GPUs already initialised: growth can no longer change
                pass
    if isinstance(mixed_precision, str):
        policy = mixed_precision
    elif mixed_precision is True:
        policy = "mixed_float16" if gpus else "mixed_bfloat16"
    elif mixed_precision is None and gpus:
        ccs = [_compute_capability(g) for g in gpus]
        policy = "mixed_float16" if all(cc is not None and cc >= (7, 0) for cc in ccs) else "float32"
    else:
        policy = "float32"
    keras.mixed_precision.set_global_policy(policy)
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy, TensorFlow and Keras so that runs repeat."""
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def _trim_heap(*_: Any) -> None:
    """Give the C heap's free memory back to the system (glibc's ``malloc_trim``; nothing elsewhere)."""
    libc = _load_libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.lru_cache(maxsize=1)
def _load_libc() -> Any:
    """glibc, loaded on first use (never at import: a CLI process does not need it), or ``None``."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def _trim_after_each_cell() -> None:
    """In IPython, return freed heap memory to the system after every cell (registered once).

    A cell that frees hundreds of MB of arrays (photos, crops) leaves them in glibc's heap, where
    TensorFlow's allocator, which takes its memory in large regions of its own, cannot reuse them: the next
    cell's regions come on top. Lesson 05 in full mode peaked 23 MiB lower with this (1,257 → 1,234).
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or _load_libc() is None:
        return
    if _trim_heap not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _trim_heap)


def setup_notebook(seed: int = 0) -> DeviceInfo:
    """One call at the top of every lesson: quiet logs, seeds, float32 policy, plot style, and (in IPython
    on glibc) the heap trimmed after every cell.

    Prints a single line naming TensorFlow/Keras versions, the device and the mode
    (fast/full), and returns the :class:`DeviceInfo`.
    """
    import warnings

    import matplotlib.pyplot as plt

    tf.get_logger().setLevel("ERROR")
    # fit() on an endless tf.data stream warns that shuffle=True is ignored: noise for a student
    warnings.filterwarnings("ignore", message=r".*`shuffle=True` was passed.*")
    set_seed(seed)
    configure(memory_growth=True, mixed_precision=False)
    plt.rcParams.update({"figure.dpi": 80, "figure.figsize": (6, 4), "axes.grid": False,
                         "image.cmap": "gray"})
    _trim_after_each_cell()
    info = describe()
    mode = "fast mode (FACELIB_FAST=1)" if config.settings.fast else "full mode"
    print(f"{info.summary().split(';')[1].strip()}; {mode}")
    return info
