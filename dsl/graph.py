"""The IR container while it is built, and its conversion to networkx.

Elaboration and analysis build a `LightGraph`: the few networkx.DiGraph methods they use, over the
same dict layout. Importing networkx costs ~0.15 s (it loads all of its algorithms), more than the
whole rest of `cnnc check`, so `check` and `summary` stay on the light graph while every public API
(`dsl.build`, the backends) gets a real networkx.DiGraph from `to_networkx()`.
"""
from __future__ import annotations


class _NodeView:
    def __init__(self, nodes: dict):
        self._nodes = nodes

    def __call__(self, data: bool = False):
        return iter(self._nodes.items()) if data else iter(self._nodes)

    def __getitem__(self, node) -> dict:
        return self._nodes[node]

    def __iter__(self):
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node) -> bool:
        return node in self._nodes


class LightGraph:
    """A directed graph with networkx.DiGraph's interface, as far as dsl and the summary use it."""

    def __init__(self):
        self.graph: dict = {}
        self._node: dict = {}
        self._pred: dict = {}
        self._succ: dict = {}
        self.nodes = _NodeView(self._node)

    def add(self, node) -> None:
        """Add a typed node (dsl.ir.Node) and the edges from its inputs, by port."""
        path = node.path
        self._node[path] = node
        self._pred[path] = {}
        self._succ[path] = {}
        for port, source in enumerate(node.inputs):
            self.add_edge(source, path, port=port, shape=self._node[source].shape)

    def add_edge(self, source, target, **attrs) -> None:
        self._succ[source].setdefault(target, {}).update(attrs)
        self._pred[target][source] = self._succ[source][target]

    @property
    def tree(self):
        """The module tree (dsl.ir.Tree), as recorded by the elaborator."""
        return self.graph["tree"]

    def in_edges(self, node, data=False):
        for source, attrs in self._pred[node].items():
            if data is False:
                yield source, node
            elif data is True:
                yield source, node, attrs
            else:
                yield source, node, attrs.get(data)

    def edges(self, data: bool = False):
        for source, targets in self._succ.items():
            for target, attrs in targets.items():
                yield (source, target, attrs) if data else (source, target)

    def predecessors(self, node):
        return iter(self._pred[node])

    def successors(self, node):
        return iter(self._succ[node])

    def ancestors(self, node) -> set:
        seen, stack = set(), [node]
        while stack:
            for source in self._pred[stack.pop()]:
                if source not in seen:
                    seen.add(source)
                    stack.append(source)
        return seen

    def __contains__(self, node) -> bool:
        return node in self._node

    def __len__(self) -> int:
        return len(self._node)

    def __iter__(self):
        return iter(self._node)

    def __repr__(self) -> str:
        return describe(self)

    def to_networkx(self):
        """The same graph as a networkx.DiGraph (shown as a diagram in Jupyter)."""
        graph = _ir_class()()
        graph.graph.update(self.graph)
        # networkx.DiGraph's own layout (node -> attrs, node -> neighbour -> shared edge attrs), filled
        # directly: add_nodes_from would copy the typed nodes into dicts, and add_edges_from costs
        # ~0.4 s on a 23,000-layer network
        graph._node.update(self._node)
        graph._succ.update((node, dict(targets)) for node, targets in self._succ.items())
        graph._pred.update((node, dict(sources)) for node, sources in self._pred.items())
        return graph


# What Jupyter shows for the analysed graph (its diagram, its summary table) is drawn by the
# compiler half, which registers those views here when `cnnc` is imported (cnnc/__init__.py):
# "svg" and "html", each a function of the graph that returns the text or None. dsl imports
# nothing from the compiler.
VIEWS: dict = {}

_IR_CLASS = None


def _ir_class():
    global _IR_CLASS
    if _IR_CLASS is None:
        import networkx as nx

        class IRGraph(nx.DiGraph):
            """The analysed IR: a networkx.DiGraph that Jupyter displays as its diagram."""

            def _repr_svg_(self):
                view = VIEWS.get("svg")
                return view(self) if view else None  # None: Jupyter then shows the text repr

            def _repr_html_(self):
                view = VIEWS.get("html")
                return view(self) if view else None

            def __repr__(self) -> str:
                return describe(self)

            @property
            def tree(self):
                """The module tree (dsl.ir.Tree), as recorded by the elaborator."""
                return self.graph["tree"]

            def __reduce__(self):  # the class is made on first use: pickle names a function instead
                return _empty_ir_graph, (), self.__dict__

        _IR_CLASS = IRGraph
    return _IR_CLASS


def _empty_ir_graph():
    """An IRGraph without state, for unpickling (pickle then restores its attributes)."""
    cls = _ir_class()
    return cls.__new__(cls)


def describe(graph) -> str:
    """A one-line text repr: the network, its size, its inputs and outputs."""
    g = graph.graph
    if "totals" not in g:
        return f"<cnnc graph: {len(graph)} layers, not analysed>"
    t = g["totals"]

    def shape(node_shape) -> str:
        return "x".join(map(str, node_shape))

    inputs = ", ".join(shape(s) for s in g["inputs"].values())
    outputs = ", ".join(shape(graph.nodes[n]["shape"]) for n in g["outputs"].values())
    return (f"<cnnc network {g['name']} from {g['source']}: {len(graph)} layers, {t['params']:,} params, "
            f"{t['macs']:,} MACs, depth {t['depth']}; {inputs} -> {outputs}>")


def ancestors(graph, node) -> set:
    """networkx.ancestors for either graph kind."""
    if isinstance(graph, LightGraph):
        return graph.ancestors(node)
    import networkx as nx

    return nx.ancestors(graph, node)
