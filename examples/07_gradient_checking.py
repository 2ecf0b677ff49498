# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 7: your own op, and how to know its backward is right
#
# A new op is one `tg.Function` subclass: forward on NumPy arrays, backward with Tensor
# operations (so that it can be differentiated again). A backward is easy to get wrong,
# and a wrong one trains silently badly. `tg.gradcheck` compares it with central
# differences, in float64:
#
#     ∂f/∂xᵢ ≈ (f(x + ε eᵢ) − f(x − ε eᵢ)) / 2ε
#
# and on a mismatch raises a RuntimeError naming the input, the element, and both
# values. Here softplus(x) = ln(1 + eˣ), whose derivative is σ(x), passes; the same op
# with a forgotten denominator (eˣ instead of eˣ / (1 + eˣ)) is caught.
#
# As a script: `python examples/07_gradient_checking.py [--quick] [--out DIR]`.

# %%
"""Lesson 7: your own op, and how to know its backward is right."""

import numpy as np
from _common import check_derivation, figure, not_done, parse_args, save_figure, say

import tinygrad_edu as tg
from tinygrad_edu import Tensor

# %% [markdown]
# ## A custom op, right and wrong
#
# `Softplus` has the right backward, σ(x); `SoftplusForgotDenominator` the wrong one
# a hurried derivation gives, eˣ. `Cube` is the op of the README.


# %%
class Softplus(tg.Function):
    """softplus(x) = ln(1 + eˣ), a smooth ReLU; softplus'(x) = eˣ / (1 + eˣ) = σ(x)."""

    formula = "softplus'(x) = σ(x)"

    def forward(self, x):
        return np.logaddexp(0, x)  # ln(e⁰ + eˣ), computed without overflow for large x

    def backward(self, grad):
        (x,) = self.inputs
        return grad * x.sigmoid()


class SoftplusForgotDenominator(Softplus):
    """The same forward, with the mistake a hurried derivation makes: d/dx ln(1 + eˣ) = eˣ."""

    formula = "softplus'(x) = eˣ (wrong)"

    def backward(self, grad):
        (x,) = self.inputs
        return grad * x.exp()


class Cube(tg.Function):
    """x³, with (x³)' = 3x²."""

    formula = "(x³)' = 3x²"

    def forward(self, x):
        return x**3

    def backward(self, grad):
        (x,) = self.inputs
        return grad * 3 * x**2


# %% [markdown]
# ## gradcheck
#
# `tg.gradcheck` raises a RuntimeError on the first mismatch (like PyTorch); the lesson
# catches it to print the report. With `raise_exception=False` it returns False instead.


# %%
def check(name, fn, x):
    """gradcheck with the default raise_exception=True: True, or the RuntimeError's report."""
    try:
        tg.gradcheck(fn, (x,))
    except RuntimeError as error:
        say(f"gradcheck of {name}", "FAILED")
        say(f"gradcheck report for {name}", f"\n{error}")
        return False, str(error)
    say(f"gradcheck of {name}", "passed")
    return True, ""


def plot_derivatives(out):
    """softplus, its true derivative σ(x), the wrong backward's eˣ, and central differences."""
    x = np.linspace(-3, 3, 121)
    fig, ax = figure(1, 1, width=5.5, height=3.8)
    derivatives = {}
    backwards = {
        "Softplus.backward: σ(x)": Softplus,
        "SoftplusForgotDenominator.backward: eˣ": SoftplusForgotDenominator,
    }
    for name, op in backwards.items():
        t = Tensor(x, requires_grad=True)
        op.apply(t).sum().backward()
        derivatives[name] = t.grad.numpy()
    eps = 1e-6
    numerical = (np.logaddexp(0, x + eps) - np.logaddexp(0, x - eps)) / (2 * eps)
    ax.plot(x, np.logaddexp(0, x), color="black", label="softplus(x) = ln(1 + eˣ)")
    for name, derivative in derivatives.items():
        ax.plot(x, derivative, lw=2, label=name)
    ax.plot(x[::6], numerical[::6], "o", color="gray", label="central differences")
    ax.set_ylim(-0.2, 3.2)
    ax.set_xlabel("x")
    ax.set_ylabel("value, or derivative by each method")
    ax.set_title("gradcheck: backward against central differences")
    ax.legend(fontsize=8)
    return save_figure(fig, out, "gradient_checking.png")


