"""F.scaled_dot_product_attention: softmax(Q Kᵀ·scale + mask) V with PyTorch's signature.

The op table `ATTENTION_CASES` (test_ops' OpCase rows) drives gradcheck in float64,
gradgradcheck and PyTorch as the oracle through test_ops' own checks, and joins
test_cuda's table; then masks, causality, a query that may attend nothing, dropout and
the errors, by hand and against PyTorch.
"""

import math

import numpy as np
import pytest
import test_ops
from hypothesis import given
from hypothesis import strategies as st
from test_ops import OpCase, normal

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor

attention = F.scaled_dot_product_attention

# masks over (L, S) = (4, 6); the bool one forbids every key to query 2
BOOL_MASK = np.random.default_rng(11).random((4, 6)) > 0.4
BOOL_MASK[2] = False
BOOL_MASK[0, 0] = True
FLOAT_MASK = np.where(
    np.random.default_rng(12).random((4, 6)) > 0.3, np.random.default_rng(13).standard_normal((4, 6)), -np.inf
)
FLOAT_MASK[:, 1] = 0.5  # every query may attend key 1


def _theirs(**kwargs):
    """PyTorch's attention with the numpy masks above turned into torch tensors."""

    def call(torch, q, k, v):
        options = {name: torch.from_numpy(value) if name == "attn_mask" else value for name, value in kwargs.items()}
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, **options)

    return call


ATTENTION_CASES = [
    OpCase(
        "attention",
        lambda q, k, v: attention(q, k, v),
        _theirs(),
        (normal(2, 4, 3), normal(2, 6, 3), normal(2, 6, 5)),
    ),
    OpCase(
        "attention-heads",
        lambda q, k, v: attention(q, k, v),
        _theirs(),
        (normal(2, 3, 4, 2), normal(2, 3, 5, 2), normal(2, 3, 5, 3)),
    ),
    OpCase(
        "attention-broadcast-batch",
        lambda q, k, v: attention(q, k, v),
        _theirs(),
        (normal(2, 3, 4), normal(1, 5, 4), normal(1, 5, 2)),
    ),
    OpCase(
        "attention-bool-mask-with-a-blocked-query",
        lambda q, k, v: attention(q, k, v, attn_mask=BOOL_MASK),
        _theirs(attn_mask=BOOL_MASK),
        (normal(2, 4, 3), normal(2, 6, 3), normal(2, 6, 2)),
    ),
    OpCase(
        "attention-float-mask",
        lambda q, k, v: attention(q, k, v, attn_mask=Tensor(FLOAT_MASK, device=q.device)),
        _theirs(attn_mask=FLOAT_MASK),
        (normal(2, 4, 3), normal(2, 6, 3), normal(2, 6, 2)),
    ),
    OpCase(
        "attention-causal",
        lambda q, k, v: attention(q, k, v, is_causal=True),
        _theirs(is_causal=True),
        (normal(2, 5, 3), normal(2, 5, 3), normal(2, 5, 4)),
    ),
    OpCase(
        "attention-causal-more-keys",
        lambda q, k, v: attention(q, k, v, is_causal=True),
        _theirs(is_causal=True),
        (normal(3, 2), normal(5, 2), normal(5, 3)),
    ),
    OpCase(
        "attention-scale",
        lambda q, k, v: attention(q, k, v, scale=0.3),
        _theirs(scale=0.3),
        (normal(4, 3), normal(6, 3), normal(6, 2)),
    ),
]


def _ids(cases):
    return [case.name for case in cases]


def test_table_names_are_unique_and_new():
    names = _ids(ATTENTION_CASES)
    assert len(names) == len(set(names)), "two rows of the attention table share a name"
    assert not set(names) & set(_ids(test_ops.CASES)), "an attention row shares its name with a core row"


@pytest.mark.parametrize("case", ATTENTION_CASES, ids=_ids(ATTENTION_CASES))
def test_gradcheck(case):
    test_ops.test_gradcheck(case)


@pytest.mark.parametrize("case", ATTENTION_CASES, ids=_ids(ATTENTION_CASES))
def test_gradgradcheck(case):
    test_ops.test_gradgradcheck(case)


@pytest.mark.oracle
@pytest.mark.parametrize("case", ATTENTION_CASES, ids=_ids(ATTENTION_CASES))
def test_matches_torch(case, torch):
    test_ops.test_matches_torch(case, torch)


# ---------------------------------------------------------------------- by hand
def test_one_query_by_hand():
    """q = [1, 0] against keys [1, 0] and [0, 1], scale 1: scores [1, 0], weights
    [e, 1]/(e + 1), so the output is (e·v₀ + v₁)/(e + 1)."""
    q, k = Tensor([[1.0, 0.0]]), Tensor([[1.0, 0.0], [0.0, 1.0]])
    v = Tensor([[1.0, 2.0], [3.0, 4.0]])
    out = attention(q, k, v, scale=1.0)
    e = math.e
    np.testing.assert_allclose(out.numpy(), [[(e + 3) / (e + 1), (2 * e + 4) / (e + 1)]], rtol=1e-6)
    assert out.dtype == np.float32


def test_the_default_scale_is_one_over_root_e():
    rng = np.random.default_rng(0)
    q, k, v = (Tensor(rng.standard_normal(shape)) for shape in ((3, 4), (5, 4), (5, 2)))
    np.testing.assert_allclose(attention(q, k, v).numpy(), attention(q, k, v, scale=0.5).numpy(), rtol=1e-12)


