"""The op table: the one place that says what each layer means.

For every op: its arguments and defaults, its shape rule, its parameter and buffer counts, its
multiply-accumulates, and its window for the receptive-field pass. Shapes are per sample (no batch
dimension): `(C, H, W)` for feature maps, `(F,)` for flat vectors. Every rule follows torch exactly.

Backends keep their own tables keyed by these op names; tests check they cover every op.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

Shape = tuple[int, ...]
REQUIRED = object()


class OpProblem(Exception):
    """Raised by a rule; the elaborator attaches the source span. `arg` names the culprit."""

    def __init__(self, message: str, hint: str | None = None, arg: str | None = None):
        super().__init__(message)
        self.message, self.hint, self.arg = message, hint, arg


@dataclass(frozen=True)
class ArgSpec:
    name: str
    kind: str  # see `coerce`
    default: object = REQUIRED


@dataclass(frozen=True)
class Costs:
    params: int = 0      # numel of the module's nn.Parameters
    trainable: int = 0   # of which require grad
    buffers: int = 0     # numel of persistent float buffers (running stats, fixed prototypes)
    macs: int = 0        # multiply-accumulates per sample (conv and linear only)


@dataclass(frozen=True)
class OpSpec:
    name: str
    family: str  # input, conv, pool, norm, activation, dropout, reshape, linear, merge, resample
    args: tuple[ArgSpec, ...]
    shape: Callable[[dict, list[Shape]], Shape]
    costs: Callable[[dict, list[Shape], Shape], Costs] = lambda a, i, o: Costs()
    window: Callable[[dict, list[Shape]], object] = lambda a, i: None  # see analysis.receptive
    doc: str = ""
    merge: bool = False
    key_args: tuple[str, ...] = field(default=())


# ---- argument kinds ---------------------------------------------------------------------

def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _pair(value, minimum: int, what: str) -> tuple[int, int]:
    if _is_int(value):
        value = (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        if min(value) < minimum:
            raise OpProblem(f"{what} must be at least {minimum}, got {_fmt(value)}")
        return (int(value[0]), int(value[1]))
    raise OpProblem(f"{what} must be an integer or a size like 3x3, got {_fmt(value)}")


def _fmt(value) -> str:
    if isinstance(value, tuple) and 0 < len(value) <= 8 and all(_is_int(v) for v in value):
        return "x".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, tuple, list)):  # bounded: values may be huge or deeply nested
        from .expressions import show
        return show(tuple(value) if isinstance(value, list) else value)
    return repr(value)


def coerce(kind: str, value, what: str):
    """Check and normalise an evaluated argument; raises OpProblem with a plain message."""
    if kind == "int+" or kind == "int0":
        low = 1 if kind == "int+" else 0
        if not _is_int(value):
            hint = "use `//` for integer division" if isinstance(value, float) and value.is_integer() else None
            raise OpProblem(f"{what} must be an integer, got {_fmt(value)}", hint=hint)
        if value < low:
            raise OpProblem(f"{what} must be at least {low}, got {value}")
        return value
    if kind == "int":
        if not _is_int(value):
            raise OpProblem(f"{what} must be an integer, got {_fmt(value)}")
        return value
    if kind in ("pair+", "pair0"):
        return _pair(value, 1 if kind == "pair+" else 0, what)
    if kind == "pair+?":
        return None if value is None else _pair(value, 1, what)
    if kind == "padding":
        if value in ("same", "valid"):
            return value
        return _pair(value, 0, what)
    if kind == "kernel|global":
        return "global" if value == "global" else _pair(value, 1, what)
    if kind == "bool":
        if not isinstance(value, bool):
            raise OpProblem(f"{what} must be true or false, got {_fmt(value)}")
        return value
    if kind in ("float", "float+", "prob"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OpProblem(f"{what} must be a number, got {_fmt(value)}")
        value = float(value)
        if kind == "float+" and not value > 0:
            raise OpProblem(f"{what} must be positive, got {value:g}")
        if kind == "prob" and not 0 <= value < 1:
            raise OpProblem(f"{what} must be in [0, 1), got {value:g}")
        return value
    if kind.startswith("enum:"):
        choices = kind[5:].split("|")
        if value not in choices:
            raise OpProblem(f"{what} must be one of {', '.join(choices)}; got {_fmt(value)}")
        return value
    if kind == "table?":
        return None if value is None else _table(value, what)
    raise AssertionError(f"unknown argument kind {kind}")


def _table(value, what: str) -> tuple[tuple[int, ...], ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise OpProblem(f"{what} must be a list of lists of input channels, got {_fmt(value)}")
    rows = []
    for row in value:
        if not isinstance(row, (list, tuple)) or not row or not all(_is_int(v) and v >= 0 for v in row):
            raise OpProblem(f"{what}: each entry must be a non-empty list of input channel numbers, "
                            f"got {_fmt(row)}")
        if len(set(row)) != len(row):
            raise OpProblem(f"{what}: entry {_fmt(list(row))} names a channel twice")
        rows.append(tuple(int(v) for v in row))
    return tuple(rows)


# ---- shape helpers ----------------------------------------------------------------------

def _spatial(shapes: list[Shape], op: str) -> Shape:
    shape = shapes[0]
    if len(shape) != 3:
        raise OpProblem(f"needs a feature map CxHxW, got a flat vector of {shape[0]}",
                        hint="put it before `flatten`, or drop the flatten")
    return shape


def _flat(shapes: list[Shape], op: str) -> Shape:
    shape = shapes[0]
    if len(shape) != 1:
        raise OpProblem(f"needs a flat vector, got a feature map {_fmt(shape)}",
                        hint=f"add `flatten` (or a global pool) before `{op}`")
    return shape


def _window_out(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool) -> int:
    """torch's pooling_output_shape, which also covers convolution when ceil is False."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _collapse_check(op: str, in_shape: Shape, out: tuple[int, int]) -> None:
    if min(out) < 1:
        raise OpProblem(f"the input {_fmt(in_shape)} is too small: the output would be {out[0]}x{out[1]}",
                        hint="the input is too small for this layer; use a larger --input or less downsampling")


