"""Lesson 2: logistic regression by gradient descent, and the perceptron algorithm.

    python examples/02_logistic_regression.py [--quick] [--out DIR]

Both learn a line w·x + b = 0 that splits two classes, and both follow one update:

    w ← w + α (y − ŷ) x,    b ← b + α (y − ŷ)

With ŷ = step(w·x + b) ∈ {0, 1} it is the perceptron algorithm: only misclassified
points move the line. With ŷ = σ(w·x + b) it is gradient descent on the cross-entropy
E = −[y ln ŷ + (1 − y) ln(1 − ŷ)], whose gradient is ∂E/∂w = −(y − ŷ) x. Here both run
on two Gaussian clouds; the second is written again with nn.Linear, a loss and
optim.SGD, and gives the same weights. Then logistic regression meets real data:
scikit-learn's breast-cancer set.
"""

import numpy as np
from _common import accuracy, figure, parse_args, progress, save_figure, say
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, nn, optim


def train_by_hand(X, y, activation, epochs, learning_rate, description):
    """Batch updates w ← w + α·mean((y − ŷ)x), b ← b + α·mean(y − ŷ), ŷ = activation(Xw + b).

    X: (N, 2), y: (N,) floats in {0, 1}. Returns the (w, b) of every epoch (the first
    is the zero start), and after each epoch the cross-entropy of σ(Xw + b) and the
    fraction of points on the wrong side of the line."""
    w, b = Tensor.zeros(2), Tensor(0.0)
    history, losses, errors = [(w.numpy(), b.item())], [], []
    for _ in progress(range(epochs), description):
        y_hat = activation(X @ w + b)
        residual = y - y_hat  # y − ŷ: zero for every point the perceptron gets right
        w = w + learning_rate * (residual.unsqueeze(1) * X).mean(axis=0)
        b = b + learning_rate * residual.mean()
        history.append((w.numpy(), b.item()))
        scores = X @ w + b
        losses.append(F.binary_cross_entropy_with_logits(scores, y).item())
        errors.append(((scores >= 0).numpy() != y.numpy()).mean())
    return history, losses, errors


def train_with_optim(X, y, epochs, learning_rate):
    """The same gradient descent with the library's pieces: nn.Linear holds w and b, the
    loss computes E, backward computes ∂E/∂w, and optim.SGD steps w ← w − α ∂E/∂w."""
    model = nn.Linear(2, 1)
    nn.init.zeros_(model.weight)  # start where the hand-written version starts
    nn.init.zeros_(model.bias)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = optim.SGD(model.parameters(), lr=learning_rate)
    for _ in progress(range(epochs), "logistic regression (nn + optim.SGD)"):
        optimizer.zero_grad()
        logits = model(X).reshape(-1)  # (N, 1) → (N,), the shape of y
        loss_fn(logits, y).backward()
        optimizer.step()
    return model.weight.numpy().reshape(-1), model.bias.item()


def draw_line(ax, w, b, xlim, ylim, **style):
    """Draw w₁x₁ + w₂x₂ + b = 0 across the plot, solving for whichever coordinate is steeper."""
    w1, w2 = float(w[0]), float(w[1])
    if abs(w2) >= abs(w1) and w2 != 0:
        x1 = np.array(xlim)
        ax.plot(x1, -(w1 * x1 + b) / w2, **style)
    elif w1 != 0:
        x2 = np.array(ylim)
        ax.plot(-(w2 * x2 + b) / w1, x2, **style)


