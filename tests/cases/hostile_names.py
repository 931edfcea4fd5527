# torch(None=8), compiled by cnnc from hostile_names.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x16x16. 914 parameters (914 trainable), 202,832 MACs per sample.

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


class forward(nn.Module):
    """Block forward, used at forward."""

    def __init__(self):
        super().__init__()
        self.add_module("class", nn.Conv2d(3, 8, 3, padding=1))  # hostile_names.cnn:3
        self.add_module("return", nn.ReLU(inplace=True))  # hostile_names.cnn:4
        self.super = nn.BatchNorm2d(8)  # hostile_names.cnn:5

    def forward(self, x):
        x = getattr(self, "class")(x)  # hostile_names.cnn:3
        x = getattr(self, "return")(x)  # hostile_names.cnn:4
        x = self.super(x)  # hostile_names.cnn:5
        return x


class forward2(nn.Module):
    """Block forward, used at __init__."""

    def __init__(self):
        super().__init__()
        self.add_module("class", nn.Conv2d(8, 8, 3, padding=1))  # hostile_names.cnn:3
        self.add_module("return", nn.ReLU(inplace=True))  # hostile_names.cnn:4

    def forward(self, x):
        x = getattr(self, "class")(x)  # hostile_names.cnn:3
        x = getattr(self, "return")(x)  # hostile_names.cnn:4
        return x


class torch_(nn.Module):
    """The network torch; submodule paths are the layer paths of the .cnn file."""

    def __init__(self):
        super().__init__()
        self.forward_ = forward()  # hostile_names.cnn:10
        self.init_ = forward2()  # hostile_names.cnn:11
        self.state_dict_ = nn.Sequential(OrderedDict([
            ("eval_", nn.ReLU()),  # hostile_names.cnn:12
            ("cuda_", nn.Identity()),  # hostile_names.cnn:12
        ]))
        self.add_module("3", nn.AdaptiveAvgPool2d((1, 1)))  # hostile_names.cnn:13
        self.add_module("4", nn.Flatten())  # hostile_names.cnn:13
        self.to_ = nn.Linear(8, 10)  # hostile_names.cnn:14

    def forward(self, x):
        x = self.forward_(x)  # hostile_names.cnn:10
        x = self.init_(x)  # hostile_names.cnn:11
        x = self.state_dict_(x)  # hostile_names.cnn:12
        x = getattr(self, "3")(x)  # hostile_names.cnn:13
        x = getattr(self, "4")(x)  # hostile_names.cnn:13
        x = self.to_(x)  # hostile_names.cnn:14
        return x


INPUTS = {'input': (3, 16, 16)}  # per-sample input shapes (no batch dimension), in forward's order


def build():
    """A freshly initialised torch_."""
    return torch_()
