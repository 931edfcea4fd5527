"""Weight initialisation: the schemes a `.cnn` file may name, and which declaration wins for a layer.

    init conv.weight: kaiming_normal(mode="fan_out", nonlinearity="relu")   # every conv in scope
    init bn3.weight: zeros                                                  # one layer, by its label

A declaration applies to the layers of the network or block instance it is written in (inside a
labelled group: of that group). For each parameter of a layer, a declaration naming the layer beats
one naming its op; between two of the same kind, the one nearest the layer (the innermost scope)
wins. A parameter no declaration names keeps torch's default initialisation.

Each scheme is torch.nn.init's function of the same name with a trailing underscore; its arguments,
defaults and checks are torch's, so what `check` accepts the generated module runs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .diagnostics import Span
from .ops import REQUIRED, ArgSpec, OpProblem, coerce

NONLINEARITIES = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu")
_NONLINEARITY = "enum:" + "|".join(NONLINEARITIES)

SCHEMES: dict[str, tuple[ArgSpec, ...]] = {
    "kaiming_normal": (ArgSpec("a", "float", 0.0), ArgSpec("mode", "enum:fan_in|fan_out", "fan_in"),
                       ArgSpec("nonlinearity", _NONLINEARITY, "leaky_relu")),
    "kaiming_uniform": (ArgSpec("a", "float", 0.0), ArgSpec("mode", "enum:fan_in|fan_out", "fan_in"),
                        ArgSpec("nonlinearity", _NONLINEARITY, "leaky_relu")),
    "xavier_normal": (ArgSpec("gain", "float+", 1.0),),
    "xavier_uniform": (ArgSpec("gain", "float+", 1.0),),
    "normal": (ArgSpec("mean", "float", 0.0), ArgSpec("std", "float+", 1.0)),
    "trunc_normal": (ArgSpec("mean", "float", 0.0), ArgSpec("std", "float+", 1.0),
                     ArgSpec("a", "float", -2.0), ArgSpec("b", "float", 2.0)),
    "uniform": (ArgSpec("a", "float", 0.0), ArgSpec("b", "float", 1.0)),
    "constant": (ArgSpec("value", "float"),),
    "zeros": (),
    "ones": (),
    "orthogonal": (ArgSpec("gain", "float+", 1.0),),
}

# Schemes that read a tensor's fan-in/fan-out (torch refuses them on a 1-D tensor such as a bias).
FAN_SCHEMES = frozenset({"kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform", "orthogonal"})


@dataclass(frozen=True)
class Init:
    """One resolved initialisation of one parameter: `kaiming_normal(mode="fan_out")` and its source."""

    scheme: str
    args: tuple[tuple[str, object], ...]   # only the arguments given, in the scheme's order
    span: Span

    def text(self) -> str:
        if not self.args:
            return self.scheme
        return f"{self.scheme}({', '.join(f'{k}={_show(v)}' for k, v in self.args)})"


def _show(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value)) if value else "0"
    return repr(value)


def check_args(scheme: str, given: dict) -> tuple[tuple[str, object], ...]:
    """Coerce a scheme's arguments (name -> evaluated value); raises OpProblem(arg=name)."""
    out = []
    for spec in SCHEMES[scheme]:
        if spec.name in given:
            try:
                value = coerce(spec.kind, given[spec.name], spec.name)
            except OpProblem as problem:
                raise OpProblem(f"{scheme}: {problem.message}", problem.hint, arg=spec.name) from None
            if isinstance(value, float) and not math.isfinite(value):
                raise OpProblem(f"{scheme}: {spec.name} must be finite, got {value}", arg=spec.name)
            out.append((spec.name, value))
        elif spec.default is REQUIRED:
            raise OpProblem(f"{scheme} needs argument `{spec.name}`")
    values = dict(out)
    if scheme == "uniform" and values.get("a", 0.0) >= values.get("b", 1.0):
        raise OpProblem(f"uniform needs a < b, got a={_show(values.get('a', 0.0))}, "
                        f"b={_show(values.get('b', 1.0))}", arg="b")
    if scheme == "trunc_normal" and values.get("a", -2.0) >= values.get("b", 2.0):
        raise OpProblem("trunc_normal needs a < b (the cut-offs)", arg="b")
    return tuple(out)


@dataclass(frozen=True)
class Declaration:
    """An `init` statement as elaborated: where it applies and what it sets."""

    prefix: str            # the naming scope it was written in ("" for the network)
    kind: str | None       # an op name (`conv`), or None when it names one layer
    path: str | None       # the full path of the layer it names, when it names one
    param: str             # `weight`, `bias`, ...
    init: Init
    depth: int             # nesting of the scope: deeper wins


def resolve(layers: dict[str, tuple[str, tuple[str, ...]]], declarations: list[Declaration]) -> dict:
    """{path: {param: Init}} for every layer parameter a declaration names.

    `layers` maps a layer's path to (op, its parameter names)."""
    by_path: dict[str, list[Declaration]] = {}
    by_kind: list[Declaration] = []
    for decl in declarations:
        (by_path.setdefault(decl.path, []) if decl.path is not None else by_kind).append(decl)
    chosen: dict[str, dict] = {}
    for path, (op, params) in layers.items():
        for param in params:
            best = _nearest([d for d in by_path.get(path, ()) if d.param == param])
            if best is None:
                best = _nearest([d for d in by_kind if d.kind == op and d.param == param
                                 and _within(path, d.prefix)])
            if best is not None:
                chosen.setdefault(path, {})[param] = best.init
    return chosen


def _within(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + ".")


def _nearest(candidates: list[Declaration]) -> Declaration | None:
    return max(candidates, key=lambda d: d.depth, default=None)


