"""deploy/ and binder/: the ways of serving a class.

- ``deploy/kubernetes/config.yaml``, merged over the Zero to JupyterHub chart's defaults as Helm does,
  validates against the chart's own ``values.schema.yaml`` (registry asset ``z2jh-chart-schema``, appVersion
  5.5.0), and the schema rejects the mistakes a teacher makes in that file;
- ``deploy/one-server/jupyterhub_config.py`` loads and sets the limits the README's sizing rule uses;
- ``binder/postBuild`` run in a fresh venv (the lessons' packages seen through a ``.pth`` to this venv's
  site-packages, as ``--system-site-packages`` would; repo2docker would have installed them from
  binder/requirements.txt) installs the package and the lab settings and leaves a read-only asset store.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import REPO

from facelib import assets

DEPLOY = REPO / "deploy"


def _merge(base: dict, over: dict) -> dict:
    """Helm's merge of a values file over the chart's defaults (maps merged key by key, the rest replaced)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@pytest.fixture(scope="module")
def chart() -> tuple[dict, dict]:
    folder = assets.fetch("z2jh-chart-schema")
    schema = yaml.safe_load((folder / "values.schema.yaml").read_text())
    defaults = yaml.safe_load((folder / "values.yaml").read_text())
    return schema, defaults


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((DEPLOY / "kubernetes" / "config.yaml").read_text())


def _errors(chart: tuple[dict, dict], values: dict) -> list[str]:
    schema, defaults = chart
    validator = jsonschema.Draft7Validator(schema)
    merged = _merge(defaults, values)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(merged)]


def test_the_chart_defaults_alone_are_valid(chart) -> None:
    assert _errors(chart, {}) == []


def test_config_yaml_validates_against_the_charts_schema(chart, config) -> None:
    assert _errors(chart, config) == []
    su = config["singleuser"]
    assert su["memory"] == {"guarantee": "1.2G", "limit": "2G"}        # the measured budget (docstring of the file)
    assert su["cpu"] == {"guarantee": 0.5, "limit": 2}
    assert su["extraEnv"]["FACELIB_THREADS"] == str(su["cpu"]["limit"])
    assert su["extraEnv"]["FACELIB_ASSETS"] == "/opt/facelib-assets"
    assert su["lifecycleHooks"]["postStart"]["exec"]["command"][0] == "gitpuller"
    assert config["cull"]["enabled"] is True and config["cull"]["timeout"] == 3600


@pytest.mark.parametrize(("mistake", "where"), [
    ({"singleuser": {"memroy": {"limit": "2G"}}}, "memroy"),                  # a misspelt key
    ({"cull": {"timeout": "1h"}}, "cull.timeout"),                             # a duration where seconds go
    ({"singleuser": {"image": {"name": "x", "tag": "1", "pull": "Always"}}}, "pull"),
    ({"singleuser": {"storage": {"type": "nfs"}}}, "singleuser.storage.type"),  # not one of the chart's types
])
def test_the_schema_rejects_a_broken_config(chart, config, mistake, where) -> None:
    errors = _errors(chart, _merge(config, mistake))
    assert errors and any(where in e for e in errors), errors


def test_the_image_recipe_bakes_a_read_only_store_where_config_yaml_points() -> None:
    recipe = (DEPLOY / "kubernetes" / "Dockerfile").read_text()
    assert "facelib fetch --all --to /opt/facelib-assets" in recipe and "chmod -R a-w /opt/facelib-assets" in recipe
    pins = (DEPLOY / "one-server" / "requirements-hub.txt").read_text()
    for pin in ("nbgitpuller==", "jupyter-resource-usage==", "jupyterhub=="):
        line = next(x for x in pins.splitlines() if x.startswith(pin))
        assert line in recipe, f"Dockerfile and requirements-hub.txt disagree on {line}"


def _load_hub_config(environ: dict[str, str]):
    from traitlets.config import Config

    c = Config()
    saved = dict(os.environ)
    os.environ.update(environ)
    try:
        code = (DEPLOY / "one-server" / "jupyterhub_config.py").read_text()
        exec(compile(code, "jupyterhub_config.py", "exec"), {"get_config": lambda: c, "__name__": "config"})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return c


