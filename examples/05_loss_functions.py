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
# # Lesson 5: loss functions and the gradients they send back
#
# A loss scores a prediction against a target; its gradient is what backward sends into
# the model, so its shape decides what the model learns. For a residual r = ŷ − y:
#
# | loss | value | its gradient |
# |---|---|---|
# | MSE | r² | 2r: grows with the error, so outliers dominate |
# | MAE | \|r\| | sign(r): every point pulls equally hard |
# | Huber | ½r² if \|r\| ≤ δ, else δ(\|r\| − ½δ) | r clipped to ±δ: MSE near the target, MAE far from it |
# | BCE | −[y ln ŷ + (1 − y) ln(1 − ŷ)] | (ŷ − y) / (ŷ(1 − ŷ)) |
# | CE | −ln softmax(z)ₖ | softmax(z) − onehot(k) |
# | KL | p (ln p − ln q), input = ln q | zero exactly when q = p |
#
# As in the README's table of losses, p is the target distribution and q the model's,
# and `F.kl_div` takes ln q. Every gradient plotted here comes from autograd (`x.grad`
# after backward), not from the formulas above. Then a line is fitted to data with
# outliers under MSE, MAE and Huber: MSE bends towards the outliers, MAE and Huber stay
# near the true line.
#
# As a script: `python examples/05_loss_functions.py [--quick] [--out DIR]`.

# %%
"""Lesson 5: loss functions and the gradients they send back."""

import numpy as np
from _common import check_derivation, check_prediction, figure, parse_args, progress, save_figure, say, signed

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, nn, optim

TRUE_SLOPE, TRUE_INTERCEPT = 2.0, 1.0


# %% [markdown]
# ## Each loss and its gradient, by autograd
#
# With `reduction="none"` a loss gives one value per element; the gradient of their sum
# at xᵢ is the derivative of the i-th loss, since the terms are independent. So one
# backward draws the whole derivative curve.


# %%
def loss_and_gradient(loss_of, x):
    """The elementwise loss at each x and its derivative dloss/dx by autograd.

    loss_of maps a Tensor x of shape (N,) to N losses (reduction="none"); the sum's
    gradient at xᵢ is the derivative of the i-th loss, since the terms are independent."""
    x = Tensor(x, requires_grad=True)
    losses = loss_of(x)
    losses.sum().backward()
    return losses.numpy(), x.grad.numpy()


def plot_pair(loss_ax, gradient_ax, x, loss_of, label, **style):
    """One loss (top) and its derivative by autograd (bottom), against the same x."""
    loss, gradient = loss_and_gradient(loss_of, x)
    loss_ax.plot(x, loss, label=label, **style)
    gradient_ax.plot(x, gradient, label=label, **style)


def regression_losses(loss_ax, gradient_ax):
    """MSE, MAE and Huber for several δ, against a target of 0."""
    r = np.linspace(-3, 3, 301)
    target = Tensor(np.zeros_like(r))
    plot_pair(loss_ax, gradient_ax, r, lambda x: F.mse_loss(x, target, reduction="none"), "MSE r²")
    plot_pair(loss_ax, gradient_ax, r, lambda x: F.l1_loss(x, target, reduction="none"), "MAE |r|")
    for delta in (0.5, 1.0, 2.0):
        plot_pair(
            loss_ax,
            gradient_ax,
            r,
            lambda x, d=delta: F.huber_loss(x, target, delta=d, reduction="none"),
            f"Huber δ={delta:g}",
            linestyle="--",
        )
    loss_ax.set_ylim(0, 5)
    loss_ax.set_title("regression losses, target 0")
    loss_ax.set_xlabel("prediction ŷ (residual r = ŷ − 0)")
    gradient_ax.set_xlabel("prediction ŷ (residual r = ŷ − 0)")
    gradient_ax.set_ylabel("∂loss/∂ŷ")


def binary_cross_entropy(loss_ax, gradient_ax):
    """BCE of a probability p against y = 1 and y = 0."""
    p = np.linspace(0.02, 0.98, 241)
    for y in (1.0, 0.0):
        target = Tensor(np.full_like(p, y))

        def bce(x, target=target):
            return F.binary_cross_entropy(x, target, reduction="none")

        plot_pair(loss_ax, gradient_ax, p, bce, f"y = {y:g}")
    loss_ax.set_title("binary cross-entropy")
    loss_ax.set_xlabel("predicted probability p")
    gradient_ax.set_ylim(-20, 20)
    gradient_ax.set_xlabel("predicted probability p")
    gradient_ax.set_ylabel("∂loss/∂p")


