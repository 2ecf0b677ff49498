"""Lesson 1: the seed of a neural network, one idea at a time.

    python examples/01_seed_walkthrough.py [--quick] [--out DIR]

A classifier gives each point a score, turns the score into a probability, and learns
by making the labels it observed as likely as it can. Each section below computes one
idea with tinygrad_edu and prints it: the step function and the sigmoid, a linear
score, softmax, one-hot encoding, maximum likelihood, cross-entropy, and the gradient
that gradient descent follows, computed by hand and by autograd.
"""

import math

import numpy as np
from _common import figure, parse_args, save_figure, say

import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, optim


def rounded(values, digits=2):
    """Round a Tensor or list of numbers the way the lesson prints them."""
    values = values.tolist() if isinstance(values, Tensor) else values
    return tuple(round(float(v), digits) for v in values)


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
    left.set_title("step function vs sigmoid")
    left.legend(fontsize=8)
    p = np.linspace(0.01, 1, 200)
    right.plot(p, -np.log(p), label="−ln p")
    doors = np.array([0.8, 0.7, 0.9])
    right.plot(doors, -np.log(doors), "o", label="the three doors: sum 0.69")
    right.set_xlabel("probability p of what happened")
    right.set_title("cross-entropy: each event costs −ln p")
    right.legend(fontsize=8)
    return save_figure(fig, out, "step_vs_sigmoid.png")


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


def one_hot_encoding():
    """Classes are not numbers: encode class k as the k-th row of the identity matrix."""
    classes = ("duck", "beaver", "walrus")
    labels = [0, 2, 1, 0]
    encoded = F.one_hot(labels, num_classes=len(classes))
    for label, row in zip(labels, encoded.tolist()):
        say(f"one-hot encoding of {classes[label]} (class {label})", row)
    return encoded.tolist()


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


def gradient_and_one_step(learning_rate=0.1):
    """For ŷ = σ(w·x + b) and E = −[y ln ŷ + (1 − y) ln(1 − ŷ)], the chain rule gives
    ∂E/∂w = −(y − ŷ)x and ∂E/∂b = −(y − ŷ), averaged over the points. A gradient-descent
    step moves against it: w ← w + α(y − ŷ)x, b ← b + α(y − ŷ)."""
    X = Tensor([[1.0, 1.0], [2.0, 0.5], [-1.0, 3.0]], dtype=np.float64)  # (N, 2)
    y = Tensor([1.0, 0.0, 1.0], dtype=np.float64)  # (N,)
    w = Tensor([4.0, 5.0], dtype=np.float64, requires_grad=True)
    b = Tensor(-9.0, dtype=np.float64, requires_grad=True)

    y_hat = (X @ w + b).sigmoid()
    error = -(y * y_hat.log() + (1 - y) * (1 - y_hat).log()).mean()
    error.backward()

    residual = (y - y_hat).detach()  # y − ŷ, (N,)
    grad_w = -(residual.unsqueeze(1) * X).mean(axis=0)  # −(y − ŷ)x averaged over the N points
    grad_b = -residual.mean()
    gradient_difference = max(np.abs(w.grad.numpy() - grad_w.numpy()).max(), abs(b.grad.item() - grad_b.item()))
    say("logistic regression gradient ∂E/∂w: autograd", rounded(w.grad, 4))
    say("logistic regression gradient ∂E/∂w: formula −(y − ŷ)x", rounded(grad_w, 4))
    say("logistic regression gradient ∂E/∂b: autograd, formula −(y − ŷ)", f"{b.grad.item():.4f}, {grad_b.item():.4f}")

    w_by_hand = w.detach() - learning_rate * grad_w  # = w + α(y − ŷ)x
    b_by_hand = b.detach() - learning_rate * grad_b
    optim.SGD([w, b], lr=learning_rate).step()
    step_difference = max(np.abs(w.numpy() - w_by_hand.numpy()).max(), abs(b.item() - b_by_hand.item()))
    say("one gradient-descent step, w by hand", rounded(w_by_hand, 4))
    say("one gradient-descent step, w by optim.SGD", rounded(w, 4))
    say("one gradient-descent step, max difference hand vs optim.SGD", f"{step_difference:.1e}")
    return float(gradient_difference), float(step_difference)


def main(argv=None):
    args = parse_args(__doc__, argv)
    figure_path = step_and_sigmoid(args.out)
    probabilities = linear_score()
    softmax = softmax_of_scores()
    one_hot = one_hot_encoding()
    likelihoods = maximum_likelihood()
    doors = three_doors()
    multiclass = multiclass_cross_entropy()
    gradient_difference, step_difference = gradient_and_one_step()
    return {
        "probabilities_on_line": probabilities,
        "softmax": softmax,
        "one_hot": one_hot,
        "likelihood_model_a": likelihoods["model A"],
        "likelihood_model_b": likelihoods["model B"],
        "cross_entropy_doors": doors,
        "multiclass_cross_entropy": multiclass,
        "gradient_max_difference": gradient_difference,
        "sgd_step_max_difference": step_difference,
        "figures": [figure_path],
    }


if __name__ == "__main__":
    main()
