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
# # Lesson 1: the seed of a neural network, one idea at a time
#
# A classifier gives each point a score, turns the score into a probability, and learns
# by making the labels it observed as likely as it can. Each section below computes one
# idea with tinygrad_edu and prints it: the step function and the sigmoid, a linear
# score, softmax, one-hot encoding, maximum likelihood, cross-entropy, and the gradient
# that gradient descent follows, derived by hand and checked against autograd with
# `tg.handcheck`.
#
# As a script: `python examples/01_seed_walkthrough.py [--quick] [--out DIR]`. In a
# notebook, run the cells from the top; the exercises are at the end.

# %%
"""Lesson 1: the seed of a neural network, one idea at a time."""

import math

import numpy as np
from _common import check_derivation, check_prediction, figure, parse_args, save_figure, say

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, optim


def rounded(values, digits=2):
    """Round a Tensor or list of numbers the way the lesson prints them."""
    values = values.tolist() if isinstance(values, Tensor) else values
    return tuple(round(float(v), digits) for v in values)


# %% [markdown]
# ## From a step to a sigmoid
#
# The perceptron's step function jumps from 0 to 1 and has derivative 0 wherever it has
# one: it tells gradient descent nothing. The sigmoid σ(z) = 1 / (1 + e⁻ᶻ) climbs
# smoothly, and its derivative σ'(z) = σ(z)(1 − σ(z)) is what autograd computes below.
# On the right: cross-entropy charges each event −ln p, a lot for what the model thought
# unlikely.


# %%
def step_and_sigmoid(out):
    """The perceptron's step(z) = [z ≥ 0] jumps from 0 to 1, and its derivative is 0
    everywhere it exists, so it tells gradient descent nothing. The sigmoid
    σ(z) = 1 / (1 + e⁻ᶻ) climbs smoothly through σ(0) = 0.5, and σ'(z) = σ(z)(1 − σ(z))."""
    z = Tensor(np.linspace(-6, 6, 241), requires_grad=True)
    step, sigmoid = z.step(), z.sigmoid()
    sigmoid.sum().backward()  # ∂/∂zᵢ Σ σ(zⱼ) = σ'(zᵢ): the derivative at every point at once
    fig, (left, right) = figure(1, 2)
    left.plot(z.numpy(), step.numpy(), label="step(z) = [z ≥ 0]", drawstyle="steps-post")
    left.plot(z.numpy(), sigmoid.numpy(), label="σ(z) = 1 / (1 + e⁻ᶻ)")
    left.plot(z.numpy(), z.grad.numpy(), "--", label="σ'(z) by autograd")
    left.set_xlabel("score z")
    left.set_ylabel("output (probability of class 1)")
    left.set_title("step function vs sigmoid")
    left.legend(fontsize=8)
    p = np.linspace(0.01, 1, 200)
    right.plot(p, -np.log(p), label="−ln p")
    doors = np.array([0.8, 0.7, 0.9])
    right.plot(doors, -np.log(doors), "o", label="the three doors: sum 0.69")
    right.set_xlabel("probability p of what happened")
    right.set_ylabel("its cost −ln p")
    right.set_title("cross-entropy: each event costs −ln p")
    right.legend(fontsize=8)
    return save_figure(fig, out, "step_vs_sigmoid.png")


# %% [markdown]
# ## A linear score, and softmax
#
# The line 4x₁ + 5x₂ − 9 = 0 scores a point by z = w·x + b; σ(z) is its probability of
# being positive, exactly 0.5 on the line. With more than two classes, softmax turns n
# scores into n probabilities: softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ.


# %%
def linear_score():
    """The score of a point x = (x₁, x₂) under the line 4x₁ + 5x₂ − 9 = 0 is
    z = w·x + b with w = (4, 5), b = −9; its probability of being positive is σ(z).
    Points on the line score 0, so they are exactly undecided: σ(0) = 0.5."""
    w, b = Tensor([4.0, 5.0]), -9.0
    points = Tensor([[1.0, 1.0], [-4.0, 5.0]])
    scores = points @ w + b
    probabilities = scores.sigmoid()
    for point, score, probability in zip(points.tolist(), scores.tolist(), probabilities.tolist()):
        x1, x2 = (int(v) for v in point)
        say(f"linear model score 4x₁ + 5x₂ − 9 at ({x1}, {x2})", f"{score:g}, probability σ(score) {probability:g}")
    return rounded(probabilities, 2)


