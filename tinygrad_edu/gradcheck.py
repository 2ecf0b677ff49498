"""Numerical gradient checks: the analytic Jacobian that backward computes against central
differences (f(x + ε) − f(x − ε)) / 2ε, in float64, as PyTorch's gradcheck does."""

import warnings

import numpy as np

from .autograd import enable_grad, no_grad
from .tensor import Tensor, cat


def _gradients(output, inputs, grad_output, create_graph=False):
    """d⟨output, grad_output⟩/d input for each input that requires grad (zeros where no
    gradient arrives), leaving the inputs' own .grad as it was."""
    kept = [t.grad for t in inputs]
    for t in inputs:
        t.grad = None
    try:
        output.backward(grad_output, retain_graph=True, create_graph=create_graph)
        return [t.grad if t.grad is not None else Tensor.zeros_like(t) for t in inputs]
    finally:
        for t, grad in zip(inputs, kept):
            t.grad = grad


def _analytic_jacobians(output, inputs):
    """One (output.size, input.size) matrix per input, a row per backward pass."""
    jacobians = [np.zeros((output.size, t.size)) for t in inputs]
    seed = np.zeros(output.size, dtype=output.dtype)
    for row in range(output.size):
        seed[:] = 0
        seed[row] = 1
        if not output.requires_grad:
            break
        grads = _gradients(output, inputs, Tensor(seed.reshape(output.shape)))
        for jacobian, grad in zip(jacobians, grads):
            jacobian[row] = grad.numpy().ravel()
    return jacobians


def _numerical_jacobians(fn, inputs, eps):
    """One (output.size, input.size) matrix per input, a column per perturbed element."""
    jacobians = []
    with no_grad():
        for t in inputs:
            columns = []
            for k in range(t.size):
                # index the array itself: reshape(-1) of a non-contiguous array is a copy
                element = np.unravel_index(k, t.shape)
                value = t.data[element].item()
                try:
                    t.data[element] = value + eps
                    plus = fn(*inputs).numpy().astype(np.float64).ravel()
                    t.data[element] = value - eps
                    minus = fn(*inputs).numpy().astype(np.float64).ravel()
                finally:  # the input is the caller's: leave it as it was, also when fn raises
                    t.data[element] = value
                columns.append((plus - minus) / (2 * eps))
            jacobians.append(np.stack(columns, axis=1) if columns else np.zeros((0, 0)))
    return jacobians


def _as_tuple(inputs):
    return tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check that backward's gradients of `fn` match numerical ones.

    fn takes Tensors and returns a Tensor; inputs are float64 Tensors (those with
    requires_grad=True are checked). Returns True, or on the first mismatch raises a
    RuntimeError naming the input, the element and both values (returns False when
    raise_exception=False).
    """
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if t.requires_grad and t.dtype != np.float64:
            message = f"gradcheck input {i} is {t.dtype}: use float64, or rounding will swamp the check"
            warnings.warn(message, stacklevel=2)
    output = fn(*inputs)
    try:
        analytic = _analytic_jacobians(output, inputs)
    except RuntimeError:  # backward itself refused, e.g. a custom Function's gradient of the wrong shape
        if raise_exception:
            raise
        return False
    numerical = _numerical_jacobians(fn, inputs, eps)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            continue
        a, n = analytic[i], numerical[i]
        bad = np.argwhere(~(np.abs(a - n) <= atol + rtol * np.abs(n)))
        if len(bad):
            row, column = bad[0]
            # plain ints: NumPy 2 would print the indices as np.int64(0)
            element = tuple(int(k) for k in np.unravel_index(column, t.shape))
            output_element = tuple(int(k) for k in np.unravel_index(row, output.shape))
            message = (
                f"gradcheck: Jacobian mismatch for input {i} (shape {t.shape}) at element "
                f"{element} (output element {output_element}): "
                f"analytic {a[row, column]:.8g}, numerical {n[row, column]:.8g} "
                f"(tolerance atol={atol} + rtol={rtol}·|numerical|)"
            )
            if a.size <= 64:
                message += f"\nanalytic Jacobian:\n{a}\nnumerical Jacobian:\n{n}"
            if raise_exception:
                raise RuntimeError(message)
            return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check second derivatives: gradcheck of x ↦ ∂⟨fn(x), v⟩/∂x, with backward run under
    create_graph=True and v a fixed random gradient (or `grad_outputs`)."""
    inputs = _as_tuple(inputs)
    output = fn(*inputs)
    if grad_outputs is None:
        grad_outputs = Tensor(np.random.default_rng(0).standard_normal(output.shape).astype(output.dtype))
    if not any(t.requires_grad for t in inputs):
        return True

    def first_derivatives(*xs):
        with enable_grad():  # the numerical pass calls this under no_grad
            grads = _gradients(fn(*xs), [x for x in xs if x.requires_grad], grad_outputs, create_graph=True)
        return cat([g.reshape(-1) for g in grads])

    return gradcheck(first_derivatives, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)


