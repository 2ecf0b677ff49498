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
# # Lesson 2: logistic regression by gradient descent, and the perceptron algorithm
#
# Both learn a line w·x + b = 0 that splits two classes, and both follow one update:
#
#     w ← w + α (y − ŷ) x,    b ← b + α (y − ŷ)
#
# With ŷ = step(w·x + b) ∈ {0, 1} it is the perceptron algorithm: only misclassified
# points move the line. With ŷ = σ(w·x + b) it is gradient descent on the cross-entropy
# E = −[y ln ŷ + (1 − y) ln(1 − ŷ)], whose gradient is ∂E/∂w = −(y − ŷ) x. Here both run
# on two Gaussian clouds; the second is written again with `nn.Linear`, a loss and
# `optim.SGD`, and gives the same weights. Then logistic regression meets real data:
# scikit-learn's breast-cancer set.
#
# As a script: `python examples/02_logistic_regression.py [--quick] [--out DIR]`.

# %%
"""Lesson 2: logistic regression by gradient descent, and the perceptron algorithm."""

import numpy as np
from _common import (
    accuracy,
    check_derivation,
    check_prediction,
    figure,
    parse_args,
    progress,
    save_figure,
    say,
    scatter_classes,
)
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, nn, optim

CENTERS = np.array([[-1.0, 0.0], [2.0, 3.0]])  # close enough to overlap a little: no line is perfect


def blobs_data(quick):
    """Two Gaussian clouds, X (N, 2) float32 and y (N,) int64, half of each class."""
    return tg.data.make_blobs(n_samples=100 if quick else 200, centers=CENTERS, std=1.0, seed=0)


# %% [markdown]
# ## The gradient of the cross-entropy, checked
#
# Before trusting the update, check the derivation it rests on: `tg.handcheck` holds
# ∂E/∂w = −mean((y − ŷ)x) and ∂E/∂b = −mean(y − ŷ), written with NumPy, against
# autograd on the blobs, with central differences as referee.


# %%
def check_the_gradient(X, y):
    """handcheck of the mean cross-entropy's gradient at a line that is not the answer yet.
    X (N, 2) and y (N,) NumPy arrays."""
    X, y = X.astype(np.float64), y.astype(np.float64)

    def cross_entropy(w, b):
        return F.binary_cross_entropy_with_logits(Tensor(X) @ w + b, Tensor(y))

    def by_hand(w, b):
        residual = y - 1 / (1 + np.exp(-(X @ w + b)))  # y − ŷ
        return -(residual[:, None] * X).mean(axis=0), -residual.mean()

    start = {"w": Tensor([0.5, -0.5], dtype=np.float64), "b": Tensor(0.1, dtype=np.float64)}
    passed = tg.handcheck(cross_entropy, start, by_hand)
    say("handcheck of ∂E/∂w = −mean((y − ŷ)x), ∂E/∂b = −mean(y − ŷ) on the blobs", "passed" if passed else "FAILED")
    return passed


# %% [markdown]
# ## The update by hand: perceptron and gradient descent
#
# One function trains both: `activation` is the step function for the perceptron and
# the sigmoid for gradient descent. The progress bar shows the cross-entropy as it falls.


# %%
def train_by_hand(X, y, activation, epochs, learning_rate, description):
    """Batch updates w ← w + α·mean((y − ŷ)x), b ← b + α·mean(y − ŷ), ŷ = activation(Xw + b).

    X: (N, 2), y: (N,) floats in {0, 1}. Returns the (w, b) of every epoch (the first
    is the zero start), and after each epoch the cross-entropy of σ(Xw + b) and the
    fraction of points on the wrong side of the line."""
    w, b = Tensor.zeros(2), Tensor(0.0)
    history, losses, errors = [(w.numpy(), b.item())], [], []
    bar = progress(range(epochs), description)
    for _ in bar:
        y_hat = activation(X @ w + b)
        residual = y - y_hat  # y − ŷ: zero for every point the perceptron gets right
        w = w + learning_rate * (residual.unsqueeze(1) * X).mean(axis=0)
        b = b + learning_rate * residual.mean()
        history.append((w.numpy(), b.item()))
        scores = X @ w + b
        losses.append(F.binary_cross_entropy_with_logits(scores, y).item())
        errors.append(((scores >= 0).numpy() != y.numpy()).mean())
        bar.set_postfix(loss=f"{losses[-1]:.4g}", refresh=False)
    return history, losses, errors


