"""Neural-network building blocks: Module, Parameter, Sequential, layers, losses,
initialisers (nn.init) and safe saving (nn.save / nn.load, .npz without pickle)."""

from . import init, utils
from .conv import AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d
from .layers import GELU, Dropout, Embedding, Flatten, Identity, Linear, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
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
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm

__all__ = [
    "Module",
    "Parameter",
    "Sequential",
    "save",
    "load",
    "init",
    "utils",
    "Linear",
    "Sigmoid",
    "Softmax",
    "LogSoftmax",
    "ReLU",
    "Tanh",
    "Step",
    "Identity",
    "Flatten",
    "Dropout",
    "Embedding",
    "GELU",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "Conv2d",
    "ConvTranspose2d",
    "MaxPool2d",
    "AvgPool2d",
    "MSELoss",
    "L1Loss",
    "HuberLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "NLLLoss",
    "KLDivLoss",
]
