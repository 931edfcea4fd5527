"""Analysed IR -> one self-contained interactive HTML page (`cnnc render FILE -o net.html`, `cnnc.show`).

The page holds the diagram model of compiler/diagram.py in every fold state at once, and lays it
out in the browser: clicking a folded block expands it in place, a cluster's title folds it back,
and the depth control reproduces `cnnc render --depth N` exactly (same nodes, clusters and edges;
a browser test checks it). Python decides *what* is drawn (groups, folding, fusion, labels, the
same functions the SVG uses); the script only decides *where* (a layered layout per cluster,
computed inside out). Nothing is fetched: the script, the style, the data and the `.cnn` sources
are inline, so the file works offline and from a notebook.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

from cnnc.dsl.values import show
from cnnc.dsl.ops import OPS

from . import diagram
from .diagram_labels import label as op_label
from .explain import args_text, explain_layer
from .graphviz_backend import COLOURS, DEFAULT_DEPTH, SIDE, TERMINAL, EDGE, call_text, human, shape_text

ASSETS = Path(__file__).resolve().parent


def _levels(graph) -> int:
    return max((len(data["scope"]) for _, data in graph.nodes(data=True)), default=0)


def model(graph, depth: int | None = None) -> dict:
    """Everything the page draws, as JSON-ready data."""
    deepest = _levels(graph)
    full = diagram.build(graph, depth=deepest)
    runs, run_of = {}, {}
    for level in range(1, deepest + 1):
        for item in diagram.build(graph, depth=level - 1).shown.values():
            if item.kind == "folded" and item.groups[0].level == level:
                runs[item.id] = _run(graph, item)
                for group in item.groups:
                    run_of[group.path] = item.id
    nodes, sources = {}, {}
    for node, data in graph.nodes(data=True):
        nodes[node] = _node(graph, node, data, full, run_of, sources)
    edges = [[u, v, shape_text(graph.nodes[u]["shape"]), v in full.main] for u, v in graph.edges()]
    outputs = [{"name": name, "node": node, "shape": shape_text(graph.nodes[node]["shape"]), "side": name != "output"}
               for name, node in graph.graph["outputs"].items()]
    totals = graph.graph["totals"]
    return {
        "name": graph.graph["name"], "source": str(graph.graph["source"]),
        "title": f"{graph.graph['name']} · {human(totals['params'])} params · {human(totals['macs'])} MACs · "
                 f"{Path(str(graph.graph['source'])).name}",
        "depth": DEFAULT_DEPTH if depth is None else depth, "levels": deepest,
        "tree": [_item(graph, item, full, run_of) for item in full.root],
        "runs": runs, "nodes": nodes, "edges": edges, "outputs": outputs, "sources": sources,
        "colours": {**COLOURS, "terminal": TERMINAL, "edge": EDGE, "side": SIDE},
    }


def _item(graph, item, full: diagram.Diagram, run_of: dict) -> dict:
    if isinstance(item, diagram.Cluster):
        group = item.group
        out = {"t": "c", "path": group.path, "side": item.side, "level": group.level,
               "items": [_item(graph, i, full, run_of) for i in item.items],
               "costs": _costs(graph, group.members)}
        if group.entry is not None:
            out.update(block=True, name=diagram.title(group), call=call_text(group.entry),
                       run=run_of.get(group.path), named=_named(group.entry), at=_at(group.entry.span))
        else:
            out.update(block=False, name=("output " if group.head else "") + diagram.title(group))
        return out
    data = graph.nodes[item.head]
    lines = [op_label(data)] if data["op"] != "input" else [
        "input" + ("" if item.head == "input" else f" {item.head}"), shape_text(data["shape"])]
    if len(item.members) > 1:
        lines.append(", ".join(op_label(graph.nodes[m]) for m in item.members[1:]))
    return {"t": "n", "id": item.id, "members": item.members, "lines": lines, "side": item.side,
            "family": "input" if data["op"] == "input" else OPS[data["op"]].family,
            "merge": OPS[data["op"]].merge if data["op"] in OPS else False}


def _run(graph, item: diagram.Shown) -> dict:
    """A folded node: one block instance, or consecutive repeats of it (xN), as the SVG draws it."""
    first, count = item.groups[0], len(item.groups)
    paths = first.path if count == 1 else f"{first.path} … {item.groups[-1].path}"
    _, out = diagram.boundary(graph, item.members)
    shapes = sorted({graph.nodes[u]["shape"] for u, _ in out}) or [graph.nodes[item.members[-1]]["shape"]]
    params = sum(graph.nodes[m]["params"] for m in item.members)
    return {"id": item.id, "groups": [g.path for g in item.groups], "level": first.level, "side": item.side,
            "lines": [call_text(first.entry) + (f" ×{count}" if count > 1 else ""), paths,
                      f"{' | '.join(shape_text(s) for s in shapes)} · {human(params)} params"],
            "call": f"{first.entry.block}({_named(first.entry)})", "at": _at(first.entry.span),
            "layers": len(item.members), "costs": _costs(graph, item.members)}


def _node(graph, node, data, full, run_of, sources) -> dict:
    span = data["span"]
    sources.setdefault(span.path, span.source.text)
    scope = []
    for entry in data["scope"]:
        sources.setdefault(entry.span.path, entry.span.source.text)
        scope.append({"path": entry.path, "call": f"{entry.block}({_named(entry)})", "at": _at(entry.span),
                      "run": run_of.get(entry.path)})
    return {"op": data["op"], "args": args_text(data["op"], data["args"]), "label": op_label(data),
            "shape": shape_text(data["shape"]), "params": data["params"], "macs": data["macs"],
            "rf": list(data["rf"]), "at": _at(span), "scope": scope, "shown": full.where[node],
            "explain": explain_layer(graph, node)}


def _named(entry) -> str:
    return ", ".join(f"{k}={show(v, 60)}" for k, v in entry.args)


def _at(span) -> list:
    return [span.path, span.line, span.end_line]


def _costs(graph, members) -> list:
    last = graph.nodes[members[-1]]
    return [sum(graph.nodes[m]["params"] for m in members), sum(graph.nodes[m]["macs"] for m in members),
            list(last["rf"]), len(members)]


def page(graph, depth: int | None = None) -> str:
    """The whole page as text."""
    data = json.dumps(model(graph, depth), separators=(",", ":"), ensure_ascii=False)
    data = data.replace("</", "<\\/").replace("<!--", "<\\!--")  # inert inside <script>
    script = "".join((ASSETS / name).read_text(encoding="utf-8") for name in ("html_view_layout.js", "html_view.js"))
    style = (ASSETS / "html_view.css").read_text(encoding="utf-8")
    title = html.escape(f"{graph.graph['name']} — cnnc")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            f'<meta name="generator" content="cnnc">\n<style>\n{style}</style>\n</head>\n<body>\n'
            f'<script type="application/json" id="cnnc-data">{data}</script>\n'
            f"<script>\n{script}</script>\n</body>\n</html>\n")


def write(graph, path, depth: int | None = None) -> None:
    Path(path).write_text(page(graph, depth), encoding="utf-8")


class View:
    """The interactive diagram in a notebook: an iframe holding the page (scripts and styles stay
    inside it). `.html` is the page itself; `.save(path)` writes it."""

    def __init__(self, text: str, height: int = 640):
        self.html, self.height = text, height

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" style="width: 100%; '
                f'height: {self.height}px; border: 1px solid #cfd8dc; border-radius: 4px" '
                f'sandbox="allow-scripts"></iframe>')

    def save(self, path) -> None:
        Path(path).write_text(self.html, encoding="utf-8")
