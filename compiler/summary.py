"""Analysed IR -> a summary: a text table, JSON (DESIGN.md's schema) or markdown."""
from __future__ import annotations

import json


def shape_text(shape) -> str:
    """A per-sample shape shown with the symbolic batch dimension: [N, 64, 56, 56]."""
    return "[N, " + ", ".join(str(n) for n in shape) + "]"


def rf_text(rf) -> str:
    return str(rf[0]) if rf[0] == rf[1] else f"{rf[0]}x{rf[1]}"


def _size(pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def op_text(data: dict) -> str:
    """The op with its key arguments: `conv 3x3/2`, `maxpool 3x3/2`, `linear`."""
    op, args = data["op"], data["args"]
    kernel = args.get("kernel")
    if kernel is None:
        return op
    if kernel == "global":
        return f"{op} global"
    text = f"{op} {kernel[0]}x{kernel[1]}"
    stride = args.get("stride") or kernel
    if stride != (1, 1):
        text += f"/{_size(stride)}"
    if args.get("groups", 1) != 1:
        text += f" g{args['groups']}"
    if args.get("dilation", (1, 1)) != (1, 1):
        text += f" d{_size(args['dilation'])}"
    return text


def rows(graph) -> list[dict]:
    """One JSON-ready row per node, in the graph's deterministic order."""
    return [{"path": node, "op": data["op"], "output_shape": list(data["shape"]), "params": data["params"],
             "macs": data["macs"], "receptive_field": list(data["rf"]), "line": data["span"].line}
            for node, data in graph.nodes(data=True)]


def to_json(graph) -> str:
    totals = graph.graph["totals"]
    document = {
        "network": graph.graph["name"],
        "inputs": {name: list(shape) for name, shape in graph.graph["inputs"].items()},
        "outputs": {name: list(graph.nodes[node]["shape"]) for name, node in graph.graph["outputs"].items()},
        "totals": {key: totals[key] for key in ("params", "trainable_params", "macs", "activation_bytes")},
        "layers": rows(graph),
    }
    return json.dumps(document, indent=2) + "\n"


_HEADERS = ("Layer (path)", "Op", "Output shape", "Params", "MACs", "RF")


def _cells(graph) -> list[tuple[str, ...]]:
    return [(node, op_text(data), shape_text(data["shape"]), f"{data['params']:,}", f"{data['macs']:,}",
             rf_text(data["rf"])) for node, data in graph.nodes(data=True)]


def _mib(n_bytes: int) -> str:
    return f"{n_bytes / 2 ** 20:,.1f} MiB"


def _footer(graph) -> list[str]:
    t = graph.graph["totals"]
    lines = [f"Total params: {t['params']:,} ({_mib(4 * t['params'])} as float32)",
             f"Trainable params: {t['trainable_params']:,}",
             f"Non-trainable params: {t['params'] - t['trainable_params']:,}"]
    if t["buffers"]:
        lines.append(f"Buffers (running stats, fixed weights): {t['buffers']:,}")
    side = [name for name in graph.graph["outputs"] if name != "output"]
    if side:
        lines.append(f"Params on the main output's path: {t['main_params']:,} (side outputs: {', '.join(side)})")
    lines.append(f"MACs (main output, per sample): {t['macs']:,} ({t['macs'] / 1e9:.2f} G)")
    if side:
        lines.append(f"MACs including side outputs: {t['all_macs']:,}")
    lines.append(f"Activations (float32, per sample): {_mib(t['activation_bytes'])}")
    outputs = ", ".join(f"{name} {shape_text(graph.nodes[node]['shape'])}"
                        for name, node in graph.graph["outputs"].items())
    lines.append(f"Outputs: {outputs}")
    return lines


def to_table(graph) -> str:
    cells = _cells(graph)
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(_HEADERS)]
    right = (False, False, False, True, True, True)

    def line(values) -> str:
        return "  ".join(v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)).rstrip()

    inputs = ", ".join(f"{name} {shape_text(shape)}" for name, shape in graph.graph["inputs"].items())
    rule = "-" * len(line(_HEADERS))
    out = [f"{graph.graph['name']} ({graph.graph['source']})  inputs: {inputs}", rule, line(_HEADERS), rule]
    out += [line(row) for row in cells]
    out += ["=" * len(rule), *_footer(graph)]
    return "\n".join(out) + "\n"


def to_markdown(graph) -> str:
    cells = _cells(graph)
    out = [f"### {graph.graph['name']}", "", "| " + " | ".join(_HEADERS) + " |",
           "|" + "|".join(["---"] * 3 + ["---:"] * 3) + "|"]
    out += ["| " + " | ".join(f"`{c}`" if i == 0 else c for i, c in enumerate(row)) + " |" for row in cells]
    out += [""] + [f"- {line}" for line in _footer(graph)]
    return "\n".join(out) + "\n"


def check_line(graph) -> str:
    """One line for `cnnc check`: name, params, MACs and output shapes."""
    t = graph.graph["totals"]
    outputs = ", ".join(shape_text(graph.nodes[node]["shape"]) + ("" if name == "output" else f" ({name})")
                        for name, node in graph.graph["outputs"].items())
    return (f"{graph.graph['source']}: ok: {graph.graph['name']}: {t['trainable_params']:,} params, "
            f"{t['macs'] / 1e9:.3g} GMACs -> {outputs}")


FORMATS = {"table": to_table, "json": to_json, "markdown": to_markdown}
