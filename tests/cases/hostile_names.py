# torch(None=8), compiled by cnnc from hostile_names.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x16x16. 914 parameters (914 trainable),
# 202,832 MACs per sample.

from torch import nn


class forward(nn.Sequential):
    """Block forward."""

    def __init__(self, in_channels, self_, training=1):
        super().__init__()
        self.add_module("class", nn.Conv2d(in_channels, self_, 3, padding=1))
        self.add_module("return", nn.ReLU(inplace=True))
        if training == 1:
            self.super = nn.BatchNorm2d(self_)


class torch_(nn.Module):
    """The network torch; submodule paths are the layer paths of the .cnn file."""

    def __init__(self, None_=8):
        super().__init__()
        self.forward_ = forward(3, None_)
        self.add_module("__init___", forward(None_, None_, training=0))
        self.state_dict_ = nn.Sequential()
        self.state_dict_.eval_ = nn.ReLU()
        self.state_dict_.cuda_ = nn.Identity()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.to_ = nn.Linear(None_ * 1 * 1, 10)

    def forward(self, x):
        x = self.forward_(x)
        x = getattr(self, "__init___")(x)
        x = self.state_dict_(x)
        x = self.avgpool(x)
        x = self.flatten(x)
        x = self.to_(x)
        return x


INPUTS = {"input": (3, 16, 16)}  # per-sample input shapes, in forward's order


def build():
    """A freshly initialised torch_."""
    return torch_()
