# GoogLeNet(classes=1000), compiled by cnnc from archs/googlenet.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x224x224. 13,378,280 parameters (13,378,280 trainable), 1,582,671,872 MACs per sample.

from collections import OrderedDict
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class GoogLeNetOutputs(NamedTuple):
    """What GoogLeNet returns in training mode: the main output, then the side outputs."""

    output: torch.Tensor
    aux1: torch.Tensor
    aux2: torch.Tensor


class Inception(nn.Module):
    """Block Inception, used at inception3a, inception3b, inception4a, inception4b, ... (9 in all)."""

    def __init__(self, in_channels, c1, c3r, c3, c5r, c5, pool_proj):
        super().__init__()
        self.branch1 = nn.Sequential(
            nn.Conv2d(in_channels, c1, 1),  # archs/googlenet.cnn:12
            nn.ReLU(inplace=True),  # archs/googlenet.cnn:12
        )
        self.branch2 = nn.Sequential(
            nn.Conv2d(in_channels, c3r, 1),  # archs/googlenet.cnn:14
            nn.ReLU(inplace=True),  # archs/googlenet.cnn:14
            nn.Conv2d(c3r, c3, 3, padding=1),  # archs/googlenet.cnn:14
            nn.ReLU(inplace=True),  # archs/googlenet.cnn:14
        )
        self.branch3 = nn.Sequential(
            nn.Conv2d(in_channels, c5r, 1),  # archs/googlenet.cnn:16
            nn.ReLU(inplace=True),  # archs/googlenet.cnn:16
            nn.Conv2d(c5r, c5, 5, padding=2),  # archs/googlenet.cnn:16
            nn.ReLU(inplace=True),  # archs/googlenet.cnn:16
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1),  # archs/googlenet.cnn:18
            nn.Conv2d(in_channels, pool_proj, 1),  # archs/googlenet.cnn:18
            nn.ReLU(inplace=True),  # archs/googlenet.cnn:18
        )

    def forward(self, x):
        branch1 = self.branch1(x)  # archs/googlenet.cnn:12
        branch2 = self.branch2(x)  # archs/googlenet.cnn:14
        branch3 = self.branch3(x)  # archs/googlenet.cnn:16
        branch4 = self.branch4(x)  # archs/googlenet.cnn:18
        x = torch.cat([branch1, branch2, branch3, branch4], 1)  # archs/googlenet.cnn:11
        return x


