"""The IR: typed layer nodes, and the module tree that the elaborator records while it elaborates.

- A `Node` is one layer: its path (the module path, the state_dict prefix), op, arguments, inputs
  by port, output shape, source span, the block instances that enclose it (`scope`), and `meta`, a
  free dict that passes annotate, as torch.fx's `node.meta` (elaboration: `frozen`; init: `init`;
  analysis: `params`, `trainable`, `buffers`, `macs`, `rf`, `jump`). For the code written against
  the round-1 dicts, a node also reads and writes as a mapping: `node["shape"]` is `node.shape`,
  and any other key is a key of `meta` (`node["params"]`).
- The `Tree` is the module tree: the network at its root; `Instance`s of blocks (block name,
  arguments, call span), `Group`s (labelled groups, merges, repeats, loops and conditions, `group {}`
  and side-output heads: every other item that opens a naming scope) and `Layer`s (one per node),
  in source order. Paths are derived from it, never the reverse: backends read it instead of
  splitting dotted paths. Only items that hold layers are kept, so each path names one entry (a
  labelled merge `m` is the group `m` holding `m.0`, `m.1` and, last, the merge layer `m`).
"""
from __future__ import annotations

from collections.abc import MutableMapping

FIELDS = ("path", "op", "args", "inputs", "shape", "span", "scope")
_FIELDS = frozenset(FIELDS)


class Node(MutableMapping):
    """One layer of the IR (see the module's doc); also a mapping over its fields and its `meta`."""

    __slots__ = (*FIELDS, "meta")

    def __init__(self, path: str, op: str, args: dict, inputs: tuple, shape: tuple, span, scope: tuple,
                 meta: dict | None = None):
        self.path, self.op, self.args, self.inputs = path, op, args, inputs
        self.shape, self.span, self.scope = shape, span, scope
        self.meta = {} if meta is None else meta

    def __getitem__(self, key):
        if key in _FIELDS:
            return getattr(self, key)
        return self.meta[key]

    def __setitem__(self, key, value) -> None:
        if key in _FIELDS:
            setattr(self, key, value)
        else:
            self.meta[key] = value

    def __delitem__(self, key) -> None:
        if key in _FIELDS:
            raise KeyError(f"{key!r} is a field of every node; it cannot be removed")
        del self.meta[key]

    def __contains__(self, key) -> bool:
        return key in _FIELDS or key in self.meta

    def get(self, key, default=None):
        if key in _FIELDS:
            return getattr(self, key)
        return self.meta.get(key, default)

    def __iter__(self):
        yield from FIELDS
        yield from self.meta

    def __len__(self) -> int:
        return len(FIELDS) + len(self.meta)

    def copy(self) -> "Node":
        return Node(self.path, self.op, self.args, self.inputs, self.shape, self.span, self.scope, dict(self.meta))

    def __repr__(self) -> str:
        return f"Node({self.path!r}, {self.op!r}, shape={self.shape!r})"


# ---- the module tree ----------------------------------------------------------------------------

class Entry:
    """An entry of the module tree: its path and the scope that holds it (None for the root)."""

    __slots__ = ("path", "parent")

    def __init__(self, path: str, parent: "Scope | None" = None):
        self.path, self.parent = path, parent

    @property
    def part(self) -> str:
        """Its part of the path: its label or position inside its parent ('' for the root, and for a
        labelled merge's own layer, which its group names)."""
        if self.parent is None or self.path == self.parent.path:
            return ""
        return self.path[len(self.parent.path) + 1:] if self.parent.path else self.path

    def ancestors(self) -> list:
        """The enclosing scopes, innermost first, the root last."""
        out, scope = [], self.parent
        while scope is not None:
            out.append(scope)
            scope = scope.parent
        return out


