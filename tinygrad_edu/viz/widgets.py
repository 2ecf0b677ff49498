"""step_through: backward one op at a time, on a slider, in a notebook.

Each frame is a picture of backward_steps (the op whose backward runs highlighted, the
gradients known so far filled in) under that step's chain rule written out (upstream ×
local = downstream, with the numbers). Frames and texts come from one pass of the
engine's chain rule. ipywidgets is imported when called.
"""

import functools
import html

from .chain_rule import StepText
from .files import INSTALL_HINT, NO_DOT, DotNotFound, picture_bytes
from .labels import names_from
from .notebook import require
from .picture import backward_frames, check_rankdir
from .walking import walk_whole

PLAY_INTERVAL_MS = 2000  # long enough to read a step's numbers


@functools.cache
def _widget_class(widgets):
    """A VBox that a notebook without widgets (GitHub's viewer) shows as one readable line."""

    class StepThrough(widgets.VBox):
        """step_through's widget: .frames are the graphviz.Digraph pictures, .products the
        chain-rule text of each step."""

        def __repr__(self):
            count = len(getattr(self, "frames", ()))
            return f"step_through: {count} backward steps on a slider (run the notebook to move it)"

    return StepThrough


def _svg_frames(frames):
    """(each frame as inline SVG text, None); where dot is missing, (empty texts, the one
    line that says so)."""
    try:
        pictures = [picture_bytes(frame, "svg").decode("utf-8") for frame in frames]
    except DotNotFound:
        return [""] * len(frames), f"{NO_DOT}, so the steps are text only; to see the pictures, {INSTALL_HINT}"
    return [svg[svg.index("<svg") :] for svg in pictures], None  # inline: without the XML prolog


def _page(text, svg):
    """One frame of the widget: the step's chain rule above its picture."""
    return f'<pre style="font-size: 12px; line-height: 1.35; margin: 0 0 6px 0">{html.escape(text)}</pre>{svg}'


def step_through(root, params=None, show_data=True, show_formulas=True, rankdir="TB", max_nodes=500):
    """An ipywidgets widget that steps through backward of `root`: a slider (and a play
    button) over backward_steps' frames, one per op in the engine's order, each under its
    step's chain rule written out — upstream gradient × local derivative = downstream
    gradient, with the numbers (see chain_rule_products). Top to bottom by default, so a
    frame fits a slide. Computes its own gradients: no .grad changes.

    The widget's .frames are the pictures (graphviz.Digraph) and .products the texts.
    Without graphviz's dot the widget says so in one line and shows the texts alone.
    Without ipywidgets: a RuntimeError naming the extra. A graph of more than max_nodes
    tensors and ops is a ValueError, as in backward_steps; a root no op made has no
    backward steps: a ValueError too.
    """
    widgets = require("ipywidgets", "tg.viz.step_through")
    walked = walk_whole(root, max_nodes, "step_through")
    check_rankdir(rankdir)
    if not walked.ops:
        raise ValueError("step_through needs a tensor made by ops: this one is a leaf, so backward has no steps")
    names = names_from(params)
    explain = StepText(walked, names)
    frames, products, labels = [], [], []
    steps = backward_frames(walked, root, names, show_data, show_formulas, rankdir)
    for number, (step, frame) in enumerate(steps, start=1):
        frames.append(frame)
        products.append(explain.describe(number, *step))
        labels.append((f"{number} of {len(walked.ops)}: {step[0].name}", number - 1))
    svgs, note = _svg_frames(frames)
    pages = widgets.Stack([widgets.HTML(_page(text, svg)) for text, svg in zip(products, svgs)], selected_index=0)
    slider = widgets.SelectionSlider(options=labels, description="step", continuous_update=True)
    play = widgets.Play(min=0, max=len(frames) - 1, interval=PLAY_INTERVAL_MS, description="play")
    widgets.link((play, "value"), (slider, "index"))
    widgets.link((slider, "index"), (pages, "selected_index"))
    children = [widgets.HBox([play, slider])] + ([widgets.HTML(html.escape(note))] if note else []) + [pages]
    widget = _widget_class(widgets)(children)
    widget.frames, widget.products = frames, products
    return widget
