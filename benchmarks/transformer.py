"""One training step of lesson 9's character transformer: batch 32, context 64, width 128,
4 heads, 2 blocks, a vocabulary of 103 characters, float32: forward, cross-entropy on
every position, backward, an AdamW step.

tinygrad_edu runs the lesson's own model (examples/09_language_model.py: attention
written with Linear, matmul, where and softmax; LayerNorm, the tanh GELU, residuals) and
the code a user writes (F.cross_entropy, optim.AdamW). Hand-written NumPy is the same
step with every derivative worked out by hand (`HandTransformer`). PyTorch runs the same
model eagerly on the CPU. All three start from the same weights, and their first two
losses (the second after one AdamW step) are checked to agree before timing.

On two cores the best thread count differs by library and by load (PERF.md), so each
contender is timed at 1 and at 2 threads, NumPy's BLAS through threadpoolctl where it is
installed, and compared at its faster setting.
"""

import contextlib
import os
import sys

import numpy as np

from . import harness
from .harness import NUMPY, TINYGRAD, TORCH

FULL = dict(vocab_size=103, context=64, width=128, heads=4, layers=2, batch=32)
QUICK = dict(vocab_size=103, context=16, width=32, heads=4, layers=2, batch=8)
LR = 1e-3
WEIGHT_DECAY = 1e-2
BETAS = (0.9, 0.999)
EPS = 1e-8
REPEATS = 30
MAX_RATIO_TO_TORCH = 1.2
GELU_C = float(np.sqrt(2 / np.pi))  # the tanh GELU's √(2/π)

NOTE = (
    "transformer: lesson 9's model (2 blocks of causal self-attention and a GELU MLP with pre-LayerNorm and "
    "residuals, width 128, 4 heads, context 64, 103 characters) on a batch of 32 windows: opt.zero_grad(); "
    "F.cross_entropy(model(ids).reshape(-1, 103), targets.reshape(-1)).backward(); opt.step() with "
    "optim.AdamW(lr=1e-3); every contender timed at 1 and at 2 threads (NumPy's BLAS through threadpoolctl) "
    "and shown at its faster, the goal taken against PyTorch's faster."
)


# ---------------------------------------------------------------------- the lesson's model
def load_lesson():
    """examples/09_language_model.py as a module, through the lessons' own loader (it needs
    matplotlib and tqdm, the examples extra: ImportError without them)."""
    examples = os.path.join(harness.ROOT, "examples")
    if examples not in sys.path:
        sys.path.insert(0, examples)  # the lessons import their helpers from examples/_common.py
    from _common import load_lesson as load

    return load("09_language_model")


def make_data(size, seed=0):
    """int64 windows of characters: inputs and their next characters, each (batch, context)."""
    rng = np.random.default_rng(seed)
    windows = rng.integers(0, size["vocab_size"], size=(size["batch"], size["context"] + 1))
    return windows[:, :-1], windows[:, 1:]


def tinygrad_step(model, ids, targets):
    """The user's training step on the lesson's model; returns the function that runs one."""
    import tinygrad_edu.functional as F
    from tinygrad_edu import optim

    opt = optim.AdamW(model.parameters(), lr=LR, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY)
    flat_targets = targets.reshape(-1)

    def step():
        opt.zero_grad()
        logits = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), flat_targets)
        loss.backward()
        opt.step()
        return loss

    return step


# ---------------------------------------------------------------------- by hand
def layer_norm(x, weight, bias, eps=1e-5):
    """y = γ x̂ + β over the last axis; returns y and what backward needs (x̂, 1/σ)."""
    centered = x - x.mean(axis=-1, keepdims=True)
    inv_std = 1 / np.sqrt((centered * centered).mean(axis=-1, keepdims=True) + eps)
    x_hat = centered
    x_hat *= inv_std
    y = x_hat * weight
    y += bias
    return y, (x_hat, inv_std)


