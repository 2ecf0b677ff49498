"""Logistic regression on (N, 2) inputs, N = 100 and 10,000: one SGD step of the mean
binary cross-entropy (zero_grad, forward, loss, backward, step).

tinygrad_edu runs what a user writes, from the logits as PyTorch's documentation
advises: `F.binary_cross_entropy_with_logits(model(X), y)` with model = nn.Linear(2, 1);
that row carries the goal. A second row runs the textbook form,
`F.binary_cross_entropy(model(X).sigmoid(), y)`, for comparison. Hand-written NumPy does
z = X Wᵀ + b, the loss from the logits, the hand-derived gradient ∂L/∂z = (σ(z) − y)/N,
∂L/∂W = (∂L/∂z)ᵀ X, ∂L/∂b = Σ ∂L/∂z and the update in place.
"""

import numpy as np

from . import harness
from .harness import NUMPY, TINYGRAD, TORCH
from .mlp import sigmoid_

SIZES = (100, 10_000)
LR = 0.1
MAX_RATIO = {10_000: 1.3}
TEXTBOOK = "tinygrad_edu (sigmoid + BCE)"

NOTE = (
    "logreg: model = nn.Linear(2, 1); F.binary_cross_entropy_with_logits(model(X), y) with y (N, 1) float32, "
    'optim.SGD(lr=0.1) — the row with the goal; "sigmoid + BCE" is '
    "F.binary_cross_entropy(model(X).sigmoid(), y), the textbook form, against the same NumPy step."
)


def make_data(n, seed=0):
    """Two Gaussian blobs: X (n, 2) float32 and labels y (n, 1) float32 in {0, 1}."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 1)) < 0.5).astype(np.float32)
    X = rng.standard_normal((n, 2), dtype=np.float32) + 2 * y - 1
    return X, y


class HandLogReg:
    """The step by hand; W (1, 2) and b (1,) in PyTorch's layout, updated in place."""

    def __init__(self, weight, bias, X, y):
        self.weight, self.bias = weight.copy(), bias.copy()
        self.X, self.y = X, y

    def step(self):
        X, y = self.X, self.y
        logits = X @ self.weight.T
        logits += self.bias
        # mean of ln(1 + e^z) − y·z, written with logaddexp so that it never overflows
        loss = (np.logaddexp(0, logits) - y * logits).mean()
        grad = sigmoid_(logits)
        grad -= y
        grad *= 1 / len(y)
        grad_weight = grad.T @ X
        grad_bias = grad.sum(axis=0)
        grad_weight *= LR
        grad_bias *= LR
        self.weight -= grad_weight
        self.bias -= grad_bias
        return loss


def tinygrad_steps(X, y):
    """The user's step, with logits and in the textbook form, each on a model of its own
    made from the same seed; returns (with_logits, textbook, initial state_dict)."""
    import tinygrad_edu as tg
    import tinygrad_edu.functional as F
    from tinygrad_edu import nn, optim

    X, y = tg.Tensor(X), tg.Tensor(y)

    def make(loss_of):
        tg.manual_seed(0)
        model = nn.Linear(2, 1)
        opt = optim.SGD(model.parameters(), lr=LR)

        def step():
            opt.zero_grad()
            loss = loss_of(model(X))
            loss.backward()
            opt.step()
            return loss

        return step, model.state_dict()

    with_logits, state_dict = make(lambda logits: F.binary_cross_entropy_with_logits(logits, y))
    textbook, _ = make(lambda logits: F.binary_cross_entropy(logits.sigmoid(), y))
    return with_logits, textbook, state_dict


def torch_step(torch, state_dict, X, y):
    model = torch.nn.Linear(2, 1)
    model.load_state_dict({name: torch.from_numpy(array) for name, array in state_dict.items()})
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(X), y)
        loss.backward()
        opt.step()
        return loss

    return step


def run(config):
    torch = harness.torch_or_none()
    rows = []
    for n in SIZES:
        workload = f"logreg, N = {n:,}: SGD step"
        X, y = make_data(n)
        with_logits, textbook, state_dict = tinygrad_steps(X, y)
        hand = HandLogReg(state_dict["weight"], state_dict["bias"], X, y)
        first = float(hand.step())
        np.testing.assert_allclose(float(with_logits().item()), first, rtol=1e-4)
        np.testing.assert_allclose(float(textbook().item()), first, rtol=1e-4)
        other = None if torch is None else torch_step(torch, state_dict, X, y)
        result = harness.compare(
            workload, hand.step, {TINYGRAD: with_logits, TEXTBOOK: textbook}, other, config.repeats(200), config.warmup
        )
        if n in MAX_RATIO:
            bar = MAX_RATIO[n]
            harness.check(result[TINYGRAD], result[TINYGRAD].ratio <= bar, f"≤ {bar:.2f}× NumPy")
        rows += [result[name] for name in (NUMPY, TINYGRAD, TEXTBOOK, TORCH)]
    return rows
