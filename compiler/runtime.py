"""The few layers torch lacks. Each class is self-contained (it uses only `torch`, `nn` and `F`):
`pysource` copies the source of the ones a network uses into the generated file, so a compiled
network never imports cnnc. cnnc reads this file as text (compiler/runtime_source.py): every
top-level class here is a runtime layer, and generating code never imports torch.

Conventions (they make the module's parameter count equal the analysis):
- TableConv2d stores only the connected weights, packed: `weight` has shape (links, kh, kw), one
  row per (output, input) pair named in the table, in table order. `forward` scatters them into a
  dense (out, in, kh, kw) kernel with one gather (unconnected pairs read an appended zero row)
  and runs ONE convolution.
- RBF's prototypes are a fixed buffer of +-1 (not trained), made by a deterministic bit pattern:
  no random numbers, no download.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


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


class ScaledTanh(nn.Module):
    """a * tanh(s * x): LeCun's squashing function (a = 1.7159, s = 2/3)."""

    def __init__(self, a=1.7159, s=2 / 3):
        super().__init__()
        self.a, self.s = a, s

    def forward(self, x):
        return self.a * torch.tanh(self.s * x)

    def extra_repr(self):
        return f"a={self.a}, s={self.s}"


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


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of each pixel of an NCHW map (torchvision's ConvNeXt LayerNorm2d)."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class StochasticDepth(nn.Module):
    """torchvision's StochasticDepth: in training, zero each sample ("row") or the whole batch
    ("batch") with probability p and scale the survivors by 1 / (1 - p); identity in eval."""

    def __init__(self, p, mode="row"):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise

    def extra_repr(self):
        return f"p={self.p}, mode={self.mode}"


class Permute(nn.Module):
    """torch.permute as a module (torchvision.ops.Permute): dims include the batch."""

    def __init__(self, dims):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x):
        return torch.permute(x, self.dims)

    def extra_repr(self):
        return f"dims={self.dims}"


class Chunk(nn.Module):
    """One piece of x.chunk(parts, dim)."""

    def __init__(self, parts, index, dim=1):
        super().__init__()
        self.parts, self.index, self.dim = parts, index, dim

    def forward(self, x):
        return x.chunk(self.parts, self.dim)[self.index]

    def extra_repr(self):
        return f"parts={self.parts}, index={self.index}, dim={self.dim}"


class Conv2dSame(nn.Conv2d):
    """nn.Conv2d with TensorFlow/Keras "same" padding: the output is ceil(size / stride); zeros, the odd
    row and column at the bottom and right (computed for each input size)."""

    def forward(self, x):
        pads = []
        for size, k, s, d in zip(
            x.shape[:-3:-1],
            self.kernel_size[::-1],
            self.stride[::-1],
            self.dilation[::-1],
        ):
            total = max((-(-size // s) - 1) * s + d * (k - 1) + 1 - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(
            F.pad(x, pads),
            self.weight,
            self.bias,
            self.stride,
            0,
            self.dilation,
            self.groups,
        )


class MaxPool2dSame(nn.MaxPool2d):
    """nn.MaxPool2d with TensorFlow "same" padding: output ceil(size / stride); the padding never wins."""

    def forward(self, x):
        pairs = [
            (v, v) if isinstance(v, int) else tuple(v)
            for v in (self.kernel_size, self.stride, self.dilation)
        ]
        pads = []
        for size, k, s, d in zip(x.shape[:-3:-1], *(p[::-1] for p in pairs)):
            total = max((-(-size // s) - 1) * s + d * (k - 1) + 1 - size, 0)
            pads += [total // 2, total - total // 2]
        x = F.pad(x, pads, value=float("-inf"))
        return F.max_pool2d(x, self.kernel_size, self.stride, 0, self.dilation)


class AvgPool2dSame(nn.AvgPool2d):
    """nn.AvgPool2d with TensorFlow "same" padding: output ceil(size / stride); each window averages its
    valid pixels only, as TensorFlow, unless count_include_pad (then the zero padding counts)."""

    def forward(self, x):
        pairs = [
            (v, v) if isinstance(v, int) else tuple(v)
            for v in (self.kernel_size, self.stride)
        ]
        pads = []
        for size, k, s in zip(x.shape[:-3:-1], *(p[::-1] for p in pairs)):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        total = F.avg_pool2d(F.pad(x, pads), self.kernel_size, self.stride, 0)
        if self.count_include_pad:
            return total
        count = F.avg_pool2d(
            F.pad(torch.ones_like(x[:1, :1]), pads), self.kernel_size, self.stride, 0
        )
        return total / count
