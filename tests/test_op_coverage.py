"""Every concrete Function in tinygrad_edu/ops/ has a row in an op table — test_ops,
test_conv, test_norm, test_attention or test_losses — that exercises it, forward or in the
backward graph that create_graph records. A new op without a row fails here."""

import importlib
import inspect
import pkgutil

import numpy as np
import test_attention
import test_conv
import test_losses
import test_norm
import test_ops

from tinygrad_edu import Function, Tensor, ops

EXEMPT = {"ToDevice": "it moves a tensor between devices: tests/test_cuda.py's table covers it on a GPU"}
# ops that only backward formulas call: their rows are the rows of the ops whose backward they are
BACKWARD_ONLY = {"ScatterAdd", "ConvWeightGrad", "MaxPoolScatter", "MaxPoolGather", "AvgPoolScatter"}


def concrete_functions():
    """{name: class} of the Functions in tinygrad_edu/ops/ that define or inherit a forward of their own."""
    found = {}
    for info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"{ops.__name__}.{info.name}")
        for name, cls in vars(module).items():
            defined_here = inspect.isclass(cls) and issubclass(cls, Function) and cls.__module__ == module.__name__
            if defined_here and cls.forward is not Function.forward:
                found[name] = cls
    return found


def functions_in(*roots):
    """The classes of every node in the graphs of `roots`."""
    seen, stack, classes = set(), [t for t in roots if t is not None], set()
    while stack:
        fn = stack.pop().grad_fn
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        classes.add(type(fn))
        stack.extend(fn.inputs)
    return classes


def exercised(ours, inputs):
    """The Function classes that `ours(*inputs)` builds, and its backward and second
    backward. The incoming gradients are leaves that require grad too, so that every op
    of the backward formulas is recorded: an op used only there (a scatter, and the
    gather that is its own backward) counts."""
    out, leaves = ours(*inputs), list(inputs)
    classes = functions_in(out)
    for _ in range(2):
        grad_out = Tensor(np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype), requires_grad=True)
        out.backward(grad_out, create_graph=True)
        leaves.append(grad_out)
        grads = [t.grad for t in leaves if t.grad is not None and t.grad.requires_grad]
        classes |= functions_in(*grads)
        if not grads:
            break
        out = sum((g * g).sum() for g in grads)  # the gradients' own graph, differentiated next
        for t in leaves:
            t.grad = None
    return classes


def table_rows():
    """(ours, inputs) for every row of every op table."""
    for case in test_ops.CASES + test_conv.CASES + test_norm.NORM_CASES + test_attention.ATTENTION_CASES:
        yield case.ours, case.tensors()
    for case in test_losses.CASES:
        x, y = case.make(np.random.default_rng(0))
        target = Tensor(y, requires_grad=case.target_grad and np.asarray(y).dtype.kind == "f")
        yield (lambda a, b, case=case: case.ours(a, b, reduction="mean")), [Tensor(x, requires_grad=True), target]


def test_every_op_has_a_row_in_an_op_table():
    in_forward, in_backward = set(), set()
    for ours, inputs in table_rows():
        in_forward |= functions_in(ours(*inputs))
        in_backward |= exercised(ours, inputs)
    missing = sorted(
        name
        for name, cls in concrete_functions().items()
        if name not in EXEMPT and cls not in (in_backward if name in BACKWARD_ONLY else in_forward)
    )
    assert not missing, f"ops without a row in any op table: {missing}"


def test_the_check_would_catch_an_op_without_a_row():
    class Unlisted(Function):
        def forward(self, x):
            return x

    assert Unlisted not in functions_in(*(ours(*inputs) for ours, inputs in list(table_rows())[:3]))
