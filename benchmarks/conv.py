"""One training step of lesson 8's LeNet (examples/08_convolution.py) at batch 64 on
28 × 28 images: zero_grad, forward, cross-entropy, backward and an Adam step, float32.

    conv 1→6 5×5 pad 2, ReLU, max pool 2, conv 6→16 5×5, ReLU, max pool 2, flatten,
    linear 400→120, ReLU, 120→84, ReLU, 84→10

tinygrad_edu runs what the lesson writes (nn.Sequential of nn.Conv2d, nn.MaxPool2d, ...,
F.cross_entropy, optim.Adam). PyTorch runs the same Sequential eagerly on the CPU. Each
contender is timed at 1 and at 2 threads (NumPy's BLAS through threadpoolctl) and shown
at its faster, as the transformer workload does. Hand-written NumPy is the ceiling, the
step as fast as a NumPy author can write it with the tricks any of them would use:

- every activation is kept channel-major, (C, N, H, W), from the input on, so that the
  GEMMs' (O, N·Ho·Wo) products are the next layer's input without a transpose;
- im2col is one copy of the strided windows into (C·kh·kw, N·Ho·Wo), and each conv is
  one GEMM forward, one for the weight's gradient and one (plus 25 strided adds, col2im)
  for the input's gradient; conv1's input needs no gradient, so it gets none;
- max pooling, whose 2 × 2 windows tile the image, is two np.maximum of strided views
  (a reshape to (C, N, H/2, 2, W/2, 2) and .max(axis=(3, 5)) was 35× slower); its
  gradient goes where a pixel equals its window's maximum, four strided multiplies;
- bias, ReLU, softmax and the Adam update in place.

All three start from the same weights and data, and their losses over the first three
steps are checked to agree before anything is timed.

Peak memory: like benchmarks/memory.py, the growth of VmHWM over its value after the
imports, in a fresh process per contender (`python -m benchmarks.conv CONTENDER STEPS`).
"""

import json
import math
import sys

import numpy as np

from . import harness
from .harness import NUMPY, TINYGRAD, TORCH
from .transformer import numpy_based_rows, torch_row

BATCH = 64
CLASSES = 10
LR = 2e-3  # the lesson's
BETAS = (0.9, 0.999)
EPS = 1e-8
MAX_RATIO_NUMPY = 1.15
MAX_RATIO_TORCH = 2.5
MAX_PEAK_RATIO = 1.5
MEMORY_STEPS, QUICK_MEMORY_STEPS = 20, 3
MEMORY_REPEATS, QUICK_MEMORY_REPEATS = 3, 1
CHECKED_STEPS = 3

NOTE = (
    f"conv: lesson 8's LeNet (conv 1→6 5×5 pad 2, ReLU, max pool 2, conv 6→16 5×5, ReLU, max pool 2, flatten, "
    f"400→120→84→10) trained one step at batch {BATCH} on 28×28 float32 images: opt.zero_grad(); "
    f"F.cross_entropy(model(X), labels).backward(); opt.step() with optim.Adam(lr={LR}). Hand-written NumPy: "
    "channel-major activations, im2col by one copy of strided windows, one GEMM per conv and per gradient, "
    "pooling by strided maxima. Every contender at 1 and 2 threads, shown at its faster. Peak memory measured "
    f"as in memory: over {MEMORY_STEPS} steps (quick: {QUICK_MEMORY_STEPS}), median of {MEMORY_REPEATS} "
    "fresh processes (min–max)."
)


