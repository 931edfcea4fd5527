"""Symbolic output shapes for the code generator (compiler/pygen.py): a layer's output sizes as
`pyvalues.V` items, each both the analysis's value and, where it follows from the layer's inputs
and arguments, code over the class's constructor arguments (`in_channels`, not `64`)."""
from __future__ import annotations

from cnnc.dsl.ops import OPS
from cnnc.dsl.ops_args import axes_of, with_axes

from .pyvalues import BLIND, V, opaque, product

_SPATIAL_ARGS = ("kernel", "stride", "pad", "dilation", "output_pad", "size", "scale", "ceil")
_KEEP_SPATIAL = {"activation", "norm", "dropout"}
_KEEP_CHANNELS = {"activation", "norm", "dropout", "pool", "resample"}


def layer_shape(op, args, ins, node, blind):
    """The output shape of layer `op` as V items: values from the IR (`node`, None when it has none),
    code where it follows from the inputs `ins`; `blind`: the arguments fixed at compile time."""
    shape = ins[0]
    concrete = node["shape"] if node is not None else None
    spec = OPS[op]
    if all(s.const for s in shape) and all(not isinstance(a, V) for a in args.values()):
        if concrete is None:
            try:
                concrete = spec.shape({k: v for k, v in args.items()},
                                      [with_axes(tuple(s.value for s in shape), axes_of(shape))])
            except Exception:
                return tuple(V(BLIND, None, blind or {"?"}) for _ in shape)
        return with_axes(tuple(V(n) for n in concrete), axes_of(concrete))
    sources = [a for a in args.values() if isinstance(a, V)]
    if op == "flatten":
        out = (product(list(shape)),)
    elif op == "permute" and not isinstance(args["dims"], V):  # torch's dims, batch first
        out = tuple(shape[d - 1] for d in args["dims"][1:])
    elif op == "linear" and len(shape) > 1 and axes_of(shape).endswith("C"):  # a channels-last tensor
        c = args["out"] if isinstance(args["out"], V) else V(args["out"])
        out = (*shape[:-1], c)
    elif "out" in args and op in ("conv", "deconv", "linear"):
        c = args["out"] if isinstance(args["out"], V) else V(args["out"])
        out = (c, *spatial(op, args, shape, sources, concrete))
    elif op == "rbf":
        c = args["units"] if isinstance(args["units"], V) else V(args["units"])
        out = (c,)
    elif op == "chunk" and not isinstance(args["parts"], V):
        out = (_divided(shape[0], args["parts"]), *shape[1:])
    elif spec.family in _KEEP_CHANNELS or op in ("identity", "channel_shuffle"):
        out = (shape[0], *spatial(op, args, shape, sources, concrete))
    else:  # no rule here: the analysis's value in this instance, code nowhere
        out = (opaque(BLIND, *shape, *sources, V(0, None, blind or {"?"})),
               *spatial(op, args, shape, sources, concrete))
    if concrete is not None:  # check the code against the analysis; keep only what agrees
        out = tuple(o if o.value == n or o.value is BLIND and o.code is None else opaque(n, *shape, *sources)
                    for o, n in zip(out, concrete))
        out = with_axes(tuple(V(n, o.code, o.deps) if not o.const else V(n) for o, n in zip(out, concrete)),
                        axes_of(concrete))
    return out

def spatial(op, args, shape, sources, concrete=None):
    """The spatial sizes of a layer's output as V items."""
    rest = list(shape[1:])
    if not rest:
        return []
    sources = [args[k] for k in _SPATIAL_ARGS if isinstance(args.get(k), V)]
    if not sources and all(s.const for s in rest) and concrete is not None and len(concrete) == len(shape):
        return [V(n) for n in concrete[1:]]
    family = OPS[op].family
    keeps = family in _KEEP_SPATIAL or op == "identity"
    if op in ("conv", "maxpool", "avgpool") and not any(isinstance(args.get(k), V) for k in
                                                         ("kernel", "stride", "pad", "dilation")):
        k, s = args["kernel"], args.get("stride") or args["kernel"]
        d, p = args.get("dilation", (1, 1)), args.get("pad", (0, 0))
        if k != "global" and s == (1, 1) and (p == "same" or (d == (1, 1) and isinstance(p, tuple) and all(
                2 * p[i] == k[i] - 1 for i in range(2)))):
            keeps = True
        if k == "global":
            return [V(1), V(1)]
    if op in ("adaptive_avgpool", "adaptive_maxpool") and not isinstance(args["size"], V):
        return [V(args["size"][0]), V(args["size"][1])]
    if keeps:
        return rest
    return [opaque(BLIND, *shape, *sources) for _ in rest]


def _divided(c: V, parts: int) -> V:
    """A chunk's channels: `in_channels // 2`."""
    if c.const:
        return V(c.value // parts)
    if c.code is None:
        return opaque(BLIND if c.value is BLIND else c.value // parts, c)
    return V(BLIND if c.value is BLIND else c.value // parts, ("b", "//", c.code, ("l", parts)), c.deps)
