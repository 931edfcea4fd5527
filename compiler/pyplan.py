"""Plan the generated Python: which modules exist where, which classes, and how each forward runs.

Every block instance (a scope entry on the IR nodes) and the network itself is an *instance plan*:
its submodule tree (layer modules, child instances, containers for labelled groups), its forward
*units* in order, and the values (slots) that its constructor calls use. Instances of one block
whose plans have the same structure share one class; slot values that differ between them become
that class's constructor parameters (expressed with the block's own arguments where they match).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from cnnc.dsl.diagnostics import CnnError

from . import names
from .pyops import FRESH_PRODUCERS, INPLACE_OPS, LAYERS, MERGES

SLOT = "<slot>"


@dataclass
class Entry:
    """A node of an instance's module tree."""

    kind: str                      # "layer", "instance" or "container"
    raw: str                       # the path component
    name: str = ""                 # the registered attribute name
    ref: str = ""                  # layer: node id; instance: instance path; container: its path
    children: dict = field(default_factory=dict)   # container: raw -> Entry, in order
    callable: bool = False         # container: a chain, called as one nn.Sequential
    first: int = 0                 # graph index of its first node
    layer: object = None           # pyops.Layer


@dataclass
class Unit:
    """One statement of a forward: a layer call, a merge, a child instance or a chain container."""

    kind: str                      # "layer", "merge", "instance", "container"
    access: tuple                  # entries from the class root to the called module
    inputs: list
    outputs: list
    node: str                      # a representative node (for the line comment)
    label: str | None = None       # for naming variables


@dataclass
class Plan:
    path: str
    scope: object                  # ScopeEntry, or None for the network
    depth: int
    root: Entry
    units: list
    inputs: list
    exports: list
    struct: tuple = ()
    slots: list = field(default_factory=list)   # (value, role, hint) or ("child", instance path)
    cls: object = None