def plot_boundaries(ax, X, y, history, title):
    """The data and the line of every epoch, from pale (first) to dark (last)."""
    xlim = (X[:, 0].min() - 1, X[:, 0].max() + 1)
    ylim = (X[:, 1].min() - 1, X[:, 1].max() + 1)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="none")
    last = len(history) - 1
    for epoch in range(1, last + 1, max(1, last // 15)):  # about 15 lines, from the first epoch on
        draw_line(ax, *history[epoch], xlim, ylim, color=(0.1, 0.2, 0.5, 0.15 + 0.85 * epoch / last), lw=1)
    draw_line(ax, *history[-1], xlim, ylim, color="black", lw=2, label="final boundary")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)


def blobs(args, axes):
    """Gradient descent and the perceptron on two Gaussian clouds."""
    epochs, lr = (40, 0.3) if args.quick else (100, 0.3)
    centers = np.array([[-1.0, 0.0], [2.0, 3.0]])  # close enough to overlap a little: no line is perfect
    X_array, y_array = tg.data.make_blobs(n_samples=100 if args.quick else 200, centers=centers, std=1.0, seed=0)
    X, y = Tensor(X_array), Tensor(y_array.astype(np.float32))

    perceptron, _, perceptron_errors = train_by_hand(X, y, Tensor.step, epochs, lr, "perceptron (by hand)")
    descent, descent_losses, descent_errors = train_by_hand(
        X, y, Tensor.sigmoid, epochs, lr, "logistic regression (by hand)"
    )
    w_optim, b_optim = train_with_optim(X, y, epochs, lr)

    w_hand, b_hand = descent[-1]
    difference = float(max(np.abs(w_hand - w_optim).max(), abs(b_hand - b_optim)))
    assert difference < 1e-4, f"hand-written and optim.SGD weights differ by {difference}"
    say("weights after gradient descent, by hand", np.round(np.append(w_hand, b_hand), 4).tolist())
    say("weights after gradient descent, nn.Linear + optim.SGD", np.round(np.append(w_optim, b_optim), 4).tolist())
    say("max difference hand-written vs nn + optim.SGD", f"{difference:.1e}")

    accuracies = {
        name: accuracy(X_array @ w + b >= 0, y_array)  # class 1 where σ(w·x + b) ≥ 0.5, i.e. w·x + b ≥ 0
        for name, (w, b) in (("perceptron", perceptron[-1]), ("logistic regression", descent[-1]))
    }
    say("blobs training accuracy", ", ".join(f"{name} {value:.3f}" for name, value in accuracies.items()))
    results = {f"blobs_accuracy_{name.replace(' ', '_')}": value for name, value in accuracies.items()}
    results["hand_vs_optim_max_difference"] = difference

    plot_boundaries(axes[0, 0], X_array, y_array, descent, "gradient descent: ŷ = σ(w·x + b)")
    plot_boundaries(axes[0, 1], X_array, y_array, perceptron, "perceptron: ŷ = step(w·x + b)")
    curve, error_axis = axes[1, 0], axes[1, 0].twinx()
    epoch_numbers = range(1, epochs + 1)
    curve.plot(epoch_numbers, descent_losses, color="C0", label="gradient descent: cross-entropy (left)")
    error_axis.plot(epoch_numbers, descent_errors, "--", color="C0", label="gradient descent: errors (right)")
    error_axis.plot(epoch_numbers, perceptron_errors, "--", color="C1", label="perceptron: errors (right)")
    curve.set_xlabel("epoch")
    curve.set_ylabel("cross-entropy")
    error_axis.set_ylabel("fraction misclassified")
    curve.set_title("blobs: loss and errors over the epochs")
    curve.legend(loc="upper right", fontsize=7)
    error_axis.legend(loc="center right", fontsize=7)
    return results


def breast_cancer(args, ax=None):
    """Logistic regression on 30 measurements of a tumour, malignant (0) or benign (1).

    Standardising each feature (mean 0, std 1 on the training set) lets one learning
    rate suit every weight; Adam adapts it per weight besides."""
    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train).astype(np.float32), scaler.transform(X_test).astype(np.float32)

    tg.manual_seed(0)
    model = nn.Linear(X_train.shape[1], 1)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    inputs, targets = Tensor(X_train), Tensor(y_train.astype(np.float32))
    losses = []
    for _ in progress(range(100 if args.quick else 300), "logistic regression (breast cancer)"):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs).reshape(-1), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with tg.no_grad():
        predictions = (model(Tensor(X_test)).reshape(-1) >= 0).numpy().astype(np.int64)  # σ(z) ≥ 0.5 ⇔ z ≥ 0
    ours = accuracy(predictions, y_test)
    reference = LogisticRegression(max_iter=1000).fit(X_train, y_train).score(X_test, y_test)
    say("breast cancer test accuracy", f"tinygrad_edu {ours:.3f}, scikit-learn LogisticRegression {reference:.3f}")
    if ax is not None:
        ax.plot(range(1, len(losses) + 1), losses)
        ax.set_xlabel("epoch (Adam, full batch)")
        ax.set_ylabel("training cross-entropy")
        ax.set_title(f"breast cancer: test accuracy {ours:.3f}")
    return {"breast_cancer_accuracy": ours, "breast_cancer_accuracy_sklearn": float(reference)}


def main(argv=None):
    args = parse_args(__doc__, argv)
    fig, axes = figure(2, 2)
    results = blobs(args, axes)
    results.update(breast_cancer(args, axes[1, 1]))
    results["figures"] = [save_figure(fig, args.out, "logistic_regression.png")]
    return results


if __name__ == "__main__":
    main()
