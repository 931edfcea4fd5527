"""Analysed IR -> what a diagram shows: clusters, folded blocks, fused layer chains, edges.

Pure Python (no graphviz): `graphviz_backend` styles and emits what this module decides.

- Groups come from the module tree the elaborator recorded (`graph.graph["tree"]`): every block
  instance and every other naming scope with more than one layer (`features`, `layer1`, an
  `output aux1 { ... }` head) is a group.
- `depth` counts block instances only: a block instance nested deeper than `depth` folds into one
  node; consecutive sibling instances of the same block with the same arguments and shapes (a
  `repeat`) fold into one node marked xN.
- A shape-preserving layer (norm, activation, dropout) that directly follows its only producer in
  the same group is fused into the producer's node (`conv 3x3, 64` / `batchnorm, relu`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from cnnc.dsl.graph import ancestors
from cnnc.dsl import ir
from cnnc.dsl.ir import Instance, Scope
from cnnc.dsl.ops import OPS

FUSIBLE = frozenset({"norm", "activation", "dropout"})


@dataclass
class Group:
    """A block instance (`entry` set) or a labelled naming scope (`entry` None)."""

    path: str
    entry: object = None                 # dsl.ir.Instance
    parent: "Group | None" = None
    level: int = 0                       # block instances on the chain, this one included
    items: list = field(default_factory=list)  # node ids (str) and child Groups, in order
    members: list = field(default_factory=list)  # every IR node inside, in order
    head: bool = False                   # a side output's head (`output aux1 { ... }`)


@dataclass
class Shown:
    """One node of the diagram: an IR layer (with fused followers), or folded block instances."""

    id: str
    kind: str                            # "layer" or "folded"
    members: list                        # IR node ids it stands for, in order
    groups: list = field(default_factory=list)  # folded: the block instances (Group), in order
    side: bool = False                   # on a side output's head only

    @property
    def head(self) -> str:
        return self.members[0]


@dataclass
class Cluster:
    group: Group
    items: list                          # Shown and Cluster, in order
    side: bool = False


@dataclass
class Diagram:
    graph: object                        # the analysed IR (networkx.DiGraph or dsl's light graph)
    root: list                           # Shown and Cluster at the top level
    shown: dict                          # id -> Shown
    where: dict                          # IR node -> Shown id
    edges: list                          # (from id, to id, IR source node, main path?)
    main: frozenset                      # IR nodes on the main output's path


def build(graph, depth: int = 1, fuse: bool = True) -> Diagram:
    root = _groups(graph)
    output = graph.graph["outputs"]["output"]
    main = frozenset(ancestors(graph, output) | {output})
    shown: dict = {}
    top = _place(graph, root, depth, shown, main)
    where = {m: s.id for s in shown.values() for m in s.members}
    if fuse:
        _fuse(graph, top, shown, where)
    _inline(top)
    return Diagram(graph, top, shown, where, _edges(graph, where, main), main)


# ---- groups -----------------------------------------------------------------------------

def _groups(graph) -> Group:
    """The group tree; trivial scopes (one layer, not a block instance) are left out."""
    root = Group("")
    _fill(root, graph.graph["tree"].root)
    root.members = list(graph.nodes)
    return root


def _fill(group: Group, scope) -> list:
    """Add the entries of the tree scope `scope` to `group`'s items; returns the layers inside."""
    members = []
    for entry in scope.children:
        if isinstance(entry, Scope):
            instance = entry if isinstance(entry, Instance) else None
            child = Group(entry.path, instance, group, group.level + (instance is not None),
                          head=isinstance(entry, ir.Group) and entry.kind == "output")
            inner = _fill(child, entry)
            if instance is None and len(inner) <= 1:  # a trivial scope: its layer joins the parent
                group.items.extend(child.items)
                for item in child.items:
                    if isinstance(item, Group):
                        item.parent = group
            else:
                child.members = inner
                group.items.append(child)
            members += inner
        else:
            group.items.append(entry.path)
            members.append(entry.path)
    return members


