# AlexNet(classes=1000), compiled by cnnc from archs/alexnet.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x227x227. 60,965,224 parameters (60,965,224 trainable), 724,406,816 MACs per sample.

import torch
import torch.nn.functional as F
from torch import nn


class AlexNet(nn.Module):
    """The network AlexNet; submodule paths are the layer paths of the .cnn file."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 96, 11, stride=4)  # archs/alexnet.cnn:11
        self.add_module("1", nn.ReLU(inplace=True))  # archs/alexnet.cnn:11
        self.norm1 = nn.LocalResponseNorm(5, k=2.0)  # archs/alexnet.cnn:12
        self.pool1 = nn.MaxPool2d(3, stride=2)  # archs/alexnet.cnn:12
        self.conv2 = nn.Conv2d(96, 256, 5, padding=2, groups=2)  # archs/alexnet.cnn:13
        self.add_module("5", nn.ReLU(inplace=True))  # archs/alexnet.cnn:13
        self.norm2 = nn.LocalResponseNorm(5, k=2.0)  # archs/alexnet.cnn:14
        self.pool2 = nn.MaxPool2d(3, stride=2)  # archs/alexnet.cnn:14
        self.conv3 = nn.Conv2d(256, 384, 3, padding=1)  # archs/alexnet.cnn:15
        self.add_module("9", nn.ReLU(inplace=True))  # archs/alexnet.cnn:15
        self.conv4 = nn.Conv2d(384, 384, 3, padding=1, groups=2)  # archs/alexnet.cnn:16
        self.add_module("11", nn.ReLU(inplace=True))  # archs/alexnet.cnn:16
        self.conv5 = nn.Conv2d(384, 256, 3, padding=1, groups=2)  # archs/alexnet.cnn:17
        self.add_module("13", nn.ReLU(inplace=True))  # archs/alexnet.cnn:17
        self.pool5 = nn.MaxPool2d(3, stride=2)  # archs/alexnet.cnn:17
        self.add_module("15", nn.Flatten())  # archs/alexnet.cnn:18
        self.fc6 = nn.Linear(9216, 4096)  # archs/alexnet.cnn:19
        self.add_module("17", nn.ReLU(inplace=True))  # archs/alexnet.cnn:19
        self.add_module("18", nn.Dropout(p=0.5))  # archs/alexnet.cnn:19
        self.fc7 = nn.Linear(4096, 4096)  # archs/alexnet.cnn:20
        self.add_module("20", nn.ReLU(inplace=True))  # archs/alexnet.cnn:20
        self.add_module("21", nn.Dropout(p=0.5))  # archs/alexnet.cnn:20
        self.fc8 = nn.Linear(4096, 1000)  # archs/alexnet.cnn:21

    def forward(self, x):
        x = self.conv1(x)  # archs/alexnet.cnn:11
        x = getattr(self, "1")(x)  # archs/alexnet.cnn:11
        x = self.norm1(x)  # archs/alexnet.cnn:12
        x = self.pool1(x)  # archs/alexnet.cnn:12
        x = self.conv2(x)  # archs/alexnet.cnn:13
        x = getattr(self, "5")(x)  # archs/alexnet.cnn:13
        x = self.norm2(x)  # archs/alexnet.cnn:14
        x = self.pool2(x)  # archs/alexnet.cnn:14
        x = self.conv3(x)  # archs/alexnet.cnn:15
        x = getattr(self, "9")(x)  # archs/alexnet.cnn:15
        x = self.conv4(x)  # archs/alexnet.cnn:16
        x = getattr(self, "11")(x)  # archs/alexnet.cnn:16
        x = self.conv5(x)  # archs/alexnet.cnn:17
        x = getattr(self, "13")(x)  # archs/alexnet.cnn:17
        x = self.pool5(x)  # archs/alexnet.cnn:17
        x = getattr(self, "15")(x)  # archs/alexnet.cnn:18
        x = self.fc6(x)  # archs/alexnet.cnn:19
        x = getattr(self, "17")(x)  # archs/alexnet.cnn:19
        x = getattr(self, "18")(x)  # archs/alexnet.cnn:19
        x = self.fc7(x)  # archs/alexnet.cnn:20
        x = getattr(self, "20")(x)  # archs/alexnet.cnn:20
        x = getattr(self, "21")(x)  # archs/alexnet.cnn:20
        x = self.fc8(x)  # archs/alexnet.cnn:21
        return x


INPUTS = {'input': (3, 227, 227)}  # per-sample input shapes (no batch dimension), in forward's order


def build():
    """A freshly initialised AlexNet."""
    return AlexNet()
