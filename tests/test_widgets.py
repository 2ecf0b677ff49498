"""The pictures that move: t.draw, step_through (backward on a slider, each step's chain
rule written out), LiveGraph (the graph and the loss curve as a loop trains),
plot_gradient_flow, and what each does without dot, matplotlib or ipywidgets."""

import html
import io
import math
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from test_viz import StopGradient, scalar  # the pictures' tests' own helpers

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, autograd, nn, viz
from tinygrad_edu.viz import live

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def neuron():
    """y = σ(w·x + b) at w = 2, x = 3, b = −5, so z = 1: the graph the numbers below are
    checked on by hand."""
    w, x, b = scalar(2), scalar(3), scalar(-5)
    wx = w * x
    z = wx + b
    y = z.sigmoid()
    return y, {"w": w, "x": x, "b": b, "wx": wx, "z": z, "y": y}


def sigmoid_slope(z):
    s = 1 / (1 + math.exp(-z))
    return s * (1 - s)


def hide(monkeypatch, package):
    """Make `import package` (and its submodules) fail, as where it is not installed."""
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, package, None)


def no_dot(monkeypatch, tmp_path):
    """A PATH on which graphviz finds no dot program."""
    empty = tmp_path / "no-programs-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def spy_on_the_chain_rule(monkeypatch):
    """Count the calls of autograd.backpropagate, the engine's chain rule."""
    calls = []
    real = autograd.backpropagate

    def spy(*args, **kwargs):
        calls.append(args[0])
        yield from real(*args, **kwargs)

    monkeypatch.setattr(autograd, "backpropagate", spy)
    return calls


# --------------------------------------------------------------------------- t.draw
def test_draw_is_draw_graph_of_the_tensor():
    y, names = neuron()
    y.backward()
    drawn = y.draw(params=names, rankdir="TB", show_formulas=True)
    assert drawn.source == tg.draw_graph(y, params=names, rankdir="TB", show_formulas=True).source
    assert "σ'(x)" in html.unescape(drawn.source)


def test_import_needs_no_picture_library():
    code = "import sys, tinygrad_edu; print([m for m in ('matplotlib', 'ipywidgets', 'graphviz') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"import tinygrad_edu imported {out.strip()}"


# ------------------------------------------------------------------ chain-rule products
def test_each_step_writes_upstream_times_local_equals_downstream_by_hand():
    y, names = neuron()
    slope = sigmoid_slope(1.0)  # σ'(z) at z = 2·3 − 5 = 1

    products = viz.chain_rule_products(y, params=names)

    sigmoid, add, mul = products
    assert sigmoid.startswith("step 1 of 3: backward of Sigmoid")
    assert "∂y/∂y × ∂y/∂z = ∂y/∂z" in sigmoid
    assert f"upstream 1 × local {slope:.4g} = downstream {slope:.4g}" in sigmoid, sigmoid
    assert f"upstream {slope:.4g} × local 1 = downstream {slope:.4g}" in add, add
    assert add.count("× local 1 =") == 2, "Add sends the upstream gradient to both inputs"
    assert f"w:  ∂y/∂wx × ∂wx/∂w = ∂y/∂w\n      upstream {slope:.4g} × local 3 = downstream {3 * slope:.4g}" in mul
    assert f"x:  ∂y/∂wx × ∂wx/∂x = ∂y/∂x\n      upstream {slope:.4g} × local 2 = downstream {2 * slope:.4g}" in mul


def test_an_elementwise_step_shows_each_elements_local_derivative():
    x = Tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    h = x.tanh()
    loss = (h * 3.0).sum()
    tanh_step = viz.chain_rule_products(loss, params={"x": x, "h": h})[2]
    local = 1 - np.tanh(x.numpy()) ** 2  # tanh'(x) = 1 − tanh²(x), by hand
    expected = f"upstream [3, 3, 3] × local {viz.summarize(local)} = downstream {viz.summarize(3 * local)}"
    assert expected in tanh_step, tanh_step


def test_a_step_that_is_not_elementwise_says_it_is_a_vector_jacobian_product():
    # softmax's Jacobian is not diagonal: "upstream × local" element by element would be wrong
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    weights = Tensor(np.array([1.0, 0.0, -1.0]))
    loss = (x.softmax() * weights).sum()
    softmax_step = viz.chain_rule_products(loss, params={"x": x})[-1]
    assert "backward of Softmax" in softmax_step
    assert "vector–Jacobian product" in softmax_step and "× local" not in softmax_step, softmax_step


