"""The PyTorch backend's op table: for every op of dsl.ops.OPS, how generated code builds or applies it.
This is the torch side of an op only; everything else about it lives in its dsl.ops entry.

A layer op maps to a `Layer`: the module's constructor (an `nn.` class or a runtime class) and its
arguments. Each argument carries its torch default (omitted from the generated call when the value
equals it) and a role: "in" (an input size, derived from shapes), "arg" (a value of the .cnn
call) or None (fixed by the structure). Values with a role may become constructor parameters of a
generated block class when they differ between the block's instances.
A merge op maps to a function from the argument variable names to an expression.
"""
from __future__ import annotations

from dataclasses import dataclass

from cnnc.dsl.ops import OPS, axes_of, channels_of

from .pycode import literal

NO_DEFAULT = object()


@dataclass(frozen=True)
class Arg:
    key: str | None  # None: positional
    value: object
    role: str | None = "arg"
    default: object = NO_DEFAULT


@dataclass(frozen=True)
class Layer:
    ctor: str                 # "nn.Conv2d", or a runtime class name ("TableConv2d")
    args: tuple[Arg, ...]
    # A bare nn.Parameter rather than a module (ConvNeXt's `layer_scale`): `ctor(args)` builds the
    # tensor, and `apply` is the forward expression, "{self}" standing for the parameter, "{x}" the input.
    apply: str | None = None


class Code(str):
    """A piece of source code as an argument value: written as is, not as a string literal."""

    def __repr__(self) -> str:
        return str(self)