def lenet(nn):
    """Lesson 8's LeNet from `nn`, tinygrad_edu's or PyTorch's (the same layers, so the
    same state_dict keys)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip


PARAMETER_NAMES = [f"{layer}.{kind}" for layer in (0, 3, 7, 9, 11) for kind in ("weight", "bias")]


def make_data(batch, seed=0):
    """Images X (batch, 1, 28, 28) float32 in [0, 1) and int64 labels (batch,)."""
    rng = np.random.default_rng(seed)
    return rng.random((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, CLASSES, size=batch)


# ---------------------------------------------------------------------- hand-written NumPy
def windows(x, k):
    """Every k × k window of x (C, N, H, W) as a view (C, k, k, N, Ho, Wo)."""
    c, n, h, w = x.shape
    step_c, step_n, step_h, step_w = x.strides
    shape = (c, k, k, n, h - k + 1, w - k + 1)
    return np.lib.stride_tricks.as_strided(x, shape, (step_c, step_h, step_w, step_n, step_h, step_w))


def conv_forward(x, weight, bias):
    """x (C, N, H, W) → (out (O, N, Ho, Wo), cols (C·k·k, N·Ho·Wo)): one copy, one GEMM."""
    out_channels, k = weight.shape[0], weight.shape[-1]
    view = windows(x, k)
    cols = np.ascontiguousarray(view).reshape(math.prod(view.shape[:3]), -1)
    out = weight.reshape(out_channels, -1) @ cols
    out += bias[:, None]
    return out.reshape((out_channels,) + view.shape[3:]), cols


def conv_input_grad(grad, weight, input_shape):
    """∂L/∂x (C, N, H, W) from grad (O, N, Ho, Wo): one GEMM, then col2im's k·k strided adds."""
    out_channels, channels, k, _ = weight.shape
    _, n, ho, wo = grad.shape
    dcols = (weight.reshape(out_channels, -1).T @ grad.reshape(out_channels, -1)).reshape(channels, k, k, n, ho, wo)
    dx = np.zeros(input_shape, dtype=grad.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i : i + ho, j : j + wo] += dcols[:, i, j]
    return dx


def pool_forward(a):
    """2 × 2 max pooling of a (C, N, H, W), H and W even: the larger of two rows, then of two columns."""
    rows = np.maximum(a[:, :, 0::2], a[:, :, 1::2])
    return np.maximum(rows[..., 0::2], rows[..., 1::2])


def pool_backward(grad, a, pooled):
    """grad (C, N, H/2, W/2) sent to where a equals its window's maximum (all of a tie;
    the ReLU before the pooling zeroes the ties that matter: 0 = 0)."""
    out = np.empty_like(a)
    for i in (0, 1):
        for j in (0, 1):
            np.multiply(grad, a[:, :, i::2, j::2] == pooled, out=out[:, :, i::2, j::2])
    return out