def layer_norm_backward(grad, weight, cache, grads, name):
    """∂L/∂x = (ĝ − mean(ĝ) − x̂·mean(ĝ x̂)) / σ with ĝ = γ·grad; adds ∂L/∂γ and ∂L/∂β to grads."""
    x_hat, inv_std = cache
    rows, rows_hat = grad.reshape(-1, grad.shape[-1]), x_hat.reshape(-1, x_hat.shape[-1])
    grads[name + ".weight"] = (rows * rows_hat).sum(axis=0)
    grads[name + ".bias"] = rows.sum(axis=0)
    g_hat = grad * weight
    dx = g_hat - g_hat.mean(axis=-1, keepdims=True)
    dx -= x_hat * (g_hat * x_hat).mean(axis=-1, keepdims=True)
    dx *= inv_std
    return dx


def linear(x, weight, bias):
    """x Wᵀ + b on the rows of x (..., in) → (..., out)."""
    out = x.reshape(-1, x.shape[-1]) @ weight.T
    out += bias
    return out.reshape(x.shape[:-1] + (weight.shape[0],))


def linear_backward(grad, x, weight, grads, name):
    """∂L/∂x = G W; adds ∂L/∂W = Gᵀ x and ∂L/∂b = Σ G to grads."""
    rows = grad.reshape(-1, grad.shape[-1])
    grads[name + ".bias"] = rows.sum(axis=0)
    grads[name + ".weight"] = rows.T @ x.reshape(-1, x.shape[-1])
    return (rows @ weight).reshape(x.shape)


def gelu_tanh(u):
    """½u(1 + tanh(√(2/π)(u + 0.044715u³))); returns it and the tanh, which backward needs."""
    t = np.tanh(GELU_C * (u + 0.044715 * u * u * u))
    return 0.5 * u * (1 + t), t


def gelu_tanh_backward(grad, u, t):
    """GELU'(u) = ½(1 + t) + ½u(1 − t²)·√(2/π)(1 + 3·0.044715u²)."""
    slope = 0.5 * u * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * u * u)
    slope += 0.5 * (1 + t)
    return grad * slope


