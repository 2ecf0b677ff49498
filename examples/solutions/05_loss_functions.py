"""Solutions to the exercises of lesson 5 (examples/05_loss_functions.py)."""

import numpy as np
from _common import load_lesson

lesson = load_lesson("05_loss_functions")

# MSE fits the mean, (1 + 2 + 3 + 4 + 15) / 5 = 5, pulled up by the 15; MAE fits the
# median, 3, where as many points pull up as down.
constants_fitted = (5.0, 3.0)


def huber_gradient(y_hat):
    """h'(r) = r for |r| ≤ δ and δ·sign(r) beyond: r clipped to ±δ; the mean divides by N."""
    residual = y_hat - lesson.HUBER_TARGETS
    return np.clip(residual, -1.0, 1.0) / len(residual)
