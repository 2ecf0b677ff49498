"""What every lesson shares: its command-line options, the output folder, labelled
results and figures.

Each lesson runs as `python examples/NAME.py [--quick] [--out DIR]` and has a
`main(argv=None) -> dict` that returns its results, so the tests and the demo can call
it in-process and check the numbers it printed.
"""

import argparse
import importlib.util
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
ROOT = EXAMPLES.parent

# Lessons run from a checkout too, without `pip install -e .`.
if importlib.util.find_spec("tinygrad_edu") is None:
    sys.path.insert(0, str(ROOT))

# Figures are written to files, never shown in a window: the Agg backend needs no display.
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm


def parse_args(description, argv=None, device=False):
    """The lesson's options: --quick (smaller runs, for tests and the demo), --out DIR
    (where figures go, default out/), and --device cpu|cuda where the lesson supports it."""
    parser = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer epochs (a few seconds)")
    parser.add_argument("--out", default="out", help="folder for the figures (default: out/)")
    if device:
        parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where the tensors live")
    args = parser.parse_args(argv)
    args.out = Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def say(label, value):
    """Print one result as `label: value`, so that a reader (and a test) can find it."""
    print(f"{label}: {value}", flush=True)


def figure(nrows=1, ncols=1, width=4.5, height=3.6):
    """A matplotlib figure with a grid of axes (one Axes when 1×1, a row of them when 1×n)."""
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows))


def save_figure(fig, out, name):
    """Write `fig` to out/name as a PNG (small enough to commit), close it and return the path."""
    path = Path(out) / name
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    say("figure", path)
    return path


def progress(iterable, description, **kwargs):
    """A tqdm progress bar over a training loop, named after the model it trains."""
    return tqdm(iterable, desc=description, leave=False, dynamic_ncols=True, **kwargs)


def accuracy(predictions, labels):
    """The fraction of predictions equal to the labels (arrays or Tensors of class indices)."""
    predictions = predictions.numpy() if hasattr(predictions, "numpy") else np.asarray(predictions)
    labels = labels.numpy() if hasattr(labels, "numpy") else np.asarray(labels)
    return float((predictions.reshape(labels.shape) == labels).mean())


def load_lesson(name):
    """Import examples/NAME.py as a module (lesson names start with a digit, so `import`
    cannot reach them)."""
    path = EXAMPLES / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"lesson_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
