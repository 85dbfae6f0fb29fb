"""The package's house rules: no import-time side effects outside config/device, old names still importable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import facelib

REPO = Path(__file__).resolve().parents[1]
# config reads the environment and device silences TensorFlow before importing it: their job.
# The package itself (facelib/__init__.py) sets TensorFlow's quiet start-up defaults (facelib._quiet, issue 15)
# before any sub-module loads: imported first, outside the measurement.
_ALLOWED = {"config", "device"}


def test_importing_a_module_changes_no_environment_variable():
    modules = sorted(facelib._SUBMODULES - _ALLOWED) + ["models.inception_resnet", "models.small", "models.vgg"]
    script = (
        "import importlib, json, os, sys\n"
        # third-party libraries set their own variables when imported (TF2_BEHAVIOR, KMP_...): not ours
        "import h5py, keras, matplotlib, PIL.Image, sklearn, tensorflow, tqdm\n"
        "import facelib\n"
        "changed = {}\n"
        f"for name in {modules!r}:\n"
        "    before = dict(os.environ)\n"
        "    importlib.import_module('facelib.' + name)\n"
        "    diff = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))\n"
        "    if diff:\n"
        "        changed[name] = diff\n"
        "print(json.dumps(changed))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}
