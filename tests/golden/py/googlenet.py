# GoogLeNet(classes=1000), compiled by cnnc from archs/googlenet.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x224x224. 13,378,280 parameters (13,378,280 trainable),
# 1,582,671,872 MACs per sample.

from typing import NamedTuple

import torch
from torch import nn


class GoogLeNetOutputs(NamedTuple):
    """What GoogLeNet returns in training mode: the main output, then the side outputs."""

    output: torch.Tensor
    aux1: torch.Tensor
    aux2: torch.Tensor


class Inception(nn.Module):
    """Block Inception."""

    def __init__(self, in_channels, c1, c3r, c3, c5r, c5, pool_proj):
        super().__init__()
        self.branch1 = nn.Sequential(
            nn.Conv2d(in_channels, c1, 1), nn.ReLU(inplace=True)
        )
        self.branch2 = nn.Sequential(
            nn.Conv2d(in_channels, c3r, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c3r, c3, 3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.branch3 = nn.Sequential(
            nn.Conv2d(in_channels, c5r, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c5r, c5, 5, padding=2),
            nn.ReLU(inplace=True),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1),
            nn.Conv2d(in_channels, pool_proj, 1),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        branch1 = self.branch1(x)
        branch2 = self.branch2(x)
        branch3 = self.branch3(x)
        branch4 = self.branch4(x)
        x = torch.cat([branch1, branch2, branch3, branch4], 1)
        return x


class GoogLeNet(nn.Module):
    """The network GoogLeNet; submodule paths are the layer paths of the .cnn file."""

    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3)
        self.relu = nn.ReLU(inplace=True)
        self.pool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.norm1 = nn.LocalResponseNorm(5)
        self.conv2_reduce = nn.Conv2d(64, 64, 1)
        self.conv2 = nn.Conv2d(64, 192, 3, padding=1)
        self.norm2 = nn.LocalResponseNorm(5)
        self.pool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.pool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.aux1 = nn.Sequential()
        self.aux1.append(nn.AvgPool2d(5, stride=3))
        self.aux1.conv = nn.Conv2d(512, 128, 1)
        self.aux1.append(nn.ReLU(inplace=True))
        self.aux1.append(nn.Flatten())
        self.aux1.fc1 = nn.Linear(2048, 1024)
        self.aux1.append(nn.ReLU(inplace=True))
        self.aux1.append(nn.Dropout(p=0.7))
        self.aux1.fc2 = nn.Linear(1024, classes)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.aux2 = nn.Sequential()
        self.aux2.append(nn.AvgPool2d(5, stride=3))
        self.aux2.conv = nn.Conv2d(528, 128, 1)
        self.aux2.append(nn.ReLU(inplace=True))
        self.aux2.append(nn.Flatten())
        self.aux2.fc1 = nn.Linear(2048, 1024)
        self.aux2.append(nn.ReLU(inplace=True))
        self.aux2.append(nn.Dropout(p=0.7))
        self.aux2.fc2 = nn.Linear(1024, classes)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.pool4 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.avgpool = nn.AvgPool2d(7, stride=1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(p=0.4)
        self.fc = nn.Linear(1024, classes)
        # initialisation declared with `init` (torch's default elsewhere)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.01, a=-2.0, b=2.0)

    def forward(self, x):
        x = self.conv1(x)
        x = self.relu(x)
        x = self.pool1(x)
        x = self.norm1(x)
        x = self.conv2_reduce(x)
        x = self.relu(x)
        x = self.conv2(x)
        x = self.relu(x)
        x = self.norm2(x)
        x = self.pool2(x)
        x = self.inception3a(x)
        x = self.inception3b(x)
        x = self.pool3(x)
        x = self.inception4a(x)
        if self.training:
            aux1 = self.aux1(x)
        inception4b = self.inception4b(x)
        inception4b = self.inception4c(inception4b)
        inception4b = self.inception4d(inception4b)
        if self.training:
            aux2 = self.aux2(inception4b)
        inception4e = self.inception4e(inception4b)
        inception4e = self.pool4(inception4e)
        inception4e = self.inception5a(inception4e)
        inception4e = self.inception5b(inception4e)
        inception4e = self.avgpool(inception4e)
        inception4e = self.flatten(inception4e)
        inception4e = self.dropout(inception4e)
        inception4e = self.fc(inception4e)
        if self.training:
            return GoogLeNetOutputs(inception4e, aux1, aux2)
        return inception4e


INPUTS = {"input": (3, 224, 224)}  # per-sample input shapes, in forward's order


def build():
    """A freshly initialised GoogLeNet."""
    return GoogLeNet()
