# AlexNet(classes=1000), compiled by cnnc from archs/alexnet.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x227x227. 60,965,224 parameters (60,965,224 trainable),
# 724,406,816 MACs per sample.

from torch import nn


class AlexNet(nn.Module):
    """The network AlexNet; submodule paths are the layer paths of the .cnn file."""

    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 96, 11, stride=4)
        self.relu = nn.ReLU(inplace=True)
        self.norm1 = nn.LocalResponseNorm(5, k=2.0)
        self.pool1 = nn.MaxPool2d(3, stride=2)
        self.conv2 = nn.Conv2d(96, 256, 5, padding=2, groups=2)
        self.norm2 = nn.LocalResponseNorm(5, k=2.0)
        self.pool2 = nn.MaxPool2d(3, stride=2)
        self.conv3 = nn.Conv2d(256, 384, 3, padding=1)
        self.conv4 = nn.Conv2d(384, 384, 3, padding=1, groups=2)
        self.conv5 = nn.Conv2d(384, 256, 3, padding=1, groups=2)
        self.pool5 = nn.MaxPool2d(3, stride=2)
        self.flatten = nn.Flatten()
        self.fc6 = nn.Linear(9216, 4096)
        self.dropout = nn.Dropout(p=0.5)
        self.fc7 = nn.Linear(4096, 4096)
        self.fc8 = nn.Linear(4096, classes)

    def forward(self, x):
        x = self.conv1(x)
        x = self.relu(x)
        x = self.norm1(x)
        x = self.pool1(x)
        x = self.conv2(x)
        x = self.relu(x)
        x = self.norm2(x)
        x = self.pool2(x)
        x = self.conv3(x)
        x = self.relu(x)
        x = self.conv4(x)
        x = self.relu(x)
        x = self.conv5(x)
        x = self.relu(x)
        x = self.pool5(x)
        x = self.flatten(x)
        x = self.fc6(x)
        x = self.relu(x)
        x = self.dropout(x)
        x = self.fc7(x)
        x = self.relu(x)
        x = self.dropout(x)
        x = self.fc8(x)
        return x


INPUTS = {"input": (3, 227, 227)}  # per-sample input shapes, in forward's order


def build():
    """A freshly initialised AlexNet."""
    return AlexNet()
