from pathlib import Path

from facelib import config


def test_defaults_when_nothing_is_set():
    s = config.Settings.from_env({})
    assert s.home == Path.home() / ".cache" / "facelib"
    assert s.mirror is None and s.fast is False and s.offline is False
    assert s.progress is True


def test_flags_and_paths(tmp_path):
    s = config.Settings.from_env({"FACELIB_HOME": str(tmp_path), "FACELIB_MIRROR": str(tmp_path / "m"),
                                  "FACELIB_FAST": "1", "FACELIB_OFFLINE": "yes"})
    assert s.home == tmp_path
    assert s.mirror == (tmp_path / "m").resolve()
    assert s.fast and s.offline
    assert s.progress is False  # fast mode hides progress bars unless asked for
    assert config.Settings.from_env({"FACELIB_FAST": "1", "FACELIB_PROGRESS": "1"}).progress is True
    assert config.Settings.from_env({"FACELIB_FAST": "0"}).fast is False


def test_pick_follows_fast_mode(monkeypatch):
    monkeypatch.setenv("FACELIB_FAST", "1")
    config.reload()
    assert config.FAST is True and config.pick(2, 30) == 2
    monkeypatch.setenv("FACELIB_FAST", "0")
    config.reload()
    assert config.FAST is False and config.pick(2, 30) == 30
