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
# # Lesson 4: more than two classes: softmax, cross-entropy, and a GPU if you have one
#
# With C classes a model gives each point C scores (logits) z, softmax turns them into
# probabilities pₖ = e^zₖ / Σⱼ e^zⱼ, and the cross-entropy of the true class k is −ln pₖ.
# Its gradient with respect to the scores is p − onehot(k), ŷ − y: push the true class's
# score up, every other score down, each by how much probability it holds.
#
# Softmax regression (one linear layer) still draws straight boundaries, so three
# spirals defeat it; an MLP does not. Then the same MLP reads 8×8 images of
# handwritten digits (scikit-learn's `load_digits`), next to scikit-learn's
# `MLPClassifier`.
#
# As a script: `python examples/04_softmax_multiclass.py [--quick] [--out DIR] [--device cpu|cuda]`.
# `--device cuda` runs the tensors on an NVIDIA GPU (CuPy): `model.to("cuda")` moves the
# parameters, and `device="cuda"` puts the data there. Without CuPy or a GPU the library
# stops with a RuntimeError that says what is missing.

# %%
"""Lesson 4: more than two classes: softmax, cross-entropy, and a GPU if you have one."""

import sys
import time
import warnings

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
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, nn, optim

# %% [markdown]
# ## The gradient of softmax and cross-entropy: ŷ − y
#
# For one point with logits z, probabilities ŷ = softmax(z) and one-hot target y, the
# loss −Σₖ yₖ ln ŷₖ has ∂/∂z = ŷ − y; averaged over N points, (ŷ − y) / N per row.
# `tg.handcheck` holds this against autograd through `F.cross_entropy`.


# %%
def check_the_gradient():
    """handcheck of ∂CE/∂z = (softmax(z) − onehot(y)) / N for a batch of 4 points, 3 classes."""
    labels = np.array([0, 2, 1, 2])
    logits = Tensor([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3], [-1.0, 3.0, 0.0], [1.5, 1.5, -2.0]], dtype=np.float64)

    def by_hand(z):
        probs = np.exp(z - z.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)  # ŷ = softmax(z), row by row
        return (probs - np.eye(3)[labels]) / len(labels)  # (ŷ − y) / N

    passed = tg.handcheck(lambda z: F.cross_entropy(z, Tensor(labels)), logits, by_hand)
    say("handcheck of ∂CE/∂z = (ŷ − y) / N, ŷ = softmax(z), y one-hot", "passed" if passed else "FAILED")
    return passed


# %% [markdown]
# ## Two models, one training loop
#
# Softmax regression has one line per class; the MLP has two hidden layers of ReLU units.
# Both train by Adam on the cross-entropy in mini-batches; the progress bar shows the mean
# loss of each epoch.


# %%
def softmax_regression(in_features, classes):
    """logits = x Wᵀ + b, W of shape (classes, in_features): one line per class."""
    return nn.Linear(in_features, classes)


def mlp(in_features, classes, hidden=64):
    """Two hidden layers of ReLU units, then one logit per class."""
    return nn.Sequential(
        nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, classes)
    )


def train(model, X, y, epochs, batch_size, lr, device, description):
    """Adam on the cross-entropy of the logits, in mini-batches of `batch_size` rows.

    X (N, features) float32 and y (N,) int64 arrays; cross_entropy takes the logits and
    the class indices and applies log-softmax itself, without overflow."""
    model.to(device)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    inputs, targets = Tensor(X, device=device), Tensor(y, device=device)
    bar = progress(range(epochs), description)
    for _ in bar:
        losses = []
        for X_batch, y_batch in tg.data.batches(inputs, targets, batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(X_batch), y_batch)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        bar.set_postfix(loss=f"{np.mean(losses):.4g}", refresh=False)
    return model


def predict(model, X, device):
    """The class of the largest logit (softmax does not change which one that is)."""
    with tg.no_grad():
        return model(Tensor(X, device=device)).argmax(axis=1).numpy()


# %% [markdown]
# ## Three spirals
#
# Each colour is the class the model predicts there (the largest logit), with the
# training points on top.


