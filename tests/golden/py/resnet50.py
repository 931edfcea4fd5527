# ResNet50(classes=1000), compiled by cnnc from archs/resnet50.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x224x224. 25,557,032 parameters (25,557,032 trainable),
# 4,089,184,256 MACs per sample.

from torch import nn


class Bottleneck(nn.Module):
    """Block Bottleneck."""

    def __init__(self, in_channels, width, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, 4 * width, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * width)
        self.downsample = None
        if stride != 1 or in_channels != 4 * width:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, 4 * width, 1, stride=stride, bias=False),
                nn.BatchNorm2d(4 * width),
            )

    def forward(self, x):
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        out = self.relu(out)
        out = self.conv3(out)
        out = self.bn3(out)
        if self.downsample is not None:
            x = self.downsample(x)
        out += x
        out = self.relu(out)
        return out


class Stage(nn.Sequential):
    """Block Stage."""

    def __init__(self, in_channels, width, blocks, stride=2):
        super().__init__()
        self.append(Bottleneck(in_channels, width, stride))
        for _ in range(blocks - 1):
            self.append(Bottleneck(4 * width, width))


class ResNet50(nn.Module):
    """The network ResNet50; submodule paths are the layer paths of the .cnn file."""

    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = Stage(64, 64, 3, stride=1)
        self.layer2 = Stage(256, 128, 4)
        self.layer3 = Stage(512, 256, 6)
        self.layer4 = Stage(1024, 512, 3)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(2048, classes)
        # initialisation declared with `init` (torch's default elsewhere)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = self.flatten(x)
        x = self.fc(x)
        return x


INPUTS = {"input": (3, 224, 224)}  # per-sample input shapes, in forward's order


def build():
    """A freshly initialised ResNet50."""
    return ResNet50()
