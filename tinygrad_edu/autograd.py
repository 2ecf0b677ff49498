"""Function (one differentiable op), grad mode, and the backward engine.

A Function computes its forward on arrays and its backward with Tensor operations, so a
backward formula reads like the maths and, under `create_graph=True`, is itself recorded
and can be differentiated again. The engine visits the graph in a topological order
built without recursion (Kahn's algorithm), so a chain of a million ops works.
"""

import functools
import weakref

import numpy as np

from . import backend

Tensor = None  # the Tensor class, given by tensor.py through register_tensor_class


def register_tensor_class(cls):
    """Tell autograd which class its Tensors are: tensor.py imports autograd, never the
    other way round, so the class is handed over by this one call."""
    global Tensor
    Tensor = cls


def wrap(array):
    """A Tensor around an array the library made itself (a mask, a constant): no copy, no
    parsing, no gradient. Ops use it to bring arrays into their backward formulas."""
    t = Tensor.__new__(Tensor)
    t.data = np.asarray(array) if isinstance(array, np.generic) else array
    t.grad = None
    t.grad_fn = None
    t.requires_grad = False
    t._base = None
    t._changes = 0
    return t

_grad_enabled = True


def is_grad_enabled():
    """True when new operations are recorded for backward."""
    return _grad_enabled


