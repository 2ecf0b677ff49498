"""Function (one differentiable op), grad mode, and the chain rule.

A Function computes its forward on arrays and its backward with Tensor operations, so a
backward formula reads like the maths and, under `create_graph=True`, is itself recorded
and can be differentiated again. `backpropagate` applies the chain rule one node at a
time; the engine (`run_backward`) and the pictures of `viz` both consume it, so a picture
always shows what backward does.
"""

import contextvars
import functools
import inspect
import weakref
from types import MappingProxyType

import numpy as np

from . import backend, dtypes

# ---------------------------------------------------------------------- the Tensor class
Tensor = None  # the Tensor class, given by tensor.py through register_tensor_class


def register_tensor_class(cls):
    """Tell autograd which class its Tensors are: tensor.py imports autograd, never the
    other way round, so the class is handed over by this one call."""
    global Tensor
    Tensor = cls


def wrap(array):
    """A Tensor around an array the library made itself (a result, a mask, a constant): no
    copy, no parsing, no gradient. Ops use it to bring arrays into backward formulas."""
    t = Tensor.__new__(Tensor)
    t.data = np.asarray(array) if isinstance(array, np.generic) else array  # NumPy gives 0-d results as scalars
    t.grad = None
    t.grad_fn = None
    t._requires_grad = False
    t._counter = None
    return t


# ---------------------------------------------------------------------- in-place changes
_changes = 0  # how many in-place changes this process has made: the clock of the checks below


class VersionCounter:
    """How often a tensor's memory was changed in place, and the moment of the last change
    (the value of the clock `_changes` then). A view shares the counter of the tensor it
    views: a change of either is a change of both. Made when first needed (most tensors
    are never changed nor viewed)."""

    __slots__ = ("count", "changed_at")

    def __init__(self):
        self.count = 0
        self.changed_at = 0


def version_counter(t):
    """t's VersionCounter, made now if t has none yet."""
    if t._counter is None:
        t._counter = VersionCounter()
    return t._counter


def count_change(t):
    """Count an in-place change of t's data: its version goes up by one, and it remembers
    the moment."""
    global _changes
    _changes += 1
    counter = version_counter(t)
    counter.count += 1
    counter.changed_at = _changes


def changed_since(t, moment):
    """True when t's data was changed in place after `moment` (a value of the clock)."""
    return t._counter is not None and t._counter.changed_at > moment


# ---------------------------------------------------------------------- grad mode
# Whether new operations are recorded. A context variable holds one value per thread (and
# per asyncio task): grad mode is per thread, as in PyTorch, so `no_grad` in one thread
# never stops another thread's recording. apply reads it for every op, and a context
# variable reads in a third of the time of a threading.local.
_grad_enabled = contextvars.ContextVar("grad_enabled", default=True)


def is_grad_enabled():
    """True when new operations are recorded for backward (in this thread)."""
    return _grad_enabled.get()


class _SetGradMode:
    """A context manager and decorator (`@no_grad()` or `@no_grad`) that sets this thread's
    grad mode and restores it afterwards. A decorated generator function runs each of its
    steps in that mode (and the caller's code between them in the caller's)."""

    enabled = True

    def __new__(cls, function=None):
        mode = super().__new__(cls)
        return mode if function is None else mode(function)

    def __enter__(self):
        self._previous = _grad_enabled.get()
        _grad_enabled.set(self.enabled)

    def __exit__(self, *exc_info):
        _grad_enabled.set(self._previous)

    def __call__(self, function):
        mode = type(self)
        if inspect.isgeneratorfunction(function):

            @functools.wraps(function)
            def generator_in_mode(*args, **kwargs):
                steps = function(*args, **kwargs)
                sent = None
                while True:
                    with mode():
                        try:
                            value = steps.send(sent)
                        except StopIteration as stop:
                            return stop.value
                    sent = yield value

            return generator_in_mode

        @functools.wraps(function)
        def in_mode(*args, **kwargs):
            with mode():
                return function(*args, **kwargs)

        return in_mode


class no_grad(_SetGradMode):
    """`with tg.no_grad():` (or `@tg.no_grad()`): operations inside are not recorded."""

    enabled = False


class enable_grad(_SetGradMode):
    """`with tg.enable_grad():` records operations again inside a `no_grad` block."""

    enabled = True


# ---------------------------------------------------------------------- anomaly detection
_anomaly_checks = contextvars.ContextVar("anomaly_checks", default=False)  # per thread, like grad mode


