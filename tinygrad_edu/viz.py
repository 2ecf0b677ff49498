"""Pictures of a computational graph: what was computed, from what, and how the gradient
flows back through it.

    g = tg.draw_graph(loss, params={"w": w, "b": b})   # a graphviz.Digraph
    tg.viz.render(loss, "graph.svg")                    # the same picture, as a file
    print(tg.viz.text_graph(loss))                      # the same graph, as text

The code has three parts that know nothing of each other's job:

1. `walk` finds the tensors and ops reachable from a root, breadth first and without
   recursion, and stops recording after `max_nodes` (it still counts the rest).
2. `_backward_pass` computes the gradient that flows along every link, with the
   engine's order (`autograd.backward_order`) and each op's own `backward`, under
   no_grad: no `.grad` is touched, and what backward freed is replayed, then freed again.
3. `_Picture` turns both into a `graphviz.Digraph`: colours, shapes, labels, legend.

graphviz is imported inside the functions that draw, so `import tinygrad_edu` needs
NumPy alone.
"""

import html
import math
import pathlib
from collections import deque

import numpy as np

from . import autograd, backend
from .tensor import Tensor

FORMATS = ("svg", "png", "pdf", "dot")
RANKDIRS = ("LR", "RL", "TB", "BT")

INSTALL_HINT = (
    "install graphviz's dot program: apt-get install graphviz (Debian/Ubuntu), "
    "brew install graphviz (macOS) or conda install graphviz"
)

# Colours of the node kinds; the legend shows each of them.
ROOT_COLOR = "#ffd966"
PARAMETER_COLOR = "#b7e1a1"
CONSTANT_COLOR = "#ffffff"
INTERMEDIATE_COLOR = "#d6e4f5"
OP_COLOR = "#eeeeee"
CURRENT_OP_COLOR = "#ff9f1c"
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


# ---------------------------------------------------------------------------- 1. walking
class Walk:
    """The part of a graph a picture shows, as indices (no styling).

    tensors[k] is tensor number k + 1 (the root is #1), in breadth-first order from the
    root; ops[j] is an op whose output is tensors[op_output[j]] and whose inputs are
    tensors[op_inputs[j][p]] (None where the input lies beyond the cut).
    cut_tensors are shown tensors whose op lies beyond the cut; omitted counts the
    tensors and ops left out; leaf_has_grad says whether some leaf, shown or not, has a
    .grad (then backward has run).
    """

    def __init__(self):
        self.tensors, self.ops, self.op_output, self.op_inputs = [], [], [], []
        self.cut_tensors = []
        self.omitted = 0
        self.leaf_has_grad = False

    def links(self):
        """Every data-flow link shown: ("in", j, p) for input p of op j, ("out", j) for op j's output."""
        for j, inputs in enumerate(self.op_inputs):
            for p in range(len(inputs)):
                yield ("in", j, p)
            yield ("out", j)


def walk(root, max_nodes=None):
    """The tensors and ops reachable from `root` (breadth first, no recursion), at most
    `max_nodes` of them recorded; the rest are only counted."""
    result = Walk()
    index = {id(root): 0}  # id(tensor) -> its number - 1; the graph keeps every tensor alive
    hidden = set()  # ids of tensors beyond the cut
    hidden_ops = 0
    result.tensors.append(root)
    queue = deque([root])

    def room():
        return max_nodes is None or len(result.tensors) + len(result.ops) < max_nodes

    while queue:
        t = queue.popleft()
        fn = t.grad_fn
        if fn is None:
            result.leaf_has_grad = result.leaf_has_grad or t.grad is not None
            continue
        k = index.get(id(t))
        if k is None or not room():
            hidden_ops += 1
            if k is not None:
                result.cut_tensors.append(k)
            for x in fn.inputs:
                if id(x) not in index and id(x) not in hidden:
                    hidden.add(id(x))
                    queue.append(x)
            continue
        result.ops.append(fn)
        result.op_output.append(k)
        inputs = []
        for x in fn.inputs:
            i = index.get(id(x))
            if i is None and id(x) not in hidden:
                if room():
                    i = index[id(x)] = len(result.tensors)
                    result.tensors.append(x)
                else:
                    hidden.add(id(x))
                queue.append(x)
            inputs.append(i)
        result.op_inputs.append(inputs)
    result.omitted = len(hidden) + hidden_ops
    return result


