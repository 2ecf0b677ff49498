"""state_dict / load_state_dict, PyTorch interop, and nn.save / nn.load without pickle:
exact paths, atomic saves, and archives checked from their headers before any data is read."""

import io
import os
import pickle
import stat
import struct
import tracemalloc
import warnings
import zipfile

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
    versions = [p._version for p in model.parameters()]
    with pytest.raises(ValueError, match=message):
        nn.load(model, path)
    assert not marker.exists(), "nn.load ran code from the file"
    _assert_unchanged(model, before)
    assert [p._version for p in model.parameters()] == versions, "a refused load counts no change"


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
    _assert_load_refused(path, marker, "member '0.bias.npy' is not a plain array")
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


# ---------------------------------------------------------------------- crafted archives
def _npy(array, **header):
    """The bytes of a .npy file holding `array`; `header` overrides what its header declares."""
    buffer = io.BytesIO()
    if header:
        fields = {"descr": np.lib.format.dtype_to_descr(array.dtype), "fortran_order": False, "shape": array.shape}
        np.lib.format.write_array_header_1_0(buffer, {**fields, **header})
        buffer.write(array.tobytes())
    else:
        np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _zip(members, compression=zipfile.ZIP_STORED):
    """The bytes of a zip archive of (name, bytes) members, in order (duplicates allowed)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about a duplicate name, and writes it
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return buffer.getvalue()


def _mlp_members(seed=1, **replace):
    """The (name, bytes) members nn.save writes for _mlp(seed), with some replaced."""
    members = {name + ".npy": _npy(array) for name, array in _mlp(seed).state_dict().items()}
    members.update(replace)
    return list(members.items())


def _patch_entries(data, local_offset, central_offset, value, fmt="<H"):
    """`data` with a field of every local header (PK\\x03\\x04) and central directory
    entry (PK\\x01\\x02) set to `value`; offsets are from each signature."""
    data = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        start = data.find(signature)
        while start != -1:
            struct.pack_into(fmt, data, start + offset, value)
            start = data.find(signature, start + 1)
    return bytes(data)


def _write(tmp_path, data):
    path = tmp_path / "crafted.npz"
    path.write_bytes(data)
    return path


def _refused(tmp_path, data, message):
    _assert_load_refused(_write(tmp_path, data), tmp_path / "code_ran", message)


def test_the_crafting_helpers_make_an_archive_that_loads(tmp_path):
    model = _mlp(0)
    nn.load(model, _write(tmp_path, _zip(_mlp_members())))
    np.testing.assert_array_equal(model(Tensor(X)).numpy(), _mlp(1)(Tensor(X)).numpy())


def test_a_deflated_archive_as_np_savez_compressed_writes_loads(tmp_path):
    path = tmp_path / "compressed.npz"
    with open(path, "wb") as file:
        np.savez_compressed(file, **_mlp(1).state_dict())
    model = _mlp(0)
    nn.load(model, path)
    np.testing.assert_array_equal(model(Tensor(X)).numpy(), _mlp(1)(Tensor(X)).numpy())


def test_a_truncated_archive_is_refused(tmp_path):
    data = _zip(_mlp_members())
    for length in (len(data) // 2, len(data) - 1, 10):
        with pytest.raises(ValueError, match="is not an .npz archive"):
            nn.load(_mlp(0), _write(tmp_path, data[:length]))
    _refused(tmp_path, data[:-1], "crafted.npz is not an .npz archive")


def test_a_bad_crc_is_refused(tmp_path):
    data = bytearray(_zip(_mlp_members()))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("0.weight.npy")
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    last_data_byte = info.header_offset + 30 + name_length + extra_length + info.compress_size - 1
    data[last_data_byte] ^= 0xFF  # a byte of the weights, not of the .npy header
    _refused(tmp_path, bytes(data), r"member '0.weight.npy'.*Bad CRC-32")


@pytest.mark.parametrize("method", [99, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_an_unknown_compression_method_is_refused(tmp_path, method):
    data = _patch_entries(_zip(_mlp_members()), local_offset=8, central_offset=10, value=method)
    _refused(tmp_path, data, f"uses compression method {method}: expected stored")


def test_an_encrypted_member_is_refused(tmp_path):
    data = _patch_entries(_zip(_mlp_members()), local_offset=6, central_offset=8, value=0x1)
    _refused(tmp_path, data, "member '0.weight.npy' is encrypted")


def test_a_huge_declared_shape_is_refused_before_any_allocation(tmp_path):
    huge = _npy(np.zeros(4, dtype=np.float32), shape=(10**6, 10**6))
    _refused(tmp_path, _zip(_mlp_members(**{"0.weight.npy": huge})), r"declares shape \(1000000, 1000000\)")


def test_a_compressed_bomb_is_refused_from_its_header_without_decompressing_it(tmp_path):
    # 40 MB of zeros deflate to about 40 KB, declared under the model's own name
    bomb = _npy(np.zeros((10_000, 1_000), dtype=np.float32))
    path = _write(tmp_path, _zip(_mlp_members(**{"0.weight.npy": bomb}), zipfile.ZIP_DEFLATED))
    assert path.stat().st_size < 200_000
    model = _mlp(0)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"'0.weight' has shape \(10000, 1000\), expected \(3, 2\)"):
            nn.load(model, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"nn.load allocated {peak} bytes to refuse a file declaring 40 MB"


def test_data_that_does_not_fill_the_declared_shape_is_refused(tmp_path):
    short = _npy(np.zeros(4, dtype=np.float32), shape=(3, 2))  # 16 bytes where (3, 2) float32 needs 24
    _refused(tmp_path, _zip(_mlp_members(**{"0.weight.npy": short})), r"declares shape \(3, 2\) of float32")


def test_a_member_whose_data_ends_before_its_declared_size_is_refused(tmp_path):
    full = _npy(np.zeros((3, 2), dtype=np.float32))
    members = _mlp_members(**{"0.weight.npy": full[:-8]})
    data = _zip(members, zipfile.ZIP_DEFLATED)  # the CRC is the short data's: only the size lies
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        short_size = archive.getinfo("0.weight.npy").file_size
    data = data.replace(struct.pack("<I", short_size), struct.pack("<I", len(full)))
    _refused(tmp_path, data, r"member '0.weight.npy' is truncated or damaged: expected 24 bytes of data, got 16")


def test_a_pickled_member_is_refused_without_unpickling_it(tmp_path):
    marker = tmp_path / "code_ran"
    evil = pickle.dumps(_MakesMarker(marker))
    _refused(tmp_path, _zip(_mlp_members(**{"0.bias.npy": evil})), r"member '0.bias.npy'.*magic string")


def test_a_fortran_order_member_is_refused(tmp_path):
    weight = np.asfortranarray(_mlp(1).state_dict()["0.weight"])
    _refused(tmp_path, _zip(_mlp_members(**{"0.weight.npy": _npy(weight)})), "is in Fortran order")


def test_a_member_that_is_not_npy_is_refused(tmp_path):
    _refused(tmp_path, _zip(_mlp_members(**{"README.txt": b"hello"})), "member 'README.txt' is not a .npy array")


def test_duplicate_member_names_are_refused(tmp_path):
    members = _mlp_members() + [("0.bias.npy", _npy(np.full(3, 9.0, dtype=np.float32)))]
    _refused(tmp_path, _zip(members), r"duplicate members \['0.bias.npy'\]")


@pytest.mark.parametrize(
    "array, message",
    [
        (np.array(["a", "b", "c"]), "holds dtype <U1, expected numbers"),
        (np.zeros(3, dtype=[("x", "<f4")]), "expected numbers"),
        (np.zeros(3, dtype=np.complex64), "holds dtype complex64, expected numbers"),
    ],
)
def test_a_member_that_is_not_a_real_numeric_array_is_refused(tmp_path, array, message):
    _refused(tmp_path, _zip(_mlp_members(**{"0.bias.npy": _npy(array)})), message)


# ---------------------------------------------------------------------- names and atomic saves
class Awkward(nn.Module):
    """Parameters named like np.savez's own keywords."""

    def __init__(self, value):
        super().__init__()
        self.file = nn.Parameter(np.full(2, value, dtype=np.float32))
        self.allow_pickle = nn.Parameter(np.full(3, value + 1, dtype=np.float32))