class Planner:
    def __init__(self, graph: nx.DiGraph):
        self.g = graph
        self.index = {n: i for i, n in enumerate(graph.nodes)}
        self.outputs = set(graph.graph["outputs"].values())
        self.scopes: dict[str, object] = {}
        self.member_of: dict[str, set] = {}
        for node, data in graph.nodes(data=True):
            self.member_of[node] = {e.path for e in data["scope"]}
            for depth, entry in enumerate(data["scope"]):
                self.scopes.setdefault(entry.path, (entry, depth + 1))
        self.plans: dict[str, Plan] = {}
        self._members: dict[str, list] = {"": [n for n, d in graph.nodes(data=True) if d["op"] != "input"]}
        for node in self._members[""]:
            for path in self.member_of[node]:
                self._members.setdefault(path, []).append(node)
        self._preds = {n: [s for s, _, _ in sorted(graph.in_edges(n, data="port"), key=lambda e: e[2])]
                       for n in graph.nodes}
        self._io: dict = {}

    # -- membership -----------------------------------------------------------------------
    def inside(self, node: str, path: str) -> bool:
        return path == "" or path in self.member_of[node]

    def nodes_in(self, path: str) -> list[str]:
        return self._members.get(path, [])

    def preds(self, node: str) -> list[str]:
        return self._preds[node]

    def io(self, path: str) -> tuple[list, list]:
        """External inputs (by first use) and exported nodes of an instance."""
        if path not in self._io:
            self._io[path] = self._compute_io(path)
        return self._io[path]

    def _compute_io(self, path: str) -> tuple[list, list]:
        if path == "":
            ins = [n for n, d in self.g.nodes(data=True) if d["op"] == "input"]
            return ins, list(dict.fromkeys(self.g.graph["outputs"].values()))
        members = self.nodes_in(path)
        inputs = []
        for node in members:
            for source in self.preds(node):
                if not self.inside(source, path) and source not in inputs:
                    inputs.append(source)
        exports = [n for n in members if n in self.outputs
                   or any(not self.inside(s, path) for s in self.g.successors(n))]
        return inputs, exports

    # -- the plan of one instance ---------------------------------------------------------
    def plan(self, path: str) -> Plan:
        scope, depth = self.scopes.get(path, (None, 0))
        root = Entry("container", "", ref=path)
        merges = []
        for node in self.nodes_in(path):
            data = self.g.nodes[node]
            top = data["scope"][depth].path if len(data["scope"]) > depth else node
            rel = top[len(path) + 1:] if path else top
            parts = [names.check_part(p, top) for p in rel.split(".")]
            if top == node and data["op"] in MERGES:
                merges.append((node, parts))
                continue
            self._insert(root, parts, top, "instance" if top != node else "layer", node)
        for node, parts in merges:  # a merge inside a group makes that group a namespace, not a chain
            entry = root
            for part in parts[:-1]:
                entry = entry.children.setdefault(part, Entry("container", part, ref=part))
                entry.first = -1
        self._finish(root)
        self._parameters_on_modules(root)
        inputs, exports = self.io(path)
        plan = Plan(path, scope, depth, root, [], inputs, exports)
        plan.units = self._units(root, (), merges)
        return plan

    def _parameters_on_modules(self, root: Entry) -> None:
        """A bare parameter (`scale`) is registered on its block's module; a group of layers (an
        nn.Sequential or nn.ModuleDict) cannot hold one."""
        stack = [c for c in root.children.values() if c.kind == "container"]
        while stack:
            container = stack.pop()
            for child in container.children.values():
                if child.kind == "container":
                    stack.append(child)
                elif child.kind == "layer" and child.layer.apply:
                    data = self.g.nodes[child.ref]
                    raise CnnError(f"{data['op']} `{child.ref}`: a bare parameter cannot sit in the group of "
                                   f"layers `{container.ref}`", data["span"],
                                   hint="put it directly in a block or the network (as ConvNeXt's layer_scale), "
                                        "or make the group a block")

    def _insert(self, root: Entry, parts: list, top: str, kind: str, node: str) -> None:
        entry = root
        prefix = root.ref
        for part in parts[:-1]:
            prefix = f"{prefix}.{part}" if prefix else part
            if part not in entry.children:
                entry.children[part] = Entry("container", part, ref=prefix, first=self.index[node])
            entry = entry.children[part]
        if parts[-1] in entry.children:
            return  # another node of the same child instance
        leaf = Entry(kind, parts[-1], ref=top, first=self.index[node])
        if kind == "layer":
            leaf.layer = self._layer(node)
        entry.children[parts[-1]] = leaf

    def _layer(self, node: str):
        data = self.g.nodes[node]
        sources = self.preds(node)
        shapes = [self.g.nodes[s]["shape"] for s in sources]
        inplace = False
        if data["op"] in INPLACE_OPS and len(sources) == 1:
            source = sources[0]
            inplace = (self.g.nodes[source]["op"] in FRESH_PRODUCERS and self.g.out_degree(source) == 1
                       and source not in self.outputs)
        return LAYERS[data["op"]](data["args"], shapes, data["shape"], inplace)

    def _finish(self, entry: Entry) -> None:
        """Registered names, and which containers are chains."""
        mapped = names.module_names(list(entry.children))
        for raw, child in entry.children.items():
            child.name = mapped[raw]
            if child.kind == "container":
                has_merge = child.first == -1
                self._finish(child)
                child.first = min((c.first for c in child.children.values()), default=len(self.index))
                child.callable = not has_merge and self._chain(list(child.children.values()))

    def unit_io(self, entry: Entry) -> tuple[list, list]:
        if entry.kind == "layer":
            return self.preds(entry.ref), [entry.ref]
        if entry.kind == "instance":
            return self.io(entry.ref)
        kids = list(entry.children.values())
        return self.unit_io(kids[0])[0], self.unit_io(kids[-1])[1]

    def entry_nodes(self, entry: Entry) -> set:
        if entry.kind == "layer":
            return {entry.ref}
        if entry.kind == "instance":
            return set(self.nodes_in(entry.ref))
        return set().union(*(self.entry_nodes(c) for c in entry.children.values()))

    def _chain(self, kids: list) -> bool:
        if not kids or any(k.kind == "container" and not k.callable for k in kids):
            return False
        if any(k.kind == "layer" and k.layer.apply for k in kids):  # a bare parameter is no module
            return False
        ios = [self.unit_io(k) for k in kids]
        if any(len(i) != 1 or len(o) != 1 for i, o in ios):
            return False
        for i in range(1, len(kids)):
            produced = ios[i - 1][1][0]
            if ios[i][0] != [produced] or produced in self.outputs:
                return False
            if not set(self.g.successors(produced)) <= self.entry_nodes(kids[i]):
                return False
        return True

    def _units(self, root: Entry, access: tuple, merges: list) -> list:
        units = []
        for node, parts in merges:
            units.append((self.index[node], Unit("merge", (), self.preds(node), [node], node)))
        self._collect(root, access, units)
        return [u for _, u in sorted(units, key=lambda pair: pair[0])]

    def _collect(self, entry: Entry, access: tuple, units: list) -> None:
        for child in entry.children.values():
            here = access + (child,)
            label = None if child.raw.isdigit() else child.raw
            if child.kind == "container" and not child.callable:
                self._collect(child, here, units)
                continue
            inputs, outputs = self.unit_io(child)
            node = child.ref if child.kind == "layer" else min(self.entry_nodes(child), key=self.index.get)
            units.append((child.first, Unit(child.kind, here, inputs, outputs, node, label)))

    # -- structure and slots ----------------------------------------------------------------
    def describe(self, plan: Plan, class_of: dict) -> None:
        """Fill plan.struct (hashable, equal for instances that can share a class) and plan.slots."""
        slots: list = []

        def ref(node):
            if node in plan.inputs:
                return ("in", plan.inputs.index(node))
            return ("n", node[len(plan.path) + 1:] if plan.path else node)

        def tree(entry: Entry):
            if entry.kind == "layer":
                args = []
                direct = all(source in plan.inputs for source in self.preds(entry.ref))
                for arg in entry.layer.args:
                    if arg.role is None:
                        args.append((arg.key, repr(arg.value), repr(arg.default)))
                    else:
                        args.append((arg.key, SLOT, repr(arg.default)))
                        role = "in" if arg.role == "in" and direct else "arg"
                        slots.append((arg.value, role, f"{entry.ref}_{arg.key or 'arg'}"))
                return ("L", entry.raw, entry.layer.ctor, tuple(args))
            if entry.kind == "instance":
                slots.append(("child", entry.ref, all(s in plan.inputs for s in self.io(entry.ref)[0])))
                return ("I", entry.raw, class_of[entry.ref])
            return ("C", entry.raw, entry.callable, tuple(tree(c) for c in entry.children.values()))

        shape = tree(plan.root)
        units = tuple((u.kind, tuple(e.raw for e in u.access), self.g.nodes[u.node]["op"] if u.kind == "merge"
                       else "", tuple(ref(i) for i in u.inputs), tuple(ref(o) for o in u.outputs))
                      for u in plan.units)
        block = plan.scope.block if plan.scope else None
        plan.struct = (block, len(plan.inputs), tuple(ref(e) for e in plan.exports), shape, units)
        plan.slots = slots


def instance_paths(planner: Planner) -> list[str]:
    """Block instances, deepest first (children are planned before their parents)."""
    return sorted(planner.scopes, key=lambda p: (-planner.scopes[p][1], planner.index[
        next(n for n in planner.g.nodes if planner.inside(n, p))]))