def test_a_broadcast_scalar_gets_a_sum_not_a_product():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    s = scalar(3)
    (text,) = viz.chain_rule_products((x * s).sum().grad_fn.inputs[0], params={"x": x, "s": s})
    by_element = "x:  ∂L/∂#1 × ∂#1/∂x = ∂L/∂x\n      upstream [1, 1] × local [3, 3] = downstream [3, 3]"
    assert by_element in text, f"x: element by element, times s:\n{text}"
    assert "s:  ∂L/∂s = Σ over the elements of #1" in text and "→  downstream 3" in text, "s: the sum 1·1 + 1·2"


def test_a_constant_input_gets_no_gradient_and_the_text_says_why():
    x = scalar(2)
    (text,) = viz.chain_rule_products(x * 5.0)
    assert "no gradient flows (it does not require grad)" in text


def test_a_step_that_no_gradient_reaches_says_so():
    x = scalar(0.5)
    z = x.exp()
    loss = StopGradient.apply(z) * x
    products = viz.chain_rule_products(loss, params={"x": x, "z": z, "loss": loss})
    assert "backward of StopGradient" in products[1] and "z: no gradient flows" in products[1]
    assert products[2].endswith("no gradient reaches z: nothing flows back through Exp"), products[2]


def test_a_name_of_more_than_a_word_is_put_in_parentheses_inside_the_fractions():
    z = scalar(0.0)
    y_hat = z.sigmoid()
    (text,) = viz.chain_rule_products(y_hat, params={"score z": z, "ŷ = σ(z)": y_hat})
    assert "score z:  ∂(ŷ = σ(z))/∂(ŷ = σ(z)) × ∂(ŷ = σ(z))/∂(score z) = ∂(ŷ = σ(z))/∂(score z)" in text, text


def test_chain_rule_products_change_no_grad_and_replay_a_freed_graph():
    y, names = neuron()
    y.backward()  # frees what backward saved
    grads = {name: t.grad for name, t in names.items()}
    values = {name: g.item() for name, g in grads.items() if g is not None}
    products = viz.chain_rule_products(y, params=names)
    assert f"downstream {3 * sigmoid_slope(1.0):.4g}" in products[2]
    assert {name: t.grad for name, t in names.items()} == grads
    assert {name: g.item() for name, g in grads.items() if g is not None} == values
    assert y.grad_fn.saved is autograd.FREED, "what backward freed stays freed"


# ------------------------------------------------------------------------ step_through
def pages(widget):
    """The HTML of each page of the widget (its Stack's children), unescaped."""
    return [html.unescape(page.value) for page in widget.children[-1].children]


def controls(widget):
    play, slider = widget.children[0].children
    return play, slider


def test_step_through_frames_are_backward_steps_with_their_chain_rule(dot):
    y, names = neuron()
    widget = viz.step_through(y, params=names)
    frames = viz.backward_steps(y, params=names, rankdir="TB")
    assert [f.source for f in widget.frames] == [f.source for f in frames], "the same frames, top to bottom"
    assert widget.products == viz.chain_rule_products(y, params=names)
    shown = pages(widget)
    assert len(shown) == 3
    for page, product in zip(shown, widget.products):
        assert product in page and "<svg" in page, "each page: its step's chain rule above its picture"
    assert f"upstream 1 × local {sigmoid_slope(1.0):.4g} = downstream" in shown[0]
    assert "rankdir=TB" in widget.frames[0].source


def test_step_through_slider_turns_the_pages():
    y, names = neuron()
    widget = viz.step_through(y, params=names)
    play, slider = controls(widget)
    stack = widget.children[-1]
    assert [label for label, _ in slider.options] == ["1 of 3: Sigmoid", "2 of 3: Add", "3 of 3: Mul"]
    slider.index = 2
    assert stack.selected_index == 2
    play.value = 1
    assert slider.index == 1 and stack.selected_index == 1, "play moves the slider, the slider the page"
    assert repr(widget).startswith("step_through: 3 backward steps"), "a viewer without widgets shows one line"


def test_step_through_takes_one_pass_of_the_engine_and_changes_no_grad(monkeypatch):
    y, names = neuron()
    y.backward()
    grads = {name: t.grad for name, t in names.items()}
    calls = spy_on_the_chain_rule(monkeypatch)
    viz.step_through(y, params=names)
    assert calls == [y], "frames and texts come from one pass of autograd.backpropagate"
    assert {name: t.grad for name, t in names.items()} == grads


