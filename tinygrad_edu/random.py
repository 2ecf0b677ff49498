"""The random generator behind randn, rand, nn.init, dropout and the data sets.

One NumPy Generator on the CPU: random numbers are drawn there and then moved, so a seed
gives the same numbers on every device.
"""

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Seed the generator behind randn, rand, nn.init, dropout and the data sets."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator():
    """The NumPy Generator that random factories draw from."""
    return _generator