def cross_entropy(loss_ax, gradient_ax):
    """CE of three logits (z, 0, 0) against class 0, as z varies: −ln(eᶻ / (eᶻ + 2))."""
    z = np.linspace(-6, 6, 241)
    target = Tensor(np.zeros(len(z), dtype=np.int64))

    def loss_of(x):
        logits = tg.stack([x, Tensor.zeros_like(x), Tensor.zeros_like(x)], axis=1)  # (N, 3)
        return F.cross_entropy(logits, target, reduction="none")

    plot_pair(loss_ax, gradient_ax, z, loss_of, "true class 0, logits (z, 0, 0)")
    gradient_ax.plot(z, 1 / (1 + 2 * np.exp(-z)) - 1, ":", color="black", label="softmax(z)₀ − 1")
    gradient_ax.legend(fontsize=7)
    loss_ax.set_title("cross-entropy from logits")
    loss_ax.set_xlabel("logit z of the true class")
    gradient_ax.set_xlabel("logit z of the true class")
    gradient_ax.set_ylabel("∂loss/∂z")


def kl_divergence(loss_ax, gradient_ax):
    """KL(p ‖ q) = Σ p (ln p − ln q) for two-outcome distributions: the target
    p = (0.3, 0.7), the model's q = (1 − s, s); kl_div takes ln q as its input."""
    s = np.linspace(0.02, 0.98, 241)
    p = Tensor(np.tile([0.3, 0.7], (len(s), 1)))

    def loss_of(x):
        log_q = tg.stack([(1 - x).log(), x.log()], axis=1)  # kl_div takes log-probabilities
        return F.kl_div(log_q, p, reduction="none").sum(axis=1)

    plot_pair(loss_ax, gradient_ax, s, loss_of, "target p = (0.3, 0.7)")
    loss_ax.axvline(0.7, color="gray", linestyle=":")
    loss_ax.set_title("KL divergence KL(p ‖ q)")
    loss_ax.set_xlabel("model q = (1 − s, s)")
    gradient_ax.set_ylim(-10, 10)
    gradient_ax.set_xlabel("model q = (1 − s, s)")
    gradient_ax.set_ylabel("∂loss/∂s")


# %% [markdown]
# ## A line through data with outliers
#
# A tenth of the points are broken readings far below the line y = 2x + 1. Under MSE
# their large residuals send large gradients and pull the line down; under MAE every
# point pulls equally hard, and Huber is MAE that far from the line.