def _named_inputs(inputs):
    """(labels, names, tensors): labels "input 0", or "input 0 (w)" where inputs is a dict
    of name to tensor, as draw_graph's params= is; names None for a sequence."""
    if isinstance(inputs, dict):
        names = [str(name) for name in inputs]
        return [f"input {i} ({name})" for i, name in enumerate(names)], names, list(inputs.values())
    tensors = _as_tuple(inputs)
    return [f"input {i}" for i in range(len(tensors))], None, tensors


def _float64_leaf(label, t):
    """A float64 copy of input t that requires grad: the referee needs float64, and the
    caller's tensor and its .grad stay as they were."""
    if not isinstance(t, Tensor):
        raise TypeError(f"handcheck {label} must be a Tensor, got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise TypeError(
            f"handcheck {label} is {t.dtype}: the inputs are the floating tensors to differentiate; "
            "use the others inside fn"
        )
    return Tensor(t.numpy().astype(np.float64), requires_grad=True)


def _scalar_output(fn, leaves):
    with enable_grad():  # also when handcheck is called under no_grad
        output = fn(*leaves)
    if not isinstance(output, Tensor):
        raise TypeError(f"handcheck: fn must return a scalar Tensor, got {type(output).__name__}")
    if output.size != 1:
        raise ValueError(
            f"handcheck: fn must return a scalar Tensor (one element), got shape {output.shape}: "
            "reduce it, for example with .sum() or .mean()"
        )
    return output


def _autograd_gradients(output, leaves):
    """The gradient of the output with respect to each leaf, by backward (zeros where the
    output does not depend on it), as float64 arrays."""
    if output.requires_grad:
        output.backward()
    return [np.zeros(t.shape) if t.grad is None else t.grad.numpy().astype(np.float64) for t in leaves]


def _hand_gradients(by_hand, labels, names, leaves):
    """by_hand's gradients, one float64 array per input, each checked against its input's shape."""
    arrays = [t.numpy().copy() for t in leaves]  # copies: by_hand may change its arguments
    returned = by_hand(*arrays)
    if isinstance(returned, dict) and names is not None:
        if sorted(map(str, returned)) != sorted(names):
            raise ValueError(f"by_hand returned gradients for {list(returned)}, expected one for each of {names}")
        returned = [returned[name] for name in names]
    elif len(leaves) == 1 and not (isinstance(returned, tuple) and len(returned) == 1):
        returned = [returned]  # a bare array for a single input
    if returned is None or not isinstance(returned, (tuple, list)):
        raise TypeError(f"by_hand must return one array per input ({len(leaves)}), got {type(returned).__name__}")
    if len(returned) != len(leaves):
        raise ValueError(f"by_hand must return one array per input ({len(leaves)}), got {len(returned)}")
    grads = []
    for label, leaf, grad in zip(labels, leaves, returned):
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != leaf.shape:
            raise ValueError(
                f"by_hand's gradient for {label} has shape {grad.shape}, expected {leaf.shape} (the input's shape)"
            )
        grads.append(grad)
    return grads


