"""The straight-line `forward` of a generated class: one statement per unit, with its source line.

Variables: the running value keeps its name (`x = self.conv1(x)`) while nothing else needs the old
value; a value still needed elsewhere makes the next result take a new name (`out`, or the label of
a branch or block: `branch1`, `downsample`). In the network, side-output heads run under
`if self.training:` and the network returns a NamedTuple in training mode, the main output in eval.
"""
from __future__ import annotations

import networkx as nx

from . import names
from .pyops import FRESH_PRODUCERS, MERGES

INDENT = "    "


def _access(unit, sequential: bool) -> str:
    code = "self"
    for depth, entry in enumerate(unit.access):
        if depth == 0 and sequential:
            code = f"self[{int(entry.raw)}]"
        elif names.plain(entry.name):
            code = f"{code}.{entry.name}"
        elif depth == 0:
            code = f'getattr(self, "{entry.name}")'
        else:
            code = f'{code}["{entry.name}"]'
    return code


class _Vars:
    def __init__(self, uses: dict):
        self.uses = uses
        self.var: dict = {}

    def live(self) -> set:
        return {v for n, v in self.var.items() if self.uses.get(n, 0) > 0}

    def fresh(self, base: str) -> str:
        live = self.live()
        base = names.local(base)
        name, n = base, 2
        while name in live:
            name, n = f"{base}{n}", n + 1
        return name


def forward_lines(writer, plan, sequential: bool, network: bool) -> list[str]:
    g = writer.g
    main_side = None
    if network and len(g.graph["outputs"]) > 1:
        main = g.graph["outputs"]["output"]
        main_side = nx.ancestors(g, main) | {main}
    training = [main_side is not None and not (set(u.outputs) & main_side) for u in plan.units]
    uses: dict = {}
    consumers: dict = {}  # main-line units reading each value
    for unit, training_only in zip(plan.units, training):
        for node in dict.fromkeys(unit.inputs):
            uses[node] = uses.get(node, 0) + 1
            consumers[node] = consumers.get(node, 0) + (not training_only)
    for node in plan.exports:
        uses[node] = uses.get(node, 0) + 1
    vs = _Vars(uses)
    args = []
    for node in plan.inputs:
        base = "x" if (not network or node == "input") else node
        vs.var[node] = vs.fresh(base)
        args.append(vs.var[node])
    primary = args[0] if args else "x"
    lines = [f"def forward(self{''.join(', ' + a for a in args)}):"]
    in_training = False
    for unit, training_only in zip(plan.units, training):
        if training_only and not in_training:
            lines.append(f"{INDENT}if self.training:")
        in_training = training_only
        pad = INDENT * (2 if training_only else 1)
        lines.append(pad + _statement(writer, unit, vs, primary, sequential, training_only, consumers))
    lines += _returns(writer, plan, vs, network)
    return lines


def _statement(writer, unit, vs: _Vars, primary: str, sequential: bool, training_only: bool,
               consumers: dict) -> str:
    g = writer.g
    in_vars = [vs.var[n] for n in unit.inputs]
    for node in dict.fromkeys(unit.inputs):
        vs.uses[node] -= 1
    dying = [vs.var[n] for n in dict.fromkeys(unit.inputs) if vs.uses[n] == 0]
    if unit.kind == "merge" and _add_in_place(g, unit, vs):
        where = g.nodes[unit.node]["span"]
        vs.var[unit.node] = in_vars[0]
        return f"{in_vars[0]} += {' + '.join(in_vars[1:])}  # {_clean_path(where.path)}:{where.line}"
    if unit.kind == "merge":
        call = MERGES[g.nodes[unit.node]["op"]](in_vars)
        where = g.nodes[unit.node]["span"]
    else:
        call = f"{_access(unit, sequential)}({', '.join(in_vars)})"
        layer = unit.access[-1].layer if unit.kind == "layer" else None
        if layer is not None and layer.apply:  # a bare parameter: `self.layer_scale * x`
            call = layer.apply.format(self=_access(unit, sequential), x=in_vars[0])
        where = _where(writer, unit.access[-1])
    outs = []
    parallel = unit.label and unit.kind != "layer" and len(unit.inputs) == 1 and consumers.get(unit.inputs[0], 0) > 1
    for position, node in enumerate(unit.outputs):
        if position == 0 and unit.kind == "merge" and not training_only and primary not in vs.live():
            name = primary
        elif position == 0 and dying and not training_only and not parallel and len(unit.inputs) == 1:
            name = dying[0]
        else:
            name = vs.fresh(unit.label if unit.label and unit.kind != "layer" else "out")
        vs.var[node] = name
        outs.append(name)
    text = f"{', '.join(outs)} = {call}" if outs else call
    return f"{text}  # {_clean_path(where.path)}:{where.line}"


def _add_in_place(g, unit, vs: _Vars) -> bool:
    """`a += b` when `a` is a fresh tensor that nothing else reads (as torchvision's `out += identity`)."""
    first = unit.inputs[0]
    return (g.nodes[unit.node]["op"] == "add" and len(set(unit.inputs)) == len(unit.inputs)
            and vs.uses[first] == 0 and g.out_degree(first) == 1
            and g.nodes[first]["op"] in FRESH_PRODUCERS and first not in g.graph["outputs"].values())


def _where(writer, entry):
    if entry.kind == "layer":
        return writer.g.nodes[entry.ref]["span"]
    if entry.kind == "instance":
        return writer.p.planner.scopes[entry.ref][0].span
    return _where(writer, next(iter(entry.children.values())))


def _clean_path(path: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in str(path))


def _returns(writer, plan, vs: _Vars, network: bool) -> list[str]:
    g = writer.g
    if not network:
        values = [vs.var[n] for n in plan.exports]
        return [f"{INDENT}return {', '.join(values) if values else 'None'}"]
    outputs = g.graph["outputs"]
    main = vs.var[outputs["output"]]
    if len(outputs) == 1:
        return [f"{INDENT}return {main}"]
    values = ", ".join(vs.var[n] for n in outputs.values())
    return [f"{INDENT}if self.training:", f"{INDENT * 2}return {writer.p.outputs_name}({values})",
            f"{INDENT}return {main}"]
