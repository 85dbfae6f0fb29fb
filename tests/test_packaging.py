"""requirements.txt (pins), pyproject.toml (ranges) and environment.yml must agree; the README's
two commands are the ones CI runs."""

import re
import tomllib

from conftest import REPO
from packaging.markers import Marker
from packaging.requirements import Requirement


def _pins() -> dict[str, Requirement]:
    reqs = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            r = Requirement(line)
            reqs[(r.name.lower(), str(r.marker))] = r
    return reqs


def _ranges() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["test"]
    return {(r.name.lower(), str(r.marker)): r for r in map(Requirement, deps)}


def test_every_pin_is_exact_and_inside_its_range():
    pins, ranges = _pins(), _ranges()
    assert set(pins) == set(ranges), f"only pinned: {set(pins) - set(ranges)}; only ranged: {set(ranges) - set(pins)}"
    for key, pin in pins.items():
        specs = list(pin.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{pin} is not an exact pin"
        version = specs[0].version
        assert ranges[key].specifier.contains(version, prereleases=True), f"{pin} is outside {ranges[key]}"


def test_tensorflow_cpu_only_where_wheels_exist():
    pins = _pins()
    tf_cpu = next(r for (n, _), r in pins.items() if n == "tensorflow-cpu")
    tf = next(r for (n, _), r in pins.items() if n == "tensorflow")
    for env, cpu in [({"sys_platform": "linux", "platform_machine": "x86_64"}, True),
                     ({"sys_platform": "win32", "platform_machine": "AMD64"}, True),
                     ({"sys_platform": "darwin", "platform_machine": "arm64"}, False),
                     ({"sys_platform": "linux", "platform_machine": "aarch64"}, False)]:
        assert tf_cpu.marker.evaluate(env) is cpu
        assert tf.marker.evaluate(env) is (not cpu)
    gpu = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["gpu"]
    assert any(Requirement(g).name == "tensorflow" and "and-cuda" in Requirement(g).extras for g in gpu)
    assert Marker('sys_platform == "linux"').evaluate({"sys_platform": "linux"})


def test_environment_yml_installs_the_requirements_and_the_package():
    text = (REPO / "environment.yml").read_text()
    assert re.search(r"^\s*-\s*python=3\.11\s*$", text, re.M)
    assert re.search(r"^\s*-\s*pip\s*$", text, re.M)
    assert "-r requirements.txt" in text and "-e ." in text


def test_readme_starts_with_the_two_commands_and_ci_runs_make_test():
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", readme, re.S)
    assert blocks, "README has no command block"
    first = [line.strip() for line in blocks[0].splitlines() if line.strip() and not line.startswith("#")]
    assert first == ["make lab", "make test"]
    ci = (REPO / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    # make test, then the class-server test (issue 25) on the same fresh machine
    assert commands[-1] == "make hub-test" and "make test" in commands[:-1]
