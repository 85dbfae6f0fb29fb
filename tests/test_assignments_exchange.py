"""The hub's nbgrader exchange (deploy/nbgrader/nbgrader_config.py, facelib/exchange.py): a student can
submit but cannot read a classmate's submission; the teacher collects both.

Run with real Unix users (a teacher in the group ``facelib-teachers``, two students), created with
``useradd`` and removed afterwards: it needs root (CI runs as root) and a Python those users can run
(the system's Python of this version, with this venv's packages through a ``.pth``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest
from conftest import REPO

from facelib import assignments
from facelib.exchange import FILE_MODE, close_submission

LESSON = REPO / "notebooks" / "00_welcome.ipynb"
TEACHER, STUDENTS, GROUP = "facelib-tt", ("facelib-sa", "facelib-sb"), "facelib-teachers"
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
NEEDS = ("needs root to create Unix users (CI runs as root), useradd, setpriv and "
         f"{SYSTEM_PYTHON}: run tests/test_assignments_exchange.py as root")


def test_close_submission_keeps_the_teachers_group_and_refuses_a_foreign_one(tmp_path):
    inbound = tmp_path / "inbound"
    (inbound / "sub" / "deeper").mkdir(parents=True)
    (inbound / "sub" / "a.ipynb").write_text("{}")
    (inbound / "sub" / "deeper" / "b.txt").write_text("x")
    assert close_submission(inbound / "sub")
    assert (inbound / "sub" / "a.ipynb").stat().st_mode & 0o777 == FILE_MODE
    assert (inbound / "sub" / "deeper").stat().st_mode & 0o777 == 0o770
    if os.geteuid() == 0:  # a file of another group: nothing changes (the teachers could not read it)
        os.chown(inbound / "sub" / "a.ipynb", -1, 65534)
        (inbound / "sub" / "a.ipynb").chmod(0o644)
        assert not close_submission(inbound / "sub")
        assert (inbound / "sub" / "a.ipynb").stat().st_mode & 0o777 == 0o644


def _can_run() -> bool:
    return (os.geteuid() == 0 and shutil.which("useradd") is not None and shutil.which("setpriv") is not None
            and SYSTEM_PYTHON.is_file())


@pytest.fixture(scope="module")
def hub():
    """A public folder with the users' homes, a Python they can run, the exchange and the teacher's course."""
    if not _can_run():
        pytest.skip(NEEDS)
    root = Path(tempfile.mkdtemp(prefix="facelib-test-hub-"))
    root.chmod(0o755)
    made: list[str] = []
    try:
        subprocess.run(["groupadd", "-f", GROUP], check=True)
        for name in (TEACHER, *STUDENTS):
            home = root / name
            extra = ["-g", GROUP] if name == TEACHER else ["-U"]
            subprocess.run(["useradd", "-M", "-d", str(home), "-s", "/bin/sh", *extra, name], check=True,
                           capture_output=True)
            made.append(name)
            home.mkdir()
            pw = pwd.getpwnam(name)
            os.chown(home, pw.pw_uid, pw.pw_gid)
            home.chmod(0o700)
        venv = root / "venv"
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(venv)], check=True)
        site = next(venv.glob("lib/python*/site-packages"))
        (site / "_project.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
        alembic = venv / "bin" / "alembic"  # nbgrader runs `alembic` when it opens the gradebook
        alembic.write_text(f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom alembic.config import main\n"
                           "sys.exit(main())\n")
        alembic.chmod(0o755)
        config = root / "config"
        config.mkdir()
        shutil.copy(REPO / "deploy" / "nbgrader" / "nbgrader_config.py", config / "nbgrader_config.py")
        exchange = root / "exchange"
        exchange.mkdir()
        exchange.chmod(0o1777)
        course = root / TEACHER / "course"
        assignments.build([LESSON], course)
        teacher = pwd.getpwnam(TEACHER)
        subprocess.run(["chown", "-R", f"{teacher.pw_uid}:{teacher.pw_gid}", str(course)], check=True)
        yield {"root": root, "venv": venv, "config": config, "exchange": exchange, "course": course}
    finally:
        for name in made:
            subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["groupdel", GROUP], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _as(hub: dict, user: str, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    pw = pwd.getpwnam(user)
    env = {"HOME": pw.pw_dir, "USER": user, "PATH": f"{hub['venv'] / 'bin'}:/usr/bin:/bin",
           "PYTHONPATH": str(REPO), "JUPYTER_CONFIG_PATH": str(hub["config"]),
           "NBGRADER_EXCHANGE": str(hub["exchange"]), "FACELIB_FAST": "1", "LANG": "C.UTF-8"}
    wrap = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups"]
    return subprocess.run([*wrap, *command], cwd=cwd or pw.pw_dir, env=env, capture_output=True, text=True,
                          timeout=600)


def _nbgrader(hub: dict, user: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    done = _as(hub, user, str(hub["venv"] / "bin" / "python"), "-m", "nbgrader", *args, cwd=cwd)
    assert done.returncode == 0, f"{user}: nbgrader {' '.join(args)}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done


def test_a_student_can_submit_but_not_read_a_classmates(hub):
    name = LESSON.stem
    _nbgrader(hub, TEACHER, "release_assignment", name, cwd=hub["course"])
    for student in STUDENTS:
        _nbgrader(hub, student, "fetch_assignment", name)
        _nbgrader(hub, student, "submit", name)
    inbound = hub["exchange"] / "facelib" / "inbound"
    submissions = {s: next(inbound.glob(f"{s}+{name}+*")) for s in STUDENTS}
    a, b = STUDENTS
    peek = "import os, sys\ntry:\n    print(os.listdir(sys.argv[1]))\nexcept PermissionError:\n    print('denied')\n"
    read = "import sys\ntry:\n    print(len(open(sys.argv[1]).read()))\nexcept PermissionError:\n    print('denied')\n"
    python = str(hub["venv"] / "bin" / "python")
    assert _as(hub, b, python, "-c", peek, str(inbound)).stdout.strip() == "denied", "a student lists the inbound"
    theirs = submissions[a] / f"{name}.ipynb"
    assert theirs.is_file()
    assert _as(hub, b, python, "-c", read, str(theirs)).stdout.strip() == "denied", "a classmate reads a submission"
    assert _as(hub, b, python, "-c", peek, str(submissions[a])).stdout.strip() == "denied"
    assert _as(hub, a, python, "-c", read, str(theirs)).stdout.strip().isdigit(), "its student reads it"
    assert theirs.stat().st_gid == pwd.getpwnam(TEACHER).pw_gid and theirs.stat().st_mode & 0o777 == FILE_MODE
    # the teacher collects both (and could autograde them)
    _nbgrader(hub, TEACHER, "collect", name, cwd=hub["course"])
    for student in STUDENTS:
        assert (hub["course"] / "submitted" / student / name / f"{name}.ipynb").is_file(), student
