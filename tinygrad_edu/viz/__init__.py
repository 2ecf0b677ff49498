"""Pictures of a computational graph: what was computed, from what, and how the gradient
flows back through it.

    g = tg.draw_graph(loss, params={"w": w, "b": b})   # a graphviz.Digraph
    tg.viz.render(loss, "graph.svg")                    # the same picture, as a file
    print(tg.viz.text_graph(loss))                      # the same graph, as text
    frames = tg.viz.backward_steps(loss)                # one picture per step of backward

One module per job, each knowing nothing of the others' work:

    walking.py    which tensors and ops a picture shows (breadth first, no recursion, cut
                  after max_nodes)
    gradients.py  the gradient along every link, from the engine's own chain rule
                  (autograd.backpropagate), so a picture shows what backward does
    labels.py     what a node says: names, shapes, values, escaping
    picture.py    the DOT picture: colours, shapes, legend; draw_graph and backward_steps
    text.py       the same graph as plain text
    files.py      render and render_steps: paths, formats and graphviz's dot program

graphviz is imported inside the functions that draw, so `import tinygrad_edu` needs
NumPy alone.
"""

from .files import FORMATS, INSTALL_HINT, DotNotFound, picture_bytes, render, render_steps
from .labels import escape, summarize
from .picture import (
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

__all__ = [
    "draw_graph", "backward_steps", "render", "render_steps", "text_graph", "picture_bytes", "walk",
    "gradient_color", "escape", "summarize", "DotNotFound", "FORMATS", "RANKDIRS", "INSTALL_HINT",
    "GRADIENT_RAMP", "ZERO_GRADIENT_COLOR", "NOT_FINITE_COLOR", "CURRENT_OP_COLOR",
]  # fmt: skip
