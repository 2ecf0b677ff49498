"""The op table: every differentiable op of the core in one list, checked three ways.

Each entry says how to call the op here and in PyTorch, and how to draw its inputs. The
same table drives
- `tg.gradcheck` in float64 (backward against central differences) for every entry,
- `tg.gradgradcheck` (second derivatives through `create_graph=True`) for the smooth ones,
- PyTorch as an oracle: forward values and the gradients of ⟨out, G⟩ for a random G.
The numerics of the saturating ops (sigmoid, softmax, log_softmax, logsumexp) at huge
inputs are checked at the end.

Inputs of ops with kinks (abs, relu, clip, maximum, max, ...) are drawn away from the
kinks, so that a finite difference never straddles one and ties never occur.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.ops.matmul import Linear


# ---------------------------------------------------------------------- input samplers
def normal(*shape):
    """x ~ N(0, 1)"""
    return lambda rng: rng.standard_normal(shape)


def positive(*shape):
    """x ~ U(0.5, 2): inside the domain of log, sqrt, a ** b and 1 / x"""
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def away(*shape, kinks=(0.0,)):
    """x ~ U(-2, 2), redrawn where it lies within 0.1 of a kink"""

    def sample(rng):
        x = rng.uniform(-2.0, 2.0, shape)
        near = np.zeros(shape, dtype=bool)
        for _ in range(100):
            near = np.any([np.abs(x - k) < 0.1 for k in kinks], axis=0)
            if not near.any():
                return x
            x = np.where(near, rng.uniform(-2.0, 2.0, shape), x)
        raise AssertionError("could not draw inputs away from the kinks")

    return sample


def grid(*shape, offset=0.0):
    """multiples of 0.2 plus `offset`, jittered by at most 0.02: two grids with offsets 0
    and 0.1 never come closer than 0.06, so maximum/minimum never tie"""
    return lambda rng: rng.integers(-5, 6, shape) * 0.2 + offset + rng.uniform(-0.02, 0.02, shape)


def distinct(*shape):
    """all values at least 0.06 apart (a shuffled grid), so max/min have no ties"""
    return lambda rng: rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0 + rng.uniform(-0.02, 0.02, shape)


# ---------------------------------------------------------------------- the table
@dataclass(frozen=True)
class OpCase:
    name: str
    ours: object  # (*Tensors) -> Tensor
    theirs: object  # (torch, *torch tensors) -> torch tensor
    inputs: tuple  # one sampler per input: rng -> float64 array
    smooth: bool = True  # gradgradcheck only where second derivatives exist everywhere sampled
    eps: float = 1e-6  # the finite-difference step of gradcheck

    def arrays(self, seed=0):
        rng = np.random.default_rng(seed)
        return [sample(rng) for sample in self.inputs]

    def tensors(self, seed=0):
        return [Tensor(a, requires_grad=True) for a in self.arrays(seed)]


# constants of the ops that take non-differentiable arguments (a condition, indices, a mask)
CONDITION = np.random.default_rng(1).random((3, 4)) > 0.5
MASK = np.random.default_rng(2).random((3, 4)) > 0.4
ROWS = [2, 0, 2, 1, 2]  # with repeats: their gradients add up
COLUMNS = [3, 3, 0, 1, 3]


def _dims(axis, ndim):
    """PyTorch's `dim` for our `axis`: every axis when None."""
    return tuple(range(ndim)) if axis is None else axis


