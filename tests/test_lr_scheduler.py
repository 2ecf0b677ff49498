"""StepLR and CosineAnnealingLR: PyTorch's values over several periods, the closed forms
by hand, the optimizer stepping with the scheduled lr, and bad arguments."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.optim import lr_scheduler


def _two_groups(lrs=(0.1, 0.03)):
    """Params and an SGD with one param group per lr."""
    params = [nn.Parameter(np.ones(2)) for _ in lrs]
    return params, optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0])


def _schedule(sched, steps):
    """get_last_lr() after construction, then after each of `steps` steps."""
    values = [sched.get_last_lr()]
    for _ in range(steps):
        sched.step()
        values.append(sched.get_last_lr())
    return np.array(values)


def _torch_schedule(torch, name, lrs, steps, **kwargs):
    params = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0])
    sched = getattr(torch.optim.lr_scheduler, name)(opt, **kwargs)
    values = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()  # PyTorch warns when a schedule steps before its optimizer
        sched.step()
        values.append(sched.get_last_lr())
    return np.array(values)


@pytest.mark.oracle
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("StepLR", dict(step_size=1)),
        ("StepLR", dict(step_size=3, gamma=0.5)),
        ("StepLR", dict(step_size=7, gamma=0.9)),
        ("CosineAnnealingLR", dict(T_max=1)),
        ("CosineAnnealingLR", dict(T_max=2, eta_min=0.01)),
        ("CosineAnnealingLR", dict(T_max=10)),
        ("CosineAnnealingLR", dict(T_max=7, eta_min=1e-3)),
        ("CosineAnnealingLR", dict(T_max=100, eta_min=0.05)),
    ],
    ids=lambda value: value if isinstance(value, str) else ",".join(f"{k}={v}" for k, v in value.items()),
)
def test_schedule_matches_pytorch_over_three_periods(torch, name, kwargs):
    lrs = (0.1, 0.03)
    steps = 3 * max(kwargs.get("step_size", 0) * 4, kwargs.get("T_max", 0))
    _, opt = _two_groups(lrs)
    ours = _schedule(getattr(lr_scheduler, name)(opt, **kwargs), steps)
    theirs = _torch_schedule(torch, name, lrs, steps, **kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0, err_msg=f"{name}({kwargs}), one column per group")


def test_step_lr_closed_form_by_hand():
    """lr_t = 0.1 · 0.5^⌊t / 2⌋: 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125"""
    _, opt = _two_groups((0.1,))
    values = _schedule(lr_scheduler.StepLR(opt, step_size=2, gamma=0.5), 6)[:, 0]
    np.testing.assert_allclose(values, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125], rtol=1e-15)


@pytest.mark.parametrize("T_max, eta_min", [(4, 0.0), (10, 0.02), (25, 0.1)])
def test_cosine_follows_its_closed_form(T_max, eta_min):
    """lr_t = eta_min + (base − eta_min)(1 + cos(π t / T_max)) / 2, over three half-periods:
    down to eta_min at T_max, back to base at 2·T_max (the recursion stays on the curve)."""
    base = 0.3
    _, opt = _two_groups((base,))
    values = _schedule(lr_scheduler.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min), 3 * T_max)[:, 0]
    t = np.arange(3 * T_max + 1)
    expected = eta_min + (base - eta_min) * (1 + np.cos(np.pi * t / T_max)) / 2
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-13 * base)
    assert values[T_max] == pytest.approx(eta_min, abs=1e-15) and values[2 * T_max] == pytest.approx(base)


@given(st.integers(1, 10), st.floats(0.01, 2.0), st.integers(0, 60))
def test_step_lr_is_base_times_gamma_to_the_number_of_periods(step_size, gamma, steps):
    _, opt = _two_groups((0.2,))
    sched = lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    for _ in range(steps):
        sched.step()
    expected = 0.2 * gamma ** (steps // step_size)
    assert sched.get_last_lr()[0] == pytest.approx(expected, rel=1e-12), f"after {steps} steps"


def test_the_optimizer_steps_with_the_scheduled_lr():
    """g = 1 for each step: p moves by exactly the lr the schedule set, group by group."""
    params, opt = _two_groups((0.1, 0.03))
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for epoch in range(4):
        lrs = sched.get_last_lr()
        before = [p.numpy().copy() for p in params]
        for p in params:
            p.grad = Tensor(np.ones(2))
        opt.step()
        for p, start, lr in zip(params, before, lrs):
            np.testing.assert_allclose(start - p.numpy(), lr, rtol=1e-12, err_msg=f"epoch {epoch}")
        sched.step()
    assert [group["lr"] for group in opt.param_groups] == sched.get_last_lr()


def test_last_epoch_base_lrs_and_initial_lr():
    _, opt = _two_groups((0.1, 0.03))
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    assert sched.last_epoch == 0 and sched.get_last_lr() == [0.1, 0.03], "construction is epoch 0"
    sched.step()
    sched.step()
    assert sched.last_epoch == 2
    assert sched.base_lrs == [0.1, 0.03] and [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.03]
    returned = sched.get_last_lr()
    returned[0] = 99.0
    assert sched.get_last_lr()[0] != 99.0, "get_last_lr gives a new list"


def test_two_schedules_on_one_optimizer_compose():
    """Each updates the current lr: StepLR(γ=0.5, every step) times the cosine's ratio."""
    _, opt = _two_groups((0.2,))
    step_lr = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    step_lr.step()
    cosine.step()
    expected = 0.2 * 0.5 * (1 + math.cos(math.pi / 4)) / 2
    assert opt.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda opt: lr_scheduler.StepLR(opt, step_size=0), "step_size: expected a whole number > 0, got 0"),
        (lambda opt: lr_scheduler.StepLR(opt, step_size=-2), "got -2"),
        (lambda opt: lr_scheduler.StepLR(opt, step_size=2.5), "got 2.5"),
        (lambda opt: lr_scheduler.StepLR(opt, step_size=True), "got True"),
        (lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=-0.1), "gamma >= 0, got -0.1"),
        (lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=float("nan")), "gamma >= 0, got nan"),
        (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=0), "T_max: expected a whole number > 0, got 0"),
        (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=10.0), "got 10.0"),
        (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=-1e-3), "eta_min >= 0, got -0.001"),
    ],
)
def test_bad_arguments_are_value_errors(make, message):
    _, opt = _two_groups()
    with pytest.raises(ValueError, match=message):
        make(opt)
    assert [group["lr"] for group in opt.param_groups] == [0.1, 0.03], "a refused schedule changes nothing"


def test_a_schedule_needs_an_optimizer():
    with pytest.raises(TypeError, match="needs an optimizer.*got list"):
        lr_scheduler.StepLR([nn.Parameter(np.ones(1))], step_size=1)


def test_numpy_integers_are_whole_numbers():
    _, opt = _two_groups()
    assert lr_scheduler.StepLR(opt, step_size=np.int64(3)).step_size == 3
