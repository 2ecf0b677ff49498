"""What every lesson shares: its options, quick mode, labelled results, figures, progress
bars and the checks of its exercises.

How a lesson is written (examples/NN_name.py; `make notebooks` and the tests take every
examples/[0-9][0-9]_*.py, so a new lesson only has to follow this):

- **One source, two forms.** The lesson is a Python script in jupytext's percent format,
  and examples/NN_name.ipynb is made from it by `make notebooks` (examples/_notebooks.py),
  never edited by hand; a test checks that the notebook's cells are the script's. In order:
    1. the jupytext header (`formats: ipynb,py:percent`, kernelspec python3), copied
       from another lesson;
    2. a markdown cell (`# %% [markdown]`): "# Lesson N: title", what it teaches, and
       how to run it as a script;
    3. a code cell (`# %%`): a one-line docstring and the imports, helpers from here
       (`from _common import ...`);
    4. for each idea, a markdown cell with its maths, then a code cell that defines it as
       a function (nothing runs on import: the tests and the demo import the lesson);
    5. `main(argv=None) -> dict`: parse_args, run the ideas, return the results;
    6. "## Run the lesson", then the cell `if __name__ == "__main__": main()` (a notebook
       runs it too: `__name__` is "__main__" in a kernel);
    7. "## Exercises": two or three, each a markdown cell saying what to do, then one
       code cell holding, in this order, the learner's stub (a function that returns
       None, or a name bound to None), its check `exercise_<stub name>(answer) -> bool`,
       and `if __name__ == "__main__": exercise_<stub name>(<stub name>)`.
- **Quick mode** is `--quick` on the command line or TINYGRAD_EDU_QUICK=1 in the
  environment (how a notebook gets it: the tests execute every notebook so); `args.quick`
  says which, and a quick lesson runs in at most 20 s on 2 cores. In a notebook the
  kernel's own arguments (-f kernel.json) are ignored: parse_args reads only its options.
- **Results** are labelled lines, `say(label, value)`, and main's returned dict.
- **Figures:** `figure(...)`, then `save_figure(fig, args.out, name)`: a PNG at 120 dpi
  in out/, shown inline in a notebook. Every axis has a label, every title says what is
  shown, points coloured by class have a legend (`scatter_classes`). Nothing here or in a
  lesson chooses matplotlib's backend: without a display it falls back to Agg by itself.
- **Progress bars:** `progress(range(epochs), "model on data")` is tqdm.auto (a widget
  in a notebook, which stays; a terminal bar in a script, which clears); show the loss
  with `bar.set_postfix(loss=f"{loss:.4g}", refresh=False)`.
- **Exercises:** an answer not yet written (None) prints what to do and raises nothing,
  so a notebook runs top to bottom as shipped; a wrong answer prints what differs and
  returns False; a right one prints so and returns True. `check_derivation` (through
  tg.handcheck) and `check_prediction` do this for the two common kinds. The solutions
  are examples/solutions/NN_name.py, which define each stub's name; the tests call
  `lesson.exercise_<name>(solution.<name>)` and expect True.
"""

import argparse
import importlib.util
import io
import math
import os
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
ROOT = EXAMPLES.parent

# Lessons run from a checkout too, without `pip install -e .`.
if importlib.util.find_spec("tinygrad_edu") is None:
    sys.path.insert(0, str(ROOT))

import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

import tinygrad_edu as tg

DPI = 120  # sharp enough for a slide, small enough to commit
QUICK_VARIABLE = "TINYGRAD_EDU_QUICK"


def in_notebook():
    """True inside a Jupyter kernel (IPython with a kernel attached), False in a script."""
    ipython = sys.modules.get("IPython")  # never imported here: a script does not need it
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def quick_from_environment():
    """True where TINYGRAD_EDU_QUICK is set to 1 (or true, yes, on)."""
    return os.environ.get(QUICK_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def parse_args(description, argv=None, device=False):
    """The lesson's options: --quick (smaller runs, for tests and the demo; also
    TINYGRAD_EDU_QUICK=1), --out DIR (where figures go, default out/), and --device
    cpu|cuda where the lesson supports it. In a notebook, argv=None reads the kernel's
    command line, whose arguments are not the lesson's: those are ignored."""
    summary = (description or "").strip().splitlines()
    parser = argparse.ArgumentParser(description=summary[0] if summary else None, allow_abbrev=False)
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer epochs (a few seconds)")
    parser.add_argument("--out", default="out", help="folder for the figures (default: out/)")
    if device:
        parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where the tensors live")
    if argv is None and in_notebook():
        args, _kernel_arguments = parser.parse_known_args()
    else:
        args = parser.parse_args(argv)
    args.quick = args.quick or quick_from_environment()
    args.out = Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def say(label, value):
    """Print one result as `label: value`, so that a reader (and a test) can find it."""
    print(f"{label}: {value}", flush=True)


def figure(nrows=1, ncols=1, width=4.5, height=3.6):
    """A matplotlib figure with a grid of axes (one Axes when 1×1, a row of them when 1×n)."""
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows))


def show(picture):
    """Show `picture` (anything Jupyter displays: a graphviz.Digraph, an image) inline when
    in a notebook; do nothing in a script."""
    if in_notebook():
        from IPython.display import display

        display(picture)


def show_file(path):
    """Show a PNG or SVG file inline when in a notebook; do nothing in a script."""
    if in_notebook():
        from IPython.display import SVG, Image

        path = Path(path)
        show(SVG(filename=str(path)) if path.suffix == ".svg" else Image(filename=str(path)))


