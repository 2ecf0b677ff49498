"""Pictures of the graph: one node per tensor and per op, one edge per data-flow link,
escaped labels, gradients computed by viz itself, render's file rules, text_graph."""

import importlib
import math
import os
import pkgutil
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.ops
from tinygrad_edu import Tensor, autograd, viz

STATEMENT = re.compile(r"^(\w+)(?: -> (\w+))?(?: \[(.*)\])?$", re.S)
HTML_LABEL = re.compile(r"label=(<.*>)(.*)$", re.S)  # graphviz writes the label first
ATTRIBUTE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
BOLD = re.compile(r"<B>(.*?)</B>")
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def scalar(value):
    return Tensor(np.array(float(value)), requires_grad=True)


def parse_attributes(text):
    """{key: value} of a DOT attribute list, quotes removed; an HTML label as it is."""
    attributes = {}
    match = HTML_LABEL.match(text)
    if match:
        attributes["label"], text = match.groups()
    for key, value in ATTRIBUTE.findall(text):
        attributes[key] = value[1:-1] if value.startswith('"') else value
    return attributes


def statements(graph):
    """[(node, None, attributes)] and [(tail, head, attributes)] for every node and edge of
    the graph's DOT source, with the defaults of the scopes around it (node [...] and
    edge [...] in the graph and its subgraphs) filled in, as dot reads them."""
    scopes = [{"node": {}, "edge": {}}]
    found = []
    for line in graph.source.splitlines()[1:]:  # after "digraph computational_graph {"
        line = line.strip()
        if line.endswith("{"):  # a subgraph starts: it inherits the defaults
            scopes.append({kind: dict(defaults) for kind, defaults in scopes[-1].items()})
            continue
        if line == "}":
            scopes.pop()
            continue
        match = STATEMENT.match(line)
        if not match:  # a graph attribute: rankdir=LR, a frame's label
            continue
        first, head, text = match.groups()
        attributes = parse_attributes(text or "")
        if head is None and first in ("node", "edge"):
            scopes[-1][first].update(attributes)
            continue
        found.append((first, head, {**scopes[-1]["node" if head is None else "edge"], **attributes}))
    return found


def all_nodes(graph):
    """{node id: its attributes}, the legend and the cut's node included."""
    return {name: attributes for name, head, attributes in statements(graph) if head is None}


def nodes_of(graph):
    """{node id: its attributes} for the graph's tensors and ops (not the legend)."""
    return {name: a for name, a in all_nodes(graph).items() if re.fullmatch(r"t\d+|op\d+", name)}


def edges_of(graph):
    """[(tail, head, attributes)] of every edge."""
    return [(tail, head, attributes) for tail, head, attributes in statements(graph) if head is not None]


def title_of(attributes):
    """The bold first row of a node's label (a tensor's name, an op's name)."""
    return BOLD.search(attributes["label"]).group(1)


def named_edges(graph):
    """The edges as (tail title, head title), counted."""
    titles = {node: title_of(attrs) for node, attrs in nodes_of(graph).items()}
    return Counter((titles[tail], titles[head]) for tail, head, _ in edges_of(graph) if tail in titles)


def attribute(attributes, key):
    return attributes.get(key)


def svg_texts(svg):
    """Every text of an SVG document, after XML parsing (which undoes the escaping)."""
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(SVG_TEXT)]


def logistic_graph():
    """loss = sum(σ(x·w + b) · 2): 9 tensors (one the constant 2), 5 ops, 13 links."""
    x, w, b = scalar(3), scalar(2), scalar(-6)
    xw = x * w
    z = xw + b
    y = z.sigmoid()
    scaled = y * 2.0
    two = scaled.grad_fn.inputs[1]
    loss = scaled.sum()
    names = {"x": x, "w": w, "b": b, "xw": xw, "z": z, "y": y, "two": two, "scaled": scaled, "loss": loss}
    return loss, names


# ---------------------------------------------------------------------------- structure
def test_one_node_per_tensor_and_op_and_one_edge_per_link():
    loss, names = logistic_graph()
    graph = tg.draw_graph(loss, params=names)
    nodes = nodes_of(graph)
    assert sum(n.startswith("t") for n in nodes) == 9, "x, w, b, xw, z, y, two, scaled, loss"
    assert sum(n.startswith("op") for n in nodes) == 5, "Mul, Add, Sigmoid, Mul, Sum"
    edges = named_edges(graph)  # the two Mul ops share a title: their links are told apart by tensor
    expected = Counter(
        [
            ("x", "Mul"), ("w", "Mul"), ("Mul", "xw"),
            ("xw", "Add"), ("b", "Add"), ("Add", "z"),
            ("z", "Sigmoid"), ("Sigmoid", "y"),
            ("y", "Mul"), ("two", "Mul"), ("Mul", "scaled"),
            ("scaled", "Sum"), ("Sum", "loss"),
        ]
    )  # fmt: skip
    assert edges == expected
    assert len(edges_of(graph)) == 13


