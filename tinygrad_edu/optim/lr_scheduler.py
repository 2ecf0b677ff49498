"""Learning-rate schedules: each step() sets every param group's "lr" for the next epoch.

    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, opt)    # opt.step() uses param_groups[i]["lr"]
        sched.step()

As in PyTorch, a schedule updates each group's current lr from the one before (the
"chainable" form), so two schedules on one optimizer compose, and its values equal
PyTorch's to the last bits; each class's docstring also gives the closed form.
"""

import math
import numbers

from .optimizer import Optimizer, check_non_negative


class LRScheduler:
    """The base of the schedules: keeps `last_epoch` (0 after construction) and sets each
    group's "lr" to get_lr() at every step(). Each group's starting lr is kept in the
    group as "initial_lr" and in `base_lrs`."""

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"a schedule needs an optimizer (e.g. optim.SGD), got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])  # an earlier schedule's start wins, as in PyTorch
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self.step()  # epoch 0: get_lr() keeps the learning rates as they are

    def get_lr(self):
        """The learning rates for epoch `last_epoch`, one per param group."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def step(self):
        """Move to the next epoch and set each group's "lr" to the schedule's value there."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """The schedule's state as PyTorch keeps it: every attribute but the optimizer
        (last_epoch, base_lrs, the schedule's options), to save beside the optimizer's."""
        return {name: value for name, value in self.__dict__.items() if name != "optimizer"}

    def load_state_dict(self, state_dict):
        """Take back what state_dict() gave (the optimizer's learning rates come with the
        optimizer's own load_state_dict)."""
        self.__dict__.update({name: value for name, value in state_dict.items() if name != "optimizer"})

    def get_last_lr(self):
        """The learning rates the last step() set, one per param group (a new list)."""
        return list(self._last_lr)

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """Multiply each group's lr by gamma every step_size epochs:

        lr_t = lr_(t−1) · gamma  when t is a multiple of step_size, else lr_(t−1)
        (closed form: lr_t = base_lr · gamma^⌊t / step_size⌋)

    StepLR(optimizer, step_size, gamma=0.1)
    """

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size = _check_positive_int("step_size", step_size)
        self.gamma = check_non_negative("gamma", gamma)
        super().__init__(optimizer)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Follow half a cosine from each group's base lr down to eta_min over T_max epochs,
    then back up over the next T_max (the cosine goes on with period 2·T_max):

        lr_t = eta_min + (base_lr − eta_min) · (1 + cos(π t / T_max)) / 2    (closed form)

    computed, as in PyTorch, from the lr before (the ratio of two such cosines), except at
    the step leaving the minimum, where that ratio would divide by 1 + cos(π) = 0:

        lr_t = eta_min + (lr_(t−1) − eta_min) · (1 + cos(π t / T_max)) / (1 + cos(π (t − 1) / T_max))
        lr_t = lr_(t−1) + (base_lr − eta_min) · (1 − cos(π / T_max)) / 2
                                                when (t − 1 − T_max) is a multiple of 2·T_max

    CosineAnnealingLR(optimizer, T_max, eta_min=0.0)
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        self.T_max = _check_positive_int("T_max", T_max)
        self.eta_min = check_non_negative("eta_min", eta_min)
        super().__init__(optimizer)

    def get_lr(self):
        t, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return self._current_lrs()
        if (t - 1 - period) % (2 * period) == 0:
            rise = (1 - math.cos(math.pi / period)) / 2
            return [lr + (base_lr - eta_min) * rise for lr, base_lr in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"invalid {name}: expected a whole number > 0, got {value!r}")
    return int(value)
