# Warned(), compiled by cnnc from warnings.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x32x32. 548 parameters (548 trainable),
# 51,192 MACs per sample.

from torch import nn


class Down(nn.Module):
    """Block Down."""

    def __init__(self, in_channels, width):
        super().__init__()
        self.add_module("0", nn.Conv2d(in_channels, width, 3, stride=2))

    def forward(self, x):
        x = getattr(self, "0")(x)
        return x


class Warned(nn.Module):
    """The network Warned; submodule paths are the layer paths of the .cnn file."""

    def __init__(self):
        super().__init__()
        self.dead = nn.Conv2d(3, 8, 1)
        self.add_module("1", Down(3, 8))
        self.maxpool = nn.MaxPool2d(2, stride=2)
        self.add_module("3", Down(8, 4))

    def forward(self, x):
        x = getattr(self, "1")(x)
        x = self.maxpool(x)
        x = getattr(self, "3")(x)
        return x


INPUTS = {"input": (3, 32, 32)}  # per-sample input shapes, in forward's order


def build():
    """A freshly initialised Warned."""
    return Warned()
