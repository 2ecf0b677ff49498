# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 6: seeing the computational graph, and backward step by step
#
# Every operation on tensors that require grad records a node: the op (its `grad_fn`),
# the tensors that went in, the tensor that came out. `backward()` walks these nodes from
# the loss back to the parameters, and each node applies the chain rule with its own
# local derivative, its `formula`:
#
#     ∂loss/∂input = ∂loss/∂output · ∂output/∂input
#
# `tg.viz` draws the graph with graphviz: values, the gradient that reached each tensor,
# and the formula of each op; `render_steps` draws one frame per op, in the order the
# engine runs them, and `tg.viz.step_through` puts those frames on a slider with each
# step's chain rule written out (upstream gradient × local derivative = downstream
# gradient). Then two tools for when training goes wrong: `tg.detect_anomaly()` names,
# and marks on the picture, the first op that made a NaN or an inf, and
# `tg.viz.plot_gradient_flow` shows how much gradient reaches each layer. Without
# graphviz's `dot` program the lesson says so in one line, keeps the DOT source (.dot
# files: paste them into any graphviz viewer) and prints the same graph as text.
#
# As a script: `python examples/06_computational_graph.py [--quick] [--out DIR]`.

# %%
"""Lesson 6: seeing the computational graph, and backward step by step."""

import numpy as np
from _common import (
    check_derivation,
    check_prediction,
    in_notebook,
    parse_args,
    save_figure,
    say,
    show,
    show_file,
)

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, nn

RANKDIR = "TB"  # top to bottom: a tall graph fits a slide, and the loss ends up at the bottom


# %% [markdown]
# ## Two graphs
#
# A logistic regression on one point, loss = BCE(σ(x Wᵀ + b), y), and a 2-3-1 MLP with
# tanh on four points. `params=` names the tensors in the pictures; the parameters of a
# model are named from `named_parameters()`.


# %%
def logistic_regression_graph():
    """loss = BCE(σ(x Wᵀ + b), y) for one point x = (1, 2) of class y = 1."""
    model = nn.Linear(2, 1)
    model.weight.data[...] = np.array([[0.8, -0.3]], dtype=np.float32)  # round numbers read better in a picture
    model.bias.data[...] = 0.1
    x, y = Tensor([[1.0, 2.0]]), Tensor([[1.0]])
    score = model(x)
    y_hat = F.sigmoid(score)
    loss = F.binary_cross_entropy(y_hat, y)
    loss.backward()
    names = {"x": x, "y": y, "z": score, "ŷ": y_hat, "loss": loss}
    names.update({f"linear.{name}": p for name, p in model.named_parameters()})
    return loss, names


def mlp_graph():
    """A 2-3-1 MLP with tanh on a batch of four points: loss = BCE-with-logits(MLP(x), y)."""
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    x = Tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = Tensor([[1.0], [1.0], [0.0], [0.0]])
    logits = model(x)
    loss = F.binary_cross_entropy_with_logits(logits, y)
    loss.backward()
    names = {"x": x, "y": y, "logits": logits, "loss": loss}
    names.update(dict(model.named_parameters()))
    return loss, names


# %% [markdown]
# ## When a NaN appears: `tg.detect_anomaly()`
#
# Cross-entropy written out by hand, −[y ln ŷ + (1 − y) ln(1 − ŷ)], breaks on a point the
# model is sure of: σ(40) is exactly 1 in float32, so ln(1 − ŷ) = ln 0 = −inf, the loss
# is inf and its gradient NaN. Inside `with tg.detect_anomaly():` the first op whose
# forward (or backward) makes a NaN or an inf raises a RuntimeError that names it, with
# its formula and input shapes; the error's `.output` is that op's result, so
# `tg.draw_graph(error.output)` draws the graph up to it, the op marked in red. The
# fused `F.binary_cross_entropy_with_logits` never takes ln 0: the same loss is finite.


# %%
def anomaly_graph():
    """The hand-written cross-entropy of a point with score 40 and class 0, computed under
    detect_anomaly: (the error it raised, the tensors' names, the fused loss's value)."""
    w = Tensor([[20.0], [10.0]], requires_grad=True)
    x, y = Tensor([[1.0, 2.0]]), Tensor([[0.0]])
    score = x @ w  # 1·20 + 2·10 = 40
    y_hat = score.sigmoid()  # 1.0 exactly in float32
    not_y_hat = 1 - y_hat
    names = {"w": w, "x": x, "z": score, "ŷ": y_hat, "1 − ŷ": not_y_hat}
    with np.errstate(divide="ignore"), tg.detect_anomaly():
        try:
            -(y * y_hat.log() + (1 - y) * not_y_hat.log())
        except RuntimeError as error:
            fused = F.binary_cross_entropy_with_logits(score, y)
            return error, names, fused.item()
    raise AssertionError("ln(1 − σ(40)) in float32 should have made an inf")


