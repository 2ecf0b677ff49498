"""Tensor: an array (NumPy on "cpu", CuPy on "cuda"), its gradient, its version, and its
link into the computational graph. The maths methods are one-line calls of ops in `ops/`;
the rest parse arguments (shapes, axes, devices) or read the array."""

import math
import operator

import numpy as np

from . import autograd, backend
from .autograd import run_backward
from .ops import elementwise as ew
from .ops import matmul as mm
from .ops import movement as mv
from .ops import reduce as rd
from .ops.shapes import normalize_axis
from .random import generator


def _shape_arg(shape):
    """A shape given as separate ints or as one tuple/list, as a tuple of ints; anything
    that is not a whole int (2.5, "3") is a TypeError, as in PyTorch."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    for n in shape:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"a shape takes whole numbers (ints), got {n!r} in {tuple(shape)}")
    return tuple(int(n) for n in shape)


def _to_array(data, dtype, device, copy):
    """Turn user data into an array: Python floats become float32 and ints int64 (like
    PyTorch); arrays keep their dtype; anything that is not numbers is a TypeError."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        array = data
    elif isinstance(data, np.generic):
        array = np.asarray(data)
    else:
        array = _array_of_numbers(data, float64_as_float32=dtype is None)
    dtype = None if dtype is None else _numeric_dtype(dtype)
    if array.dtype.kind not in "biufc":
        raise TypeError(f"expected numbers, got data of dtype {array.dtype}: {data!r:.60}")
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    elif copy:
        array = array.copy()
    if device is not None:
        array = backend.to_device(array, backend.check_device(device))
    return array


def _array_of_numbers(data, float64_as_float32):
    """np.array(data) for nested lists of numbers; Python floats become float32 unless a
    dtype was given (0.1 must then be cast once, from float64)."""
    try:
        array = np.array(data)
    except ValueError as error:
        expected = "numbers or a nested list of numbers of one shape"
        raise TypeError(f"expected {expected}, got {data!r:.80}: {error}") from None
    return array.astype(np.float32) if float64_as_float32 and array.dtype == np.float64 else array