# ---- rules --------------------------------------------------------------------------------

def _conv_shape(a: dict, shapes: list[Shape]) -> Shape:
    c, h, w = _spatial(shapes, "conv")
    k, s, d, g = a["kernel"], a["stride"], a["dilation"], a["groups"]
    out = a["out"]
    if a["table"] is not None:
        if g != 1:
            raise OpProblem("a connection table cannot be combined with groups", arg="table")
        if len(a["table"]) != out:
            raise OpProblem(f"the connection table has {len(a['table'])} entries for {out} output channels",
                            arg="table")
        worst = max(max(row) for row in a["table"])
        if worst >= c:
            raise OpProblem(f"the connection table names input channel {worst}, but the input has {c} "
                            f"(numbered 0 to {c - 1})", arg="table")
    if c % g or out % g:
        raise OpProblem(f"groups={g} must divide both input channels ({c}) and output channels ({out})",
                        arg="groups")
    pad = a["pad"]
    if pad == "same":
        if s != (1, 1):
            raise OpProblem("pad=same needs stride 1 (torch does not support it for strided convs)",
                            arg="pad", hint="give the padding explicitly, e.g. pad=1")
        return (out, h, w)
    p = (0, 0) if pad == "valid" else pad
    size = (_window_out(h, k[0], s[0], p[0], d[0], False), _window_out(w, k[1], s[1], p[1], d[1], False))
    _collapse_check("conv", (c, h, w), size)
    return (out, *size)