class Layer(Entry):
    """A layer: the tree's leaf for the IR node of the same path."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Layer({self.path!r})"


class Scope(Entry):
    """An entry that holds others (`children`, in source order)."""

    __slots__ = ("children",)

    def __init__(self, path: str, parent: "Scope | None" = None):
        super().__init__(path, parent)
        self.children: list = []

    def walk(self):
        """Every entry inside, depth first in source order (this one excluded)."""
        stack = list(reversed(self.children))
        while stack:
            entry = stack.pop()
            yield entry
            if isinstance(entry, Scope):
                stack.extend(reversed(entry.children))

    def layers(self) -> list[str]:
        """The paths of the layers inside, in creation order (which is the graph's order)."""
        return [entry.path for entry in self.walk() if isinstance(entry, Layer)]

    def scopes(self) -> list:
        """The direct children that are scopes (instances and groups)."""
        return [entry for entry in self.children if isinstance(entry, Scope)]


class Network(Scope):
    """The root: the network itself (path '')."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        super().__init__("")
        self.name = name

    def __repr__(self) -> str:
        return f"Network({self.name!r})"


class Instance(Scope):
    """A block instance: `Bottleneck(64, 1)` at `layer1.0`. `args` are all its parameters' values
    (given or defaulted) in declaration order; `span` is the call's."""

    __slots__ = ("block", "args", "span")

    def __init__(self, path: str, block: str, args: tuple, span, parent: Scope | None = None):
        super().__init__(path, parent)
        self.block, self.args, self.span = block, args, span

    def __repr__(self) -> str:
        return f"Instance({self.path!r}, {self.block!r})"


class Group(Scope):
    """Any other item that opens a naming scope. `kind` says which: "group" (a labelled `{}` or a
    `group {}`), "merge", "repeat", "for", "if" (labelled), or "output" (a side output's head)."""

    __slots__ = ("kind", "span")

    def __init__(self, path: str, kind: str, span, parent: Scope | None = None):
        super().__init__(path, parent)
        self.kind, self.span = kind, span

    def __repr__(self) -> str:
        return f"Group({self.path!r}, {self.kind!r})"


class Tree:
    """The module tree of one network, with lookups by path."""

    def __init__(self, root: Network, scopes: dict, layers: dict):
        self.root = root
        self._scopes: dict[str, Scope] = scopes   # path -> instance or group
        self._layers: dict[str, Layer] = layers   # node path -> its leaf

    def walk(self):
        """Every entry, depth first in source order (the root excluded)."""
        return self.root.walk()

    def find(self, path: str):
        """The entry named `path`: an instance or group, else a layer (a labelled merge's path names
        its group); None when nothing is."""
        if path == "":
            return self.root
        return self._scopes.get(path) or self._layers.get(path)

    def layer(self, node: str) -> Layer:
        return self._layers[node]

    def parent(self, path: str) -> Scope | None:
        """The scope that holds the entry named `path`."""
        entry = self.find(path)
        return None if entry is None else entry.parent

    def instance_of(self, node: str) -> Instance | None:
        """The innermost block instance that holds the layer `node`."""
        scope = self._layers[node].parent
        while scope is not None and not isinstance(scope, Instance):
            scope = scope.parent
        return scope

    def instances(self) -> list[Instance]:
        """Every block instance, outer before inner, in source order."""
        return [entry for entry in self.walk() if isinstance(entry, Instance)]

    def paths(self) -> set[str]:
        """Every path that names something: layers, instances and groups."""
        return set(self._scopes) | set(self._layers)


class TreeBuilder:
    """Records the tree while the elaborator walks the source: `open` a scope when an item opens a
    naming scope, `add` each layer as it is created, `close` the scope after the item. A scope
    that ends up holding no layer is dropped, so no two kept entries share a path."""

    def __init__(self, network: str):
        self.root = Network(network)
        self.stack: list[Scope] = [self.root]
        self.scopes: dict[str, Scope] = {}
        self.layers: dict[str, Layer] = {}

    def open(self, scope: Scope) -> Scope:
        parent = self.stack[-1]
        scope.parent = parent
        parent.children.append(scope)
        self.stack.append(scope)
        return scope

    def close(self, scope: Scope) -> None:
        assert self.stack[-1] is scope
        self.stack.pop()
        if not scope.children:
            siblings = scope.parent.children
            if siblings[-1] is scope:  # nothing else joins the parent while it is open
                siblings.pop()
            else:
                siblings.remove(scope)
        else:
            self.scopes[scope.path] = scope

    def add(self, path: str) -> None:
        layer = Layer(path, self.stack[-1])
        self.stack[-1].children.append(layer)
        self.layers[path] = layer

    def tree(self) -> Tree:
        return Tree(self.root, self.scopes, self.layers)