# %%
def data_with_outliers(n_samples, seed=0):
    """Points near y = 2x + 1, with the tenth of them at the largest x pulled far below."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2, 2, n_samples))
    y = TRUE_SLOPE * x + TRUE_INTERCEPT + 0.3 * rng.standard_normal(n_samples)
    y[-n_samples // 10 :] -= 12  # broken sensor readings, say
    return x.astype(np.float32), y.astype(np.float32)


def fit_line(x, y, loss_fn, epochs, description):
    """Fit ŷ = w x + b by full-batch Adam on `loss_fn`; return (w, b)."""
    line = nn.Linear(1, 1)
    optimizer = optim.Adam(line.parameters(), lr=0.05)
    inputs, targets = Tensor(x).reshape(-1, 1), Tensor(y).reshape(-1, 1)
    bar = progress(range(epochs), description)
    for _ in bar:
        optimizer.zero_grad()
        loss = loss_fn(line(inputs), targets)
        loss.backward()
        optimizer.step()
        bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
    return line.weight.item(), line.bias.item()


def robust_fit(args, ax):
    """The line fitted under MSE, MAE and Huber, drawn over the data; their slopes."""
    x, y = data_with_outliers(100 if args.quick else 200)
    losses = {"MSE": nn.MSELoss(), "MAE": nn.L1Loss(), "Huber": nn.HuberLoss(delta=1.0)}
    ax.scatter(x, y, s=10, color="gray", label="data (outliers below)")
    grid = np.array([x.min(), x.max()])
    true_line = f"true y = {TRUE_SLOPE:.2f}x {signed(TRUE_INTERCEPT)}"
    ax.plot(grid, TRUE_SLOPE * grid + TRUE_INTERCEPT, color="black", lw=2, label=true_line)
    slopes = {}
    for name, loss_fn in losses.items():
        slope, intercept = fit_line(x, y, loss_fn, 300 if args.quick else 600, f"line fit under {name}")
        slopes[name] = slope
        ax.plot(grid, slope * grid + intercept, lw=1.5, label=f"{name}: y = {slope:.2f}x {signed(intercept)}")
    say(
        "slope of a line fitted to data with outliers",
        ", ".join(f"{name} {slope:.2f}" for name, slope in slopes.items()) + f" (true {TRUE_SLOPE:.2f})",
    )
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("a line fitted under each loss")
    ax.legend(fontsize=7)
    return slopes


# %%
def main(argv=None):
    args = parse_args(__doc__, argv)
    tg.manual_seed(0)
    fig, axes = figure(2, 5, width=3.4, height=3.0)
    for column, draw in enumerate((regression_losses, binary_cross_entropy, cross_entropy, kl_divergence)):
        loss_ax, gradient_ax = axes[0, column], axes[1, column]
        draw(loss_ax, gradient_ax)
        loss_ax.legend(fontsize=7)
        loss_ax.set_ylabel("loss")
        gradient_ax.set_title("its gradient, by autograd", fontsize=9)
        gradient_ax.axhline(0, color="gray", lw=0.5)
    axes[0, 4].remove()
    axes[1, 4].remove()
    slopes = robust_fit(args, fig.add_subplot(2, 5, (5, 10)))  # the last column, both rows
    return {
        "slopes": slopes,
        "true_slope": TRUE_SLOPE,
        "figures": [save_figure(fig, args.out, "loss_functions.png")],
    }


# %% [markdown]
# ## Run the lesson
#
# Top row: each loss; below it, its gradient from autograd. Right: the three fitted lines.

# %%
if __name__ == "__main__":
    results = main()

# %% [markdown]
# ## Exercises
#
# Write your answer where it says `None` and run the cell. Solutions:
# `solutions/05_loss_functions.py`.
#
# ### Exercise 1: the constant each loss fits
#
# Fit a single number c to the data (1, 2, 3, 4, 15) — a model that predicts the same c
# for every point. Predict the c that minimises the mean squared error and the c that
# minimises the mean absolute error, as a pair (MSE's, MAE's). The check tries every c
# from 0 to 16 in steps of 0.01 with `F.mse_loss` and `F.l1_loss`.

# %%
constants_fitted = None  # your prediction: (c under MSE, c under MAE)

CONSTANT_DATA = np.array([1.0, 2.0, 3.0, 4.0, 15.0])


def exercise_constants_fitted(prediction):
    def computed():
        candidates = np.arange(0, 16.005, 0.01)
        c = Tensor(np.repeat(candidates[:, None], len(CONSTANT_DATA), axis=1))  # (candidates, points)
        data = Tensor(np.tile(CONSTANT_DATA, (len(candidates), 1)))
        best = []
        for loss in (F.mse_loss, F.l1_loss):
            per_candidate = loss(c, data, reduction="none").mean(axis=1)
            best.append(candidates[int((-per_candidate).argmax().item())])  # the smallest loss
        return tuple(best)

    todo = "which statistic of the data does each loss fit? set constants_fitted = (MSE's c, MAE's c)"
    return check_prediction("constants fitted by MSE and MAE", prediction, computed, todo, abs_tol=0.02)


if __name__ == "__main__":
    exercise_constants_fitted(constants_fitted)


# %% [markdown]
# ### Exercise 2: the gradient of the Huber loss
#
# For predictions ŷ and targets y (N numbers each), the Huber loss with δ = 1 and
# reduction "mean" is (1/N) Σ h(ŷᵢ − yᵢ), h(r) = ½r² if |r| ≤ δ, else δ(|r| − ½δ).
# Derive ∂loss/∂ŷ and write it with NumPy in `huber_gradient` (the targets are
# `HUBER_TARGETS`).

# %%
HUBER_TARGETS = np.array([0.0, 1.0, -2.0, 0.5, 3.0])


def huber_gradient(y_hat):
    """∂/∂ŷ of F.huber_loss(ŷ, HUBER_TARGETS, delta=1.0), an array of the shape of ŷ."""
    return None  # your derivation


def exercise_huber_gradient(by_hand):
    y_hat = Tensor([0.3, 3.5, -1.8, -1.0, 0.0], dtype=np.float64)  # residuals 0.3, 2.5, 0.2, −1.5, −3

    def huber(y_hat):
        return F.huber_loss(y_hat, Tensor(HUBER_TARGETS), delta=1.0)

    todo = "write ∂loss/∂ŷ in huber_gradient (hint: np.clip, and do not forget the mean's 1/N)"
    return check_derivation("gradient of the Huber loss", huber, y_hat, by_hand, todo)


if __name__ == "__main__":
    exercise_huber_gradient(huber_gradient)
