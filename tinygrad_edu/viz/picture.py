"""The DOT picture of a graph: colours, shapes, labels and the legend, built with
graphviz's Digraph API (node, edge, attr). graphviz is imported when a picture is drawn,
so `import tinygrad_edu` needs NumPy alone."""

import math

import numpy as np

from .gradients import Gradients, chain_rule_steps, shown_gradients
from .labels import escape, names_from, shape_and_dtype, summarize, tensor_kind
from .walking import check_root, walk, walk_whole

RANKDIRS = ("LR", "RL", "TB", "BT")

# Colours of the node kinds; the legend shows each of them.
ROOT_COLOR = "#ffd966"
PARAMETER_COLOR = "#b7e1a1"
CONSTANT_COLOR = "#ffffff"
INTERMEDIATE_COLOR = "#d6e4f5"
OP_COLOR = "#eeeeee"
CURRENT_OP_COLOR = "#ff9f1c"
ANOMALY_COLOR = "#d7191c"  # the border (and, unless it is the current op, the fill) of an op detect_anomaly caught
ANOMALY_FILL = "#f4a6a6"
KIND_STYLES = {
    "root": {"fillcolor": ROOT_COLOR, "style": "filled", "peripheries": "2"},
    "parameter": {"fillcolor": PARAMETER_COLOR, "style": "filled"},
    "constant": {"fillcolor": CONSTANT_COLOR, "style": "filled,dashed"},
    "intermediate": {"fillcolor": INTERMEDIATE_COLOR, "style": "filled,rounded"},
}

# The colour of an edge is the mean |gradient| along it on a log scale, from blue (1e-6
# and below: a vanishing gradient) through green and orange to red (1 and above).
GRADIENT_RAMP = ("#2b83ba", "#1a9641", "#f08a00", "#d7191c")
GRADIENT_RANGE = (-6.0, 0.0)  # log10 of the magnitudes at the two ends of the ramp
ZERO_GRADIENT_COLOR = "#9e9e9e"
NO_GRADIENT_COLOR = "#bdbdbd"
NOT_FINITE_COLOR = "#000000"
PENDING_COLOR = "#d9d9d9"


# ------------------------------------------------------------------------ edge colours
def mean_abs(array):
    """mean |array|, the size of a gradient that an edge's colour shows."""
    # a sum and a division cost less than .mean(), which matters for 10,000 edges
    return float(np.abs(array).sum()) / array.size if array.size else 0.0


def _ramp_index(magnitude):
    """Where log10(magnitude) lies between the ends of GRADIENT_RANGE, as an index of _PALETTE."""
    low, high = GRADIENT_RANGE
    position = min(max((math.log10(magnitude) - low) / (high - low), 0.0), 1.0)
    return round(position * (len(_PALETTE) - 1))


def _palette(ramp, steps=100):
    """steps + 1 colours evenly along the ramp, interpolated in RGB."""
    rgb = [tuple(int(color[c : c + 2], 16) for c in (1, 3, 5)) for color in ramp]
    colors = []
    for n in range(steps + 1):
        position = n / steps * (len(rgb) - 1)
        segment = min(int(position), len(rgb) - 2)
        fraction = position - segment
        start, end = rgb[segment], rgb[segment + 1]
        colors.append("#" + "".join(f"{round(a * (1 - fraction) + b * fraction):02x}" for a, b in zip(start, end)))
    return colors


_PALETTE = _palette(GRADIENT_RAMP)  # looked up, not interpolated, for each of 10,000 edges


def gradient_color(magnitude):
    """The colour of an edge that carries a gradient of mean |grad| `magnitude`: grey for
    0, blue at 1e-6 and below (vanishing), through green and orange, red at 1 and above."""
    if not math.isfinite(magnitude):
        return NOT_FINITE_COLOR
    if magnitude == 0:
        return ZERO_GRADIENT_COLOR
    return _PALETTE[_ramp_index(magnitude)]


def _pen(color, style="solid", width=1.0, tooltip=""):
    """An edge's pen: its colour, style, width and tooltip. Every pen names all four, so
    that an `edge [...]` statement replaces the pen before it; a tuple, to group edges by."""
    return (("color", color), ("style", style), ("penwidth", f"{width:.2f}"), ("tooltip", tooltip))


