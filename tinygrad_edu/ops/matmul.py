"""Matrix products: matmul (1-D, 2-D and batched, NumPy's rules) and the fused Linear layer."""

from ..autograd import Function
from .shapes import as_rows, unbroadcast


def check_matmul_shapes(a_shape, b_shape):
    """ValueError naming both shapes unless their inner dimensions agree."""
    if not a_shape or not b_shape:
        raise ValueError(f"matmul needs tensors with at least one dimension, got shapes {a_shape} and {b_shape}")
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if a_shape[-1] != inner_b:
        raise ValueError(
            f"matmul: shapes {a_shape} and {b_shape} cannot be multiplied "
            f"({a_shape[-1]} columns against {inner_b} rows)"
        )


class MatMul(Function):
    """A @ B. A 1-D operand acts as a row (left) or column (right) vector; leading axes
    broadcast as batches."""

    formula = "∂/∂A = G Bᵀ, ∂/∂B = Aᵀ G"
    reads = ("inputs",)

    def forward(self, a, b):
        try:
            return a @ b
        except ValueError:
            check_matmul_shapes(a.shape, b.shape)  # NumPy's message names no shapes: ours does
            raise

    def backward(self, grad):
        a, b = self.inputs
        # view vectors as matrices so that one pair of formulas covers every case
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
        g2 = grad.reshape(grad.shape + (1,)) if b.ndim == 1 else grad
        g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:]) if a.ndim == 1 else g2
        grad_a = unbroadcast(g2 @ b2.transpose(), a2.shape).reshape(a.shape) if a.requires_grad else None
        grad_b = unbroadcast(a2.transpose() @ g2, b2.shape).reshape(b.shape) if b.requires_grad else None
        return grad_a, grad_b


class Linear(Function):
    """y = x Wᵀ + b, fused: x (..., in), W (out, in), b (out,) or absent; y (..., out).

    One GEMM with the bias added in place into its output; BLAS reads Wᵀ without a copy.
    The leading axes of x are taken as rows of one matrix (N, in): one large GEMM runs a
    fifth faster than NumPy's loop of a GEMM per leading index. Its plain composition is
    `x @ weight.transpose() + bias` (tests/test_fused.py holds the two equal, values and
    gradients).
    """

    formula = "∂/∂x = G W, ∂/∂W = Gᵀ x, ∂/∂b = Σ G"
    reads = ("inputs",)

    def forward(self, x, weight, bias=None):
        if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
            check_matmul_shapes(x.shape, weight.shape[::-1])
        out = as_rows(x) @ weight.T
        if bias is not None:
            out += bias
        return out.reshape(x.shape[:-1] + weight.shape[:1])

    def backward(self, grad):
        x, weight, *bias = self.inputs
        grad_rows = as_rows(grad)
        # the bias's sum first, while the incoming gradient is still in the cache
        grad_bias = grad_rows.sum(axis=0) if bias and bias[0].requires_grad else None
        grad_x = (grad_rows @ weight).reshape(x.shape) if x.requires_grad else None
        grad_weight = grad_rows.transpose() @ as_rows(x) if weight.requires_grad else None
        return (grad_x, grad_weight, grad_bias) if bias else (grad_x, grad_weight)
