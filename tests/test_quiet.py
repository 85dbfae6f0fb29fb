"""TensorFlow's C++ start-up lines stay out of lessons, the CLI and the kernels.

The reference case (plain ``import tensorflow`` with no environment set) must print them, so the
silent cases prove that facelib and the kernel spec silence them, not that TensorFlow got quiet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import REPO

from facelib._quiet import QUIET_ENV, quiet_environment

# an op forces the runtime (and its CPU-feature notice) to load
TF_SNIPPET = "import tensorflow as tf; print(float(tf.reduce_sum(tf.ones(3))))"


def _loud_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in QUIET_ENV and k != "PYTEST_CURRENT_TEST"}
    env["PYTHONPATH"] = str(REPO)
    return env


def test_quiet_environment_sets_defaults_but_keeps_a_users_choice():
    env = quiet_environment({"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "0"
    assert quiet_environment({})["TF_CPP_MIN_LOG_LEVEL"] == "2"


def test_import_facelib_first_silences_tensorflow_and_the_cli(tmp_path):
    """Two Python processes (TensorFlow loads once in each): the loud reference, and facelib then the CLI."""
    env = _loud_env()
    env["FACELIB_HOME"] = str(tmp_path / "home")  # doctor lists the assets as missing instead of hashing 0.5 GB
    then_cli = "; import sys; from facelib.cli import main; print('--- cli'); sys.exit(main(['doctor']))"
    runs = {
        "bare": subprocess.Popen([sys.executable, "-c", TF_SNIPPET], env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE),
        "facelib": subprocess.Popen([sys.executable, "-c", "import facelib; " + TF_SNIPPET + then_cli], env=env,
                                    text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE),
    }
    out = {name: proc.communicate(timeout=300) for name, proc in runs.items()}
    assert all(proc.returncode == 0 for proc in runs.values()), out
    assert "cpu_feature_guard" in out["bare"][1] or "absl::InitializeLog" in out["bare"][1], \
        f"reference case printed nothing on stderr, the test would prove nothing: {out['bare']!r}"
    first, cli = out["facelib"][0].split("--- cli\n")
    assert (first, out["facelib"][1]) == ("3.0\n", ""), out["facelib"]
    assert "tensorflow" in cli.lower() and "missing" in cli, cli


def test_kernel_spec_silences_a_lesson_that_imports_tensorflow_first():
    """The venv's ``python3`` kernel spec (tools/labsetup.py, run by the Makefile) carries QUIET_ENV."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.env.get("TF_CPP_MIN_LOG_LEVEL") == QUIET_ENV["TF_CPP_MIN_LOG_LEVEL"], \
        f"kernel spec {spec.resource_dir} lacks the quiet env: run `make venv` (tools/labsetup.py)"
    km, kc = start_new_kernel(kernel_name="python3", env=_loud_env())
    try:
        streams: dict[str, str] = {"stdout": "", "stderr": ""}
        msg_id = kc.execute(TF_SNIPPET)
        while True:
            msg = kc.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                streams[msg["content"]["name"]] += msg["content"]["text"]
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert streams == {"stdout": "3.0\n", "stderr": ""}, json.dumps(streams)


def test_the_start_up_filter_drops_abseils_notice_and_info_but_keeps_errors():
    """Hand-made stderr of a TensorFlow import on a CPU with oneDNN's custom operations on."""
    from facelib._quiet import filter_startup_lines

    notice = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    info = "I0000 00:00:1796194407.740279    4896 port.cc:153] oneDNN custom operations are on.\n"
    warn = "W0000 00:00:1796194407.740279    4896 cpu_feature_guard.cc:10] something to know\n"
    error = "E0000 00:00:1796194407.740279    4896 cuda_dnn.cc:8] Unable to register cuDNN factory\n"
    other = "Traceback (most recent call last):\n"
    text = notice + info + warn + error + other
    assert filter_startup_lines(text, 2) == error + other
    assert filter_startup_lines(text, 1) == warn + error + other
    assert filter_startup_lines(text, 3) == other
    assert filter_startup_lines(text, 0) == text  # the user asked for everything
    assert filter_startup_lines("I like this line\n", 2) == "I like this line\n"  # not abseil's format


def test_a_failing_tensorflow_import_still_shows_its_error(tmp_path):
    """The filtered import of a broken ``tensorflow`` package: its stderr and the ImportError get through."""
    fake = tmp_path / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "import os\n"
        "os.write(2, b'I0000 00:00:17.5    1 port.cc:1] hidden\\nE0000 00:00:17.5    1 port.cc:2] shown\\n')\n"
        "raise ImportError('libtensorflow_framework.so.2: cannot open shared object file')\n")
    env = _loud_env()
    env["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{REPO}"
    out = subprocess.run([sys.executable, "-c", "import facelib, tensorflow"], env=env, text=True,
                         capture_output=True, timeout=120)
    assert out.returncode == 1 and "hidden" not in out.stderr
    assert "E0000 00:00:17.5    1 port.cc:2] shown" in out.stderr and "cannot open shared object" in out.stderr
