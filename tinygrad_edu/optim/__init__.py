"""Optimizers with PyTorch's update rules and param groups (SGD, Adam, AdamW), and the
learning-rate schedules that change a group's "lr" between steps (lr_scheduler)."""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
