"""The analysis pass: parameters, MACs, activation sizes and receptive fields, without torch.

Shapes are already on the nodes (elaboration needs them for `in.channels`); this pass annotates
each node's `meta` with `params`, `trainable`, `buffers`, `macs`, `rf` and `jump` (read back as
`node["params"]`...), and the graph with `totals`.
A node whose `frozen` attribute is set (`trainable=false` on the layer or on an enclosing block
instance) has no trainable parameters: the generated module calls `requires_grad_(False)` on it.
"""
from __future__ import annotations

from fractions import Fraction

from .diagnostics import LimitError, TypeError_
from .graph import ancestors
from .limits import Limits
from .ops import OPS

WEIGHTED = frozenset(("conv", "linear"))  # op families counted by the depth figure


def analyse(graph, limits: Limits | None = None):
    """Annotate `graph` in place and return it. Raises a LimitError, located at the layer that
    crosses it, when the parameters and buffers exceed `limits.max_params` (before a backend
    allocates anything)."""
    max_params = (limits or Limits()).max_params
    nodes = graph.nodes
    held = 0
    for node, data in nodes(data=True):
        sources = [nodes[s] for s in data.inputs]
        in_shapes = [source.shape for source in sources]
        spec = OPS[data.op]
        costs = spec.costs(data.args, in_shapes, data.shape)
        meta = data.meta
        frozen = meta.get("frozen")
        if frozen == "layer" and not costs.params:
            raise TypeError_(f"{data.op} `{node}` has no parameters to freeze", data.span,
                             hint="`trainable=false` applies to layers with weights (conv, linear, batchnorm, ...)")
        meta.update(params=costs.params, trainable=0 if frozen else costs.trainable, buffers=costs.buffers,
                    macs=costs.macs)
        meta["rf"], meta["jump"] = _receptive(data, sources, in_shapes)
        held += costs.params + costs.buffers
        if held > max_params:
            _too_many_parameters(graph, node, max_params)
    graph.graph["totals"] = totals(graph)
    return graph


def _too_many_parameters(graph, node, max_params: int):
    data = graph.nodes[node]
    everything = 0
    for n, d in graph.nodes(data=True):
        costs = OPS[d.op].costs(d.args, [graph.nodes[s].shape for s in d.inputs], d.shape)
        everything += costs.params + costs.buffers
    raise LimitError(
        f"the network holds {everything:,} parameters and buffers ({_bytes(4 * everything)} as float32), "
        f"more than the limit of {max_params:,} ({_bytes(4 * max_params)}); "
        f"{data['op']} `{node}` ({data['params'] + data['buffers']:,}) crosses it", data["span"],
        hint="shrink the network, or raise the limit with --limit max_params=N (Limits.max_params in Python)")


def _bytes(n: int) -> str:
    for unit, size in (("PiB", 2 ** 50), ("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} bytes"


def _receptive(data, sources: list, in_shapes: list):
    """Receptive field (pixels of the input seen by one output pixel) and effective stride, per axis.
    `sources` are the input nodes, in port order. Jumps are integers until an upsampling
    or an adaptive pool makes one fractional (Fraction arithmetic costs ~20x integer arithmetic)."""
    if not sources:
        return (1, 1), (1, 1)
    if len(sources) == 1:
        rf, jump = sources[0].meta["rf"], sources[0].meta["jump"]
    else:
        rf = tuple(max(s.meta["rf"][i] for s in sources) for i in range(2))
        # a broadcast branch (mul's Cx1x1 gate) does not set the spacing of the output's pixels
        full = [s for s, shape in zip(sources, in_shapes) if tuple(shape) == tuple(data.shape)] or sources
        jump = tuple(max(s.meta["jump"][i] for s in full) for i in range(2))
    window = OPS[data.op].window(data.args, in_shapes)
    if window is None:
        return rf, jump
    if window == "all":
        if len(in_shapes[0]) != 3:
            return rf, jump
        size = in_shapes[0][1:]
        return ((_floor(rf[0] + (size[0] - 1) * jump[0]), _floor(rf[1] + (size[1] - 1) * jump[1])),
                (jump[0] * size[0], jump[1] * size[1]))
    if window[0] == "up":
        _, kernel, stride = window
        steps = [-(-kernel[i] // stride[i]) for i in range(2)]
        return ((_floor(rf[0] + (steps[0] - 1) * jump[0]), _floor(rf[1] + (steps[1] - 1) * jump[1])),
                (_exact(Fraction(jump[0]) / stride[0]), _exact(Fraction(jump[1]) / stride[1])))
    kernel, stride = window
    return ((_floor(rf[0] + (kernel[0] - 1) * jump[0]), _floor(rf[1] + (kernel[1] - 1) * jump[1])),
            (_exact(jump[0] * stride[0]), _exact(jump[1] * stride[1])))


def _floor(value) -> int:
    return value if value.__class__ is int else int(value)


def _exact(value):
    """An integer when `value` is whole (a Fraction otherwise)."""
    if value.__class__ is int or value.denominator != 1:
        return value
    return value.numerator


def numel(shape) -> int:
    total = 1
    for n in shape:
        total *= n
    return total


def totals(graph) -> dict:
    """Whole-network figures. MACs count the main output's path only (what inference costs);
    parameters count every layer, side heads included (what the module holds)."""
    main = graph.graph["outputs"]["output"]
    main_nodes = ancestors(graph, main) | {main}
    nodes = graph.nodes
    metas = [d.meta for _, d in nodes(data=True)]
    return {
        "params": sum(m["params"] for m in metas),
        "trainable_params": sum(m["trainable"] for m in metas),
        "buffers": sum(m["buffers"] for m in metas),
        "macs": sum(nodes[n].meta["macs"] for n in main_nodes),
        "activation_bytes": 4 * sum(numel(d.shape) for _, d in nodes(data=True) if d.op != "input"),
        "main_params": sum(nodes[n].meta["params"] for n in main_nodes),
        "all_macs": sum(m["macs"] for m in metas),
        "depth": depth(graph, main),
    }


def depth(graph, main) -> int:
    """Weighted layers (conv and linear families) on the longest path to the main output: the figure
    papers name networks by (VGG-16: 16, GoogLeNet: 22, ResNet-50: 50). Nodes are in creation order,
    which is topological."""
    nodes, longest = graph.nodes, {}
    for node, data in nodes(data=True):
        before = max((longest[s] for s in graph.predecessors(node)), default=0)
        longest[node] = before + (OPS[data.op].family in WEIGHTED)
        if node == main:
            break
    return longest[main]