def test_a_tensor_used_twice_by_one_op_has_two_links():
    x = scalar(3)
    y = x * x
    graph = tg.draw_graph(y, params={"x": x, "y": y})
    assert len(nodes_of(graph)) == 3
    assert named_edges(graph) == Counter({("x", "Mul"): 2, ("Mul", "y"): 1})


def test_unnamed_tensors_get_short_ids_and_named_ones_their_names():
    x = scalar(1)
    y = x.exp().log()
    titles = sorted(title_of(a) for n, a in nodes_of(tg.draw_graph(y, params={"input": x})).items() if n[0] == "t")
    assert titles == ["#1", "#2", "input"]


def test_leaf_constant_and_root_look_different_and_legend_explains():
    loss, names = logistic_graph()
    graph = tg.draw_graph(loss, params=names)
    by_title = {title_of(a): a for a in nodes_of(graph).values()}
    looks = {
        name: (attribute(by_title[name], "fillcolor"), attribute(by_title[name], "style"))
        for name in ("loss", "w", "two", "z")
    }
    assert len(set(looks.values())) == 4, f"root, leaf, constant and intermediate must differ: {looks}"
    legend = all_nodes(graph)["legend"]["label"]
    for color, _ in looks.values():
        assert color in legend, f"the legend shows the colour {color}"
    assert "constant" in legend and "root" in legend


def test_value_shows_all_elements_up_to_six_else_min_mean_max():
    small = Tensor(np.array([[1.0, 2.5, 3.0], [4.0, 5.0, 6.0]]), requires_grad=True)
    large = Tensor(np.arange(7, dtype=np.float64), requires_grad=True)
    graph = tg.draw_graph(small.sum() + large.sum(), params={"small": small, "large": large})
    labels = {title_of(a): a["label"] for a in nodes_of(graph).values()}
    assert "data [[1, 2.5, 3], [4, 5, 6]]" in labels["small"]
    assert "(2, 3) float64" in labels["small"]
    assert "data min 0  mean 3  max 6" in labels["large"]


def test_params_must_map_names_to_tensors():
    x = scalar(1)
    with pytest.raises(TypeError, match="dict of name to tensor"):
        tg.draw_graph(x.exp(), params={"x": 1.0})
    with pytest.raises(TypeError, match="expected the root Tensor"):
        tg.draw_graph(1.0)
    with pytest.raises(ValueError, match="rankdir must be one of"):
        tg.draw_graph(x.exp(), rankdir="up")
    with pytest.raises(ValueError, match="max_nodes must be a positive int"):
        tg.draw_graph(x.exp(), max_nodes=0)


def test_draw_graph_is_viz_draw_graph_and_import_needs_no_graphviz():
    assert tg.draw_graph is viz.draw_graph
    code = "import sys, tinygrad_edu; print('graphviz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", "import tinygrad_edu must not import graphviz"
    code = "import sys, tinygrad_edu as tg; x = tg.ones(2, requires_grad=True); tg.viz.text_graph((x * 2).sum())\n"
    code += "print('graphviz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", "text needs no graphviz: it is imported when a picture is drawn"


def test_viz_is_a_package_with_one_module_per_job():
    for job in ("walking", "gradients", "labels", "picture", "text", "files"):
        importlib.import_module(f"tinygrad_edu.viz.{job}")
    for name in ("draw_graph", "backward_steps", "render", "render_steps", "text_graph"):
        assert name in viz.__all__ and callable(getattr(viz, name)), name


def test_pictures_are_built_with_graphvizs_own_api(monkeypatch):
    import graphviz

    made = Counter()  # statements made through Digraph.node, Digraph.edge and Digraph.edges

    def spy(method, count):
        real = getattr(graphviz.Digraph, method)

        def counting(self, *args, **kwargs):
            args = list(args)
            if method == "edges":
                args[0] = list(args[0])
            made[method.rstrip("s")] += count(args)
            return real(self, *args, **kwargs)

        monkeypatch.setattr(graphviz.Digraph, method, counting)

    spy("node", lambda args: 1)
    spy("edge", lambda args: 1)
    spy("edges", lambda args: len(args[0]))
    loss, names = logistic_graph()
    for backward in (False, True):
        if backward:
            loss.backward()
        made.clear()
        graph = tg.draw_graph(loss, params=names)
        assert made["node"] == len(all_nodes(graph)) == 9 + 5 + 1, "tensors, ops, legend"
        assert made["edge"] == len(edges_of(graph)) == 13, "each statement of the DOT source comes from the API"


# ------------------------------------------------------------------------------ labels
def test_labels_escape_quotes_angle_brackets_ampersands_and_backslashes(dot):
    name = 'a"b<c>&d\\e\\N'
    x = scalar(1)
    graph = tg.draw_graph(x.exp(), params={name: x})
    assert "a&quot;b&lt;c&gt;&amp;d" in graph.source
    assert "<c>" not in graph.source
    assert name in svg_texts(graph.pipe(format="svg")), "dot shows the name as it is (\\N is not the node's id)"