def softmax_of_scores():
    """Softmax turns n scores into n probabilities: softmax(z)ᵢ = e^zᵢ / Σⱼ e^zⱼ."""
    scores = Tensor([2.0, 1.0, 0.0])
    probabilities = rounded(F.softmax(scores), 2)
    say("softmax of scores (2, 1, 0)", probabilities)
    return probabilities


# %% [markdown]
# ## One-hot encoding
#
# Classes are not numbers (a walrus is not twice a beaver): class k becomes the k-th row
# of the identity matrix.


# %%
def one_hot_encoding():
    """Classes are not numbers: encode class k as the k-th row of the identity matrix."""
    classes = ("duck", "beaver", "walrus")
    labels = [0, 2, 1, 0]
    encoded = F.one_hot(labels, num_classes=len(classes))
    for label, row in zip(labels, encoded.tolist()):
        say(f"one-hot encoding of {classes[label]} (class {label})", row)
    return encoded.tolist()


# %% [markdown]
# ## Maximum likelihood and cross-entropy
#
# A model gives each observed label a probability; the labels are independent, so the
# probability of all of them is the product, and the better model is the one under which
# what happened is more likely. A product of many small numbers underflows, so we take
# −ln of it: a sum, the cross-entropy −Σ [y ln p + (1 − y) ln(1 − p)]. With m classes it
# is −Σᵢ Σⱼ yᵢⱼ ln pᵢⱼ, the one-hot rows picking the probability of what was found.


# %%
def maximum_likelihood():
    """A model that gives the blue points (y = 1) probability p of being blue gives each
    observed label the probability p if y = 1 and 1 − p if y = 0, that is
    y·p + (1 − y)(1 − p). The labels are independent, so P(all) is the product; the better
    model is the one under which what happened is more likely."""
    y = Tensor([1.0, 1.0, 0.0, 0.0], dtype=np.float64)
    models = {
        "model A": Tensor([0.1, 0.6, 0.3, 0.8], dtype=np.float64),  # P(blue) for each of the four points
        "model B": Tensor([0.7, 0.9, 0.2, 0.4], dtype=np.float64),
    }
    likelihoods = {}
    for name, p_blue in models.items():
        p_observed = (y * p_blue + (1 - y) * (1 - p_blue)).tolist()
        likelihood = round(math.prod(p_observed), 4)
        factors = "·".join(f"{p:g}" for p in p_observed)
        say(f"maximum likelihood, {name}", f"P(all) = {factors} = {likelihood:g}")
        # a product of many small numbers underflows; its −ln is a sum: the cross-entropy
        say(f"cross-entropy −ln P(all), {name}", f"{-math.log(math.prod(p_observed)):.2f}")
        likelihoods[name] = likelihood
    return likelihoods


def three_doors():
    """Behind each of three doors there is a gift (y = 1) or not (y = 0); the model says
    P(gift) = 0.8, 0.7, 0.1, and the gifts were behind doors 1 and 2. The events that
    happened had probabilities 0.8, 0.7 and 0.9, so the cross-entropy is
    −Σ [y ln p + (1 − y) ln(1 − p)] = −(ln 0.8 + ln 0.7 + ln 0.9)."""
    p_gift = Tensor([0.8, 0.7, 0.1], dtype=np.float64)
    y = Tensor([1.0, 1.0, 0.0], dtype=np.float64)
    by_hand = -(y * p_gift.log() + (1 - y) * (1 - p_gift).log()).sum()
    library = F.binary_cross_entropy(p_gift, y, reduction="sum")
    assert math.isclose(by_hand.item(), library.item(), rel_tol=1e-12), (by_hand.item(), library.item())
    cross_entropy = round(by_hand.item(), 2)
    say("cross-entropy of the three doors (p = 0.8, 0.7, 0.9 for what happened)", f"{cross_entropy:.2f}")
    return cross_entropy


def multiclass_cross_entropy():
    """With m classes the model gives each door a row of probabilities pᵢⱼ, and the
    one-hot rows yᵢⱼ pick the probability of what was found:
    CE = −Σᵢ Σⱼ yᵢⱼ ln pᵢⱼ. Cross-entropy from scores is the same sum after a softmax."""
    probs = Tensor([[0.7, 0.2, 0.1], [0.3, 0.5, 0.2], [0.1, 0.3, 0.6]], dtype=np.float64)  # rows: doors
    found = [0, 1, 2]  # a duck behind door 1, a beaver behind door 2, a walrus behind door 3
    by_hand = -(F.one_hot(found, 3) * probs.log()).sum()
    # log-probabilities are scores whose softmax is probs, so cross_entropy gives the same sum
    library = F.cross_entropy(probs.log(), Tensor(found), reduction="sum")
    assert math.isclose(by_hand.item(), library.item(), rel_tol=1e-9), (by_hand.item(), library.item())
    cross_entropy = round(by_hand.item(), 2)
    say("multi-class cross-entropy of the three doors (duck, beaver, walrus)", f"{cross_entropy:.2f}")
    return cross_entropy


