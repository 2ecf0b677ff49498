"""The notebooks of the lessons: made from the scripts (jupytext's percent format), executed
(nbclient), tidied and written beside them. `make notebooks` runs this in full mode, so the
committed notebooks show real outputs; the tests use the same functions in quick mode.

    python examples/_notebooks.py [--quick] [--only 01_seed_walkthrough ...]
"""

import argparse
import html
import os
import re
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
QUICK_VARIABLE = "TINYGRAD_EDU_QUICK"  # read by _common.parse_args
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMAGE_TYPES = ("image/png", "image/svg+xml")


def lessons():
    """Every lesson script, examples/[0-9][0-9]_*.py, in order."""
    return sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))


def notebook_of(script):
    """The notebook that jupytext reads from a lesson script (no outputs yet)."""
    import jupytext

    return jupytext.read(script, fmt="py:percent")


def kernel_environment(quick, single_thread=False):
    """The kernel's environment: this one, with quick mode on or off, and without a
    MPLBACKEND that a test run sets for scripts (a kernel chooses its own, inline)."""
    env = {name: value for name, value in os.environ.items() if name != "MPLBACKEND"}
    env.pop(QUICK_VARIABLE, None)
    if quick:
        env[QUICK_VARIABLE] = "1"
    if single_thread:  # two notebooks at once on two cores: one BLAS thread each
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def execute(notebook, quick, timeout=600, single_thread=False, allow_errors=False):
    """Run every cell of `notebook` in a fresh python3 kernel started in examples/, in
    place. A cell that raises stops the run with nbclient's CellExecutionError, or with
    allow_errors=True leaves an output of type "error" and the run goes on."""
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    client.execute(env=kernel_environment(quick, single_thread))
    return notebook


def outputs(notebook):
    """Every output of every code cell."""
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]


def error_outputs(notebook):
    """The outputs of type "error", as "ename: evalue" lines."""
    return [f"{output.ename}: {output.evalue}" for output in outputs(notebook) if output.output_type == "error"]


def images(notebook):
    """The MIME types of the images the notebook shows (figures, graph pictures)."""
    return [kind for output in outputs(notebook) for kind in output.get("data", {}) if kind in IMAGE_TYPES]


def cells(notebook):
    """(cell type, source) of every cell: what a script and its notebook must share."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def _progress_text(state, model_id):
    """The last state of a tqdm widget as text, "name: 100%|██████████| 300/300 [...]", or
    None for a widget that is not a progress bar."""
    children = [child.removeprefix("IPY_MODEL_") for child in state[model_id]["state"].get("children", [])]
    parts = [state.get(child, {}).get("state", {}) for child in children]
    if len(parts) != 3 or "max" not in parts[1]:
        return None
    left, bar, right = parts
    filled = round(10 * bar.get("value", 0) / (bar["max"] or 1))
    text = f"{left.get('value', '')}|{'█' * filled}{' ' * (10 - filled)}|{right.get('value', '')}"
    return re.sub(r"\s+", " ", html.unescape(text)).strip()  # tqdm writes &nbsp; and &lt; into the HTML


def _reachable(state, roots):
    """The widget models a view needs: the roots and every model they name, transitively."""
    needed, todo = set(), list(roots)
    while todo:
        model_id = todo.pop()
        if model_id in needed or model_id not in state:
            continue
        needed.add(model_id)
        todo.extend(re.findall(r"IPY_MODEL_(\w+)", repr(state[model_id]["state"])))
    return needed


def tidy(notebook):
    """Keep what a reader needs: each progress bar's text is its final state (a viewer
    without widgets, GitHub's, shows that), the widget state only of the bars shown and
    without its null (default) values, and no execution timestamps (they would change
    every file on every run)."""
    widgets = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    state = widgets.get("state", {})
    shown = []
    for output in outputs(notebook):
        view = output.get("data", {}).get(WIDGET_VIEW)
        if view is None or view.get("model_id") not in state:
            continue
        shown.append(view["model_id"])
        text = _progress_text(state, view["model_id"])
        if text is not None:
            output.data["text/plain"] = text
    if widgets:
        needed = _reachable(state, shown)
        for model in state.values():  # null is each of these traits' default: a viewer fills it in
            model["state"] = {key: value for key, value in model["state"].items() if value is not None}
        widgets["state"] = {model_id: model for model_id, model in state.items() if model_id in needed}
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    return notebook


def make(script, quick=False):
    """examples/NAME.ipynb from examples/NAME.py: converted, executed, tidied, written."""
    import nbformat

    notebook = tidy(execute(notebook_of(script), quick))
    path = script.with_suffix(".ipynb")
    nbformat.write(notebook, path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write and execute the lessons' notebooks.")
    parser.add_argument("--quick", action="store_true", help="execute in quick mode (not for committing)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these lessons, e.g. 01_seed_walkthrough")
    args = parser.parse_args(argv)
    scripts = [script for script in lessons() if not args.only or script.stem in args.only]
    for script in scripts:
        start = time.perf_counter()
        path = make(script, quick=args.quick)
        seconds = time.perf_counter() - start
        print(f"{path.relative_to(EXAMPLES.parent)}: {path.stat().st_size / 1024:.0f} KB, {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