# ---- elaboration: `init` statements -> declarations -> each layer's `init` ------------------

def parameters(op: str, args: dict) -> tuple[str, ...]:
    """The nn.Parameter names of a layer (the generated module's attribute names)."""
    if op in ("conv", "deconv", "linear"):
        return ("weight", "bias") if args["bias"] else ("weight",)
    if op == "batchnorm":
        return ("weight", "bias") if args["affine"] else ()
    if op == "subsample":
        return ("weight", "bias")
    return ()


def _kind_parameters(op: str) -> tuple[str, ...]:
    """Every parameter a layer of this op may have, whatever its arguments."""
    from .ops import OPS

    full = {spec.name: (True if spec.kind == "bool" else spec.default) for spec in OPS[op].args}
    return parameters(op, full)


def declare(stmt, prefix: str, env, earlier: list[Declaration]) -> Declaration:
    """Check one `init` statement and evaluate its scheme's arguments; raises located errors."""
    from .diagnostics import NameError_, Note, TypeError_, closest
    from .expressions import evaluate
    from .ops import LAYER_OPS

    scheme = stmt.scheme
    if scheme.name not in SCHEMES:
        suggestion = closest(scheme.name, SCHEMES)
        raise NameError_(f"unknown initialisation `{scheme.name}`", scheme.name_span,
                         hint=f"did you mean `{suggestion}`?" if suggestion
                         else f"the schemes: {', '.join(SCHEMES)}")
    given = _scheme_args(scheme)
    try:
        args = check_args(scheme.name, {name: evaluate(arg.value, env) for name, arg in given.items()})
    except OpProblem as problem:
        where = given[problem.arg].span if problem.arg in given else scheme.span
        raise TypeError_(problem.message, where, hint=problem.hint) from None
    *head, param = stmt.target
    kind = head[0] if len(head) == 1 and head[0] in LAYER_OPS else None
    path = None if kind else ".".join([prefix, *head] if prefix else head)
    if kind is not None:
        allowed = _kind_parameters(kind)
        if param not in allowed:
            raise NameError_(f"`{kind}` layers have no parameter `{param}`", stmt.target_span,
                             hint=f"their parameters: {', '.join(allowed)}" if allowed
                             else f"`{kind}` layers have no parameters to initialise")
    decl = Declaration(prefix, kind, path, param, Init(scheme.name, args, stmt.span),
                       prefix.count(".") + 1 if prefix else 0)
    for other in earlier:
        if (other.prefix, other.kind, other.path, other.param) == (prefix, kind, path, param) \
                and other.init.text() != decl.init.text():
            raise NameError_(f"`{'.'.join(stmt.target)}` is initialised twice here", stmt.target_span,
                             notes=(Note("the first time", other.init.span),),
                             hint="keep one `init` per target in a block or network")
    return decl


def _scheme_args(scheme) -> dict:
    from .diagnostics import NameError_, TypeError_, closest

    names = [spec.name for spec in SCHEMES[scheme.name]]
    given: dict = {}
    for position, arg in enumerate(scheme.args):
        if arg.name is None:
            if any(a.name for a in scheme.args[:position]):
                raise TypeError_("a positional argument follows a keyword argument", arg.span)
            if position >= len(names):
                raise TypeError_(f"{scheme.name} takes at most {len(names)} argument(s), got {len(scheme.args)}",
                                 arg.span, hint=f"its arguments: {', '.join(names) or 'none'}")
            name = names[position]
        else:
            name = arg.name
            if name not in names:
                suggestion = closest(name, names)
                raise NameError_(f"{scheme.name} has no argument `{name}`", arg.span,
                                 hint=f"did you mean `{suggestion}`?" if suggestion
                                 else f"its arguments: {', '.join(names) or 'none'}")
        if name in given:
            raise TypeError_(f"argument `{name}` is given twice", arg.span)
        given[name] = arg
    return given


def apply_inits(graph, declarations: list[Declaration]) -> None:
    """Check that every declaration naming a layer finds it, then record each layer's choices as
    its node's `init` ({param: Init}); raises located errors."""
    from .diagnostics import NameError_, TypeError_, closest

    layers = {node: (data.op, parameters(data.op, data.args))
              for node, data in graph.nodes(data=True) if data.op not in ("input",)}
    for decl in declarations:
        if decl.path is None:
            continue
        if decl.path not in layers:
            nearby = [p[len(decl.prefix) + 1:] if decl.prefix else p for p in layers if _within(p, decl.prefix)]
            suggestion = closest(decl.path[len(decl.prefix) + 1:] if decl.prefix else decl.path, nearby)
            raise NameError_(f"init: no layer `{decl.path}` here", decl.init.span,
                             hint=f"did you mean `{suggestion}`?" if suggestion
                             else "name a layer by its label (or an op, e.g. `init conv.weight: ...`)")
        op, params = layers[decl.path]
        if decl.param not in params:
            raise NameError_(f"init: layer `{decl.path}` ({op}) has no parameter `{decl.param}`", decl.init.span,
                             hint=f"its parameters: {', '.join(params)}" if params else "it has no parameters")
    for path, chosen in resolve(layers, declarations).items():
        for param, init in chosen.items():
            if init.scheme in FAN_SCHEMES and _dims(graph.nodes[path], param) < 2:
                raise TypeError_(f"{init.scheme} needs a tensor of at least 2 dimensions; `{path}.{param}` "
                                 "has 1 (torch cannot compute its fan-in and fan-out)", init.span,
                                 hint="use normal, uniform, constant, zeros or ones for biases and norms")
        graph.nodes[path]["init"] = chosen


def _dims(data, param: str) -> int:
    return 1 if param == "bias" or data.op in ("batchnorm", "subsample") else 2
