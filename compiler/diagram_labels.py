"""How each op reads on a diagram node: `conv 3x3, 64, /2`. One rule per op in dsl.ops.OPS.

A test walks the op table and fails when an op has no rule here.
"""
from __future__ import annotations


def size(pair) -> str:
    return f"{pair[0]}x{pair[1]}"


def _stride(pair, prefix: str = "/") -> str:
    if pair is None or tuple(pair) == (1, 1):
        return ""
    return f", {prefix}{pair[0]}" if pair[0] == pair[1] else f", {prefix}{size(pair)}"


def _conv(op: str, a: dict) -> str:
    text = f"{op} {size(a['kernel'])}, {a['out']}" + _stride(a["stride"], "/" if op == "conv" else "×")
    if a.get("groups", 1) != 1:
        text += f", groups {a['groups']}"
    if tuple(a.get("dilation", (1, 1))) != (1, 1):
        text += f", dilation {a['dilation'][0] if a['dilation'][0] == a['dilation'][1] else size(a['dilation'])}"
    if a.get("table") is not None:
        text += ", table"
    return text


def _pool(op: str, a: dict) -> str:
    if a["kernel"] == "global":
        return f"{op} global"
    text = f"{op} {size(a['kernel'])}" + _stride(a["stride"] or a["kernel"])
    if a.get("ceil"):
        text += ", ceil"
    return text


def _plain(op: str, a: dict) -> str:
    return op


def _number(value) -> str:
    return f"{value:g}"


LABELS = {
    "input": lambda op, a: "input",
    "conv": _conv,
    "deconv": _conv,
    "maxpool": _pool,
    "avgpool": _pool,
    "adaptive_avgpool": lambda op, a: f"{op} {size(a['size'])}",
    "adaptive_maxpool": lambda op, a: f"{op} {size(a['size'])}",
    "subsample": _pool,
    "batchnorm": _plain,
    "lrn": lambda op, a: f"lrn {a['size']}",
    "relu": _plain,
    "relu6": _plain,
    "leaky_relu": lambda op, a: f"leaky_relu {_number(a['slope'])}",
    "elu": lambda op, a: op if a["alpha"] == 1.0 else f"elu {_number(a['alpha'])}",
    "gelu": _plain,
    "tanh": _plain,
    "scaled_tanh": _plain,
    "sigmoid": _plain,
    "softmax": _plain,
    "log_softmax": _plain,
    "dropout": lambda op, a: f"dropout {_number(a['p'])}",
    "dropout2d": lambda op, a: f"dropout2d {_number(a['p'])}",
    "flatten": _plain,
    "identity": _plain,
    "linear": lambda op, a: f"linear {a['out']}",
    "rbf": lambda op, a: f"rbf {a['units']}",
    "upsample": lambda op, a: f"upsample ×{a['scale']}" + ("" if a["mode"] == "nearest" else f", {a['mode']}"),
    "concat": _plain,
    "add": _plain,
}


def label(data: dict) -> str:
    """The node text of one IR node (its `op` and normalised `args`)."""
    return LABELS[data["op"]](data["op"], data["args"])
