"""`cnnc explain`: the arithmetic behind every figure of a layer, with the numbers substituted.

    c1 · conv 5x5, 6 · archs/lenet5.cnn:14
      input     1x32x32
      output    6x28x28
                out = (in + 2p − f)/s + 1
                H = W = (32 + 2·0 − 5)/1 + 1 = 28
      params    (5·5·1 + 1)·6 = 156
      MACs      5·5·1·6 · 28·28 = 117,600
      RF        1 + (5 − 1)·1 = 5; jump 1·1 = 1

`explain_layer(graph, path)` is the text of one layer (the HTML view's details panel and the
language server's hover show it); `explain(graph, paths)` is what the command prints. The per-op
formulas live in `explain_ops`; the receptive field follows the op table's window, as the analysis
does.
"""
from __future__ import annotations

from fractions import Fraction

from cnnc.dsl.diagnostics import CnnError, NameError_, closest
from cnnc.dsl.values import show
from cnnc.dsl.ops import OPS, WORDS

from .diagram_labels import label

from .explain_ops import MINUS, TIMES, Figures, dims, figures, num

MAX_TERMS = 12  # a total is written as a sum of its terms up to this many


class UnknownPath(NameError_):
    """`cnnc explain FILE PATH`: no layer or group has that path."""


def inputs(graph, node) -> list:
    """The input nodes of `node` in port order."""
    edges = sorted(graph.in_edges(node, data="port"), key=lambda e: e[2])
    return [source for source, _, _ in edges]


def args_text(op: str, args: dict) -> str:
    """Every argument of a layer as the analysis holds it (defaults applied, unset options left out):
    `out=64, kernel=3x3, stride=1, ...`."""
    spec = OPS.get(op)
    names = [a.name for a in spec.args] if spec is not None else list(args)
    return ", ".join(f"{name}={_value(args[name], name)}" for name in names if args.get(name) is not None)


def _value(value, name: str = "") -> str:
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return dims(value) if name in ("kernel", "size") or value[0] != value[1] else str(value[0])
    if name == "table" and isinstance(value, tuple):
        return f"<{len(value)} rows>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str) and value in WORDS:
        return value
    return show(value, 60)


def layer_figures(graph, node) -> tuple[Figures, list]:
    data = graph.nodes[node]
    ins = [graph.nodes[s]["shape"] for s in inputs(graph, node)]
    fig = figures(data["op"], data["args"], ins, data["shape"],
                  (data["params"], data["buffers"], data["macs"]))
    return fig, ins


