"""The "cuda" device through CuPy.

The CPU-side checks (device names, errors, CuPy's absence simulated, no device branch in
any op) always run. The GPU checks run where CuPy sees a GPU and skip elsewhere, CI
included: every op of the core's op table on "cuda" equals "cpu", training gives the
same losses on both devices, and modules, optimizers and files move as promised.
"""

import pathlib
import re
import subprocess
import sys
import types

import numpy as np
import pytest
from test_attention import ATTENTION_CASES
from test_conv import CASES as CONV_CASES
from test_norm import NORM_CASES
from test_ops import CASES

import tinygrad_edu as tg
from tinygrad_edu import Tensor, backend, nn, optim

PACKAGE = pathlib.Path(tg.__file__).parent

needs_gpu = pytest.mark.skipif(not tg.cuda.is_available(), reason="needs an NVIDIA GPU and CuPy")


@pytest.fixture
def without_cupy(monkeypatch):
    """CuPy made unimportable, as on a machine without the gpu extra."""
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setattr(backend, "_cupy", None)


@pytest.fixture
def cupy_without_gpu(monkeypatch):
    """A CuPy that imports but finds no GPU, as on a machine without a driver."""

    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_device)))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(backend, "_cupy", None)


# ---------------------------------------------------------------- CPU-side: always run
def test_device_names():
    assert backend.DEVICES == ("cpu", "cuda")
    assert Tensor([1.0]).device == "cpu"
    assert tg.zeros(2, device="cpu").device == "cpu"
    assert backend.check_device("cuda:0") == "cuda"
    t = Tensor([1.0, 2.0])
    assert t.to("cpu") is t and t.cpu() is t


@pytest.mark.parametrize(
    "make",
    [
        lambda: Tensor([1.0], device="tpu"),
        lambda: tg.zeros(2, device="tpu"),
        lambda: tg.randn(2, device="tpu"),
        lambda: Tensor([1.0]).to("tpu"),
        lambda: nn.Linear(2, 1).to("tpu"),
    ],
)
def test_unknown_device_is_a_value_error_naming_it_and_the_known_ones(make):
    with pytest.raises(ValueError) as error:
        make()
    message = str(error.value)
    assert "tpu" in message and "cpu" in message and "cuda" in message


def test_without_cupy_cuda_is_unavailable_and_asking_for_it_says_how_to_install(without_cupy):
    assert tg.cuda.is_available() is False
    asks = (lambda: Tensor([1.0]).to("cuda"), lambda: Tensor([1.0], device="cuda"), lambda: tg.ones(3, device="cuda"))
    for make in asks:
        with pytest.raises(RuntimeError) as error:
            make()
        message = str(error.value)
        assert "CuPy" in message and "gpu" in message and "cupy-cuda12x" in message


def test_cupy_without_a_gpu_says_the_gpu_is_missing(cupy_without_gpu):
    assert tg.cuda.is_available() is False
    with pytest.raises(RuntimeError, match="needs an NVIDIA GPU"):
        Tensor([1.0]).to("cuda")


def test_import_needs_numpy_alone():
    code = "import sys, tinygrad_edu; assert 'cupy' not in sys.modules and 'graphviz' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_ops_losses_and_optimizers_have_no_device_branch_and_no_bare_array_creation():
    """Written once on the array API that NumPy and CuPy share: no `cupy`, and new arrays
    come from the inputs' module (backend.xp), never from a bare np.zeros."""
    files = (
        sorted((PACKAGE / "ops").glob("*.py")) + [PACKAGE / "functional.py"] + sorted((PACKAGE / "optim").glob("*.py"))
    )
    files += [PACKAGE / "nn" / name for name in ("layers.py", "losses.py")]
    bare = re.compile(r"\bnp\.(zeros|ones|empty|full|eye|arange|array|asarray|zeros_like|ones_like)\(")
    offenders = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "cupy" in line.lower() or bare.search(line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, "device-specific code outside backend.py:\n" + "\n".join(offenders)


# ---------------------------------------------------------------- GPU: skip without one
def _mlp():
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))


