"""Module buffers (register_buffer, named_buffers, state_dict order, load, to), train/eval
on nested modules, and the version counts that in-place loading and nn.init leave."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, backend, nn


class RunningStats(nn.Module):
    """BatchNorm1d's registry, written here so that these tests need no BatchNorm: weight
    and bias, then the buffers running_mean, running_var and num_batches_tracked (int64)."""

    def __init__(self, num_features):
        super().__init__()
        self.weight = nn.Parameter(np.ones(num_features, dtype=np.float32))
        self.bias = nn.Parameter(np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
        self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x):
        return (x - Tensor(self.running_mean.data)) * self.weight + self.bias


class Net(nn.Module):
    """Own parameter and buffer, then a Linear, a RunningStats and a nested Sequential."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 3)
        self.register_buffer("step", np.zeros(1, dtype=np.float32))
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.bn = RunningStats(3)
        self.head = nn.Sequential(nn.Linear(3, 1), RunningStats(1))

    def forward(self, x):
        return self.head(self.bn(self.fc(x)) * self.scale)


def _torch_net(torch):
    """Net's architecture in PyTorch, registered in the same order."""

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 3)
            self.register_buffer("step", torch.zeros(1))
            self.scale = torch.nn.Parameter(torch.ones(1))
            self.bn = torch.nn.BatchNorm1d(3)
            self.head = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.BatchNorm1d(1))

    return TorchNet()


def _versions(model):
    return {name: t._version for name, t in [*model.named_parameters(), *model.named_buffers()]}


# ---------------------------------------------------------------------- register_buffer
def test_a_buffer_is_an_attribute_tensor_that_does_not_require_grad():
    model = RunningStats(3)
    assert isinstance(model.running_mean, Tensor), "an array is stored as a Tensor"
    assert not model.running_mean.requires_grad, "a buffer is not trained"
    assert model.num_batches_tracked.dtype == np.int64, "a buffer keeps its dtype"
    assert [name for name, _ in model.named_parameters()] == ["weight", "bias"], "buffers are not parameters"
    assert list(model.buffers()) == [model.running_mean, model.running_var, model.num_batches_tracked]


def test_register_buffer_wraps_an_array_without_copying_and_keeps_a_tensor():
    module = nn.Module()
    array = np.arange(3.0)
    module.register_buffer("counts", array)
    assert module.counts.data is array, "like Tensor(array): no copy"
    t = Tensor([1.0, 2.0])
    module.register_buffer("given", t)
    assert module.given is t, "a Tensor that does not require grad is kept as it is"
    trained = Tensor([1.0], requires_grad=True)
    module.register_buffer("detached", trained)
    assert not module.detached.requires_grad and module.detached.data is trained.data