class HandTransformer:
    """The step of lesson 9's Transformer written out on NumPy arrays: params is the
    model's state_dict (PyTorch's names and layouts), updated in place by AdamW."""

    def __init__(self, state_dict, size, ids, targets):
        self.params = {name: np.array(array) for name, array in state_dict.items()}
        self.moments = {name: (np.zeros_like(p), np.zeros_like(p)) for name, p in self.params.items()}
        self.heads, self.layers = size["heads"], size["layers"]
        self.ids, self.targets = ids, targets.reshape(-1)
        length = ids.shape[1]
        self.future = np.triu(np.ones((length, length), dtype=bool), k=1)
        self.t = 0

    def split_heads(self, x):
        batch, length, width = x.shape
        return x.reshape(batch, length, self.heads, width // self.heads).transpose(0, 2, 1, 3)

    def merge_heads(self, x):
        batch, heads, length, d = x.shape
        return x.transpose(0, 2, 1, 3).reshape(batch, length, heads * d)

    def attention(self, h, name):
        """Causal multi-head self-attention of h (B, T, C); returns its output and a cache."""
        p = self.params
        q, k, v = (
            self.split_heads(linear(h, p[f"{name}.{m}.weight"], p[f"{name}.{m}.bias"]))
            for m in ("query", "key", "value")
        )
        scale = 1 / np.sqrt(q.shape[-1])
        scores = q @ k.transpose(0, 1, 3, 2)
        scores *= scale
        scores[..., self.future] = -np.inf
        scores -= scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores, out=scores)
        weights /= weights.sum(axis=-1, keepdims=True)
        merged = self.merge_heads(weights @ v)
        out = linear(merged, p[f"{name}.proj.weight"], p[f"{name}.proj.bias"])
        return out, (h, q, k, v, weights, merged, scale)

    def attention_backward(self, grad, cache, grads, name):
        p = self.params
        h, q, k, v, weights, merged, scale = cache
        grad_merged = linear_backward(grad, merged, p[f"{name}.proj.weight"], grads, f"{name}.proj")
        grad_out = self.split_heads(grad_merged)
        grad_v = weights.transpose(0, 1, 3, 2) @ grad_out
        grad_weights = grad_out @ v.transpose(0, 1, 3, 2)
        # softmax: ∂L/∂s = w ⊙ (∂L/∂w − Σ ∂L/∂w ⊙ w); masked scores have w = 0, so get 0
        grad_scores = grad_weights
        grad_scores -= (grad_weights * weights).sum(axis=-1, keepdims=True)
        grad_scores *= weights
        grad_scores *= scale
        grad_q = grad_scores @ k
        grad_k = grad_scores.transpose(0, 1, 3, 2) @ q
        grad_h = 0
        for m, g in (("query", grad_q), ("key", grad_k), ("value", grad_v)):
            grad_h = grad_h + linear_backward(self.merge_heads(g), h, p[f"{name}.{m}.weight"], grads, f"{name}.{m}")
        return grad_h

    def block(self, x, name):
        p = self.params
        h, norm1 = layer_norm(x, p[f"{name}.norm1.weight"], p[f"{name}.norm1.bias"])
        attended, attention = self.attention(h, f"{name}.attention")
        x = x + attended
        h2, norm2 = layer_norm(x, p[f"{name}.norm2.weight"], p[f"{name}.norm2.bias"])
        u = linear(h2, p[f"{name}.mlp.0.weight"], p[f"{name}.mlp.0.bias"])
        a, t = gelu_tanh(u)
        x = x + linear(a, p[f"{name}.mlp.2.weight"], p[f"{name}.mlp.2.bias"])
        return x, (norm1, attention, norm2, h2, u, t, a)

    def block_backward(self, grad, cache, grads, name):
        p = self.params
        norm1, attention, norm2, h2, u, t, a = cache
        grad_a = linear_backward(grad, a, p[f"{name}.mlp.2.weight"], grads, f"{name}.mlp.2")
        grad_u = gelu_tanh_backward(grad_a, u, t)
        grad_h2 = linear_backward(grad_u, h2, p[f"{name}.mlp.0.weight"], grads, f"{name}.mlp.0")
        grad = grad + layer_norm_backward(grad_h2, p[f"{name}.norm2.weight"], norm2, grads, f"{name}.norm2")
        grad_h = self.attention_backward(grad, attention, grads, f"{name}.attention")
        return grad + layer_norm_backward(grad_h, p[f"{name}.norm1.weight"], norm1, grads, f"{name}.norm1")

    def forward_backward(self):
        """The loss, and the gradient of every parameter (a dict like params)."""
        p, ids, targets = self.params, self.ids, self.targets
        x = p["token.weight"][ids] + p["position.weight"][: ids.shape[1]]
        caches = []
        for i in range(self.layers):
            x, cache = self.block(x, f"blocks.{i}")
            caches.append(cache)
        h, norm = layer_norm(x, p["norm.weight"], p["norm.bias"])
        logits = linear(h, p["head.weight"], p["head.bias"]).reshape(len(targets), -1)
        # cross-entropy through a stable softmax; ∂L/∂z = (p − onehot) / N
        logits -= logits.max(axis=1, keepdims=True)
        rows = np.arange(len(targets))
        picked = logits[rows, targets]
        probs = np.exp(logits, out=logits)
        total = probs.sum(axis=1, keepdims=True)
        loss = (np.log(total).sum() - picked.sum()) / len(targets)
        probs /= total
        probs[rows, targets] -= 1
        probs *= 1 / len(targets)
        grads = {}
        grad = linear_backward(probs.reshape(h.shape[:-1] + (-1,)), h, p["head.weight"], grads, "head")
        grad = layer_norm_backward(grad, p["norm.weight"], norm, grads, "norm")
        for i in reversed(range(self.layers)):
            grad = self.block_backward(grad, caches[i], grads, f"blocks.{i}")
        grads["position.weight"] = np.zeros_like(p["position.weight"])
        grads["position.weight"][: ids.shape[1]] = grad.sum(axis=0)
        grads["token.weight"] = np.zeros_like(p["token.weight"])
        np.add.at(grads["token.weight"], ids.reshape(-1), grad.reshape(-1, grad.shape[-1]))
        return loss, grads

    def step(self):
        """Forward, loss, backward and PyTorch's AdamW update; returns the loss."""
        loss, grads = self.forward_backward()
        self.t += 1
        beta1, beta2 = BETAS
        bias1, bias2 = 1 - beta1**self.t, np.sqrt(1 - beta2**self.t)
        for name, p in self.params.items():
            g, (m, v) = grads[name], self.moments[name]
            p *= 1 - LR * WEIGHT_DECAY
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            denominator = np.sqrt(v)
            denominator /= bias2
            denominator += EPS
            p -= (LR / bias1) * m / denominator
        return loss