def test_step_through_without_dot_says_so_in_one_line_and_keeps_the_text(monkeypatch, tmp_path):
    no_dot(monkeypatch, tmp_path)
    y, names = neuron()
    widget = viz.step_through(y, params=names)
    note = html.unescape(widget.children[1].value)
    assert "dot program was not found" in note and "apt-get install graphviz" in note and "\n" not in note
    assert all("<svg" not in page and "backward of" in page for page in pages(widget))


def test_step_through_refuses_what_has_no_steps_or_too_many():
    with pytest.raises(ValueError, match="this one is a leaf"):
        viz.step_through(scalar(1))
    x = scalar(0.5)
    h = x
    for _ in range(10):
        h = h.tanh()
    with pytest.raises(ValueError, match="21 tensors and ops, more than max_nodes=20"):
        viz.step_through(h, max_nodes=20)
    with pytest.raises(ValueError, match="rankdir must be one of"):
        viz.step_through(h, rankdir="up")


def test_step_through_without_ipywidgets_names_the_extra(monkeypatch):
    hide(monkeypatch, "ipywidgets")
    y, _ = neuron()
    with pytest.raises(RuntimeError, match=r"step_through needs ipywidgets.*tinygrad_edu\[examples\]"):
        viz.step_through(y)


# ------------------------------------------------------------------------- LiveGraph
def training(steps, view, snapshot=None):
    """A small MLP on four points, `steps` steps of SGD, view.update(loss) between backward
    and step. snapshot(model) is called just before each update and just after it."""
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    optimizer = tg.optim.SGD(model.parameters(), lr=0.5)
    x = Tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = Tensor([[1.0], [1.0], [0.0], [0.0]])
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        before = snapshot(model) if snapshot else None
        view.update(loss)
        if snapshot:
            assert snapshot(model) == before, "update changed a .grad"
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def grads_of(model):
    return [(name, id(p.grad), p.grad.numpy().tobytes()) for name, p in model.named_parameters()]


def test_live_graph_in_a_script_writes_numbered_frames_and_changes_no_grad(dot, tmp_path):
    view = viz.LiveGraph(every=10, directory=tmp_path / "frames")
    _, losses = training(25, view, snapshot=grads_of)
    assert [path.rsplit("/", 1)[1] for path in view.frames] == ["step_000010.png", "step_000020.png"]
    for path in view.frames:
        with open(path, "rb") as file:
            picture = file.read()
        assert picture.startswith(PNG_MAGIC)
        assert min(Image.open(io.BytesIO(picture)).info["dpi"]) > 119, "slide-ready: 120 dpi"
    assert view.losses == pytest.approx(losses), "every loss is kept for the curve"


def test_live_graph_frames_show_the_graph_beside_the_loss(dot, tmp_path, monkeypatch):
    drawn = []
    real = live.draw_graph
    monkeypatch.setattr(live, "draw_graph", lambda *a, **k: drawn.append(k) or real(*a, **k))
    with_graph = viz.LiveGraph(every=5, directory=tmp_path / "with")
    training(5, with_graph)
    no_dot(monkeypatch, tmp_path)
    without = viz.LiveGraph(every=5, directory=tmp_path / "without")
    training(5, without)
    wide, narrow = (Image.open(view.frames[0]).size for view in (with_graph, without))
    assert wide[0] > narrow[0] + 200, f"the graph takes room beside the curve: {wide} against {narrow}"
    assert drawn[0]["rankdir"] == "TB", "top to bottom, beside the curve"


def test_live_graph_names_the_tensors_from_params(dot, tmp_path, monkeypatch):
    sources = []
    real = live.picture_bytes
    monkeypatch.setattr(
        live, "picture_bytes", lambda graph, format: sources.append(graph.source) or real(graph, format)
    )
    tg.manual_seed(0)
    model = nn.Linear(2, 1)
    view = viz.LiveGraph(every=1, params=dict(model.named_parameters()), directory=tmp_path)
    model(Tensor([[1.0, 2.0]])).sum().backward()
    view.update(model(Tensor([[1.0, 2.0]])).sum())
    assert "<B>weight</B>" in sources[0] and "<B>bias</B>" in sources[0]