def test_named_buffers_are_own_first_then_childrens_with_dotted_names():
    names = [name for name, _ in Net().named_buffers()]
    expected = ["step", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    expected += ["head.1.running_mean", "head.1.running_var", "head.1.num_batches_tracked"]
    assert names == expected


def test_a_shared_buffer_appears_once_in_named_buffers_and_under_each_name_in_state_dict():
    first, second = RunningStats(2), RunningStats(2)
    second.running_mean = first.running_mean
    model = nn.Sequential(first, second)
    names = [name for name, _ in model.named_buffers()]
    assert names.count("0.running_mean") == 1 and "1.running_mean" not in names
    assert "1.running_mean" in model.state_dict(), "state_dict names every place, as PyTorch's does"


@pytest.mark.oracle
def test_state_dict_and_named_buffers_follow_pytorchs_order(torch):
    ours, theirs = Net(), _torch_net(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict()), "parameters, then buffers, then children"
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


@pytest.mark.oracle
def test_state_dict_with_buffers_loads_into_pytorch_and_back(torch):
    ours, theirs = Net(), _torch_net(torch)
    ours.bn.running_mean.data[...] = [0.5, -1.0, 2.0]
    ours.bn.num_batches_tracked.data[...] = 7
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    assert theirs.bn.num_batches_tracked.item() == 7
    np.testing.assert_array_equal(theirs.bn.running_mean.numpy(), [0.5, -1.0, 2.0])
    theirs.head[1].running_var.fill_(3.0)
    theirs.head[1].num_batches_tracked.fill_(11)
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(ours.head[1].running_var.numpy(), [3.0])
    assert ours.head[1].num_batches_tracked.item() == 11
    assert ours.head[1].num_batches_tracked.dtype == np.int64


def test_a_non_persistent_buffer_is_a_buffer_but_not_in_state_dict():
    module = nn.Module()
    module.register_buffer("mask", np.tril(np.ones((3, 3), dtype=bool)), persistent=False)
    module.register_buffer("kept", np.zeros(2, dtype=np.float32))
    assert [name for name, _ in module.named_buffers()] == ["mask", "kept"]
    assert list(module.state_dict()) == ["kept"]
    module.register_buffer("mask", np.ones(1, dtype=bool))  # registered again: persistent by default
    assert list(module.state_dict()) == ["mask", "kept"]


def test_a_none_buffer_is_registered_but_in_no_state_dict_until_a_tensor_is_assigned():
    module = nn.Module()
    module.register_buffer("running_mean", None)
    assert module.running_mean is None
    assert list(module.buffers()) == [] and module.state_dict() == {}
    module.running_mean = Tensor([1.0, 2.0])
    assert list(module.state_dict()) == ["running_mean"], "assigning to the name fills the buffer"


def test_assigning_to_a_buffer_name_replaces_the_buffer_in_its_place():
    model = RunningStats(2)
    new = Tensor([5.0, 6.0])
    model.running_mean = new
    assert model.running_mean is new
    assert list(model.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    np.testing.assert_array_equal(model.state_dict()["running_mean"], [5.0, 6.0])
    model.running_var = np.full(2, 4.0, dtype=np.float32)  # an array is wrapped, as register_buffer does
    assert isinstance(model.running_var, Tensor)
    with pytest.raises(TypeError, match="cannot assign int as buffer 'num_batches_tracked'"):
        model.num_batches_tracked = 3
    assert model.num_batches_tracked.item() == 0, "a refused assignment changes nothing"


def test_a_parameter_or_module_assigned_to_a_buffer_name_replaces_the_buffer_and_del_forgets_it():
    model = RunningStats(2)
    model.running_mean = nn.Parameter(np.zeros(2, dtype=np.float32))
    assert "running_mean" in dict(model.named_parameters())
    assert "running_mean" not in dict(model.named_buffers())
    del model.running_var
    assert [name for name, _ in model.named_buffers()] == ["num_batches_tracked"]
    assert not hasattr(model, "running_var")


@pytest.mark.parametrize(
    "name, value, error, message",
    [
        ("a.b", None, KeyError, "contain no '.', got 'a.b'"),
        ("", None, KeyError, "non-empty"),
        ("weight", None, KeyError, "attribute 'weight' already exists"),
        ("forward", None, KeyError, "attribute 'forward' already exists"),
        (3, None, TypeError, "buffer name must be a str, got int"),
        ("counts", [1, 2], TypeError, "cannot assign list as buffer 'counts': expected a Tensor, an array or None"),
        ("names", np.array(["a", "b"]), TypeError, "expected numbers"),
    ],
)
def test_register_buffer_errors(name, value, error, message):
    model = RunningStats(2)
    with pytest.raises(error, match=message):
        model.register_buffer(name, value)
    assert len(list(model.buffers())) == 3, "a refused buffer is not registered"


def test_register_buffer_before_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.register_buffer("running_mean", np.zeros(2))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\) first"):
        Forgetful()


# ---------------------------------------------------------------------- load_state_dict
def test_load_state_dict_loads_buffers_in_place_and_keeps_int64():
    model = Net()
    arrays = {name: t.data for name, t in model.named_buffers()}
    sd = model.state_dict()
    sd["bn.running_mean"] = np.array([1.0, 2.0, 3.0])  # float64 in, float32 kept
    sd["bn.num_batches_tracked"] = np.array(42.0)  # a float in, int64 kept
    model.load_state_dict(sd)
    assert model.bn.running_mean.dtype == np.float32
    np.testing.assert_array_equal(model.bn.running_mean.numpy(), [1.0, 2.0, 3.0])
    assert model.bn.num_batches_tracked.dtype == np.int64 and model.bn.num_batches_tracked.item() == 42
    assert all(t.data is arrays[name] for name, t in model.named_buffers()), "written in place"


def test_load_state_dict_names_a_missing_or_misshaped_buffer_and_changes_nothing():
    model = Net()
    before = model.state_dict()
    sd = Net().state_dict()
    del sd["bn.num_batches_tracked"]
    sd["head.1.running_var"] = np.ones(2)
    with pytest.raises(ValueError) as error:
        model.load_state_dict(sd)
    assert "missing keys ['bn.num_batches_tracked']" in str(error.value)
    assert "'head.1.running_var' has shape (2,), expected (1,)" in str(error.value)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=f"{name} changed by a refused load")


def test_load_state_dict_counts_a_version_on_every_tensor_it_writes():
    model = Net()
    before = _versions(model)
    model.load_state_dict(Net().state_dict())
    after = _versions(model)
    assert after == {name: version + 1 for name, version in before.items()}, f"{before} -> {after}"


def test_backward_through_a_graph_made_before_load_state_dict_refuses():
    model = Net()
    loss = model(Tensor([[1.0, 2.0]])).sum()
    model.load_state_dict(Net().state_dict())
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_write_that_fails_half_way_restores_what_was_written():
    model = Net()
    before, versions = model.state_dict(), _versions(model)
    frozen = np.ones(3, dtype=np.float32)
    frozen.flags.writeable = False
    model.bn.running_var = Tensor(frozen)  # later in the order than fc, step, scale, bn.weight, ...
    before["bn.running_var"] = frozen.copy()
    new = {name: array + 1 for name, array in Net().state_dict().items()}
    with pytest.raises(ValueError, match="read-only"):
        model.load_state_dict(new)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=f"{name} was written and not restored")
    assert _versions(model) == versions, "a refused load counts no change"


