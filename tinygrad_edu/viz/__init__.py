"""Pictures of a computational graph: what was computed, from what, and how the gradient
flows back through it.

    g = tg.draw_graph(loss, params={"w": w, "b": b})   # a graphviz.Digraph
    tg.viz.render(loss, "graph.svg")                    # the same picture, as a file
    print(tg.viz.text_graph(loss))                      # the same graph, as text
    frames = tg.viz.backward_steps(loss)                # one picture per step of backward
    tg.viz.step_through(loss)                           # the same frames on a slider, in a notebook,
                                                        # each step's chain rule written out
    view = tg.viz.LiveGraph(every=10)                   # in a training loop: view.update(loss)
    tg.viz.plot_gradient_flow(model)                    # mean |grad| per parameter, layer by layer

One module per job; the pictures that move (chain_rule, widgets, live, flow) are built
from the ones above them in this list:

    walking.py    which tensors and ops a picture shows (breadth first, no recursion, cut
                  after max_nodes)
    gradients.py  the gradient along every link, from the engine's own chain rule
                  (autograd.backpropagate), so a picture shows what backward does
    labels.py     what a node says: names, shapes, values, escaping
    picture.py    the DOT picture: colours, shapes, legend; draw_graph and backward_steps
    text.py       the same graph as plain text
    files.py      render and render_steps: paths, formats and graphviz's dot program
    chain_rule.py each backward step's chain rule written out: upstream × local = downstream
    widgets.py    step_through, the backward frames on a slider (ipywidgets)
    live.py       LiveGraph, the graph and the loss curve redrawn as a loop trains
    flow.py       plot_gradient_flow, the gradient each parameter gets (matplotlib)
    notebook.py   whether we run in a notebook; the extras imported when a picture needs them

graphviz, matplotlib and ipywidgets are imported inside the functions that draw, so
`import tinygrad_edu` needs NumPy alone.
"""

from .chain_rule import chain_rule_products
from .files import FORMATS, INSTALL_HINT, DotNotFound, picture_bytes, render, render_steps
from .flow import gradient_flow, plot_gradient_flow
from .labels import escape, summarize
from .live import LiveGraph
from .picture import (
    ANOMALY_COLOR,
    CURRENT_OP_COLOR,
    GRADIENT_RAMP,
    NOT_FINITE_COLOR,
    RANKDIRS,
    ZERO_GRADIENT_COLOR,
    backward_steps,
    draw_graph,
    gradient_color,
)
from .text import text_graph
from .walking import walk
from .widgets import step_through

__all__ = [
    "draw_graph", "backward_steps", "render", "render_steps", "text_graph", "picture_bytes", "walk",
    "step_through", "chain_rule_products", "LiveGraph", "plot_gradient_flow", "gradient_flow",
    "gradient_color", "escape", "summarize", "DotNotFound", "FORMATS", "RANKDIRS", "INSTALL_HINT",
    "GRADIENT_RAMP", "ZERO_GRADIENT_COLOR", "NOT_FINITE_COLOR", "CURRENT_OP_COLOR", "ANOMALY_COLOR",
]  # fmt: skip