class detect_anomaly:
    """`with tg.detect_anomaly():` the first op whose forward or backward makes a NaN or an
    inf raises a RuntimeError naming the op, its formula and its input shapes, and marks
    the op (`fn.anomaly`), which draw_graph shows. The error's `.output` is that op's
    output, so `tg.draw_graph(error.output)` draws the graph up to it. It costs a check of
    every result: for finding a bug, not for training. `detect_anomaly(mode=False)` turns
    the checks off inside a block (PyTorch's set_detect_anomaly(False)): the pictures run
    their backward pass so, and draw a graph that made a NaN inside a checked block too."""

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._previous = _anomaly_checks.get()
        _anomaly_checks.set(self.mode)
        return self

    def __exit__(self, *exc_info):
        _anomaly_checks.set(self._previous)


class AnomalyError(RuntimeError):
    """What detect_anomaly raises; `.output` is the output of the op that made the NaN or inf."""

    def __init__(self, message, output):
        super().__init__(message)
        self.output = output


def _check_finite(fn, inputs, output, arrays, where):
    """Under detect_anomaly: AnomalyError, with fn marked, when one of `arrays` holds a NaN or an inf."""
    for position, array in enumerate(arrays):
        if array is None or array.dtype.kind not in "fc" or backend.xp(array).isfinite(array).all():
            continue
        what = "NaN" if backend.xp(array).isnan(array).any() else "inf"
        place = "its output" if where == "forward" else f"the gradient of input {position}"
        shapes = ", ".join(str(t.shape) for t in inputs)
        fn.anomaly = f"{where} made {what}"
        raise AnomalyError(
            f"detect_anomaly: {fn.name}'s {where} made {what} in {place} "
            f"(formula: {fn.formula or 'none given'}; input shapes: {shapes})",
            output,
        )


# ---------------------------------------------------------------------- Function
class _Freed:
    def __repr__(self):
        return "<freed by backward>"


FREED = _Freed()  # what `Function.saved` holds once backward has freed it


class _SlottedClass(type):
    """The class of Function classes: it gives each one that does not name its own
    `__slots__` an empty tuple of them. A node then stays at 80 bytes, the size of its
    output Tensor and of the weak reference to it, so pymalloc lays the three side by side
    and Python's cyclic garbage collector, which walks every node of a graph that is
    alive, walks a deep one twice as fast (tests/test_reliability.py checks the size).
    Attributes outside the slots still work: they go to the instance's `__dict__` (a
    class whose nodes must be weakly referenced names "__weakref__" in its own slots)."""

    def __new__(mcs, name, bases, namespace, **kwargs):
        namespace.setdefault("__slots__", ())
        return super().__new__(mcs, name, bases, namespace, **kwargs)


class Function(metaclass=_SlottedClass):
    """One differentiable operation: the node of a computational graph.

    Subclasses define `forward(self, *arrays, **attrs) -> array` on NumPy (or CuPy)
    arrays and `backward(self, grad) -> Tensor | tuple[Tensor | None, ...]` with Tensor
    operations, one gradient per input. In backward, `self.inputs` are the input Tensors,
    `self.output` the output Tensor and `self.attrs` the keyword attributes. What forward
    keeps beyond them goes in `self.saved`: backward frees it, and `replay()` recomputes
    it from the inputs.

    Class attributes: `formula`, the local derivative as the maths writes it; `reads`,
    what backward reads of the inputs' and the output's values ("inputs", "output"): a
    change in place of one of those after the node was recorded is an error in backward
    (an op that reads neither, such as Add, is not disturbed by one); `view`, True for ops
    whose output shares its input's memory (reshape, permute, ...), so that a change of
    either counts as a change of both.
    """

    # four slots and a __dict__ make 80 bytes (see _SlottedClass); `attrs` is therefore a
    # class default, set on a node only when it has some
    __slots__ = ("inputs", "saved", "recorded_at", "_output", "__dict__")

    formula = ""
    attrs = MappingProxyType({})  # the attributes of a node that has none: one shared, read-only mapping
    reads = ("inputs", "output")
    view = False
    library_op = False  # True for the library's own ops, set below

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.library_op = cls.__module__.startswith("tinygrad_edu.")

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
        """Run the op on `inputs` (Tensors or Python numbers) and record it in the graph.

        1. Make the inputs compatible: numbers become constants, dtypes are promoted
           (torch.result_type's rules), devices must agree.
        2. Run forward on their arrays.
        3. Record the node when grad mode is on and some input requires grad: its inputs,
           a weak reference to its output, and the moment (see count_change), so that
           backward can tell whether what it reads was changed in place since.

        The most common calls take `_apply_fast`, the same steps without loops.
        """
        output = _apply_fast(cls, inputs, attrs)
        if output is not None:
            return output
        fn = cls()
        inputs = compatible(inputs)  # 1
        fn.saved = None
        output = wrap(fn.forward(*[t.data for t in inputs], **attrs))  # 2
        if fn.view:
            output._counter = version_counter(inputs[0])
        if _grad_enabled.get() and any(t.requires_grad for t in inputs):  # 3
            fn.record(inputs, output, attrs)
        if _anomaly_checks.get():
            _check_finite(fn, inputs, output, [output.data], "forward")
        return output

    def record(self, inputs, output, attrs):
        """Link this node into the graph as the op that made `output` from `inputs`."""
        self.inputs = inputs
        if attrs:
            self.attrs = attrs
        self._output = weakref.ref(output)  # weak: a strong one would make every graph a cycle
        self.recorded_at = _changes
        output.grad_fn = self
        output._requires_grad = True

    def read_tensors(self):
        """The tensors whose values backward reads, as `reads` names them."""
        tensors = list(self.inputs) if "inputs" in self.reads else []
        return tensors + [self.output] if "output" in self.reads else tensors