def test_a_device_copy_that_fails_leaves_the_module_unchanged(monkeypatch):
    model = Net()
    before, versions = model.state_dict(), _versions(model)
    calls = []

    def failing_to_device(array, device):
        calls.append(device)
        if len(calls) == 3:
            raise RuntimeError("the device copy failed")
        return array

    monkeypatch.setattr(backend, "to_device", failing_to_device)
    with pytest.raises(RuntimeError, match="the device copy failed"):
        model.load_state_dict({name: array + 1 for name, array in Net().state_dict().items()})
    monkeypatch.undo()
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=f"{name} changed by a failed load")
    assert _versions(model) == versions


# ---------------------------------------------------------------------- to(device / dtype)
def test_to_float64_casts_float_buffers_only_and_keeps_the_objects():
    model = Net()
    buffers = list(model.buffers())
    assert model.to(np.float64) is model
    assert list(model.buffers()) == buffers, "the same buffer objects"
    assert model.bn.running_mean.dtype == np.float64 and model.step.dtype == np.float64
    assert model.bn.num_batches_tracked.dtype == np.int64, "an integer buffer is not cast, as in PyTorch"
    assert all(p.dtype == np.float64 for p in model.parameters())


def test_to_counts_a_version_only_where_the_array_changed():
    model = Net()
    before = _versions(model)
    model.to("cpu")
    assert _versions(model) == before, "nothing moved, nothing changed"
    model.to("float64")
    after = _versions(model)
    changed = {name for name in before if after[name] != before[name]}
    assert changed == set(before) - {"bn.num_batches_tracked", "head.1.num_batches_tracked"}


def test_to_refuses_an_integer_dtype_and_an_unknown_device_and_changes_nothing():
    model = Net()
    with pytest.raises(TypeError, match="floating-point dtypes only, got int64"):
        model.to(np.int64)
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        model.to("tpu")
    assert all(p.dtype == np.float32 for p in model.parameters())


@pytest.mark.cuda
def test_to_cuda_moves_buffers_and_load_state_dict_writes_there():
    if not tg.cuda.is_available():
        pytest.skip("no GPU with CuPy here")
    model = Net()
    expected = model.state_dict()
    buffers = list(model.buffers())
    model.to("cuda")
    assert list(model.buffers()) == buffers and all(b.device == "cuda" for b in buffers)
    assert model.bn.num_batches_tracked.dtype == np.int64
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, expected[name])
    sd = Net().state_dict()
    model.load_state_dict(sd)
    assert all(b.device == "cuda" for b in model.buffers())
    np.testing.assert_array_equal(model.state_dict()["head.0.weight"], sd["head.0.weight"])
    model.to("cpu")
    assert all(b.device == "cpu" for b in buffers)


# ---------------------------------------------------------------------- train / eval
def test_train_and_eval_reach_every_level_of_nesting():
    model = nn.Sequential(Net(), nn.Sequential(nn.Sequential(RunningStats(1))))
    assert model.eval() is model
    assert [m.training for m in model.modules()] == [False] * len(list(model.modules()))
    deepest = model[1][0][0]
    model[1].train()
    assert deepest.training and model[1][0].training, "train() on a child reaches its children"
    assert not model.training and not model[0].bn.training, "and nothing above or beside it"
    model.train(mode=0)
    assert not any(m.training for m in model.modules())
    assert model.train(True).training is True


def test_a_module_added_after_eval_keeps_its_own_mode():
    model = nn.Sequential(nn.Linear(1, 1)).eval()
    model.append(RunningStats(1))
    assert not model.training and model[1].training, "as in PyTorch: the new module was made training"


# ---------------------------------------------------------------------- nn.init versions
@pytest.mark.parametrize(
    "fill",
    [
        nn.init.zeros_,
        nn.init.ones_,
        lambda t: nn.init.uniform_(t, -1, 1),
        nn.init.normal_,
        nn.init.xavier_uniform_,
        nn.init.kaiming_uniform_,
    ],
)
def test_init_functions_count_a_version(fill):
    t = Tensor(np.zeros((3, 2), dtype=np.float32), requires_grad=True)
    before = t._version
    with tg.no_grad():
        fill(t)
    assert t._version == before + 1, "an in-place fill is an in-place change"


def test_backward_after_nn_init_changed_a_saved_weight_refuses():
    layer = nn.Linear(2, 2)
    loss = layer(Tensor([[1.0, -1.0]])).sum()
    with tg.no_grad():
        nn.init.zeros_(layer.weight)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
