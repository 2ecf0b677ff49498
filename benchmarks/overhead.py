"""Per-op overhead: a chain of 100 elementwise ops on a (16,) float32 tensor, then sum
and backward. On 16 numbers the arithmetic is nothing; what is timed is the price of
recording one node and running its backward formula, reported in µs per op
(forward + backward, the final sum included in the total).

The chain repeats ×1.01, +0.01, tanh. Hand-written NumPy does the same forward and the
hand-derived backward: d(x·c) = c, d(x + c) = 1, d tanh x = 1 − tanh² x.
"""

import numpy as np

from . import harness
from .harness import NUMPY, TINYGRAD, TORCH

N_OPS = 100
SIZE = 16
MAX_US_PER_OP = 8.0
MICROGRAD = "micrograd (16 scalar chains)"

NOTE = (
    "overhead: x = x·1.01, x + 0.01, tanh x, repeated to 100 ops on a (16,) float32 tensor, "
    "then sum and backward; the figure is the whole call divided by 100. micrograd, when "
    "installed, runs it as 16 chains of scalar Values."
)


def numpy_chain(x, n_ops):
    """Forward keeping the tanh outputs, then the hand-derived backward; returns dL/dx."""
    y = x
    tanh_outputs = []
    for i in range(n_ops):
        kind = i % 3
        if kind == 0:
            y = y * 1.01
        elif kind == 1:
            y = y + 0.01
        else:
            y = np.tanh(y)
            tanh_outputs.append(y)
    y.sum()
    grad = np.ones_like(y)
    for i in reversed(range(n_ops)):
        kind = i % 3
        if kind == 0:
            grad = grad * 1.01
        elif kind == 2:
            t = tanh_outputs.pop()
            grad = grad * (1 - t * t)
    return grad


def chain(x, n_ops):
    """The same chain on anything with *, + and .tanh(): a tinygrad_edu or torch tensor."""
    y = x
    for i in range(n_ops):
        kind = i % 3
        if kind == 0:
            y = y * 1.01
        elif kind == 1:
            y = y + 0.01
        else:
            y = y.tanh()
    return y


def autograd_step(x, n_ops):
    """One call of the timed work for a tinygrad_edu or torch leaf `x`."""
    x.grad = None
    chain(x, n_ops).sum().backward()


def micrograd_steps(x0, n_ops):
    """micrograd works on scalars: the (16,) chain is 16 chains of Values."""
    from micrograd.engine import Value

    def step():
        outputs = [chain(Value(float(v)), n_ops) for v in x0]
        sum(outputs).backward()

    return step


def run(config):
    import tinygrad_edu as tg

    workload = f"overhead: {N_OPS}-op chain on ({SIZE},), fwd+bwd per op"
    x0 = np.random.default_rng(0).standard_normal(SIZE).astype(np.float32)
    x_tg = tg.Tensor(x0.copy(), requires_grad=True)
    autograd_step(x_tg, N_OPS)
    np.testing.assert_allclose(x_tg.grad.numpy(), numpy_chain(x0, N_OPS), rtol=1e-4, atol=1e-6)

    steps = {TINYGRAD: lambda: autograd_step(x_tg, N_OPS)}
    if harness.version_of("micrograd") != "absent":
        steps[MICROGRAD] = micrograd_steps(x0, N_OPS)
    torch = harness.torch_or_none()
    torch_step = None
    if torch is not None:
        x_torch = torch.tensor(x0, requires_grad=True)

        def torch_step():
            autograd_step(x_torch, N_OPS)

    result = harness.compare(
        workload,
        lambda: numpy_chain(x0, N_OPS),
        steps,
        torch_step,
        config.repeats(200),
        config.warmup,
        scale=1 / N_OPS,
        suffix="/op",
    )
    result.setdefault(MICROGRAD, harness.Row(workload, MICROGRAD, "absent"))

    tinygrad_us = result[TINYGRAD].value * 1e6
    if torch is None:
        harness.check(result[TINYGRAD], tinygrad_us <= MAX_US_PER_OP, f"≤ {MAX_US_PER_OP:g} µs/op (PyTorch absent)")
    else:
        torch_us = result[TORCH].value * 1e6
        harness.check(
            result[TINYGRAD],
            tinygrad_us <= MAX_US_PER_OP and tinygrad_us < torch_us,
            f"≤ {MAX_US_PER_OP:g} µs/op and < PyTorch ({torch_us:.3g} µs/op)",
        )
    return [result[name] for name in (NUMPY, TINYGRAD, TORCH, MICROGRAD)]