# %%
def plot_regions(ax, model, X, y, device, title):
    """Colour the plane by the predicted class, with the training points on top."""
    x1 = np.linspace(X[:, 0].min() - 0.2, X[:, 0].max() + 0.2, 150)
    x2 = np.linspace(X[:, 1].min() - 0.2, X[:, 1].max() + 0.2, 150)
    grid1, grid2 = np.meshgrid(x1, x2)
    classes = predict(model, np.stack([grid1.ravel(), grid2.ravel()], axis=1).astype(np.float32), device)
    ax.contourf(grid1, grid2, classes.reshape(grid1.shape), levels=np.arange(-0.5, 3), cmap="viridis", alpha=0.4)
    scatter_classes(ax, X, y, cmap="viridis", classes=3, s=10)
    ax.set_title(title, fontsize=10)


def spirals(args, axes):
    """Softmax regression and an MLP on three spiral arms."""
    n_samples, epochs = (300, 150) if args.quick else (600, 300)
    X_train, y_train = tg.data.make_spirals(n_samples=n_samples, classes=3, noise=0.2, seed=0)
    X_test, y_test = tg.data.make_spirals(n_samples=n_samples, classes=3, noise=0.2, seed=1)
    accuracies = {}
    for ax, (name, build) in zip(axes, (("softmax regression", softmax_regression), ("MLP", mlp))):
        model = train(build(2, 3), X_train, y_train, epochs, 64, 0.01, args.device, f"{name} on spirals")
        accuracies[name] = accuracy(predict(model, X_test, args.device), y_test)
        title = f"{name} on spirals: test accuracy {accuracies[name]:.2f}"
        plot_regions(ax, model, X_train, y_train, args.device, title)
    say("spirals test accuracy", ", ".join(f"{name} {value:.3f}" for name, value in accuracies.items()))
    return {f"spirals_{name.replace(' ', '_').lower()}_accuracy": value for name, value in accuracies.items()}


# %% [markdown]
# ## Handwritten digits
#
# 64 pixels in, 10 logits out: the same MLP, next to scikit-learn's `MLPClassifier` with
# the same network and training. The picture shows test images with the predicted class,
# red where it is wrong.


# %%
def digits(args, ax):
    """An MLP on 8×8 images of handwritten digits: 64 pixels in, 10 logits out."""
    images = load_digits()
    X = (images.data / 16.0).astype(np.float32)  # pixel values 0..16 → 0..1
    X_train, X_test, y_train, y_test = train_test_split(
        X, images.target, test_size=0.25, random_state=0, stratify=images.target
    )
    y_train = y_train.astype(np.int64)

    epochs = 20 if args.quick else 40
    tg.manual_seed(0)
    start = time.perf_counter()
    model = train(mlp(64, 10), X_train, y_train, epochs, 32, 0.003, args.device, "MLP on digits")
    ours_seconds = time.perf_counter() - start
    predictions = predict(model, X_test, args.device)
    ours = accuracy(predictions, y_test)

    start = time.perf_counter()
    reference = MLPClassifier(  # the same network and training: ReLU, Adam, batches of 32
        hidden_layer_sizes=(64, 64), batch_size=32, learning_rate_init=0.003, max_iter=epochs, random_state=0
    )
    with warnings.catch_warnings():  # a fixed number of epochs, like ours: not converged by its own test
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(X_train, y_train)
    reference_seconds = time.perf_counter() - start
    reference_accuracy = float(reference.score(X_test, y_test))

    say("digits test accuracy", f"tinygrad_edu MLP {ours:.3f}, scikit-learn MLPClassifier {reference_accuracy:.3f}")
    say(
        "digits training time",
        f"tinygrad_edu MLP {ours_seconds:.2f} s ({args.device}), scikit-learn MLPClassifier {reference_seconds:.2f} s",
    )
    wrong = np.flatnonzero(predictions != y_test)[:4]
    shown = np.concatenate([np.flatnonzero(predictions == y_test)[: 12 - len(wrong)], wrong])
    montage = np.ones((3 * 9, 4 * 9))  # a 3×4 grid of 8×8 images with a one-pixel gap
    for slot, index in enumerate(shown):
        row, column = divmod(slot, 4)
        montage[row * 9 : row * 9 + 8, column * 9 : column * 9 + 8] = 1 - X_test[index].reshape(8, 8)
    ax.imshow(montage, cmap="gray")
    for slot, index in enumerate(shown):
        row, column = divmod(slot, 4)
        color = "green" if predictions[index] == y_test[index] else "red"
        ax.text(column * 9 + 7.5, row * 9 + 1, str(predictions[index]), color=color, fontsize=11, ha="right")
    ax.set_title(f"digits: the MLP's predictions\ntest accuracy {ours:.3f} (red: wrong)", fontsize=10)
    ax.axis("off")
    return {
        "digits_accuracy": ours,
        "digits_accuracy_sklearn": reference_accuracy,
        "digits_seconds": ours_seconds,
        "digits_seconds_sklearn": reference_seconds,
    }


