"""Draw the graph of logistic regression for the README: docs/logistic_regression_graph.svg and .png.

    python docs/make_graph.py

ŷ = σ(x·w + b) for four points of two features, and the binary cross-entropy
L = −mean(y ln ŷ + (1 − y) ln(1 − ŷ)) written with Tensor ops, after backward: every op
shows its local derivative, every tensor its gradient, every edge the size of the
gradient that flows along it.
"""

import pathlib

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor

HERE = pathlib.Path(__file__).resolve().parent


def logistic_regression():
    """The loss of a logistic regression and the names of its tensors."""
    x = Tensor(np.array([[0.5, 1.0], [-1.0, 0.5], [1.5, -0.5], [-0.5, -1.5]]))  # 4 points, 2 features
    y = Tensor(np.array([1.0, 0.0, 1.0, 0.0]))  # their labels
    w = Tensor(np.array([0.8, -0.4]), requires_grad=True)
    b = Tensor(np.array(0.1), requires_grad=True)
    z = x @ w + b
    y_hat = z.sigmoid()
    not_y = 1 - y
    loss = -(y * y_hat.log() + not_y * (1 - y_hat).log()).mean()
    names = {"x": x, "y": y, "w": w, "b": b, "z = x·w + b": z, "ŷ = σ(z)": y_hat, "1 − y": not_y, "loss": loss}
    return loss, names


def main():
    loss, names = logistic_regression()
    loss.backward()
    for suffix in ("svg", "png"):
        path = tg.viz.render(
            loss, HERE / f"logistic_regression_graph.{suffix}", params=names, show_formulas=True, rankdir="TB"
        )
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
