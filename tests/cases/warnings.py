# Warned(), compiled by cnnc from warnings.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x32x32. 548 parameters (548 trainable), 51,192 MACs per sample.

import torch
import torch.nn.functional as F
from torch import nn


class Down(nn.Sequential):
    """Block Down, used at 1, 3."""

    def __init__(self, in_channels, width):
        super().__init__(
            nn.Conv2d(in_channels, width, 3, stride=2),  # warnings.cnn:3
        )


class Warned(nn.Module):
    """The network Warned; submodule paths are the layer paths of the .cnn file."""

    def __init__(self):
        super().__init__()
        self.dead = nn.Conv2d(3, 8, 1)  # warnings.cnn:9
        self.add_module("1", Down(3, 8))  # warnings.cnn:10
        self.add_module("2", nn.MaxPool2d(2, stride=2))  # warnings.cnn:11
        self.add_module("3", Down(8, 4))  # warnings.cnn:12

    def forward(self, x):
        out = self.dead(x)  # warnings.cnn:9
        x = getattr(self, "1")(x)  # warnings.cnn:10
        x = getattr(self, "2")(x)  # warnings.cnn:11
        x = getattr(self, "3")(x)  # warnings.cnn:12
        return x


INPUTS = {'input': (3, 32, 32)}  # per-sample input shapes (no batch dimension), in forward's order


def build():
    """A freshly initialised Warned."""
    return Warned()