# %%
def main(argv=None):
    args = parse_args(__doc__, argv)
    tg.manual_seed(0)
    x = tg.randn(6, dtype=np.float64, requires_grad=True)  # float64: rounding would swamp the differences

    softplus_ok, _ = check("Softplus", Softplus.apply, x)
    cube_ok, _ = check("Cube", Cube.apply, x)
    # backward is written with Tensor ops, so the derivative of the derivative comes for free
    second_ok = tg.gradgradcheck(Softplus.apply, (x,))
    say("gradgradcheck of Softplus (second derivative σ(x)(1 − σ(x)))", "passed" if second_ok else "FAILED")

    def composed(t):
        return (Softplus.apply(2 * t + 1) * t).sum()

    composed_ok, _ = check("Softplus inside a larger function: sum(softplus(2x + 1) · x)", composed, x)
    wrong_ok, report = check("SoftplusForgotDenominator", SoftplusForgotDenominator.apply, x)
    quiet = tg.gradcheck(SoftplusForgotDenominator.apply, (x,), raise_exception=False)
    say("gradcheck(..., raise_exception=False) of SoftplusForgotDenominator", quiet)

    return {
        "softplus_passes": softplus_ok,
        "cube_passes": cube_ok,
        "gradgradcheck_passes": second_ok,
        "composed_passes": composed_ok,
        "wrong_backward_caught": not wrong_ok,
        "wrong_backward_quiet_result": quiet,
        "report": report,
        "figures": [plot_derivatives(args.out)],
    }


# %% [markdown]
# ## Run the lesson

# %%
if __name__ == "__main__":
    results = main()

# %% [markdown]
# ## Exercises
#
# Write your answer where it says `None` and run the cell. Solutions:
# `solutions/07_gradient_checking.py`.
#
# ### Exercise 1: the derivative of SiLU
#
# SiLU (also called swish) is silu(x) = x·σ(x), a smooth ReLU used in many networks.
# Derive silu'(x) and write it with NumPy in `silu_derivative`; `tg.handcheck` compares
# it with autograd's derivative of `x * x.sigmoid()`.


# %%
def silu_derivative(x):
    """silu'(x) for every element of the NumPy array x."""
    return None  # your derivation


def exercise_silu_derivative(by_hand):
    x = Tensor([-3.0, -0.5, 0.0, 1.0, 2.5], dtype=np.float64)
    todo = "write silu'(x) in silu_derivative (hint: the product rule, and σ' = σ(1 − σ))"
    return check_derivation("silu'(x) by hand", lambda x: (x * x.sigmoid()).sum(), x, by_hand, todo)


if __name__ == "__main__":
    exercise_silu_derivative(silu_derivative)


# %% [markdown]
# ### Exercise 2: an op of your own, checked by gradcheck
#
# Write `LogCosh`, a `tg.Function` for log(cosh(x)) (a loss that is x²/2 near 0 and
# |x| far from it, like Huber's but smooth): its `forward` on a NumPy array (hint:
# log(cosh(x)) = logaddexp(x, −x) − ln 2 never overflows), its `formula`, and its
# `backward` with Tensor operations. Replace `LogCosh = None` by your class; the check
# runs `tg.gradcheck` and `tg.gradgradcheck` on it.

# %%
LogCosh = None  # your tg.Function subclass


def exercise_LogCosh(op):
    if op is None:
        return not_done("LogCosh", "write class LogCosh(tg.Function) with forward and backward")
    tg.manual_seed(1)
    x = tg.randn(5, dtype=np.float64, requires_grad=True)
    values_right = np.allclose(op.apply(x).numpy(), np.log(np.cosh(x.numpy())))
    first = check("your LogCosh", op.apply, x)[0]
    second = first and tg.gradgradcheck(op.apply, (x,), raise_exception=False)
    right = values_right and first and second
    if right:
        verdict = "right: forward, backward and the backward of backward"
    else:
        verdict = "not yet: " + ("the forward is not log(cosh(x))" if not values_right else "see gradcheck's report")
    say("exercise LogCosh", verdict)
    return right


if __name__ == "__main__":
    exercise_LogCosh(LogCosh)
