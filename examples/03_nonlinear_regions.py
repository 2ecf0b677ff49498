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
# # Lesson 3: when a line is not enough
#
# Logistic regression draws one straight boundary w·x + b = 0. Two moons, two
# concentric circles and the XOR corners cannot be split by any line: on circles and XOR
# a line does no better than a coin. A multi-layer perceptron composes lines through a
# non-linearity,
#
#     ŷ = σ(W₃ tanh(W₂ tanh(W₁x + b₁) + b₂) + b₃),
#
# and each hidden unit bends the boundary a little more: it separates all three. The
# decision regions of both models are drawn side by side.
#
# As a script: `python examples/03_nonlinear_regions.py [--quick] [--out DIR]`.

# %%
"""Lesson 3: when a line is not enough."""

import numpy as np
from _common import (
    accuracy,
    check_prediction,
    figure,
    not_done,
    parse_args,
    progress,
    save_figure,
    say,
    scatter_classes,
)

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, optim

DATASETS = {
    "moons": tg.data.make_moons,
    "circles": tg.data.make_circles,
    "XOR": tg.data.make_xor,
}


# %% [markdown]
# ## Two models
#
# Logistic regression gives one linear score per point. The MLP feeds the point through
# two hidden layers of tanh units first; its last layer is a linear score again, but of
# features the hidden layers learnt.


# %%
def logistic_regression():
    """One linear score per point: the boundary is the line where it is 0."""
    return nn.Linear(2, 1)


def mlp(hidden=16):
    """Two hidden layers of tanh units, then one score."""
    return nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))


# %% [markdown]
# ## Training, and what a model says about the plane
#
# Both train the same way: full-batch Adam on the cross-entropy of σ(score). To see a
# model's decision regions, ask it for P(class 1) at every point of a grid over the
# plane, shade the plane by it and draw the contour where it is 0.5: the boundary.
#
# To watch the MLP learn the moons, `tg.viz.LiveGraph` draws, every few steps, that
# step's computational graph — each tensor's values and gradient, each edge coloured by
# the gradient flowing along it — beside the loss curve so far. In a notebook the
# picture is redrawn in place as the loop runs; from a script it writes numbered frames
# into out/live_graph_moons_mlp/. `view.update(loss)` goes after `loss.backward()`,
# which makes the gradients, and before `optimizer.step()`, which changes the
# parameters in place.


# %%
def train(model, X, y, epochs, description, view=None):
    """Full-batch Adam on the cross-entropy of σ(score); X (N, 2) float32, y (N,) in {0, 1}.
    `view`, a tg.viz.LiveGraph, is given each step's loss."""
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.BCEWithLogitsLoss()
    inputs, targets = Tensor(X), Tensor(y.astype(np.float32))
    bar = progress(range(epochs), description)
    for _ in bar:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs).reshape(-1), targets)
        loss.backward()
        if view is not None:
            view.update(loss)  # after backward (the gradients it shows), before step (which changes the weights)
        optimizer.step()
        bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
    return model


def probability(model, X):
    """P(class 1 | x) = σ(score) for each row of X, as a NumPy array."""
    with tg.no_grad():
        return model(Tensor(X.astype(np.float32))).sigmoid().numpy().reshape(-1)


def plot_regions(ax, model, X, y, title):
    """Shade the plane by the model's P(class 1), draw the 0.5 contour and the points."""
    x1 = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 150)
    x2 = np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 150)
    grid1, grid2 = np.meshgrid(x1, x2)
    p = probability(model, np.stack([grid1.ravel(), grid2.ravel()], axis=1)).reshape(grid1.shape)
    ax.contourf(grid1, grid2, p, levels=np.linspace(0, 1, 11), cmap="coolwarm", alpha=0.6)
    ax.contour(grid1, grid2, p, levels=[0.5], colors="black", linewidths=1.5)
    scatter_classes(ax, X, y, s=10)
    ax.set_title(title, fontsize=10)


