"""Optimizer and schedule state_dict: a training run saved and resumed goes on exactly as
one that never stopped; the layout is PyTorch's; a state_dict that does not fit is refused
with the optimizer left as it was."""

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import nn, optim


def _model(seed=0):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


X = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
Y = np.array([0, 1, 1, 0, 1, 0, 0, 1])


def _train(model, opt, steps, schedule=None):
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(tg.Tensor(X)), Y).backward()
        opt.step()
        if schedule is not None:
            schedule.step()


OPTIMIZERS = {
    "SGD nesterov": lambda params: optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "Adam": lambda params: optim.Adam(params, lr=0.05),
    "AdamW": lambda params: optim.AdamW(params, lr=0.05, weight_decay=0.1),
}


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_a_resumed_run_goes_on_as_one_that_never_stopped(make):
    straight = _model()
    opt = make(straight.parameters())
    straight_schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    _train(straight, opt, 5, straight_schedule)

    first = _model()
    opt = make(first.parameters())
    schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    _train(first, opt, 3, schedule)
    saved = (first.state_dict(), opt.state_dict(), schedule.state_dict())

    resumed = _model(seed=1)  # other weights, and a fresh optimizer and schedule: all from the files
    resumed.load_state_dict(saved[0])
    opt = make(resumed.parameters())
    schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    opt.load_state_dict(saved[1])
    schedule.load_state_dict(saved[2])
    _train(resumed, opt, 2, schedule)

    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert schedule.get_last_lr() == straight_schedule.get_last_lr() == [opt.param_groups[0]["lr"]]
    assert schedule.last_epoch == straight_schedule.last_epoch == 5


def test_the_saved_state_is_a_copy():
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.1)
    _train(model, opt, 1)
    saved = opt.state_dict()
    before = saved["state"][0]["exp_avg"].copy()
    _train(model, opt, 1)
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], before)
    assert saved["state"][0]["step"] == 1


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_the_layout_is_pytorch_s(torch, name):
    ours = _model()
    opt = optim.SGD(ours.parameters(), lr=0.1, momentum=0.9) if name == "SGD" else optim.Adam(ours.parameters())
    _train(ours, opt, 1)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    params = list(theirs.parameters())
    twin = torch.optim.SGD(params, lr=0.1, momentum=0.9) if name == "SGD" else torch.optim.Adam(params)
    theirs(torch.from_numpy(X)).sum().backward()
    twin.step()
    ours_sd, theirs_sd = opt.state_dict(), twin.state_dict()
    assert sorted(ours_sd) == sorted(theirs_sd) == ["param_groups", "state"]
    assert sorted(ours_sd["state"]) == sorted(theirs_sd["state"]) == [0, 1, 2, 3]
    assert sorted(ours_sd["state"][0]) == sorted(theirs_sd["state"][0])
    assert ours_sd["param_groups"][0]["params"] == theirs_sd["param_groups"][0]["params"]
    assert ours_sd["param_groups"][0]["lr"] == theirs_sd["param_groups"][0]["lr"]


def test_a_state_dict_that_does_not_fit_is_refused_and_changes_nothing():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train(model, opt, 1)
    good = opt.state_dict()
    before = opt.state_dict()

    other = optim.SGD([nn.Parameter(np.zeros(3))], lr=0.5)
    with pytest.raises(ValueError, match=r"param groups of \[4\] parameters, this optimizer of \[1\]"):
        other.load_state_dict(good)
    wrong_shape = {"state": {0: {"momentum_buffer": np.zeros(5)}}, "param_groups": [{"lr": 0.2, "params": [0]}]}
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 has shape \(5,\), the parameter \(3,\)"):
        other.load_state_dict(wrong_shape)
    assert other.param_groups[0]["lr"] == 0.5 and other.state == {}, "a refused load changes nothing"
    with pytest.raises(ValueError, match="keys 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    with pytest.raises(ValueError, match="expected numbers 0 to 3"):
        opt.load_state_dict({"state": {7: {}}, "param_groups": good["param_groups"]})
    after = opt.state_dict()
    for index, buffers in before["state"].items():
        np.testing.assert_array_equal(after["state"][index]["momentum_buffer"], buffers["momentum_buffer"])


def test_a_schedule_s_state_comes_back():
    opt = optim.SGD([nn.Parameter(np.zeros(2))], lr=1.0)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        schedule.step()
    saved = schedule.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 4
    again = optim.lr_scheduler.CosineAnnealingLR(optim.SGD([nn.Parameter(np.zeros(2))], lr=1.0), T_max=10)
    again.load_state_dict(saved)
    again.optimizer.param_groups[0]["lr"] = opt.param_groups[0]["lr"]  # the optimizer's own state_dict carries it
    schedule.step()
    again.step()
    assert again.get_last_lr() == schedule.get_last_lr()
