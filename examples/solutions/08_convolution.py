"""Solutions to the exercises of lesson 8 (examples/08_convolution.py): each name is
the one the lesson leaves as None for you to write."""

import numpy as np
from _common import load_lesson

lesson = load_lesson("08_convolution")


def output_size(n, kernel_size, stride, padding):
    """The kernel's first pixel may sit at 0, s, 2s, … while the kernel fits in the padded
    row of n + 2p pixels: ⌊(n + 2p − k) / s⌋ + 1 positions."""
    return (n + 2 * padding - kernel_size) // stride + 1


# conv 6·(1·25 + 1) = 156, conv 16·(6·25 + 1) = 2,416, linear 120·401 = 48,120,
# 84·121 = 10,164, 10·85 = 850: 61,706 in all.
lenet_parameter_count = 156 + 2416 + 48120 + 10164 + 850


def kernel_gradient(weight):
    """y[u, v] = Σ_ij W[i, j] · x[u + i, v + j], so ∂L/∂W[i, j] = Σ_uv G[u, v] · x[u + i, v + j]."""
    x, G = lesson.EXERCISE_IMAGE, lesson.EXERCISE_GRADIENT
    ho, wo = G.shape
    return np.array([[(G * x[i : i + ho, j : j + wo]).sum() for j in range(3)] for i in range(3)])
