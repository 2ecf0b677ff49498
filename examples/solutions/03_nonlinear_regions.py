"""Solutions to the exercises of lesson 3 (examples/03_nonlinear_regions.py)."""

import numpy as np

from tinygrad_edu import nn

# (2·16 + 16) + (16·16 + 16) + (16·1 + 1): weights out × in, one bias per output
parameters_of_the_mlp = 48 + 272 + 17


def xor_model():
    """Four ReLU units are enough: each adds one fold, a straight line, to the boundary."""
    return nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))


def circle_features(X):
    """x₁, x₂ and the squared distance from the centre x₁² + x₂²: in that space the inner
    circle lies below a plane and the outer one above it."""
    return np.column_stack([X, (X**2).sum(axis=1)])
