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


def test_fast_mode_keeps_widgets_for_a_person_only_automated_runs_are_static():
    settings = config.Settings.from_env
    assert settings({"FACELIB_FAST": "1"}).interactive is True  # a student on a slow laptop
    assert settings({}).interactive is True
    assert settings({"FACELIB_FAST": "1", "CI": "true"}).interactive is False
    assert settings({"PYTEST_CURRENT_TEST": "nb.ipynb::Cell 3 (call)"}).interactive is False  # nbval's kernels
    assert settings({"CI": "false"}).interactive is True
    assert settings({"CI": "true", "FACELIB_INTERACTIVE": "1"}).interactive is True  # explicit choice wins
    assert settings({"FACELIB_INTERACTIVE": "0"}).interactive is False


def test_nbval_kernels_see_the_automated_run(tmp_path):
    """A kernel started under pytest (as nbval starts them) gets PYTEST_CURRENT_TEST, so it is static."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from facelib import config; print(config.settings.interactive)")]
    NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert nb.cells[0].outputs[0]["text"] == "False\n"


def test_a_sliders_figure_is_kept_out_of_pyplots_open_figures(monkeypatch):
    """What a kernel subshell does on each widget message (matplotlib-inline's flush of pyplot's open
    figures) cannot draw a slider's figure while its callback is still drawing it: it is not in the list."""
    import matplotlib.pyplot as plt

    before = plt.get_backend()
    plt.switch_backend("module://matplotlib_inline.backend_inline")
    try:
        _check_kept_out(monkeypatch, plt)
    finally:
        plt.switch_backend(before)


def _check_kept_out(monkeypatch, plt) -> None:
    import numpy as np
    from IPython.core.pylabtools import print_figure
    from matplotlib_inline import backend_inline

    plt.close("all")
    fig, ax = widgets.subplots(figsize=(3.5, 3.8))
    ax.imshow(np.random.default_rng(0).random((8, 8, 3)))
    ax.set_title("a slider's picture")
    shown = []
    monkeypatch.setattr(backend_inline, "display", lambda obj, **kw: shown.append(obj))
    backend_inline.show._draw_called = True  # another thread's flush, as a subshell runs it
    backend_inline.flush_figures()
    assert shown == [] and plt.get_fignums() == []
    picture = print_figure(fig, "png")  # what widgets.show(fig) sends: a real picture
    from io import BytesIO

    from PIL import Image

    assert np.asarray(Image.open(BytesIO(picture)))[..., :3].std() > 5
    sent = []
    monkeypatch.setattr("IPython.display.display", lambda obj: sent.append(obj))
    widgets.show(fig)
    assert sent == [fig]


def test_subplots_takes_plt_subplots_arguments():
    fig, axes = widgets.subplots(2, 3, figsize=(6, 4), sharex=True)
    assert axes.shape == (2, 3) and tuple(fig.get_size_inches()) == (6, 4)
