"""Per-op formulas for `cnnc explain`: output size, parameters and MACs with the numbers substituted.

One entry per op of dsl.ops.OPS, keyed by op name (a test checks the table is complete). Each rule
takes the layer's normalised arguments, its input shapes and its output shape, and returns a
`Figures`: lines of text and the values they arrive at, which a test compares with the analysis
(the same numbers torch gives). Ops that change neither shape nor count anything need no rule of
their own: `GENERIC` lists them, and `figures` explains them as such.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MINUS, TIMES = "\u2212", "\u00b7"


@dataclass
class Figures:
    shape: list = field(default_factory=list)   # lines explaining the output shape
    params: str = "0"                           # "(5·5·1 + 1)·6 = 156"
    params_value: int = 0
    buffers: str = ""                           # "2·64 = 128 (running mean and variance)"
    buffers_value: int = 0
    macs: str = "0"
    macs_value: int = 0
    out: tuple = ()                             # the output shape these lines arrive at


def num(value) -> str:
    """12,345; a Fraction as 1/2 (or a whole number)."""
    if hasattr(value, "denominator") and not isinstance(value, int):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return f"{value:,}"


def channels(shape) -> int:
    """The channel count of a feature map in any axis order (a flat vector's features)."""
    axes = getattr(shape, "axes", None) or ("CHW" if len(shape) == 3 else "F" * len(shape))
    return shape[axes.index("C")] if "C" in axes else shape[-1]


def dims(shape) -> str:
    return "x".join(str(n) for n in shape)


def _prod(*terms) -> str:
    return TIMES.join(str(t) for t in terms)


def _axes(lines_for, same: bool) -> list[str]:
    """`H = W = ...` when both axes compute the same thing, else one line per axis."""
    if same:
        return [f"H = W = {lines_for(0)}"]
    return [f"H = {lines_for(0)}", f"W = {lines_for(1)}"]


# ---- output sizes -------------------------------------------------------------------------

def window_size(n: int, k: int, s: int, p: int, d: int, ceil: bool) -> tuple[str, int]:
    """`(227 + 2·0 − 11)/4 + 1 = 216/4 + 1 = 55`: torch's conv/pool output size, substituted."""
    if d != 1:
        top = f"{n} + 2{TIMES}{p} {MINUS} {d}{TIMES}({k} {MINUS} 1) {MINUS} 1"
        numerator = n + 2 * p - d * (k - 1) - 1
    else:
        top = f"{n} + 2{TIMES}{p} {MINUS} {k}"
        numerator = n + 2 * p - k
    if numerator % s == 0:
        out = numerator // s + 1
        text = f"({top})/{s} + 1 = {numerator}/{s} + 1 = {out}" if s != 1 else f"({top})/1 + 1 = {out}"
    elif not ceil:
        out = numerator // s + 1
        text = f"\u230a({top})/{s}\u230b + 1 = \u230a{numerator}/{s}\u230b + 1 = {out}   (floor)"
    else:
        out = -(-numerator // s) + 1
        text = f"\u2308({top})/{s}\u2309 + 1 = \u2308{numerator}/{s}\u2309 + 1 = {out}   (ceil)"
    if ceil and (out - 1) * s >= n + p:  # torch: the last window may not start in the padding
        out -= 1
        text += f" {MINUS} 1 = {out}   (the last window would start in the padding)"
    return text, out


def _windowed(a: dict, ins, out, kernel, stride, pad, dilation, ceil) -> list[str]:
    _, h, w = ins[0]
    results, texts = [], []
    for i, n in enumerate((h, w)):
        text, value = window_size(n, kernel[i], stride[i], pad[i], dilation[i], ceil)
        texts.append(text)
        results.append(value)
    same = texts[0] == texts[1]
    lines = _axes(lambda i: texts[i], same)
    return lines, (out[0], *results)


def _tf_same(a: dict, ins, out, channels: int):
    """pad=tf_same: TensorFlow's "same", out = ceil(in / stride), the padding computed from it."""
    _, h, w = ins[0]
    stride = a["stride"] or a["kernel"]
    sizes = [-(-n // stride[i]) for i, n in enumerate((h, w))]
    texts = [f"\u2308{n}/{stride[i]}\u2309 = {sizes[i]}" for i, n in enumerate((h, w))]
    lines = ["pad=tf_same (TensorFlow's 'same'): out = \u2308in/s\u2309, padded around the input, "
             "the odd row and column at the bottom and right"]
    return lines + _axes(lambda i: texts[i], texts[0] == texts[1]), (channels, *sizes)


def _conv_shape(a: dict, ins, out):
    c, h, w = ins[0]
    if a["pad"] == "tf_same":
        return _tf_same(a, ins, out, a["out"])
    if a["pad"] == "same":
        total = [a["dilation"][i] * (a["kernel"][i] - 1) for i in range(2)]
        note = (f"pad=same at stride 1 keeps the size: {dims((h, w))}; padding d{TIMES}(f {MINUS} 1) = "
                + (num(total[0]) if total[0] == total[1] else dims(total)) + " in all")
        return [note], (a["out"], h, w)
    pad = (0, 0) if a["pad"] == "valid" else a["pad"]
    lines, shape = _windowed(a, ins, out, a["kernel"], a["stride"], pad, a["dilation"], False)
    return [_size_formula(a["dilation"])] + lines, shape


def _size_formula(dilation) -> str:
    if tuple(dilation) != (1, 1):
        return f"out = (in + 2p {MINUS} d{TIMES}(f {MINUS} 1) {MINUS} 1)/s + 1"
    return f"out = (in + 2p {MINUS} f)/s + 1"


def _pool_shape(a: dict, ins, out):
    if a["kernel"] == "global":
        return ["H = W = 1 (global: one value per map)"], (ins[0][0], 1, 1)
    stride = a["stride"] or a["kernel"]
    dilation = a.get("dilation", (1, 1))
    pad = a.get("pad", (0, 0))
    if pad == "tf_same":
        return _tf_same(a, ins, out, ins[0][0])
    if pad == "same":  # stride 1, odd window: symmetric
        pad = tuple(dilation[i] * (a["kernel"][i] - 1) // 2 for i in range(2))
    elif pad == "valid":
        pad = (0, 0)
    ceil = a.get("ceil", False)
    lines, shape = _windowed(a, ins, out, a["kernel"], stride, pad, dilation, ceil)
    formula = _size_formula(dilation)
    if ceil:
        formula = formula.replace("(in", "\u2308(in").replace(")/s", ")/s\u2309")
    notes = [] if a["stride"] else [f"stride = kernel = {dims(a['kernel'])}"]
    return [formula] + notes + lines, shape


def _deconv_shape(a: dict, ins, out):
    _, h, w = ins[0]
    k, s, p, op, d = (a[n] for n in ("kernel", "stride", "pad", "output_pad", "dilation"))
    texts, values = [], []
    for i, n in enumerate((h, w)):
        value = (n - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1
        texts.append(f"({n} {MINUS} 1){TIMES}{s[i]} {MINUS} 2{TIMES}{p[i]} + {d[i]}{TIMES}({k[i]} {MINUS} 1) "
                     f"+ {op[i]} + 1 = {value}")
        values.append(value)
    return ([f"out = (in {MINUS} 1){TIMES}s {MINUS} 2p + d{TIMES}(f {MINUS} 1) + output_pad + 1"]
            + _axes(lambda i: texts[i], texts[0] == texts[1]), (a["out"], *values))


def _adaptive_shape(a: dict, ins, out):
    return [f"H{TIMES}W = {dims(a['size'])} (adaptive: the size is fixed; window i spans "
            f"\u230ai{TIMES}in/out\u230b to \u2308(i + 1){TIMES}in/out\u2309)"], (ins[0][0], *a["size"])


def _upsample_shape(a: dict, ins, out):
    c, h, w = ins[0]
    s = a["scale"]
    same = h == w
    lines = _axes(lambda i: f"{(h, w)[i]}{TIMES}{s} = {(h, w)[i] * s}", same)
    return lines, (c, h * s, w * s)


def _flatten_shape(a: dict, ins, out):
    total = 1
    for n in ins[0]:
        total *= n
    if len(ins[0]) == 1:
        return ["(already flat)"], (total,)
    return [f"features = {_prod(*ins[0])} = {num(total)}"], (total,)


def _concat_shape(a: dict, ins, out):
    channels = sum(s[0] for s in ins)
    terms = " + ".join(num(s[0]) for s in ins)
    what = "channels" if len(ins[0]) == 3 else "features"
    return [f"{what} = {terms} = {num(channels)}"], (channels, *ins[0][1:])


def _same_shape(a: dict, ins, out):
    return ["(the input's shape)"], tuple(ins[0])


def _add_shape(a: dict, ins, out):
    return [f"each branch's shape ({len(ins)} branches, summed element-wise)"], tuple(ins[0])


def _features(out_name: str):
    def rule(a: dict, ins, out):
        if len(ins[0]) > 1 and out_name == "out":  # channels-last: the last axis becomes `out`
            return [f"(the last axis becomes the layer's `out`: {dims(ins[0])} -> {dims(out)})"], tuple(out)
        return [f"(the layer's `{out_name}`)"], (a[out_name],)
    return rule


def _mul_shape(a: dict, ins, out):
    return [f"broadcast: {' · '.join(dims(s) for s in ins)} = {dims(out)} (a size of 1 stretches)"], tuple(out)


def _permute_shape(a: dict, ins, out):
    order = ", ".join(str(d) for d in a["dims"])
    return [f"axes reordered by [{order}] (batch first): {dims(ins[0])} -> {dims(out)}"], tuple(out)


def _chunk_shape(a: dict, ins, out):
    c, parts, i = channels(ins[0]), a["parts"], a["index"]
    size = -(-c // parts)
    return [f"channels: {c} cut in pieces of \u2308{c}/{parts}\u2309 = {size} (the last may be smaller); "
            f"chunk {i} has {channels(out)}"], tuple(out)


def _layernorm_counts(a: dict, ins, out, fig: Figures) -> None:
    c = channels(ins[0])
    if a["affine"]:
        fig.params = f"2{TIMES}{c} = {num(2 * c)}   (a scale and a shift per channel)"
        fig.params_value = 2 * c
    else:
        fig.params = "0   (affine=false)"


def _scale_counts(a: dict, ins, out, fig: Figures) -> None:
    c = channels(ins[0])
    fig.params = f"{num(c)}   (one scale per channel)"
    fig.params_value = c


# ---- parameters and MACs ------------------------------------------------------------------

def _conv_counts(a: dict, ins, out, fig: Figures) -> None:
    c = ins[0][0]
    kh, kw = a["kernel"]
    bias = a["bias"]
    hw = f"{_prod(out[1], out[2])}"
    if a["table"] is not None:
        rows: dict = {}
        for row in a["table"]:
            rows[len(row)] = rows.get(len(row), 0) + 1
        parts, values = [], []
        for links, count in sorted(rows.items()):
            each = links * kh * kw + (1 if bias else 0)
            inner = f"{_prod(links, kh, kw)}" + (" + 1" if bias else "")
            maps = "map" if count == 1 else "maps"
            parts.append(f"{count} {maps} of {links} inputs: {count}{TIMES}({inner}) = {num(count * each)}")
            values.append(count * each)
        total = sum(values)
        sums = " + ".join(num(v) for v in values)
        fig.params = "\n".join(parts + ([f"{sums} = {num(total)}"] if len(values) > 1 else []))
        fig.params_value = total
        links = sum(len(row) for row in a["table"])
        link_terms = " + ".join(f"{count}{TIMES}{n}" for n, count in sorted(rows.items()))
        fig.macs = f"({link_terms}){TIMES}{_prod(kh, kw)} {TIMES} {hw} = {num(links * kh * kw * out[1] * out[2])}"
        fig.macs_value = links * kh * kw * out[1] * out[2]
        return
    g = a["groups"]
    per = f"{c}/{g}" if g != 1 else f"{c}"
    fan_in = f"{_prod(kh, kw)}{TIMES}" + (f"({per})" if g != 1 else per)
    weights = kh * kw * (c // g) * a["out"]
    if bias:
        fig.params = f"({fan_in} + 1){TIMES}{a['out']} = {num(weights + a['out'])}"
    else:
        fig.params = f"{fan_in}{TIMES}{a['out']} = {num(weights)}   (no bias)"
    fig.params_value = weights + (a["out"] if bias else 0)
    fig.macs = f"{fan_in}{TIMES}{a['out']} {TIMES} {hw} = {num(weights * out[1] * out[2])}"
    fig.macs_value = weights * out[1] * out[2]


def _deconv_counts(a: dict, ins, out, fig: Figures) -> None:
    c, h, w = ins[0]
    g = a["groups"]
    kh, kw = a["kernel"]
    per = f"({a['out']}/{g})" if g != 1 else f"{a['out']}"
    weights = c * (a["out"] // g) * kh * kw
    text = f"{c}{TIMES}{per}{TIMES}{_prod(kh, kw)}"
    fig.params = (f"{text} + {a['out']} = {num(weights + a['out'])}" if a["bias"]
                  else f"{text} = {num(weights)}   (no bias)")
    fig.params_value = weights + (a["out"] if a["bias"] else 0)
    fig.macs = f"{text} {TIMES} {_prod(h, w)} (input positions) = {num(weights * h * w)}"
    fig.macs_value = weights * h * w


def _linear_counts(a: dict, ins, out, fig: Figures) -> None:
    f_in = ins[0][-1]
    weights = f_in * a["out"]
    fig.params = (f"({num(f_in)} + 1){TIMES}{num(a['out'])} = {num(weights + a['out'])}" if a["bias"]
                  else f"{num(f_in)}{TIMES}{num(a['out'])} = {num(weights)}   (no bias)")
    fig.params_value = weights + (a["out"] if a["bias"] else 0)
    positions = 1
    for n in ins[0][:-1]:
        positions *= n
    if len(ins[0]) == 1:
        fig.macs = f"{num(f_in)}{TIMES}{num(a['out'])} = {num(weights)}"
    else:  # a channels-last tensor: the same weights at every position
        fig.macs = f"{num(f_in)}{TIMES}{num(a['out'])} {TIMES} {_prod(*ins[0][:-1])} = {num(weights * positions)}"
    fig.macs_value = weights * positions


def _batchnorm_counts(a: dict, ins, out, fig: Figures) -> None:
    c = ins[0][0]
    if a["affine"]:
        fig.params = f"2{TIMES}{c} = {num(2 * c)}   (a scale and a shift per channel)"
        fig.params_value = 2 * c
    else:
        fig.params = "0   (affine=false)"
    fig.buffers = f"2{TIMES}{c} = {num(2 * c)}   (running mean and variance)"
    fig.buffers_value = 2 * c


def _subsample_counts(a: dict, ins, out, fig: Figures) -> None:
    c = ins[0][0]
    fig.params = f"(1 + 1){TIMES}{c} = {num(2 * c)}   (a coefficient and a bias per map)"
    fig.params_value = 2 * c


def _rbf_counts(a: dict, ins, out, fig: Figures) -> None:
    fig.buffers = (f"{a['units']}{TIMES}{num(ins[0][0])} = {num(a['units'] * ins[0][0])}   "
                   f"(fixed \u00b11 prototypes, not trained)")
    fig.buffers_value = a["units"] * ins[0][0]


def _nothing(a, ins, out, fig: Figures) -> None:
    return None


# op -> (shape rule, counting rule)
FORMULAS = {
    "conv": (_conv_shape, _conv_counts),
    "deconv": (_deconv_shape, _deconv_counts),
    "maxpool": (_pool_shape, _nothing),
    "avgpool": (_pool_shape, _nothing),
    "subsample": (lambda a, i, o: _pool_shape({**a, "pad": (0, 0)}, i, o), _subsample_counts),
    "adaptive_avgpool": (_adaptive_shape, _nothing),
    "adaptive_maxpool": (_adaptive_shape, _nothing),
    "batchnorm": (_same_shape, _batchnorm_counts),
    "flatten": (_flatten_shape, _nothing),
    "linear": (_features("out"), _linear_counts),
    "rbf": (_features("units"), _rbf_counts),
    "upsample": (_upsample_shape, _nothing),
    "concat": (_concat_shape, _nothing),
    "mul": (_mul_shape, _nothing),
    "permute": (_permute_shape, _nothing),
    "chunk": (_chunk_shape, _nothing),
    "layernorm": (_same_shape, _layernorm_counts),
    "scale": (_same_shape, _scale_counts),
    "add": (_add_shape, _nothing),
}

# Ops whose output has the input's shape and that hold no parameters, buffers or MACs: the generic
# explanation ("the input's shape", 0, 0) is complete for them.
GENERIC = frozenset({"input", "lrn", "relu", "relu6", "leaky_relu", "elu", "gelu", "tanh", "scaled_tanh",
                     "sigmoid", "softmax", "log_softmax", "dropout", "dropout2d", "identity",
                     "silu", "hardswish", "hardsigmoid", "stochastic_depth", "channel_shuffle"})


def figures(op: str, a: dict, ins: list, out: tuple, counted: tuple = (0, 0, 0)) -> Figures:
    """The figures of one layer. An op with no rule of its own is explained generically: its output
    shape and its counts (`counted`: params, buffers, MACs from the analysis) as they are."""
    fig = Figures()
    if op == "input":
        fig.shape, fig.out = ["(the network input)"], tuple(out)
        return fig
    if op in FORMULAS:
        shape_rule, count_rule = FORMULAS[op]
        fig.shape, fig.out = shape_rule(a, ins, out)
        count_rule(a, ins, out, fig)
        return fig
    same = bool(ins) and tuple(ins[0]) == tuple(out)
    fig.shape = ["(the input's shape)"] if same else ["(the op's shape rule)"]
    fig.out = tuple(out)
    params, buffers, macs = counted
    fig.params, fig.params_value = (f"{num(params)}   (the op table's count)" if params else "0"), params
    if buffers:
        fig.buffers, fig.buffers_value = f"{num(buffers)}   (the op table's count)", buffers
    fig.macs, fig.macs_value = (f"{num(macs)}   (the op table's count)" if macs else "0"), macs
    return fig