def reduction_cases():
    """sum, mean, max, min, var and logsumexp over every kind of axis, with and without keepdims."""
    axes = [(None, False), (None, True), (1, False), (-1, True), ((0, 2), False), ((-1, -3), True)]
    ops = [
        ("sum", lambda x, a, k: x.sum(a, k), lambda torch, x, a, k: x.sum(_dims(a, x.ndim), keepdim=k), True),
        ("mean", lambda x, a, k: x.mean(a, k), lambda torch, x, a, k: x.mean(_dims(a, x.ndim), keepdim=k), True),
        ("max", lambda x, a, k: x.max(a, k), lambda torch, x, a, k: x.amax(_dims(a, x.ndim), keepdim=k), False),
        ("min", lambda x, a, k: x.min(a, k), lambda torch, x, a, k: x.amin(_dims(a, x.ndim), keepdim=k), False),
        (
            "logsumexp",
            lambda x, a, k: x.logsumexp(a, k),
            lambda torch, x, a, k: torch.logsumexp(x, _dims(a, x.ndim), keepdim=k),
            True,
        ),
    ]
    cases = []
    for name, ours, theirs, smooth in ops:
        for axis, keepdims in axes:
            cases.append(
                OpCase(
                    f"{name}-axis={axis}-keepdims={keepdims}",
                    lambda x, o=ours, a=axis, k=keepdims: o(x, a, k),
                    lambda torch, x, t=theirs, a=axis, k=keepdims: t(torch, x, a, k),
                    (distinct(2, 3, 4),),
                    smooth=smooth,
                )
            )
    for correction in (0, 1):
        for axis, keepdims in axes:
            cases.append(
                OpCase(
                    f"var-correction={correction}-axis={axis}-keepdims={keepdims}",
                    lambda x, a=axis, k=keepdims, c=correction: x.var(a, k, correction=c),
                    lambda torch, x, a=axis, k=keepdims, c=correction: torch.var(
                        x, _dims(a, x.ndim), correction=c, keepdim=k
                    ),
                    (normal(2, 3, 4),),
                )
            )
    return cases


