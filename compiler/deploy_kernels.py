"""The inference kernels the deploy build swaps in (compiler/deploy.py): same modules, same
state_dict, faster float32 CPU inference; anywhere else (CUDA, other dtypes, autograd, export,
torch.compile, tracing) each behaves exactly as the torch module it replaces.

- `PackedConv2d` (an nn.Conv2d): oneDNN's convolution on a weight reordered once, with a fused
  ReLU; or, for the 3x3 convolutions where it was measured faster, NNPACK's Winograd convolution.
- `SeparableMaxPool2d` (an nn.MaxPool2d): a max pool over contiguous (NCHW) activations as
  strided maxima along rows, then columns; torch's NCHW CPU max pool was 5-12x slower here.

The figures behind each choice are in bench/RESULTS.md ("Round 3 of the deploy build").
"""
from __future__ import annotations

import functools

import torch

_ONEDNN = torch.backends.mkldnn.is_available()

# NNPACK's Winograd convolution beat oneDNN's direct one on this project's CPU (an AMD EPYC with
# AVX-512, 1 thread, `python bench/bench_kernels.py`) for 3x3 stride-1 convs on 28x28 outputs and
# up (1.38x-2.85x per layer from 64 channels, 1.04x-1.44x at 32) and lost below (0.85x-0.98x at 7x7
# and 14x14: bench/RESULTS.md). Where a Winograd conv reads a oneDNN conv's output (NHWC),
# converting it to NCHW costs more than small channel counts lose, so there is no channel threshold.
WINOGRAD_MIN_SIDE = 28


def winograd_fits(kernel, stride, dilation, groups, padding, height, width) -> bool:
    """Whether a conv with these settings and output size runs as NNPACK's Winograd convolution in
    a deploy module laid out for it (on a CPU where it is available at all: `winograd_available`)."""
    return (tuple(kernel) == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1)
            and groups == 1 and isinstance(padding, tuple) and all(0 <= p <= 2 for p in padding)
            and min(height, width) >= WINOGRAD_MIN_SIDE)


@functools.cache
def winograd_available() -> bool:
    """NNPACK is built in and initialised, on an x86 CPU with AVX2 or AVX-512 (the thresholds above
    were measured on one; NNPACK's ARM kernels are not measured, so ARM keeps oneDNN's)."""
    # torch._nnpack_available() also initialises NNPACK: its convolution fails before that call.
    # Both are private torch functions: a torch without them keeps oneDNN's convolutions.
    available = getattr(torch, "_nnpack_available", None)
    return (torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")
            and hasattr(torch, "_nnpack_spatial_convolution") and available is not None and available())


def _fast_path(x) -> bool:
    """Eager float32 CPU inference: not compiling, exporting, tracing or recording gradients."""
    # compiling, exporting and tracing first: the other tests are not traceable
    return (not torch.compiler.is_compiling() and not torch.jit.is_scripting() and not torch.jit.is_tracing()
            and not torch.onnx.is_in_onnx_export() and type(x) is torch.Tensor
            and x.device.type == "cpu" and x.dtype == torch.float32 and x.dim() == 4
            and not (torch.is_grad_enabled() and x.requires_grad))


