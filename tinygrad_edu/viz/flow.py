"""plot_gradient_flow: how much gradient reaches each parameter, layer by layer, after
backward. A gradient that shrinks layer after layer towards the input is the vanishing
gradient that the graph's edge colours show too. matplotlib is imported when called.
"""

import numpy as np

from .. import backend
from ..tensor import Tensor
from .notebook import require
from .picture import NO_GRADIENT_COLOR, gradient_color, mean_abs

RATIO_COLOR = "#7b3294"


def _named_parameters(model):
    """[(name, tensor)] of a Module (named_parameters(), in the order of its layers) or of a
    dict of name to tensor."""
    if hasattr(model, "named_parameters"):
        named = list(model.named_parameters())
    elif hasattr(model, "items"):
        named = list(model.items())
    else:
        raise TypeError(f"plot_gradient_flow expects a Module or a dict of name to tensor, got {type(model).__name__}")
    for name, t in named:
        if not isinstance(t, Tensor):
            raise TypeError(f"plot_gradient_flow expects tensors, got {type(t).__name__} for {name!r}")
    if not named:
        raise ValueError("plot_gradient_flow needs a model with parameters: this one has none")
    return named


def gradient_flow(model):
    """[(name, mean |grad|, ‖grad‖ / ‖data‖)] for each parameter, in the order of the
    layers; NaN for a parameter without a .grad (frozen, or backward has not reached it),
    and a ratio of NaN for a parameter that is all zeros (no size to compare with)."""
    rows = []
    for name, p in _named_parameters(model):
        if p.grad is None:
            rows.append((name, float("nan"), float("nan")))
            continue
        grad, data = backend.to_numpy(p.grad.data), backend.to_numpy(p.data)
        data_norm = float(np.linalg.norm(data.astype(np.float64)))
        ratio = float(np.linalg.norm(grad.astype(np.float64))) / data_norm if data_norm else float("nan")
        rows.append((name, mean_abs(grad), ratio))
    return rows


def _log_scale(axes, values):
    """A log y axis, where some value is positive (a log scale of zeros alone is an error)."""
    if any(np.isfinite(value) and value > 0 for value in values):
        axes.set_yscale("log")


def plot_gradient_flow(model):
    """A matplotlib figure of the gradients a model's parameters got from backward, one
    bar per parameter, layer by layer from the input: above, mean |grad| (log scale,
    coloured as the graph's edges are); below, ‖grad‖ / ‖data‖ (the 2-norms), the size of
    the gradient next to the size of the parameter, which says how far a step of
    gradient descent moves it. A parameter without .grad has no bar and says so; an
    all-zero parameter has no ratio bar.

    `model` is a Module or a dict of name to tensor. Without matplotlib: a RuntimeError
    naming the extra.
    """
    plt = require("matplotlib.pyplot", "tg.viz.plot_gradient_flow")
    rows = gradient_flow(model)
    names = [name if np.isfinite(mean) else f"{name} (no grad)" for name, mean, _ in rows]
    means = [mean for _, mean, _ in rows]
    ratios = [ratio for _, _, ratio in rows]
    positions = np.arange(len(rows))
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(max(4.5, 0.55 * len(rows) + 2.0), 5.4))
    colors = [gradient_color(mean) if np.isfinite(mean) else NO_GRADIENT_COLOR for mean in means]
    top.bar(positions, means, color=colors)
    _log_scale(top, means)
    top.set_ylabel("mean |grad|")
    top.set_title("gradient flow, layer by layer from the input", fontsize=10)
    bottom.bar(positions, ratios, color=RATIO_COLOR)
    _log_scale(bottom, ratios)
    bottom.set_ylabel("‖grad‖ / ‖data‖")
    bottom.set_xticks(positions, names, rotation=45, ha="right", fontsize=8)
    bottom.set_xlabel("parameter")
    for axes in (top, bottom):
        axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return figure