def receptive(graph, node) -> tuple[str, tuple, tuple]:
    """The receptive field and jump of `node` from its inputs', as the analysis computes them."""
    data = graph.nodes[node]
    sources = [graph.nodes[s] for s in inputs(graph, node)]
    if not sources:
        return "1 (an input pixel); jump 1", (1, 1), (1, 1)
    if len(sources) == 1:
        rf, jump = sources[0]["rf"], sources[0]["jump"]
        start = [num(rf[0]), num(rf[1])]
    else:
        rf = tuple(max(s["rf"][i] for s in sources) for i in range(2))
        # as the analysis: a broadcast branch (a Cx1x1 gate) does not set the spacing of the pixels
        full = [s for s in sources if tuple(s["shape"]) == tuple(data["shape"])] or sources
        jump = tuple(max(s["jump"][i] for s in full) for i in range(2))
        start = [f"max({', '.join(num(s['rf'][i]) for s in sources)})" for i in range(2)]
    in_shapes = [s["shape"] for s in sources]
    window = OPS[data["op"]].window(data["args"], in_shapes) if data["op"] in OPS else None
    texts, rfs, jumps = [], [], []
    for i in range(2):
        if window is None or (window == "all" and len(in_shapes[0]) != 3):
            why = "unchanged" if len(sources) == 1 else "the widest branch"
            text = f"{start[i]} = {num(rf[i])} ({why}); jump {num(jump[i])}" if len(sources) > 1 \
                else f"{num(rf[i])} ({why}); jump {num(jump[i])}"
            value, step = rf[i], jump[i]
        elif window == "all":
            size = in_shapes[0][1 + i]
            value, step = int(rf[i] + (size - 1) * jump[i]), jump[i] * size
            text = (f"{start[i]} + ({size} {MINUS} 1){TIMES}{num(jump[i])} = {num(value)} (the whole map); "
                    f"jump {num(jump[i])}{TIMES}{size} = {num(step)}")
        elif window[0] == "up":
            _, kernel, stride = window
            steps = -(-kernel[i] // stride[i])
            value, step = int(rf[i] + (steps - 1) * jump[i]), Fraction(jump[i]) / stride[i]
            text = (f"{start[i]} + (\u2308{kernel[i]}/{stride[i]}\u2309 {MINUS} 1){TIMES}{num(jump[i])} = {num(value)}; "
                    f"jump {num(jump[i])}/{stride[i]} = {num(step)}")
        else:
            kernel, stride = window
            value, step = int(rf[i] + (kernel[i] - 1) * jump[i]), jump[i] * stride[i]
            text = (f"{start[i]} + ({num(kernel[i])} {MINUS} 1){TIMES}{num(jump[i])} = {num(value)}; "
                    f"jump {num(jump[i])}{TIMES}{num(stride[i])} = {num(step)}")
        texts.append(text)
        rfs.append(value)
        jumps.append(step)
    text = texts[0] if texts[0] == texts[1] else f"H: {texts[0]}\nW: {texts[1]}"
    return text, tuple(rfs), tuple(jumps)


def where(graph, node) -> str:
    """`archs/resnet50.cnn:10` and, inside a block, `in layer1.0: Bottleneck(64, 1) at archs/resnet50.cnn:20`."""
    data = graph.nodes[node]
    text = f"{data['span'].path}:{data['span'].line}"
    for entry in data["scope"][-1:]:  # the innermost block instance
        args = ", ".join(show(v, 40) for _, v in entry.args)
        text += f"\n  in {entry.path}: {entry.block}({args}) at {entry.span.path}:{entry.span.line}"
    return text


def explain_layer(graph, path: str) -> str:
    """The explanation of one layer (an IR node path) as text; raises UnknownPath."""
    if path not in graph.nodes:
        raise _unknown(graph, path)
    data = graph.nodes[path]
    fig, ins = layer_figures(graph, path)
    rf_text, _, _ = receptive(graph, path)
    head = f"{path} {TIMES} {label(data)} {TIMES} {where(graph, path)}"
    lines = head.split("\n")
    rows = []
    if ins:
        rows.append(("input", " | ".join(dims(s) for s in ins)))
    shape = fig.shape
    if len(shape) == 1 and shape[0].startswith("("):  # a remark, not a computation
        rows.append(("output", f"{dims(data['shape'])} {shape[0]}"))
    else:
        rows.append(("output", dims(data["shape"])))
        rows += [("", line) for line in shape]
    for key, text in (("params", fig.params), ("buffers", fig.buffers), ("MACs", fig.macs), ("RF", rf_text)):
        if text:
            first, *rest = text.split("\n")
            rows += [(key, first)] + [("", line) for line in rest]
    lines += [f"  {key:<9} {value}".rstrip() for key, value in rows]
    return "\n".join(lines)


def select(graph, paths) -> list:
    """The layers named by `paths` (a layer path, or a prefix naming a block or group), in graph order."""
    if not paths:
        return list(graph.nodes)
    chosen = set()
    tree = graph.graph["tree"]
    for path in paths:
        if path in graph.nodes:
            chosen.add(path)
            continue
        scope = tree.find(path) if path else None
        if scope is None:
            raise _unknown(graph, path)
        chosen.update(scope.layers())
    return [n for n in graph.nodes if n in chosen]


def _unknown(graph, path: str) -> CnnError:
    suggestion = closest(path, graph.graph["tree"].paths())
    hint = (f"did you mean `{suggestion}`?" if suggestion
            else "`cnnc summary FILE` lists every layer's path")
    return UnknownPath(f"{graph.graph['name']} has no layer or group `{path}`", hint=hint)


def _sum(values: list, what: str) -> str:
    total = sum(values)
    if len(values) > MAX_TERMS:
        return f"{what}: the sum over {len(values)} layers = {num(total)}"
    if len(values) == 1:
        return f"{what}: {num(total)}"
    return f"{what}: " + " + ".join(num(v) for v in values) + f" = {num(total)}"


def explain(graph, paths=()) -> str:
    """`cnnc explain`: every chosen layer's explanation, then the totals they add up to."""
    nodes = select(graph, paths)
    out = [explain_layer(graph, node) for node in nodes]
    params = [graph.nodes[n]["params"] for n in nodes if graph.nodes[n]["params"]]
    macs = [graph.nodes[n]["macs"] for n in nodes if graph.nodes[n]["macs"]]
    scope = "" if not paths else f" of {', '.join(paths)}"
    tail = [_sum(params, f"params{scope}") if params else f"params{scope}: 0",
            _sum(macs, f"MACs{scope}") if macs else f"MACs{scope}: 0"]
    if not paths:
        t = graph.graph["totals"]
        if t["macs"] != t["all_macs"]:
            tail.append(f"MACs on the main output's path (side outputs cost {num(t['all_macs'] - t['macs'])} more): "
                        f"{num(t['macs'])}")
    return "\n\n".join(out) + "\n\n" + "\n".join(tail) + "\n"