# ---------------------------------------------------------------------- masks
def _blocked_inputs(rng):
    return [Tensor(rng.standard_normal(shape), requires_grad=True) for shape in ((2, 4, 3), (2, 6, 3), (2, 6, 2))]


@pytest.mark.parametrize("mask", [BOOL_MASK, np.where(BOOL_MASK, 0.0, -np.inf)], ids=["bool", "float-minus-inf"])
def test_a_query_that_may_attend_nothing_gives_zeros_and_no_nan(mask):
    q, k, v = _blocked_inputs(np.random.default_rng(1))
    out = attention(q, k, v, attn_mask=mask)
    out.backward(Tensor(np.ones(out.shape)))
    values = out.numpy()
    np.testing.assert_array_equal(values[:, 2], 0.0, err_msg="query 2 may attend nothing")
    assert np.isfinite(values).all(), "NaN or inf in the output"
    for name, t in zip("qkv", (q, k, v)):
        assert np.isfinite(t.grad.numpy()).all(), f"NaN or inf in the gradient of {name}"
    np.testing.assert_array_equal(q.grad.numpy()[:, 2], 0.0, err_msg="no gradient reaches a blocked query")


def test_a_bool_mask_equals_a_float_mask_of_zeros_and_minus_infinity():
    q, k, v = _blocked_inputs(np.random.default_rng(2))
    as_bool = attention(q, k, v, attn_mask=Tensor(BOOL_MASK)).numpy()
    as_float = attention(q, k, v, attn_mask=np.where(BOOL_MASK, 0.0, -np.inf)).numpy()
    np.testing.assert_allclose(as_bool, as_float, rtol=1e-12)


@given(
    length=st.integers(1, 5),
    source_length=st.integers(1, 5),
    features=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_causal_is_the_lower_triangular_bool_mask_and_ignores_later_keys(length, source_length, features, seed):
    rng = np.random.default_rng(seed)
    q, k, v = (
        Tensor(rng.standard_normal(s)) for s in ((length, features), (source_length, features), (source_length, 2))
    )
    causal = attention(q, k, v, is_causal=True).numpy()
    allowed = np.tril(np.ones((length, source_length), dtype=bool))
    np.testing.assert_allclose(causal, attention(q, k, v, attn_mask=allowed).numpy(), rtol=1e-12, atol=1e-15)
    changed = k.numpy().copy()
    changed[length:] += 10.0  # keys no query may see
    np.testing.assert_allclose(attention(q, Tensor(changed), v, is_causal=True).numpy(), causal, rtol=1e-12)


def test_a_mask_broadcasts_over_batches_and_heads():
    rng = np.random.default_rng(3)
    q, k, v = (Tensor(rng.standard_normal(s)) for s in ((2, 3, 4, 2), (2, 3, 6, 2), (2, 3, 6, 2)))
    per_head = np.broadcast_to(BOOL_MASK, (2, 3, 4, 6))
    np.testing.assert_allclose(
        attention(q, k, v, attn_mask=BOOL_MASK).numpy(), attention(q, k, v, attn_mask=per_head).numpy(), rtol=1e-12
    )


# ---------------------------------------------------------------------- dropout
def test_attention_dropout_keeps_the_expected_output():
    """Dropout on the attention weights scales the kept ones by 1/(1 − p): averaged over many
    draws, the output is that of attention without dropout."""
    rng = np.random.default_rng(4)
    q, k, v = (Tensor(rng.standard_normal(s)) for s in ((3, 2), (4, 2), (4, 2)))
    tg.manual_seed(0)
    draws = np.mean([attention(q, k, v, dropout_p=0.5).numpy() for _ in range(4000)], axis=0)
    np.testing.assert_allclose(draws, attention(q, k, v).numpy(), atol=0.05)
    tg.manual_seed(1)
    first = attention(q, k, v, dropout_p=0.5).numpy()
    tg.manual_seed(1)
    np.testing.assert_array_equal(attention(q, k, v, dropout_p=0.5).numpy(), first, err_msg="a seed repeats it")


# ---------------------------------------------------------------------- errors
def _t(*shape):
    return tg.randn(*shape)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: attention(_t(4, 3), _t(6, 3), _t(6, 2), attn_mask=BOOL_MASK, is_causal=True), "not both"),
        (lambda: attention(_t(4, 3), _t(6, 2), _t(6, 2)), r"query \(4, 3\), key \(6, 2\).*share E"),
        (lambda: attention(_t(4, 3), _t(6, 3), _t(5, 2)), r"value \(5, 2\).*share S"),
        (lambda: attention(_t(3), _t(6, 3), _t(6, 2)), r"\(\.\.\., L, E\).*query \(3,\)"),
        (lambda: attention(_t(2, 4, 3), _t(3, 6, 3), _t(3, 6, 2)), "leading axes.*do not broadcast"),
        (lambda: attention(_t(4, 3), _t(6, 3), _t(6, 2), attn_mask=np.ones((4, 5), bool)), r"\(4, 5\).*\(4, 6\)"),
        (lambda: attention(_t(4, 3), _t(6, 3), _t(6, 2), attn_mask=np.ones((4, 6), int)), "bool or float.*int64"),
        (lambda: attention(_t(4, 3), _t(6, 3), _t(6, 2), dropout_p=1.5), r"dropout_p.*\[0, 1\].*1\.5"),
    ],
)
def test_bad_inputs_are_value_errors_naming_what_was_expected_and_given(call, message):
    with pytest.raises(ValueError, match=message):
        call()
