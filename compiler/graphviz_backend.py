"""Analysed IR -> a graphviz.Digraph, and writing it as .svg, .png, .pdf or .dot.

Nodes show the op and its key arguments, edges the tensor shapes, block instances are titled
clusters, blocks deeper than `depth` fold into one node (xN for a repeat), fill colours follow
op families (legend on top), and SVG tooltips carry paths, source lines, params, MACs and receptive
fields. Only `write` needs Graphviz's `dot` program; building the Digraph and DOT text never do.
"""
from __future__ import annotations

import html
import shutil
from pathlib import Path

import graphviz

from cnnc.dsl.diagnostics import CnnError
from cnnc.dsl.values import show
from cnnc.dsl.ops import OPS

from . import diagram
from .diagram_labels import label as op_label

DEFAULT_DEPTH = 1
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
FONT = "Helvetica"

# Fill colours by op family (pastel, readable with black text), then the diagram's own kinds.
COLOURS = {
    "conv": "#9ecae1", "pool": "#fdd0a2", "norm": "#dadaeb", "activation": "#fff2ae", "dropout": "#e5e5e5",
    "reshape": "#f2f2f2", "linear": "#a1d99b", "merge": "#fbb4c9", "resample": "#99d8c9",
    "block": "#e1e8ee",
}
TERMINAL = "#37474f"      # inputs and outputs: dark, white text
EDGE, SIDE = "#546e7a", "#9e9e9e"


class RenderError(CnnError):
    """A diagram cannot be written (unknown format, or no Graphviz)."""


class GraphvizMissing(RenderError):
    """Graphviz's `dot` program is needed for svg, png and pdf but is not installed."""


def has_dot() -> bool:
    return shutil.which("dot") is not None


def render(graph, depth: int | None = None, rankdir: str | None = None, fuse: bool = True,
           legend: bool = True) -> graphviz.Digraph:
    """The diagram of an analysed graph; `depth` block levels stay expanded (default 1)."""
    depth = DEFAULT_DEPTH if depth is None else depth
    shown = diagram.build(graph, depth=depth, fuse=fuse)
    name = graph.graph["name"]
    dot = graphviz.Digraph(name=name, comment=f"{name} ({Path(str(graph.graph['source'])).name}), drawn by cnnc")
    dot.attr(rankdir=rankdir or "TB", newrank="true", ordering="out", nodesep="0.25", ranksep="0.3",
             fontname=FONT, fontsize="11", labelloc="t", tooltip=name, bgcolor="white")
    if legend:
        dot.attr(label=_legend(shown))
    dot.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="10", height="0.3",
             margin="0.1,0.04", penwidth="0.8")
    dot.attr("edge", fontname=FONT, fontsize="8", fontcolor="#455a64", color=EDGE, arrowsize="0.6",
             penwidth="0.9")
    _items(dot, shown, shown.root, "cds" if rankdir == "LR" else "invhouse")
    labelled = set()  # one shape label per tensor: a fan-out labels its first edge only
    for a, b, source, main in sorted(shown.edges, key=lambda e: not e[3]):  # the main path first
        into_merge = shown.shown[b].kind == "layer" and OPS[shown.graph.nodes[shown.shown[b].head]["op"]].merge
        _edge(dot, a, b, shown.graph.nodes[source]["shape"], main, source not in labelled,
              weight=1 if into_merge else 2)  # branches hang from their fork, not from their join
        labelled.add(source)
    _outputs(dot, shown)
    return dot


def write(dot: graphviz.Digraph, path) -> None:
    """Write `dot` to `path`; the suffix picks the format. svg, png and pdf need Graphviz's `dot`."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise RenderError(f"cannot tell the format of {path}: name it .svg, .png, .pdf or .dot")
    if fmt == "dot":
        path.write_text(dot.source)
        return
    missing = GraphvizMissing(f"Graphviz's `dot` program is not installed, so {path} cannot be drawn: "
                              f"install it (`apt-get install graphviz`, `brew install graphviz`, or "
                              f"`bash .ci/setup`), or write DOT text with `-o {path.with_suffix('.dot')}`")
    if not has_dot():
        raise missing
    try:
        data = dot.pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        raise missing from None
    except graphviz.CalledProcessError as error:  # a broken install, e.g. without its png plugin
        detail = (error.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"Graphviz's `dot` could not draw {path}: {detail[0] if detail else error}; "
                          f"`-o {path.with_suffix('.dot')}` writes DOT text instead") from None
    path.write_bytes(data)


def svg(graph, **options) -> str | None:
    """SVG text of a diagram, or None when Graphviz's `dot` is missing or fails (Jupyter then shows text)."""
    if not has_dot():
        return None
    try:
        return render(graph, **options).pipe(format="svg", quiet=True).decode("utf-8")
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
        return None