class PackedConv2d(torch.nn.Conv2d):
    """nn.Conv2d for float32 CPU inference. By default it runs oneDNN's convolution on a weight
    reordered once into oneDNN's blocked layout (for the last input shape seen), where nn.Conv2d
    reorders it on every call; its output is NHWC whatever the input's layout. With `winograd =
    True` (set by the deploy build for the convs that `winograd_fits`) it runs NNPACK's
    convolution instead, one image at a time: for a 3x3 stride-1 kernel NNPACK's single-image path
    is Winograd F(6x6, 3x3) (its batched path is FFT, 1.4x-1.9x slower here). It does so when torch
    runs on one thread (with more, NNPACK's thread pool competed with OpenMP's and lost). It reads
    NCHW (other layouts are converted) and writes NCHW. Winograd's results differ from the direct
    convolution's by about 1e-5 relative per layer.

    The module's parameters stay the dense nn.Conv2d ones (state_dict, `.to()`, export unchanged);
    the packed copy is a cache, rebuilt when the input shape or the weight changes and never
    pickled. Where neither applies it runs nn.Conv2d's forward. `activation = "relu"`: the ReLU
    that follows (in the IR) runs inside the convolution and its own module is an identity."""

    @classmethod
    def adopt(cls, conv) -> None:
        """Make the nn.Conv2d `conv` a PackedConv2d in place: the same object, parameters and hooks."""
        conv.__class__ = cls
        conv.activation = None
        conv.winograd = False
        conv._packed, conv._packed_key = None, None

    def _packs(self, x) -> bool:
        return (_fast_path(x) and self.weight.dtype == torch.float32 and self.weight.device.type == "cpu"
                and not (torch.is_grad_enabled() and self.weight.requires_grad)
                and _ONEDNN and torch.backends.mkldnn.enabled)

    def _winograd(self, x) -> bool:
        # One torch thread only: with more, NNPACK's own thread pool competed with OpenMP's for the
        # cores and the Winograd network ran slower than the channels_last one (bench/RESULTS.md).
        # winograd_available() also initialises NNPACK in a process that unpickled this module.
        height, width = (x.shape[2 + i] + 2 * self.padding[i] - 2 for i in range(2))
        return (self.winograd and x.shape[0] > 0 and torch.get_num_threads() == 1 and winograd_available()
                and winograd_fits(self.kernel_size, self.stride, self.dilation, self.groups, self.padding,
                                  height, width))

    def forward(self, x):
        if not self._packs(x):
            y = super().forward(x)
            return torch.relu(y) if self.activation == "relu" else y
        if self._winograd(x):
            x, weight, padding = x.contiguous(), self.weight.contiguous(), list(self.padding)
            images = [torch._nnpack_spatial_convolution(x[i:i + 1], weight, self.bias, padding)
                      for i in range(x.shape[0])]
            y = images[0] if len(images) == 1 else torch.cat(images)
            return torch.relu_(y) if self.activation == "relu" else y
        key = (tuple(x.shape), self.weight.data_ptr(), self.weight._version)
        if self._packed_key != key:
            self._packed = torch._C._nn.mkldnn_reorder_conv2d_weight(
                self.weight.detach().to_mkldnn(), list(self.padding), list(self.stride), list(self.dilation),
                self.groups, list(x.shape))
            self._packed_key = key
        return torch.ops.mkldnn._convolution_pointwise(
            x, self._packed, self.bias, list(self.padding), list(self.stride), list(self.dilation), self.groups,
            self.activation or "none", [], "")

    def __getstate__(self):
        state = dict(super().__getstate__())
        state["_packed"], state["_packed_key"] = None, None
        return state


class SeparableMaxPool2d(torch.nn.MaxPool2d):
    """nn.MaxPool2d whose float32 CPU inference on a contiguous (NCHW) input, without dilation,
    ceil mode or indices, takes strided maxima along rows and then along columns (padding is -inf):
    2(k-1) element-wise passes, bit-identical to torch's max pool (NaN included), which is slow in
    that layout. Channels_last inputs keep torch's kernel, which is fast there, and so does a 1x1
    window (its result would be a view of the input)."""

    @classmethod
    def adopt(cls, pool) -> None:
        """Make the nn.MaxPool2d `pool` a SeparableMaxPool2d in place."""
        pool.__class__ = cls

    @staticmethod
    def _pair(value) -> tuple:
        return tuple(value) if isinstance(value, (tuple, list)) else (value, value)

    def forward(self, x):
        (kh, kw), (sh, sw), (ph, pw), dilation = (
            self._pair(v) for v in (self.kernel_size, self.stride, self.padding, self.dilation))
        if not (_fast_path(x) and x.is_contiguous() and dilation == (1, 1) and not self.ceil_mode
                and not self.return_indices and kh * kw > 1 and sh > 0 and sw > 0
                and x.shape[2] + 2 * ph >= kh and x.shape[3] + 2 * pw >= kw):
            return super().forward(x)
        if ph or pw:
            x = torch.nn.functional.pad(x, (pw, pw, ph, ph), value=float("-inf"))
        rows_end = sh * ((x.shape[2] - kh) // sh) + 1
        rows = x[:, :, 0:rows_end:sh]
        for d in range(1, kh):
            rows = torch.maximum(rows, x[:, :, d:d + rows_end:sh])
        cols_end = sw * ((x.shape[3] - kw) // sw) + 1
        out = rows[..., 0:cols_end:sw]
        for d in range(1, kw):
            out = torch.maximum(out, rows[..., d:d + cols_end:sw])
        return out.contiguous()