# ---- folding ----------------------------------------------------------------------------

def _place(graph, group: Group, depth: int, shown: dict, main) -> list:
    """The items of `group` as Shown nodes and Clusters, folding blocks deeper than `depth`."""
    out: list = []
    for item in group.items:
        if isinstance(item, str):
            out.append(_add(shown, Shown(item, "layer", [item], side=item not in main)))
        elif item.entry is not None and item.level > depth:
            previous = out[-1] if out else None
            if isinstance(previous, Shown) and previous.kind == "folded" and _repeats(graph, previous, item):
                previous.groups.append(item)
                previous.members.extend(item.members)
            else:
                out.append(_add(shown, Shown(item.path, "folded", list(item.members), [item],
                                             side=not (set(item.members) & main))))
        else:
            inner = _place(graph, item, depth, shown, main)
            out.append(Cluster(item, inner, side=not (set(item.members) & main)))
    return out


def _add(shown: dict, item: Shown) -> Shown:
    shown[item.id] = item
    return item


def boundary(graph, members) -> tuple[list, list]:
    """IR edges entering and leaving a set of nodes (in graph order)."""
    inside = set(members)
    into = [(u, v) for v in members for u in graph.predecessors(v) if u not in inside]
    out = [(u, v) for u in members for v in graph.successors(u) if v not in inside]
    return into, out


def signature(graph, group: Group) -> tuple:
    into, _ = boundary(graph, group.members)
    ins = tuple(sorted({graph.nodes[u]["shape"] for u, _ in into}))
    return group.entry.block, group.entry.args, ins, graph.nodes[group.members[-1]]["shape"]


def _repeats(graph, previous: Shown, group: Group) -> bool:
    """`group` repeats the last instance folded into `previous` and takes its output only."""
    last = previous.groups[-1]
    if signature(graph, last) != signature(graph, group):
        return False
    into, _ = boundary(graph, group.members)
    _, out = boundary(graph, last.members)
    return bool(into) and {u for u, _ in into} <= set(last.members) and {v for _, v in out} <= set(group.members)


# ---- fusion -----------------------------------------------------------------------------

def _fuse(graph, items: list, shown: dict, where: dict) -> None:
    """Fuse shape-preserving layers into their producer within one cluster (the same item list)."""
    outputs = set(graph.graph["outputs"].values())
    previous = None
    kept = []
    for item in items:
        if isinstance(item, Cluster):
            _fuse(graph, item.items, shown, where)
        elif previous is not None and _fusible(graph, previous, item, outputs):
            previous.members.append(item.head)
            where[item.head] = previous.id
            del shown[item.id]
            continue
        kept.append(item)
        previous = item if isinstance(item, Shown) and item.kind == "layer" else None
    items[:] = kept


def _fusible(graph, previous: Shown, item: Shown, outputs: set) -> bool:
    if item.kind != "layer" or OPS[graph.nodes[item.head]["op"]].family not in FUSIBLE:
        return False
    tail = previous.members[-1]
    if graph.nodes[previous.head]["op"] == "input" or tail in outputs or previous.side != item.side:
        return False
    return list(graph.predecessors(item.head)) == [tail] and list(graph.successors(tail)) == [item.head]


def _inline(items: list) -> None:
    """A naming scope (not a block instance) drawn as a single node needs no cluster around it."""
    for i, item in enumerate(items):
        if isinstance(item, Cluster):
            _inline(item.items)
            if item.group.entry is None and len(item.items) == 1 and isinstance(item.items[0], Shown):
                items[i] = item.items[0]


def title(group: Group) -> str:
    """A cluster's name: its label inside its parent (`branch2`, `downsample`), else its path."""
    last = group.path.rsplit(".", 1)[-1]
    return last if not last.isdigit() else group.path


# ---- edges ------------------------------------------------------------------------------

def _edges(graph, where: dict, main) -> list:
    seen = set()
    edges = []
    for u, v in graph.edges():
        a, b = where[u], where[v]
        if a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        edges.append((a, b, u, v in main))
    return edges
