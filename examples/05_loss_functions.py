"""Lesson 5: loss functions and the gradients they send back.

    python examples/05_loss_functions.py [--quick] [--out DIR]

A loss scores a prediction against a target; its gradient is what backward sends into
the model, so its shape decides what the model learns. For a residual r = ŷ − y:

    MSE    r²                      gradient 2r: grows with the error, so outliers dominate
    MAE    |r|                     gradient sign(r): every point pulls equally hard
    Huber  ½r² if |r| ≤ δ,         gradient r, clipped to ±δ: MSE near the target,
           δ(|r| − ½δ) otherwise   MAE far from it
    BCE    −[y ln p + (1 − y) ln(1 − p)]          gradient (p − y) / (p(1 − p))
    CE     −ln softmax(z)ₖ                        gradient softmax(z) − onehot(k)
    KL     Σ q ln(q / p)                          zero exactly when p = q

Every gradient plotted here comes from autograd (x.grad after backward), not from the
formulas above. Then a line is fitted to data with outliers under MSE, MAE and Huber:
MSE bends towards the outliers, MAE and Huber stay near the true line.
"""

import numpy as np
from _common import figure, parse_args, progress, save_figure, say

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, nn, optim

TRUE_SLOPE, TRUE_INTERCEPT = 2.0, 1.0


def loss_and_gradient(loss_of, x):
    """The elementwise loss at each x and its derivative dloss/dx by autograd.

    loss_of maps a Tensor x of shape (N,) to N losses (reduction="none"); the sum's
    gradient at xᵢ is the derivative of the i-th loss, since the terms are independent."""
    x = Tensor(x, requires_grad=True)
    losses = loss_of(x)
    losses.sum().backward()
    return losses.numpy(), x.grad.numpy()


def plot_pair(loss_ax, gradient_ax, x, loss_of, label, **style):
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
            loss_ax, gradient_ax, r, lambda x, d=delta: F.huber_loss(x, target, delta=d, reduction="none"),
            f"Huber δ={delta:g}", linestyle="--",
        )
    loss_ax.set_ylim(0, 5)
    loss_ax.set_title("regression losses, target 0")
    gradient_ax.set_xlabel("prediction ŷ (residual r = ŷ − 0)")


def binary_cross_entropy(loss_ax, gradient_ax):
    """BCE of a probability p against y = 1 and y = 0."""
    p = np.linspace(0.02, 0.98, 241)
    for y in (1.0, 0.0):
        target = Tensor(np.full_like(p, y))

        def bce(x, target=target):
            return F.binary_cross_entropy(x, target, reduction="none")

        plot_pair(loss_ax, gradient_ax, p, bce, f"y = {y:g}")
    loss_ax.set_title("binary cross-entropy")
    gradient_ax.set_ylim(-20, 20)
    gradient_ax.set_xlabel("predicted probability p")


def cross_entropy(loss_ax, gradient_ax):
    """CE of three logits (z, 0, 0) against class 0, as z varies: −ln(eᶻ / (eᶻ + 2))."""
    z = np.linspace(-6, 6, 241)
    target = Tensor(np.zeros(len(z), dtype=np.int64))

    def loss_of(x):
        logits = tg.stack([x, Tensor.zeros_like(x), Tensor.zeros_like(x)], axis=1)  # (N, 3)
        return F.cross_entropy(logits, target, reduction="none")

    plot_pair(loss_ax, gradient_ax, z, loss_of, "true class 0, logits (z, 0, 0)")
    gradient_ax.plot(z, 1 / (1 + 2 * np.exp(-z)) - 1, ":", color="black", label="softmax(z)₀ − 1")
    loss_ax.set_title("cross-entropy from logits")
    gradient_ax.set_xlabel("logit z of the true class")


def kl_divergence(loss_ax, gradient_ax):
    """KL(q ‖ p) for two-outcome distributions: q = (0.3, 0.7), p = (1 − s, s)."""
    s = np.linspace(0.02, 0.98, 241)
    q = Tensor(np.tile([0.3, 0.7], (len(s), 1)))

    def loss_of(x):
        log_p = tg.stack([(1 - x).log(), x.log()], axis=1)  # kl_div takes log-probabilities
        return F.kl_div(log_p, q, reduction="none").sum(axis=1)

    plot_pair(loss_ax, gradient_ax, s, loss_of, "q = (0.3, 0.7)")
    loss_ax.axvline(0.7, color="gray", linestyle=":")
    loss_ax.set_title("KL divergence KL(q ‖ p)")
    gradient_ax.set_ylim(-10, 10)
    gradient_ax.set_xlabel("p = (1 − s, s)")


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
    for _ in progress(range(epochs), description):
        optimizer.zero_grad()
        loss_fn(line(inputs), targets).backward()
        optimizer.step()
    return line.weight.item(), line.bias.item()


def robust_fit(args, ax):
    x, y = data_with_outliers(100 if args.quick else 200)
    losses = {"MSE": nn.MSELoss(), "MAE": nn.L1Loss(), "Huber": nn.HuberLoss(delta=1.0)}
    ax.scatter(x, y, s=10, color="gray", label="data (outliers below)")
    grid = np.array([x.min(), x.max()])
    true_line = f"true y = {TRUE_SLOPE:g}x + {TRUE_INTERCEPT:g}"
    ax.plot(grid, TRUE_SLOPE * grid + TRUE_INTERCEPT, color="black", lw=2, label=true_line)
    slopes = {}
    for name, loss_fn in losses.items():
        slope, intercept = fit_line(x, y, loss_fn, 300 if args.quick else 600, f"line fit under {name}")
        slopes[name] = slope
        ax.plot(grid, slope * grid + intercept, lw=1.5, label=f"{name}: y = {slope:.2f}x + {intercept:.2f}")
    say(
        "slope of a line fitted to data with outliers",
        ", ".join(f"{name} {slope:.2f}" for name, slope in slopes.items()) + f" (true {TRUE_SLOPE:.2f})",
    )
    ax.set_title("a line fitted under each loss")
    ax.legend(fontsize=7)
    return slopes


def main(argv=None):
    args = parse_args(__doc__, argv)
    tg.manual_seed(0)
    fig, axes = figure(2, 5, width=3.4, height=3.0)
    for column, draw in enumerate((regression_losses, binary_cross_entropy, cross_entropy, kl_divergence)):
        loss_ax, gradient_ax = axes[0, column], axes[1, column]
        draw(loss_ax, gradient_ax)
        loss_ax.legend(fontsize=7)
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


if __name__ == "__main__":
    main()
