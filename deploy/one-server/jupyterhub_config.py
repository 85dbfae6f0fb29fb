"""JupyterHub for a class on one Linux server: the facelib lessons for every student.

Installed by ``deploy/one-server/install.sh`` as ``/opt/facelib-hub/jupyterhub_config.py`` and run by
systemd (``jupyterhub -f ...``, as root). What it sets up, the way The Littlest JupyterHub does:

- students sign up on the hub's own page and the teacher (``FACELIB_HUB_ADMIN``, default ``teacher``)
  authorises them at ``/hub/authorize`` (NativeAuthenticator: no Unix accounts, no outside service);
- each student's server runs in a systemd unit of its own (SystemdSpawner, a dynamic user whose home is
  ``/var/lib/private/<name>``) with the memory and CPU limits below; ``jupyter-resource-usage`` shows the
  student their memory against that limit in JupyterLab's status bar;
- an idle server is stopped after an hour (jupyterhub-idle-culler); its files stay;
- the lessons are handed out and updated with an nbgitpuller link (README: "a class on a server");
- assignments go through nbgrader's exchange (``/srv/nbgrader/exchange``, deploy/nbgrader/README.md): a
  student can submit but cannot read a classmate's submission; the teacher's server runs as the teacher's
  own Unix user, in the ``facelib-teachers`` group that may collect;
- the weights and data are read from one shared, read-only store (``FACELIB_ASSETS``, installed once by
  ``facelib fetch --all --to /opt/facelib-assets``): nothing is copied per student.

Every value can be changed without editing this file, through an environment variable of the hub's
service (``FACELIB_HUB_*``, below); ``make hub-test`` uses them to run this very file on localhost with
Unix users (LocalProcessSpawner: a test container has no systemd) and a short cull timeout.

Limits per student (from measurement, issues 24 and 25): every lesson run top to bottom in fast mode peaks
under 1.2 GiB once issue 24's fixes are in (bench/classroom.py prints each lesson's "peak MiB"; before them
lessons 05-07 peaked at 1.6-2.0 GiB and lesson 01 at 6.2 GiB); ``import tensorflow`` alone is ~0.6 GiB.
So a student is *guaranteed* 1.2 GiB (the lesson target) and *limited* to 2 GiB: the largest lesson, the
Jupyter server (~0.1 GiB) and a second kernel left open, before the kernel is killed (not the server).
CPU: 2 cores at most per student (TensorFlow's pools sized to match through FACELIB_THREADS, so one
student's style transfer cannot take every core), half a core guaranteed.
"""

import os
import sys

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file


def env(name: str, default: str) -> str:
    """``FACELIB_HUB_<name>`` from the hub's environment, else ``default``."""
    return os.environ.get(f"FACELIB_HUB_{name}", default)


