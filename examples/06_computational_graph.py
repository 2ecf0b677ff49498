"""Lesson 6: seeing the computational graph, and backward step by step.

    python examples/06_computational_graph.py [--quick] [--out DIR]

Every operation on tensors that require grad records a node: the op (its grad_fn),
the tensors that went in, the tensor that came out. backward() walks these nodes from
the loss back to the parameters, and each node applies the chain rule with its own
local derivative, its `formula`:

    ∂loss/∂input = ∂loss/∂output · ∂output/∂input

tg.viz draws the graph with graphviz: values, the gradient that reached each tensor,
and the formula of each op; render_steps draws one frame per op, in the order the
engine runs them. Without graphviz's `dot` program the lesson says so, keeps the DOT
source (.dot files: paste them into any graphviz viewer) and prints the same graph as
text.
"""

import numpy as np
from _common import parse_args, say

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, nn


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
    names = {"x": x, "y": y, "score z": score, "ŷ = σ(z)": y_hat, "loss": loss}
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


def main(argv=None):
    args = parse_args(__doc__, argv)
    graphs = {"logistic_regression": logistic_regression_graph(), "mlp": mlp_graph()}
    results = {}
    for name, (loss, names) in graphs.items():
        text = tg.viz.text_graph(loss, params=names)
        say(f"{name.replace('_', ' ')} loss", f"{loss.item():.4f}")
        say(f"{name.replace('_', ' ')} graph as text", "\n" + text)
        results[f"{name}_text"] = text

    # the first picture tells whether graphviz's dot is here; without it, keep the DOT source
    loss, names = graphs["logistic_regression"]
    files = []
    try:
        files.append(tg.viz.render(loss, args.out / "logistic_regression_graph.svg", params=names, show_formulas=True))
        formats = ("svg", "png")
    except RuntimeError as error:
        say("graphviz's dot is missing", f"{error}\nthe pictures below are DOT source (.dot) instead")
        formats = ("dot",)
    for name, (loss, names) in graphs.items():
        for format in formats:
            path = str(args.out / f"{name}_graph.{format}")
            if path not in files:
                files.append(tg.viz.render(loss, path, params=names, show_formulas=True))
    for path in files:
        say("graph picture", path)

    # the backward pass of the logistic regression, one frame per op, in the engine's order
    loss, names = graphs["logistic_regression"]
    frames = args.out / "backward_steps"
    steps = tg.viz.render_steps(loss, frames, format=formats[-1], params=names, show_formulas=True)
    say("backward pass as numbered frames", f"{len(steps)} frames in {frames}")
    results.update(dot_available=formats != ("dot",), files=files, steps=steps)
    return results


if __name__ == "__main__":
    main()
