"""Module, Parameter and Sequential: the bookkeeping of a neural network, and safe saving.

A Module finds its parameters and sub-modules by attribute assignment (`self.weight =
Parameter(...)`, `self.hidden = Linear(...)`), in the order they were assigned, so
`parameters()` hands an optimizer every weight without a list kept by hand. Names are
PyTorch's ("0.weight", "hidden.bias"), so a state_dict loads into the same PyTorch model.
"""

import zipfile

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


class Module:
    """The base class of layers, losses and models: subclasses call `super().__init__()`,
    assign Parameters and Modules as attributes, and define `forward`."""

    def __init__(self):
        # object.__setattr__: these three must exist before our __setattr__ can register anything
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        registries = self.__dict__.get("_parameters"), self.__dict__.get("_modules")
        if registries[0] is None:
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(
                    f"cannot assign {type(value).__name__} {name!r} before Module.__init__() has run: "
                    "call super().__init__() first in the constructor"
                )
            object.__setattr__(self, name, value)
            return
        parameters, modules = registries
        if isinstance(value, Parameter):
            modules.pop(name, None)
            parameters[name] = value  # a replaced parameter keeps its place in the order
        elif isinstance(value, Module):
            parameters.pop(name, None)
            modules[name] = value
        elif name in parameters or name in modules:
            if value is not None:
                # like PyTorch: `self.weight = self.weight * 2` would silently drop the weight
                kind = "Parameter" if name in parameters else "Module"
                raise TypeError(f"cannot assign {type(value).__name__} to {kind} {name!r}: expected a {kind} or None")
            parameters.pop(name, None)
            modules.pop(name, None)
        # also a plain attribute, so that self.weight in forward costs a dict look-up, nothing more
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def _named_parameters(self, prefix=""):
        """(dotted name, parameter) for own parameters, then each child's, shared ones repeated."""
        for name, p in self._parameters.items():
            yield prefix + name, p
        for child_name, child in self._modules.items():
            yield from child._named_parameters(prefix + child_name + ".")

    def named_parameters(self):
        """An iterator of (dotted name, Parameter) in registration order: own parameters
        first, then each child's ("0.weight", "0.bias", "2.weight", ...). A parameter
        shared by two layers appears once, under its first name."""
        seen = set()
        for name, p in self._named_parameters():
            if p not in seen:
                seen.add(p)
                yield name, p

    def parameters(self):
        """An iterator of the Parameters, in the order of named_parameters()."""
        for _, p in self.named_parameters():
            yield p

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
        """Move every parameter (and its .grad) to a device ("cpu", "cuda"), or cast the
        floating-point ones to a dtype, in place: the Parameter objects stay the same, so
        an optimizer made before still holds them. Returns self."""
        if isinstance(target, str) and target.split(":")[0] in backend.DEVICES:
            device = backend.check_device(target)

            def convert(array):
                return backend.to_device(array, device)
        else:
            try:
                dtype = np.dtype(target)
            except TypeError:
                backend.check_device(target)  # neither a dtype nor a device: ValueError naming it
                raise

            def convert(array):
                return array.astype(dtype, copy=False) if array.dtype.kind == "f" else array

        for p in self.parameters():
            p.data = convert(p.data)
            if p.grad is not None:
                # a new gradient Tensor: the old one may be shared with another leaf
                p.grad = Tensor(convert(p.grad.data))
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self):
        """{dotted name: NumPy array}: a copy of every parameter, on the CPU, with
        PyTorch's names and shapes."""
        return {name: backend.to_numpy(p.data).copy() for name, p in self._named_parameters()}

    def load_state_dict(self, state_dict):
        """Copy the arrays of `state_dict` (NumPy arrays, Tensors, anything np.asarray
        takes) into the parameters, keeping each parameter's dtype and device.

        Every key is checked first: missing keys, unexpected keys or wrong shapes are one
        ValueError naming all of them, and the module is left unchanged.
        """
        own = dict(self._named_parameters())
        arrays, problems = {}, []
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        if missing:
            problems.append(f"missing keys {missing}")
        if unexpected:
            problems.append(f"unexpected keys {unexpected}")
        for name, p in own.items():
            if name not in state_dict:
                continue
            array = _as_numpy(state_dict[name])
            if array.dtype.kind not in "biuf":
                problems.append(f"{name!r} holds dtype {array.dtype}, expected numbers")
            elif array.shape != p.shape:
                problems.append(f"{name!r} has shape {array.shape}, expected {p.shape}")
            else:
                arrays[name] = array
        if problems:
            raise ValueError(f"load_state_dict into {type(self).__name__}: " + "; ".join(problems))
        for name, array in arrays.items():
            p = own[name]
            # in place, like PyTorch's copy_: the array keeps the parameter's dtype and device
            p.data[...] = backend.to_device(array.astype(p.dtype, copy=False), p.device)

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


def _as_numpy(value):
    """A NumPy array of a state_dict value (a Tensor, a CuPy or NumPy array, a CPU torch tensor, a list)."""
    if isinstance(value, Tensor):
        return value.numpy()
    if hasattr(value, "__cuda_array_interface__") and hasattr(value, "get"):
        return backend.to_numpy(value)
    if hasattr(value, "detach"):  # a torch tensor that requires grad refuses np.asarray
        value = value.detach()
    return np.asarray(value)


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


def save(module, path):
    """Write module.state_dict() to `path` as an .npz archive (exactly that path: it is
    written through an open file, so NumPy adds no ".npz"). No pickle is involved."""
    with open(path, "wb") as file:
        np.savez(file, **module.state_dict())


def load(module, path):
    """Load an .npz archive written by `save` into `module`, checking every key and shape.

    Reads with allow_pickle=False, so a file that would need unpickling (a pickle file, an
    object array) is a ValueError and no code in it runs. On any error the module is left
    unchanged.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is not an .npz archive of arrays (it is never unpickled): {error}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} holds a single array, expected an .npz archive written by nn.save")
    arrays = {}
    with archive:
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except ValueError as error:
                raise ValueError(f"{path}: entry {name!r} is not a plain array (never unpickled): {error}") from None
    module.load_state_dict(arrays)
