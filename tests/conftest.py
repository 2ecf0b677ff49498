"""Shared fixtures. `torch` and `dot` skip the tests that need PyTorch or graphviz's dot
when they are missing, except under REQUIRE_ORACLE=1 / REQUIRE_DOT=1 (set by .ci/run),
where the missing tool is a failure: CI must not pass by skipping."""

import os
import shutil

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("ci", deadline=None, max_examples=60, derandomize=True)
settings.register_profile("dev", deadline=None, max_examples=60)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _missing(what, variable, hint):
    if os.environ.get(variable) == "1":
        pytest.fail(f"{variable}=1 but {what} is missing: {hint}")
    pytest.skip(f"{what} is missing ({hint})")


@pytest.fixture(scope="session")
def torch():
    """The torch module, as an oracle: float64 throughout."""
    try:
        import torch
    except ImportError:
        _missing("PyTorch", "REQUIRE_ORACLE", "make test ORACLE=1 installs it")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def dot():
    """The path of graphviz's dot program."""
    path = shutil.which("dot")
    if path is None:
        hint = "apt-get install graphviz, brew install graphviz or conda install graphviz"
        _missing("graphviz's dot", "REQUIRE_DOT", hint)
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(0)
