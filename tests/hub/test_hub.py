"""A real JupyterHub for a class, end to end (``make hub-test``; not part of ``make unit``).

JupyterHub and configurable-http-proxy (``build/hubenv``, made by tools/hub_env.py) run
``deploy/one-server/jupyterhub_config.py`` on localhost, with its test settings: LocalProcessSpawner (a test
machine has no systemd; the memory/CPU limits are systemd's and are not enforced here), open sign-up, a short
cull timeout. N students (``FACELIB_HUB_STUDENTS``, default 8: real Unix users created here, removed after)
sign up and log in through the hub's pages, their servers start, an nbgitpuller link pulls the lessons (a
local git repository of ``notebooks/``) into each home, and each runs lesson 02 in fast mode through the
Jupyter server's kernel API, all at once. Checked: every run completes, each check cell printing what the
stored lesson prints; no asset bytes in any home (the shared store is read in place); student A cannot read
student B's notebooks; a teacher's update pulled again keeps a student's edited cell; idle servers are culled.
Printed: the hub's start time, each student's peak memory (all their processes), the total wall time.
"""

from __future__ import annotations

import concurrent.futures as futures
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HUBENV = REPO / "build" / "hubenv"
WORK = REPO / "build" / "hub-test"
LESSON = "notebooks/02_one_shot_and_siamese.ipynb"
N = int(os.environ.get("FACELIB_HUB_STUDENTS", "8"))
CULL_TIMEOUT = 90
PROXY = HUBENV / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
LESSONS_URL = ""  # the teacher's repository, served by git daemon (fixture lessons)

if os.geteuid() != 0:
    pytest.skip("make hub-test: needs root (it creates Unix users for the students); CI runs it as root",
                allow_module_level=True)
if shutil.which("setpriv") is None:
    pytest.skip("make hub-test: no setpriv (util-linux) to check what the students can run", allow_module_level=True)
if shutil.which("node") is None or not PROXY.exists():
    pytest.skip("make hub-test: no Node or no configurable-http-proxy (apt-get install nodejs npm; "
                "make hub-test builds build/hubenv)", allow_module_level=True)

_reach = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(HUBENV / "bin" / "python"),
                         "-c", "import facelib, jupyterhub, tensorflow"], capture_output=True, text=True,
                        env={"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2", "HOME": "/tmp"})
if _reach.returncode != 0:
    pytest.skip(f"make hub-test: the students (other Unix users) cannot run {HUBENV}/bin/python with this checkout: "
                f"put it under a path they can read, e.g. /srv ({_reach.stderr.strip().splitlines()[-1:]})",
                allow_module_level=True)

