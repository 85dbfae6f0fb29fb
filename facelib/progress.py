"""Progress bars that leave a clean notebook: one helper for every loop of the package.

``tqdm.auto`` shows an ipywidgets bar in a notebook; a finished bar with ``leave=False`` closes
its widget but leaves the widget's output in the cell, which JupyterLab then shows as "Error
displaying widget: model not found" (live, and on every re-opened notebook; ``leave=True`` bars
do the same on re-open, as their model is gone with the kernel). :func:`tqdm` here shows the
same widget bar while it runs and, when it closes, replaces its output with plain text: the
bar's final line (``leave=True``, or a bar stopped early) or nothing (``leave=False``).
Inside an ipywidgets ``Output`` capture (e.g. the plot of a slider, :func:`facelib.widgets.interact`)
a widget bar could not be replaced (the Output widget ignores display updates), so there it is
tqdm's text bar on stdout, which JupyterLab redraws in place (``\r``) and which leaves text only.
Outside a notebook it is tqdm's usual text bar on stderr.

    from facelib.progress import tqdm
    for batch in tqdm(batches, desc="encoding", unit="batch", leave=False): ...

``disable`` defaults to ``not config.settings.progress`` (``FACELIB_PROGRESS``; off in fast mode).
"""

from __future__ import annotations

from typing import Any

from tqdm.std import tqdm as _text_tqdm

from facelib import config

__all__ = ["in_notebook", "tqdm"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel that can show ipywidgets (where tqdm.auto picks widgets)."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None or "IPKernelApp" not in getattr(shell, "config", {}):
            return False
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def _capturing_output_widget() -> bool:
    """True while an ipywidgets ``Output`` widget captures this kernel's output (``with out:``)."""
    try:
        from ipywidgets import Output
        from ipywidgets.widgets.widget import _instances
    except ImportError:
        return False
    return any(isinstance(w, Output) and w.msg_id for w in list(_instances.values()))


def _notebook_class() -> type:
    from IPython.display import display
    from tqdm.notebook import tqdm as notebook_tqdm

    class CleanNotebookBar(notebook_tqdm):
        """tqdm's widget bar, displayed under a handle that closing turns into plain text."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("delay", None)  # shown at once: a delayed display would escape the handle
            kwargs["display"] = False
            self._handle = None
            super().__init__(*args, **kwargs)
            if not self.disable:
                self._handle = display(self.container, display_id=True)

        def close(self) -> None:
            handle, self._handle = getattr(self, "_handle", None), None
            stopped = bool(self.total) and self.n < self.total
            super().close()
            if handle is None:
                return
            text = str(self) if (self.leave or stopped) else ""
            handle.update({"text/plain": text}, raw=True)
            self.container.close()  # the widget model goes too: nothing left to be "not found"

    return CleanNotebookBar


def tqdm(*args: Any, disable: bool | None = None, **kwargs: Any) -> Any:
    """``tqdm.tqdm(*args, **kwargs)`` that leaves clean notebook output (see the module doc)."""
    if disable is None:
        disable = not config.settings.progress
    if not in_notebook():
        return _text_tqdm(*args, disable=disable, **kwargs)
    if _capturing_output_widget():
        import sys

        kwargs.setdefault("file", sys.stdout)  # stderr would paint the plot's output red
        return _text_tqdm(*args, disable=disable, **kwargs)
    return _notebook_class()(*args, disable=disable, **kwargs)