# %% [markdown]
# ## How much gradient reaches each layer
#
# Each sigmoid multiplies the gradient that passes back through it by σ'(z) ≤ 1/4, so in
# a deep stack of sigmoid layers the gradient shrinks layer after layer on its way to the
# input: the first layers barely learn. `tg.viz.plot_gradient_flow(model)` shows, for each
# parameter from the input to the output, the mean |grad| and ‖grad‖ / ‖data‖ (how far a
# step of gradient descent moves it).


# %%
def deep_sigmoid_mlp_gradients():
    """Six Linear + Sigmoid layers of width 8 on a batch of 32 points, after one backward:
    the model, with its .grad filled in."""
    tg.manual_seed(0)
    layers = []
    for n in range(6):
        layers += [nn.Linear(2 if n == 0 else 8, 8), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(8, 1))
    x, y = tg.randn(32, 2), (tg.rand(32, 1) > 0.5).astype(np.float32)
    F.binary_cross_entropy_with_logits(model(x), y).backward()
    return model


# %% [markdown]
# ## Pictures, or the DOT source without graphviz
#
# The first picture tells whether graphviz's `dot` is installed. Without it,
# `tg.viz.render` writes the DOT source beside the path asked for and raises a
# RuntimeError saying how to install graphviz; the lesson turns that into one line and
# keeps the `.dot` files.


# %%
def render_pictures(graphs, out):
    """Each graph as SVG and PNG (or as DOT source where dot is missing): (paths, formats)."""
    loss, names = graphs["logistic_regression"]
    files = []
    try:
        files.append(
            tg.viz.render(
                loss, out / "logistic_regression_graph.svg", params=names, show_formulas=True, rankdir=RANKDIR
            )
        )
        formats = ("svg", "png")
    except RuntimeError as error:
        say("graphviz's dot is missing", f"{error}; the pictures below are DOT source (.dot) instead")
        formats = ("dot",)
    for name, (loss, names) in graphs.items():
        for format in formats:
            path = str(out / f"{name}_graph.{format}")
            if path not in files:
                files.append(tg.viz.render(loss, path, params=names, show_formulas=True, rankdir=RANKDIR))
    for path in files:
        say("graph picture", path)
    return files, formats


# %%
def watch_training(out, formats):
    """The two tools for training gone wrong: detect_anomaly on the hand-written
    cross-entropy (its message, and the graph with the op marked), and the gradient flow of
    a deep sigmoid MLP."""
    error, names, fused = anomaly_graph()
    say("anomaly caught", error)
    say("the fused loss instead", f"binary_cross_entropy_with_logits = {fused:.4g}, finite")
    say("the graph up to the anomaly", "\n" + tg.viz.text_graph(error.output, params=names))
    anomaly_files = [
        tg.viz.render(error.output, out / f"anomaly_graph.{format}", params=names, rankdir=RANKDIR)
        for format in formats
    ]
    for path in anomaly_files:
        say("graph picture", path)
    if anomaly_files[0].endswith(".svg"):
        show_file(anomaly_files[0])
    model = deep_sigmoid_mlp_gradients()
    flow = tg.viz.gradient_flow(model)
    weights = [(name, mean) for name, mean, _ in flow if name.endswith("weight")]
    say("mean |grad| of the weights, input to output", ", ".join(f"{name} {mean:.2g}" for name, mean in weights))
    flow_figure = save_figure(tg.viz.plot_gradient_flow(model), out, "gradient_flow.png")
    return {"anomaly": str(error), "anomaly_files": anomaly_files, "gradient_flow": flow, "figures": [flow_figure]}