PREFIX = env("PREFIX", sys.prefix)                       # the hub's venv: jupyterhub, facelib, the lessons' packages
ASSETS = env("ASSETS", "/opt/facelib-assets")            # the shared, read-only store
MEM_LIMIT = env("MEM_LIMIT", "2G")                       # hard limit per student (see the docstring)
MEM_GUARANTEE = env("MEM_GUARANTEE", "1200M")            # the lesson target: 1.2 GiB
CPU_LIMIT = float(env("CPU_LIMIT", "2"))                 # cores per student
THREADS = env("THREADS", str(max(1, int(CPU_LIMIT))))    # TensorFlow's intra-op pool per student
CULL_TIMEOUT = int(env("CULL_TIMEOUT", "3600"))          # seconds idle before a server is stopped
CULL_EVERY = int(env("CULL_EVERY", str(max(5, CULL_TIMEOUT // 6))))
EXCHANGE = env("EXCHANGE", "/srv/nbgrader/exchange")     # nbgrader's exchange (deploy/nbgrader/README.md)

# --- the hub and its proxy ----------------------------------------------------------------------------
# Students reach the hub through HTTPS (lesson 10's camera needs a secure context): either a reverse proxy
# in front (Caddy, nginx; README), or JupyterHub's own TLS with FACELIB_HUB_SSL_CERT / FACELIB_HUB_SSL_KEY.
c.JupyterHub.bind_url = env("BIND_URL", "http://127.0.0.1:8000")
if env("SSL_CERT", ""):
    c.JupyterHub.ssl_cert = env("SSL_CERT", "")
    c.JupyterHub.ssl_key = env("SSL_KEY", "")
c.JupyterHub.hub_bind_url = env("HUB_BIND_URL", "http://127.0.0.1:8081")
c.JupyterHub.db_url = env("DB_URL", "sqlite:////opt/facelib-hub/state/jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = env("COOKIE_SECRET", "/opt/facelib-hub/state/jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = env("PROXY_PID", "/opt/facelib-hub/state/jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.command = [env("PROXY", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.api_url = env("PROXY_API_URL", "http://127.0.0.1:8001")
c.JupyterHub.last_activity_interval = min(300, max(5, CULL_TIMEOUT // 6))

# --- who may log in -----------------------------------------------------------------------------------
ADMIN = env("ADMIN", "teacher")
c.JupyterHub.authenticator_class = env("AUTH", "native")
c.Authenticator.admin_users = {ADMIN}
c.Authenticator.allow_all = True                # whoever the authenticator accepts (native: the authorised)
c.NativeAuthenticator.open_signup = env("OPEN_SIGNUP", "0") == "1"   # 0: the teacher authorises each student
c.NativeAuthenticator.minimum_password_length = 8
c.NativeAuthenticator.check_common_password = True
c.NativeAuthenticator.allowed_failed_logins = 5
c.NativeAuthenticator.seconds_before_next_try = 60

# --- each student's server ----------------------------------------------------------------------------
c.JupyterHub.spawner_class = env("SPAWNER", "systemdspawner")
c.Spawner.cmd = [os.path.join(PREFIX, "bin", "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.mem_limit = MEM_LIMIT
c.Spawner.mem_guarantee = MEM_GUARANTEE
c.Spawner.cpu_limit = CPU_LIMIT
c.Spawner.cpu_guarantee = 0.5
c.Spawner.start_timeout = int(env("START_TIMEOUT", "120"))
c.Spawner.http_timeout = int(env("START_TIMEOUT", "120"))
c.Spawner.environment = {
    "FACELIB_ASSETS": ASSETS,                     # weights and data read in place
    "FACELIB_HOME": lambda spawner: f"{_student_home(spawner)}/.cache/facelib",  # the student's own caches
    "FACELIB_THREADS": THREADS,
    "NBGRADER_EXCHANGE": EXCHANGE,                # read by /etc/jupyter/nbgrader_config.py
    "OMP_NUM_THREADS": THREADS,
    "FACELIB_OFFLINE": env("OFFLINE", "1"),       # everything is in the store: no download per student
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "JUPYTERHUB_ACTIVITY_INTERVAL": str(min(300, max(5, CULL_TIMEOUT // 6))),
}  # JupyterHub adds MEM_LIMIT and CPU_LIMIT, which jupyter-resource-usage shows in the status bar
for key, value in os.environ.items():              # e.g. FACELIB_HUB_ENV_PYTHONPATH=/srv/facelib
    if key.startswith("FACELIB_HUB_ENV_"):
        c.Spawner.environment[key[len("FACELIB_HUB_ENV_"):]] = value


def _student_home(spawner) -> str:
    """The student's home as their spawner makes it."""
    import pwd

    if spawner.__class__.__name__ == "SystemdSpawner" and spawner.dynamic_users:
        return f"/var/lib/private/{spawner.user.name}"
    return pwd.getpwnam(spawner.user.name).pw_dir


# SystemdSpawner: one unit per student, a dynamic user with a persistent private home, limits enforced by
# the kernel's cgroups (MemoryMax, CPUQuota).
c.SystemdSpawner.dynamic_users = True
c.SystemdSpawner.unit_name_template = "jupyter-{USERNAME}"
c.SystemdSpawner.isolate_tmp = True
c.SystemdSpawner.isolate_devices = True
c.SystemdSpawner.disable_user_sudo = True
c.SystemdSpawner.readonly_paths = [ASSETS]
c.SystemdSpawner.readwrite_paths = [EXCHANGE]


def _teacher_as_their_unix_user(spawner) -> None:
    """The teachers (the hub's admins) run as their own Unix users, members of ``facelib-teachers``: the one
    group that may read the students' submissions in the exchange (a dynamic user is in no group)."""
    if spawner.__class__.__name__ == "SystemdSpawner" and spawner.user.admin:
        spawner.dynamic_users = False


c.Spawner.pre_spawn_hook = _teacher_as_their_unix_user

# --- stop idle servers --------------------------------------------------------------------------------
c.JupyterHub.load_roles = [{
    "name": "jupyterhub-idle-culler-role",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["jupyterhub-idle-culler-service"],
}]
c.JupyterHub.services = [{
    "name": "jupyterhub-idle-culler-service",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={CULL_TIMEOUT}",
                f"--cull-every={CULL_EVERY}"],
}]
