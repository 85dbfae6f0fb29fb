"""Device set-up, tested on the CPU with the GPU list mocked."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from facelib import device


class FakeGPU:
    def __init__(self, i: int) -> None:
        self.name = f"/physical_device:GPU:{i}"
        self.device_type = "GPU"


@pytest.fixture(autouse=True)
def restore_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


def _mock_gpus(monkeypatch, capabilities):
    gpus = [FakeGPU(i) for i in range(len(capabilities))]
    growth = []
    real_list = tf.config.list_physical_devices
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: gpus if kind == "GPU" else real_list(kind))
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", lambda gpu, on: growth.append((gpu.name, on)))
    caps = dict(zip((g.name for g in gpus), capabilities))
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda gpu: {"compute_capability": caps[gpu.name], "device_name": "Fake"})
    mirrored = []
    monkeypatch.setattr(tf.distribute, "MirroredStrategy", lambda: mirrored.append(1) or "mirrored")
    return growth, mirrored


def test_cpu_only_machine_gets_float32_and_default_strategy():
    strategy = device.configure()
    assert keras.mixed_precision.global_policy().name == "float32"
    assert strategy is tf.distribute.get_strategy()
    info = device.describe()
    assert info.gpus == () and info.policy == "float32"
    assert info.tensorflow == tf.__version__ and "CPU only" in info.summary()


def test_modern_gpu_turns_on_memory_growth_and_mixed_float16(monkeypatch):
    growth, mirrored = _mock_gpus(monkeypatch, [(8, 0)])
    device.configure()
    assert growth == [("/physical_device:GPU:0", True)]
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert mirrored == []
    assert device.describe().compute_capabilities == ((8, 0),)


def test_old_gpu_stays_float32_unless_forced(monkeypatch):
    _mock_gpus(monkeypatch, [(6, 1)])
    device.configure()
    assert keras.mixed_precision.global_policy().name == "float32"
    device.configure(mixed_precision=True)
    assert keras.mixed_precision.global_policy().name == "mixed_float16"


def test_two_gpus_use_a_mirrored_strategy(monkeypatch):
    growth, mirrored = _mock_gpus(monkeypatch, [(8, 6), (8, 6)])
    assert device.configure(memory_growth=False) == "mirrored"
    assert growth == [] and mirrored == [1]


def test_forcing_mixed_precision_on_a_cpu_uses_bfloat16():
    device.configure(mixed_precision=True)
    assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    device.configure(mixed_precision="float32")
    assert keras.mixed_precision.global_policy().name == "float32"


def test_set_seed_repeats_numpy_and_tensorflow_draws():
    device.set_seed(3)
    a = (np.random.rand(3), tf.random.uniform((3,)).numpy(), keras.random.normal((2,), seed=None).numpy())
    device.set_seed(3)
    b = (np.random.rand(3), tf.random.uniform((3,)).numpy(), keras.random.normal((2,), seed=None).numpy())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_setup_notebook_prints_one_line(capsys, monkeypatch):
    monkeypatch.setattr(device.config, "settings", device.config.Settings.from_env({"FACELIB_FAST": "1"}))
    info = device.setup_notebook(seed=1)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "fast mode" in out[0] and "CPU" in out[0]
    assert info.policy == "float32"
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        device.setup_notebook(seed=1)  # installs its filters inside this context
        warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was provided "
                      "as a tf.data.Dataset.", UserWarning, stacklevel=1)
        warnings.warn("a warning students should still see", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["a warning students should still see"]


def test_setup_notebook_trims_the_heap_after_every_cell_once(monkeypatch):
    """In IPython the lesson's kernel gives freed heap memory back after each cell (lesson 05 in full mode:
    1,257 -> 1,234 MiB), registered once however often the first cell runs."""
    import sys
    import types

    import IPython

    class Events:
        def __init__(self):
            self.callbacks = {"post_run_cell": []}

        def register(self, name, fn):
            self.callbacks[name].append(fn)

    shell = types.SimpleNamespace(events=Events())
    trims = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    monkeypatch.setattr(device, "_load_libc", lambda: types.SimpleNamespace(malloc_trim=lambda pad: trims.append(pad)))
    device.setup_notebook(seed=1)
    device.setup_notebook(seed=1)
    hooks = shell.events.callbacks["post_run_cell"]
    assert len(hooks) == 1 and not trims
    hooks[0](None)   # a cell ran
    assert trims == [0]
    monkeypatch.undo()
    if sys.platform.startswith("linux"):   # glibc's own function is found where the lessons run
        assert device._load_libc() is not None
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)   # a plain Python process: nothing registered
    device.setup_notebook(seed=1)
