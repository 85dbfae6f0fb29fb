"""Install the project's JupyterLab settings and kernel spec into the current environment.

    python tools/labsetup.py          # run by the Makefile's install step (once, stamped)

- ``tools/lab/overrides.json`` is copied to ``<prefix>/share/jupyter/lab/settings/overrides.d/
  facelib.json`` (JupyterLab merges every file of ``overrides.d`` under a user's own
  ``overrides.json``): no "get notified about news?" pop-up on the first screen, and widget
  state saved with the notebook, so a re-opened lesson shows its sliders instead of
  "Error displaying widget: model not found".
- The ``python3`` kernel spec of the environment is re-installed with
  :data:`facelib._quiet.QUIET_ENV` in its ``env`` and :data:`KERNEL_START` in its ``argv``:
  TensorFlow's C++ start-up lines stay out of the first cell even when a lesson imports
  TensorFlow before facelib.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout before `pip install -e .` is visible

from facelib._quiet import QUIET_ENV  # noqa: E402 - after the sys.path insert above: runs before install

OVERRIDES = ROOT / "tools" / "lab" / "overrides.json"
#: Run by the kernel before the first cell: ``import facelib`` arms the filter of TensorFlow's
#: start-up lines (:mod:`facelib._quiet`), for lessons that import TensorFlow before facelib;
#: ``__import__`` binds no name in the student's namespace.
KERNEL_START = "--IPKernelApp.exec_lines=__import__('facelib')"


def settings_file(prefix: Path = Path(sys.prefix)) -> Path:
    """Where this environment's JupyterLab reads the project's setting overrides."""
    return prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "facelib.json"


def install(prefix: Path = Path(sys.prefix)) -> list[Path]:
    """Install the overrides and the quiet kernel spec under ``prefix``; return what was written."""
    json.loads(OVERRIDES.read_text(encoding="utf-8"))  # a broken file fails here, not in the lab
    target = settings_file(prefix)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(OVERRIDES, target)
    env_args = [arg for key, value in QUIET_ENV.items() for arg in ("--env", key, value)]
    subprocess.run([sys.executable, "-m", "ipykernel", "install", f"--prefix={prefix}", "--name=python3",
                    *env_args], check=True, stdout=subprocess.DEVNULL)
    kernel = prefix / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    spec = json.loads(kernel.read_text(encoding="utf-8"))
    spec["argv"] = [a for a in spec["argv"] if not a.startswith("--IPKernelApp.exec_lines=")] + [KERNEL_START]
    kernel.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return [target, kernel]


if __name__ == "__main__":
    for path in install():
        print(f"labsetup: {path}")
