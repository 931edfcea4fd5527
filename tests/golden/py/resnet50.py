# ResNet50(classes=1000), compiled by cnnc from archs/resnet50.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x224x224. 25,557,032 parameters (25,557,032 trainable), 4,089,184,256 MACs per sample.

import torch
import torch.nn.functional as F
from torch import nn


class Bottleneck(nn.Module):
    """Block Bottleneck, used at layer1.0, layer2.0, layer3.0, layer4.0."""

    def __init__(self, in_channels, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)  # archs/resnet50.cnn:10
        self.bn1 = nn.BatchNorm2d(width)  # archs/resnet50.cnn:10
        self.add_module("2", nn.ReLU(inplace=True))  # archs/resnet50.cnn:10
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)  # archs/resnet50.cnn:11
        self.bn2 = nn.BatchNorm2d(width)  # archs/resnet50.cnn:11
        self.add_module("5", nn.ReLU(inplace=True))  # archs/resnet50.cnn:11
        self.conv3 = nn.Conv2d(width, 4 * width, 1, bias=False)  # archs/resnet50.cnn:12
        self.bn3 = nn.BatchNorm2d(4 * width)  # archs/resnet50.cnn:12
        self.downsample = nn.Sequential(
            nn.Conv2d(in_channels, 4 * width, 1, stride=stride, bias=False),  # archs/resnet50.cnn:14
            nn.BatchNorm2d(4 * width),  # archs/resnet50.cnn:14
        )
        self.add_module("10", nn.ReLU(inplace=True))  # archs/resnet50.cnn:16

    def forward(self, x):
        out = self.conv1(x)  # archs/resnet50.cnn:10
        out = self.bn1(out)  # archs/resnet50.cnn:10
        out = getattr(self, "2")(out)  # archs/resnet50.cnn:10
        out = self.conv2(out)  # archs/resnet50.cnn:11
        out = self.bn2(out)  # archs/resnet50.cnn:11
        out = getattr(self, "5")(out)  # archs/resnet50.cnn:11
        out = self.conv3(out)  # archs/resnet50.cnn:12
        out = self.bn3(out)  # archs/resnet50.cnn:12
        downsample = self.downsample(x)  # archs/resnet50.cnn:14
        out += downsample  # archs/resnet50.cnn:9
        out = getattr(self, "10")(out)  # archs/resnet50.cnn:16
        return out


class Bottleneck2(nn.Module):
    """Block Bottleneck, used at layer1.1, layer1.2, layer2.1, layer2.2, ... (12 in all)."""

    def __init__(self, in_channels, width):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)  # archs/resnet50.cnn:10
        self.bn1 = nn.BatchNorm2d(width)  # archs/resnet50.cnn:10
        self.add_module("2", nn.ReLU(inplace=True))  # archs/resnet50.cnn:10
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)  # archs/resnet50.cnn:11
        self.bn2 = nn.BatchNorm2d(width)  # archs/resnet50.cnn:11
        self.add_module("5", nn.ReLU(inplace=True))  # archs/resnet50.cnn:11
        self.conv3 = nn.Conv2d(width, 4 * width, 1, bias=False)  # archs/resnet50.cnn:12
        self.bn3 = nn.BatchNorm2d(4 * width)  # archs/resnet50.cnn:12
        self.add_module("10", nn.ReLU(inplace=True))  # archs/resnet50.cnn:16

    def forward(self, x):
        out = self.conv1(x)  # archs/resnet50.cnn:10
        out = self.bn1(out)  # archs/resnet50.cnn:10
        out = getattr(self, "2")(out)  # archs/resnet50.cnn:10
        out = self.conv2(out)  # archs/resnet50.cnn:11
        out = self.bn2(out)  # archs/resnet50.cnn:11
        out = getattr(self, "5")(out)  # archs/resnet50.cnn:11
        out = self.conv3(out)  # archs/resnet50.cnn:12
        out = self.bn3(out)  # archs/resnet50.cnn:12
        out += x  # archs/resnet50.cnn:9
        out = getattr(self, "10")(out)  # archs/resnet50.cnn:16
        return out


class Stage(nn.Sequential):
    """Block Stage, used at layer1, layer4."""

    def __init__(self, in_channels, width, stride):
        super().__init__(
            Bottleneck(in_channels, width, stride),  # archs/resnet50.cnn:20
            Bottleneck2(4 * width, width),  # archs/resnet50.cnn:21
            Bottleneck2(4 * width, width),  # archs/resnet50.cnn:21
        )


class Stage2(nn.Sequential):
    """Block Stage, used at layer2."""

    def __init__(self):
        super().__init__(
            Bottleneck(256, 128, 2),  # archs/resnet50.cnn:20
            Bottleneck2(512, 128),  # archs/resnet50.cnn:21
            Bottleneck2(512, 128),  # archs/resnet50.cnn:21
            Bottleneck2(512, 128),  # archs/resnet50.cnn:21
        )


class Stage3(nn.Sequential):
    """Block Stage, used at layer3."""

    def __init__(self):
        super().__init__(
            Bottleneck(512, 256, 2),  # archs/resnet50.cnn:20
            Bottleneck2(1024, 256),  # archs/resnet50.cnn:21
            Bottleneck2(1024, 256),  # archs/resnet50.cnn:21
            Bottleneck2(1024, 256),  # archs/resnet50.cnn:21
            Bottleneck2(1024, 256),  # archs/resnet50.cnn:21
            Bottleneck2(1024, 256),  # archs/resnet50.cnn:21
        )


class ResNet50(nn.Module):
    """The network ResNet50; submodule paths are the layer paths of the .cnn file."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)  # archs/resnet50.cnn:28
        self.bn1 = nn.BatchNorm2d(64)  # archs/resnet50.cnn:28
        self.relu = nn.ReLU(inplace=True)  # archs/resnet50.cnn:28
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)  # archs/resnet50.cnn:29
        self.layer1 = Stage(64, 64, 1)  # archs/resnet50.cnn:30
        self.layer2 = Stage2()  # archs/resnet50.cnn:31
        self.layer3 = Stage3()  # archs/resnet50.cnn:32
        self.layer4 = Stage(1024, 512, 2)  # archs/resnet50.cnn:33
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))  # archs/resnet50.cnn:34
        self.add_module("9", nn.Flatten())  # archs/resnet50.cnn:34
        self.fc = nn.Linear(2048, 1000)  # archs/resnet50.cnn:35
        # initialisation declared with `init` (torch's default elsewhere)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.conv1(x)  # archs/resnet50.cnn:28
        x = self.bn1(x)  # archs/resnet50.cnn:28
        x = self.relu(x)  # archs/resnet50.cnn:28
        x = self.maxpool(x)  # archs/resnet50.cnn:29
        x = self.layer1(x)  # archs/resnet50.cnn:30
        x = self.layer2(x)  # archs/resnet50.cnn:31
        x = self.layer3(x)  # archs/resnet50.cnn:32
        x = self.layer4(x)  # archs/resnet50.cnn:33
        x = self.avgpool(x)  # archs/resnet50.cnn:34
        x = getattr(self, "9")(x)  # archs/resnet50.cnn:34
        x = self.fc(x)  # archs/resnet50.cnn:35
        return x


INPUTS = {'input': (3, 224, 224)}  # per-sample input shapes (no batch dimension), in forward's order


def build():
    """A freshly initialised ResNet50."""
    return ResNet50()
