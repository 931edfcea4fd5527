# LeNet5(classes=10, c3_table=[...]), compiled by cnnc from archs/lenet5.cnn.
# Generated code: edit the .cnn file and recompile rather than editing this file.
# Inputs: input 1x32x32. 60,000 parameters (60,000 trainable),
# 325,680 MACs per sample.

import torch
import torch.nn.functional as F
from torch import nn


class RBF(nn.Module):
    """Euclidean RBF units: output j = sum_i (x_i - w_ji)^2, with fixed +-1 prototypes w (a buffer)."""

    def __init__(self, in_features, out_features):
        super().__init__()
        index = torch.arange(in_features * out_features, dtype=torch.long)
        bits = (
            ((index * 2654435761 + 12345) % 4294967296) // 65536 % 2
        )  # Knuth's hash, top bits
        prototypes = (
            (bits * 2 - 1).to(torch.get_default_dtype()).view(out_features, in_features)
        )
        self.register_buffer("prototypes", prototypes)

    def forward(self, x):
        return (x.unsqueeze(1) - self.prototypes).pow(2).sum(-1)

    def extra_repr(self):
        return f"in_features={self.prototypes.shape[1]}, out_features={self.prototypes.shape[0]}"


class ScaledTanh(nn.Module):
    """a * tanh(s * x): LeCun's squashing function (a = 1.7159, s = 2/3)."""

    def __init__(self, a=1.7159, s=2 / 3):
        super().__init__()
        self.a, self.s = a, s

    def forward(self, x):
        return self.a * torch.tanh(self.s * x)

    def extra_repr(self):
        return f"a={self.a}, s={self.s}"


class Subsample(nn.Module):
    """LeNet-5's trainable subsampling: each map's window sum x a coefficient + a bias."""

    def __init__(self, channels, kernel_size=2, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        kh, kw = (
            (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        )
        self.area = kh * kw
        self.weight = nn.Parameter(torch.empty(channels))
        self.bias = nn.Parameter(torch.empty(channels))
        bound = 1 / self.area**0.5
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        window_sum = F.avg_pool2d(x, self.kernel_size, self.stride) * self.area
        return window_sum * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def extra_repr(self):
        return f"{self.weight.shape[0]}, kernel_size={self.kernel_size}, stride={self.stride}"


class TableConv2d(nn.Module):
    """Convolution with a channel connection table (LeNet-5's C3): output o sees inputs table[o]."""

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        table,
        stride=1,
        padding=0,
        dilation=1,
        bias=True,
    ):
        super().__init__()
        kh, kw = (
            (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        )
        self.in_channels, self.out_channels, self.kernel_size = (
            in_channels,
            out_channels,
            (kh, kw),
        )
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.table = tuple(tuple(row) for row in table)
        links = sum(len(row) for row in self.table)
        slots = torch.full(
            (out_channels * in_channels,), links, dtype=torch.long
        )  # -> the zero row
        row = 0
        for o, inputs in enumerate(self.table):
            for i in inputs:
                slots[o * in_channels + i] = row
                row += 1
        self.register_buffer("slots", slots, persistent=False)
        self.weight = nn.Parameter(torch.empty(links, kh, kw))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        for o, inputs in enumerate(
            self.table
        ):  # as nn.Conv2d does, with each output's own fan-in
            fan_in = len(inputs) * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / fan_in**0.5
            start = sum(len(row) for row in self.table[:o])
            nn.init.uniform_(
                self.weight.data[start : start + len(inputs)], -bound, bound
            )
            if self.bias is not None:
                nn.init.uniform_(self.bias.data[o : o + 1], -bound, bound)

    def dense_weight(self):
        padded = F.pad(self.weight, (0, 0, 0, 0, 0, 1))  # append one zero row
        return padded.index_select(0, self.slots).view(
            self.out_channels, self.in_channels, *self.kernel_size
        )

    def forward(self, x):
        return F.conv2d(
            x, self.dense_weight(), self.bias, self.stride, self.padding, self.dilation
        )

    def extra_repr(self):
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"links={self.weight.shape[0]}, stride={self.stride}"
        )


C3_TABLE = (
    (0, 1, 2),
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 5),
    (4, 5, 0),
    (5, 0, 1),
    (0, 1, 2, 3),
    (1, 2, 3, 4),
    (2, 3, 4, 5),
    (3, 4, 5, 0),
    (4, 5, 0, 1),
    (5, 0, 1, 2),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class LeNet5(nn.Module):
    """The network LeNet5; submodule paths are the layer paths of the .cnn file."""

    def __init__(self, classes=10, c3_table=C3_TABLE):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.scaled_tanh = ScaledTanh()
        self.s2 = Subsample(6, 2)
        self.c3 = TableConv2d(6, 16, 5, c3_table)
        self.s4 = Subsample(16, 2)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.flatten = nn.Flatten()
        self.f6 = nn.Linear(120, 84)
        self.out = RBF(84, classes)

    def forward(self, x):
        x = self.c1(x)
        x = self.scaled_tanh(x)
        x = self.s2(x)
        x = self.scaled_tanh(x)
        x = self.c3(x)
        x = self.scaled_tanh(x)
        x = self.s4(x)
        x = self.scaled_tanh(x)
        x = self.c5(x)
        x = self.scaled_tanh(x)
        x = self.flatten(x)
        x = self.f6(x)
        x = self.scaled_tanh(x)
        x = self.out(x)
        return x


INPUTS = {"input": (1, 32, 32)}  # per-sample input shapes, in forward's order


def build():
    """A freshly initialised LeNet5."""
    return LeNet5()