def compatible(inputs):
    """The inputs as Tensors of one device and one dtype: Python numbers (and arrays)
    become constants that do not widen the tensors, and a tensor of another dtype is cast
    (a Cast node, so gradients flow back through the cast)."""
    like = next((t for t in inputs if isinstance(t, Tensor)), None)
    if like is None:
        like = Tensor(inputs[0])
    tensors = [t if isinstance(t, Tensor) else constant(t, like.data) for t in inputs]
    arrays = [t.data for t in tensors]
    backend.check_same_device(arrays)
    dtype = dtypes.result_type(arrays)
    return tuple(t if t.data.dtype == dtype or t.data.dtype.kind == "b" else t.astype(dtype) for t in tensors)


def _apply_fast(cls, inputs, attrs):  # noqa: C901 - one straight run on purpose: see the docstring
    """apply for its most common calls — one Tensor; two Tensors of one dtype and array
    type, or a Tensor and a bool mask; a Tensor and a Python number; three Tensors of one
    dtype and array type (Linear's x, W, b) — as one straight run: the same three steps
    without compatible's loops and lists, and without helper calls (wrap and record are
    written out: each call costs a fifth of a small op's NumPy call). None for any other
    call, and for every call inside detect_anomaly (its checks are in the plain steps).
    tests/test_reliability.py holds the graphs of the two equal."""
    if _anomaly_checks.get():
        return None
    if len(inputs) == 2:
        a, b = inputs  # 1: a Python number becomes a constant; a cast or a device check is not for here
        if b.__class__ is float or b.__class__ is int:
            b = constant(b, a.data) if isinstance(a, Tensor) else None
        elif a.__class__ is float or a.__class__ is int:
            a = constant(a, b.data) if isinstance(b, Tensor) else None
        if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
            return None
        da, db = a.data, b.data
        if (da.dtype is not db.dtype and db.dtype.kind != "b") or da.__class__ is not db.__class__:
            return None  # a bool mask (grad * (x > 0)) joins any dtype without a cast, as in compatible
        inputs, arrays = (a, b), (da, db)
        wanted = a._requires_grad or b._requires_grad
    elif len(inputs) == 1 and isinstance(inputs[0], Tensor):
        (a,) = inputs
        arrays = (a.data,)
        wanted = a._requires_grad
    elif len(inputs) == 3:  # Linear's x, W and b
        a, b, c = inputs
        if not (isinstance(a, Tensor) and isinstance(b, Tensor) and isinstance(c, Tensor)):
            return None
        arrays = da, db, dc = a.data, b.data, c.data
        if not (da.dtype is db.dtype is dc.dtype and da.__class__ is db.__class__ is dc.__class__):
            return None
        wanted = a._requires_grad or b._requires_grad or c._requires_grad
    else:
        return None
    fn = cls()
    fn.saved = None
    out = fn.forward(*arrays, **attrs)  # 2
    output = Tensor.__new__(Tensor)  # wrap(out), written out
    output.data = out if out.__class__ is a.data.__class__ else np.asarray(out)  # NumPy gives 0-d results as scalars
    output.grad = output.grad_fn = output._counter = None
    output._requires_grad = False
    if fn.view:
        output._counter = version_counter(a)
    if wanted and _grad_enabled.get():  # 3: fn.record(inputs, output, attrs), written out
        fn.inputs = inputs
        if attrs:
            fn.attrs = attrs
        fn._output = weakref.ref(output)
        fn.recorded_at = _changes
        output.grad_fn = fn
        output._requires_grad = True
    return output