# %% [markdown]
# ## The gradient, by hand and by autograd
#
# For ŷ = σ(w·x + b) and E = −[y ln ŷ + (1 − y) ln(1 − ŷ)], the chain rule gives
# ∂E/∂w = −(y − ŷ)x and ∂E/∂b = −(y − ŷ), averaged over the points. `tg.handcheck` holds
# this derivation against autograd, with central differences as the referee; a sign slip
# is caught, and the report says which of the three disagrees. A gradient-descent step
# moves against the gradient: w ← w + α(y − ŷ)x, b ← b + α(y − ŷ), exactly what
# `optim.SGD` does.


# %%
def gradient_and_one_step(learning_rate=0.1):
    """For ŷ = σ(w·x + b) and E = −[y ln ŷ + (1 − y) ln(1 − ŷ)], the chain rule gives
    ∂E/∂w = −(y − ŷ)x and ∂E/∂b = −(y − ŷ), averaged over the points. A gradient-descent
    step moves against it: w ← w + α(y − ŷ)x, b ← b + α(y − ŷ)."""
    X = np.array([[1.0, 1.0], [2.0, 0.5], [-1.0, 3.0]])  # (N, 2)
    y = np.array([1.0, 0.0, 1.0])  # (N,)
    w = Tensor([4.0, 5.0], dtype=np.float64, requires_grad=True)
    b = Tensor(-9.0, dtype=np.float64, requires_grad=True)

    def cross_entropy(w, b):
        y_hat = (Tensor(X) @ w + b).sigmoid()
        return -(y * y_hat.log() + (1 - y) * (1 - y_hat).log()).mean()

    def by_hand(w, b):  # NumPy arrays in and out: the derivation as the maths writes it
        residual = y - 1 / (1 + np.exp(-(X @ w + b)))  # y − ŷ, (N,)
        return -(residual[:, None] * X).mean(axis=0), -residual.mean()

    passed = tg.handcheck(cross_entropy, {"w": w, "b": b}, by_hand)
    say("handcheck of ∂E/∂w = −(y − ŷ)x, ∂E/∂b = −(y − ŷ)", "passed" if passed else "FAILED")
    try:  # the same derivation with the minus sign forgotten
        tg.handcheck(cross_entropy, {"w": w, "b": b}, lambda w, b: tuple(-g for g in by_hand(w, b)))
        sign_slip_caught = False
    except RuntimeError as report:
        sign_slip_caught = True
        say("handcheck of a sign slip, ∂E/∂w = (y − ŷ)x", f"caught\n{report}")

    cross_entropy(w, b).backward()
    grad_w, grad_b = by_hand(w.numpy(), b.numpy())
    gradient_difference = max(np.abs(w.grad.numpy() - grad_w).max(), abs(b.grad.item() - grad_b))
    say("logistic regression gradient ∂E/∂w: autograd", rounded(w.grad, 4))
    say("logistic regression gradient ∂E/∂w: formula −(y − ŷ)x", rounded(grad_w, 4))
    say("logistic regression gradient ∂E/∂b: autograd, formula −(y − ŷ)", f"{b.grad.item():.4f}, {grad_b:.4f}")

    w_by_hand = w.numpy() - learning_rate * grad_w  # = w + α(y − ŷ)x
    b_by_hand = b.item() - learning_rate * grad_b
    optim.SGD([w, b], lr=learning_rate).step()
    step_difference = max(np.abs(w.numpy() - w_by_hand).max(), abs(b.item() - b_by_hand))
    say("one gradient-descent step, w by hand", rounded(w_by_hand, 4))
    say("one gradient-descent step, w by optim.SGD", rounded(w, 4))
    say("one gradient-descent step, max difference hand vs optim.SGD", f"{step_difference:.1e}")
    return {
        "handcheck_passes": passed,
        "sign_slip_caught": sign_slip_caught,
        "gradient_max_difference": float(gradient_difference),
        "sgd_step_max_difference": float(step_difference),
    }


