"""The rules of the op table (dsl/ops.py): output shapes, costs and receptive-field windows.

Every rule follows torch exactly: a shape rule raises `OpProblem` where torch would raise (and,
beyond torch, where torch would silently run a meaningless layer: a conv over a channels-last
tensor, a `linear` over a feature map's width).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .ops_args import OpProblem, axes_of, channels_of, fmt, with_axes

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Costs:
    params: int = 0      # numel of the module's nn.Parameters
    trainable: int = 0   # of which require grad
    buffers: int = 0     # numel of persistent float buffers (running stats, fixed prototypes)
    macs: int = 0        # multiply-accumulates per sample (conv and linear only, as torchvision's _ops)


NO_COSTS = Costs()


def no_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    return NO_COSTS


def no_window(a: dict, shapes: list[Shape]):
    return None


def numel(shape) -> int:
    total = 1
    for n in shape:
        total *= n
    return total


# ---- shape helpers ----------------------------------------------------------------------

def spatial(shapes: list[Shape], op: str) -> Shape:
    """The input as a channels-first feature map CxHxW, or an OpProblem saying why not."""
    shape = shapes[0]
    if len(shape) != 3:
        raise OpProblem(f"needs a feature map CxHxW, got a flat vector of {shape[0]}",
                        hint="put it before `flatten`, or drop the flatten")
    if axes_of(shape) != "CHW":
        raise _channels_last(shape)
    return shape


def _channels_last(shape) -> OpProblem:
    back = [0] + [1 + axes_of(shape).index(a) for a in "CHW"]
    return OpProblem(f"needs channels first (CxHxW), got a permuted {axes_of(shape)} tensor {fmt(tuple(shape))}",
                     hint=f"permute it back first: permute([{', '.join(map(str, back))}])")


def channels_first(shapes: list[Shape], op: str) -> Shape:
    """A feature map CxHxW or a flat vector, not a permuted tensor (ops with a per-channel module)."""
    shape = shapes[0]
    if axes_of(shape) not in ("CHW", "F"):
        raise _channels_last(shape)
    return shape


def flat(shapes: list[Shape], op: str) -> Shape:
    shape = shapes[0]
    if len(shape) != 1:
        raise OpProblem(f"needs a flat vector, got a feature map {fmt(tuple(shape))}",
                        hint=f"add `flatten` (or a global pool) before `{op}`")
    return shape


def window_out(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool) -> int:
    """torch's pooling_output_shape, which also covers convolution when ceil is False."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def tf_same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow/Keras "same": the output is ceil(size / stride); the padding goes around the input,
    the odd row or column at the end (bottom, right). Returns (before, after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def _collapse_check(in_shape: Shape, out: tuple[int, int]) -> None:
    if min(out) < 1:
        raise OpProblem(f"the input {fmt(tuple(in_shape))} is too small: the output would be {out[0]}x{out[1]}",
                        hint="the input is too small for this layer; use a larger --input or less downsampling")


def _same_needs_stride_1(op: str, stride, kernel, dilation) -> None:
    if stride != (1, 1):
        raise OpProblem(f"pad=same needs stride 1 (torch refuses it for a strided {op}); at stride "
                        f"{fmt(stride) if stride[0] != stride[1] else stride[0]} the padding is uneven",
                        arg="pad", hint="write pad=tf_same for TensorFlow/Keras's 'same' (output = ceil(size / "
                                        "stride), the extra row and column at the bottom and right)"
                                        + _symmetric_pad(kernel, dilation))


def _symmetric_pad(kernel, dilation) -> str:
    """`, or pad=3`: the padding that gives ceil(size / stride) too, when the window is odd (7x7 -> 3)."""
    span = [dilation[i] * (kernel[i] - 1) for i in range(2)]
    if any(n % 2 for n in span):
        return ""
    pad = (span[0] // 2, span[1] // 2)
    return f", or pad={pad[0] if pad[0] == pad[1] else fmt(pad)} (the same output size, padded evenly)"


# ---- convolutions ------------------------------------------------------------------------

def conv_shape(a: dict, shapes: list[Shape]) -> Shape:
    c, h, w = spatial(shapes, "conv")
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
        _same_needs_stride_1("conv", s, k, d)
        return (out, h, w)
    if pad == "tf_same":
        return (out, -(-h // s[0]), -(-w // s[1]))
    p = (0, 0) if pad == "valid" else pad
    size = (window_out(h, k[0], s[0], p[0], d[0], False), window_out(w, k[1], s[1], p[1], d[1], False))
    _collapse_check((c, h, w), size)
    return (out, *size)


def conv_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    c = shapes[0][0]
    kernel = a["kernel"][0] * a["kernel"][1]
    if a["table"] is not None:
        links = sum(len(row) for row in a["table"])
    else:
        links = a["out"] * (c // a["groups"])
    weights = links * kernel
    params = weights + (a["out"] if a["bias"] else 0)
    return Costs(params=params, trainable=params, macs=weights * out[1] * out[2])


def deconv_shape(a: dict, shapes: list[Shape]) -> Shape:
    c, h, w = spatial(shapes, "deconv")
    k, s, p, op, d, g = (a[n] for n in ("kernel", "stride", "pad", "output_pad", "dilation", "groups"))
    if c % g or a["out"] % g:
        raise OpProblem(f"groups={g} must divide both input channels ({c}) and output channels ({a['out']})",
                        arg="groups")
    for i in range(2):
        if op[i] >= max(s[i], d[i]):
            raise OpProblem("output_pad must be smaller than the stride or the dilation", arg="output_pad")
    size = tuple((n - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1 for i, n in enumerate((h, w)))
    _collapse_check((c, h, w), size)
    return (a["out"], *size)


def deconv_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    c, h, w = shapes[0]
    weights = c * (a["out"] // a["groups"]) * a["kernel"][0] * a["kernel"][1]
    params = weights + (a["out"] if a["bias"] else 0)
    return Costs(params=params, trainable=params, macs=weights * h * w)


def conv_window(a: dict, shapes: list[Shape]):
    d = a["dilation"]
    return (tuple(d[i] * (a["kernel"][i] - 1) + 1 for i in range(2)), a["stride"])


def deconv_window(a: dict, shapes: list[Shape]):
    d = a["dilation"]
    return ("up", tuple(d[i] * (a["kernel"][i] - 1) + 1 for i in range(2)), a["stride"])


# ---- pools -------------------------------------------------------------------------------

def pool_shape(op: str):
    def rule(a: dict, shapes: list[Shape]) -> Shape:
        c, h, w = spatial(shapes, op)
        if a["kernel"] == "global":
            return (c, 1, 1)
        k, p = a["kernel"], a["pad"]
        s = a["stride"] or k
        d = a.get("dilation", (1, 1))
        if p == "tf_same":
            if a.get("ceil"):
                raise OpProblem("pad=tf_same already rounds the output up; drop ceil=true", arg="ceil")
            return (c, -(-h // s[0]), -(-w // s[1]))
        if p == "same":
            _same_needs_stride_1(op, s, k, d)
            if any(d[i] * (k[i] - 1) % 2 for i in range(2)):
                raise OpProblem(f"pad=same with the even window {fmt(k)} pads unevenly, which torch's "
                                f"{op} cannot do", arg="pad",
                                hint="write pad=tf_same (the extra row and column at the bottom and right, "
                                     "as TensorFlow), or pick an odd kernel")
            p = tuple(d[i] * (k[i] - 1) // 2 for i in range(2))
        elif p == "valid":
            p = (0, 0)
        for i in range(2):
            if p[i] > k[i] // 2:  # torch's pool2d_shape_check uses the undilated kernel
                raise OpProblem(f"pad {fmt(p)} is more than half the kernel {fmt(k)}", arg="pad",
                                hint="torch allows padding of at most half the kernel size")
        ceil = a.get("ceil", False)
        size = (window_out(h, k[0], s[0], p[0], d[0], ceil), window_out(w, k[1], s[1], p[1], d[1], ceil))
        _collapse_check((c, h, w), size)
        return (c, *size)
    return rule


def avgpool_defaults(a: dict) -> None:
    """count_pad defaults to torch's true, except with pad=tf_same: TensorFlow averages valid pixels."""
    if a["count_pad"] is None:
        a["count_pad"] = a["pad"] != "tf_same"


def pool_window(a: dict, shapes: list[Shape]):
    if a["kernel"] == "global":
        return "all"
    d = a.get("dilation", (1, 1))
    kernel = tuple(d[i] * (a["kernel"][i] - 1) + 1 for i in range(2))
    return (kernel, a["stride"] or a["kernel"])


def adaptive_shape(op: str):
    def rule(a: dict, shapes: list[Shape]) -> Shape:
        c, _, _ = spatial(shapes, op)
        return (c, *a["size"])
    return rule


def adaptive_window(a: dict, shapes: list[Shape]):
    """torch's adaptive pooling: window i spans [floor(i*n/m), ceil((i+1)*n/m)) of n inputs."""
    if len(shapes[0]) != 3:
        return None
    kernels, strides = [], []
    for n, m in zip(shapes[0][1:], a["size"]):
        kernels.append(max(-(-(i + 1) * n // m) - (i * n // m) for i in range(m)))
        strides.append(Fraction(n, m))
    return (tuple(kernels), tuple(strides))


def subsample_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    return Costs(params=2 * shapes[0][0], trainable=2 * shapes[0][0])


# ---- element-wise, norms, reshapes ---------------------------------------------------------

def same(a: dict, shapes: list[Shape]) -> Shape:
    return shapes[0]


def same_spatial(op: str):
    def rule(a: dict, shapes: list[Shape]) -> Shape:
        return spatial(shapes, op)
    return rule


def same_channels_first(op: str):
    def rule(a: dict, shapes: list[Shape]) -> Shape:
        return channels_first(shapes, op)
    return rule


def batchnorm_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    c = shapes[0][0]
    params = 2 * c if a["affine"] else 0
    return Costs(params=params, trainable=params, buffers=2 * c)


def layernorm_shape(a: dict, shapes: list[Shape]) -> Shape:
    shape = shapes[0]
    if axes_of(shape) not in ("CHW", "F") and not axes_of(shape).endswith("C"):
        raise OpProblem(f"normalises the channels of a CxHxW map or of a channels-last tensor, got a "
                        f"{axes_of(shape)} tensor {fmt(tuple(shape))}", hint="permute the channels first or last")
    return shape


def layernorm_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    params = 2 * channels_of(shapes[0]) if a["affine"] else 0
    return Costs(params=params, trainable=params)


def scale_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    c = channels_of(shapes[0])
    return Costs(params=c, trainable=c)


def flatten_shape(a: dict, shapes: list[Shape]) -> Shape:
    return (numel(shapes[0]),)


def permute_shape(a: dict, shapes: list[Shape]) -> Shape:
    shape, dims = shapes[0], a["dims"]
    if len(dims) != len(shape) + 1:
        raise OpProblem(f"dims {fmt(list(dims))} name {len(dims)} dimensions, but the input has "
                        f"{len(shape) + 1} (batch included: N x {fmt(tuple(shape))})", arg="dims")
    axes = axes_of(shape)
    return with_axes((shape[d - 1] for d in dims[1:]), "".join(axes[d - 1] for d in dims[1:]))


def chunk_sizes(channels: int, parts: int) -> list[int]:
    """torch.chunk: pieces of ceil(C / parts) channels, the last one smaller; maybe fewer than parts."""
    size = -(-channels // parts)
    return [min(size, channels - start) for start in range(0, channels, size)]


def chunk_shape(a: dict, shapes: list[Shape]) -> Shape:
    shape = channels_first(shapes, "chunk")
    sizes = chunk_sizes(shape[0], a["parts"])
    if a["index"] >= len(sizes):
        raise OpProblem(f"chunk {a['index']} of {a['parts']} does not exist: torch splits {shape[0]} channels "
                        f"into {len(sizes)} chunk(s) of {', '.join(map(str, sizes))}", arg="index")
    return (sizes[a["index"]], *shape[1:])


def shuffle_shape(a: dict, shapes: list[Shape]) -> Shape:
    c = spatial(shapes, "channel_shuffle")[0]
    if c % a["groups"]:
        raise OpProblem(f"groups={a['groups']} must divide the channels ({c})", arg="groups")
    return shapes[0]


def all_window(a: dict, shapes: list[Shape]):
    return "all"


def up_window(a: dict, shapes: list[Shape]):
    return ("up", (1, 1), (a["scale"], a["scale"]))


def upsample_shape(a: dict, shapes: list[Shape]) -> Shape:
    c, h, w = spatial(shapes, "upsample")
    return (c, h * a["scale"], w * a["scale"])


# ---- linear layers -----------------------------------------------------------------------

def linear_shape(a: dict, shapes: list[Shape]) -> Shape:
    shape = shapes[0]
    if len(shape) == 1 or axes_of(shape).endswith("C"):
        return with_axes((*shape[:-1], a["out"]), axes_of(shape))
    raise OpProblem(f"needs a flat vector, got a feature map {fmt(tuple(shape))}",
                    hint="add `flatten` (or a global pool) before `linear`; for each pixel's channels, "
                         "permute([0, 2, 3, 1]) first")


def linear_costs(a: dict, shapes: list[Shape], out: Shape) -> Costs:
    features = shapes[0][-1]
    weights = features * a["out"]
    params = weights + (a["out"] if a["bias"] else 0)
    return Costs(params=params, trainable=params, macs=weights * numel(shapes[0][:-1]))


def linear_window(a: dict, shapes: list[Shape]):
    return "all" if len(shapes[0]) == 1 else None


def rbf_shape(a: dict, shapes: list[Shape]) -> Shape:
    flat(shapes, "rbf")
    return (a["units"],)


# ---- merges ------------------------------------------------------------------------------

def _same_axes(shapes: list[Shape]) -> None:
    if any(len(s) != len(shapes[0]) for s in shapes):
        raise OpProblem("cannot join feature maps and flat vectors: " + " vs ".join(fmt(tuple(s)) for s in shapes))
    if len({axes_of(s) for s in shapes}) > 1:
        raise OpProblem("branches have their axes in different orders: "
                        + " vs ".join(f"{axes_of(s)} {fmt(tuple(s))}" for s in shapes),
                        hint="permute one branch so that the axes agree")


def concat_shape(a: dict, shapes: list[Shape]) -> Shape:
    _same_axes(shapes)
    first = channels_first(shapes, "concat")
    if len(first) == 3 and any(s[1:] != first[1:] for s in shapes):
        raise OpProblem("branch sizes differ: " + " vs ".join(fmt(tuple(s)) for s in shapes),
                        hint="concat joins channels; every branch must keep the same height and width")
    return (sum(s[0] for s in shapes), *first[1:])


def add_shape(a: dict, shapes: list[Shape]) -> Shape:
    _same_axes(shapes)
    if any(tuple(s) != tuple(shapes[0]) for s in shapes):
        raise OpProblem("branch shapes differ: " + " vs ".join(fmt(tuple(s)) for s in shapes))
    return shapes[0]


def mul_shape(a: dict, shapes: list[Shape]) -> Shape:
    """torch's broadcasting, per sample: each size equal, or 1 in one of the branches."""
    _same_axes(shapes)
    out = list(shapes[0])
    for shape in shapes[1:]:
        for i, n in enumerate(shape):
            if n != out[i] and 1 not in (n, out[i]):
                raise OpProblem("branch shapes do not broadcast: " + " vs ".join(fmt(tuple(s)) for s in shapes),
                                hint="mul multiplies element-wise; a size may differ only where one branch has "
                                     "1 (a Cx1x1 gate scales a CxHxW map)")
            out[i] = max(n, out[i])
    return with_axes(out, axes_of(shapes[0]))
