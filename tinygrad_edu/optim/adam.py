"""Adam and AdamW: steps scaled by running means of the gradient and of its square."""

import math
import numbers

from .. import backend
from .optimizer import Optimizer, check_non_negative


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with PyTorch's rule: running means of the gradient and of
    its square, corrected for their start at zero. For each parameter p with gradient g,
    at its t-th step:

        g ← g + weight_decay · p                  (L2 penalty added to the gradient)
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
        p ← p − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)

    Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0); each param
    group may set its own. state[p] holds "step" (t), "exp_avg" (m) and "exp_avg_sq" (v).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _check_options(self, group, where):
        for option in ("lr", "eps", "weight_decay"):
            check_non_negative(option, group[option], where)
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}{where}")
        for i, beta in enumerate(betas):
            if not (isinstance(beta, numbers.Real) and 0 <= beta < 1):
                raise ValueError(f"invalid beta: expected 0 <= betas[{i}] < 1, got {beta}{where}")

    def step(self):
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(beta) for beta in group["betas"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = self._decay(p, p.grad.data, lr, weight_decay)
                self._adam_update(p, g, lr, beta1, beta2, eps)
                p.bump_version()

    def _decay(self, p, g, lr, weight_decay):
        """Adam's weight decay: the L2 penalty's gradient, g + weight_decay · p (a new array:
        .grad itself is left as it is)."""
        return g if weight_decay == 0 else g + weight_decay * p.data

    def _adam_update(self, p, g, lr, beta1, beta2, eps):
        state = self.state.get(p)
        if state is None:
            xp = backend.xp(p.data)
            state = self.state[p] = {"step": 0, "exp_avg": xp.zeros_like(p.data), "exp_avg_sq": xp.zeros_like(p.data)}
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        # in place where the array is the optimizer's own (m, v, and the step it builds),
        # so that an update makes three new arrays, not six
        m *= beta1
        m += (1 - beta1) * g
        g_squared = g * g
        g_squared *= 1 - beta2
        v *= beta2
        v += g_squared
        xp = backend.xp(v)
        step = xp.sqrt(v, out=xp.empty_like(v))  # out=: an array even for a 0-d parameter
        step /= math.sqrt(1 - beta2**t)
        step += eps
        xp.divide(m, step, out=step)  # m / (√v̂ + eps)
        step *= lr / (1 - beta1**t)
        p.data -= step


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's rule: the
    parameter shrinks towards zero before the Adam update, and the decay never passes
    through m and v (so Adam's scaling does not weaken it where gradients are large):

        p ← p − lr · weight_decay · p
        then Adam's update with g itself (m, v and the step as in Adam)

    AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _decay(self, p, g, lr, weight_decay):
        """AdamW's weight decay: p ← (1 − lr · weight_decay) · p in place; g is left as it is."""
        if weight_decay != 0:
            p.data *= 1 - lr * weight_decay
        return g
