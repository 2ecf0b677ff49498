"""Module, Parameter and Sequential: the bookkeeping of a neural network, and safe saving.

A Module finds its parameters and sub-modules by attribute assignment (`self.weight =
Parameter(...)`, `self.hidden = Linear(...)`), in the order they were assigned, so
`parameters()` hands an optimizer every weight without a list kept by hand. Buffers
(`register_buffer`) are state that is saved and moved with the module but not trained,
such as BatchNorm's running statistics. Names are PyTorch's ("0.weight", "hidden.bias",
"bn.running_mean"), so a state_dict loads into the same PyTorch model.
"""

import contextlib
import math
import os
import secrets
import shutil
import struct
import zipfile
import zlib
from collections import Counter
from typing import NamedTuple

import numpy as np

from .. import backend
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad and that a Module registers as one of its weights.

    Parameter(data): data is a Tensor (its array is shared, not copied), an array or
    numbers (Python floats become float32).
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _as_buffer(name, value):
    """The Tensor a buffer holds: a Tensor as it is (detached when it requires grad: a
    buffer is not trained), an array wrapped without copying, or None."""
    if value is None or isinstance(value, Tensor) and not value.requires_grad:
        return value
    if isinstance(value, Tensor):
        return value.detach()
    if isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
        return Tensor(value)
    raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r}: expected a Tensor, an array or None")


def _own_parameters(module):
    return module._parameters.items()


def _own_buffers(module):
    return ((name, b) for name, b in module._buffers.items() if b is not None)


def _own_state(module):
    """What state_dict holds of one module, in PyTorch's order: parameters, then the
    persistent buffers (the children follow, from _walk)."""
    yield from module._parameters.items()
    for name, b in _own_buffers(module):
        if name not in module._non_persistent:
            yield name, b


def _unique(named_tensors):
    """The (name, tensor) pairs with each tensor once, under its first name (a tensor
    shared by two layers)."""
    seen = set()
    for name, t in named_tensors:
        if t not in seen:
            seen.add(t)
            yield name, t