import requests  # noqa: E402 - after the skips: a laptop without the hub packages still collects this file
import websocket  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sh(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


# ------------------------------------------------------------------------------------------------ set-up

@pytest.fixture(scope="module")
def store() -> Path:
    """The admin's shared store (facelib fetch --all --to), world-readable, reused between runs."""
    folder = REPO / "build" / "hub-store"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    _sh(sys.executable, "-c", "import sys; from facelib.cli import main; sys.exit(main())", "fetch", "--all",
        "--to", str(folder), env=env)
    return folder


@pytest.fixture(scope="module")
def lessons() -> Path:
    """The teacher's lessons: a git repository of notebooks/, served on localhost by ``git daemon`` (as a
    remote the students' nbgitpuller reads; a plain path would be another user's repository to git)."""
    shutil.rmtree(WORK, ignore_errors=True)
    src = WORK / "teacher"
    (src / "notebooks").mkdir(parents=True)
    for name in _sh("git", "ls-files", "notebooks", cwd=REPO).stdout.split():
        shutil.copy2(REPO / name, src / name)
    git = ("git", "-c", "user.name=Teacher", "-c", "user.email=teacher@example.org")
    _sh("git", "init", "-q", "-b", "main", str(src))
    _sh(*git, "-C", str(src), "add", "-A")
    _sh(*git, "-C", str(src), "commit", "-q", "-m", "lessons")
    for p in [REPO / "build", WORK, *WORK.rglob("*")]:
        p.chmod(p.stat().st_mode | (0o555 if p.is_dir() else 0o444))
    port = _port()
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={WORK}",
                               "--listen=127.0.0.1", f"--port={port}", str(WORK)], stderr=subprocess.DEVNULL)
    global LESSONS_URL
    LESSONS_URL = f"git://127.0.0.1:{port}/teacher"
    try:
        for _ in range(100):
            if subprocess.run(["git", "ls-remote", LESSONS_URL], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        yield src
    finally:
        daemon.terminate()
        daemon.wait(10)


@pytest.fixture(scope="module")
def students() -> list[str]:
    tag = secrets.token_hex(2)
    names = [f"fl{tag}s{i}" for i in range(1, N + 1)]
    try:
        for name in names:
            _sh("useradd", "--create-home", "--shell", "/bin/bash", name)
            Path(pwd.getpwnam(name).pw_dir).chmod(0o700)
        yield names
    finally:
        for name in names:
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
            subprocess.run(["userdel", "--remove", name], capture_output=True)


@pytest.fixture(scope="module")
def hub(store: Path, lessons: Path, students: list[str]):
    state = WORK / "state"
    state.mkdir(mode=0o700)
    port = _port()
    env = {**os.environ, "FACELIB_HUB_PREFIX": str(HUBENV), "FACELIB_HUB_SPAWNER": "localprocess",
           "FACELIB_HUB_OPEN_SIGNUP": "1", "FACELIB_HUB_ASSETS": str(store),
           "FACELIB_HUB_BIND_URL": f"http://127.0.0.1:{port}", "FACELIB_HUB_HUB_BIND_URL": f"http://127.0.0.1:{_port()}",
           "FACELIB_HUB_PROXY_API_URL": f"http://127.0.0.1:{_port()}",
           "FACELIB_HUB_DB_URL": f"sqlite:///{state}/jupyterhub.sqlite",
           "FACELIB_HUB_COOKIE_SECRET": str(state / "cookie_secret"), "FACELIB_HUB_PROXY_PID": str(state / "proxy.pid"),
           "FACELIB_HUB_PROXY": str(PROXY), "FACELIB_HUB_CULL_TIMEOUT": str(CULL_TIMEOUT),
           "FACELIB_HUB_CULL_EVERY": "10", "FACELIB_HUB_START_TIMEOUT": "600", "FACELIB_HUB_CPU_LIMIT": "1",
           "FACELIB_HUB_ENV_PYTHONPATH": str(REPO), "FACELIB_HUB_ENV_FACELIB_FAST": "1",
           "FACELIB_HUB_ENV_FACELIB_INTERACTIVE": "0", "PATH": f"{HUBENV / 'bin'}:{os.environ['PATH']}"}
    env.pop("FACELIB_HOME", None)
    env.pop("PYTHONPATH", None)
    log = (WORK / "hub.log").open("w")
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(HUBENV / "bin" / "jupyterhub"), "-f",
                             str(REPO / "deploy" / "one-server" / "jupyterhub_config.py")],
                            cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if requests.get(f"{url}/hub/api", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, (WORK / "hub.log").read_text()[-3000:]
            time.sleep(0.2)
        print(f"\nhub-test: JupyterHub and its proxy answered after {time.perf_counter() - t0:.1f} s", flush=True)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# ------------------------------------------------------------------------------------------------ a student

class Student:
    """One student's browser session: the hub's sign-up and login pages, then their server's API."""

    def __init__(self, hub: str, name: str) -> None:
        self.hub, self.name, self.password = hub, name, secrets.token_urlsafe(12)
        self.web = requests.Session()
        self.server = f"{hub}/user/{name}"
        self.token = ""
        self.drops: list[str] = []

    def _form(self, path: str, fields: dict[str, str]) -> requests.Response:
        page = self.web.get(f"{self.hub}{path}", timeout=60)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        assert xsrf, f"{path}: no _xsrf field in the page"
        return self.web.post(f"{self.hub}{path}", data={**fields, "_xsrf": xsrf.group(1)}, timeout=600)

    def sign_up_and_log_in(self) -> None:
        r = self._form("/hub/signup", {"username": self.name, "signup_password": self.password,
                                       "signup_password_confirmation": self.password, "email": ""})
        alert = re.search(r'<div class="alert ([^"]+)"[^>]*>(.*?)</div>', r.text, re.S)
        assert alert and alert.group(1) == "alert-success", f"{self.name}: sign-up: {alert and alert.groups()}"
        r = self._form("/hub/login", {"username": self.name, "password": self.password})
        assert r.status_code == 200, r.status_code
        xsrf = self.web.cookies.get("_xsrf", path="/hub/")
        r = self.web.post(f"{self.hub}/hub/api/users/{self.name}/tokens", json={"note": "hub-test"},
                          headers={"X-XSRFToken": xsrf or ""}, timeout=60)
        assert r.status_code in (200, 201), r.text
        self.token = r.json()["token"]

    def api(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, f"{self.server}/api/{path}", headers=headers, timeout=600, **kw)

    def wait_for_server(self) -> float:
        t = time.perf_counter()
        requests.post(f"{self.hub}/hub/api/users/{self.name}/server", headers={"Authorization": f"token {self.token}"},
                      timeout=600)
        while True:
            try:
                if self.api("GET", "status").status_code == 200:
                    return time.perf_counter() - t
            except requests.ConnectionError:
                pass
            assert time.perf_counter() - t < 600, f"{self.name}: server not up after 600 s"
            time.sleep(1)

    def git_pull(self) -> None:
        r = requests.get(f"{self.server}/git-pull/api", params={"repo": LESSONS_URL, "branch": "main",
                         "targetpath": "lessons"}, headers={"Authorization": f"token {self.token}"},
                         stream=True, timeout=600)
        phases = [json.loads(line[6:]) for line in r.iter_lines(decode_unicode=True) if line.startswith("data: ")]
        assert phases and phases[-1].get("phase") == "finished", f"{self.name}: nbgitpuller: {phases[-3:]}"

    def notebook(self, path: str) -> dict:
        r = self.api("GET", f"contents/{path}", params={"content": "1"})
        assert r.status_code == 200, r.text
        return r.json()["content"]

    def _connect(self, kid: str, session: str) -> websocket.WebSocket:
        url = self.server.replace("http://", "ws://") + f"/api/kernels/{kid}/channels?session_id={session}"
        return websocket.create_connection(url, header=[f"Authorization: token {self.token}"], timeout=900)

    def run(self, sources: list[str]) -> list[dict]:
        """Execute each source in a new kernel; each cell's stdout and error (None when none).

        Like JupyterLab, the client names its session, and when its websocket drops it connects again to the
        same kernel and session: the server keeps the kernel's messages meanwhile and replays them. Each drop
        is counted (``self.drops``, printed by the test); a kernel or server that is gone fails the test.
        """
        kid = self.api("POST", "kernels", json={"name": "python3"}).json()["id"]
        session = uuid.uuid4().hex
        ws = self._connect(kid, session)
        out = []
        try:
            for src in sources:
                msg_id = uuid.uuid4().hex
                ws.send(json.dumps({"header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.name,
                                               "session": session, "version": "5.3"}, "parent_header": {},
                                    "metadata": {}, "content": {"code": src, "silent": False, "store_history": True,
                                                                "user_expressions": {}, "allow_stdin": False},
                                    "channel": "shell"}))
                stdout, error = "", None
                while True:
                    try:
                        m = json.loads(ws.recv())
                    except (websocket.WebSocketConnectionClosedException, ConnectionError) as e:
                        self.drops.append(f"{time.strftime('%H:%M:%S')} {type(e).__name__}: {e}")
                        assert len(self.drops) <= 3, f"{self.name}: kernel websocket dropped 4 times: {self.drops}"
                        time.sleep(2)
                        ws = self._connect(kid, session)
                        continue
                    if m.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    kind = m["msg_type"]
                    if kind == "stream" and m["content"]["name"] == "stdout":
                        stdout += m["content"]["text"]
                    elif kind == "error":
                        error = f"{m['content']['ename']}: {m['content']['evalue']}"
                    elif kind == "status" and m["content"]["execution_state"] == "idle":
                        break
                out.append({"stdout": stdout, "error": error})
        finally:
            ws.close()
            self.api("DELETE", f"kernels/{kid}")
        return out


