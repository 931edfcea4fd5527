"""Group block instances into classes, and choose each class's constructor parameters.

Instances of one block whose plans have the same structure share a class. A slot value (a layer
argument, an input size, a child's constructor argument) that is the same in every instance is
written as a literal; one that differs becomes an expression of the class's parameters: a block
argument (`width`), the incoming channel count (`in_channels`), a multiple of either
(`4 * width`), or, failing those, a parameter of its own named after the layer and argument.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from . import names
from .pyplan import Plan, Planner, instance_paths
from .runtime_source import runtime_sources


@dataclass
class Klass:
    id: int
    plans: list = field(default_factory=list)
    name: str = ""
    params: list = field(default_factory=list)      # constructor parameter names
    exprs: list = field(default_factory=list)       # per expanded slot: code in terms of params
    children: set = field(default_factory=set)      # class ids used inside


@dataclass
class Program:
    graph: nx.DiGraph
    planner: Planner
    classes: list          # Klass, children before parents
    root: Plan
    root_class: Klass
    ctor_values: dict      # instance path -> [(value, role)] for its constructor call
    net_name: str
    outputs_name: str


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _express(vector: list, groups: list) -> str | None:
    """`name` or `k * name` for the first candidate (in priority order) that gives `vector`."""
    if not all(_is_int(v) for v in vector):
        return None
    for candidates, multiple in groups:
        for name, values in candidates:
            if values == vector and not multiple:
                return name
            if multiple and values[0] > 0 and vector[0] % values[0] == 0 and vector[0] // values[0] >= 2:
                k = vector[0] // values[0]
                if all(v == k * p for v, p in zip(vector, values)):
                    return f"{k} * {name}"
    return None


def _candidates(klass: Klass, planner: Planner) -> tuple[list, dict]:
    """(name, per-instance int vector) for the block arguments and the input channel count."""
    first = klass.plans[0]
    taken: set = set()
    args = []
    if first.scope is not None:
        for position, (arg, _) in enumerate(first.scope.args):
            vector = [dict(p.scope.args)[arg] for p in klass.plans]
            if all(_is_int(v) for v in vector):
                args.append((names.local(arg, taken), vector, arg))
                taken.add(args[-1][0])
    channels = None
    if all(p.inputs for p in klass.plans):
        channels = (names.local("in_channels", taken),
                    [planner.g.nodes[p.inputs[0]]["shape"][0] for p in klass.plans], None)
    return args, channels


def _choose(klass: Klass, planner: Planner, slot_values: list) -> list:
    """Set klass.params / klass.exprs; return per-instance constructor values."""
    args, channels = _candidates(klass, planner)
    used, fallback, exprs = set(), [], []
    for j, (value, role, hint) in enumerate(slot_values[0]):
        vector = [slots[j][0] for slots in slot_values]
        if all(repr(v) == repr(vector[0]) and type(v) is type(vector[0]) for v in vector):
            exprs.append(("literal", vector[0]))
            continue
        named = [(a[0], a[1]) for a in args]
        chan = [(channels[0], channels[1])] if channels else []
        order = ([(chan, False), (named, False), (named, True), (chan, True)] if role == "in"
                 else [(named, False), (named, True), (chan, False), (chan, True)])
        code = _express(vector, order)
        if code is None:
            taken = {a[0] for a in args} | {channels[0] if channels else ""} | {f[0] for f in fallback}
            name = names.local(hint.replace(".", "_"), taken)
            fallback.append((name, vector))
            code = name
        else:
            used.add(code.split(" * ")[-1])
        exprs.append(("code", code))
    params = []
    if channels and channels[0] in used:
        params.append(channels)
    params += [(a[0], a[1]) for a in args if a[0] in used]
    params += fallback
    klass.params = [p[0] for p in params]
    klass.exprs = exprs
    return [[(p[1][t], "in" if channels and p[0] == channels[0] else "arg", p[0]) for p in params]
            for t in range(len(klass.plans))]


def _expand(plan: Plan, ctor_values: dict) -> list:
    slots = []
    for slot in plan.slots:
        if slot[0] == "child":
            rel = slot[1][len(plan.path) + 1:] if plan.path else slot[1]
            slots += [(value, role if slot[2] else "arg", f"{rel}_{name}") for value, role, name in ctor_values[slot[1]]]
        else:
            slots.append(slot)
    return slots


def build_program(graph: nx.DiGraph) -> Program:
    planner = Planner(graph)
    ids: dict = {}
    class_of: dict = {}
    classes: dict[int, Klass] = {}
    for path in instance_paths(planner):
        plan = planner.plan(path)
        planner.describe(plan, class_of)
        cid = ids.setdefault(plan.struct, len(ids))
        class_of[path] = cid
        klass = classes.setdefault(cid, Klass(cid))
        klass.plans.append(plan)
        klass.children |= {s[1] for s in plan.slots if s[0] == "child"}
        plan.cls = klass
    planner.plans_by_path = {p.path: p for k in classes.values() for p in k.plans}
    root = planner.plan("")
    planner.describe(root, class_of)
    root_class = Klass(-1, [root])
    root.cls = root_class
    ctor_values: dict = {}
    for cid in sorted(classes):
        klass = classes[cid]
        klass.plans.sort(key=lambda p: planner.index[planner.nodes_in(p.path)[0]])
        values = _choose(klass, planner, [_expand(p, ctor_values) for p in klass.plans])
        for plan, vals in zip(klass.plans, values):
            ctor_values[plan.path] = vals
    _choose(root_class, planner, [_expand(root, ctor_values)])
    taken = set(runtime_sources())
    net_name = names.global_name(graph.graph["name"], taken)
    taken.add(net_name)
    outputs_name = names.global_name(net_name + "Outputs", taken)
    taken.add(outputs_name)
    ordered = sorted(classes.values(), key=lambda k: planner.index[planner.nodes_in(k.plans[0].path)[0]])
    reserved = set(taken)
    for klass in ordered:
        base = names.global_name(klass.plans[0].scope.block, reserved)
        klass.name, n = base, 2
        while klass.name in taken:
            klass.name, n = f"{base}{n}", n + 1
        taken.add(klass.name)
    return Program(graph, planner, [classes[c] for c in sorted(classes)], root, root_class, ctor_values,
                   net_name, outputs_name)