class Module:
    """The base class of layers, losses and models: subclasses call `super().__init__()`,
    assign Parameters and Modules as attributes, register buffers with
    `register_buffer`, and define `forward`."""

    def __init__(self):
        # object.__setattr__: the registries must exist before our __setattr__ can register anything
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(
                    f"cannot assign {type(value).__name__} {name!r} before Module.__init__() has run: "
                    "call super().__init__() first in the constructor"
                )
        elif isinstance(value, (Parameter, Module)):
            self._register(name, value)
        elif name in self._buffers:
            value = self._buffers[name] = _as_buffer(name, value)  # like PyTorch: a new Tensor replaces the buffer
        elif name in self._parameters or name in self._modules:
            if value is not None:
                # like PyTorch: `self.weight = self.weight * 2` would silently drop the weight
                kind = "Parameter" if name in self._parameters else "Module"
                raise TypeError(f"cannot assign {type(value).__name__} to {kind} {name!r}: expected a {kind} or None")
            self._forget(name)
        # also a plain attribute, so that self.weight in forward costs a dict look-up, nothing more
        object.__setattr__(self, name, value)

    def _register(self, name, value):
        """Register a Parameter or a Module under `name`, in place of whatever had that name."""
        registry = self._parameters if isinstance(value, Parameter) else self._modules
        if name not in registry:
            self._forget(name)
        registry[name] = value  # a replaced parameter keeps its place in the order

    def _forget(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent.discard(name)

    def __delattr__(self, name):
        self._forget(name)
        object.__delattr__(self, name)

    def register_buffer(self, name, value, persistent=True):
        """Add a buffer: state that is saved (in state_dict, unless persistent=False) and
        moved (`to`) with the module, but not trained, such as BatchNorm's running mean.

        value is a Tensor (kept as it is; detached if it requires grad), a NumPy or CuPy
        array (wrapped without copying) or None (registered, but in no state_dict until a
        Tensor is assigned). The buffer is `module.<name>`; assigning a Tensor to that name
        replaces it.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError(
                f"cannot register buffer {name!r} before Module.__init__() has run: "
                "call super().__init__() first in the constructor"
            )
        if not isinstance(name, str):
            raise TypeError(f"a buffer name must be a str, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"a buffer name must be non-empty and contain no '.', got {name!r}")
        if name not in self._buffers and hasattr(self, name):
            raise KeyError(f"attribute {name!r} already exists: a buffer needs a name of its own")
        self._buffers[name] = _as_buffer(name, value)
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, self._buffers[name])

    def _walk(self, own_members, prefix=""):
        """(dotted name, tensor) of `own_members(module)` for this module, then for each child,
        depth first, in registration order; a shared tensor is repeated under each name."""
        for name, t in own_members(self):
            yield prefix + name, t
        for child_name, child in self._modules.items():
            yield from child._walk(own_members, prefix + child_name + ".")

    def named_parameters(self):
        """An iterator of (dotted name, Parameter) in registration order: own parameters
        first, then each child's ("0.weight", "0.bias", "2.weight", ...). A parameter
        shared by two layers appears once, under its first name."""
        return _unique(self._walk(_own_parameters))

    def parameters(self):
        """An iterator of the Parameters, in the order of named_parameters()."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self):
        """An iterator of (dotted name, buffer Tensor), own buffers first, then each child's
        ("running_mean", "bn.running_var", ...), as PyTorch's; buffers set to None are left
        out, and a shared buffer appears once, under its first name."""
        return _unique(self._walk(_own_buffers))

    def buffers(self):
        """An iterator of the buffer Tensors, in the order of named_buffers()."""
        for _, b in self.named_buffers():
            yield b

    def named_children(self):
        """An iterator of (name, module) for the direct sub-modules."""
        return iter(self._modules.items())

    def children(self):
        """An iterator of the direct sub-modules, in registration order."""
        return iter(self._modules.values())

    def modules(self):
        """An iterator of this module and every module inside it, parents first."""
        stack = [self]
        while stack:
            module = stack.pop()
            yield module
            stack.extend(reversed(module._modules.values()))

    # ------------------------------------------------------------------ training state
    def zero_grad(self):
        """Forget every parameter's gradient (sets .grad to None)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode=True):
        """Set `.training` on this module and every module inside it; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """train(False): the mode for evaluation; returns self."""
        return self.train(False)

    def to(self, target):
        """Move every parameter (and its .grad) and every buffer to a device ("cpu",
        "cuda"), or cast the floating-point ones to a floating-point dtype (an int64 buffer
        such as num_batches_tracked stays int64, as in PyTorch), in place: the Parameter
        and buffer objects stay the same, so an optimizer made before still holds them.
        Everything is converted before anything changes, so a failed move changes nothing.
        Returns self."""
        convert = _converter(target)
        tensors = [*self.parameters(), *self.buffers()]
        converted = [(convert(t.data), None if t.grad is None else convert(t.grad.data)) for t in tensors]
        for t, (data, grad) in zip(tensors, converted):
            if data is not t.data:
                t.data = data
                t.bump_version()  # a graph that saved t before the move must not use the new array
            if grad is not None:
                t.grad = Tensor(grad)  # a new gradient Tensor: the old one may be shared with another leaf
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self):
        """{dotted name: NumPy array}: a copy of every parameter and persistent buffer, on
        the CPU, with PyTorch's names, shapes and order (for each module its parameters,
        then its buffers, then its children's)."""
        return {name: _numpy_copy(t.data) for name, t in self._walk(_own_state)}

    def load_state_dict(self, state_dict):
        """Copy the arrays of `state_dict` (NumPy arrays, Tensors, anything np.asarray
        takes) into the parameters and buffers, in place, keeping each one's dtype (an
        int64 buffer stays int64) and device.

        All or nothing: every key, shape and dtype is checked first (missing keys,
        unexpected keys, wrong shapes or non-numeric arrays are one ValueError naming all
        of them), and if a write still fails the ones already written are restored, so a
        refused load leaves the module exactly as it was.
        """
        own = dict(self._walk(_own_state))
        arrays = {name: _as_numpy(value) for name, value in state_dict.items()}
        problems = _state_problems({name: t.shape for name, t in own.items()}, arrays)
        if problems:
            raise ValueError(f"load_state_dict into {type(self).__name__}: " + "; ".join(problems))
        _write_all([(own[name], array) for name, array in arrays.items()])

    # ------------------------------------------------------------------ calling and printing
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        """The arguments shown inside the parentheses of the repr, e.g. "in_features=2"."""
        return ""

    def __repr__(self):
        lines = self.extra_repr().split("\n") if self.extra_repr() else []
        for name, child in self._modules.items():
            child_lines = repr(child).split("\n")
            lines.append(f"({name}): " + "\n  ".join(child_lines))
        name = type(self).__name__
        if not self._modules:
            return f"{name}({''.join(lines)})"
        return f"{name}(\n  " + "\n  ".join(lines) + "\n)"


def _converter(target):
    """The array function that Module.to(target) applies: a move to a device, or a cast of
    floating-point arrays to a floating-point dtype."""
    kind, value = backend.device_or_dtype(target)
    if kind == "device":
        return lambda array: backend.to_device(array, value)
    if value.kind != "f":
        raise TypeError(f"Module.to casts to floating-point dtypes only, got {value}")
    return lambda array: array.astype(value, copy=False) if array.dtype.kind == "f" else array


def _numpy_copy(array):
    """A NumPy copy of an array of either device, that shares memory with nothing."""
    return array.copy() if isinstance(array, np.ndarray) else backend.to_numpy(array)