@settings(max_examples=40)
@given(name=st.text(max_size=12))
def test_any_name_renders_through_dot(dot, name):
    x = scalar(2)
    texts = svg_texts(tg.draw_graph(x.sigmoid(), params={name: x}).pipe(format="svg"))
    if name.isprintable() and name == " ".join(name.split()) and name:
        assert name in texts


def test_show_formulas_prints_each_ops_formula():
    loss, names = logistic_graph()
    with_formulas = tg.draw_graph(loss, show_formulas=True).source
    without = tg.draw_graph(loss).source
    for op in (tg.ops.elementwise.Sigmoid, tg.ops.elementwise.Add, tg.ops.reduce.Sum):
        assert viz.escape(op.formula) in with_formulas
        assert viz.escape(op.formula) not in without


def function_classes():
    """Every concrete Function subclass defined in a module of tinygrad_edu.ops."""
    found = []
    for module_info in pkgutil.iter_modules(tinygrad_edu.ops.__path__):
        module = importlib.import_module(f"tinygrad_edu.ops.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, tg.Function)
                and value.__module__ == module.__name__
                and value.forward is not tg.Function.forward  # abstract bases (BinaryFunction) define no forward
            ):
                found.append(value)
    return found


def test_every_op_has_a_formula():
    classes = function_classes()
    names = {cls.__name__ for cls in classes}
    assert {"Sigmoid", "MatMul", "Linear", "Sum", "Softmax", "Reshape", "Cat"} <= names
    assert len(classes) >= 30, f"found only {sorted(names)}"
    missing = [cls.__name__ for cls in classes if not (isinstance(cls.formula, str) and cls.formula.strip())]
    assert not missing, f"these ops have no formula: {missing}"


# --------------------------------------------------------------------------- rendering
def test_svg_rendered_by_dot_is_xml_and_names_every_op(dot, tmp_path):
    loss, names = logistic_graph()
    loss.backward()
    path = viz.render(loss, tmp_path / "graph.svg", params=names, show_formulas=True)
    assert path == str(tmp_path / "graph.svg")
    texts = " ".join(svg_texts((tmp_path / "graph.svg").read_bytes()))
    for op in ("Mul", "Add", "Sigmoid", "Sum"):
        assert op in texts
    assert "σ'(x) = σ(x)(1 − σ(x))" in texts


def test_render_takes_the_format_from_the_suffix(dot, tmp_path):
    x = scalar(1)
    y = x.exp()
    assert viz.render(y, tmp_path / "a.png") == str(tmp_path / "a.png")
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert viz.render(y, tmp_path / "b.pdf").endswith("b.pdf")
    assert (tmp_path / "b.pdf").read_bytes()[:5] == b"%PDF-"
    assert viz.render(y, tmp_path / "c.dot").endswith("c.dot")
    assert (tmp_path / "c.dot").read_text().startswith("digraph")


def test_render_appends_the_format_when_there_is_no_suffix(dot, tmp_path):
    y = scalar(1).exp()
    assert viz.render(y, tmp_path / "plain") == str(tmp_path / "plain.svg")
    assert b"<svg" in (tmp_path / "plain.svg").read_bytes()
    assert viz.render(y, tmp_path / "sub" / "picture", format="png") == str(tmp_path / "sub" / "picture.png")
    assert (tmp_path / "sub" / "picture.png").exists()


def test_render_refuses_a_format_that_contradicts_the_suffix(tmp_path):
    y = scalar(1).exp()
    with pytest.raises(ValueError, match="contradicts"):
        viz.render(y, tmp_path / "a.svg", format="png")
    with pytest.raises(ValueError, match="format must be one of svg, png, pdf, dot, got .gif."):
        viz.render(y, tmp_path / "a", format="gif")
    with pytest.raises(ValueError, match=r"suffix \.jpg"):
        viz.render(y, tmp_path / "a.jpg")
    assert not list(tmp_path.iterdir()), "nothing is written when the arguments are wrong"