# ---- nodes and clusters -----------------------------------------------------------------

def _items(dot, shown: diagram.Diagram, items: list, entry: str) -> None:
    for item in items:
        if isinstance(item, diagram.Cluster):
            with dot.subgraph(name=f"cluster_{item.group.path}") as sub:
                _cluster_style(sub, shown.graph, item)
                _items(sub, shown, item.items, entry)
        elif item.kind == "folded":
            _folded(dot, shown.graph, item)
        else:
            _layer(dot, shown.graph, item, entry)


def _cluster_style(sub, graph, cluster: diagram.Cluster) -> None:
    group = cluster.group
    if group.entry is not None:
        title = f"<b>{_e(diagram.title(group))}</b>: {_e(call_text(group.entry))}"
        tip = f"{group.path}: {group.entry.block}({_named(group.entry)})\\n{_where(group.entry.span)}"
        sub.attr(style="rounded,filled", fillcolor="#f6f8fa" if group.level % 2 else "#eef2f5",
                 color="#90a4ae")
    else:
        title = f"<b>{'output ' if group.head else ''}{_e(diagram.title(group))}</b>"
        tip = group.path
        sub.attr(style="rounded,dashed" if cluster.side else "rounded", color="#b0bec5", fillcolor="none")
    sub.attr(label=f"<{title}>", tooltip=tip + "\\n" + _costs(graph, group.members), labeljust="l",
             fontsize="9", fontcolor="#37474f", margin="6", penwidth="0.8")


def _layer(dot, graph, item: diagram.Shown, entry: str = "invhouse") -> None:
    data = graph.nodes[item.head]
    tip = _tooltip(graph, item.members)
    if data["op"] == "input":
        name = "" if item.head == "input" else f" {_e(item.head)}"
        dot.node(item.id, f"<<b>input{name}</b><br/>{shape_text(data['shape'])}>", shape=entry, margin="0.2,0.04" if entry == "cds" else "0.1,0.04",
                 fillcolor=TERMINAL, fontcolor="white", style="filled", tooltip=tip)
        return
    family = OPS[data["op"]].family
    text = f"<b>{_e(op_label(data))}</b>"
    if len(item.members) > 1:
        rest = ", ".join(op_label(graph.nodes[m]) for m in item.members[1:])
        text += f'<br/><font point-size="8">{_e(rest)}</font>'
    attrs = {"shape": "ellipse", "margin": "0.05,0.02"} if family == "merge" else {}
    if item.side:
        attrs["style"] = "rounded,filled,dashed"
    dot.node(item.id, f"<{text}>", fillcolor=COLOURS[family], tooltip=tip, **attrs)


def _folded(dot, graph, item: diagram.Shown) -> None:
    first, count = item.groups[0], len(item.groups)
    title = _e(call_text(first.entry)) + (f" ×{count}" if count > 1 else "")
    paths = first.path if count == 1 else f"{first.path} … {item.groups[-1].path}"
    _, out = diagram.boundary(graph, item.members)
    shapes = sorted({graph.nodes[u]["shape"] for u, _ in out}) or [graph.nodes[item.members[-1]]["shape"]]
    params = sum(graph.nodes[m]["params"] for m in item.members)
    detail = f"{' | '.join(shape_text(s) for s in shapes)} · {human(params)} params"
    tip = (f"{paths}: {count} × {first.entry.block}({_named(first.entry)})\\n{_where(first.entry.span)}\\n"
           f"{len(item.members)} layers folded; --depth {first.level} expands them\\n"
           + _costs(graph, item.members))
    dot.node(item.id, f'<<b>{title}</b><br/><font point-size="8">{_e(paths)}<br/>{_e(detail)}</font>>',
             fillcolor=COLOURS["block"], style="filled" + (",dashed" if item.side else ""),
             peripheries="2" if count > 1 else "1", tooltip=tip)