PLAIN_PEN = _pen("black")
PENDING_PEN = _pen(PENDING_COLOR, "dotted")
NO_GRADIENT_PEN = _pen(NO_GRADIENT_COLOR, "dashed", tooltip="no gradient flows here")
CUT_PEN = _pen("black", "dashed")
# the larger the gradient, the thicker the edge: one width per colour of the palette
_GRADIENT_PENS = [_pen(color, width=1.0 + 2.0 * n / (len(_PALETTE) - 1)) for n, color in enumerate(_PALETTE)]


def _gradient_pen(magnitude):
    """The pen of an edge that carries mean |grad| `magnitude` (gradient_color's colour)."""
    if not math.isfinite(magnitude) or magnitude == 0:
        return _pen(gradient_color(magnitude))
    return _GRADIENT_PENS[_ramp_index(magnitude)]


def _edge_style(link, gradients, pending):
    """An edge's attributes as (the pen that many edges share, its own): plain without
    gradients; dotted while backward has not reached it (when `pending`); dashed grey
    where no gradient flows; else the gradient's colour and width, its size as a tooltip."""
    if gradients is None or (link not in gradients and not pending):
        return PLAIN_PEN, {}
    if link not in gradients:
        return PENDING_PEN, {}
    grad = gradients[link]
    if grad is None:
        return NO_GRADIENT_PEN, {}
    size = mean_abs(grad)
    return _gradient_pen(size), {"tooltip": f"mean |grad| = {size:.3g}"}


# ------------------------------------------------------------------------------ labels
def _table(rows):
    """An HTML-like label: one row per (already escaped) text."""
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _legend_row(title, swatches, notes="", text_color="black", vertical=False):
    """One row of the legend: a title, then coloured cells with their meaning inside; with
    `vertical`, one cell under the other (a top-to-bottom picture stays narrow)."""
    cells = [f'<TD ALIGN="LEFT"><B>{title}</B></TD>']
    for color, text in swatches:
        cells.append(f'<TD BGCOLOR="{color}" BORDER="1"><FONT COLOR="{text_color}">{text}</FONT></TD>')
    if notes:
        cells.append(f'<TD ALIGN="LEFT">{notes}</TD>')
    rows = [f"<TR>{cell}</TR>" for cell in cells] if vertical else [f"<TR>{''.join(cells)}</TR>"]
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">{"".join(rows)}</TABLE>'


