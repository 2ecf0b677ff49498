"""state_dict / load_state_dict, PyTorch interop, and nn.save / nn.load without pickle."""

import os
import pickle

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn


def _mlp(seed):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))


def _snapshot(model):
    return {name: p.numpy().copy() for name, p in model.named_parameters()}


def _assert_unchanged(model, snapshot):
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.numpy(), snapshot[name], err_msg=f"{name} changed by a failed load")


X = np.array([[0.5, -1.0], [2.0, 0.25], [-3.0, 1.5]], dtype=np.float32)


# ---------------------------------------------------------------------- state_dict
def test_state_dict_has_pytorch_names_and_numpy_copies():
    model = _mlp(0)
    sd = model.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    shapes = {k: v.shape for k, v in sd.items()}
    assert shapes == {"0.weight": (3, 2), "0.bias": (3,), "2.weight": (1, 3), "2.bias": (1,)}
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["0.weight"][...] = 100.0
    assert model[0].weight.numpy().max() < 100, "state_dict holds copies"


def test_load_state_dict_round_trip_keeps_objects_dtype_and_output():
    source, target = _mlp(0), _mlp(1)
    params = list(target.parameters())
    target.load_state_dict(source.state_dict())
    assert list(target.parameters()) == params
    assert all(p.dtype == np.float32 for p in params)
    np.testing.assert_array_equal(target(Tensor(X)).numpy(), source(Tensor(X)).numpy())


def test_load_state_dict_casts_to_the_parameters_dtype():
    model = _mlp(0)
    model.load_state_dict({k: v.astype(np.float64) for k, v in _mlp(1).state_dict().items()})
    assert all(p.dtype == np.float32 for p in model.parameters())
    model.load_state_dict({k: Tensor(v) for k, v in _mlp(2).state_dict().items()})  # Tensors work too
    np.testing.assert_array_equal(model[2].bias.numpy(), _mlp(2)[2].bias.numpy())


def test_load_state_dict_names_missing_unexpected_and_misshaped_keys_and_changes_nothing():
    model = _mlp(0)
    before = _snapshot(model)
    sd = _mlp(1).state_dict()
    del sd["2.bias"]
    sd["3.weight"] = np.zeros((1, 1))
    sd["0.weight"] = np.zeros((2, 3))
    with pytest.raises(ValueError) as error:
        model.load_state_dict(sd)
    message = str(error.value)
    assert "missing keys ['2.bias']" in message
    assert "unexpected keys ['3.weight']" in message
    assert "'0.weight' has shape (2, 3), expected (3, 2)" in message
    _assert_unchanged(model, before)


def test_load_state_dict_refuses_non_numeric_arrays():
    model = _mlp(0)
    before = _snapshot(model)
    sd = _mlp(1).state_dict()
    sd["0.bias"] = np.array(["a", "b", "c"])
    with pytest.raises(ValueError, match="'0.bias' holds dtype <U1, expected numbers"):
        model.load_state_dict(sd)
    _assert_unchanged(model, before)


@pytest.mark.oracle
def test_state_dict_loads_into_pytorch_and_back(torch):
    model = _mlp(0)
    twin = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 1))
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    with torch.no_grad():
        np.testing.assert_allclose(twin(torch.from_numpy(X)).numpy(), model(Tensor(X)).numpy(), rtol=1e-6, atol=1e-7)
    # and back: PyTorch's own random weights, loaded here
    torch.manual_seed(0)
    other = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 1))
    model.load_state_dict(other.state_dict())
    with torch.no_grad():
        np.testing.assert_allclose(other(torch.from_numpy(X)).numpy(), model(Tensor(X)).numpy(), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------- save / load
def test_save_load_round_trip(tmp_path):
    path = tmp_path / "model.npz"
    source, target = _mlp(0), _mlp(1)
    nn.save(source, path)
    nn.load(target, path)
    np.testing.assert_array_equal(target(Tensor(X)).numpy(), source(Tensor(X)).numpy())
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(source.state_dict())


def test_save_writes_exactly_the_path_given(tmp_path):
    path = tmp_path / "weights"
    nn.save(_mlp(0), str(path))
    assert os.listdir(tmp_path) == ["weights"], "NumPy must not add .npz"
    target = _mlp(1)
    nn.load(target, str(path))
    np.testing.assert_array_equal(target[0].weight.numpy(), _mlp(0)[0].weight.numpy())


def test_load_checks_keys_and_shapes_and_leaves_the_model_unchanged(tmp_path):
    path = tmp_path / "small.npz"
    nn.save(nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 2)), path)
    model = _mlp(0)
    before = _snapshot(model)
    with pytest.raises(ValueError, match=r"'2.weight' has shape \(2, 3\), expected \(1, 3\)"):
        nn.load(model, path)
    _assert_unchanged(model, before)
    nn.save(nn.Linear(2, 3, bias=False), path)
    with pytest.raises(ValueError, match=r"missing keys \['0.weight', '0.bias', '2.weight', '2.bias'\]"):
        nn.load(model, path)
    _assert_unchanged(model, before)


class _MakesMarker:
    """Unpickling this creates a directory: the proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def _assert_load_refused(path, marker, message):
    model = _mlp(0)
    before = _snapshot(model)
    with pytest.raises(ValueError, match=message):
        nn.load(model, path)
    assert not marker.exists(), "nn.load ran code from the file"
    _assert_unchanged(model, before)


def test_load_refuses_a_pickle_file_without_unpickling_it(tmp_path):
    marker = tmp_path / "code_ran"
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"0.weight": _MakesMarker(marker)}))
    _assert_load_refused(path, marker, "never unpickled")
    pickle.loads(path.read_bytes())  # the file really is dangerous: unpickling it runs the code
    assert marker.exists()


def test_load_refuses_object_arrays_without_unpickling_them(tmp_path):
    marker = tmp_path / "code_ran"
    path = tmp_path / "evil.npz"
    sd = _mlp(1).state_dict()
    sd["0.bias"] = np.array([_MakesMarker(marker)] * 3, dtype=object)
    with open(path, "wb") as file:
        np.savez(file, **sd)  # np.savez pickles object arrays
    _assert_load_refused(path, marker, "'0.bias' is not a plain array")
    with np.load(path, allow_pickle=True) as archive:
        archive["0.bias"]
    assert marker.exists(), "the archive really is dangerous"


def test_load_refuses_a_single_npy_array_and_garbage(tmp_path):
    path = tmp_path / "one.npy"
    with open(path, "wb") as file:
        np.save(file, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        nn.load(_mlp(0), path)
    path.write_bytes(b"PK\x03\x04 not really a zip file")
    with pytest.raises(ValueError, match="not an .npz archive"):
        nn.load(_mlp(0), path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="not an .npz archive"):
        nn.load(_mlp(0), path)
