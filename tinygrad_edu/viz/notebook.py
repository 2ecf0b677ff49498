"""What the pictures that move need from where they run: whether that is a notebook, and
the extras (matplotlib, ipywidgets) that they import when called, never on import."""

import importlib
import sys

EXTRA_HINT = 'pip install "tinygrad_edu[examples]" (the examples extra brings matplotlib and ipywidgets)'


def in_notebook():
    """True inside a Jupyter kernel (IPython with a kernel attached), False in a script or
    a terminal IPython."""
    ipython = sys.modules.get("IPython")  # never imported here: a script does not need it
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def require(module, who):
    """Import `module` for `who` (e.g. "tg.viz.step_through"); where it is missing, a
    RuntimeError that names the package and the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise RuntimeError(f"{who} needs {package}, which is not installed: {EXTRA_HINT}") from None