# %%
def main(argv=None):
    args = parse_args(__doc__, argv, device=True)
    tg.manual_seed(0)
    gradient_checked = check_the_gradient()
    fig, axes = figure(1, 3, width=4.2, height=4.0)
    results = spirals(args, axes[:2])
    results["gradient_handcheck_passes"] = gradient_checked
    results.update(digits(args, axes[2]))
    results["device"] = args.device
    results["figures"] = [save_figure(fig, args.out, "softmax_multiclass.png")]
    return results


# %% [markdown]
# ## Run the lesson

# %%
if __name__ == "__main__":
    try:
        results = main()
    except RuntimeError as error:  # e.g. --device cuda without CuPy or a GPU: say why, no traceback
        sys.exit(f"04_softmax_multiclass: {error}")

# %% [markdown]
# ## Exercises
#
# Write your answer where it says `None` and run the cell. Solutions:
# `solutions/04_softmax_multiclass.py`.
#
# ### Exercise 1: the loss of a classifier that knows nothing
#
# Before training, suppose the digit MLP gives every image the same logits for all 10
# classes. Predict its mean cross-entropy, then run the cell: it computes it with
# `F.cross_entropy`. (This is the number a training curve on digits starts near.)

# %%
loss_of_a_blank_classifier = None  # your prediction: a number


def exercise_loss_of_a_blank_classifier(prediction):
    def computed():
        labels = Tensor(np.arange(50) % 10)  # five images of each digit
        return F.cross_entropy(Tensor.zeros(50, 10), labels).item()

    todo = "what probability does softmax give each class when all logits are equal? then −ln of it"
    return check_prediction("loss of a blank classifier", prediction, computed, todo)


if __name__ == "__main__":
    exercise_loss_of_a_blank_classifier(loss_of_a_blank_classifier)


# %% [markdown]
# ### Exercise 2: the gradient of softmax
#
# The score s = Σₖ cₖ softmax(z)ₖ weighs the probabilities by fixed numbers c (say, the
# reward of each class). Derive ∂s/∂z and write it with NumPy in `softmax_gradient`
# (z has shape (C,); the weights are `REWARDS`). Hint: ∂pₖ/∂zⱼ = pₖ([k = j] − pⱼ).

# %%
REWARDS = np.array([1.0, -2.0, 0.5, 3.0])  # c, one per class


def softmax_gradient(z):
    """∂/∂z of Σₖ REWARDS[k] · softmax(z)[k], an array of the shape of z."""
    return None  # your derivation


def exercise_softmax_gradient(by_hand):
    z = Tensor([0.3, -1.2, 2.0, 0.5], dtype=np.float64)
    todo = "write ∂s/∂z in softmax_gradient (it can be written as p ⊙ (something))"
    return check_derivation("gradient of softmax", lambda z: (F.softmax(z) * Tensor(REWARDS)).sum(), z, by_hand, todo)


if __name__ == "__main__":
    exercise_softmax_gradient(softmax_gradient)