def test_live_graph_in_a_notebook_redraws_in_place(monkeypatch, tmp_path):
    import IPython.display

    shown, updated = [], []

    class Handle:
        def update(self, picture):
            updated.append(picture)

    def display(picture, display_id=False):
        shown.append((picture, display_id))
        return Handle()

    monkeypatch.setattr(live, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    view = viz.LiveGraph(every=10, directory=tmp_path / "frames")
    training(30, view)
    assert len(shown) == 1 and shown[0][1] is True, "one output, made once, with a display id"
    assert len(updated) == 2, "steps 20 and 30 replace it in place"
    assert all(picture.data.startswith(PNG_MAGIC) for picture in [shown[0][0], *updated])
    assert view.frames == [] and not (tmp_path / "frames").exists(), "a notebook gets no files"


def test_live_graph_without_dot_still_writes_the_loss_curve_and_says_so_once(monkeypatch, tmp_path, capsys):
    no_dot(monkeypatch, tmp_path)
    view = viz.LiveGraph(every=5, directory=tmp_path / "frames", format="svg")
    training(10, view)
    said = [line for line in capsys.readouterr().out.splitlines() if "dot program was not found" in line]
    assert len(said) == 1 and "apt-get install graphviz" in said[0], "one line, said once"
    assert [path.rsplit("/", 1)[1] for path in view.frames] == ["step_000005.svg", "step_000010.svg"]
    assert all(open(path, encoding="utf-8").read().startswith("<?xml") for path in view.frames)


def test_live_graph_refuses_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="every must be a positive int"):
        viz.LiveGraph(every=0)
    with pytest.raises(ValueError, match="format must be one of png, svg, pdf, got 'gif'"):
        viz.LiveGraph(format="gif")
    with pytest.raises(TypeError, match="dict of name to tensor"):
        viz.LiveGraph(params={"w": 1.0})
    view = viz.LiveGraph(directory=tmp_path)
    with pytest.raises(ValueError, match=r"expects the loss, a Tensor of one element, got shape \(2,\)"):
        view.update(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="a Tensor of one element, got float"):
        view.update(0.5)
    assert view.losses == [], "a refused loss is not recorded"


def test_live_graph_without_matplotlib_names_the_extra(monkeypatch, tmp_path):
    hide(monkeypatch, "matplotlib")
    view = viz.LiveGraph(every=1, directory=tmp_path)
    with pytest.raises(RuntimeError, match=r"LiveGraph needs matplotlib.*tinygrad_edu\[examples\]"):
        training(1, view)


# ------------------------------------------------------------------- gradient flow
def test_plot_gradient_flow_has_one_bar_per_parameter_with_the_values_by_hand():
    import matplotlib.figure
    import matplotlib.pyplot as plt

    model = nn.Linear(2, 1)
    model.weight.data[...] = np.array([[3.0, -4.0]], dtype=np.float32)  # ‖W‖ = 5
    model.bias.data[...] = 2.0
    model(Tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()  # ∂/∂W = Σ rows of x = (4, 6); ∂/∂b = 2 rows = 2
    figure = viz.plot_gradient_flow(model)
    try:
        assert isinstance(figure, matplotlib.figure.Figure)
        top, bottom = figure.axes
        means = [bar.get_height() for bar in top.patches]
        ratios = [bar.get_height() for bar in bottom.patches]
        assert means == pytest.approx([(4 + 6) / 2, 2]), "mean |grad|, in the order of named_parameters"
        assert ratios == pytest.approx([math.sqrt(4**2 + 6**2) / 5, 2 / 2]), "‖grad‖ / ‖data‖"
        assert [label.get_text() for label in bottom.get_xticklabels()] == ["weight", "bias"]
        assert top.get_yscale() == "log"
    finally:
        plt.close(figure)


def test_plot_gradient_flow_marks_a_parameter_without_grad():
    import matplotlib.pyplot as plt

    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    model[2].bias.requires_grad = False
    model(Tensor([[1.0, 2.0]])).sum().backward()
    figure = viz.plot_gradient_flow(model)
    try:
        labels = [label.get_text() for label in figure.axes[1].get_xticklabels()]
        assert labels == ["0.weight", "0.bias", "2.weight", "2.bias (no grad)"]
        assert math.isnan(figure.axes[0].patches[-1].get_height())
        assert [name for name, *_ in viz.gradient_flow(model)] == [name for name, _ in model.named_parameters()]
    finally:
        plt.close(figure)


def test_plot_gradient_flow_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match="expects a Module or a dict of name to tensor, got int"):
        viz.plot_gradient_flow(3)
    with pytest.raises(ValueError, match="has none"):
        viz.plot_gradient_flow({})


def test_plot_gradient_flow_without_matplotlib_names_the_extra(monkeypatch):
    hide(monkeypatch, "matplotlib")
    with pytest.raises(RuntimeError, match=r"plot_gradient_flow needs matplotlib.*tinygrad_edu\[examples\]"):
        viz.plot_gradient_flow(nn.Linear(2, 1))