class MemorySampler(threading.Thread):
    """Peak resident memory of each user's processes together (their server and kernels), sampled at 2 Hz."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(daemon=True)
        self.uids = {pwd.getpwnam(n).pw_uid: n for n in names}
        self.peak = dict.fromkeys(names, 0)
        self.least_available = 2**63  # the machine's least available memory seen, bytes
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.stop.wait(0.5):
            total = dict.fromkeys(self.peak, 0)
            for p in psutil.process_iter(["uids", "memory_info"]):
                uid = p.info["uids"].real if p.info["uids"] else None
                if uid in self.uids and p.info["memory_info"]:
                    total[self.uids[uid]] += p.info["memory_info"].rss
            for name, rss in total.items():
                self.peak[name] = max(self.peak[name], rss)
            self.least_available = min(self.least_available, psutil.virtual_memory().available)


# ------------------------------------------------------------------------------------------------ the test

_NOTEWORTHY = re.compile(r"^\[[WEC] |cull|died|restart|Stopping|stopped|ping|Traceback|Killed|MemoryError", re.I)
_ROUTINE = re.compile(r"is not trusted|No session ID specified|websocket_ping_timeout \(\d+\) cannot|"
                      r"424 GET .*/api/status|\] 20\d (GET|POST) |running over TCP without encryption|"
                      r"Setting websocket_ping_timeout")


def _explain(sampler: MemorySampler) -> None:
    """Print what the hub's log and the memory sampler saw, for a class run that failed."""
    lines = (WORK / "hub.log").read_text(errors="replace").splitlines()
    seen = [ln for ln in lines if _NOTEWORTHY.search(ln) and not _ROUTINE.search(ln)]
    print(f"\nhub-test failed: least available memory {sampler.least_available / 2**20:,.0f} MiB; peak per student "
          f"{ {n: round(v / 2**20) for n, v in sampler.peak.items()} } MiB; the hub log's last noteworthy lines "
          f"({WORK / 'hub.log'}):", *seen[-60:], sep="\n", flush=True)