# %% [markdown]
# ## The same with the library's pieces
#
# `nn.Linear` holds w and b, `nn.BCEWithLogitsLoss` computes E from the scores, backward
# computes ∂E/∂w, and `optim.SGD` steps w ← w − α ∂E/∂w: the same numbers as by hand.


# %%
def train_with_optim(X, y, epochs, learning_rate):
    """The same gradient descent with the library's pieces: nn.Linear holds w and b, the
    loss computes E, backward computes ∂E/∂w, and optim.SGD steps w ← w − α ∂E/∂w."""
    model = nn.Linear(2, 1)
    nn.init.zeros_(model.weight)  # start where the hand-written version starts
    nn.init.zeros_(model.bias)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = optim.SGD(model.parameters(), lr=learning_rate)
    bar = progress(range(epochs), "logistic regression (nn + optim.SGD)")
    for _ in bar:
        optimizer.zero_grad()
        logits = model(X).reshape(-1)  # (N, 1) → (N,), the shape of y
        loss = loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
    return model.weight.numpy().reshape(-1), model.bias.item()


# %% [markdown]
# ## Pictures: the line over the epochs


# %%
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
    scatter_classes(ax, X, y, legend=False)
    last = len(history) - 1
    for epoch in range(1, last + 1, max(1, last // 15)):  # about 15 lines, from the first epoch on
        draw_line(ax, *history[epoch], xlim, ylim, color=(0.1, 0.2, 0.5, 0.15 + 0.85 * epoch / last), lw=1)
    draw_line(ax, *history[-1], xlim, ylim, color="black", lw=2, label="final boundary")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=7)


def plot_curves(ax, descent_losses, descent_errors, perceptron_errors):
    """Gradient descent's cross-entropy (left axis) and both methods' errors (right axis)."""
    error_axis = ax.twinx()
    epochs = range(1, len(descent_losses) + 1)
    ax.plot(epochs, descent_losses, color="C0", label="gradient descent: cross-entropy (left)")
    error_axis.plot(epochs, descent_errors, "--", color="C0", label="gradient descent: errors (right)")
    error_axis.plot(epochs, perceptron_errors, "--", color="C1", label="perceptron: errors (right)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    error_axis.set_ylabel("fraction misclassified")
    ax.set_title("blobs: loss and errors over the epochs")
    ax.legend(loc="upper right", fontsize=7)
    error_axis.legend(loc="center right", fontsize=7)


# %% [markdown]
# ## Two Gaussian clouds


# %%
def blobs(args, axes):
    """Gradient descent and the perceptron on two Gaussian clouds."""
    epochs, lr = (40, 0.3) if args.quick else (100, 0.3)
    X_array, y_array = blobs_data(args.quick)
    gradient_checked = check_the_gradient(X_array, y_array)
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
    results.update(hand_vs_optim_max_difference=difference, gradient_handcheck_passes=gradient_checked)

    plot_boundaries(axes[0, 0], X_array, y_array, descent, "gradient descent: ŷ = σ(w·x + b)")
    plot_boundaries(axes[0, 1], X_array, y_array, perceptron, "perceptron: ŷ = step(w·x + b)")
    plot_curves(axes[1, 0], descent_losses, descent_errors, perceptron_errors)
    return results


# %% [markdown]
# ## Real data: breast cancer
#
# 30 measurements of a tumour, malignant (0) or benign (1). Standardising each feature
# (mean 0, std 1 on the training set) lets one learning rate suit every weight; Adam
# adapts it per weight besides. scikit-learn's `LogisticRegression` is the reference.


# %%
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
    bar = progress(range(100 if args.quick else 300), "logistic regression (breast cancer)")
    for _ in bar:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs).reshape(-1), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.4g}", refresh=False)
    with tg.no_grad():
        predictions = (model(Tensor(X_test)).reshape(-1) >= 0).numpy().astype(np.int64)  # σ(z) ≥ 0.5 ⇔ z ≥ 0
    ours = accuracy(predictions, y_test)
    reference = LogisticRegression(max_iter=1000).fit(X_train, y_train).score(X_test, y_test)
    say("breast cancer test accuracy", f"tinygrad_edu {ours:.3f}, scikit-learn LogisticRegression {reference:.3f}")
    if ax is not None:
        ax.plot(range(1, len(losses) + 1), losses)
        ax.set_xlabel("epoch (Adam, full batch)")
        ax.set_ylabel("training cross-entropy")
        ax.set_title(f"breast cancer: loss (test accuracy {ours:.3f})")
    return {"breast_cancer_accuracy": ours, "breast_cancer_accuracy_sklearn": float(reference)}


