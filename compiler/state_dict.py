"""The state_dict a compiled network has, known statically: key -> shape, without torch.

Keys are the modules' attribute paths (the layer paths, with torch-reserved names mangled as the
PyTorch backend registers them) followed by each module's parameter and buffer names. One entry
per op of dsl.ops.OPS that holds state, keyed by op name; a test checks the table is complete and
equals the real `state_dict()` of compiled networks.
"""
from __future__ import annotations

from .names import attribute_paths


def _conv(a, ins, out):
    c = ins[0][0]
    kh, kw = a["kernel"]
    if a["table"] is not None:  # runtime.TableConv2d: the connected weights only, packed
        weight = (sum(len(row) for row in a["table"]), kh, kw)
    else:
        weight = (a["out"], c // a["groups"], kh, kw)
    return [("weight", weight)] + ([("bias", (a["out"],))] if a["bias"] else [])


def _deconv(a, ins, out):
    kh, kw = a["kernel"]
    weight = (ins[0][0], a["out"] // a["groups"], kh, kw)
    return [("weight", weight)] + ([("bias", (a["out"],))] if a["bias"] else [])


def _batchnorm(a, ins, out):
    c = (ins[0][0],)
    affine = [("weight", c), ("bias", c)] if a["affine"] else []
    return affine + [("running_mean", c), ("running_var", c), ("num_batches_tracked", ())]


def _linear(a, ins, out):
    return [("weight", (a["out"], ins[0][-1]))] + ([("bias", (a["out"],))] if a["bias"] else [])


def _channels(shape) -> int:
    axes = getattr(shape, "axes", None) or ("CHW" if len(shape) == 3 else "F" * len(shape))
    return shape[axes.index("C")] if "C" in axes else shape[-1]


def _layernorm(a, ins, out):
    c = (_channels(ins[0]),)
    return [("weight", c), ("bias", c)] if a["affine"] else []


def _scale(a, ins, out):  # a bare nn.Parameter named by the layer itself: its key is the layer path
    c = _channels(ins[0])
    axes = getattr(ins[0], "axes", None) or ("CHW" if len(ins[0]) == 3 else "F")
    return [("", (c, 1, 1) if axes == "CHW" else (c,))]


STATE = {
    "conv": _conv,
    "deconv": _deconv,
    "batchnorm": _batchnorm,
    "linear": _linear,
    "subsample": lambda a, ins, out: [("weight", (ins[0][0],)), ("bias", (ins[0][0],))],
    "rbf": lambda a, ins, out: [("prototypes", (a["units"], ins[0][0]))],
    "layernorm": _layernorm,
    "scale": _scale,
}

# Ops whose modules (or functional calls) hold no parameters and no persistent buffers.
STATELESS = frozenset({"input", "maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool", "lrn", "relu",
                       "relu6", "leaky_relu", "elu", "gelu", "tanh", "scaled_tanh", "sigmoid", "softmax",
                       "log_softmax", "dropout", "dropout2d", "flatten", "identity", "upsample", "concat", "add",
                       "silu", "hardswish", "hardsigmoid", "stochastic_depth", "permute", "chunk", "channel_shuffle",
                       "mul"})


def _inputs(graph, node) -> list:
    edges = sorted(graph.in_edges(node, data="port"), key=lambda e: e[2])
    return [graph.nodes[source]["shape"] for source, _, _ in edges]


class UnknownState(Exception):
    """An op holds parameters or buffers but has no entry in STATE (its keys cannot be named)."""


def entries(graph) -> dict:
    """{layer path: [(state_dict key, shape), ...]} for every layer that holds state, in graph order."""
    nodes = list(graph.nodes)
    modules = dict(zip(nodes, attribute_paths(nodes)))
    out = {}
    for node, data in graph.nodes(data=True):
        rule = STATE.get(data["op"])
        if rule is None:
            if data["params"] or data["buffers"]:
                raise UnknownState(f"{node}: op `{data['op']}` holds state but compiler/state_dict.py has no rule")
            continue
        out[node] = [(f"{modules[node]}.{name}" if name else modules[node], tuple(shape))
                     for name, shape in rule(data["args"], _inputs(graph, node), data["shape"])]
    return out


def state_dict_shapes(graph) -> dict:
    """{key: shape} as `module.state_dict()` lists them (graph order, then each module's own order)."""
    return {key: shape for keys in entries(graph).values() for key, shape in keys}
