"""facelib.device.configure sizes TensorFlow's CPU pools from the user's thread budget (FACELIB_THREADS, else
OMP_NUM_THREADS): each case in a fresh Python, since the pools are fixed once TensorFlow runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO

PROBE = """
import warnings
warnings.simplefilter("error")  # the budget must apply without a warning
import tensorflow as tf
from facelib import device
device.setup_notebook()
tf.constant(1.0) + 1.0  # the runtime starts with these pools
print(tf.config.threading.get_intra_op_parallelism_threads(), tf.config.threading.get_inter_op_parallelism_threads())
"""


def _pools(**env: str) -> tuple[int, int]:
    clean = {k: v for k, v in os.environ.items() if k not in ("FACELIB_THREADS", "OMP_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300,
                          env={**clean, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2", **env})
    assert done.returncode == 0, done.stderr[-2000:]
    intra, inter = done.stdout.split("\n")[-2].split()
    return int(intra), int(inter)


@pytest.mark.parametrize(("env", "pools"), [
    ({"FACELIB_THREADS": "2", "OMP_NUM_THREADS": "8"}, (2, 1)),  # facelib's own budget wins
    ({"OMP_NUM_THREADS": "3"}, (3, 1)),                          # else the OpenMP one
    ({"FACELIB_THREADS": "4"}, (4, 2)),                          # inter-op: half
    ({}, (0, 0)),                                                # none: TensorFlow's default (all cores)
])
def test_setup_notebook_applies_the_thread_budget(env: dict[str, str], pools: tuple[int, int]) -> None:
    assert _pools(**env) == pools


def test_a_budget_too_late_warns_once_and_keeps_running() -> None:
    import warnings

    import tensorflow as tf

    from facelib import device

    tf.constant(1.0) + 1.0
    before = tf.config.threading.get_intra_op_parallelism_threads()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        device.configure(mixed_precision=False, threads=before + 3)
    assert tf.config.threading.get_intra_op_parallelism_threads() == before
    assert len(caught) == 1 and "applies after a kernel restart" in str(caught[0].message)
