"""Controls for playing with a lesson: sliders that redraw a plot, with a static fallback.

:func:`interact` shows ipywidgets controls while a student studies in JupyterLab, in fast mode
too (``FACELIB_FAST=1`` is the README's tip for a slow laptop, not a switch to static plots). Only
automated runs draw the static view: CI (``CI=true``), nbval/pytest, ``facelib classroom`` /
``make demo`` and ``tools/nbstore.py`` (``FACELIB_INTERACTIVE=0``); it then calls the function once
with every control's default value, so the executed notebook still shows the picture. The rule
lives in :attr:`facelib.config.Settings.interactive`.

A function under a slider draws on :func:`subplots` and shows with :func:`show`, not with pyplot:
JupyterLab sends some widget messages to a kernel *subshell* (another thread), and each one
flushes pyplot's open figures. A pyplot figure still being drawn by the slider's redraw can
then be rendered by two threads at once, and one of them gets a blank (transparent) picture.
A figure of its own, outside pyplot's list, is drawn by its callback only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from facelib import config

__all__ = ["dropdown", "interact", "show", "slider", "subplots"]


def slider(value: float, low: float, high: float, step: float, description: str) -> Any:
    """A float (or int, when all numbers are ints) slider with a default ``value``."""
    import ipywidgets as w

    if all(isinstance(v, int) for v in (value, low, high, step)):
        return w.IntSlider(value=value, min=low, max=high, step=step, description=description,
                           continuous_update=False)
    return w.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                         continuous_update=False, readout_format=".2f")


def dropdown(options: list, value: Any, description: str) -> Any:
    """A drop-down list of ``options`` with a default ``value``."""
    import ipywidgets as w

    return w.Dropdown(options=options, value=value, description=description)


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
             **kwargs: Any) -> tuple[Any, Any]:
    """``plt.subplots`` for a slider's redraw: ``(figure, axes)`` kept out of pyplot's open figures.

    ``kwargs`` go to :meth:`matplotlib.figure.Figure.subplots` (``squeeze``, ``sharex``, …).
    Show the figure with :func:`show`.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def show(fig: Any) -> None:
    """Show a figure from :func:`subplots` in the cell (or the slider's output), as ``plt.show()`` would."""
    from IPython.display import display

    display(fig)


def interact(fn: Callable[..., Any], /, **controls: Any) -> Any:
    """Call ``fn(**values)`` under ``controls`` (widgets from :func:`slider`/:func:`dropdown`).

    Interactive: returns the ipywidgets ``interactive`` object (displayed by Jupyter), and ``fn``
    reruns whenever a control moves. Static (``FACELIB_INTERACTIVE=0``, CI, nbval): calls
    ``fn`` once with the controls' default values and returns its result. ``fn`` draws on
    :func:`subplots` and ends with :func:`show` (see the module's docstring for why).
    """
    if not config.settings.interactive:
        return fn(**{name: control.value for name, control in controls.items()})
    import ipywidgets as w
    from IPython.display import display

    ui = w.interactive(fn, **controls)
    display(ui)
    return None