CASES = [
    # binary pointwise ops, broadcasting
    OpCase("add", lambda a, b: a + b, lambda torch, a, b: a + b, (normal(2, 3), normal(2, 3))),
    OpCase("add-broadcast", lambda a, b: a + b, lambda torch, a, b: a + b, (normal(3, 1, 4), normal(2, 4))),
    OpCase("add-0d", lambda a, b: a + b, lambda torch, a, b: a + b, (normal(), normal(2, 3))),
    OpCase("add-scalar", lambda a: a + 2.5, lambda torch, a: a + 2.5, (normal(2, 3),)),
    OpCase("radd-scalar", lambda a: 2.5 + a, lambda torch, a: 2.5 + a, (normal(2, 3),)),
    OpCase("sub-broadcast", lambda a, b: a - b, lambda torch, a, b: a - b, (normal(2, 3), normal(3))),
    OpCase("rsub-scalar", lambda a: 1.5 - a, lambda torch, a: 1.5 - a, (normal(2, 3),)),
    OpCase("mul-broadcast", lambda a, b: a * b, lambda torch, a, b: a * b, (normal(4, 1), normal(1, 3))),
    OpCase("rmul-scalar", lambda a: 3 * a, lambda torch, a: 3 * a, (normal(2, 3),)),
    OpCase("div-broadcast", lambda a, b: a / b, lambda torch, a, b: a / b, (normal(2, 3), positive(2, 1))),
    OpCase("rdiv-scalar", lambda a: 2 / a, lambda torch, a: 2 / a, (positive(2, 3),)),
    OpCase("pow-tensor-exponent", lambda a, b: a**b, lambda torch, a, b: a**b, (positive(2, 3), normal(3))),
    OpCase("pow-3", lambda a: a**3, lambda torch, a: a**3, (normal(2, 3),)),
    OpCase("pow-0.5", lambda a: a**0.5, lambda torch, a: a**0.5, (positive(2, 3),)),
    OpCase("pow-minus-2", lambda a: a**-2, lambda torch, a: a**-2, (away(2, 3),)),
    OpCase("rpow", lambda a: 2.0**a, lambda torch, a: 2.0**a, (normal(2, 3),)),
    OpCase(
        "maximum-broadcast",
        lambda a, b: a.maximum(b),
        lambda torch, a, b: torch.maximum(a, b),
        (grid(2, 3), grid(3, offset=0.1)),
        smooth=False,
    ),
    OpCase(
        "minimum-broadcast",
        lambda a, b: a.minimum(b),
        lambda torch, a, b: torch.minimum(a, b),
        (grid(3, 1), grid(1, 4, offset=0.1)),
        smooth=False,
    ),
    OpCase(
        "where-broadcast",
        lambda a, b: tg.where(CONDITION, a, b),
        lambda torch, a, b: torch.where(torch.from_numpy(CONDITION), a, b),
        (normal(3, 4), normal(4)),
    ),
    OpCase(
        "where-scalar",
        lambda a: tg.where(Tensor(CONDITION), a, 0.0),
        lambda torch, a: torch.where(torch.from_numpy(CONDITION), a, 0.0),
        (normal(3, 4),),
    ),
    # unary pointwise ops
    OpCase("neg", lambda x: -x, lambda torch, x: -x, (normal(2, 3),)),
    OpCase("exp", lambda x: x.exp(), lambda torch, x: x.exp(), (normal(2, 3),)),
    OpCase("log", lambda x: x.log(), lambda torch, x: x.log(), (positive(2, 3),)),
    OpCase("sqrt", lambda x: x.sqrt(), lambda torch, x: x.sqrt(), (positive(2, 3),)),
    OpCase("abs", lambda x: x.abs(), lambda torch, x: x.abs(), (away(2, 3),), smooth=False),
    OpCase("sigmoid", lambda x: x.sigmoid(), lambda torch, x: x.sigmoid(), (normal(2, 3),)),
    OpCase("tanh", lambda x: x.tanh(), lambda torch, x: x.tanh(), (normal(2, 3),)),
    OpCase("relu", lambda x: x.relu(), lambda torch, x: x.relu(), (away(2, 3),), smooth=False),
    # PyTorch's heaviside has no backward: 0·x gives the step's zero gradient
    OpCase("sign", lambda x: x.sign(), lambda torch, x: x.sign(), (away(2, 3),), smooth=False),
    OpCase("clone", lambda x: x.clone(), lambda torch, x: x.clone(), (normal(2, 3),)),
    OpCase("step", lambda x: x.step(), lambda torch, x: (x >= 0).to(x.dtype) + 0 * x, (away(2, 3),), smooth=False),
    OpCase(
        "clip-both",
        lambda x: x.clip(-0.5, 0.5),
        lambda torch, x: x.clamp(-0.5, 0.5),
        (away(2, 3, kinks=(-0.5, 0.5)),),
        smooth=False,
    ),
    OpCase(
        "clip-min",
        lambda x: x.clip(min=-0.5),
        lambda torch, x: x.clamp(min=-0.5),
        (away(2, 3, kinks=(-0.5,)),),
        smooth=False,
    ),
    OpCase(
        "clip-max",
        lambda x: x.clip(max=0.5),
        lambda torch, x: x.clamp(max=0.5),
        (away(2, 3, kinks=(0.5,)),),
        smooth=False,
    ),
    # reductions
    *reduction_cases(),
    OpCase("softmax", lambda x: x.softmax(), lambda torch, x: x.softmax(-1), (normal(2, 3, 4),)),
    OpCase("softmax-axis0", lambda x: x.softmax(0), lambda torch, x: x.softmax(0), (normal(2, 3, 4),)),
    OpCase("log_softmax", lambda x: x.log_softmax(), lambda torch, x: x.log_softmax(-1), (normal(2, 3, 4),)),
    OpCase("log_softmax-axis1", lambda x: x.log_softmax(1), lambda torch, x: x.log_softmax(1), (normal(2, 3, 4),)),
    # movement
    OpCase("reshape", lambda x: x.reshape(6, 4), lambda torch, x: x.reshape(6, 4), (normal(2, 3, 4),)),
    OpCase("reshape-tuple", lambda x: x.reshape((4, -1)), lambda torch, x: x.reshape(4, -1), (normal(2, 3, 4),)),
    OpCase("transpose", lambda x: x.transpose(), lambda torch, x: x.transpose(-2, -1), (normal(2, 3, 4),)),
    OpCase("transpose-0-2", lambda x: x.transpose(0, 2), lambda torch, x: x.transpose(0, 2), (normal(2, 3, 4),)),
    OpCase("permute", lambda x: x.permute(2, 0, 1), lambda torch, x: x.permute(2, 0, 1), (normal(2, 3, 4),)),
    OpCase("permute-negative", lambda x: x.permute(-1, 0, -2), lambda torch, x: x.permute(2, 0, 1), (normal(2, 3, 4),)),
    OpCase("T", lambda x: x.T, lambda torch, x: x.permute(2, 1, 0), (normal(2, 3, 4),)),
    OpCase("flatten", lambda x: x.flatten(), lambda torch, x: x.flatten(), (normal(2, 3, 4),)),
    OpCase("flatten-1", lambda x: x.flatten(1), lambda torch, x: x.flatten(1), (normal(2, 3, 4),)),
    OpCase("squeeze", lambda x: x.squeeze(), lambda torch, x: x.squeeze(), (normal(2, 1, 3, 1),)),
    OpCase("squeeze-axis", lambda x: x.squeeze(-1), lambda torch, x: x.squeeze(-1), (normal(2, 1, 3, 1),)),
    OpCase("unsqueeze", lambda x: x.unsqueeze(0), lambda torch, x: x.unsqueeze(0), (normal(2, 3),)),
    OpCase("unsqueeze-last", lambda x: x.unsqueeze(-1), lambda torch, x: x.unsqueeze(-1), (normal(2, 3),)),
    OpCase("expand", lambda x: x.expand(2, 3, 4), lambda torch, x: x.expand(2, 3, 4), (normal(3, 1),)),
    OpCase("expand-minus-1", lambda x: x.expand((-1, 4)), lambda torch, x: x.expand(-1, 4), (normal(3, 1),)),
    OpCase("getitem-slices", lambda x: x[1:, ::2], lambda torch, x: x[1:, ::2], (normal(3, 4),)),
    OpCase("getitem-int", lambda x: x[0, 1:], lambda torch, x: x[0, 1:], (normal(3, 4),)),
    OpCase("getitem-ellipsis", lambda x: x[..., -1], lambda torch, x: x[..., -1], (normal(2, 3, 4),)),
    OpCase("getitem-repeats", lambda x: x[ROWS], lambda torch, x: x[ROWS], (normal(3, 4),)),
    OpCase(
        "getitem-pairs",
        lambda x: x[ROWS, COLUMNS],
        lambda torch, x: x[ROWS, COLUMNS],
        (normal(3, 4),),
    ),
    OpCase("getitem-mask", lambda x: x[MASK], lambda torch, x: x[torch.from_numpy(MASK)], (normal(3, 4),)),
    OpCase(
        "getitem-mask-tensor",
        lambda x: x[Tensor(MASK)],
        lambda torch, x: x[torch.from_numpy(MASK)],
        (normal(3, 4),),
    ),
    OpCase("cat", lambda a, b: tg.cat([a, b]), lambda torch, a, b: torch.cat([a, b]), (normal(2, 3), normal(1, 3))),
    OpCase(
        "cat-last-axis",
        lambda a, b, c: tg.cat([a, b, c], axis=-1),
        lambda torch, a, b, c: torch.cat([a, b, c], dim=-1),
        (normal(2, 1), normal(2, 3), normal(2, 2)),
    ),
    OpCase(
        "stack", lambda a, b: tg.stack([a, b]), lambda torch, a, b: torch.stack([a, b]), (normal(2, 3), normal(2, 3))
    ),
    OpCase(
        "stack-last-axis",
        lambda a, b, c: tg.stack([a, b, c], axis=-1),
        lambda torch, a, b, c: torch.stack([a, b, c], dim=-1),
        (normal(2, 3), normal(2, 3), normal(2, 3)),
    ),
    # matrix products
    OpCase("matmul-1d-1d", lambda a, b: a @ b, lambda torch, a, b: a @ b, (normal(4), normal(4))),
    OpCase("matmul-1d-2d", lambda a, b: a @ b, lambda torch, a, b: a @ b, (normal(4), normal(4, 3))),
    OpCase("matmul-2d-1d", lambda a, b: a @ b, lambda torch, a, b: a @ b, (normal(3, 4), normal(4))),
    OpCase("matmul-2d-2d", lambda a, b: a.matmul(b), lambda torch, a, b: a @ b, (normal(2, 4), normal(4, 3))),
    OpCase(
        "matmul-batched-broadcast", lambda a, b: a @ b, lambda torch, a, b: a @ b, (normal(2, 1, 3, 4), normal(5, 4, 2))
    ),
    OpCase("matmul-1d-batched", lambda a, b: a @ b, lambda torch, a, b: a @ b, (normal(4), normal(2, 4, 3))),
    OpCase("matmul-batched-1d", lambda a, b: a @ b, lambda torch, a, b: a @ b, (normal(2, 3, 4), normal(4))),
    OpCase(
        "linear",
        lambda x, w, b: Linear.apply(x, w, b),
        lambda torch, x, w, b: torch.nn.functional.linear(x, w, b),
        (normal(5, 4), normal(3, 4), normal(3)),
    ),
    OpCase(
        "linear-no-bias",
        lambda x, w: Linear.apply(x, w),
        lambda torch, x, w: torch.nn.functional.linear(x, w),
        (normal(5, 4), normal(3, 4)),
    ),
    OpCase(
        "linear-batched",
        lambda x, w, b: Linear.apply(x, w, b),
        lambda torch, x, w, b: torch.nn.functional.linear(x, w, b),
        (normal(2, 3, 4), normal(2, 4), normal(2)),
    ),
    OpCase(
        "linear-1d-input",
        lambda x, w, b: Linear.apply(x, w, b),
        lambda torch, x, w, b: torch.nn.functional.linear(x, w, b),
        (normal(4), normal(3, 4), normal(3)),
    ),
    # dtype: through float32 and back; a larger step, since float32 rounds at about 6e-8
    OpCase(
        "astype-float32",
        lambda x: x.astype(np.float32) * 2,
        lambda torch, x: x.float() * 2,
        (normal(2, 3),),
        eps=1e-3,
    ),
]


