"""Solutions to the exercises of lesson 9 (examples/09_language_model.py)."""

import math
import pydoc_data.topics

import numpy as np

# every character equally likely: −ln(1/V) = ln V whatever the text (ln 103 = 4.635 on Python 3.11)
uniform_loss = math.log(len(set("".join(pydoc_data.topics.topics.values()))))


def window_mask(length, window):
    """True where query t may not read key s: the future (s > t) or the far past (s ≤ t − window)."""
    t, s = np.indices((length, length))
    return (s > t) | (s <= t - window)


def attention_gradient(scores, values):
    """y = Σⱼ pⱼvⱼ with p = softmax(s): ∂y/∂sᵢ = Σⱼ vⱼ pⱼ(δᵢⱼ − pᵢ) = pᵢ(vᵢ − y), and ∂y/∂vᵢ = pᵢ."""
    p = np.exp(scores - scores.max())
    p /= p.sum()
    return p * (values - p @ values), p