def _as_numpy(value):
    """A NumPy array of a state_dict value (a Tensor, a CuPy or NumPy array, a CPU torch tensor, a list)."""
    if isinstance(value, Tensor):
        return value.numpy()
    if hasattr(value, "__cuda_array_interface__") and hasattr(value, "get"):
        return backend.to_numpy(value)
    if hasattr(value, "detach"):  # a torch tensor that requires grad refuses np.asarray
        value = value.detach()
    return np.asarray(value)


def _state_problems(own_shapes, given):
    """What keeps `given` (name → anything with .shape and .dtype: an array, or a header
    read from a file) from loading into tensors of `own_shapes` (name → shape): one
    sentence each, empty when it fits."""
    problems = []
    missing = [name for name in own_shapes if name not in given]
    unexpected = [name for name in given if name not in own_shapes]
    if missing:
        problems.append(f"missing keys {missing}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected}")
    for name, shape in own_shapes.items():
        if name not in given:
            continue
        value = given[name]
        if value.dtype.kind not in "biuf":
            problems.append(f"{name!r} holds dtype {value.dtype}, expected numbers")
        elif tuple(value.shape) != tuple(shape):
            problems.append(f"{name!r} has shape {tuple(value.shape)}, expected {tuple(shape)}")
    return problems


def _write_all(targets):
    """Copy each array of (tensor, array) into its tensor, in place, all or nothing.

    The arrays are first cast and moved to their tensors' dtypes and devices (the step
    that may fail, say a device copy); then each tensor's old array is kept while it is
    written, and restored if a later write fails. Versions count the change only once
    every write succeeded.
    """
    prepared = [(t, backend.to_device(array.astype(t.dtype, copy=False), t.device)) for t, array in targets]
    written = []
    try:
        for t, array in prepared:
            old = t.data.copy()
            t.data[...] = array  # in place, like PyTorch's copy_: views and optimizers keep seeing it
            written.append((t, old))  # after the write: a write that raised changed nothing
    except BaseException:
        for t, old in reversed(written):  # reversed: a tensor written twice (shared) gets its first value back
            t.data[...] = old
        raise
    for t, _ in prepared:
        t.bump_version()