# ---------------------------------------------------------------------- PyTorch
def torch_model(torch, size):
    """The lesson's Transformer in PyTorch, with the same parameter names."""
    nn = torch.nn

    class Attention(nn.Module):
        def __init__(self, width, heads):
            super().__init__()
            self.heads = heads
            self.query, self.key, self.value, self.proj = (nn.Linear(width, width) for _ in range(4))

        def split_heads(self, x):
            batch, length, width = x.shape
            return x.reshape(batch, length, self.heads, width // self.heads).transpose(1, 2)

        def forward(self, x):
            q, k, v = (self.split_heads(layer(x)) for layer in (self.query, self.key, self.value))
            length = x.shape[1]
            future = torch.ones(length, length, dtype=torch.bool).triu(1)
            scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
            out = torch.where(future, -float("inf"), scores).softmax(-1) @ v
            return self.proj(out.transpose(1, 2).reshape(x.shape))

    class Block(nn.Module):
        def __init__(self, width, heads):
            super().__init__()
            self.norm1, self.attention, self.norm2 = nn.LayerNorm(width), Attention(width, heads), nn.LayerNorm(width)
            self.mlp = nn.Sequential(
                nn.Linear(width, 4 * width), nn.GELU(approximate="tanh"), nn.Linear(4 * width, width)
            )

        def forward(self, x):
            x = x + self.attention(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class Transformer(nn.Module):
        def __init__(self, vocab_size, context, width, heads, layers):
            super().__init__()
            self.token, self.position = nn.Embedding(vocab_size, width), nn.Embedding(context, width)
            self.blocks = nn.Sequential(*(Block(width, heads) for _ in range(layers)))
            self.norm, self.head = nn.LayerNorm(width), nn.Linear(width, vocab_size)

        def forward(self, ids):
            x = self.token(ids) + self.position(torch.arange(ids.shape[1]))
            return self.head(self.norm(self.blocks(x)))

    return Transformer(size["vocab_size"], size["context"], size["width"], size["heads"], size["layers"])


def torch_step(torch, size, state_dict, ids, targets):
    """The same step in PyTorch eager, from the same weights; returns the step function."""
    model = torch_model(torch, size)
    model.load_state_dict({name: torch.from_numpy(np.array(array)) for name, array in state_dict.items()})
    ids, targets = torch.from_numpy(ids), torch.from_numpy(targets.reshape(-1))
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY)

    def step():
        opt.zero_grad()
        logits = model(ids)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets)
        loss.backward()
        opt.step()
        return loss

    return step