def _ids(cases):
    return [case.name for case in cases]


def test_table_names_are_unique():
    names = _ids(CASES)
    assert len(names) == len(set(names)), "two entries of the op table share a name"


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_gradcheck(case):
    assert tg.gradcheck(case.ours, case.tensors(), eps=case.eps)


SMOOTH = [case for case in CASES if case.smooth]


@pytest.mark.parametrize("case", SMOOTH, ids=_ids(SMOOTH))
def test_gradgradcheck(case):
    assert tg.gradgradcheck(case.ours, case.tensors(), eps=case.eps)


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_matches_torch(case, torch):
    arrays = case.arrays(seed=3)
    ours_inputs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]

    out = case.ours(*ours_inputs)
    expected = case.theirs(torch, *theirs_inputs)

    assert out.shape == tuple(expected.shape), f"{case.name}: shape {out.shape}, PyTorch {tuple(expected.shape)}"
    assert out.dtype == np.dtype(str(expected.dtype).removeprefix("torch.")), f"{case.name}: dtype {out.dtype}"
    rtol = 1e-6 if out.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=1e-12, err_msg=case.name)

    grad_out = np.random.default_rng(4).standard_normal(out.shape).astype(out.dtype)
    out.backward(Tensor(grad_out))
    expected.backward(torch.from_numpy(grad_out))
    for i, (ours, theirs) in enumerate(zip(ours_inputs, theirs_inputs)):
        assert ours.grad is not None, f"{case.name}: input {i} got no gradient"
        assert ours.grad.shape == ours.shape, f"{case.name}: gradient {i} has shape {ours.grad.shape}"
        assert ours.grad.dtype == np.float64, f"{case.name}: gradient {i} is {ours.grad.dtype}"
        np.testing.assert_allclose(
            ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"{case.name}: input {i}"
        )