def _numeric_dtype(dtype):
    """np.dtype(dtype), which must be a number type: a tensor holds numbers."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "biufc":
        raise TypeError(f"a tensor holds numbers: expected a numeric dtype, got dtype={dtype}")
    return dtype


class Tensor:
    """An n-dimensional array that records the operations made on it, so that
    `backward()` can compute gradients by the chain rule.

    Tensor(data, requires_grad=False, dtype=None, device=None) wraps a NumPy float array
    without copying when dtype and device already match (like torch.from_numpy);
    `tg.tensor(...)` always copies.
    """

    __slots__ = ("data", "grad", "grad_fn", "_requires_grad", "_counter", "__weakref__")
    __array_ufunc__ = None  # ndarray * Tensor defers to Tensor.__rmul__

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        self.data = _to_array(data, dtype, device, copy=False)
        self.grad = None
        self.grad_fn = None
        self._requires_grad = False
        self._counter = None  # its in-place changes: an autograd.VersionCounter once there are any
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ factories
    @classmethod
    def zeros(cls, *shape, dtype=None, device=None, requires_grad=False):
        """A tensor of zeros (float32 unless `dtype` says otherwise)."""
        return cls._filled(_shape_arg(shape), 0.0, dtype, device, requires_grad)

    @classmethod
    def ones(cls, *shape, dtype=None, device=None, requires_grad=False):
        """A tensor of ones (float32 unless `dtype` says otherwise)."""
        return cls._filled(_shape_arg(shape), 1.0, dtype, device, requires_grad)

    @classmethod
    def full(cls, shape, value, dtype=None, device=None, requires_grad=False):
        """A tensor of `value`; its dtype follows the value (float → float32, int → int64)."""
        shape = _shape_arg(shape if isinstance(shape, (tuple, list)) else (shape,))
        return cls._filled(shape, value, dtype, device, requires_grad)

    @classmethod
    def _filled(cls, shape, value, dtype, device, requires_grad):
        if dtype is None:
            dtype = np.array(value).dtype
            dtype = np.float32 if dtype == np.float64 else dtype
        xp = backend.array_module(device or "cpu")
        return cls(xp.full(shape, value, dtype=dtype), requires_grad=requires_grad)

    @classmethod
    def zeros_like(cls, t, dtype=None, requires_grad=False, device=None):
        """Zeros of t's shape, dtype and device (or the dtype and device given)."""
        return cls(backend.xp(t.data).zeros_like(t.data, dtype=dtype), requires_grad=requires_grad, device=device)

    @classmethod
    def ones_like(cls, t, dtype=None, requires_grad=False, device=None):
        """Ones of t's shape, dtype and device (or the dtype and device given)."""
        return cls(backend.xp(t.data).ones_like(t.data, dtype=dtype), requires_grad=requires_grad, device=device)

    @classmethod
    def eye(cls, n, m=None, dtype=None, device=None, requires_grad=False):
        """The identity matrix, n × m (m defaults to n)."""
        return cls(np.eye(n, m, dtype=dtype or np.float32), requires_grad, device=device)

    @classmethod
    def arange(cls, start, stop=None, step=1, dtype=None, device=None, requires_grad=False):
        """start, start + step, ... up to stop (excluded); int64 for ints, float32 for floats."""
        if stop is None:
            start, stop = 0, start
        if step == 0:
            raise ValueError(f"arange needs a step other than 0, got step={step!r}")
        array = np.arange(start, stop, step)
        if dtype is None and array.dtype == np.float64:
            dtype = np.float32
        return cls(array, requires_grad, dtype, device)

    @classmethod
    def randn(cls, *shape, dtype=None, device=None, requires_grad=False):
        """Samples of the standard normal distribution N(0, 1), from tg.manual_seed's generator."""
        array = generator().standard_normal(_shape_arg(shape), dtype=_float_dtype(dtype))
        return cls(array, requires_grad, dtype, device)

    @classmethod
    def rand(cls, *shape, dtype=None, device=None, requires_grad=False):
        """Samples of the uniform distribution on [0, 1), from tg.manual_seed's generator."""
        array = generator().random(_shape_arg(shape), dtype=_float_dtype(dtype))
        return cls(array, requires_grad, dtype, device)

    # ------------------------------------------------------------------ properties
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        """The number of elements, as in NumPy (len(t) is the first axis)."""
        return self.data.size

    def numel(self):
        """The number of elements."""
        return self.data.size

    @property
    def device(self):
        """ "cpu" or "cuda"."""
        return backend.device_of(self.data)

    # True when operations on this tensor are recorded for backward; setting it checks the
    # dtype as requires_grad_ does. (The getter is a C attrgetter: backward formulas read it often.)
    requires_grad = property(operator.attrgetter("_requires_grad"), lambda self, value: self.requires_grad_(value))

    @property
    def is_leaf(self):
        """True for tensors made by the user, not by an op that is recorded."""
        return self.grad_fn is None

    @property
    def T(self):
        """All axes reversed, as in NumPy."""
        return self.permute(*range(self.ndim - 1, -1, -1))

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    __hash__ = object.__hash__  # identity hashing: a Tensor can be a dict key though == is elementwise

    # ------------------------------------------------------------------ conversions
    def numpy(self):
        """The data as a NumPy array (copied from the GPU when it lives there)."""
        return backend.to_numpy(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous: use .any() or .all()")
        return bool(self.item())

    def __format__(self, spec):
        return format(self.item(), spec) if spec and self.data.size == 1 else format(repr(self), spec)

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({', '.join([body] + extras)})"

    def astype(self, dtype):
        """A copy as another dtype (differentiable); the tensor itself when it has that dtype."""
        dtype = np.dtype(dtype)
        if self.data.dtype == dtype:
            return self
        if dtype.kind != "f":  # only floats carry gradients: the cast is cut from the graph
            return Tensor(self.data.astype(dtype))
        return ew.Cast.apply(self, dtype=dtype)

    def to(self, target):
        """The tensor on another device ("cpu" or "cuda"; gradients flow back across the
        move) or as another dtype; the tensor itself when there is nothing to change."""
        kind, value = backend.device_or_dtype(target)
        if kind == "dtype":
            return self.astype(value)
        return self if value == self.device else mv.ToDevice.apply(self, device=value)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad=True):
        """Make this leaf record operations for backward (floating-point tensors only)."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only real floating-point tensors can require gradients, got dtype {self.data.dtype}: "
                "convert first, e.g. Tensor(data, dtype=np.float32)"
            )
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_(False) applies to leaves only; use detach() for the others")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def _version(self):
        """How many times the data has been changed in place (PyTorch's name); a view
        shares the count of the tensor it views."""
        return 0 if self._counter is None else self._counter.count

    def bump_version(self):
        """Count an in-place change of the data: optimizers, nn.init's `_` functions and
        load_state_dict call it, so that backward through a node that saved this tensor
        before the change refuses instead of using the new values."""
        autograd.count_change(self)

    def detach(self):
        """The same data, cut from the graph (it shares this tensor's version count, as a view does)."""
        t = Tensor(self.data)
        t._counter = autograd.version_counter(self)
        return t

    def clone(self):
        """A copy of the data that gradients flow back through."""
        return mv.Clone.apply(self)

    def zero_grad(self):
        """Forget the accumulated gradient (sets .grad to None)."""
        self.grad = None

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Backpropagate from this tensor and accumulate d(self)/d(leaf) into each leaf's .grad.

        `gradient` (same shape) is required unless the tensor has one element.
        `retain_graph` (default: create_graph) keeps the saved values for another backward;
        `create_graph=True` records the backward pass so the gradients can be differentiated.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() of a tensor that does not require grad: no input of it has requires_grad=True"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a tensor with one element, got shape {self.shape}: "
                    "reduce it first (e.g. .sum()) or pass gradient= of the same shape"
                )
            gradient = autograd.wrap(backend.xp(self.data).ones_like(self.data))
        else:
            gradient = gradient if isinstance(gradient, Tensor) else Tensor(gradient, device=self.device)
            if gradient.shape != self.shape:
                raise ValueError(f"gradient of shape {gradient.shape} given for a tensor of shape {self.shape}")
            gradient = gradient.astype(self.dtype)
        run_backward(self, gradient, create_graph if retain_graph is None else retain_graph, create_graph)

    def draw(self, **draw_graph_kwargs):
        """The graph that made this tensor, as tg.draw_graph(self, **draw_graph_kwargs) draws
        it: a graphviz.Digraph, which Jupyter shows."""
        from . import viz  # here, not at the top: viz imports this module

        return viz.draw_graph(self, **draw_graph_kwargs)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return ew.Add.apply(self, other)

    def __radd__(self, other):
        return ew.Add.apply(other, self)

    def __sub__(self, other):
        return ew.Sub.apply(self, other)

    def __rsub__(self, other):
        return ew.Sub.apply(other, self)

    def __mul__(self, other):
        return ew.Mul.apply(self, other)

    def __rmul__(self, other):
        return ew.Mul.apply(other, self)

    def __truediv__(self, other):
        return ew.Div.apply(self, other)

    def __rtruediv__(self, other):
        return ew.Div.apply(other, self)

    def __pow__(self, exponent):
        return ew.Pow.apply(self, exponent)

    def __rpow__(self, base):
        return ew.Pow.apply(base, self)

    def __matmul__(self, other):
        return mm.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return mm.MatMul.apply(other, self)

    def __neg__(self):
        return ew.Neg.apply(self)

    def matmul(self, other):
        return mm.MatMul.apply(self, other)

    # ------------------------------------------------------------------ in place
    def __iadd__(self, other):
        return self._in_place(np.add, "+=", other)

    def __isub__(self, other):
        return self._in_place(np.subtract, "-=", other)

    def __imul__(self, other):
        return self._in_place(np.multiply, "*=", other)

    def __itruediv__(self, other):
        return self._in_place(np.true_divide, "/=", other)

    def _in_place(self, ufunc, symbol, other):
        """t ⊙= other: changes t's own array (t stays the same object, as in PyTorch) and
        counts a new version of it. Where a gradient is wanted this is refused: the change
        would not be recorded, and nodes that read t would compute wrong gradients."""
        other_needs_grad = isinstance(other, Tensor) and other.requires_grad
        if autograd.is_grad_enabled() and (self.requires_grad or other_needs_grad):
            raise RuntimeError(
                f"t {symbol} x on a tensor that requires grad (or with one that does) cannot be recorded: "
                f"write t = t {symbol[0]} x to make a new tensor, or change it under tg.no_grad()"
            )
        operand = other
        if isinstance(other, Tensor):
            operand = other.data
            backend.check_same_device([self.data, operand])
        try:
            ufunc(self.data, operand, out=self.data)
        except TypeError as error:  # NumPy's UFuncTypeError: a float result into an int tensor
            raise TypeError(f"t {symbol} x: the result cannot be stored in t's dtype {self.dtype}: {error}") from None
        except ValueError as error:
            raise ValueError(
                f"t {symbol} x: x of shape {np.shape(operand)} does not broadcast to t's shape {self.shape}: {error}"
            ) from None
        self.bump_version()
        return self

    # comparisons: bool tensors that take no part in the graph
    def _compare(self, other, compare):
        other = other.data if isinstance(other, Tensor) else other
        return autograd.wrap(compare(self.data, other))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def isnan(self):
        """A bool tensor: True where the value is NaN (no gradient)."""
        return autograd.wrap(backend.xp(self.data).isnan(self.data))

    def __invert__(self):
        """Logical not of a bool tensor (bitwise not of an integer one)."""
        return autograd.wrap(~self.data)

    def __and__(self, other):
        return self._compare(other, np.logical_and if self.dtype == np.bool_ else np.bitwise_and)

    def __or__(self, other):
        return self._compare(other, np.logical_or if self.dtype == np.bool_ else np.bitwise_or)

    def all(self):
        return bool(self.data.all())

    def any(self):
        return bool(self.data.any())

    # ------------------------------------------------------------------ pointwise
    def exp(self):
        return ew.Exp.apply(self)

    def log(self):
        return ew.Log.apply(self)

    def sqrt(self):
        return ew.Sqrt.apply(self)

    def abs(self):
        return ew.Abs.apply(self)

    def sign(self):
        return ew.Sign.apply(self)

    def sigmoid(self):
        return ew.Sigmoid.apply(self)

    def tanh(self):
        return ew.Tanh.apply(self)

    def relu(self):
        return ew.ReLU.apply(self)

    def step(self):
        """The perceptron's Heaviside step: 1 where x >= 0, else 0; its gradient is 0."""
        return ew.Step.apply(self)

    def clip(self, min=None, max=None):
        """x limited to [min, max]; either bound may be None."""
        if min is None and max is None:
            raise ValueError("clip needs min, max or both, got neither")
        return ew.Clip.apply(self, min=None if min is None else float(min), max=None if max is None else float(max))

    def maximum(self, other):
        return ew.Maximum.apply(self, other)

    def minimum(self, other):
        return ew.Minimum.apply(self, other)

    # ------------------------------------------------------------------ reductions
    def _reduce(self, op, axis, keepdims, **attrs):
        return op.apply(self, axis=normalize_axis(axis, self.data.ndim), keepdims=keepdims, **attrs)

    def sum(self, axis=None, keepdims=False):
        return self._reduce(rd.Sum, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return self._reduce(rd.Mean, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        """The largest values (no indices); tied maxima share the gradient equally."""
        return self._reduce(rd.Max, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        """The smallest values (no indices); tied minima share the gradient equally."""
        return self._reduce(rd.Min, axis, keepdims)

    def var(self, axis=None, keepdims=False, correction=1):
        """Variance; correction=1 is PyTorch's unbiased default, correction=0 NumPy's."""
        return self._reduce(rd.Var, axis, keepdims, correction=correction)

    def logsumexp(self, axis=None, keepdims=False):
        return self._reduce(rd.LogSumExp, axis, keepdims)

    def softmax(self, axis=-1):
        return rd.Softmax.apply(self, axis=self._one_axis(axis))

    def log_softmax(self, axis=-1):
        return rd.LogSoftmax.apply(self, axis=self._one_axis(axis))

    def _one_axis(self, axis):
        """One axis, normalised; None for a 0-d tensor (whose only "axis" is itself, as in PyTorch)."""
        return normalize_axis(axis, self.ndim)[0] if self.ndim else None

    def argmax(self, axis=None):
        """Indices of the largest values (int64, no gradient)."""
        if axis is not None:
            axis = normalize_axis(axis, self.ndim)[0]
        return Tensor(self.data.argmax(axis=axis))

    # ------------------------------------------------------------------ movement
    def reshape(self, *shape):
        """The same elements in a new shape; one axis may be -1 (inferred)."""
        shape = _shape_arg(shape)
        if -1 in shape:  # resolve it first, so that an unchanged shape records no op
            known = -math.prod(shape)
            if shape.count(-1) == 1 and known > 0 and self.data.size % known == 0:
                shape = tuple(self.data.size // known if n == -1 else n for n in shape)
        if shape == self.data.shape:
            return self
        if math.prod(shape) != self.data.size or any(n < 0 for n in shape):
            raise ValueError(
                f"cannot reshape a tensor of shape {self.shape} ({self.data.size} elements) into shape {shape}"
            )
        return mv.Reshape.apply(self, shape=shape)

    def permute(self, *axes):
        """The axes reordered: out.shape[i] = self.shape[axes[i]]."""
        ndim = self.data.ndim
        axes = _shape_arg(axes)
        in_range = all(-ndim <= a < ndim for a in axes)
        if len(axes) != ndim or not in_range or len({a % ndim for a in axes}) != ndim:
            raise ValueError(f"permute expects an order of all {ndim} axes, got {axes}")
        return mv.Permute.apply(self, axes=tuple(a % ndim for a in axes))

    def transpose(self, a0=-2, a1=-1):
        """Swap two axes (by default the last two, so a batch of matrices stays a batch)."""
        ndim = self.data.ndim
        i, j = normalize_axis(a0, ndim)[0], normalize_axis(a1, ndim)[0]
        axes = list(range(ndim))
        axes[i], axes[j] = j, i
        return mv.Permute.apply(self, axes=tuple(axes))

    def flatten(self, start=0):
        """Merge the axes from `start` on into one."""
        start = normalize_axis(start, self.ndim)[0] if self.ndim else 0
        return self.reshape(self.shape[:start] + (-1,))

    def squeeze(self, axis=None):
        """Drop axes of length 1 (all of them when axis is None); other lengths are a ValueError."""
        if axis is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = normalize_axis(axis, self.ndim)
        for a in axes:
            if self.shape[a] != 1:
                raise ValueError(f"cannot squeeze axis {a} of shape {self.shape}: its length is {self.shape[a]}, not 1")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, axis):
        """Insert an axis of length 1 at `axis` (negative counts from the end of the result)."""
        axis = normalize_axis(axis, self.ndim + 1)[0]
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def expand(self, *shape):
        """Broadcast to `shape` (-1 keeps an axis as it is)."""
        shape = _shape_arg(shape)
        offset = len(shape) - self.ndim
        shape = tuple(self.shape[i - offset] if n == -1 else n for i, n in enumerate(shape))
        try:
            fits = np.broadcast_shapes(self.shape, shape) == shape  # expanding never shrinks an axis
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"cannot expand a tensor of shape {self.shape} to shape {shape}")
        if shape == self.shape:
            return self
        return mv.Expand.apply(self, shape=shape)

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        return mv.GetItem.apply(self, index=backend.index_like(index, self.data))


def _float_dtype(dtype):
    """The float dtype a random factory draws in: float64 when asked for, else float32."""
    return np.float64 if dtype is not None and np.dtype(dtype) == np.float64 else np.float32


autograd.register_tensor_class(Tensor)


# ---------------------------------------------------------------------- module-level API
def tensor(data, requires_grad=False, dtype=None, device=None):
    """A new Tensor holding a copy of `data` (like torch.tensor)."""
    t = Tensor(_to_array(data, dtype, device, copy=True))
    return t.requires_grad_(True) if requires_grad else t


zeros = Tensor.zeros
ones = Tensor.ones
full = Tensor.full
eye = Tensor.eye
arange = Tensor.arange
randn = Tensor.randn
rand = Tensor.rand
zeros_like = Tensor.zeros_like
ones_like = Tensor.ones_like


def cat(tensors, axis=0):
    """The tensors joined along an existing axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat needs at least one tensor, got none")
    first = tensors[0] if isinstance(tensors[0], Tensor) else Tensor(tensors[0])
    return mv.Cat.apply(*tensors, axis=normalize_axis(axis, first.ndim)[0])


def stack(tensors, axis=0):
    """The tensors (all of one shape) stacked along a new axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack needs at least one tensor, got none")
    shapes = {tuple(np.shape(t.data if isinstance(t, Tensor) else t)) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack needs tensors of one shape, got shapes {sorted(shapes)}")
    ndim = len(shapes.pop())
    return mv.Stack.apply(*tensors, axis=normalize_axis(axis, ndim + 1)[0])


def where(cond, a, b):
    """a where cond is true, else b (broadcast together); cond gets no gradient."""
    if not isinstance(cond, Tensor):  # plain data goes where the operands are
        operand = a if isinstance(a, Tensor) else b
        cond = Tensor(cond, device=operand.device if isinstance(operand, Tensor) else None)
    if cond.dtype != np.bool_:
        cond = cond != 0
    return ew.Where.apply(cond, a, b)