class Sequential(Module):
    """Modules applied one after another: Sequential(Linear(2, 3), Sigmoid())(x) is
    Sigmoid()(Linear(2, 3)(x)). Children are named "0", "1", ... like PyTorch's, so its
    state_dict keys are "0.weight", "0.bias", ...; it can be indexed (also with negative
    numbers and slices), iterated and measured with len()."""

    def __init__(self, *modules):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module):
        """Add a module at the end; returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential takes Modules, got {type(module).__name__}: {module!r:.60}")
        setattr(self, str(len(self._modules)), module)
        return self

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            # keep the names, like PyTorch: model[1:] holds "1", "2", ...
            part = Sequential()
            for name, module in items[index]:
                setattr(part, name, module)
            return part
        if not -len(items) <= index < len(items):
            raise IndexError(f"index {index} is out of range for a Sequential of {len(items)} modules")
        return items[index][1]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


# ---------------------------------------------------------------------- files
def save(module, path):
    """Write module.state_dict() to `path` as an .npz archive that np.load reads: one
    "<name>.npy" member per entry, written by np.lib.format.write_array without pickle.

    Exactly that path (NumPy adds no ".npz"), whatever the entries are called, and
    atomically: the archive is written to a temporary file beside the target and renamed
    over it, so a save that fails half-way leaves the old checkpoint as it was. A
    checkpoint that is replaced keeps its permissions.
    """
    state = module.state_dict()
    path = os.fspath(path)
    directory, base = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{base}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never write through a file someone else made; 0o666 lets the umask decide, as open() does
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            _write_npz(file, state)
            file.flush()
            os.fsync(file.fileno())  # the data on disk before the rename makes it the checkpoint
        if os.path.exists(path):
            shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def _write_npz(file, state):
    """The .npz layout np.savez writes, member by member, so that no name is ever a
    keyword argument (np.savez(file, file=...) would clash with its own parameters)."""
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in state.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                # order="C": nn.load refuses Fortran-order members
                np.lib.format.write_array(member, np.asarray(array, order="C"), allow_pickle=False)


class _Member(NamedTuple):
    """One .npy member of an archive, as its headers describe it."""

    info: zipfile.ZipInfo
    header_size: int  # bytes of the .npy magic and header, before the data
    shape: tuple
    dtype: np.dtype


# What zipfile, zlib and NumPy's header parser raise on damaged or crafted bytes
_ARCHIVE_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error, zlib.error, NotImplementedError)
_NPY_MAGIC = b"\x93NUMPY"


@contextlib.contextmanager
def _malformed(where):
    """Turn an error from reading damaged bytes into a ValueError that names the file."""
    try:
        yield
    except _ARCHIVE_ERRORS as error:
        raise ValueError(f"{where}: {type(error).__name__}: {error}") from error


def load(module, path):
    """Load an .npz archive written by `save` (or np.savez) into `module`.

    Nothing is read blindly: first the zip directory and every member's .npy header
    (names, dtypes, shapes) are checked against the module's state_dict, then only the
    bytes those headers promise are read, so a small crafted file cannot make it
    allocate more than the model's own size. A damaged or crafted archive (not a zip,
    truncated, a bad CRC, an unknown compression, an encrypted member, duplicate or
    non-.npy members, a Fortran-order or object array, a pickle) is a ValueError naming
    the file and the problem. It never unpickles, and a refused load leaves the module
    exactly as it was.
    """
    own = dict(module._walk(_own_state))
    with open(path, "rb") as file:
        archive = _open_archive(path, file)
        with archive:
            members = _read_headers(path, archive)
            problems = _state_problems({name: t.shape for name, t in own.items()}, members)
            if problems:
                raise ValueError(f"nn.load of {path} into {type(module).__name__}: " + "; ".join(problems))
            arrays = {name: _read_data(path, archive, member, own[name].dtype) for name, member in members.items()}
    module.load_state_dict(arrays)


def _open_archive(path, file):
    """The zip archive in the open `file`; a ValueError for anything else (a single .npy
    array, a pickle, garbage, an empty file)."""
    if file.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
        raise ValueError(f"{path} holds a single array (.npy), expected an .npz archive written by nn.save")
    file.seek(0)
    try:
        return zipfile.ZipFile(file)
    except _ARCHIVE_ERRORS as error:
        raise ValueError(f"{path} is not an .npz archive of arrays (it is never unpickled): {error}") from None


def _read_headers(path, archive):
    """{state_dict name: _Member} from the zip directory and each member's .npy header,
    checked to describe plain numeric arrays whose data fills the member exactly."""
    infos = archive.infolist()
    duplicates = sorted(name for name, count in Counter(info.filename for info in infos).items() if count > 1)
    if duplicates:
        raise ValueError(f"{path}: duplicate members {duplicates}: which one to load would be a guess")
    return {info.filename.removesuffix(".npy"): _read_header(path, archive, info) for info in infos}


def _read_header(path, archive, info):
    """One member's _Member, after checking its zip entry and its .npy header."""
    where = f"{path}: member {info.filename!r}"
    if not info.filename.endswith(".npy"):
        raise ValueError(f"{where} is not a .npy array: expected only '<name>.npy' members, as nn.save writes")
    if info.flag_bits & 0x1:
        raise ValueError(f"{where} is encrypted: expected plain members, as nn.save writes")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(f"{where} uses compression method {info.compress_type}: expected stored (0) or deflated (8)")
    with _malformed(where), archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f".npy format version {version}: expected 1.0 or 2.0")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = read_header(member)
        header_size = member.tell()
    return _check_header(where, _Member(info, header_size, shape, dtype), fortran_order)


def _check_header(where, member, fortran_order):
    """The member, if its header describes a plain C-order numeric array whose bytes fill
    the member exactly; else a ValueError saying what is wrong."""
    if member.dtype.hasobject:
        raise ValueError(f"{where} is not a plain array: dtype {member.dtype} would need unpickling (never unpickled)")
    if member.dtype.kind not in "biuf":
        raise ValueError(f"{where} is not a plain array: it holds dtype {member.dtype}, expected numbers")
    if fortran_order:
        raise ValueError(f"{where} is in Fortran order: expected a C-order array, as nn.save writes")
    size = member.header_size + math.prod(member.shape) * member.dtype.itemsize
    if member.info.file_size != size:
        raise ValueError(
            f"{where} declares shape {member.shape} of {member.dtype}, {size} bytes with its header, "
            f"but the zip directory gives it {member.info.file_size} bytes"
        )
    return member


def _read_data(path, archive, member, dtype):
    """The member's array, cast to `dtype`: exactly the bytes its header promised, and then
    the end of the member, where zipfile checks the CRC."""
    where = f"{path}: member {member.info.filename!r}"
    nbytes = member.info.file_size - member.header_size
    with _malformed(where), archive.open(member.info) as stream:
        stream.read(member.header_size)  # read and checked by _read_header
        data = stream.read(nbytes)
        rest = stream.read(1)
    if len(data) != nbytes or rest:
        got = len(data) + len(rest)
        raise ValueError(f"{where} is truncated or damaged: expected {nbytes} bytes of data, got {got}")
    # astype copies: np.frombuffer's array is read-only and shares the bytes
    return np.frombuffer(data, dtype=member.dtype).reshape(member.shape).astype(dtype)