# %%
def main(argv=None):
    args = parse_args(__doc__, argv)
    fig, axes = figure(2, 2, width=5.0)
    results = blobs(args, axes)
    results.update(breast_cancer(args, axes[1, 1]))
    results["figures"] = [save_figure(fig, args.out, "logistic_regression.png")]
    return results


# %% [markdown]
# ## Run the lesson

# %%
if __name__ == "__main__":
    results = main()

# %% [markdown]
# ## Exercises
#
# Write your answer where it says `None` and run the cell; the check says whether it is
# right. Solutions: `solutions/02_logistic_regression.py`.
#
# ### Exercise 1: the accuracy of a line that has learnt nothing
#
# Gradient descent starts from w = (0, 0), b = 0. Every point then scores 0 and gets
# σ(0) = 0.5, which the lesson counts as class 1. Predict the training accuracy of this
# starting line on the blobs before running the cell.

# %%
accuracy_at_the_start = None  # your prediction: a number between 0 and 1


def exercise_accuracy_at_the_start(prediction):
    def computed():
        X, y = blobs_data(quick=True)
        return accuracy(X @ np.zeros(2) + 0.0 >= 0, y)

    todo = "predict the accuracy when every point is called class 1, then set accuracy_at_the_start"
    return check_prediction("accuracy of the zero line", prediction, computed, todo)


if __name__ == "__main__":
    exercise_accuracy_at_the_start(accuracy_at_the_start)


# %% [markdown]
# ### Exercise 2: the gradient with weight decay
#
# Weight decay adds λ/2 ‖w‖² to the cross-entropy, to keep the weights small:
# E(w, b) = mean(−[y ln ŷ + (1 − y) ln(1 − ŷ)]) + λ/2 ‖w‖², ŷ = σ(Xw + b), λ = 0.1.
# Derive ∂E/∂w and ∂E/∂b and write them with NumPy in `weight_decay_gradient`; it gets
# w and b, and the data are `DECAY_X` and `DECAY_Y`.

# %%
DECAY_X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.5], [2.0, 1.0]])  # (N, 2)
DECAY_Y = np.array([1.0, 0.0, 0.0, 1.0])  # (N,)
DECAY = 0.1  # λ


def weight_decay_gradient(w, b):
    """(∂E/∂w of shape (2,), ∂E/∂b a number) for the cross-entropy plus λ/2 ‖w‖²."""
    return None  # your derivation


def exercise_weight_decay_gradient(by_hand):
    def loss(w, b):
        cross_entropy = F.binary_cross_entropy_with_logits(Tensor(DECAY_X) @ w + b, Tensor(DECAY_Y))
        return cross_entropy + DECAY / 2 * (w * w).sum()

    start = {"w": Tensor([0.3, -0.7], dtype=np.float64), "b": Tensor(0.2, dtype=np.float64)}
    todo = "write (∂E/∂w, ∂E/∂b) in weight_decay_gradient (hint: what does λ/2 ‖w‖² add to each?)"
    return check_derivation("gradient with weight decay", loss, start, by_hand, todo)


if __name__ == "__main__":
    exercise_weight_decay_gradient(weight_decay_gradient)