def render_graph(label, root, path, **draw_kwargs):
    """Draw root's graph to `path` (tg.viz.render), print `label: path` and show it in a
    notebook; without graphviz's dot, one line says so and the lesson goes on. Returns
    the path, or None."""
    try:
        path = tg.viz.render(root, path, **draw_kwargs)
    except RuntimeError as error:
        say(label, f"not drawn: {error}")
        return None
    say(label, path)
    show_file(path)
    return path


def write_png(fig, path):
    """`fig` as a PNG of 256 colours at 120 dpi: a plot has few colours, so it looks the
    same and takes a third of the bytes (the notebooks carry every figure)."""
    from PIL import Image  # matplotlib's own dependency

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    image = Image.open(buffer).convert("RGB")
    image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True, dpi=(DPI, DPI)
    )


def save_figure(fig, out, name):
    """Write `fig` to out/name as a PNG at 120 dpi, show it inline in a notebook, close it
    and return the path."""
    path = Path(out) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    write_png(fig, path)
    plt.close(fig)  # closed, so a notebook shows the PNG once, not the figure again
    say("figure", path)
    show_file(path)
    return path


def progress(iterable, description, **kwargs):
    """A progress bar over a training loop, named after the model it trains: a widget that
    stays in a notebook, a bar that clears in a terminal. Show the loss with
    bar.set_postfix(loss=f"{loss:.4g}", refresh=False)."""
    kwargs.setdefault("leave", in_notebook())
    return tqdm(iterable, desc=description, dynamic_ncols=True, **kwargs)


def class_colors(classes, cmap):
    """The colour of each class 0 … classes − 1 in `cmap`, spread over its whole range, so
    that points and the regions shaded with the same map agree."""
    colormap = plt.get_cmap(cmap)
    return [colormap(k / max(classes - 1, 1)) for k in range(classes)]


def scatter_classes(ax, X, y, cmap="coolwarm", classes=None, legend=True, **style):
    """The points of X (N, 2) coloured by their class y (N,), one legend entry per class."""
    classes = classes or int(np.max(y)) + 1
    style = {"s": 12, "edgecolors": "k", "linewidths": 0.3, **style}
    for k, color in enumerate(class_colors(classes, cmap)):
        ax.scatter(X[y == k, 0], X[y == k, 1], color=color, label=f"class {k}", **style)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    if legend:
        ax.legend(loc="best", fontsize=7, framealpha=0.8)


def signed(value, digits=2):
    """ "+ 0.25" or "− 0.25": the sign as the maths writes it between two terms (so a
    rounded −0.001 reads "− 0.00", never "+ -0.00")."""
    return f"{'−' if value < 0 else '+'} {abs(value):.{digits}f}"


def minus_signs(text):
    """`text` with ASCII hyphens of negative numbers as the maths minus sign."""
    return text.replace("-", "−")


def accuracy(predictions, labels):
    """The fraction of predictions equal to the labels (arrays or Tensors of class indices)."""
    predictions = predictions.numpy() if hasattr(predictions, "numpy") else np.asarray(predictions)
    labels = labels.numpy() if hasattr(labels, "numpy") else np.asarray(labels)
    return float((predictions.reshape(labels.shape) == labels).mean())


def not_done(title, todo):
    """An exercise whose answer is not written yet: say what to do, return False."""
    say(f"exercise {title}", f"to do: {todo}")
    return False


def check_derivation(title, fn, inputs, by_hand, todo):
    """An exercise that derives a gradient: tg.handcheck(fn, inputs, by_hand), whose report
    is printed (not raised) when the derivation differs. `by_hand` is None, or returns
    None, while the learner has not written it."""
    tensors = inputs.values() if isinstance(inputs, dict) else [inputs] if isinstance(inputs, tg.Tensor) else inputs
    arrays = [t.numpy() for t in tensors]
    if by_hand is None or by_hand(*arrays) is None:
        return not_done(title, todo)
    try:
        tg.handcheck(fn, inputs, by_hand)
    except RuntimeError as report:
        say(f"exercise {title}", f"not yet: your derivation differs from autograd\n{report}")
        return False
    say(f"exercise {title}", "right: your derivation agrees with autograd")
    return True


def check_prediction(title, prediction, computed, todo, rel_tol=0.02, abs_tol=0.005):
    """An exercise that predicts a number (or a tuple of them) before computing it: right
    within rel_tol (or abs_tol near 0) of what `computed()` gives. None: not done yet."""
    if prediction is None:
        return not_done(title, todo)
    actual = computed()
    predicted, actual = np.atleast_1d(np.asarray(prediction, float)), np.atleast_1d(np.asarray(actual, float))
    if predicted.shape != actual.shape:
        say(f"exercise {title}", f"not yet: expected {actual.size} number(s), your prediction has {predicted.size}")
        return False
    shown = ", ".join(f"{value:.4g}" for value in actual)
    if all(math.isclose(p, a, rel_tol=rel_tol, abs_tol=abs_tol) for p, a in zip(predicted, actual)):
        say(f"exercise {title}", f"right: computed {shown}")
        return True
    guessed = ", ".join(f"{value:.4g}" for value in predicted)
    say(f"exercise {title}", f"not yet: you predicted {guessed}, the library computes {shown}")
    return False


def load_lesson(name):
    """Import examples/NAME.py as a module (lesson names start with a digit, so `import`
    cannot reach them)."""
    return _load(EXAMPLES / f"{name}.py", f"lesson_{name}")


def load_solution(name):
    """Import examples/solutions/NAME.py, the answers to lesson NAME's exercises."""
    return _load(EXAMPLES / "solutions" / f"{name}.py", f"solution_{name}")


def _load(path, module_name):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
