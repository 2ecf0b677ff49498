"""Lesson 3: when a line is not enough.

    python examples/03_nonlinear_regions.py [--quick] [--out DIR]

Logistic regression draws one straight boundary w·x + b = 0. Two moons, two
concentric circles and the XOR corners cannot be split by any line: on circles and XOR
a line does no better than a coin. A multi-layer perceptron composes lines through a
non-linearity,

    ŷ = σ(W₃ tanh(W₂ tanh(W₁x + b₁) + b₂) + b₃),

and each hidden unit bends the boundary a little more: it separates all three. The
decision regions of both models are drawn side by side.
"""

import numpy as np
from _common import accuracy, figure, parse_args, progress, save_figure, say

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, optim

DATASETS = {
    "moons": tg.data.make_moons,
    "circles": tg.data.make_circles,
    "XOR": tg.data.make_xor,
}


def logistic_regression():
    """One linear score per point: the boundary is the line where it is 0."""
    return nn.Linear(2, 1)


def mlp(hidden=16):
    """Two hidden layers of tanh units, then one score."""
    return nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def train(model, X, y, epochs, description):
    """Full-batch Adam on the cross-entropy of σ(score); X (N, 2) float32, y (N,) in {0, 1}."""
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.BCEWithLogitsLoss()
    inputs, targets = Tensor(X), Tensor(y.astype(np.float32))
    for _ in progress(range(epochs), description):
        optimizer.zero_grad()
        loss_fn(model(inputs).reshape(-1), targets).backward()
        optimizer.step()
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
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=10, edgecolors="k", linewidths=0.3)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def main(argv=None):
    args = parse_args(__doc__, argv)
    tg.manual_seed(0)
    n_samples, epochs = (200, 300) if args.quick else (400, 500)
    fig, axes = figure(2, len(DATASETS), width=3.6, height=3.4)
    results = {}
    for column, (name, make) in enumerate(DATASETS.items()):
        X_train, y_train = make(n_samples=n_samples, seed=0)
        X_test, y_test = make(n_samples=n_samples, seed=1)  # fresh points from the same distribution
        accuracies = {}
        for row, (model_name, build) in enumerate((("logistic regression", logistic_regression), ("MLP", mlp))):
            model = train(build(), X_train, y_train, epochs, f"{model_name} on {name}")
            accuracies[model_name] = accuracy(probability(model, X_test) >= 0.5, y_test)
            results[f"{name.lower()}_{model_name.replace(' ', '_').lower()}_accuracy"] = accuracies[model_name]
            title = f"{model_name} on {name}: {accuracies[model_name]:.2f}"
            plot_regions(axes[row, column], model, X_train, y_train, title)
        say(f"{name} test accuracy", ", ".join(f"{model_name} {value:.3f}" for model_name, value in accuracies.items()))
    results["figures"] = [save_figure(fig, args.out, "nonlinear_regions.png")]
    return results


if __name__ == "__main__":
    main()