@needs_gpu
def test_cuda_tensor_basics():
    t = Tensor([1.0, 2.0], device="cuda")
    assert t.device == "cuda" and t.to("cuda") is t
    assert type(t.numpy()) is np.ndarray
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    for factory in (tg.zeros, tg.ones, tg.randn, tg.rand):
        assert factory(2, 3, device="cuda").device == "cuda"
    tg.manual_seed(3)
    on_cpu = tg.randn(5).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(tg.randn(5, device="cuda").numpy(), on_cpu)


TABLE = CASES + NORM_CASES + ATTENTION_CASES + CONV_CASES  # the core's op table and those of the other families


@needs_gpu
@pytest.mark.parametrize("case", TABLE, ids=[case.name for case in TABLE])
def test_every_op_of_the_table_on_cuda_equals_cpu(case):
    """forward and backward (the gradient of ⟨out, G⟩ for a random G), float64, to 1e-9"""
    results = {}
    for device in ("cpu", "cuda"):
        inputs = [Tensor(a, device=device, requires_grad=True) for a in case.arrays(seed=1)]
        out = case.ours(*inputs)
        weights = np.random.default_rng(2).standard_normal(out.shape)
        out.backward(Tensor(weights, device=device))
        assert out.device == device and all(t.grad.device == device for t in inputs)
        results[device] = [out.numpy()] + [t.grad.numpy() for t in inputs]
    for on_cuda, on_cpu in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(on_cuda, on_cpu, rtol=1e-9, atol=1e-12)


@needs_gpu
def test_inputs_on_different_devices_are_a_value_error_naming_both():
    with pytest.raises(ValueError) as error:
        Tensor([1.0], device="cuda") + Tensor([1.0])
    assert "cuda" in str(error.value) and "cpu" in str(error.value)


@needs_gpu
def test_gradient_of_a_cpu_leaf_used_on_the_gpu_arrives_on_the_cpu():
    x = Tensor([1.0, 2.0, 3.0], dtype=np.float64, requires_grad=True)
    y = (x.to("cuda") ** 2).sum()
    y.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


@needs_gpu
def test_module_to_moves_parameters_in_place_and_optimizer_state_follows(tmp_path):
    model = _mlp()
    before = list(model.parameters())
    assert model.to("cuda") is model
    assert all(p is q for p, q in zip(model.parameters(), before))
    assert all(p.device == "cuda" for p in model.parameters())
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x = tg.randn(8, 4, device="cuda")
    loss = tg.functional.cross_entropy(model(x), Tensor(np.arange(8) % 3, device="cuda"))
    loss.backward()
    opt.step()
    assert all(p.grad.device == "cuda" for p in model.parameters())
    assert all(type(v) is np.ndarray for v in model.state_dict().values())
    nn.save(model, tmp_path / "m.npz")
    fresh = _mlp()
    nn.load(fresh, tmp_path / "m.npz")
    np.testing.assert_array_equal(fresh.state_dict()["0.weight"], model.state_dict()["0.weight"])


@needs_gpu
def test_training_an_mlp_with_adam_gives_the_same_losses_on_both_devices():
    X, y = tg.data.make_spirals(n_samples=120, seed=0)
    losses = {}
    for device in ("cpu", "cuda"):
        tg.manual_seed(0)
        model = _mlp()
        for p in model.parameters():
            p.data = p.data.astype(np.float64)
        model.to(device)
        opt = optim.Adam(model.parameters(), lr=1e-2)
        inputs = Tensor(np.c_[X, X].astype(np.float64), device=device)
        targets = Tensor(y, device=device)
        history = []
        for _ in range(20):
            opt.zero_grad()
            loss = tg.functional.cross_entropy(model(inputs), targets)
            loss.backward()
            opt.step()
            history.append(loss.item())
        losses[device] = history
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-9, atol=1e-12)
