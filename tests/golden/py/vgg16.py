# VGG16(classes=1000, config=[...]), compiled by cnnc from archs/vgg16.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 3x224x224. 138,357,544 parameters (138,357,544 trainable),
# 15,470,264,320 MACs per sample.

from torch import nn

CONFIG = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    "M",
)


class Features(nn.Sequential):
    """Block Features."""

    def __init__(self, in_channels, config):
        super().__init__()
        for v in config:
            if v == "M":
                self.append(nn.MaxPool2d(2, stride=2))
            else:
                self.append(nn.Conv2d(in_channels, v, 3, padding=1))
                self.append(nn.ReLU(inplace=True))
                in_channels = v


class Classifier(nn.Sequential):
    """Block Classifier."""

    def __init__(self, in_features, classes):
        super().__init__(
            nn.Linear(in_features, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(4096, classes),
        )


class VGG16(nn.Module):
    """The network VGG16; submodule paths are the layer paths of the .cnn file. Fixed at compile time: config."""

    def __init__(self, classes=1000):
        super().__init__()
        self.features = Features(3, CONFIG)
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        self.flatten = nn.Flatten()
        self.classifier = Classifier(25088, classes)
        # initialisation declared with `init` (torch's default elsewhere)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = self.flatten(x)
        x = self.classifier(x)
        return x


INPUTS = {"input": (3, 224, 224)}  # per-sample input shapes, in forward's order


def build():
    """A freshly initialised VGG16."""
    return VGG16()