# ---------------------------------------------------------------------- timing
def blas_threads(n):
    """A context in which NumPy's BLAS runs on n threads (nothing changes without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def numpy_based_rows(workload, steps, config):
    """Hand-written NumPy and tinygrad_edu, interleaved, at each BLAS thread count that
    PyTorch is timed at (harness.TORCH_THREADS); one row each at its faster count (the
    figure names it and gives the others). Returns the rows and NumPy's faster count."""
    counts = harness.TORCH_THREADS
    timings = {}
    for threads in counts:
        with blas_threads(threads):
            timings[threads] = harness.interleaved(steps, config.repeats(REPEATS), config.warmup)
    best = {name: min(counts, key=lambda n: timings[n][name].median) for name in steps}
    reference = timings[best[NUMPY]][NUMPY].median
    rows = {}
    for name in steps:
        row = harness.timing_row(workload, name, timings[best[name]][name], reference)
        others = [
            f"{_threads(n)}: {harness.format_seconds(timings[n][name].median)}" for n in counts if n != best[name]
        ]
        row.figure += f" ({'; '.join([_threads(best[name]), *others])})"
        rows[name] = row
    return rows, best[NUMPY]


def torch_row(workload, numpy_step, torch_step_fn, numpy_threads, config):
    """PyTorch at 1 and at 2 threads in a block of its own (harness.torch_block), with
    hand-written NumPy, at its faster BLAS thread count, timed before and after."""
    with blas_threads(numpy_threads):
        timing, threads, reference = harness.torch_block(
            numpy_step, torch_step_fn, config.repeats(REPEATS), config.warmup
        )
    row = harness.timing_row(workload, TORCH, timing, reference)
    row.figure += f" ({_threads(threads)})"
    return row


def _threads(n):
    return f"{n} thread" + ("s" if n > 1 else "")


def first_losses_agree(steps, torch_step_fn):
    """Run two steps of each contender and check that their losses agree (float32: 1e-4);
    the second loss comes after one AdamW step, so it checks the gradients too."""
    if torch_step_fn is not None:
        steps = dict(steps, **{TORCH: lambda: torch_step_fn().item()})
    losses = {name: [float(step()) for _ in range(2)] for name, step in steps.items()}
    for name, pair in losses.items():
        np.testing.assert_allclose(
            pair, losses[NUMPY], rtol=1e-4, err_msg=f"the first losses of {name} and NumPy differ"
        )


def run(config):
    try:
        lesson = load_lesson()
    except ImportError as error:
        config.skip(f"transformer: skipped: lesson 9's model needs the examples extra ({error})")
        return []
    import tinygrad_edu as tg

    size = QUICK if config.quick else FULL
    workload = f"transformer, batch {size['batch']}, context {size['context']}, width {size['width']}: AdamW step"
    tg.manual_seed(0)
    model = lesson.Transformer(size["vocab_size"], size["context"], size["width"], size["heads"], size["layers"])
    state_dict = model.state_dict()
    ids, targets = make_data(size)
    steps = {
        NUMPY: HandTransformer(state_dict, size, ids, targets).step,
        TINYGRAD: tinygrad_step(model, ids, targets),
    }
    torch = harness.torch_or_none()
    other = None if torch is None else torch_step(torch, size, state_dict, ids, targets)
    first_losses_agree(steps, other)
    rows, numpy_threads = numpy_based_rows(workload, steps, config)
    if torch is None:
        rows[TORCH] = harness.Row(workload, TORCH, "absent")
        return list(rows.values())
    rows[TORCH] = torch_row(workload, steps[NUMPY], other, numpy_threads, config)
    torch_median = rows[TORCH].value
    ratio = rows[TINYGRAD].value / torch_median
    bar = f"≤ {MAX_RATIO_TO_TORCH:.1f}× PyTorch ({harness.format_seconds(torch_median)}): {ratio:.2f}×"
    harness.check(rows[TINYGRAD], ratio <= MAX_RATIO_TO_TORCH, bar)
    return list(rows.values())