# ---------------------------------------------------------------------- numerics at extreme inputs
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_saturates_without_overflow_or_warnings(dtype):
    """σ(−1000) = 0 and σ(1000) = 1 exactly, with σ' = 0: e^1000 must never be formed."""
    x = Tensor(np.array([-1000.0, 0.0, 1000.0], dtype=dtype), requires_grad=True)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.sigmoid()
        y.sum().backward()
    assert y.tolist() == [0.0, 0.5, 1.0]
    assert x.grad.tolist() == [0.0, 0.25, 0.0]


LARGE_LOGITS = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4 + 2.0, -1e4 + 1.0]])


def stable_log_softmax(z):
    """log softmax by the textbook shift, in NumPy"""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_is_finite_at_logits_of_ten_thousand(dtype):
    # e^(−2e4) underflows to 0, as it should; overflow, 0/0 and log 0 must not happen
    quiet_underflow = np.errstate(over="raise", invalid="raise", divide="raise", under="ignore")
    logits = Tensor(LARGE_LOGITS.astype(dtype), requires_grad=True)
    with quiet_underflow, warnings.catch_warnings():
        warnings.simplefilter("error")
        probs = logits.softmax()
        log_probs = logits.log_softmax()
        lse = logits.logsumexp(axis=-1)
        (probs.sum() + log_probs.sum() + lse.sum()).backward()
    expected = stable_log_softmax(LARGE_LOGITS)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(log_probs.numpy(), expected, rtol=rtol)
    np.testing.assert_allclose(probs.numpy(), np.exp(expected), rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(lse.numpy(), (LARGE_LOGITS - expected)[:, 0], rtol=rtol)
    assert np.all(np.isfinite(logits.grad.numpy()))


# ---------------------------------------------------------------------- gradients at kinks and ties
def test_tied_maxima_share_the_gradient_equally():
    """max over axis 1 of [[1, 3, 3], [2, 2, 2]]: the row maxima are tied 2 and 3 ways"""
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 1 / 2, 1 / 2], [1 / 3, 1 / 3, 1 / 3]])
    x.zero_grad()
    x.min(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_maximum_and_minimum_split_a_tie_in_half():
    a, b = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True), Tensor(np.array([1.0, 0.0, 4.0]), requires_grad=True)
    (a.maximum(b) + 10 * a.minimum(b)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5 + 5, 1, 10])
    np.testing.assert_allclose(b.grad.numpy(), [0.5 + 5, 10, 1])