# %%
def main(argv=None):
    args = parse_args(__doc__, argv)
    graphs = {"logistic_regression": logistic_regression_graph(), "mlp": mlp_graph()}
    results = {}
    for name, (loss, names) in graphs.items():
        text = tg.viz.text_graph(loss, params=names)
        say(f"{name.replace('_', ' ')} loss", f"{loss.item():.4f}")
        say(f"{name.replace('_', ' ')} graph as text", "\n" + text)
        results[f"{name}_text"] = text

    files, formats = render_pictures(graphs, args.out)
    for path in files:
        if path.endswith(".svg"):
            show_file(path)

    # the backward pass of the logistic regression, one frame per op, in the engine's order:
    # numbered files, each step's chain rule as text, and in a notebook the frames on a slider
    loss, names = graphs["logistic_regression"]
    frames = args.out / "backward_steps"
    steps = tg.viz.render_steps(loss, frames, format=formats[-1], params=names, show_formulas=True, rankdir=RANKDIR)
    say("backward pass as numbered frames", f"{len(steps)} frames in {frames}")
    products = tg.viz.chain_rule_products(loss, params=names)
    for text in products:
        say("chain rule", text)
    if in_notebook():
        show(tg.viz.step_through(loss, params=names, show_formulas=True, rankdir=RANKDIR))
    results.update(dot_available=formats != ("dot",), files=files, steps=steps, chain_rule=products)
    results.update(watch_training(args.out, formats))
    return results


# %% [markdown]
# ## Run the lesson
#
# First each graph as text (a tensor per line, the op that made it and its inputs), then
# the pictures: boxes are tensors (gold the loss, green the parameters), ellipses are ops
# with their local derivative, and each edge's colour is the size of the gradient along
# it. Then the backward pass one op at a time: each step's chain rule with its numbers,
# and (in a notebook) the frames on a slider — press play, or drag it. Last, the anomaly
# that detect_anomaly caught, marked in red on its graph, and the gradient flow of a deep
# sigmoid MLP: each layer nearer the input gets less.

# %%
if __name__ == "__main__":
    results = main()

# %% [markdown]
# ## Exercises
#
# Write your answer where it says `None` and run the cell. Solutions:
# `solutions/06_computational_graph.py`.
#
# ### Exercise 1: follow the gradient through a graph
#
# For ŷ = σ(w·x + b) with w = 2, x = 3, b = −6, predict ∂ŷ/∂w: the gradient that
# backward leaves in `w.grad`. Walk the graph from ŷ back to w: σ's local derivative
# at z = w·x + b, times the derivative of w·x + b with respect to w. The check runs
# backward and prints the graph as text with each gradient.

# %%
gradient_reaching_w = None  # your prediction: a number


def exercise_gradient_reaching_w(prediction):
    def computed():
        w, x, b = (Tensor(v, dtype=np.float64, requires_grad=True) for v in (2.0, 3.0, -6.0))
        y_hat = (w * x + b).sigmoid()
        y_hat.backward()
        print(tg.viz.text_graph(y_hat, params={"w": w, "x": x, "b": b, "ŷ": y_hat}))
        return w.grad.item()

    todo = "σ'(z) = σ(z)(1 − σ(z)) at z = 2·3 − 6, times ∂z/∂w; then set gradient_reaching_w"
    return check_prediction("gradient reaching w", prediction, computed, todo)


if __name__ == "__main__":
    exercise_gradient_reaching_w(gradient_reaching_w)


# %% [markdown]
# ### Exercise 2: the chain rule through two ops
#
# loss = (tanh(w·x) − y)² for the weights w (2,), the point `CHAIN_X` and the target
# `CHAIN_Y`. The graph is Dot → Tanh → Sub → Pow; write ∂loss/∂w with NumPy in
# `chain_rule_gradient`, one local derivative per op, multiplied from the loss back.

# %%
CHAIN_X = np.array([0.5, -1.5])
CHAIN_Y = 0.25


def chain_rule_gradient(w):
    """∂/∂w of (tanh(w·CHAIN_X) − CHAIN_Y)², an array of shape (2,)."""
    return None  # your derivation


def exercise_chain_rule_gradient(by_hand):
    def loss(w):
        return ((w @ Tensor(CHAIN_X)).tanh() - CHAIN_Y) ** 2

    w = Tensor([0.4, 0.3], dtype=np.float64)
    todo = "write ∂loss/∂w in chain_rule_gradient: 2(tanh(w·x) − y) · (1 − tanh²(w·x)) · ..."
    return check_derivation("chain rule through tanh", loss, w, by_hand, todo)


if __name__ == "__main__":
    exercise_chain_rule_gradient(chain_rule_gradient)