class _GradMode:
    """A context manager and decorator (`@no_grad()` or `@no_grad`) that sets grad mode,
    restoring it afterwards."""

    enabled = True

    def __new__(cls, function=None):
        mode = super().__new__(cls)
        return mode if function is None else mode(function)

    def __enter__(self):
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = self.enabled

    def __exit__(self, *exc_info):
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return function(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """`with tg.no_grad():` (or `@tg.no_grad()`): operations inside are not recorded."""

    enabled = False


class enable_grad(_GradMode):
    """`with tg.enable_grad():` records operations again inside a `no_grad` block."""

    enabled = True


class _Freed:
    def __repr__(self):
        return "<freed by backward>"


FREED = _Freed()  # what `Function.saved` holds once backward has freed it


class Function:
    """One differentiable operation: the node of a computational graph.

    Subclasses define `forward(self, *arrays, **attrs) -> array` on NumPy (or CuPy)
    arrays and `backward(self, grad) -> Tensor | tuple[Tensor | None, ...]` with Tensor
    operations, one gradient per input. In backward, `self.inputs` are the input Tensors
    and `self.output` the output Tensor. What forward keeps beyond them goes in
    `self.saved`: backward frees it, and `replay()` recomputes it from the inputs.
    The class attribute `formula` is the local derivative as the maths writes it.
    """

    __slots__ = ("inputs", "saved", "_output", "__dict__")

    formula = ""
    attrs = {}  # the keyword attributes given to apply; read-only

    @property
    def name(self):
        """The op's name as pictures show it, e.g. "Sigmoid"."""
        return type(self).__name__

    @property
    def output(self):
        """The Tensor this op produced (None once nothing else holds it)."""
        return self._output()

    def forward(self, *arrays, **attrs):
        raise NotImplementedError(f"{self.name} must define forward(self, *arrays)")

    def backward(self, grad):
        raise NotImplementedError(f"{self.name} must define backward(self, grad)")

    def replay(self):
        """Recompute what forward saved (after backward freed it) from the inputs."""
        self.saved = None
        self.forward(*(t.data for t in self.inputs), **self.attrs)

    def __repr__(self):
        return f"<{self.name}>"

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run forward on the inputs' arrays; record the node when a gradient is wanted.

        Inputs may be Tensors or Python numbers (which become constants of the other
        input's dtype). Inputs of different dtypes are cast to `torch.result_type`'s
        choice first; inputs on different devices are a ValueError.
        """
        fn = cls()
        fn.saved = None  # what forward keeps for backward beyond the inputs and the output
        if len(inputs) == 2:  # the common case first: no loops, no lists
            a, b = inputs
            if not isinstance(b, Tensor):
                b = _constant(b, a)
            elif not isinstance(a, Tensor):
                a = _constant(a, b)
            da, db = a.data, b.data
            # a bool mask (grad * (x > 0)) mixes with any dtype in NumPy without a cast
            if (da.dtype is not db.dtype and db.dtype.kind != "b") or da.__class__ is not db.__class__:
                a, b = _common_inputs((a, b))
                da, db = a.data, b.data
            inputs = (a, b)
            record = _grad_enabled and (a.requires_grad or b.requires_grad)
            out = fn.forward(da, db, **attrs)
        elif len(inputs) == 1:
            (a,) = inputs
            if not isinstance(a, Tensor):
                a = Tensor(a)
                inputs = (a,)
            record = _grad_enabled and a.requires_grad
            out = fn.forward(a.data, **attrs)
        else:
            inputs = _common_inputs(inputs)
            a = inputs[0]
            arrays = []
            record = False
            for t in inputs:
                arrays.append(t.data)
                record = record or t.requires_grad
            record = record and _grad_enabled
            out = fn.forward(*arrays, **attrs)
        if out.__class__ is not a.data.__class__ and not hasattr(out, "__cuda_array_interface__"):
            out = np.asarray(out)  # NumPy returns a scalar, not a 0-d array, for 0-d results
        result = Tensor.__new__(Tensor)
        result.data = out
        result.grad = None
        result._base = None
        result._changes = 0
        if record:
            fn.inputs = inputs
            if attrs:
                fn.attrs = attrs
            fn._output = weakref.ref(result)
            result.grad_fn = fn
            result.requires_grad = True
        else:
            result.grad_fn = None
            result.requires_grad = False
        return result


def _common_inputs(inputs):
    """Tensors of one device and one dtype: numbers become constants, dtypes are promoted."""
    first = inputs[0]
    if isinstance(first, Tensor):  # the common case first: Tensors that already agree
        array_type, dtype = first.data.__class__, first.data.dtype
        for t in inputs:
            if not isinstance(t, Tensor) or t.data.__class__ is not array_type or t.data.dtype is not dtype:
                break
        else:
            return inputs
    reference = next((t for t in inputs if isinstance(t, Tensor)), None)
    if reference is None:
        reference = Tensor(inputs[0])
    tensors = [t if isinstance(t, Tensor) else _constant(t, reference) for t in inputs]
    first = tensors[0].data
    if any(t.data.__class__ is not first.__class__ for t in tensors):
        devices = ", ".join(f'"{backend.device_of(t.data)}"' for t in tensors)
        raise ValueError(f"expected all tensors on one device, got tensors on {devices}")
    if any(t.data.dtype != first.dtype for t in tensors):
        return _promote(tensors)
    return tensors


_constants = {}  # (value, dtype, array type) -> constant Tensor; read-only, as nothing may write to one
_FLOAT32, _INT64 = np.dtype(np.float32), np.dtype(np.int64)


def _constant(value, like):
    """A Python number as a 0-d constant Tensor that does not widen the Tensor `like`
    (torch's rule: float32 * 0.5 stays float32; int64 * 0.5 is float32)."""
    number_type = value.__class__
    like = like.data if isinstance(like, Tensor) else Tensor(like).data
    if number_type is not float and number_type is not int and number_type is not bool:
        return Tensor(value, device=backend.device_of(like))  # arrays, lists, NumPy scalars
    dtype = like.dtype
    if number_type is float and dtype.kind not in "fc":
        dtype = _FLOAT32
    elif number_type is int and dtype.kind == "b":
        dtype = _INT64
    key = (value, dtype, like.__class__)
    constant = _constants.get(key)
    if constant is None:
        if len(_constants) > 1024:
            _constants.clear()
        constant = _constants[key] = wrap(backend.read_only(backend.scalar(value, dtype, like)))
    return constant


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def result_type(arrays):
    """The dtype `torch.result_type` gives: 0-d arrays never widen arrays with dimensions,
    and an integer array with a float one takes the float's dtype."""

    def promote(dtypes):
        top = max(_CATEGORY[d.kind] for d in dtypes)
        return np.result_type(*[d for d in dtypes if _CATEGORY[d.kind] == top])

    dimensioned = [a.dtype for a in arrays if a.ndim > 0]
    zero_dim = [a.dtype for a in arrays if a.ndim == 0]
    if not dimensioned or not zero_dim:
        return promote(dimensioned or zero_dim)
    main, scalars = promote(dimensioned), promote(zero_dim)
    return scalars if _CATEGORY[scalars.kind] > _CATEGORY[main.kind] else main


def _promote(tensors):
    # bool mixes with any dtype in NumPy without widening it, so it needs no cast
    if len({t.data.dtype for t in tensors if t.data.dtype.kind != "b"}) <= 1:
        return tensors
    dtype = result_type([t.data for t in tensors])
    return [t if t.data.dtype == dtype or t.data.dtype.kind == "b" else t.astype(dtype) for t in tensors]


def backward_order(root_fn):
    """The Functions reachable from `root_fn`, each after every Function that consumes its
    output: the order in which the engine runs them (Kahn's algorithm, no recursion)."""
    consumers = {root_fn: 0}
    stack = [root_fn]
    while stack:
        for t in stack.pop().inputs:
            parent = t.grad_fn
            if parent is not None:
                if parent in consumers:
                    consumers[parent] += 1
                else:
                    consumers[parent] = 1
                    stack.append(parent)
    order = []
    ready = [root_fn]
    while ready:
        fn = ready.pop()
        order.append(fn)
        for t in fn.inputs:
            parent = t.grad_fn
            if parent is not None:
                consumers[parent] -= 1
                if consumers[parent] == 0:
                    ready.append(parent)
    return order


def input_gradients(fn, grad_out):
    """`fn.backward(grad_out)` as a tuple with one entry per input."""
    if fn.saved is FREED:
        raise RuntimeError(
            f"trying to backward through the graph a second time: {fn.name}'s saved values "
            "were freed by the first backward; call backward(retain_graph=True) the first time"
        )
    grads = fn.backward(grad_out)
    return grads if grads.__class__ is tuple else (grads,)


def run_backward(root, grad_root, retain_graph, create_graph):
    """Backpropagate `grad_root` from `root` and accumulate the result in the leaves' `.grad`."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, create_graph
    try:
        grads = {root.grad_fn: grad_root}
        owned = set()  # Functions whose buffer in `grads` the engine allocated itself
        for fn in backward_order(root.grad_fn):
            grad_out = grads.pop(fn, None)
            if grad_out is None:  # every consumer's gradient was None (e.g. through sign())
                continue
            input_grads = input_gradients(fn, grad_out)
            if not retain_graph:
                fn.saved = FREED
            for t, grad in zip(fn.inputs, input_grads):
                if grad is None:
                    continue
                parent = t.grad_fn
                if parent is None:
                    if t.requires_grad:
                        t.grad = grad if t.grad is None else t.grad + grad
                elif parent not in grads:
                    grads[parent] = grad
                elif create_graph:
                    grads[parent] = grads[parent] + grad
                elif parent in owned:
                    # in place only into a buffer the engine made: the first gradient to
                    # arrive may be shared with another input (Add passes one to both)
                    grads[parent].data += grad.data
                else:
                    grads[parent] = grads[parent] + grad
                    owned.add(parent)
    finally:
        _grad_enabled = previous