def _legend(gradients_shown, pending, anomaly=False, vertical=False):
    """What the colours and shapes mean: one row of node kinds, one of edge colours; with
    `vertical` (rankdir TB or BT) each stacks its cells one under the other, so that the
    legend is no wider than a top-to-bottom graph and a frame fits a slide."""
    kinds = [
        (ROOT_COLOR, "root (double border)"),
        (PARAMETER_COLOR, "leaf that requires grad"),
        (CONSTANT_COLOR, "constant, no grad (dashed)"),
        (INTERMEDIATE_COLOR, "intermediate tensor"),
        (OP_COLOR, "op (ellipse)"),
    ]
    if pending:
        kinds.append((CURRENT_OP_COLOR, "op whose backward runs now"))
    if anomaly:
        kinds.append((ANOMALY_FILL, "op that made NaN or inf (⚠)"))
    rows = [_legend_row("legend", kinds, vertical=vertical)]
    if gradients_shown:
        scale = [(ZERO_GRADIENT_COLOR, "0")] + [(gradient_color(10.0**e), f"1e{e}") for e in (-6, -4, -2)]
        scale += [(gradient_color(1.0), "≥ 1"), (NOT_FINITE_COLOR, "inf, nan")]
        notes = "dashed grey: no gradient flows" + ("; dotted: not reached yet" if pending else "")
        title = "edge colour: mean |grad|" + ("<BR/>along it (log scale)" if vertical else " along it (log scale)")
        rows.append(_legend_row(title, scale, notes, text_color="white", vertical=vertical))
    cells = "".join(f'<TR><TD ALIGN="LEFT">{row}</TD></TR>' for row in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">{cells}</TABLE>>'


# ----------------------------------------------------------------------------- picture
class _Picture:
    """Builds the Digraph of a walked graph: the styling, and nothing else."""

    def __init__(self, walked, names, show_data, show_formulas, rankdir):
        import graphviz

        self.walked, self.names = walked, names
        self.show_data, self.show_formulas = show_data, show_formulas
        self.vertical = rankdir in ("TB", "BT")
        self.graph = graphviz.Digraph("computational_graph")
        self.graph.attr(rankdir=rankdir, fontname="Helvetica", fontsize="12")
        self.graph.attr("node", fontname="Helvetica", fontsize="11", style="filled", margin="0.05", shape="box")
        self.graph.attr("edge", arrowsize="0.7")

    def tensor_name(self, k):
        # an empty name would leave <B></B>, which dot refuses
        return self.names.get(id(self.walked.tensors[k])) or f"#{k + 1}"

    def add_tensors(self, grads):
        """One box per tensor: name, shape and dtype, value, gradient (when known); the
        tensors of each kind in a subgraph that sets the kind's style once."""
        by_kind = {kind: [] for kind in KIND_STYLES}
        for k, t in enumerate(self.walked.tensors):
            by_kind[tensor_kind(t, k == 0)].append(k)
        for kind, numbers in by_kind.items():
            if not numbers:
                continue
            with self.graph.subgraph(name=f"{kind}_tensors") as group:
                group.attr("node", **KIND_STYLES[kind])
                for k in numbers:
                    group.node(f"t{k}", self.tensor_label(k, grads))

    def tensor_label(self, k, grads):
        t = self.walked.tensors[k]
        # shapes and numbers are digits, signs, brackets and commas: nothing to escape
        rows = [f"<B>{escape(self.tensor_name(k))}</B>", shape_and_dtype(t.data)]
        if self.show_data:
            rows.append(f"data {summarize(t.data)}")
        if grads is not None and k in grads:
            rows.append(f"grad {summarize(grads[k])}")
        return _table(rows)

    def add_ops(self, current=None):
        """One ellipse per op: its name and, with show_formulas, its local derivative; the
        op numbered `current` highlighted, and an op that tg.detect_anomaly caught making a
        NaN or an inf marked (red, "⚠ forward made inf")."""
        self.graph.attr("node", shape="ellipse", fillcolor=OP_COLOR, style="filled")
        for j, fn in enumerate(self.walked.ops):
            rows = [f"<B>{escape(fn.name)}</B>"]
            if self.show_formulas and type(fn).formula:
                rows.append(f'<FONT POINT-SIZE="10">{escape(type(fn).formula)}</FONT>')
            look = {}
            anomaly = getattr(fn, "anomaly", None)
            if anomaly:
                rows.append(f"<B>⚠ {escape(anomaly)}</B>")
                look.update(fillcolor=ANOMALY_FILL, color=ANOMALY_COLOR, penwidth="3")
            if j == current:
                look.update(fillcolor=CURRENT_OP_COLOR, penwidth="3")
            self.graph.node(f"op{j}", _table(rows), **look)

    def has_anomaly(self):
        """True when some op shown was caught by tg.detect_anomaly."""
        return any(getattr(fn, "anomaly", None) for fn in self.walked.ops)

    def add_links(self, gradients=None, pending=False):
        """One edge per data-flow link, coloured by the gradient along it when known.

        gradients: {link: array or None}; a link missing from it is drawn as pending
        (backward has not reached it yet) when `pending`, else plain. The edges are drawn
        pen by pen, each pen set once by an `edge [...]` statement: graphviz takes
        microseconds to quote each attribute, which adds up over 10,000 edges.
        """
        walked = self.walked
        by_pen = {}  # pen -> [(tail, head, the edge's own attributes)]
        for link in walked.links():
            j = link[1]
            if link[0] == "in":
                source = walked.op_inputs[j][link[2]]
                if source is None:
                    continue
                tail, head = f"t{source}", f"op{j}"
            else:
                tail, head = f"op{j}", f"t{walked.op_output[j]}"
            pen, own = _edge_style(link, gradients, pending)
            by_pen.setdefault(pen, []).append((tail, head, own))
        for pen, edges in by_pen.items():
            if pen != PLAIN_PEN or len(by_pen) > 1:
                self.graph.attr("edge", **dict(pen))
            self.graph.edges((tail, head) for tail, head, own in edges if not own)  # in one call: quicker
            for tail, head, own in edges:
                if own:
                    self.graph.edge(tail, head, **own)

    def add_cut(self):
        """One node that says how many nodes were left out, linked to where the cut is."""
        walked = self.walked
        if not walked.omitted:
            return
        label = _table([f"… {walked.omitted:,} more nodes not shown", "(raise max_nodes to see them)"])
        self.graph.node("omitted", label, shape="box", style="dashed")
        self.graph.attr("edge", **dict(CUT_PEN))
        self.graph.edges(("omitted", f"op{j}") for j, inputs in enumerate(walked.op_inputs) if None in inputs)
        self.graph.edges(("omitted", f"t{k}") for k in walked.cut_tensors)

    def add_legend(self, gradients_shown, pending=False):
        legend = _legend(gradients_shown, pending, self.has_anomaly(), self.vertical)
        self.graph.node("legend", legend, shape="plain", style="")


def check_rankdir(rankdir):
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")


def draw_graph(root, params=None, show_data=True, show_grad=True, show_formulas=False, rankdir="LR", max_nodes=500):
    """The computational graph that made `root`, as a graphviz.Digraph (Jupyter shows it).

    One node per tensor (its name from params=, a dict of name to tensor, else #k; shape,
    dtype, value; after backward its gradient) and one per op (grad_fn.name, and its
    `formula` with show_formulas=True); one edge per data-flow link, input → op → output.
    After backward, with show_grad=True, leaves show their .grad, the other tensors the
    gradient that reached them (from the engine's chain rule, run again under no_grad and
    seeded with ones like root.backward(); no .grad changes), and each edge is coloured by
    mean |grad| along it (log scale) so that vanishing gradients stand out. An op that
    tg.detect_anomaly caught making a NaN or an inf is red and says what it made. Beyond
    max_nodes nodes the picture is cut, with a node that says how many were left out.
    With rankdir "TB" or "BT" the legend stacks vertically, as narrow as the graph.
    """
    check_root(root, max_nodes)
    check_rankdir(rankdir)
    walked = walk(root, max_nodes)
    picture = _Picture(walked, names_from(params), show_data, show_formulas, rankdir)
    show_grad = show_grad and walked.leaf_has_grad
    tensor_grads, link_grads = shown_gradients(walked, root) if show_grad else (None, None)
    picture.add_tensors(tensor_grads)
    picture.add_ops()
    picture.add_links(link_grads)
    picture.add_cut()
    picture.add_legend(show_grad)
    return picture.graph


def backward_frames(walked, root, names, show_data=True, show_formulas=True, rankdir="LR"):
    """Yield ((fn, grad_out, grads_in), frame) for each op, in the order the engine runs
    their backward: the chain-rule step (as autograd.backpropagate gives it) and its
    picture, the op highlighted and the gradients known so far filled in. `walked` is
    walk_whole's (the whole graph); names is {id(tensor): name}."""
    gradients = Gradients(walked, root)
    op_number = {id(fn): j for j, fn in enumerate(walked.ops)}
    for number, (fn, grad_out, grads_in) in enumerate(chain_rule_steps(root), start=1):
        gradients.add_step(fn, grad_out, grads_in)
        picture = _Picture(walked, names, show_data, show_formulas, rankdir)
        caption = f"step {number} of {len(walked.ops)}: backward of {fn.name}"
        if type(fn).formula:
            caption += f"  ({type(fn).formula})"
        picture.graph.attr(label=f"<{escape(caption)}>", labelloc="t")
        picture.add_tensors(gradients.tensor)
        picture.add_ops(current=op_number[id(fn)])
        picture.add_links(gradients.link, pending=True)
        picture.add_legend(True, pending=True)
        yield (fn, grad_out, grads_in), picture.graph


def backward_steps(root, params=None, show_data=True, show_formulas=True, rankdir="LR", max_nodes=500):
    """One picture per op, in the order the engine runs their backward: the op whose
    backward runs is highlighted, and the gradients known so far are filled in (the sums
    so far, where a tensor is used more than once). Computes its own gradients: every
    .grad is left as it is. Returns a list of graphviz.Digraph.

    Each frame shows the whole graph, so a graph of more than `max_nodes` tensors and ops
    is a ValueError that gives both counts (a frame per op of a cut graph would hide
    the ops it is about); draw_graph cuts a large graph instead.
    """
    walked = walk_whole(root, max_nodes, "backward_steps")
    check_rankdir(rankdir)
    steps = backward_frames(walked, root, names_from(params), show_data, show_formulas, rankdir)
    return [frame for _, frame in steps]
