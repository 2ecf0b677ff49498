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