def test_without_dot_render_writes_the_dot_source_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    y = scalar(1).exp()
    with pytest.raises(RuntimeError) as error:
        viz.render(y, tmp_path / "graph.png")
    message = str(error.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert hint in message
    assert str(tmp_path / "graph.dot") in message
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
    assert not (tmp_path / "graph.png").exists()
    assert viz.render(y, tmp_path / "only.dot").endswith("only.dot"), "DOT needs no dot program"


def test_render_refuses_a_directory(tmp_path):
    (tmp_path / "pictures").mkdir()
    (tmp_path / "old.dot").mkdir()
    y = scalar(1).exp()
    for path in ("pictures", "old.dot", "old"):  # "old" would become old.dot
        with pytest.raises(ValueError, match="is a directory: expected the path of a file to write"):
            viz.render(y, tmp_path / path, format="dot")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["old.dot", "pictures"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_render_writes_a_special_file_without_a_suffix_as_it_is(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so that opening it to write does not wait
    try:
        assert viz.render(scalar(1).exp(), pipe, format="dot") == str(pipe)
        written = os.read(reader, 1 << 16)
    finally:
        os.close(reader)
    assert written.startswith(b"digraph")
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"], "no pipe.dot beside it"


def test_without_dot_render_never_overwrites_a_file_it_was_not_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    mine = tmp_path / "graph.dot"
    mine.write_text("my notes")
    y = scalar(1).exp()
    with pytest.raises(RuntimeError) as error:
        viz.render(y, tmp_path / "graph.svg")
    message = str(error.value)
    assert f"{str(mine)!r} exists already" in message and "apt-get install graphviz" in message
    assert "\n" not in message, "one line, as the command line prints it"
    assert mine.read_text() == "my notes"
    assert viz.render(y, mine) == str(mine) and mine.read_text().startswith("digraph"), "asked for, it is written"


# --------------------------------------------------------------------------- gradients
def test_gradients_shown_are_the_hand_derived_ones():
    # z = w·x + b = 0, y = σ(0) = 1/2, loss = Σ 2y: dloss/dy = 2, dloss/dz = 2·σ'(0) = 1/2
    loss, names = logistic_graph()
    loss.backward()
    labels = {title_of(a): a["label"] for a in nodes_of(tg.draw_graph(loss, params=names)).values()}
    expected = {"loss": 1, "scaled": 1, "y": 2, "z": 0.5, "xw": 0.5, "b": 0.5, "w": 1.5, "x": 1}
    for name, grad in expected.items():
        assert f"grad {grad:.4g}<" in labels[name], f"{name}: {labels[name]}"
    assert "grad" not in labels["two"], "a constant gets no gradient"


def test_no_gradients_before_backward_and_none_with_show_grad_false():
    loss, names = logistic_graph()
    before = tg.draw_graph(loss, params=names)
    assert not any("grad " in a["label"] for a in nodes_of(before).values())
    assert "edge colour" not in before.source and not any("color" in a for _, _, a in edges_of(before))
    loss.backward()
    hidden = tg.draw_graph(loss, params=names, show_grad=False)
    assert not any("grad " in a["label"] for a in nodes_of(hidden).values())
    assert "edge colour" not in hidden.source


def test_edge_colour_shows_a_vanishing_gradient():
    # σ(31) is saturated: σ'(31) ≈ 3.4e-14 flows into z, while 1 flows out of σ
    w, x, b = scalar(10), scalar(3), scalar(1)
    z = w * x + b
    y = z.sigmoid()
    y.backward()
    graph = tg.draw_graph(y, params={"w": w, "x": x, "b": b, "z": z, "y": y})
    titles = {node: title_of(attrs) for node, attrs in nodes_of(graph).items()}
    colors = {(titles[t], titles[h]): attribute(a, "color") for t, h, a in edges_of(graph)}
    s = 1 / (1 + math.exp(-31))
    assert colors[("z", "Sigmoid")] == viz.gradient_color(s * (1 - s)) == viz.GRADIENT_RAMP[0]
    assert colors[("Sigmoid", "y")] == viz.gradient_color(1.0) == viz.GRADIENT_RAMP[-1]
    widths = {(titles[t], titles[h]): float(attribute(a, "penwidth")) for t, h, a in edges_of(graph)}
    assert widths[("z", "Sigmoid")] < widths[("Sigmoid", "y")], "a larger gradient draws a thicker edge"
    assert "edge colour" in graph.source, "the legend says what the colours mean"


def test_gradient_colour_scale():
    assert viz.gradient_color(0.0) == viz.ZERO_GRADIENT_COLOR
    assert viz.gradient_color(float("nan")) == viz.gradient_color(float("inf")) == viz.NOT_FINITE_COLOR
    assert viz.gradient_color(1e-12) == viz.GRADIENT_RAMP[0]
    assert viz.gradient_color(1e3) == viz.GRADIENT_RAMP[-1]
    assert viz.gradient_color(1e-3) not in (viz.GRADIENT_RAMP[0], viz.GRADIENT_RAMP[-1])


def test_no_gradient_into_a_constant_is_dashed():
    x = scalar(2)
    y = x * 3.0
    y.backward()
    graph = tg.draw_graph(y, params={"x": x, "three": y.grad_fn.inputs[1]})
    titles = {node: title_of(attrs) for node, attrs in nodes_of(graph).items()}
    styles = {(titles[t], titles[h]): attribute(a, "style") for t, h, a in edges_of(graph)}
    assert styles[("three", "Mul")] == "dashed"
    assert styles[("x", "Mul")] == "solid"


class StopGradient(tg.Function):
    """The identity, whose backward sends no gradient (None): what lies behind it gets none."""

    formula = "no gradient"

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return None


def test_an_op_that_no_gradient_reaches_is_drawn_with_dashed_links():
    x = scalar(0.5)
    z = x.exp()
    loss = StopGradient.apply(z) * x  # no gradient comes back through StopGradient, so none reaches Exp
    loss.backward()
    graph = tg.draw_graph(loss, params={"x": x, "z": z})
    titles = {node: title_of(attrs) for node, attrs in nodes_of(graph).items()}
    styles = {(titles[t], titles[h]): attribute(a, "style") for t, h, a in edges_of(graph)}
    assert styles[("x", "Exp")] == styles[("Exp", "z")] == styles[("z", "StopGradient")] == "dashed"
    assert styles[("x", "Mul")] == styles[("StopGradient", "#2")] == "solid"
    frames = viz.backward_steps(loss)
    assert len(frames) == len(autograd.backward_order(loss.grad_fn)) == 3


def spy_on_the_chain_rule(monkeypatch):
    """Record every call of autograd.backpropagate, the engine's chain rule: its arguments
    and the grad mode each of its steps ran in."""
    calls = []
    real = autograd.backpropagate

    def spy(root, grad_root, retain_graph=True, replay_freed=False):
        call = {"root": root, "seed": grad_root.numpy().copy(), "retain_graph": retain_graph}
        call.update(replay_freed=replay_freed, grad_modes=[])
        calls.append(call)
        for step in real(root, grad_root, retain_graph, replay_freed):
            call["grad_modes"].append(tg.is_grad_enabled())
            yield step

    monkeypatch.setattr(autograd, "backpropagate", spy)
    return calls


@pytest.mark.parametrize("draw", [tg.draw_graph, viz.backward_steps, viz.text_graph])
def test_every_picture_takes_its_gradients_from_the_engines_chain_rule(monkeypatch, draw):
    loss, names = logistic_graph()
    loss.backward()  # frees the graph: the pictures replay it
    grads = {name: (t.grad, None if t.grad is None else t.grad.numpy().copy()) for name, t in names.items()}
    calls = spy_on_the_chain_rule(monkeypatch)
    draw(loss)
    assert len(calls) == 1, "one pass of the engine's own generator, no second copy of the algorithm"
    (call,) = calls
    assert call["root"] is loss and np.array_equal(call["seed"], np.ones(())), "seeded like loss.backward()"
    assert call["retain_graph"] and call["replay_freed"], "the graph is kept, and what backward freed is replayed"
    assert call["grad_modes"] == [False] * 5, "each step runs under no_grad"
    assert tg.is_grad_enabled()
    for name, (grad, values) in grads.items():
        assert names[name].grad is grad, f"{name}.grad is the same object"
        assert values is None or np.array_equal(grad.numpy(), values), f"{name}.grad kept its values"


def test_the_chain_rule_steps_leave_the_callers_grad_mode_between_them():
    loss, _ = logistic_graph()
    steps = viz.gradients.chain_rule_steps(loss)
    fn, grad_out, grads_in = next(steps)
    assert tg.is_grad_enabled(), "between two steps the caller's code records as it did"
    assert fn is loss.grad_fn and np.array_equal(grad_out.numpy(), np.ones(()))
    assert not any(g is not None and g.requires_grad for g in grads_in), "nothing was recorded"
    assert len(list(steps)) == 4


class SavedSquare(tg.Function):
    """x², keeping 2x in `saved` so that backward frees something viz must replay."""

    formula = "∂/∂x = 2x"

    def forward(self, x):
        self.saved = 2 * x
        return x * x

    def backward(self, grad):
        return grad * Tensor(self.saved)


def test_drawing_after_backward_keeps_links_and_every_grad():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    y = SavedSquare.apply(x)
    loss = (y * 1.5).sum()
    before = (len(nodes_of(tg.draw_graph(loss))), len(edges_of(tg.draw_graph(loss))))
    loss.backward()
    assert y.grad_fn.saved is autograd.FREED
    grad = x.grad
    values = grad.numpy().copy()
    graph = tg.draw_graph(loss, params={"x": x, "y": y})
    text = viz.text_graph(loss)
    assert (len(nodes_of(graph)), len(edges_of(graph))) == before, "backward keeps the graph's links"
    assert x.grad is grad and np.array_equal(x.grad.numpy(), values), "drawing changes no .grad"
    assert y.grad is None and loss.grad is None, "drawing gives no .grad to non-leaves"
    assert y.grad_fn.saved is autograd.FREED, "what backward freed stays freed"
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    # the replayed op sent 1.5 · 2x = [3, -6] to x: mean |grad| 4.5
    titles = {node: title_of(attrs) for node, attrs in nodes_of(graph).items()}
    tooltips = {(titles[t], titles[h]): attribute(a, "tooltip") for t, h, a in edges_of(graph)}
    assert tooltips[("x", "SavedSquare")] == "mean |grad| = 4.5"
    assert "grad [1.5, 1.5]" in text, "y's gradient, computed by viz"


def test_a_graph_kept_with_retain_graph_stays_usable_after_drawing():
    x = scalar(0.5)
    loss = SavedSquare.apply(x).exp()
    loss.backward(retain_graph=True)
    tg.draw_graph(loss)
    saved = loss.grad_fn.inputs[0].grad_fn.saved
    assert saved is not autograd.FREED
    loss.backward()
    # d/dx e^(x²) = 2x·e^(x²) = e^(1/4) at x = 1/2, accumulated by two backward passes
    assert np.isclose(x.grad.item(), 2 * math.exp(0.25))


# ------------------------------------------------------------------------- backward steps
def test_backward_steps_one_frame_per_op_in_the_engines_order():
    loss, names = logistic_graph()
    order = autograd.backward_order(loss.grad_fn)
    frames = viz.backward_steps(loss, params=names)
    assert len(frames) == len(order) == 5
    for number, (frame, fn) in enumerate(zip(frames, order), start=1):
        current = [a for a in nodes_of(frame).values() if a.get("fillcolor") == viz.CURRENT_OP_COLOR]
        assert len(current) == 1 and title_of(current[0]) == fn.name
        assert f"step {number} of 5: backward of {fn.name}" in frame.source


def test_backward_steps_fill_in_gradients_as_they_become_known_and_touch_no_grad():
    loss, names = logistic_graph()
    frames = viz.backward_steps(loss, params=names)
    assert all(t.grad is None for t in names.values()), "backward_steps writes no .grad"
    first = {title_of(a): a["label"] for a in nodes_of(frames[0]).values()}
    last = {title_of(a): a["label"] for a in nodes_of(frames[-1]).values()}
    assert "grad 1<" in first["scaled"] and "grad" not in first["x"]
    assert "grad 1.5<" in last["w"] and "grad 1<" in last["x"]
    pending = [a for _, _, a in edges_of(frames[0]) if attribute(a, "style") == "dotted"]
    assert len(pending) == 11, "after the first op only its own two links carry a gradient"
    assert not [a for _, _, a in edges_of(frames[-1]) if attribute(a, "style") == "dotted"]


def test_backward_steps_leave_existing_grads_alone():
    loss, names = logistic_graph()
    loss.backward(retain_graph=True)
    grads = {name: t.grad for name, t in names.items()}
    values = {name: g.numpy().copy() for name, g in grads.items() if g is not None}
    viz.backward_steps(loss)
    assert {name: t.grad for name, t in names.items()} == grads
    assert all(np.array_equal(names[n].grad.numpy(), v) for n, v in values.items())


def test_render_steps_writes_numbered_files(dot, tmp_path):
    loss, _ = logistic_graph()
    paths = viz.render_steps(loss, tmp_path / "steps", format="svg")
    assert [p.rsplit("/", 1)[1] for p in paths] == [f"step_00{i}.svg" for i in range(1, 6)]
    for path in paths:
        ET.parse(path)
    assert viz.render_steps(loss, tmp_path / "png")[0].endswith("step_001.png")


# --------------------------------------------------------------------------- large graphs
def chain(length):
    x = Tensor(np.array([0.1, 0.2]), requires_grad=True)
    h = x
    for _ in range(length):
        h = h.tanh()
    return x, h


def test_a_large_graph_is_cut_with_a_node_saying_how_many_were_left_out():
    _, h = chain(300)  # 301 tensors + 300 ops
    graph = tg.draw_graph(h, max_nodes=50)
    assert len(nodes_of(graph)) == 50
    omitted = all_nodes(graph)["omitted"]["label"]
    assert "551 more nodes not shown" in omitted
    assert any(tail == "omitted" for tail, _, _ in edges_of(graph)), "the cut is linked to where it is"
    h.sum().backward()
    cut_edges = [a for tail, _, a in edges_of(tg.draw_graph(h, max_nodes=50)) if tail == "omitted"]
    assert cut_edges and all((a["style"], a["color"]) == ("dashed", "black") for a in cut_edges), "no gradient pen"
    assert len(nodes_of(tg.draw_graph(h, max_nodes=601))) == 601
    assert "omitted" not in tg.draw_graph(h, max_nodes=601).source


def test_backward_steps_refuse_a_graph_beyond_max_nodes_in_seconds(tmp_path):
    _, h = chain(200_000)  # 200,001 tensors and 200,000 ops
    start = time.perf_counter()
    with pytest.raises(ValueError, match="this graph has 400,001 tensors and ops, more than max_nodes=500"):
        viz.backward_steps(h)
    with pytest.raises(ValueError, match="more than max_nodes=1,000"):
        viz.render_steps(h, tmp_path / "frames", max_nodes=1_000)
    assert time.perf_counter() - start < 30, "counting the graph is quick; drawing 200,000 frames was not"
    assert not (tmp_path / "frames").exists()
    _, small = chain(3)  # 4 tensors and 3 ops
    assert len(viz.backward_steps(small, max_nodes=7)) == 3
    with pytest.raises(ValueError, match="7 tensors and ops, more than max_nodes=6"):
        viz.backward_steps(small, max_nodes=6)


def test_deep_graphs_need_no_recursion():
    x, h = chain(20_000)
    assert len(nodes_of(tg.draw_graph(h))) == 500
    text = viz.text_graph(h, max_nodes=50_000)
    assert text.count("← Tanh") == 20_000
    assert max(map(len, text.splitlines())) < 150, "a chain stays narrow"


# ------------------------------------------------------------------------------ text
def test_text_graph_lists_each_node_once_and_shared_ones_by_reference():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x.exp()
    y = (h * h + h).sum()
    text = viz.text_graph(y, params={"x": x, "h": h, "y": y})
    lines = text.splitlines()
    assert len(lines) == 7, text  # y, h*h+h, h*h, h, x and two references to h
    assert sum("#4 h  (2,) float64" in line for line in lines) == 1
    assert sum(line.endswith("(see #4 h)") for line in lines) == 2
    for op in ("Sum", "Add", "Mul", "Exp"):
        assert text.count(f"← {op}(") == 1
    assert lines[0].startswith("#1 y  () float64")


def test_text_graph_shows_gradients_after_backward_and_formulas_when_asked():
    loss, names = logistic_graph()
    loss.backward()
    text = viz.text_graph(loss, params=names, show_formulas=True)
    assert "#" in text and "z  () float64  data 0  grad 0.5  ← Add(" in text
    assert "[σ'(x) = σ(x)(1 − σ(x))]" in text


def closes_each_block(text):
    """True when every "├─ " line is followed, in its column, by a sibling ("├─ ", "└─ ")
    or by its own inputs ("│  "): a block of inputs always ends with "└─ "."""
    lines = text.splitlines()
    for line, following in zip(lines, lines[1:] + [""]):
        if "├─ " in line:
            column = line.index("├─ ")
            if following[column : column + 3] not in ("├─ ", "└─ ", "│  "):
                return False
    return True


def test_text_graph_closes_each_block_of_inputs_with_a_corner():
    w, x, b = scalar(2), scalar(1), scalar(-1)
    y_hat = (w * x + b).sigmoid()
    loss = -y_hat.log()
    text = viz.text_graph(loss, params={"w": w, "x": x, "b": b, "y_hat": y_hat, "loss": loss})
    lines = text.splitlines()
    add = next(n for n, line in enumerate(lines) if "← Add(" in line)
    assert lines[add + 1].startswith("└─ #6 b"), "b is the only one-line input of Add: its block closes at once"
    assert lines[add + 2].startswith("#5 "), "Add's other input, which has inputs of its own, goes on straight down"
    assert lines[-2].startswith("├─ #7 w") and lines[-1].startswith("└─ #8 x"), "Mul's two leaves"
    h = x.exp()
    shared = ((h * h + h) * w + b).sum()
    for root in (loss, shared, chain(5)[1]):
        text = viz.text_graph(root)
        assert closes_each_block(text), text


# --------------------------------------------------------------------------- float noise
def test_rounding_noise_shows_as_zero():
    # eps(float32) · 3 · 0.5 ≈ 1.8e-7: -4.657e-10 next to 0.5 is rounding error, not a value
    noisy = np.array([0.5, -4.657e-10, 0.25], dtype=np.float32)
    assert viz.summarize(noisy) == "[0.5, 0, 0.25]"
    assert viz.summarize(np.array(-4.657e-10)) == "-4.657e-10", "alone, a small number is the value itself"
    assert viz.summarize(np.array([1.0, 1e-12])) == "[1, 1e-12]", "float64: 1e-12 is far above 4.4e-16"
    centred = np.linspace(-1, 1, 1001, dtype=np.float32)
    centred -= centred.mean()
    assert abs(centred.sum(dtype=np.float64) / centred.size) > 0, "the mean of these is noise, not exactly 0"
    assert viz.summarize(centred) == "min -1  mean 0  max 1"
    assert viz.summarize(np.array([3, 0, -2])) == "[3, 0, -2]", "integers are exact"


def test_a_gradient_that_cancels_shows_as_zero_in_the_picture():
    # softmax's outputs sum to 1 whatever z is: their sum's gradient is 0, up to rounding
    z = Tensor(np.array([0.3, -1.2, 2.5, 0.7], dtype=np.float32), requires_grad=True)
    loss = z.softmax().sum() + (z * Tensor(np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32))).sum()
    loss.backward()
    noise = z.grad.numpy()[1:]
    assert 0 < np.abs(noise).max() < 1e-6, f"float32 leaves rounding error here: {noise}"
    label = {title_of(a): a["label"] for a in nodes_of(tg.draw_graph(loss, params={"z": z})).values()}
    assert "grad [1, 0, 0, 0]" in label["z"], label["z"]


# --------------------------------------------------------------------------- slides
def test_png_pictures_are_drawn_at_120_dpi_and_say_so(dot, tmp_path):
    import io

    from PIL import Image

    loss, names = logistic_graph()
    graph = tg.draw_graph(loss, params=names)
    at_96 = Image.open(io.BytesIO(graph.pipe(format="png"))).size  # dot's own default
    path = viz.render(loss, tmp_path / "graph.png", params=names)
    image = Image.open(path)
    assert image.info["dpi"] == pytest.approx((120, 120), abs=0.1), "the PNG says it is 120 dpi"
    assert image.size[0] == pytest.approx(at_96[0] * 120 / 96, rel=0.03), "and has the pixels for it"
    assert "dpi" not in graph.source, "the graph given is left as it was"
    svg = viz.render(loss, tmp_path / "graph.svg", params=names)
    assert graph.pipe(format="svg") == open(svg, "rb").read(), "an SVG is drawn as dot draws it"
    step = viz.render_steps(loss, tmp_path / "steps")[0]
    assert Image.open(step).info["dpi"] == pytest.approx((120, 120), abs=0.1), "frames too"


def legend_rows(graph):
    """The legend's swatches, grouped by the table row they are in."""
    legend = all_nodes(graph)["legend"]["label"]
    return [row.count("BGCOLOR") for row in re.findall(r"<TR>(.*?)</TR>", legend) if "BGCOLOR" in row]


@pytest.mark.parametrize("rankdir", viz.RANKDIRS)
def test_the_legend_stacks_vertically_in_a_top_to_bottom_picture(rankdir):
    loss, names = logistic_graph()
    loss.backward()
    rows = legend_rows(tg.draw_graph(loss, params=names, rankdir=rankdir))
    if rankdir in ("TB", "BT"):
        assert rows and set(rows) == {1}, f"one swatch a row, so the legend is as narrow as the graph: {rows}"
        assert len(rows) == 5 + 6, "5 node kinds and 6 edge colours, one under the other"
    else:
        assert sorted(rows) == [5, 6], f"one row of node kinds and one of edge colours: {rows}"


def test_a_vertical_legend_renders_narrower(dot):
    loss, names = logistic_graph()
    loss.backward()
    widths = {}
    for rankdir in ("LR", "TB"):
        svg = tg.draw_graph(loss, params=names, rankdir=rankdir).pipe(format="svg")
        widths[rankdir] = float(ET.fromstring(svg).get("width").removesuffix("pt"))
    assert widths["TB"] < widths["LR"] / 2, f"a top-to-bottom frame fits a slide: {widths}"


# --------------------------------------------------------------------------- anomalies
@pytest.fixture
def quiet_numpy():
    with np.errstate(divide="ignore", invalid="ignore"):
        yield


def test_draw_graph_marks_the_op_that_made_an_inf_in_forward(quiet_numpy):
    x = Tensor(np.array([1.0, 0.0]), requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(RuntimeError) as error:
        (x * 2).log()
    graph = tg.draw_graph(error.value.output)
    ops = {title_of(a): a for name, a in nodes_of(graph).items() if name.startswith("op")}
    assert "⚠ forward made inf" in ops["Log"]["label"]
    assert ops["Log"]["color"] == viz.ANOMALY_COLOR and ops["Log"]["penwidth"] == "3"
    assert "⚠" not in ops["Mul"]["label"] and ops["Mul"].get("color") != viz.ANOMALY_COLOR
    assert "made NaN or inf" in all_nodes(graph)["legend"]["label"], "the legend says what the mark means"
    assert "⚠ forward made inf" in viz.text_graph(error.value.output), "the text marks it too"


def test_draw_graph_marks_the_op_whose_backward_made_an_inf(dot, quiet_numpy):
    x = Tensor(np.array([1.0, 0.0]), requires_grad=True)
    root = x.sqrt()  # √0 = 0 is fine; its derivative 1/(2√0) is not
    loss = (root * 2).sum()
    with tg.detect_anomaly(), pytest.raises(RuntimeError, match="Sqrt's backward made inf"):
        loss.backward()
    graph = tg.draw_graph(loss)
    marked = [title_of(a) for a in nodes_of(graph).values() if "⚠" in a["label"]]
    assert marked == ["Sqrt"]
    assert "⚠ backward made inf" in " ".join(svg_texts(graph.pipe(format="svg"))), "dot draws the mark"
    unmarked = tg.draw_graph((x * 3).sum())
    assert "⚠" not in unmarked.source and "made NaN or inf" not in unmarked.source


def test_a_graph_that_made_an_inf_draws_inside_the_detect_anomaly_block(dot, quiet_numpy):
    x = Tensor(np.array([1.0, 0.0]), requires_grad=True)
    loss = (x.sqrt() * 2).sum()
    with tg.detect_anomaly():
        with pytest.raises(RuntimeError, match="Sqrt's backward made inf"):
            loss.backward()
        x.grad = Tensor([1.0, 1.0])  # a leaf with a gradient: the picture runs its own backward pass
        graph = tg.draw_graph(loss, show_grad=True)  # unchecked: no second error
        assert tg.is_grad_enabled() and autograd._anomaly_checks.get(), "the block's modes are as they were"
        with pytest.raises(RuntimeError, match="made"):
            (x * np.inf - np.inf).sum()  # and the block still checks what comes after the picture
    marked = [title_of(a) for a in nodes_of(graph).values() if "⚠" in a["label"]]
    assert marked == ["Sqrt"]
    assert "inf" in " ".join(svg_texts(graph.pipe(format="svg")))
