"""SGD: gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay."""

from .optimizer import Optimizer, check_non_negative


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's rule. For each parameter p with gradient g:

        g ← g + weight_decay · p
        b ← g at the first step, else momentum · b + (1 − dampening) · g
        g ← g + momentum · b (nesterov)  or  b (momentum > 0)
        p ← p − lr · g

    SGD(params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False); each
    param group may set its own. The buffer b is state[p]["momentum_buffer"].
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _check_options(self, group, where):
        for option in ("lr", "momentum", "weight_decay"):
            check_non_negative(option, group[option], where)
        if group["nesterov"] and (group["momentum"] == 0 or group["dampening"] != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening = 0, "
                f"got momentum={group['momentum']}, dampening={group['dampening']}{where}"
            )

    def step(self):
        # Kept lean: this loop is in the benchmarks' training step, one pass per parameter
        for group in self.param_groups:
            lr, momentum, weight_decay = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if weight_decay != 0:
                    g = g + weight_decay * p.data  # a new array: .grad itself is left as it is
                if momentum != 0:
                    g = self._momentum(p, g, momentum, float(group["dampening"]), group["nesterov"])
                p.data -= lr * g
                p.bump_version()

    def _momentum(self, p, g, momentum, dampening, nesterov):
        """The direction of the step with momentum: b, or g + momentum · b (Nesterov)."""
        state = self.state.get(p)
        if state is None:
            buffer = g.copy()  # the first step takes g as it is, undampened
            self.state[p] = {"momentum_buffer": buffer}
        else:
            buffer = state["momentum_buffer"]
            buffer *= momentum
            buffer += g if dampening == 0 else (1 - dampening) * g
        return g + momentum * buffer if nesterov else buffer
