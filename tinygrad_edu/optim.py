"""Optimizers: gradient descent with momentum (SGD) and Adam, with PyTorch's update rules.

A step reads each parameter's .grad and changes p.data in place with array operations:
no graph is recorded, the Parameter objects stay the same, and the dtype stays the
parameter's (hyper-parameters are Python floats, which never widen a float32 array).
State (momentum buffers, Adam's moments) lives on the parameter's device.
"""

import math

from . import backend
from .tensor import Tensor


def _check_non_negative(name, value):
    if not value >= 0:  # also catches NaN
        raise ValueError(f"invalid {name}: expected {name} >= 0, got {value}")
    return float(value)


class Optimizer:
    """Holds the parameters (any iterable of Tensors, e.g. model.parameters()) and
    updates them from their .grad in step(). Parameters whose .grad is None are skipped."""

    def __init__(self, params):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list: pass model.parameters() of a model with weights")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer params must be Tensors, got {type(p).__name__} at position {i}")
        if len(set(self.params)) != len(self.params):
            raise ValueError("optimizer got the same parameter more than once: it would be updated twice per step")
        self.state = {}  # parameter -> its buffers, created at its first step

    def _gradients(self, weight_decay):
        """[(parameter, gradient array)] for each parameter that has a .grad, with the L2
        term weight_decay · p added (a new array then: .grad itself is left as it is)."""
        pairs = []
        for p in self.params:
            if p.grad is not None:
                g = p.grad.data
                pairs.append((p, g if weight_decay == 0 else g + weight_decay * p.data))
        return pairs

    def zero_grad(self):
        """Forget every parameter's gradient (sets .grad to None) before the next backward."""
        for p in self.params:
            p.grad = None

    def step(self):
        raise NotImplementedError(f"{type(self).__name__} must define step()")


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, dampening, Nesterov momentum
    and L2 weight decay (PyTorch's rule). For each parameter p with gradient g:

        g ← g + weight_decay · p
        b ← g at the first step, else momentum · b + (1 − dampening) · g
        g ← g + momentum · b (nesterov)  or  b (momentum > 0)
        p ← p − lr · g
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params)
        self.lr = _check_non_negative("lr", lr)
        self.momentum = _check_non_negative("momentum", momentum)
        self.dampening = float(dampening)
        self.weight_decay = _check_non_negative("weight_decay", weight_decay)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(
                f"nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum}, dampening={dampening}"
            )
        self.nesterov = bool(nesterov)

    def step(self):
        lr, momentum = self.lr, self.momentum
        for p, g in self._gradients(self.weight_decay):
            if momentum != 0:
                buffer = self.state.get(p)
                if buffer is None:
                    buffer = self.state[p] = g.copy()  # the first step takes g as it is, undampened
                else:
                    buffer *= momentum
                    buffer += g if self.dampening == 0 else (1 - self.dampening) * g
                g = g + momentum * buffer if self.nesterov else buffer
            p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with PyTorch's rule: running means of the gradient and of
    its square, corrected for their start at zero. For each parameter p with gradient g,
    at its t-th step:

        g ← g + weight_decay · p                  (L2 penalty added to the gradient)
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
        p ← p − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self.lr = _check_non_negative("lr", lr)
        self.eps = _check_non_negative("eps", eps)
        self.weight_decay = _check_non_negative("weight_decay", weight_decay)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0 <= beta < 1:
                raise ValueError(f"invalid beta: expected 0 <= betas[{i}] < 1, got {beta}")
        self.betas = (float(betas[0]), float(betas[1]))

    def step(self):
        lr, eps = self.lr, self.eps
        beta1, beta2 = self.betas
        for p, g in self._gradients(self.weight_decay):
            state = self.state.get(p)
            if state is None:
                xp = backend.xp(p.data)
                state = self.state[p] = {"step": 0, "m": xp.zeros_like(p.data), "v": xp.zeros_like(p.data)}
            state["step"] += 1
            t, m, v = state["step"], state["m"], state["v"]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            denominator = backend.xp(v).sqrt(v)
            denominator *= 1 / math.sqrt(1 - beta2**t)
            denominator += eps
            p.data -= (lr / (1 - beta1**t)) * m / denominator