@pytest.mark.parametrize("name", ["file", "allow_pickle"])
def test_parameters_named_file_or_allow_pickle_are_saved_like_any_other(tmp_path, name):
    path = tmp_path / "awkward.npz"
    nn.save(Awkward(0.0), path)
    nn.save(Awkward(5.0), path)  # over an old checkpoint
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["allow_pickle", "file"]
        np.testing.assert_array_equal(archive[name], getattr(Awkward(5.0), name).numpy())
    model = Awkward(0.0)
    nn.load(model, path)
    np.testing.assert_array_equal(getattr(model, name).numpy(), getattr(Awkward(5.0), name).numpy())


class Unwritable(nn.Module):
    """A module whose state_dict holds, after a good entry, one that cannot be written
    without pickle: a save that fails half-way."""

    def state_dict(self):
        return {"good": np.zeros(1000), "bad": np.array([object()], dtype=object)}


def test_a_save_that_fails_half_way_leaves_the_old_checkpoint_byte_identical(tmp_path):
    path = tmp_path / "model.npz"
    nn.save(_mlp(0), path)
    old = path.read_bytes()
    with pytest.raises(ValueError, match="allow_pickle=False"):
        nn.save(Unwritable(), path)
    assert path.read_bytes() == old, "the old checkpoint was changed"
    assert os.listdir(tmp_path) == ["model.npz"], "the temporary file was left behind"


def test_a_save_that_fails_leaves_no_file_where_there_was_none(tmp_path):
    with pytest.raises(ValueError, match="allow_pickle=False"):
        nn.save(Unwritable(), tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


def test_save_replaces_a_checkpoint_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "model.npz"
    nn.save(_mlp(0), path)
    path.chmod(0o640)
    nn.save(_mlp(1), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    model = _mlp(0)
    nn.load(model, path)
    np.testing.assert_array_equal(model(Tensor(X)).numpy(), _mlp(1)(Tensor(X)).numpy())


def test_save_and_load_carry_buffers_and_keep_an_int64_one(tmp_path):
    def counted(value):
        module = nn.Linear(2, 1)
        module.register_buffer("count", np.array(value, dtype=np.int64))
        module.register_buffer("scratch", np.zeros(2, dtype=np.float32), persistent=False)
        return module

    path = tmp_path / "buffers.npz"
    nn.save(counted(41), path)
    with np.load(path, allow_pickle=False) as archive:
        assert archive.files == ["weight", "bias", "count"]
    model = counted(0)
    nn.load(model, path)
    assert model.count.dtype == np.int64 and model.count.item() == 41