# ---------------------------------------------------------------------- 2. gradients
def _backward_pass(root):
    """[(fn, grad_out, input_grads)] for every op, in the engine's order: the gradient
    that reached fn's output, and the one fn sends to each input (None where none flows;
    an op that no gradient reaches, as behind sign(), has None for all of them).

    Seeded with ones like `root.backward()`. Runs each op's `backward` under no_grad and
    leaves the graph as it found it: no `.grad` is written, and an op whose saved values
    backward freed is replayed for the moment and freed again.
    """
    if root.grad_fn is None:
        return []
    grads = {root.grad_fn: Tensor.ones_like(root)}
    steps = []
    with autograd.no_grad():
        for fn in autograd.backward_order(root.grad_fn):
            grad_out = grads.pop(fn, None)
            if grad_out is None:  # as in the engine: every consumer sent None
                steps.append((fn, None, (None,) * len(fn.inputs)))
                continue
            was_freed = fn.saved is autograd.FREED
            if was_freed:
                fn.replay()
            try:
                input_grads = autograd.input_gradients(fn, grad_out)
            finally:
                if was_freed:
                    fn.saved = autograd.FREED
            flowing = []
            for t, grad in zip(fn.inputs, input_grads):
                # as in the engine: nothing flows into a tensor that does not require grad
                if grad is None or not t.requires_grad:
                    flowing.append(None)
                    continue
                flowing.append(grad)
                parent = t.grad_fn
                if parent is not None:
                    grads[parent] = grad if parent not in grads else grads[parent] + grad
            steps.append((fn, grad_out, tuple(flowing)))
    return steps


class _Gradients:
    """What a picture shows of the gradients: per tensor (by number) and per link."""

    def __init__(self, walked, root):
        self.tensor = {}  # tensor number - 1 -> array
        self.link = {}  # link -> array, or None where no gradient flows
        self._op_number = {id(fn): j for j, fn in enumerate(walked.ops)}
        self._tensor_number = {id(t): k for k, t in enumerate(walked.tensors)}
        if root.grad_fn is not None:
            self.tensor[0] = backend.xp(root.data).ones_like(root.data)

    def add_step(self, fn, grad_out, input_grads):
        """Record one op's backward: its output's gradient and what it sends to each input."""
        j = self._op_number.get(id(fn))
        if j is not None:
            self.link[("out", j)] = None if grad_out is None else grad_out.data
        for p, (t, grad) in enumerate(zip(fn.inputs, input_grads)):
            if j is not None:
                self.link[("in", j, p)] = None if grad is None else grad.data
            k = self._tensor_number.get(id(t))
            if grad is not None and k is not None:
                self.tensor[k] = grad.data if k not in self.tensor else self.tensor[k] + grad.data


# ------------------------------------------------------------------------- 3. styling
def _number(value):
    """A number in at most 4 significant digits."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{value + 0.0:.4g}"  # + 0.0 turns −0.0 into 0.0: a learner should not wonder about "-0"


def summarize(array):
    """All elements when there are at most 6 (nested like the array), else "min … mean … max …"."""
    values = backend.to_numpy(array)
    if values.size <= 6:
        texts = [_number(v) for v in values.ravel().tolist()]
        if values.ndim <= 1:
            return texts[0] if values.ndim == 0 else f"[{', '.join(texts)}]"
        return str(np.array(texts, dtype=object).reshape(values.shape).tolist()).replace("'", "")
    if values.dtype.kind == "c":
        return f"mean {_number(values.mean())}"
    return f"min {_number(values.min())}  mean {_number(values.mean())}  max {_number(values.max())}"


_dtype_names = {}  # str(dtype) is slow enough to matter for 10,000 nodes


def _dtype_name(dtype):
    name = _dtype_names.get(dtype)
    if name is None:
        name = _dtype_names[dtype] = str(dtype)
    return name


def mean_abs(array):
    """mean |array|, the size of a gradient that an edge's colour shows."""
    # a sum and a division cost less than .mean(), which matters for 10,000 edges
    return float(np.abs(array).sum()) / array.size if array.size else 0.0


def _ramp_position(magnitude):
    """Where log10(magnitude) lies between the ends of GRADIENT_RANGE, from 0 to 1."""
    low, high = GRADIENT_RANGE
    return min(max((math.log10(magnitude) - low) / (high - low), 0.0), 1.0)


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
    return _PALETTE[round(_ramp_position(magnitude) * (len(_PALETTE) - 1))]