def _worst_mismatch(hand, autograd, atol, rtol):
    """(input number, element, how many elements differ) of the element furthest outside
    the tolerance, in multiples of it; None where every element is within it."""
    worst, worst_ratio, count = None, -1.0, 0
    for i, (h, a) in enumerate(zip(hand, autograd)):
        difference, tolerance = np.abs(h - a), atol + rtol * np.abs(a)
        bad = ~(difference <= tolerance)  # NaN compares False, so a NaN is a mismatch
        if not bad.any():
            continue
        count += int(bad.sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(bad, np.nan_to_num(difference / tolerance, nan=np.inf, posinf=np.inf), -1.0)
        k = int(np.argmax(ratio))
        if ratio.flat[k] > worst_ratio:
            worst, worst_ratio = (i, tuple(int(j) for j in np.unravel_index(k, h.shape))), ratio.flat[k]
    return None if worst is None else (*worst, count)


def _central_difference(fn, leaves, i, element, eps=1e-6):
    """(fn(x + ε eₖ) − fn(x − ε eₖ)) / 2ε for element k of input i, in float64."""
    data = leaves[i].data
    value = data[element].item()
    try:
        with no_grad():
            data[element] = value + eps
            plus = fn(*leaves).item()
            data[element] = value - eps
            minus = fn(*leaves).item()
    finally:
        data[element] = value
    return (plus - minus) / (2 * eps)


def _verdict(by_hand, autograd, numerical, atol, rtol):
    """Which two of the three values agree, as a sentence: the one closer to the
    numerical referee agrees with it, if it is within the tolerance."""
    tolerance = atol + rtol * abs(numerical)
    off_autograd, off_hand = abs(autograd - numerical), abs(by_hand - numerical)
    if off_autograd <= off_hand and off_autograd <= tolerance:
        return "autograd and numerical agree: the derivation by hand differs"
    if off_hand < off_autograd and off_hand <= tolerance:
        return "by hand and numerical agree: autograd differs (a backward is wrong, or fn is not smooth here)"
    return "none of the three agree: check the derivation and fn (is fn smooth at this point?)"


def handcheck(fn, inputs, by_hand, atol=1e-6, rtol=1e-4, raise_exception=True):
    """Check a gradient derived by hand against autograd, with central differences as referee.

    fn takes the input Tensors and returns a scalar Tensor. inputs is a Tensor, a sequence
    of them, or a dict of name to Tensor (as draw_graph's params=): fn and by_hand then get
    them in the dict's order, and the report names them. Each input is copied to a float64
    leaf that requires grad, so the referee is exact and the caller's tensors and their
    .grad are left alone. by_hand takes the inputs as float64 NumPy arrays and returns one
    array per input, of its shape (a bare array for a single input; a dict by name too).

    Passes, returning True, where |by hand − autograd| <= atol + rtol·|autograd| for every
    element. Otherwise raises a RuntimeError (returns False with raise_exception=False)
    naming the input and the element of the worst mismatch, with the three values there,
    by hand, autograd and numerical ((f(x + ε) − f(x − ε)) / 2ε, ε = 1e-6, in float64),
    and which two agree.
    """
    labels, names, tensors = _named_inputs(inputs)
    leaves = [_float64_leaf(label, t) for label, t in zip(labels, tensors)]
    autograd = _autograd_gradients(_scalar_output(fn, leaves), leaves)
    hand = _hand_gradients(by_hand, labels, names, leaves)
    worst = _worst_mismatch(hand, autograd, atol, rtol)
    if worst is None:
        return True
    i, element, count = worst
    values = hand[i][element].item(), autograd[i][element].item(), _central_difference(fn, leaves, i, element)
    label, shape = labels[i], leaves[i].shape
    where = f"at element {element}" if shape else "(a scalar)"
    most = "; this one most" if count > 1 else ""
    message = (
        f"handcheck: by hand and autograd differ for {label} of shape {shape} {where} "
        f"({count} of {sum(h.size for h in hand)} elements differ{most}):\n"
        + "".join(f"  {name:<10} {value:.6g}\n" for name, value in zip(("by hand", "autograd", "numerical"), values))
        + _verdict(*values, atol, rtol)
        + f"\n(it passes where |by hand − autograd| <= atol + rtol·|autograd|, atol={atol:g}, rtol={rtol:g})"
    )
    if raise_exception:
        raise RuntimeError(message)
    return False
