# SideHeads(), compiled by cnnc from side_head_in_block.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x32x32. 6,014 parameters (6,014 trainable), 1,622,336 MACs per sample.

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class SideHeadsOutputs(NamedTuple):
    """What SideHeads returns in training mode: the main output, then the side outputs."""

    output: torch.Tensor
    stage1_side: torch.Tensor
    stage2_side: torch.Tensor


class Stage(nn.Module):
    """Block Stage, used at stage1, stage2."""

    def __init__(self, in_channels, width):
        super().__init__()
        self.add_module("0", nn.Conv2d(in_channels, width, 3, padding=1))  # side_head_in_block.cnn:3
        self.add_module("1", nn.BatchNorm2d(width))  # side_head_in_block.cnn:3
        self.add_module("2", nn.ReLU(inplace=True))  # side_head_in_block.cnn:3
        self.side = nn.Sequential(
            nn.AdaptiveAvgPool2d((1, 1)),  # side_head_in_block.cnn:4
            nn.Flatten(),  # side_head_in_block.cnn:4
            nn.Linear(width, 10),  # side_head_in_block.cnn:4
        )
        self.add_module("4", nn.MaxPool2d(2, stride=2))  # side_head_in_block.cnn:5

    def forward(self, x):
        x = getattr(self, "0")(x)  # side_head_in_block.cnn:3
        x = getattr(self, "1")(x)  # side_head_in_block.cnn:3
        x = getattr(self, "2")(x)  # side_head_in_block.cnn:3
        side = self.side(x)  # side_head_in_block.cnn:4
        x = getattr(self, "4")(x)  # side_head_in_block.cnn:5
        return side, x


class SideHeads(nn.Module):
    """The network SideHeads; submodule paths are the layer paths of the .cnn file."""

    def __init__(self):
        super().__init__()
        self.stage1 = Stage(3, 16)  # side_head_in_block.cnn:10
        self.stage2 = Stage(16, 32)  # side_head_in_block.cnn:11
        self.add_module("2", nn.AdaptiveAvgPool2d((1, 1)))  # side_head_in_block.cnn:12
        self.add_module("3", nn.Flatten())  # side_head_in_block.cnn:12
        self.fc = nn.Linear(32, 10)  # side_head_in_block.cnn:13

    def forward(self, x):
        x, stage1 = self.stage1(x)  # side_head_in_block.cnn:10
        stage1, stage2 = self.stage2(stage1)  # side_head_in_block.cnn:11
        stage2 = getattr(self, "2")(stage2)  # side_head_in_block.cnn:12
        stage2 = getattr(self, "3")(stage2)  # side_head_in_block.cnn:12
        stage2 = self.fc(stage2)  # side_head_in_block.cnn:13
        if self.training:
            return SideHeadsOutputs(stage2, x, stage1)
        return stage2


INPUTS = {'input': (3, 32, 32)}  # per-sample input shapes (no batch dimension), in forward's order


def build():
    """A freshly initialised SideHeads."""
    return SideHeads()