def test_the_one_server_hub_config_sets_the_measured_limits() -> None:
    c = _load_hub_config({})
    assert c.Spawner.mem_limit == "2G" and c.Spawner.mem_guarantee == "1200M" and c.Spawner.cpu_limit == 2.0
    assert c.JupyterHub.spawner_class == "systemdspawner" and c.JupyterHub.authenticator_class == "native"
    assert c.Spawner.environment["FACELIB_THREADS"] == "2" and c.Spawner.environment["FACELIB_ASSETS"]
    assert c.NativeAuthenticator.open_signup is False
    culler = c.JupyterHub.services[0]["command"]
    assert "--timeout=3600" in culler and culler[1:3] == ["-m", "jupyterhub_idle_culler"]
    test = _load_hub_config({"FACELIB_HUB_CPU_LIMIT": "1", "FACELIB_HUB_CULL_TIMEOUT": "60"})
    assert test.Spawner.environment["FACELIB_THREADS"] == "1"
    assert "--timeout=60" in test.JupyterHub.services[0]["command"]


def test_binder_postbuild_in_a_fresh_venv(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, repo / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "_lessons_packages.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "2",
           "FACELIB_MIRROR": os.environ.get("FACELIB_MIRROR", ""), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    store = home / ".facelib-assets"
    assert (venv / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "facelib.json").is_file()
    assert (venv / "share" / "jupyter" / "kernels" / "python3" / "kernel.json").is_file()
    assert not any(p.stat().st_mode & 0o222 for p in [store, *store.rglob("*")] if not p.is_symlink())
    probe = ("import facelib; from facelib import assets, config; "
             "print(facelib.__file__); print(config.settings.store); print(assets.fetch('style-udnie'))")
    run = subprocess.run([str(repo / "binder" / "start"), str(venv / "bin" / "python"), "-c", probe], cwd=home,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    where, setting, udnie = run.stdout.split("\n")[:3]
    assert where == str(repo / "facelib" / "__init__.py")   # the editable install of postBuild
    assert setting == str(store) and udnie == str(store / "styles" / "udnie.jpg")
    assert not (home / ".cache" / "facelib" / "styles").exists()   # read in place, not copied
    subprocess.run(["chmod", "-R", "u+w", str(store)], check=True)  # so that pytest can delete it


def test_every_hub_setting_the_docs_and_scripts_use_is_read_by_the_hub_config() -> None:
    import re

    config_text = (DEPLOY / "one-server" / "jupyterhub_config.py").read_text()
    read = set(re.findall(r'env\("([A-Z_]+)"', config_text))
    install = DEPLOY / "one-server" / "install.sh"
    assert subprocess.run(["bash", "-n", str(install)]).returncode == 0
    for source in (install, REPO / "README.md", REPO / "tests" / "hub" / "test_hub.py"):
        used = set(re.findall(r"FACELIB_HUB_([A-Z]+(?:_[A-Z]+)*)", source.read_text())) - {"STUDENTS"}
        used = {u for u in used if not u.startswith("ENV")}   # FACELIB_HUB_ENV_X: the students' X
        assert used <= read, f"{source.name} sets {sorted(used - read)}, which jupyterhub_config.py never reads"
    assert "configurable-http-proxy@$CHP_VERSION" in install.read_text()


def test_the_one_server_hub_gives_students_the_nbgrader_exchange_and_the_teacher_their_group() -> None:
    """deploy/one-server and deploy/nbgrader agree: the exchange the students' units may write is the one
    nbgrader_config.py reads, and the admin's unit runs as the admin's Unix user (a dynamic user could not
    be in facelib-teachers, the group PrivateSubmit lets read); install.sh makes both."""
    from types import SimpleNamespace

    c = _load_hub_config({"FACELIB_HUB_EXCHANGE": "/srv/x"})
    assert c.SystemdSpawner.readwrite_paths == ["/srv/x"] and c.Spawner.environment["NBGRADER_EXCHANGE"] == "/srv/x"
    assert _load_hub_config({}).Spawner.environment["NBGRADER_EXCHANGE"] == "/srv/nbgrader/exchange"
    systemd = type("SystemdSpawner", (), {})
    for admin, dynamic in ((True, False), (False, True)):
        spawner = systemd()
        spawner.user, spawner.dynamic_users = SimpleNamespace(admin=admin, name="x"), True
        c.Spawner.pre_spawn_hook(spawner)
        assert spawner.dynamic_users is dynamic
    install = (DEPLOY / "one-server" / "install.sh").read_text()
    assert "install -d -m 1777 /srv/nbgrader/exchange" in install and "usermod -aG facelib-teachers" in install
    assert "deploy/nbgrader/nbgrader_config.py\" /etc/jupyter/nbgrader_config.py" in install
    settings = (DEPLOY / "nbgrader" / "nbgrader_config.py").read_text()
    assert 'os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")' in settings