class HandLeNet:
    """The LeNet step by hand: forward, cross-entropy, backward and Adam, all in NumPy.

    params: the ten arrays of PARAMETER_NAMES (PyTorch's layouts), updated in place.
    """

    def __init__(self, params, X, labels):
        self.params = [np.array(p, dtype=np.float32) for p in params]
        self.exp_avg = [np.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [np.zeros_like(p) for p in self.params]
        self.t = 0
        self.X, self.labels, self.rows = X, labels, np.arange(len(labels))
        self.padded = np.zeros((1, len(labels), 32, 32), np.float32)  # C = 1: (N, 1, ...) is (1, N, ...)

    def step(self):
        """One training step; returns the loss (a NumPy float)."""
        loss, grad, saved = self.forward()
        self.adam(self.backward(grad, saved))
        return loss

    def forward(self):
        """The loss, its gradient with respect to the logits, (p − onehot)/N, and what backward needs."""
        W1, b1, W2, b2, W3, b3, W4, b4, W5, b5 = self.params
        labels, rows, n = self.labels, self.rows, len(self.labels)
        self.padded[0, :, 2:30, 2:30] = self.X[:, 0]  # the zero border stays from the first step
        a1, cols1 = conv_forward(self.padded, W1, b1)  # (6, N, 28, 28)
        np.maximum(a1, 0, out=a1)
        p1 = pool_forward(a1)  # (6, N, 14, 14)
        a2, cols2 = conv_forward(p1, W2, b2)  # (16, N, 10, 10)
        np.maximum(a2, 0, out=a2)
        p2 = pool_forward(a2)  # (16, N, 5, 5)
        flat = p2.transpose(1, 0, 2, 3).reshape(n, -1)  # (N, 400), each row in (c, h, w) order
        h3 = flat @ W3.T
        h3 += b3
        np.maximum(h3, 0, out=h3)
        h4 = h3 @ W4.T
        h4 += b4
        np.maximum(h4, 0, out=h4)
        logits = h4 @ W5.T
        logits += b5
        # cross-entropy through a stable softmax; ∂L/∂logits = (p − onehot) / N
        logits -= logits.max(axis=1, keepdims=True)
        picked = logits[rows, labels]
        probs = np.exp(logits, out=logits)
        total = probs.sum(axis=1, keepdims=True)
        loss = (np.log(total).sum() - picked.sum()) / n
        probs /= total
        grad = probs
        grad[rows, labels] -= 1
        grad *= 1 / n
        return loss, grad, (cols1, a1, p1, cols2, a2, p2, flat, h3, h4)

    def backward(self, grad, saved):
        """The ten parameters' gradients, layer by layer from the logits' gradient (N, 10)."""
        _, _, W2, _, W3, _, W4, _, W5, _ = self.params
        cols1, a1, p1, cols2, a2, p2, flat, h3, h4 = saved
        grads = [None] * 10
        grads[8], grads[9] = grad.T @ h4, grad.sum(axis=0)
        grad = grad @ W5
        grad *= h4 > 0
        grads[6], grads[7] = grad.T @ h3, grad.sum(axis=0)
        grad = grad @ W4
        grad *= h3 > 0
        grads[4], grads[5] = grad.T @ flat, grad.sum(axis=0)
        channels, n, height, width = p2.shape
        grad = (grad @ W3).reshape(n, channels, height, width).transpose(1, 0, 2, 3)  # (16, N, 5, 5)
        grad = pool_backward(grad, a2, p2)
        grad *= a2 > 0
        grad_rows = grad.reshape(grad.shape[0], -1)  # (16, N·100)
        grads[2], grads[3] = (grad_rows @ cols2.T).reshape(W2.shape), grad_rows.sum(axis=1)
        grad = conv_input_grad(grad, W2, p1.shape)  # (6, N, 14, 14)
        grad = pool_backward(grad, a1, p1)
        grad *= a1 > 0
        grad_rows = grad.reshape(grad.shape[0], -1)  # (6, N·784)
        grads[0], grads[1] = (grad_rows @ cols1.T).reshape(self.params[0].shape), grad_rows.sum(axis=1)
        return grads

    def adam(self, grads):
        """PyTorch's Adam: p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps), in place."""
        self.t += 1
        beta1, beta2 = BETAS
        step_size = LR / (1 - beta1**self.t)
        root_correction = math.sqrt(1 - beta2**self.t)
        for p, g, m, v in zip(self.params, grads, self.exp_avg, self.exp_avg_sq):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            g *= g
            g *= 1 - beta2
            v += g
            denominator = np.sqrt(v)
            denominator /= root_correction
            denominator += EPS
            np.divide(m, denominator, out=denominator)
            denominator *= step_size
            p -= denominator


# ---------------------------------------------------------------------- the libraries
def tinygrad_step(model, X, labels):
    """The lesson's training step; returns the function that runs one and gives the loss."""
    import tinygrad_edu.functional as F
    from tinygrad_edu import optim

    opt = optim.Adam(model.parameters(), lr=LR)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(X), labels)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def torch_step(torch, state_dict, X, labels):
    """The same step in PyTorch eager on the CPU, from the same weights."""
    model = lenet(torch.nn)
    model.load_state_dict({name: torch.from_numpy(np.array(array)) for name, array in state_dict.items()})
    X, labels = torch.from_numpy(X), torch.from_numpy(labels)
    opt = torch.optim.Adam(model.parameters(), lr=LR)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X), labels)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def contenders(batch, with_torch=True):
    """name -> step function for hand-written NumPy and tinygrad_edu, and the PyTorch step
    (None without PyTorch, or when not asked for), all from the same weights and data."""
    import tinygrad_edu as tg

    tg.manual_seed(0)
    model = lenet(tg.nn)
    state_dict = model.state_dict()
    X, labels = make_data(batch)
    hand = HandLeNet([state_dict[name] for name in PARAMETER_NAMES], X, labels)
    steps = {NUMPY: hand.step, TINYGRAD: tinygrad_step(model, tg.Tensor(X), tg.Tensor(labels))}
    torch = harness.torch_or_none() if with_torch else None
    other = None if torch is None else torch_step(torch, state_dict, X, labels)
    return steps, other