class GoogLeNet(nn.Module):
    """The network GoogLeNet; submodule paths are the layer paths of the .cnn file."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3)  # archs/googlenet.cnn:27
        self.add_module("1", nn.ReLU(inplace=True))  # archs/googlenet.cnn:27
        self.pool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # archs/googlenet.cnn:28
        self.norm1 = nn.LocalResponseNorm(5)  # archs/googlenet.cnn:29
        self.conv2_reduce = nn.Conv2d(64, 64, 1)  # archs/googlenet.cnn:30
        self.add_module("5", nn.ReLU(inplace=True))  # archs/googlenet.cnn:30
        self.conv2 = nn.Conv2d(64, 192, 3, padding=1)  # archs/googlenet.cnn:31
        self.add_module("7", nn.ReLU(inplace=True))  # archs/googlenet.cnn:31
        self.norm2 = nn.LocalResponseNorm(5)  # archs/googlenet.cnn:32
        self.pool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # archs/googlenet.cnn:33
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)  # archs/googlenet.cnn:35
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)  # archs/googlenet.cnn:36
        self.pool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # archs/googlenet.cnn:37
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)  # archs/googlenet.cnn:38
        self.aux1 = nn.Sequential(OrderedDict([
            ("0", nn.AvgPool2d(5, stride=3)),  # archs/googlenet.cnn:40
            ("conv", nn.Conv2d(512, 128, 1)),  # archs/googlenet.cnn:40
            ("2", nn.ReLU(inplace=True)),  # archs/googlenet.cnn:40
            ("3", nn.Flatten()),  # archs/googlenet.cnn:40
            ("fc1", nn.Linear(2048, 1024)),  # archs/googlenet.cnn:41
            ("5", nn.ReLU(inplace=True)),  # archs/googlenet.cnn:41
            ("6", nn.Dropout(p=0.7)),  # archs/googlenet.cnn:41
            ("fc2", nn.Linear(1024, 1000)),  # archs/googlenet.cnn:41
        ]))
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)  # archs/googlenet.cnn:43
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)  # archs/googlenet.cnn:44
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)  # archs/googlenet.cnn:45
        self.aux2 = nn.Sequential(OrderedDict([
            ("0", nn.AvgPool2d(5, stride=3)),  # archs/googlenet.cnn:47
            ("conv", nn.Conv2d(528, 128, 1)),  # archs/googlenet.cnn:47
            ("2", nn.ReLU(inplace=True)),  # archs/googlenet.cnn:47
            ("3", nn.Flatten()),  # archs/googlenet.cnn:47
            ("fc1", nn.Linear(2048, 1024)),  # archs/googlenet.cnn:48
            ("5", nn.ReLU(inplace=True)),  # archs/googlenet.cnn:48
            ("6", nn.Dropout(p=0.7)),  # archs/googlenet.cnn:48
            ("fc2", nn.Linear(1024, 1000)),  # archs/googlenet.cnn:48
        ]))
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)  # archs/googlenet.cnn:50
        self.pool4 = nn.MaxPool2d(3, stride=2, ceil_mode=True)  # archs/googlenet.cnn:51
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)  # archs/googlenet.cnn:52
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)  # archs/googlenet.cnn:53
        self.avgpool = nn.AvgPool2d(7, stride=1)  # archs/googlenet.cnn:54
        self.add_module("24", nn.Flatten())  # archs/googlenet.cnn:54
        self.dropout = nn.Dropout(p=0.4)  # archs/googlenet.cnn:55
        self.fc = nn.Linear(1024, 1000)  # archs/googlenet.cnn:56
        # initialisation declared with `init` (torch's default elsewhere)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.trunc_normal_(m.weight, std=0.01, a=-2.0, b=2.0)
            elif isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.01, a=-2.0, b=2.0)

    def forward(self, x):
        x = self.conv1(x)  # archs/googlenet.cnn:27
        x = getattr(self, "1")(x)  # archs/googlenet.cnn:27
        x = self.pool1(x)  # archs/googlenet.cnn:28
        x = self.norm1(x)  # archs/googlenet.cnn:29
        x = self.conv2_reduce(x)  # archs/googlenet.cnn:30
        x = getattr(self, "5")(x)  # archs/googlenet.cnn:30
        x = self.conv2(x)  # archs/googlenet.cnn:31
        x = getattr(self, "7")(x)  # archs/googlenet.cnn:31
        x = self.norm2(x)  # archs/googlenet.cnn:32
        x = self.pool2(x)  # archs/googlenet.cnn:33
        x = self.inception3a(x)  # archs/googlenet.cnn:35
        x = self.inception3b(x)  # archs/googlenet.cnn:36
        x = self.pool3(x)  # archs/googlenet.cnn:37
        x = self.inception4a(x)  # archs/googlenet.cnn:38
        if self.training:
            aux1 = self.aux1(x)  # archs/googlenet.cnn:40
        x = self.inception4b(x)  # archs/googlenet.cnn:43
        x = self.inception4c(x)  # archs/googlenet.cnn:44
        x = self.inception4d(x)  # archs/googlenet.cnn:45
        if self.training:
            aux2 = self.aux2(x)  # archs/googlenet.cnn:47
        x = self.inception4e(x)  # archs/googlenet.cnn:50
        x = self.pool4(x)  # archs/googlenet.cnn:51
        x = self.inception5a(x)  # archs/googlenet.cnn:52
        x = self.inception5b(x)  # archs/googlenet.cnn:53
        x = self.avgpool(x)  # archs/googlenet.cnn:54
        x = getattr(self, "24")(x)  # archs/googlenet.cnn:54
        x = self.dropout(x)  # archs/googlenet.cnn:55
        x = self.fc(x)  # archs/googlenet.cnn:56
        if self.training:
            return GoogLeNetOutputs(x, aux1, aux2)
        return x


INPUTS = {'input': (3, 224, 224)}  # per-sample input shapes (no batch dimension), in forward's order


def build():
    """A freshly initialised GoogLeNet."""
    return GoogLeNet()
