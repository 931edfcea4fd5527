# VGG16(classes=1000, config=(64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M')), compiled by cnnc from archs/vgg16.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x224x224. 138,357,544 parameters (138,357,544 trainable), 15,470,264,320 MACs per sample.

import torch
import torch.nn.functional as F
from torch import nn


class Features(nn.Sequential):
    """Block Features, used at features."""

    def __init__(self):
        super().__init__(
            nn.Conv2d(3, 64, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.Conv2d(64, 64, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.MaxPool2d(2, stride=2),  # archs/vgg16.cnn:10
            nn.Conv2d(64, 128, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.Conv2d(128, 128, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.MaxPool2d(2, stride=2),  # archs/vgg16.cnn:10
            nn.Conv2d(128, 256, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.Conv2d(256, 256, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.Conv2d(256, 256, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.MaxPool2d(2, stride=2),  # archs/vgg16.cnn:10
            nn.Conv2d(256, 512, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.Conv2d(512, 512, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.Conv2d(512, 512, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.MaxPool2d(2, stride=2),  # archs/vgg16.cnn:10
            nn.Conv2d(512, 512, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.Conv2d(512, 512, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.Conv2d(512, 512, 3, padding=1),  # archs/vgg16.cnn:10
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:10
            nn.MaxPool2d(2, stride=2),  # archs/vgg16.cnn:10
        )


class Classifier(nn.Sequential):
    """Block Classifier, used at classifier."""

    def __init__(self):
        super().__init__(
            nn.Linear(25088, 4096),  # archs/vgg16.cnn:15
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:15
            nn.Dropout(p=0.5),  # archs/vgg16.cnn:15
            nn.Linear(4096, 4096),  # archs/vgg16.cnn:16
            nn.ReLU(inplace=True),  # archs/vgg16.cnn:16
            nn.Dropout(p=0.5),  # archs/vgg16.cnn:16
            nn.Linear(4096, 1000),  # archs/vgg16.cnn:17
        )


class VGG16(nn.Module):
    """The network VGG16; submodule paths are the layer paths of the .cnn file."""

    def __init__(self):
        super().__init__()
        self.features = Features()  # archs/vgg16.cnn:27
        self.avgpool = nn.AdaptiveAvgPool2d(7)  # archs/vgg16.cnn:28
        self.add_module("2", nn.Flatten())  # archs/vgg16.cnn:28
        self.classifier = Classifier()  # archs/vgg16.cnn:29
        # initialisation declared with `init` (torch's default elsewhere)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(x)  # archs/vgg16.cnn:27
        x = self.avgpool(x)  # archs/vgg16.cnn:28
        x = getattr(self, "2")(x)  # archs/vgg16.cnn:28
        x = self.classifier(x)  # archs/vgg16.cnn:29
        return x


INPUTS = {'input': (3, 224, 224)}  # per-sample input shapes (no batch dimension), in forward's order


def build():
    """A freshly initialised VGG16."""
    return VGG16()
