"""One SGD step of an MLP 784-256-128-10 (ReLU or Sigmoid hidden layers), cross-entropy
against int class labels, float32, at batch 32, 256 and 2048: zero_grad, forward, loss,
backward, step.

tinygrad_edu runs the code a user writes (nn.Sequential, F.cross_entropy, optim.SGD).
Hand-written NumPy is what a good NumPy programmer writes for the same step: x @ W.T + b
with the bias added in place, a stable softmax, (p − onehot)/N, the GEMMs of backward,
in-place SGD. PyTorch runs the same model eagerly on the CPU. All three start from the
same weights, and the first step's losses are checked to agree before timing.
"""

import numpy as np

from . import harness
from .harness import NUMPY, TINYGRAD, TORCH

SIZES = (784, 256, 128, 10)
BATCHES = (32, 256, 2048)
QUICK_BATCHES = (32, 256)
ACTIVATIONS = ("ReLU", "Sigmoid")
LR = 0.01
REPEATS = {32: 300, 256: 300, 2048: 60}  # sub-second steps: at least 30 each; more where a step is short
MAX_RATIO = {32: 1.5, 256: 1.15, 2048: 1.10}  # guards of the ReLU step, which must also not trail PyTorch

NOTE = (
    "mlp: model = nn.Sequential(nn.Linear(784, 256), act, nn.Linear(256, 128), act, nn.Linear(128, 10)); "
    "opt.zero_grad(); F.cross_entropy(model(X), labels).backward(); opt.step() with optim.SGD(lr=0.01), "
    "float32 inputs of N(0, 1) and int64 labels."
)


def make_data(batch, seed=0):
    """Inputs X (batch, 784) float32 and int64 class labels (batch,)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, SIZES[0]), dtype=np.float32)
    labels = rng.integers(0, SIZES[-1], size=batch)
    return X, labels


def sigmoid_(x, xp=np):
    """σ(x) = ½(1 + tanh(x/2)) in place: the stable form, one array and no temporaries."""
    x *= 0.5
    xp.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


class HandMLP:
    """The MLP step written by hand on arrays of `xp` (NumPy, or CuPy for the GPU).

    params: [W1, b1, W2, b2, W3, b3] (PyTorch's layout, W (out, in)), updated in place.
    """

    def __init__(self, params, activation, X, labels, xp=np):
        self.params = [xp.asarray(p).copy() for p in params]
        self.relu = activation == "ReLU"
        self.X, self.labels, self.xp = X, labels, xp
        self.rows = xp.arange(len(labels))

    def activate(self, h):
        """The hidden activation, in place on the pre-activation h."""
        return self.xp.maximum(h, 0, out=h) if self.relu else sigmoid_(h, self.xp)

    def activation_grad(self, grad, a):
        """grad · act'(·) in place, from the activation's output a: [a > 0] or a(1 − a)."""
        if self.relu:
            grad *= a > 0
        else:
            slope = 1 - a
            slope *= a
            grad *= slope
        return grad

    def step(self):
        """Forward, loss, backward and the SGD update; returns the loss (a 0-d array)."""
        X, labels, rows = self.X, self.labels, self.rows
        W1, b1, W2, b2, W3, b3 = self.params
        n = len(labels)
        a1 = X @ W1.T
        a1 += b1
        self.activate(a1)
        a2 = a1 @ W2.T
        a2 += b2
        self.activate(a2)
        logits = a2 @ W3.T
        logits += b3
        # cross-entropy through a stable softmax: loss = mean(log Σ e^(z − max) − (z − max)[label])
        logits -= logits.max(axis=1, keepdims=True)
        picked = logits[rows, labels]
        probs = self.xp.exp(logits, out=logits)
        total = probs.sum(axis=1, keepdims=True)
        loss = (self.xp.log(total).sum() - picked.sum()) / n
        probs /= total
        # backward: ∂L/∂z = (p − onehot) / N, then each layer's GEMMs
        grad = probs
        grad[rows, labels] -= 1
        grad *= 1 / n
        grads = [None] * 6
        grads[4], grads[5] = grad.T @ a2, grad.sum(axis=0)
        grad = self.activation_grad(grad @ W3, a2)
        grads[2], grads[3] = grad.T @ a1, grad.sum(axis=0)
        grad = self.activation_grad(grad @ W2, a1)
        grads[0], grads[1] = grad.T @ X, grad.sum(axis=0)
        for p, g in zip(self.params, grads):
            g *= LR
            p -= g
        return loss


def tinygrad_model(activation):
    from tinygrad_edu import nn

    act = getattr(nn, activation)
    return nn.Sequential(
        nn.Linear(SIZES[0], SIZES[1]), act(), nn.Linear(SIZES[1], SIZES[2]), act(), nn.Linear(SIZES[2], SIZES[3])
    )


def tinygrad_step(model, X, labels):
    """The user's training step; returns the function that runs one and gives the loss."""
    import tinygrad_edu.functional as F
    from tinygrad_edu import optim

    opt = optim.SGD(model.parameters(), lr=LR)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(X), labels)
        loss.backward()
        opt.step()
        return loss

    return step


def torch_step(torch, activation, state_dict, X, labels, device="cpu"):
    """The same step in PyTorch eager, from the same weights; returns the step function."""
    act = getattr(torch.nn, activation)
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]),
        act(),
        torch.nn.Linear(SIZES[1], SIZES[2]),
        act(),
        torch.nn.Linear(SIZES[2], SIZES[3]),
    )
    model.load_state_dict({name: torch.from_numpy(array) for name, array in state_dict.items()})
    model.to(device)
    X = torch.from_numpy(X).to(device)
    labels = torch.from_numpy(labels).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X), labels)
        loss.backward()
        opt.step()
        return loss

    return step


def param_list(state_dict):
    """[W1, b1, W2, b2, W3, b3] from a Sequential's state_dict."""
    return [state_dict[f"{i}.{kind}"] for i in (0, 2, 4) for kind in ("weight", "bias")]


def _check_guard(result, bar):
    """At most `bar` × hand-written NumPy, and not behind PyTorch (when it ran)."""
    ours, torch = result[TINYGRAD], result[TORCH]
    if torch.ratio is None:
        harness.check(ours, ours.ratio <= bar, f"≤ {bar:.2f}× NumPy (PyTorch absent)")
    else:
        harness.check(ours, ours.ratio <= min(bar, torch.ratio), f"≤ {bar:.2f}× NumPy and ≤ PyTorch")


def run(config):
    import tinygrad_edu as tg

    torch = harness.torch_or_none()
    rows = []
    for activation in ACTIVATIONS:
        for batch in QUICK_BATCHES if config.quick else BATCHES:
            workload = f"mlp {activation}, batch {batch}: SGD step"
            tg.manual_seed(0)
            model = tinygrad_model(activation)
            state_dict = model.state_dict()
            X, labels = make_data(batch)
            hand = HandMLP(param_list(state_dict), activation, X, labels)
            step = tinygrad_step(model, tg.Tensor(X), tg.Tensor(labels))
            np.testing.assert_allclose(float(step().item()), float(hand.step()), rtol=1e-4)
            other = None if torch is None else torch_step(torch, activation, state_dict, X, labels)
            result = harness.compare(
                workload, hand.step, {TINYGRAD: step}, other, config.repeats(REPEATS[batch]), config.warmup
            )
            if activation == "ReLU":
                _check_guard(result, MAX_RATIO[batch])
            rows += [result[NUMPY], result[TINYGRAD], result[TORCH]]
    return rows