# %%
def live_graph(model, out, epochs):
    """A LiveGraph that draws the model's graph five times while it trains, its
    parameters named as named_parameters() names them ("0.weight", ...)."""
    params = dict(model.named_parameters())
    return tg.viz.LiveGraph(every=epochs // 5, params=params, directory=out / "live_graph_moons_mlp")


# %%
def main(argv=None):
    args = parse_args(__doc__, argv)
    tg.manual_seed(0)
    n_samples, epochs = (200, 300) if args.quick else (400, 500)
    fig, axes = figure(2, len(DATASETS), width=3.8, height=3.6)
    results = {}
    for column, (name, make) in enumerate(DATASETS.items()):
        X_train, y_train = make(n_samples=n_samples, seed=0)
        X_test, y_test = make(n_samples=n_samples, seed=1)  # fresh points from the same distribution
        accuracies = {}
        for row, (model_name, build) in enumerate((("logistic regression", logistic_regression), ("MLP", mlp))):
            model = build()
            view = live_graph(model, args.out, epochs) if (name, model_name) == ("moons", "MLP") else None
            train(model, X_train, y_train, epochs, f"{model_name} on {name}", view)
            if view is not None:
                results["live_graph_frames"] = view.frames
                where = f"{len(view.frames)} frames in {view.directory}" if view.frames else "redrawn above"
                say("live graph of the MLP learning the moons", where)
            accuracies[model_name] = accuracy(probability(model, X_test) >= 0.5, y_test)
            results[f"{name.lower()}_{model_name.replace(' ', '_').lower()}_accuracy"] = accuracies[model_name]
            title = f"{model_name} on {name}: test accuracy {accuracies[model_name]:.2f}"
            plot_regions(axes[row, column], model, X_train, y_train, title)
        say(f"{name} test accuracy", ", ".join(f"{model_name} {value:.3f}" for model_name, value in accuracies.items()))
    results["figures"] = [save_figure(fig, args.out, "nonlinear_regions.png")]
    return results


# %% [markdown]
# ## Run the lesson
#
# First the MLP learning the moons, its graph beside the loss curve, redrawn every
# fifth of its training: watch the gradients along the edges shrink as the loss falls.
# Then the regions. Top row: logistic regression, one straight boundary. Bottom row: the
# MLP. The shading is P(class 1), the black line the boundary where it is 0.5.

# %%
if __name__ == "__main__":
    results = main()

# %% [markdown]
# ## Exercises
#
# Write your answer where it says `None` and run the cell. Solutions:
# `solutions/03_nonlinear_regions.py`.
#
# ### Exercise 1: count the parameters
#
# `mlp(hidden=16)` has three `nn.Linear` layers: 2 → 16, 16 → 16 and 16 → 1, each with a
# weight matrix and a bias. Predict how many numbers training adjusts, then run the
# cell: it counts them.

# %%
parameters_of_the_mlp = None  # your prediction: a whole number


def exercise_parameters_of_the_mlp(prediction):
    def computed():
        return sum(p.size for p in mlp(hidden=16).parameters())

    todo = "add up the weights (out × in) and biases (out) of the three layers, then set parameters_of_the_mlp"
    return check_prediction("parameters of the MLP", prediction, computed, todo, rel_tol=0, abs_tol=0.5)


if __name__ == "__main__":
    exercise_parameters_of_the_mlp(parameters_of_the_mlp)


# %% [markdown]
# ### Exercise 2: one hidden layer of ReLU units for XOR
#
# Change the model: write `xor_model()` to return an MLP with a single hidden layer of
# ReLU units (`nn.Linear`, `nn.ReLU`, `nn.Linear`, one score out) and see its regions.
# How few hidden units still separate XOR (test accuracy ≥ 0.95)? The check trains it
# as the lesson trains its models, draws its regions and counts its layers.


# %%
def xor_model():
    """A model with one hidden layer of ReLU units: 2 inputs, 1 score out."""
    return None  # your model


def exercise_xor_model(build, out="out"):
    if build is None or build() is None:
        return not_done("a ReLU model for XOR", "return nn.Sequential(...) from xor_model")
    tg.manual_seed(0)
    model = build()
    layers = [type(module).__name__ for module in model.modules() if module is not model]
    X_train, y_train = tg.data.make_xor(n_samples=200, seed=0)
    X_test, y_test = tg.data.make_xor(n_samples=200, seed=1)
    train(model, X_train, y_train, 300, "your model on XOR")
    test_accuracy = accuracy(probability(model, X_test) >= 0.5, y_test)
    fig, ax = figure(1, 1)
    plot_regions(ax, model, X_train, y_train, f"your model on XOR: test accuracy {test_accuracy:.2f}")
    save_figure(fig, out, "exercise_xor_model.png")
    right = layers.count("Linear") == 2 and "ReLU" in layers and test_accuracy >= 0.95
    verdict = "right" if right else "not yet (one hidden layer of ReLU units, test accuracy ≥ 0.95)"
    say("exercise a ReLU model for XOR", f"{verdict}: layers {', '.join(layers)}, test accuracy {test_accuracy:.3f}")
    return right


if __name__ == "__main__":
    exercise_xor_model(xor_model)


# %% [markdown]
# ### Exercise 3: a line that separates circles
#
# A line cannot split two circles in the plane (x₁, x₂), but it can in a plane of other
# features. Write `circle_features(X)`: from the points X (N, 2) make an (N, k) array of
# features in which logistic regression separates the circles (test accuracy ≥ 0.95).
# The check trains `nn.Linear(k, 1)` on them and draws its regions back in (x₁, x₂).


# %%
def circle_features(X):
    """Features of the points X (N, 2), an array (N, k), for logistic regression."""
    return None  # your features


class _OnFeatures(nn.Module):
    """Logistic regression on features(x): a linear score of the features."""

    def __init__(self, features, in_features):
        super().__init__()
        self.features, self.linear = features, nn.Linear(in_features, 1)

    def forward(self, x):
        return self.linear(Tensor(np.asarray(self.features(x.numpy()), dtype=np.float32)))


def exercise_circle_features(features, out="out"):
    X_train, y_train = tg.data.make_circles(n_samples=200, seed=0)
    if features is None or features(X_train) is None:
        return not_done("features for circles", "return an (N, k) array from circle_features")
    X_test, y_test = tg.data.make_circles(n_samples=200, seed=1)
    tg.manual_seed(0)
    model = _OnFeatures(features, np.asarray(features(X_train)).shape[1])
    train(model, X_train, y_train, 300, "logistic regression on your features")
    test_accuracy = accuracy(probability(model, X_test) >= 0.5, y_test)
    fig, ax = figure(1, 1)
    plot_regions(ax, model, X_train, y_train, f"a line in your features: test accuracy {test_accuracy:.2f}")
    save_figure(fig, out, "exercise_circle_features.png")
    verdict = "right" if test_accuracy >= 0.95 else "not yet (test accuracy ≥ 0.95)"
    say("exercise features for circles", f"{verdict}: test accuracy {test_accuracy:.3f}")
    return test_accuracy >= 0.95


if __name__ == "__main__":
    exercise_circle_features(circle_features)