def _edge(dot, a: str, b: str, shape, main: bool, label: bool = True, weight: int = 2) -> None:
    attrs = {"weight": str(weight)} if main else {"style": "dashed", "color": SIDE}
    if label:
        attrs["label"] = f" {shape_text(shape)}"
    dot.edge(a, b, tooltip=shape_text(shape), **attrs)


def _outputs(dot, shown: diagram.Diagram) -> None:
    graph = shown.graph
    for name, node in graph.graph["outputs"].items():
        side = name != "output"
        shape = graph.nodes[node]["shape"]
        ident = f"{name} (output)"
        dot.node(ident, f"<<b>{_e(name)}</b><br/>{shape_text(shape)}>", shape="box",
                 style="rounded,filled" + (",dashed" if side else ""), fillcolor=TERMINAL if not side else "#78909c",
                 fontcolor="white", tooltip=f"{'side ' if side else ''}output {name}: {shape_text(shape)} "
                 f"from {node}")
        _edge(dot, shown.where[node], ident, shape, not side)


# ---- text -------------------------------------------------------------------------------

def shape_text(shape) -> str:
    return "x".join(str(n) for n in shape)


def human(n: int) -> str:
    for size, suffix in ((10 ** 9, "G"), (10 ** 6, "M"), (10 ** 3, "k")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return str(n)


def call_text(entry, limit: int = 24) -> str:
    """`Bottleneck(64, 2)`: a block instance's argument values, long ones elided."""
    return f"{entry.block}({', '.join(_short(v, limit) for _, v in entry.args)})"


def _short(value, limit: int) -> str:
    """show(value), with a long list cut after whole items: `[64, 64, "M", …]`."""
    text = show(value)
    if len(text) <= limit or not isinstance(value, tuple):
        return text
    kept = []
    for item in value:
        if len(", ".join(kept + [show(item)])) + 5 > limit:
            break
        kept.append(show(item))
    return "[" + ", ".join(kept + ["…"]) + "]"


def _named(entry) -> str:
    return ", ".join(f"{k}={show(v)}" for k, v in entry.args)


def _where(span) -> str:
    return f"{span.path}:{span.line}"


def _costs(graph, members) -> str:
    last = graph.nodes[members[-1]]
    params = sum(graph.nodes[m]["params"] for m in members)
    macs = sum(graph.nodes[m]["macs"] for m in members)
    rf = last["rf"]
    return f"params {params:,} · MACs {macs:,} · receptive field {rf[0]}x{rf[1]}"


def _tooltip(graph, members) -> str:
    lines = []
    for m in members:
        data = graph.nodes[m]
        lines.append(f"{m}: {op_label(data)} → {shape_text(data['shape'])}  ({_where(data['span'])})")
    return "\\n".join(lines + [_costs(graph, members)])


def _legend(shown: diagram.Diagram) -> str:
    graph = shown.graph
    families = {OPS[graph.nodes[s.head]["op"]].family for s in shown.shown.values() if s.kind == "layer"}
    keys = [f for f in COLOURS if f in families] + (["block"] if any(s.kind == "folded" for s in
                                                                      shown.shown.values()) else [])
    cells = "".join(f'<td bgcolor="{COLOURS[k]}">{"folded block" if k == "block" else k}</td>' for k in keys)
    t = graph.graph["totals"]
    title = (f"<b>{_e(graph.graph['name'])}</b>  ·  {human(t['params'])} params  ·  "
             f"{human(t['macs'])} MACs  ·  {_e(Path(str(graph.graph['source'])).name)}")
    key = (f'<tr><td><table border="0" cellborder="1" cellspacing="0" cellpadding="3" color="#b0bec5">'
           f'<tr>{cells}</tr></table></td></tr>') if cells else ""
    return f'<<table border="0" cellborder="0" cellspacing="3" cellpadding="2"><tr><td>{title}</td></tr>{key}</table>>'



def _e(text: str) -> str:
    return html.escape(str(text), quote=False)
