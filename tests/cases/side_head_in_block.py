# SideHeads(), compiled by cnnc from side_head_in_block.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x32x32. 6,014 parameters (6,014 trainable),
# 1,622,336 MACs per sample.

from typing import NamedTuple

import torch
from torch import nn


class SideHeadsOutputs(NamedTuple):
    """What SideHeads returns in training mode: the main output, then the side outputs."""

    output: torch.Tensor
    stage1_side: torch.Tensor
    stage2_side: torch.Tensor


class Stage(nn.Module):
    """Block Stage."""

    def __init__(self, in_channels, width):
        super().__init__()
        self.add_module("0", nn.Conv2d(in_channels, width, 3, padding=1))
        self.add_module("1", nn.BatchNorm2d(width))
        self.relu = nn.ReLU(inplace=True)
        self.side = nn.Sequential(
            nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(width * 1 * 1, 10)
        )
        self.maxpool = nn.MaxPool2d(2, stride=2)

    def forward(self, x):
        out = None
        x = getattr(self, "0")(x)
        x = getattr(self, "1")(x)
        x = self.relu(x)
        if self.training:
            out = self.side(x)
        x = self.maxpool(x)
        return x, out


class SideHeads(nn.Module):
    """The network SideHeads; submodule paths are the layer paths of the .cnn file."""

    def __init__(self):
        super().__init__()
        self.stage1 = Stage(3, 16)
        self.stage2 = Stage(16, 32)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x, stage1 = self.stage1(x)
        x, stage2 = self.stage2(x)
        x = self.avgpool(x)
        x = self.flatten(x)
        x = self.fc(x)
        if self.training:
            return SideHeadsOutputs(x, stage1, stage2)
        return x


INPUTS = {"input": (3, 32, 32)}  # per-sample input shapes, in forward's order


def build():
    """A freshly initialised SideHeads."""
    return SideHeads()
