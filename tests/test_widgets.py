"""Widgets fall back to one static call when not interactive, and build real controls otherwise."""

import ipywidgets

from facelib import config, widgets


def test_static_mode_calls_once_with_defaults(monkeypatch):
    monkeypatch.setattr(config, "settings", config.Settings.from_env({"FACELIB_INTERACTIVE": "0"}))
    calls = []
    result = widgets.interact(lambda tau, layer: calls.append((tau, layer)) or "drawn",
                              tau=widgets.slider(0.7, 0.0, 2.0, 0.05, "τ"),
                              layer=widgets.dropdown(["block1_conv1", "block5_conv1"], "block5_conv1", "layer"))
    assert result == "drawn" and calls == [(0.7, "block5_conv1")]


def test_interactive_mode_reruns_when_a_control_moves(monkeypatch):
    monkeypatch.setattr(config, "settings", config.Settings.from_env({"FACELIB_INTERACTIVE": "1"}))
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    calls = []
    control = widgets.slider(3, 1, 10, 1, "steps")
    assert isinstance(control, ipywidgets.IntSlider)
    widgets.interact(lambda steps: calls.append(steps), steps=control)
    assert isinstance(shown[0], ipywidgets.interactive)
    control.value = 7
    assert calls[0] == 3 and calls[-1] == 7


def test_fast_mode_is_static_by_default():
    assert config.Settings.from_env({"FACELIB_FAST": "1"}).interactive is False
    assert config.Settings.from_env({}).interactive is True
