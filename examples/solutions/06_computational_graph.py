"""Solutions to the exercises of lesson 6 (examples/06_computational_graph.py)."""

import numpy as np
from _common import load_lesson

lesson = load_lesson("06_computational_graph")

# z = 2·3 − 6 = 0, σ'(0) = σ(0)(1 − σ(0)) = 0.25, and ∂z/∂w = x = 3.
gradient_reaching_w = 0.25 * 3


def chain_rule_gradient(w):
    """Pow: 2(t − y); Sub: 1; Tanh: 1 − t²; Dot: x. Their product, from the loss back."""
    t = np.tanh(w @ lesson.CHAIN_X)
    return 2 * (t - lesson.CHAIN_Y) * (1 - t**2) * lesson.CHAIN_X