# %%
def main(argv=None):
    args = parse_args(__doc__, argv)
    figure_path = step_and_sigmoid(args.out)
    probabilities = linear_score()
    softmax = softmax_of_scores()
    one_hot = one_hot_encoding()
    likelihoods = maximum_likelihood()
    doors = three_doors()
    multiclass = multiclass_cross_entropy()
    gradient = gradient_and_one_step()
    return {
        "probabilities_on_line": probabilities,
        "softmax": softmax,
        "one_hot": one_hot,
        "likelihood_model_a": likelihoods["model A"],
        "likelihood_model_b": likelihoods["model B"],
        "cross_entropy_doors": doors,
        "multiclass_cross_entropy": multiclass,
        **gradient,
        "figures": [figure_path],
    }


# %% [markdown]
# ## Run the lesson
#
# Every section above, in order: the figure, then each result as a labelled line.

# %%
if __name__ == "__main__":
    results = main()

# %% [markdown]
# ## Exercises
#
# Each exercise is a cell: write your answer where it says `None`, run the cell, and the
# check below your answer says whether it is right (and, if not, what differs). The
# solutions are in `solutions/01_seed_walkthrough.py`.
#
# ### Exercise 1: σ'(z) by hand
#
# Derive the derivative of the sigmoid, σ'(z), and write it with NumPy in
# `sigmoid_derivative` (z is an array; return σ'(z) for every element). `tg.handcheck`
# compares it with what autograd computes for ∂/∂zᵢ Σⱼ σ(zⱼ).


# %%
def sigmoid_derivative(z):
    """σ'(z) for every element of the NumPy array z."""
    return None  # your derivation


def exercise_sigmoid_derivative(by_hand):
    z = Tensor([-4.0, -1.0, 0.0, 0.5, 3.0], dtype=np.float64, requires_grad=True)
    todo = "write σ'(z) with NumPy in sigmoid_derivative (hint: σ'(z) is a product of two factors, one is σ(z))"
    return check_derivation("σ'(z) by hand", lambda z: z.sigmoid().sum(), [z], by_hand, todo)


if __name__ == "__main__":
    exercise_sigmoid_derivative(sigmoid_derivative)


# %% [markdown]
# ### Exercise 2: the cross-entropy of a coin
#
# A model that has learnt nothing says P(blue) = 0.5 for each of the four points of the
# maximum-likelihood section (labels 1, 1, 0, 0). Predict its cross-entropy −ln P(all)
# before you compute anything, write the number in `cross_entropy_of_a_coin`, and run
# the cell: the check computes it with `F.binary_cross_entropy`.

# %%
cross_entropy_of_a_coin = None  # your prediction: a number


def exercise_cross_entropy_of_a_coin(prediction):
    def computed():
        y = Tensor([1.0, 1.0, 0.0, 0.0], dtype=np.float64)
        return F.binary_cross_entropy(Tensor([0.5, 0.5, 0.5, 0.5], dtype=np.float64), y, reduction="sum").item()

    todo = "predict −ln P(all) when every point gets probability 0.5, then set cross_entropy_of_a_coin"
    return check_prediction("cross-entropy of a coin", prediction, computed, todo)


if __name__ == "__main__":
    exercise_cross_entropy_of_a_coin(cross_entropy_of_a_coin)


# %% [markdown]
# ### Exercise 3: the gradient of the squared error
#
# A linear model ŷ = w·x + b fitted by the mean squared error E = mean((ŷ − y)²) over
# the points `POINTS` with targets `TARGETS`. Derive ∂E/∂w and ∂E/∂b and write them with
# NumPy in `squared_error_gradient`, which returns the pair (∂E/∂w, ∂E/∂b).

# %%
POINTS = np.array([[1.0, 2.0], [0.5, -1.0], [-2.0, 0.0], [3.0, 1.0]])  # (N, 2)
TARGETS = np.array([1.0, -0.5, 2.0, 0.0])  # (N,)


def squared_error_gradient(w, b):
    """(∂E/∂w of shape (2,), ∂E/∂b a number) for E = mean((POINTS @ w + b − TARGETS)²)."""
    return None  # your derivation


def exercise_squared_error_gradient(by_hand):
    def squared_error(w, b):
        return ((Tensor(POINTS) @ w + b - Tensor(TARGETS)) ** 2).mean()

    w = Tensor([0.5, -1.0], dtype=np.float64, requires_grad=True)
    b = Tensor(0.25, dtype=np.float64, requires_grad=True)
    todo = "write (∂E/∂w, ∂E/∂b) in squared_error_gradient (hint: the chain rule gives a factor 2(ŷ − y))"
    return check_derivation("∂E/∂w and ∂E/∂b of the squared error", squared_error, {"w": w, "b": b}, by_hand, todo)


if __name__ == "__main__":
    exercise_squared_error_gradient(squared_error_gradient)
