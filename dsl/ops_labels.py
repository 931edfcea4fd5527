"""Short labels of the op table: how a layer reads in the summary's Op column, on a diagram node,
in `cnnc explain` and on hover: `conv 3x3, 64, /2`, `maxpool 3x3, /2, ceil`, `linear 1000`."""
from __future__ import annotations


def size(pair) -> str:
    return f"{pair[0]}x{pair[1]}"


def _stride(pair, prefix: str = "/") -> str:
    if pair is None or tuple(pair) == (1, 1):
        return ""
    return f", {prefix}{pair[0]}" if pair[0] == pair[1] else f", {prefix}{size(pair)}"


def _pad(a: dict) -> str:
    return ", tf_same" if a.get("pad") == "tf_same" else ""


def number(value) -> str:
    return f"{value:g}"


def conv(op: str, a: dict) -> str:
    text = f"{op} {size(a['kernel'])}, {a['out']}" + _stride(a["stride"], "/" if op == "conv" else "×")
    if a.get("groups", 1) != 1:
        text += f", groups {a['groups']}"
    if tuple(a.get("dilation", (1, 1))) != (1, 1):
        text += f", dilation {a['dilation'][0] if a['dilation'][0] == a['dilation'][1] else size(a['dilation'])}"
    if a.get("table") is not None:
        text += ", table"
    return text + _pad(a)


def pool(op: str, a: dict) -> str:
    if a["kernel"] == "global":
        return f"{op} global"
    text = f"{op} {size(a['kernel'])}" + _stride(a["stride"] or a["kernel"])
    if a.get("ceil"):
        text += ", ceil"
    return text + _pad(a)


def plain(op: str, a: dict) -> str:
    return op


def adaptive(op: str, a: dict) -> str:
    return f"{op} {size(a['size'])}"


def with_arg(name: str, show=str, unless=None):
    """`op value`, e.g. `dropout 0.5`; just `op` when the value equals `unless`."""
    def label(op: str, a: dict) -> str:
        value = a[name]
        return op if unless is not None and value == unless else f"{op} {show(value)}"
    return label


def upsample(op: str, a: dict) -> str:
    return f"upsample ×{a['scale']}" + ("" if a["mode"] == "nearest" else f", {a['mode']}")


def permute(op: str, a: dict) -> str:
    return f"permute {','.join(map(str, a['dims']))}"


def chunk(op: str, a: dict) -> str:
    return f"chunk {a['index']} of {a['parts']}"