def check_agreement(steps, torch_step):
    """The first CHECKED_STEPS losses of every contender agree: the same model, the same
    data, the same gradients and updates (float32: to 1e-4)."""
    everyone = {**steps, **({TORCH: torch_step} if torch_step is not None else {})}
    losses = {name: [float(step()) for _ in range(CHECKED_STEPS)] for name, step in everyone.items()}
    for name, values in losses.items():
        np.testing.assert_allclose(values, losses[NUMPY], rtol=1e-4, err_msg=f"{name} differs from {NUMPY}")


# ---------------------------------------------------------------------- memory, in a child process
def measure(contender, steps):
    """In this (fresh) process: the growth of peak resident memory over `steps` steps, in KiB."""
    import tinygrad_edu  # noqa: F401  (imported by both contenders, so that both start from the same base)

    base = harness.proc_status_kib("VmHWM")
    step = contenders(BATCH, with_torch=False)[0][contender]  # torch alone would add 200 MiB
    for _ in range(steps):
        step()
    return {"peak_kib": harness.proc_status_kib("VmHWM") - base}


def _kib(value):
    return harness.format_bytes(value * 1024)


def memory_rows(config):
    if not harness.has_proc_status():
        config.skip("conv memory: skipped: it reads /proc/self/status, which this system lacks")
        return []
    steps = QUICK_MEMORY_STEPS if config.quick else MEMORY_STEPS
    peaks = {NUMPY: [], TINYGRAD: []}
    for _ in range(QUICK_MEMORY_REPEATS if config.quick else MEMORY_REPEATS):
        for name in peaks:
            peaks[name].append(harness.run_child("conv", name, steps)["peak_kib"])
    workload = f"memory: conv LeNet step, batch {BATCH}, peak"
    rows = [
        harness.Row(workload, name, _kib(np.median(values)), f"{_kib(min(values))}–{_kib(max(values))} (min–max)",
                    value=float(np.median(values)))
        for name, values in peaks.items()
    ]  # fmt: skip
    harness.set_ratios(rows)
    harness.check(rows[1], rows[1].ratio <= MAX_PEAK_RATIO, f"≤ {MAX_PEAK_RATIO}× NumPy")
    return rows


# ---------------------------------------------------------------------- the workload
def run(config):
    steps, other = contenders(BATCH)
    check_agreement(steps, other)
    workload = f"conv LeNet, batch {BATCH}: Adam step"
    # every contender at 1 and at 2 threads, shown at its faster: on 2 shared cores two BLAS
    # threads slowed this step's small GEMMs up to 30× in some runs
    rows, numpy_threads = numpy_based_rows(workload, steps, config)
    ours = rows[TINYGRAD]
    if other is None:
        torch = harness.Row(workload, TORCH, "absent")
        harness.check(ours, ours.ratio <= MAX_RATIO_NUMPY, f"≤ {MAX_RATIO_NUMPY}× NumPy (PyTorch absent)")
    else:
        torch = torch_row(workload, steps[NUMPY], other, numpy_threads, config)
        met = ours.ratio <= MAX_RATIO_NUMPY and ours.ratio <= MAX_RATIO_TORCH * torch.ratio
        harness.check(ours, met, f"≤ {MAX_RATIO_NUMPY}× NumPy and ≤ {MAX_RATIO_TORCH}× PyTorch")
    return [rows[NUMPY], ours, torch] + memory_rows(config)


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