_constants = {}


def constant(value, like):
    """`value` as a constant Tensor next to the array `like` (dtypes.constant's rules). A
    Python number's constant is kept: a training loop multiplies by the same few numbers
    every step, and building one costs more than the small op it feeds. The key holds the
    number's type, as True == 1; zeros are not kept, as -0.0 == 0.0 would share a key."""
    if value.__class__ not in (float, int, bool) or not value:  # zeros too: -0.0 == 0.0 as a key
        return wrap(dtypes.constant(value, like))
    key = (value.__class__, value, like.dtype, like.__class__)
    t = _constants.get(key)
    if t is None:
        if len(_constants) > 1024:
            _constants.clear()
        t = _constants[key] = wrap(backend.read_only(dtypes.constant(value, like)))
    return t


# ---------------------------------------------------------------------- the chain rule
def backward_order(root_fn):
    """The Functions reachable from `root_fn`, each after every Function that consumes its
    output: the order in which the chain rule visits them (Kahn's algorithm, no recursion)."""
    consumers = {root_fn: 0}
    stack = [root_fn]
    while stack:
        for t in stack.pop().inputs:
            parent = t.grad_fn
            if parent in consumers:
                consumers[parent] += 1
            elif parent is not None:  # met for the first time
                consumers[parent] = 1
                stack.append(parent)
    order, ready = [], [root_fn]
    while ready:
        fn = ready.pop()
        order.append(fn)
        for t in fn.inputs:
            parent = t.grad_fn
            if parent is not None:
                waiting = consumers[parent] - 1  # consumers that have not sent their gradient yet
                consumers[parent] = waiting
                if waiting == 0:
                    ready.append(parent)
    return order


def backpropagate(root, grad_root, retain_graph=True, replay_freed=False, leaves=None):  # noqa: C901 - one node's chain rule reads in order, in one loop
    """The chain rule, one node at a time.

    For each Function in backward order, yields (fn, grad_out, grads_in): the gradient of
    the loss with respect to fn's output (the sum of what its consumers sent; None when
    they all sent None) and the gradient fn's backward sends to each input (None where
    none flows, also for inputs that do not require grad). A tensor used by several ops
    gets the sum of their gradients; given a dict `leaves`, the sums that reach leaves
    which require grad are kept there (leaf -> gradient). Unless `retain_graph`, what a
    node saved is freed after its step; with `replay_freed`, a node freed by an earlier
    backward is recomputed for its step and freed again (the pictures draw freed graphs).
    """
    pending = {root.grad_fn: grad_root}  # fn -> the gradient of its output, summed so far
    summed = set()  # keys of pending or leaves whose gradient is an array a sum here made
    recording, checking = _grad_enabled.get(), _anomaly_checks.get()  # create_graph; detect_anomaly
    for fn in backward_order(root.grad_fn):
        grad_out = pending.pop(fn, None)
        if grad_out is None:  # every consumer sent None
            yield fn, None, (None,) * len(fn.inputs)
            continue
        replayed = replay_freed and fn.saved is FREED
        if replayed:
            fn.replay()
        grads_in = _checked_gradients(fn, grad_out) if checking else input_gradients(fn, grad_out)
        if replayed or not retain_graph:
            fn.saved = FREED
        yield fn, grad_out, grads_in
        for t, grad in zip(fn.inputs, grads_in):
            if grad is None:
                continue
            if t.grad_fn is not None:
                sums, key = pending, t.grad_fn
            elif leaves is not None and t._requires_grad:
                sums, key = leaves, t
            else:
                continue
            # in place only into an array an earlier sum made here (the first gradient may be
            # shared: Add sends one array to both inputs), and out of place under
            # create_graph, which records the sum
            if key not in sums:
                sums[key] = grad
            elif key in summed and not recording:
                sums[key].data += grad.data
            else:
                sums[key] = sums[key] + grad
                summed.add(key)