def _gradient_weight(magnitude):
    """The pen width that goes with gradient_color: thicker for larger gradients."""
    if not math.isfinite(magnitude) or magnitude == 0:
        return 1.0
    return 1.0 + 2.0 * _ramp_position(magnitude)


def escape(text):
    """`text` safe inside a graphviz HTML-like label: <, >, &, quotes, ] as entities;
    backslashes doubled (dot reads \\N, \\G, ... as escapes even there); characters
    that cannot be printed as Python escapes."""
    text = str(text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    # "]" as an entity too: dot rejects a cell whose whole text is "]"
    return html.escape(text, quote=True).replace("\\", "\\\\").replace("]", "&#93;")


def _names(params):
    """{id(tensor): name} from params=, a dict of name to tensor."""
    if params is None:
        return {}
    if not hasattr(params, "items"):
        raise TypeError(f"params must be a dict of name to tensor, got {type(params).__name__}")
    names = {}
    for name, t in params.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"params must be a dict of name to tensor, got {type(t).__name__} for {name!r}")
        names.setdefault(id(t), str(name))
    return names


def tensor_kind(t, is_root):
    """ "root", "parameter" (a leaf that requires grad), "constant" or "intermediate"."""
    if is_root:
        return "root"
    if t.grad_fn is None:
        return "parameter" if t.requires_grad else "constant"
    return "intermediate"


class _Picture:
    """Builds the Digraph of a walked graph: the styling, and nothing else."""

    def __init__(self, walked, names, show_data, show_formulas, rankdir):
        import graphviz

        self.walked, self.names = walked, names
        self.show_data, self.show_formulas = show_data, show_formulas
        self.graph = graphviz.Digraph("computational_graph")
        self.graph.attr(rankdir=rankdir, fontname="Helvetica", fontsize="12")
        self.graph.attr("node", fontname="Helvetica", fontsize="11", style="filled", margin="0.05")
        self.graph.attr("edge", arrowsize="0.7")

    def node(self, name, **attrs):
        self.graph.body.append(f"\t{name} [{_attributes(attrs)}]\n")

    def edge(self, tail, head, **attrs):
        self.graph.body.append(f"\t{tail} -> {head} [{_attributes(attrs)}]\n")

    def tensor_name(self, k):
        # an empty name would leave <B></B>, which dot refuses
        return self.names.get(id(self.walked.tensors[k])) or f"#{k + 1}"

    def add_tensors(self, grads):
        """One node per tensor: name, shape and dtype, value, gradient (when known)."""
        for k, t in enumerate(self.walked.tensors):
            kind = tensor_kind(t, k == 0)
            # shapes and numbers are digits, signs, brackets and commas: nothing to escape
            rows = [f"<B>{escape(self.tensor_name(k))}</B>", f"{t.data.shape} {_dtype_name(t.data.dtype)}"]
            if self.show_data:
                rows.append(f"data {summarize(t.data)}")
            if grads is not None and k in grads:
                rows.append(f"grad {summarize(grads[k])}")
            self.node(f"t{k}", label=_table(rows), shape="box", **KIND_STYLES[kind])

    def add_ops(self, current=None):
        """One node per op: its name and, with show_formulas, its local derivative."""
        for j, fn in enumerate(self.walked.ops):
            rows = [f"<B>{escape(fn.name)}</B>"]
            if self.show_formulas and type(fn).formula:
                rows.append(f'<FONT POINT-SIZE="10">{escape(type(fn).formula)}</FONT>')
            attrs = {"fillcolor": OP_COLOR}
            if j == current:
                attrs = {"fillcolor": CURRENT_OP_COLOR, "penwidth": "3"}
            self.node(f"op{j}", label=_table(rows), shape="ellipse", **attrs)

    def add_links(self, gradients=None, pending=False):
        """One edge per data-flow link, coloured by the gradient along it when known.

        gradients: {link: array or None}; a link missing from it is drawn as pending
        (backward has not reached it yet) when `pending`, else plain.
        """
        walked = self.walked
        for link in walked.links():
            j = link[1]
            if link[0] == "in":
                source = walked.op_inputs[j][link[2]]
                if source is None:
                    continue
                tail, head = f"t{source}", f"op{j}"
            else:
                tail, head = f"op{j}", f"t{walked.op_output[j]}"
            self.edge(tail, head, **self._edge_style(link, gradients, pending))

    @staticmethod
    def _edge_style(link, gradients, pending):
        if gradients is None:
            return {}
        if link not in gradients:
            return {"color": PENDING_COLOR, "style": "dotted"} if pending else {}
        grad = gradients[link]
        if grad is None:
            return {"color": NO_GRADIENT_COLOR, "style": "dashed", "tooltip": "no gradient flows here"}
        size = mean_abs(grad)
        return {
            "color": gradient_color(size),
            "penwidth": f"{_gradient_weight(size):.2f}",
            "tooltip": f"mean |grad| = {size:.3g}",
        }

    def add_cut(self):
        """One node that says how many nodes were left out, linked to where the cut is."""
        walked = self.walked
        if not walked.omitted:
            return
        self.node(
            "omitted",
            label=_table([f"… {walked.omitted:,} more nodes not shown", "(raise max_nodes to see them)"]),
            shape="box",
            style="dashed",
        )
        for j, inputs in enumerate(walked.op_inputs):
            if any(i is None for i in inputs):
                self.edge("omitted", f"op{j}", style="dashed")
        for k in walked.cut_tensors:
            self.edge("omitted", f"t{k}", style="dashed")

    def add_legend(self, gradients_shown, pending=False):
        """What the colours and shapes mean: one row of node kinds, one of edge colours."""
        kinds = [
            (ROOT_COLOR, "root (double border)"),
            (PARAMETER_COLOR, "leaf that requires grad"),
            (CONSTANT_COLOR, "constant, no grad (dashed)"),
            (INTERMEDIATE_COLOR, "intermediate tensor"),
            (OP_COLOR, "op (ellipse)"),
        ]
        if pending:
            kinds.append((CURRENT_OP_COLOR, "op whose backward runs now"))
        rows = [_legend_row("legend", kinds)]
        if gradients_shown:
            scale = [(ZERO_GRADIENT_COLOR, "0")] + [(gradient_color(10.0**e), f"1e{e}") for e in (-6, -4, -2)]
            scale += [(gradient_color(1.0), "≥ 1"), (NOT_FINITE_COLOR, "inf, nan")]
            notes = "dashed grey: no gradient flows" + ("; dotted: not reached yet" if pending else "")
            rows.append(_legend_row("edge colour: mean |grad| along it (log scale)", scale, notes, text_color="white"))
        cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
        label = f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">{cells}</TABLE>>'
        self.node("legend", label=label, shape="plain", style="")