def _conv_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    c = shapes[0][0]
    kernel = a["kernel"][0] * a["kernel"][1]
    if a["table"] is not None:
        links = sum(len(row) for row in a["table"])
    else:
        links = a["out"] * (c // a["groups"])
    weights = links * kernel
    params = weights + (a["out"] if a["bias"] else 0)
    return Costs(params=params, trainable=params, macs=weights * out[1] * out[2])


def _deconv_shape(a: dict, shapes: list[Shape]) -> Shape:
    c, h, w = _spatial(shapes, "deconv")
    k, s, p, op, d, g = (a[n] for n in ("kernel", "stride", "pad", "output_pad", "dilation", "groups"))
    if c % g or a["out"] % g:
        raise OpProblem(f"groups={g} must divide both input channels ({c}) and output channels ({a['out']})",
                        arg="groups")
    for i in range(2):
        if op[i] >= max(s[i], d[i]):
            raise OpProblem("output_pad must be smaller than the stride or the dilation", arg="output_pad")
    size = tuple((n - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1 for i, n in enumerate((h, w)))
    _collapse_check("deconv", (c, h, w), size)
    return (a["out"], *size)


def _deconv_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    c, h, w = shapes[0]
    weights = c * (a["out"] // a["groups"]) * a["kernel"][0] * a["kernel"][1]
    params = weights + (a["out"] if a["bias"] else 0)
    return Costs(params=params, trainable=params, macs=weights * h * w)


def _pool_shape(op: str):
    def rule(a: dict, shapes: list[Shape]) -> Shape:
        c, h, w = _spatial(shapes, op)
        if a["kernel"] == "global":
            return (c, 1, 1)
        k, p = a["kernel"], a["pad"]
        s = a["stride"] or k
        d = a.get("dilation", (1, 1))
        for i in range(2):
            if p[i] > k[i] // 2:  # torch's pool2d_shape_check uses the undilated kernel
                raise OpProblem(f"pad {_fmt(p)} is more than half the kernel {_fmt(k)}", arg="pad",
                                hint="torch allows padding of at most half the kernel size")
        ceil = a.get("ceil", False)
        size = (_window_out(h, k[0], s[0], p[0], d[0], ceil), _window_out(w, k[1], s[1], p[1], d[1], ceil))
        _collapse_check(op, (c, h, w), size)
        return (c, *size)
    return rule


def _pool_window(a: dict, shapes: list[Shape]):
    if a["kernel"] == "global":
        return "all"
    d = a.get("dilation", (1, 1))
    kernel = tuple(d[i] * (a["kernel"][i] - 1) + 1 for i in range(2))
    return (kernel, a["stride"] or a["kernel"])


def _conv_window(a: dict, shapes: list[Shape]):
    d = a["dilation"]
    return (tuple(d[i] * (a["kernel"][i] - 1) + 1 for i in range(2)), a["stride"])


def _deconv_window(a: dict, shapes: list[Shape]):
    d = a["dilation"]
    return ("up", tuple(d[i] * (a["kernel"][i] - 1) + 1 for i in range(2)), a["stride"])


def _same(a: dict, shapes: list[Shape]) -> Shape:
    return shapes[0]


def _same_spatial(op: str):
    def rule(a: dict, shapes: list[Shape]) -> Shape:
        return _spatial(shapes, op)
    return rule


def _adaptive_shape(op: str):
    def rule(a: dict, shapes: list[Shape]) -> Shape:
        c, _, _ = _spatial(shapes, op)
        return (c, *a["size"])
    return rule


def _flatten_shape(a: dict, shapes: list[Shape]) -> Shape:
    total = 1
    for n in shapes[0]:
        total *= n
    return (total,)


def _linear_shape(a: dict, shapes: list[Shape]) -> Shape:
    _flat(shapes, "linear")
    return (a["out"],)


def _linear_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    weights = shapes[0][0] * a["out"]
    params = weights + (a["out"] if a["bias"] else 0)
    return Costs(params=params, trainable=params, macs=weights)


def _rbf_shape(a: dict, shapes: list[Shape]) -> Shape:
    _flat(shapes, "rbf")
    return (a["units"],)


def _batchnorm_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    c = shapes[0][0]
    params = 2 * c if a["affine"] else 0
    return Costs(params=params, trainable=params, buffers=2 * c)


def _subsample_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    return Costs(params=2 * shapes[0][0], trainable=2 * shapes[0][0])


def _upsample_shape(a: dict, shapes: list[Shape]) -> Shape:
    c, h, w = _spatial(shapes, "upsample")
    return (c, h * a["scale"], w * a["scale"])


def _concat_shape(a: dict, shapes: list[Shape]) -> Shape:
    first = shapes[0]
    if any(len(s) != len(first) for s in shapes):
        raise OpProblem("cannot join feature maps and flat vectors: "
                        + " vs ".join(_fmt(s) for s in shapes))
    if len(first) == 3 and any(s[1:] != first[1:] for s in shapes):
        raise OpProblem("branch sizes differ: " + " vs ".join(_fmt(s) for s in shapes),
                        hint="concat joins channels; every branch must keep the same height and width")
    return (sum(s[0] for s in shapes), *first[1:])


def _add_shape(a: dict, shapes: list[Shape]) -> Shape:
    if any(s != shapes[0] for s in shapes):
        raise OpProblem("branch shapes differ: " + " vs ".join(_fmt(s) for s in shapes))
    return shapes[0]


def _all_window(a: dict, shapes: list[Shape]):
    return "all"


def _adaptive_window(a: dict, shapes: list[Shape]):
    """torch's adaptive pooling: window i spans [floor(i*n/m), ceil((i+1)*n/m)) of n inputs."""
    if len(shapes[0]) != 3:
        return None
    kernels, strides = [], []
    for n, m in zip(shapes[0][1:], a["size"]):
        kernels.append(max(-(-(i + 1) * n // m) - (i * n // m) for i in range(m)))
        strides.append(Fraction(n, m))
    return (tuple(kernels), tuple(strides))


def _up_window(a: dict, shapes: list[Shape]):
    return ("up", (1, 1), (a["scale"], a["scale"]))


def _spec(name, family, args, shape, costs=None, window=None, doc="", key_args=(), merge=False):
    return OpSpec(name, family, tuple(ArgSpec(*a) for a in args), shape,
                  costs or (lambda a, i, o: Costs()), window or (lambda a, i: None), doc, merge, key_args)


_CONV_COMMON = [("stride", "pair+", 1), ("pad", "padding", 0), ("dilation", "pair+", 1),
                ("groups", "int+", 1), ("bias", "bool", True)]

OPS: dict[str, OpSpec] = {spec.name: spec for spec in [
    _spec("input", "input", [], _same, doc="a network input"),
    _spec("conv", "conv", [("out", "int+"), ("kernel", "pair+"), *_CONV_COMMON, ("table", "table?", None)],
          _conv_shape, _conv_costs, _conv_window, key_args=("kernel", "out", "stride"),
          doc="2-D convolution; `table` lists the input channels of each output channel (LeNet C3)"),
    _spec("deconv", "conv", [("out", "int+"), ("kernel", "pair+"), ("stride", "pair+", 1), ("pad", "pair0", 0),
                             ("output_pad", "pair0", 0), ("dilation", "pair+", 1), ("groups", "int+", 1),
                             ("bias", "bool", True)],
          _deconv_shape, _deconv_costs, _deconv_window, key_args=("kernel", "out", "stride"),
          doc="transposed convolution (upsampling by learned weights)"),
    _spec("maxpool", "pool", [("kernel", "pair+"), ("stride", "pair+?", None), ("pad", "pair0", 0),
                              ("dilation", "pair+", 1), ("ceil", "bool", False)],
          _pool_shape("maxpool"), window=_pool_window, key_args=("kernel", "stride"), doc="max pooling"),
    _spec("avgpool", "pool", [("kernel", "kernel|global"), ("stride", "pair+?", None), ("pad", "pair0", 0),
                              ("ceil", "bool", False), ("count_pad", "bool", True)],
          _pool_shape("avgpool"), window=_pool_window, key_args=("kernel", "stride"),
          doc="average pooling; `avgpool(global)` averages each whole map to 1x1"),
    _spec("adaptive_avgpool", "pool", [("size", "pair+")], _adaptive_shape("adaptive_avgpool"),
          window=_adaptive_window, key_args=("size",), doc="average pooling to a fixed output size"),
    _spec("adaptive_maxpool", "pool", [("size", "pair+")], _adaptive_shape("adaptive_maxpool"),
          window=_adaptive_window, key_args=("size",), doc="max pooling to a fixed output size"),
    _spec("subsample", "pool", [("kernel", "pair+", 2), ("stride", "pair+?", None)],
          lambda a, s: _pool_shape("subsample")({**a, "pad": (0, 0)}, s), _subsample_costs, _pool_window,
          key_args=("kernel",), doc="LeNet-5 trainable subsampling: window sum x a per-map weight + a per-map bias"),
    _spec("batchnorm", "norm", [("eps", "float+", 1e-5), ("momentum", "float", 0.1), ("affine", "bool", True)],
          _same, _batchnorm_costs, doc="batch normalisation (1-d on flat vectors, 2-d on feature maps)"),
    _spec("lrn", "norm", [("size", "int+", 5), ("alpha", "float", 1e-4), ("beta", "float", 0.75), ("k", "float", 1.0)],
          _same_spatial("lrn"), key_args=("size",), doc="local response normalisation across channels"),
    _spec("relu", "activation", [], _same, doc="max(0, x)"),
    _spec("relu6", "activation", [], _same, doc="min(max(0, x), 6)"),
    _spec("leaky_relu", "activation", [("slope", "float", 0.01)], _same, key_args=("slope",), doc="leaky ReLU"),
    _spec("elu", "activation", [("alpha", "float", 1.0)], _same, doc="exponential linear unit"),
    _spec("gelu", "activation", [], _same, doc="Gaussian error linear unit"),
    _spec("tanh", "activation", [], _same, doc="tanh(x)"),
    _spec("scaled_tanh", "activation", [("a", "float", 1.7159), ("s", "float", 2 / 3)], _same,
          doc="a * tanh(s * x), LeCun's squashing function"),
    _spec("sigmoid", "activation", [], _same, doc="logistic sigmoid"),
    _spec("softmax", "activation", [], _same, doc="softmax over channels"),
    _spec("log_softmax", "activation", [], _same, doc="log-softmax over channels"),
    _spec("dropout", "dropout", [("p", "prob", 0.5)], _same, key_args=("p",), doc="dropout"),
    _spec("dropout2d", "dropout", [("p", "prob", 0.5)], _same_spatial("dropout2d"), key_args=("p",),
          doc="channel-wise dropout"),
    _spec("flatten", "reshape", [], _flatten_shape, window=_all_window, doc="CxHxW -> C*H*W"),
    _spec("identity", "reshape", [], _same, doc="passes its input through"),
    _spec("linear", "linear", [("out", "int+"), ("bias", "bool", True)], _linear_shape, _linear_costs,
          window=_all_window, key_args=("out",), doc="fully connected layer"),
    _spec("rbf", "linear", [("units", "int+")], _rbf_shape,
          lambda a, i, o: Costs(buffers=a["units"] * i[0][0]), _all_window, key_args=("units",),
          doc="Euclidean RBF output units with fixed +-1 prototypes (LeNet-5)"),
    _spec("upsample", "resample", [("scale", "int+", 2), ("mode", "enum:nearest|bilinear", "nearest")],
          _upsample_shape, window=_up_window, key_args=("scale", "mode"), doc="upsampling by an integer factor"),
    _spec("concat", "merge", [], _concat_shape, doc="joins branches along channels", merge=True),
    _spec("add", "merge", [], _add_shape, doc="adds branches element-wise", merge=True),
]}

# Bare words that some arguments accept as values: `pad=same`, `avgpool(global)`, `mode=bilinear`.
WORDS = frozenset({"same", "valid", "global", "nearest", "bilinear"})

LAYER_OPS = frozenset(name for name, spec in OPS.items() if not spec.merge and name != "input")
