"""Every lesson is also a notebook (examples/NN_name.ipynb, made by `make notebooks` from
examples/NN_name.py): the notebook's cells are its script's, and it runs top to bottom in
a fresh kernel (quick mode, TINYGRAD_EDU_QUICK=1) with no error, shows at least one
figure (lesson 6: a graph picture), keeps its progress bars as widgets, and ends with
exercises that, not yet done, say what to do and raise nothing."""

import re
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

import _notebooks  # noqa: E402  (examples/ is on the path only now)

nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbclient and nbformat")
pytest.importorskip("jupytext", reason="the examples extra installs jupytext")

LESSONS = [script.stem for script in _notebooks.lessons()]
GRAPH_LESSONS = {"06_computational_graph"}  # their figures are graph pictures: they need dot


def committed(name):
    path = EXAMPLES / f"{name}.ipynb"
    assert path.is_file(), f"{path.name} is missing: run `make notebooks` to write it from {name}.py"
    return nbformat.read(path, as_version=4)


def text_of(notebook, stream="stdout"):
    return "".join(
        output.text for output in _notebooks.outputs(notebook) if output.get("name") == stream and "text" in output
    )


def test_every_lesson_is_found():
    assert LESSONS[:7] == [
        "01_seed_walkthrough",
        "02_logistic_regression",
        "03_nonlinear_regions",
        "04_softmax_multiclass",
        "05_loss_functions",
        "06_computational_graph",
        "07_gradient_checking",
    ], LESSONS


@pytest.mark.parametrize("name", LESSONS)
def test_the_notebook_s_cells_are_its_script_s(name):
    notebook = committed(name)
    script = _notebooks.notebook_of(EXAMPLES / f"{name}.py")

    assert _notebooks.cells(notebook) == _notebooks.cells(script), (
        f"{name}.ipynb differs from {name}.py: run `make notebooks` after changing the script"
    )


@pytest.mark.parametrize("name", LESSONS)
def test_the_committed_notebook_shows_real_outputs(name):
    notebook = committed(name)

    assert not _notebooks.error_outputs(notebook), f"{name}.ipynb was committed with errors"
    assert _notebooks.images(notebook), f"{name}.ipynb shows no figure: was it executed (`make notebooks`)?"
    assert "to do:" in text_of(notebook), f"{name}.ipynb does not show its exercises' instructions"


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSONS)
def test_the_notebook_runs_top_to_bottom(name, request):
    """One run per notebook (a kernel start and a lesson each), every check on its outputs."""
    if name in GRAPH_LESSONS:
        request.getfixturevalue("dot")  # its pictures need graphviz's dot
    notebook = committed(name)

    _notebooks.execute(notebook, quick=True, timeout=300, single_thread=True, allow_errors=True)

    errors = _notebooks.error_outputs(notebook)
    assert not errors, f"{name}.ipynb raised: {errors}"
    images = _notebooks.images(notebook)
    if name in GRAPH_LESSONS:
        assert "image/svg+xml" in images, f"{name}.ipynb shows no graph picture: {images}"
    else:
        assert "image/png" in images, f"{name}.ipynb shows no figure: {images}"
    assert_exercises_say_what_to_do(name, text_of(notebook))
    assert_progress_bars_stay_and_show_the_loss(_notebooks.tidy(notebook))


def assert_exercises_say_what_to_do(name, output):
    source = (EXAMPLES / f"{name}.py").read_text(encoding="utf-8")
    exercises = re.findall(r"^def (exercise_\w+)\(", source, re.MULTILINE)
    assert 2 <= len(exercises) <= 3, f"{name} should end with two or three exercises, has {exercises}"
    to_do = re.findall(r"^exercise .*: to do: ", output, re.MULTILINE)
    assert len(to_do) == len(exercises), f"each exercise not yet done says what to do:\n{output[-2000:]}"


def assert_progress_bars_stay_and_show_the_loss(notebook):
    """Every progress bar is a widget (tqdm.auto in a kernel), not text on stderr, and its
    final state shows 100% and the loss."""
    state = notebook.metadata.get("widgets", {}).get(_notebooks.WIDGET_STATE, {}).get("state", {})
    views = [output for output in _notebooks.outputs(notebook) if _notebooks.WIDGET_VIEW in output.get("data", {})]
    bars = [
        output.data["text/plain"]
        for output in views
        if _notebooks._progress_text(state, output.data[_notebooks.WIDGET_VIEW]["model_id"]) is not None
    ]  # other widgets (lesson 6's step_through) are not progress bars
    assert all(re.search(r"100%.*loss=", bar) for bar in bars), bars
    assert "it/s" not in text_of(notebook, "stderr"), "a progress bar fell back to text: is ipywidgets installed?"


def test_tidy_keeps_the_final_bar_and_only_the_widget_state_shown():
    def model(name, **state):
        return {"model_name": name, "model_module": "@jupyter-widgets/controls", "state": state}

    state = {
        "box": model("HBoxModel", children=["IPY_MODEL_left", "IPY_MODEL_bar", "IPY_MODEL_right"]),
        "left": model("HTMLModel", value="training:&nbsp;100%"),
        "bar": model("FloatProgressModel", value=300, max=300, layout="IPY_MODEL_layout"),
        "right": model("HTMLModel", value=" 300/300 [00:01&lt;00:00, loss=0.0123]"),
        "layout": model("LayoutModel"),
        "orphan": model("LayoutModel"),
    }
    view = {"model_id": "box", "version_major": 2, "version_minor": 0}
    output = nbformat.v4.new_output("display_data", data={_notebooks.WIDGET_VIEW: view, "text/plain": "0%|"})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("bar()", outputs=[output])])
    notebook.metadata["widgets"] = {_notebooks.WIDGET_STATE: {"state": state, "version_major": 2}}
    notebook.cells[0].metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00"}

    _notebooks.tidy(notebook)

    final = "training: 100%|██████████| 300/300 [00:01<00:00, loss=0.0123]"
    assert notebook.cells[0].outputs[0].data["text/plain"] == final, "a viewer without widgets shows the final bar"
    kept = set(notebook.metadata["widgets"][_notebooks.WIDGET_STATE]["state"])
    assert kept == {"box", "left", "bar", "right", "layout"}, "the state of a widget no output shows is dropped"
    assert "execution" not in notebook.cells[0].metadata, "timestamps would change every file on every run"