def _legend_row(title, swatches, notes="", text_color="black"):
    """One row of the legend: a title, then coloured cells with their meaning inside."""
    cells = [f'<TD ALIGN="LEFT"><B>{title}</B></TD>']
    for color, text in swatches:
        cells.append(f'<TD BGCOLOR="{color}" BORDER="1"><FONT COLOR="{text_color}">{text}</FONT></TD>')
    if notes:
        cells.append(f'<TD ALIGN="LEFT">{notes}</TD>')
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3"><TR>{"".join(cells)}</TR></TABLE>'


def _attributes(attrs):
    """DOT attributes: HTML-like labels as they are, other values quoted.

    The Digraph's own node() and edge() quote every value with regular expressions,
    which takes most of the time for 10,000 nodes; our values are HTML labels we built
    (escaped already), colours, numbers and style names."""
    return " ".join(f"{key}={value}" if value.startswith("<") else f'{key}="{value}"' for key, value in attrs.items())


def _table(rows):
    """An HTML-like label: one row per (already escaped) text."""
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _check_arguments(root, rankdir, max_nodes):
    if not isinstance(root, Tensor):
        raise TypeError(f"expected the root Tensor of a graph, got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


def draw_graph(root, params=None, show_data=True, show_grad=True, show_formulas=False, rankdir="LR", max_nodes=500):
    """The computational graph that made `root`, as a graphviz.Digraph (Jupyter shows it).

    One node per tensor (its name from params=, a dict of name to tensor, else #k; shape,
    dtype, value; after backward its gradient) and one per op (grad_fn.name, and its
    `formula` with show_formulas=True); one edge per data-flow link, input → op → output.
    After backward, with show_grad=True, leaves show their .grad, the other tensors the
    gradient that reached them (computed by viz, seeded with ones like root.backward()),
    and each edge is coloured by mean |grad| along it (log scale) so that vanishing
    gradients stand out. Beyond max_nodes nodes the picture is
    cut, with a node that says how many were left out.
    """
    _check_arguments(root, rankdir, max_nodes)
    walked = walk(root, max_nodes)
    picture = _Picture(walked, _names(params), show_data, show_formulas, rankdir)
    show_grad = show_grad and walked.leaf_has_grad
    tensor_grads, link_grads = _shown_gradients(walked, root) if show_grad else (None, None)
    picture.add_tensors(tensor_grads)
    picture.add_ops()
    picture.add_links(link_grads)
    picture.add_cut()
    picture.add_legend(show_grad)
    return picture.graph


def backward_steps(root, params=None, show_data=True, show_formulas=True, rankdir="LR", max_nodes=500):
    """One picture per op, in the order the engine runs their backward: the op whose
    backward runs is highlighted, and the gradients known so far are filled in (the sums
    so far, where a tensor is used more than once). Computes its own gradients: every
    .grad is left as it is. Returns a list of graphviz.Digraph."""
    _check_arguments(root, rankdir, max_nodes)
    walked = walk(root, max_nodes)
    names = _names(params)
    gradients = _Gradients(walked, root)
    steps = _backward_pass(root)
    op_number = {id(fn): j for j, fn in enumerate(walked.ops)}
    frames = []
    for number, (fn, grad_out, input_grads) in enumerate(steps, start=1):
        gradients.add_step(fn, grad_out, input_grads)
        picture = _Picture(walked, names, show_data, show_formulas, rankdir)
        caption = f"step {number} of {len(steps)}: backward of {fn.name}"
        if type(fn).formula:
            caption += f"  ({type(fn).formula})"
        picture.graph.attr(label=f"<{escape(caption)}>", labelloc="t")
        picture.add_tensors(gradients.tensor)
        picture.add_ops(current=op_number.get(id(fn)))
        picture.add_links(gradients.link, pending=True)
        picture.add_cut()
        picture.add_legend(True, pending=True)
        frames.append(picture.graph)
    return frames


# -------------------------------------------------------------------------- files
def _target(path, format):
    """(the path to write, its format) by render's rules: the suffix names the format."""
    path = pathlib.Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if not suffix:
        format = format or "svg"
        return path.with_name(f"{path.name}.{format}"), format
    if suffix not in FORMATS:
        raise ValueError(
            f"the suffix .{suffix} of {str(path)!r} is not a format render writes: "
            f"expected one of {', '.join('.' + f for f in FORMATS)} or no suffix"
        )
    if format is not None and format != suffix:
        raise ValueError(f"format={format!r} contradicts the suffix of {str(path)!r}: give one or make them agree")
    return path, suffix


def _write(graph, path, format):
    """Write `graph` to `path` as `format`; without dot, write its DOT source next to it
    (suffix .dot) and raise RuntimeError saying how to install graphviz."""
    import graphviz

    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "dot":
        path.write_text(graph.source, encoding="utf-8")
        return
    try:
        picture = graph.pipe(format=format)
    except graphviz.ExecutableNotFound as error:
        source = path.with_suffix(".dot")
        source.write_text(graph.source, encoding="utf-8")
        raise RuntimeError(
            f"cannot render {str(path)!r}: graphviz's dot program was not found. "
            f"The DOT source is in {str(source)!r}. To draw pictures, {INSTALL_HINT}"
        ) from error
    path.write_bytes(picture)


def render(root, path, format=None, **draw_kwargs):
    """Draw the graph of `root` (draw_graph's keywords) into `path`; return the path written.

    The format ("svg", "png", "pdf" or "dot") comes from the path's suffix; with no suffix
    `format` (default "svg") is appended; a format= that contradicts the suffix is a
    ValueError. Where dot is missing, the DOT source goes to the path with suffix .dot
    and a RuntimeError says how to install graphviz.
    """
    target, format = _target(path, format)
    _write(draw_graph(root, **draw_kwargs), target, format)
    return str(target)


def render_steps(root, directory, format="png", **draw_kwargs):
    """Write backward_steps(root) as numbered files directory/step_001.png, ...; return their paths."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    directory = pathlib.Path(directory)
    frames = backward_steps(root, **draw_kwargs)
    width = max(3, len(str(len(frames))))
    paths = []
    for number, frame in enumerate(frames, start=1):
        path = directory / f"step_{number:0{width}d}.{format}"
        _write(frame, path, format)
        paths.append(str(path))
    return paths


# --------------------------------------------------------------------------- text
def text_graph(root, params=None, show_data=True, show_grad=True, show_formulas=False, max_nodes=500):
    """The graph of `root` as a plain-text tree: one line per tensor, with the op that
    made it and that op's inputs by number; the inputs below it. Each node appears once:
    a tensor met again is a reference, "(see #3)". Where at most one input has inputs of
    its own, the others come first and that one continues straight down, unindented, so a
    long chain stays narrow. After backward (show_grad) each tensor shows its gradient,
    as in draw_graph.

        #1 loss  () float64  data 0.3133  ← Neg(#2)
        #2  () float64  data -0.3133  ← Log(#3 y_hat)
        #3 y_hat  () float64  data 0.7311  ← Sigmoid(#4)
        #4  () float64  data 1  ← Add(#5, #6 b)
        ├─ #6 b  () float64  data -1
        #5  () float64  data 2  ← Mul(#7 w, #8 x)
        ├─ #7 w  () float64  data 2
        └─ #8 x  () float64  data 1
    """
    _check_arguments(root, "LR", max_nodes)
    walked = walk(root, max_nodes)
    names = _names(params)
    grads = _shown_gradients(walked, root)[0] if show_grad and walked.leaf_has_grad else {}
    op_of = {k: j for j, k in enumerate(walked.op_output)}
    cut = set(walked.cut_tensors)

    def title(k):
        name = names.get(id(walked.tensors[k]))
        return f"#{k + 1}" if name is None else f"#{k + 1} {name}"

    def describe(k):
        t = walked.tensors[k]
        parts = [title(k), f"{t.data.shape} {_dtype_name(t.data.dtype)}"]
        if show_data:
            parts.append(f"data {summarize(t.data)}")
        if k in grads:
            parts.append(f"grad {summarize(grads[k])}")
        line = "  ".join(parts)
        if k in op_of:
            fn = walked.ops[op_of[k]]
            inputs = ", ".join("…" if i is None else title(i) for i in walked.op_inputs[op_of[k]])
            line += f"  ← {fn.name}({inputs})"
            if show_formulas and type(fn).formula:
                line += f"  [{type(fn).formula}]"
        elif k in cut:
            line += "  ← … (left out)"
        return line

    lines, printed = [], set()
    stack = [(0, "", "")]  # (tensor number - 1, or None beyond the cut; prefix of its line; prefix below it)
    while stack:
        k, first, rest = stack.pop()
        if k is None:
            lines.append(f"{first}… (left out)")
        elif k in printed:
            lines.append(f"{first}(see {title(k)})")
        else:
            printed.add(k)
            lines.append(first + describe(k))
            if k in op_of:
                stack.extend(reversed(_tree_children(walked, op_of, op_of[k], rest, printed)))
    if walked.omitted:
        lines.append(f"… {walked.omitted:,} more nodes not shown (raise max_nodes to see them)")
    return "\n".join(lines)


def _tree_children(walked, op_of, j, rest, printed):
    """The inputs of op j as (tensor, prefix of its line, prefix below it), in print order."""
    inputs = walked.op_inputs[j]
    # a simple input prints as one line: it has no inputs, or it was printed already
    simple = [i for i in inputs if i is None or i not in op_of or i in printed]
    branches = [i for i in inputs if not (i is None or i not in op_of or i in printed)]
    if len(branches) <= 1:
        last = len(simple) - 1 if not branches else -1
        children = [(i, rest + ("└─ " if n == last else "├─ "), rest) for n, i in enumerate(simple)]
        return children + [(i, rest, rest) for i in branches]
    last = len(inputs) - 1
    return [
        (i, rest + ("└─ " if n == last else "├─ "), rest + ("   " if n == last else "│  "))
        for n, i in enumerate(inputs)
    ]


def _shown_gradients(walked, root):
    """{tensor number - 1: array}: each leaf's .grad, for the others the gradient that
    reached them (viz's own backward pass)."""
    gradients = _Gradients(walked, root)
    for step in _backward_pass(root):
        gradients.add_step(*step)
    shown = gradients.tensor
    for k, t in enumerate(walked.tensors):
        if t.grad_fn is None and k != 0:
            shown.pop(k, None)
            if t.grad is not None:
                shown[k] = t.grad.data
    return shown, gradients.link


__all__ = ["draw_graph", "backward_steps", "render", "render_steps", "text_graph", "walk", "gradient_color"]