KINKS = {  # ops evaluated exactly at their kinks and ties
    "relu": (lambda x: x.relu(), lambda torch, x: x.relu()),
    "abs": (lambda x: x.abs(), lambda torch, x: x.abs()),
    "clip": (lambda x: x.clip(-1.0, 1.0), lambda torch, x: x.clamp(-1.0, 1.0)),
    "max": (lambda x: x.max(), lambda torch, x: x.amax()),
    "max-axis": (lambda x: x.reshape(2, 3).max(axis=0), lambda torch, x: x.reshape(2, 3).amax(0)),
    "min": (lambda x: x.min(), lambda torch, x: x.amin()),
    "maximum": (lambda x: x.maximum(x[::-1]), lambda torch, x: torch.maximum(x, x.flip(0))),
}
AT_KINKS = np.array([-1.0, 0.0, 1.0, 1.0, 0.0, -1.0])


@pytest.mark.oracle
@pytest.mark.parametrize("name", list(KINKS))
def test_gradients_at_kinks_follow_pytorch(name, torch):
    ours, theirs = KINKS[name]
    x = Tensor(AT_KINKS.copy(), requires_grad=True)
    x_torch = torch.tensor(AT_KINKS, requires_grad=True)
    ours(x).sum().backward()
    theirs(torch, x_torch).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x_torch.grad.numpy(), err_msg=name)


@pytest.mark.parametrize("shape", [(), (5,), (2, 5), (3, 1, 5)])
def test_relu_keeps_infinities_nan_and_shape(shape):
    """relu(−inf) = 0, relu(inf) = inf, relu(nan) = nan, on every shape (a 0-d input too)."""
    values = np.resize(np.array([-np.inf, np.inf, np.nan, 0.0, -2.5], np.float32), shape)
    x = Tensor(values, requires_grad=True)
    y = x.relu()
    expected = np.where(np.isnan(values), np.nan, np.where(values > 0, values, 0)).astype(np.float32)
    assert y.shape == shape and y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), expected)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (values > 0).astype(np.float32))