def _expected(nb: dict) -> list[tuple[int, str]]:
    """(code cell index, stored stdout) of each check cell of the lesson as stored."""
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return [(i, "".join("".join(o.get("text", "")) for o in c.get("outputs", []) if o.get("name") == "stdout"))
            for i, c in enumerate(code) if "check_" in "".join(c["source"])]


def _digests_by_size(folder: Path, sizes: set[int]) -> set[str]:
    out = set()
    for p in folder.rglob("*"):
        if p.is_file() and not p.is_symlink() and p.stat().st_size in sizes:
            out.add(hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def test_a_class_on_one_hub(hub: str, store: Path, lessons: Path, students: list[str]) -> None:
    t0 = time.perf_counter()
    class_ = [Student(hub, name) for name in students]
    sampler = MemorySampler(students)
    sampler.start()

    def one(s: Student) -> tuple[float, list[dict]]:
        s.sign_up_and_log_in()
        up = s.wait_for_server()
        s.git_pull()
        nb = s.notebook(f"lessons/{LESSON}")
        sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        return up, s.run(sources)

    try:
        with futures.ThreadPoolExecutor(len(class_)) as pool:
            results = list(pool.map(one, class_))
    except BaseException:
        sampler.stop.set()
        _explain(sampler)
        raise
    sampler.stop.set()
    expected = _expected(json.loads((REPO / LESSON).read_text()))
    assert expected, "lesson 02 has no check cells"
    for s, (up, outputs) in zip(class_, results):
        errors = [(i, o["error"]) for i, o in enumerate(outputs) if o["error"]]
        assert not errors, f"{s.name}: cells failed: {errors[:3]}"
        for i, stored in expected:
            assert outputs[i]["stdout"] == stored, f"{s.name}: check cell {i}: {outputs[i]['stdout']!r} != {stored!r}"
        print(f"hub-test: {s.name}: server up in {up:.0f} s; peak memory {sampler.peak[s.name] / 2**20:,.0f} MiB; "
              f"kernel websocket drops (reconnected, as JupyterLab does): {s.drops or 'none'}", flush=True)
    run_wall = time.perf_counter() - t0

    # no asset bytes in any home: every file of the store is read in place
    store_files = [p for p in store.rglob("*") if p.is_file()]
    sizes = {p.stat().st_size for p in store_files if p.stat().st_size > 0}
    store_digests = _digests_by_size(store, sizes)
    for s in class_:
        home = Path(pwd.getpwnam(s.name).pw_dir)
        assert (home / "lessons" / LESSON).is_file()
        copied = _digests_by_size(home, sizes) & store_digests
        assert not copied, f"{s.name}: {len(copied)} asset files copied into {home}"

    # student A cannot read student B's notebooks (from A's own kernel, as A)
    a, b = class_[0], class_[1]
    b_file = Path(pwd.getpwnam(b.name).pw_dir) / "lessons" / LESSON
    probe = a.run([f"try:\n    open({str(b_file)!r}).read()\n    print('READ')\n"
                   "except PermissionError:\n    print('DENIED')"])
    assert probe[0]["stdout"].strip() == "DENIED", probe

    # a teacher's update, pulled again, keeps a student's edited cell
    nb = a.notebook(f"lessons/{LESSON}")
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    first["source"] = "".join(first["source"]) + "\n# my own note, kept across updates\n"
    r = a.api("PUT", f"contents/lessons/{LESSON}", json={"type": "notebook", "format": "json", "content": nb})
    assert r.status_code == 200, r.text
    (lessons / "notebooks" / "NEWS.md").write_text("Lesson 03: a new exercise.\n")
    git = ("git", "-c", "user.name=Teacher", "-c", "user.email=teacher@example.org", "-C", str(lessons))
    _sh(*git, "add", "-A")
    _sh(*git, "commit", "-q", "-m", "teacher: news")
    (lessons / "notebooks" / "NEWS.md").chmod(0o644)
    for p in (lessons / ".git").rglob("*"):
        p.chmod(p.stat().st_mode | (0o555 if p.is_dir() else 0o444))
    a.git_pull()
    home_a = Path(pwd.getpwnam(a.name).pw_dir) / "lessons"
    assert (home_a / "notebooks" / "NEWS.md").read_text() == "Lesson 03: a new exercise.\n"
    assert "# my own note, kept across updates" in (home_a / LESSON).read_text()

    # idle servers are culled
    t_idle = time.perf_counter()
    waiting = set(s.name for s in class_)
    while waiting and time.perf_counter() - t_idle < CULL_TIMEOUT + 180:
        time.sleep(5)
        for s in class_:
            if s.name in waiting:
                user = requests.get(f"{hub}/hub/api/users/{s.name}", headers={"Authorization": f"token {s.token}"},
                                    timeout=60).json()
                if not user.get("servers"):
                    waiting.discard(s.name)
    assert not waiting, f"not culled {CULL_TIMEOUT + 180} s after the last activity: {sorted(waiting)}"
    print(f"hub-test: every idle server culled {time.perf_counter() - t_idle:.0f} s after the last activity "
          f"(cull timeout {CULL_TIMEOUT} s)")
    peaks = sorted(sampler.peak.values())
    print(f"hub-test: {len(class_)} students ran lesson 02 (fast mode) at once in {run_wall:.0f} s; peak memory "
          f"per student {peaks[0] / 2**20:,.0f}-{peaks[-1] / 2**20:,.0f} MiB; total wall time "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
