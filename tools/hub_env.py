"""Build ``build/hubenv``: the JupyterHub that ``make hub-test`` runs, beside the project's venv.

    .venv/bin/python tools/hub_env.py        # run by `make hub-test`; redone when requirements-hub.txt changes

- a venv of the *system's* Python of the project venv's version (``/usr/bin/python3.X``): the students are
  other Unix users, and a Python installed under ``/root`` (pyenv) is not theirs to run;
- the lessons' packages are the project venv's own, seen through a ``.pth`` (``site.addsitedir``): nothing of
  the project venv is installed again or changed (``pip install --dry-run`` of the hub's pins upgrades
  nothing there either, but the hub stays out of a laptop's venv);
- ``deploy/one-server/requirements-hub.txt`` (jupyterhub, the authenticator, spawner, culler, nbgitpuller,
  jupyter-resource-usage) installed into it with pip; the project's lab settings and quiet kernel spec
  (``tools/labsetup.py``) installed into it;
- ``configurable-http-proxy`` from npm into ``build/hubenv/node`` (Node from the system: Debian's ``nodejs``
  and ``npm``; .ci/run installs them on CI).

Prints each step's time. Exit 2 with one line when something it needs is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HUBENV = ROOT / "build" / "hubenv"
PINS = ROOT / "deploy" / "one-server" / "requirements-hub.txt"
#: configurable-http-proxy from npm, pinned (its Python port, configurable-http-proxy on PyPI, works too)
CHP = "configurable-http-proxy@5.3.0"
STAMP = HUBENV / ".stamp-hubenv"


def _step(what: str, cmd: list[str], **kw) -> None:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, **kw)
    print(f"hub_env: {what} ({time.perf_counter() - t:.0f} s)", flush=True)


def system_python() -> Path:
    """The system's Python of this interpreter's version (other users can run it)."""
    major, minor = sys.version_info[:2]
    for candidate in (Path(f"/usr/bin/python{major}.{minor}"), Path(f"/usr/local/bin/python{major}.{minor}")):
        if candidate.is_file():
            return candidate
    raise SystemExit(f"hub_env: no /usr/bin/python{major}.{minor} (apt-get install python{major}.{minor}-venv)")


def main() -> int:
    import os

    if os.geteuid() != 0:
        print("hub_env: not root, so the hub test cannot create its students and will skip; nothing built")
        return 0
    if STAMP.is_file() and STAMP.stat().st_mtime >= PINS.stat().st_mtime:
        print(f"hub_env: {HUBENV} is up to date")
        return 0
    for tool in ("npm", "node"):
        if shutil.which(tool) is None:
            print(f"hub_env: `{tool}` not found (apt-get install nodejs npm)", file=sys.stderr)
            return 2
    shutil.rmtree(HUBENV, ignore_errors=True)
    _step(f"venv of {system_python()}", [str(system_python()), "-m", "venv", str(HUBENV)])
    site = next(HUBENV.glob("lib/python*/site-packages"))
    (site / "_facelib_project.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    python = HUBENV / "bin" / "python"
    _step("hub packages (pip)", [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                 "-r", str(PINS)])
    _step("lab settings", [str(python), str(ROOT / "tools" / "labsetup.py")], stdout=subprocess.DEVNULL)
    _step(f"{CHP} (npm)", ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                           str(HUBENV / "node"), CHP])
    for p in [HUBENV, *HUBENV.rglob("*")]:  # the students run this Python and its servers
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | (0o555 if p.is_dir() else 0o444))
    STAMP.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
