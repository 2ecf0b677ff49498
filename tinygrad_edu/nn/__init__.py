"""Neural-network building blocks: Module, Parameter, Sequential, layers, losses,
initialisers (nn.init) and safe saving (nn.save / nn.load, .npz without pickle)."""

from . import init
from .layers import Identity, Linear, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from .module import Module, Parameter, Sequential, load, save

__all__ = [
    "Module", "Parameter", "Sequential", "save", "load", "init",
    "Linear", "Sigmoid", "Softmax", "LogSoftmax", "ReLU", "Tanh", "Step", "Identity",
    "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss",
]