def input_gradients(fn, grad_out):
    """fn's backward for `grad_out`, as one gradient per input (None for an input that
    does not require grad), after checking that what backward reads is as forward left
    it. What a Function defined outside the library returns is checked too; the
    library's own ops are held to the same rules by their tests (the op table)."""
    if fn.saved is FREED:
        raise RuntimeError(
            f"trying to backward through the graph a second time: {fn.name}'s saved values "
            "were freed by the first backward; call backward(retain_graph=True) the first time"
        )
    if _changes != fn.recorded_at:  # some tensor was changed in place since: was it one that backward reads?
        for t in fn.read_tensors():
            if changed_since(t, fn.recorded_at):
                raise RuntimeError(_changed_in_place(fn, t))
    grads = fn.backward(grad_out)
    if fn.library_op:  # a tuple or one Tensor, by the library's own rule
        return grads if grads.__class__ is tuple else (grads,)
    grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
    if len(grads) != len(fn.inputs):
        raise RuntimeError(
            f"{fn.name}.backward returned {len(grads)} gradient(s) for {len(fn.inputs)} input(s): "
            "expected one per input (None for an input that gets no gradient)"
        )
    checked = []
    for t, grad in zip(fn.inputs, grads):
        if grad is None or not t._requires_grad:
            checked.append(None)
        elif isinstance(grad, Tensor) and grad.data.shape == t.data.shape and _same_dtype(grad.data, t.data):
            checked.append(grad)
        else:
            raise RuntimeError(_wrong_gradient(fn, len(checked), t, grad))
    return tuple(checked)


def _same_dtype(a, b):
    """a.dtype == b.dtype, asked of the (usually shared) dtype objects first: NumPy's
    dtype comparison is slow next to the small ops it guards."""
    return a.dtype is b.dtype or a.dtype == b.dtype


def _changed_in_place(fn, t):
    """The error for a tensor that fn's backward reads and that was changed in place since
    forward (PyTorch's words): its gradient would be taken at the new values."""
    position = next((i for i, x in enumerate(fn.inputs) if x is t), None)
    what = "the output" if position is None else f"input {position}"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{what} of {fn.name} (a tensor of shape {t.shape}, dtype {t.dtype}, now at version {t._version}) "
        f"was changed after {fn.name} was computed. Compute the loss again after changing a tensor in place "
        "(an optimizer step changes the parameters), or change a copy."
    )


def _wrong_gradient(fn, position, t, grad):
    """The error for a gradient that is not a Tensor of its input's shape and dtype."""
    if not isinstance(grad, Tensor):
        problem = f"a {type(grad).__name__}, expected a Tensor (wrap an array with tg.Tensor(array))"
    elif grad.shape != t.shape:
        problem = f"a gradient of shape {grad.shape}, expected the input's shape {t.shape}"
    else:
        problem = f"a gradient of dtype {grad.dtype}, expected the input's dtype {t.dtype}"
    return f"{fn.name}.backward returned, for input {position}, {problem}"


def _checked_gradients(fn, grad_out):
    """input_gradients under detect_anomaly: the node as a whole is checked, not the ops
    its backward formula runs (a NaN there is this node's)."""
    with detect_anomaly(False):
        grads_in = input_gradients(fn, grad_out)
    _check_finite(fn, fn.inputs, fn.output, [None if g is None else g.data for g in grads_in], "backward")
    return grads_in


def run_backward(root, grad_root, retain_graph, create_graph):
    """The engine: backpropagate `grad_root` from `root` and add the gradient that reaches
    each leaf that requires grad to its `.grad`. Backward formulas run in no-grad mode
    unless `create_graph`, which records them so that the gradients can be differentiated."""
    leaves = {root: grad_root} if root.grad_fn is None else {}  # a leaf root: its gradient is the seed
    with enable_grad() if create_graph else no_grad():
        if root.grad_fn is not None:
            for _ in backpropagate(root, grad_root, retain_graph, leaves=leaves):
                pass  # each step applies the chain rule; what reaches the leaves is summed in `leaves`
        handed_out = {id(grad_root.data)}  # arrays that a tensor outside the engine may hold
        for leaf, grad in leaves.items():
            _accumulate_leaf(leaf, grad, handed_out)


def _accumulate_leaf(leaf, grad, handed_out):
    """leaf.grad += grad, so that each leaf's .grad owns its array: the first gradient is
    copied when it may be shared (Add sends one array to both inputs; a view or the seed
    belongs to someone else), and a sum is a new array."""
    if leaf.grad is not None:
        leaf.grad = leaf.grad + grad
        return
    if id(grad.data) in handed_out or not backend.owns_memory(grad.data):
        grad = grad.clone()
    handed_out.add(id(grad.data))
    leaf.grad = grad