def _pair(value):
    """Square pairs read as one integer, as torchvision writes them."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        return value[0]
    return value


def _conv(a, ins, out, inplace):
    c = ins[0][0]
    if a["table"] is not None:
        return Layer("TableConv2d", (
            Arg(None, c, "in"), Arg(None, a["out"]), Arg(None, _pair(a["kernel"])), Arg(None, a["table"]),
            Arg("stride", _pair(a["stride"]), default=1), Arg("padding", _pair(a["pad"]), default=0),
            Arg("dilation", _pair(a["dilation"]), default=1), Arg("bias", a["bias"], default=True)))
    same = a["pad"] == "tf_same"
    return Layer("Conv2dSame" if same else "nn.Conv2d", (
        Arg(None, c, "in"), Arg(None, a["out"]), Arg(None, _pair(a["kernel"])),
        Arg("stride", _pair(a["stride"]), default=1),
        Arg("padding", 0 if same else _pair(a["pad"]), None if same else "arg", default=0),
        Arg("dilation", _pair(a["dilation"]), default=1), Arg("groups", a["groups"], default=1),
        Arg("bias", a["bias"], default=True)))


def _deconv(a, ins, out, inplace):
    return Layer("nn.ConvTranspose2d", (
        Arg(None, ins[0][0], "in"), Arg(None, a["out"]), Arg(None, _pair(a["kernel"])),
        Arg("stride", _pair(a["stride"]), default=1), Arg("padding", _pair(a["pad"]), default=0),
        Arg("output_padding", _pair(a["output_pad"]), default=0), Arg("groups", a["groups"], default=1),
        Arg("bias", a["bias"], default=True), Arg("dilation", _pair(a["dilation"]), default=1)))


def _pool_pad(a):
    """Padding of a pool: pad=same (stride 1, odd window) is symmetric; tf_same pads in forward."""
    if a["pad"] == "same":
        d = a.get("dilation", (1, 1))
        return _pair(tuple(d[i] * (a["kernel"][i] - 1) // 2 for i in range(2)))
    return 0 if a["pad"] in ("valid", "tf_same") else _pair(a["pad"])


def _maxpool(a, ins, out, inplace):
    return Layer("MaxPool2dSame" if a["pad"] == "tf_same" else "nn.MaxPool2d", (
        Arg(None, _pair(a["kernel"])), Arg("stride", _pair(a["stride"] or a["kernel"])),
        Arg("padding", _pool_pad(a), default=0), Arg("dilation", _pair(a["dilation"]), default=1),
        Arg("ceil_mode", a["ceil"], default=False)))


def _avgpool(a, ins, out, inplace):
    if a["kernel"] == "global":
        return Layer("nn.AdaptiveAvgPool2d", (Arg(None, (1, 1), None),))
    if a["pad"] == "tf_same":
        return Layer("AvgPool2dSame", (Arg(None, _pair(a["kernel"])), Arg("stride", _pair(a["stride"] or a["kernel"])),
                                       Arg("count_include_pad", a["count_pad"], default=True)))
    return Layer("nn.AvgPool2d", (
        Arg(None, _pair(a["kernel"])), Arg("stride", _pair(a["stride"] or a["kernel"])),
        Arg("padding", _pool_pad(a), default=0), Arg("ceil_mode", a["ceil"], default=False),
        Arg("count_include_pad", a["count_pad"], default=True)))


def _batchnorm(a, ins, out, inplace):
    return Layer("nn.BatchNorm2d" if len(ins[0]) == 3 else "nn.BatchNorm1d", (
        Arg(None, ins[0][0], "in"), Arg("eps", a["eps"], default=1e-5),
        Arg("momentum", a["momentum"], default=0.1), Arg("affine", a["affine"], default=True)))


def _layernorm(a, ins, out, inplace):
    shape, axes = ins[0], axes_of(ins[0])
    ctor = "LayerNorm2d" if axes == "CHW" else "nn.LayerNorm"
    return Layer(ctor, (Arg(None, channels_of(shape), "in"), Arg("eps", a["eps"], default=1e-5),
                        Arg("elementwise_affine", a["affine"], default=True)))


def _scale(a, ins, out, inplace):
    shape = ins[0]
    dims = (channels_of(shape), 1, 1) if axes_of(shape) == "CHW" else (channels_of(shape),)
    init = a["init"]  # a number, or the code of a block parameter (the generator's value)
    init = literal(init) if isinstance(init, (int, float)) else str(init)
    return Layer("nn.Parameter", (Arg(None, Code(f"torch.full({dims!r}, {init})"), None),),
                 apply="{self} * {x}")


def _chunk(a, ins, out, inplace):
    dim = 1 + axes_of(ins[0]).index("C") if "C" in axes_of(ins[0]) else 1
    return Layer("Chunk", (Arg(None, a["parts"]), Arg(None, a["index"]), Arg("dim", dim, None, default=1)))


def _simple(ctor, *names, defaults=()):
    def build(a, ins, out, inplace):
        args = tuple(Arg(key, a[name], default=d) for (key, name), d in zip(names, defaults or [NO_DEFAULT] * 9))
        return Layer(ctor, args)
    return build


def _activation(ctor):
    def build(a, ins, out, inplace):
        return Layer(ctor, (Arg("inplace", True, None),) if inplace else ())
    return build


def _fixed(ctor, *args):
    def build(a, ins, out, inplace):
        return Layer(ctor, tuple(Arg(key, value, None) for key, value in args))
    return build


LAYERS = {
    "conv": _conv,
    "deconv": _deconv,
    "maxpool": _maxpool,
    "avgpool": _avgpool,
    "adaptive_avgpool": lambda a, ins, out, inplace: Layer("nn.AdaptiveAvgPool2d", (Arg(None, _pair(a["size"])),)),
    "adaptive_maxpool": lambda a, ins, out, inplace: Layer("nn.AdaptiveMaxPool2d", (Arg(None, _pair(a["size"])),)),
    "subsample": lambda a, ins, out, inplace: Layer("Subsample", (
        Arg(None, ins[0][0], "in"), Arg(None, _pair(a["kernel"])),
        Arg(None, _pair(a["stride"]) if a["stride"] is not None else None, default=None))),
    "batchnorm": _batchnorm,
    "lrn": _simple("nn.LocalResponseNorm", (None, "size"), ("alpha", "alpha"), ("beta", "beta"), ("k", "k"),
                   defaults=(NO_DEFAULT, 1e-4, 0.75, 1.0)),
    "relu": _activation("nn.ReLU"),
    "relu6": _activation("nn.ReLU6"),
    "silu": _activation("nn.SiLU"),
    "hardswish": _activation("nn.Hardswish"),
    "hardsigmoid": _fixed("nn.Hardsigmoid"),
    "layernorm": _layernorm,
    "scale": _scale,
    "stochastic_depth": lambda a, ins, out, inplace: Layer("StochasticDepth", (
        Arg(None, a["p"]), Arg(None, a["mode"], default="row"))),
    "permute": lambda a, ins, out, inplace: Layer("Permute", (Arg(None, list(a["dims"])),)),
    "chunk": _chunk,
    "channel_shuffle": lambda a, ins, out, inplace: Layer("nn.ChannelShuffle", (Arg(None, a["groups"]),)),
    "leaky_relu": lambda a, ins, out, inplace: Layer("nn.LeakyReLU", (Arg(None, a["slope"], default=0.01),)),
    "elu": lambda a, ins, out, inplace: Layer("nn.ELU", (Arg("alpha", a["alpha"], default=1.0),)),
    "gelu": _fixed("nn.GELU"),
    "tanh": _fixed("nn.Tanh"),
    "scaled_tanh": lambda a, ins, out, inplace: Layer("ScaledTanh", (
        Arg("a", a["a"], default=1.7159), Arg("s", a["s"], default=2 / 3))),
    "sigmoid": _fixed("nn.Sigmoid"),
    "softmax": _fixed("nn.Softmax", ("dim", 1)),
    "log_softmax": _fixed("nn.LogSoftmax", ("dim", 1)),
    "dropout": _simple("nn.Dropout", ("p", "p")),
    "dropout2d": _simple("nn.Dropout2d", ("p", "p")),
    "flatten": _fixed("nn.Flatten"),
    "identity": _fixed("nn.Identity"),
    "linear": lambda a, ins, out, inplace: Layer("nn.Linear", (
        Arg(None, ins[0][-1], "in"), Arg(None, a["out"]), Arg("bias", a["bias"], default=True))),
    "rbf": lambda a, ins, out, inplace: Layer("RBF", (Arg(None, ins[0][0], "in"), Arg(None, a["units"]))),
    "upsample": lambda a, ins, out, inplace: Layer("nn.Upsample", (
        Arg("scale_factor", a["scale"]), Arg("mode", a["mode"], default="nearest"))),
}

# Merges are plain tensor expressions in `forward`: no module, no parameters.
MERGES = {
    "add": lambda names: " + ".join(names),
    "concat": lambda names: f"torch.cat([{', '.join(names)}], 1)",
    "mul": lambda names: " * ".join(names),
}

# The input is a `forward` argument.
INPUTS = {"input": None}

# Every op's entry in this backend, keyed by op name (a test checks it covers dsl.ops.OPS).
TABLE = {**LAYERS, **MERGES, **INPUTS}

# Ops that may run in place after these producers (their outputs are fresh tensors that autograd
# does not keep for the producer's own backward pass): read from the op table.
INPLACE_OPS = frozenset(name for name, spec in OPS.items() if spec.inplace)
FRESH_PRODUCERS = frozenset(name for name, spec in OPS.items() if spec.fresh)
