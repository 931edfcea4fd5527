"""Lint: problems worth a warning that do not stop compilation.

Run by `dsl.build` after elaboration; each check appends `Warning_`s to `graph.graph["warnings"]`
(where elaboration already put `unused-value`). The CLI prints them to stderr; `-q` silences them.

- `lossy-stride`: a strided conv or pool whose last window ends before the input does, so floor
  division silently drops input rows or columns at the bottom or right border. Layers whose window
  is narrower than their stride (a 1x1 stride-2 shortcut) skip pixels everywhere by design and are
  not reported; neither are `ceil=true` pools, which keep the partial window.
- `oversized-stride`: a stride longer than the whole padded input (and than 256), `same` padding and
  ceil-mode pools included: only the first window is ever computed, the output is the same for any
  such stride, and torch's backward pass (the input's gradient) takes time that grows with the
  stride (a stride of 100,000 on a 32x32 map: over 30 s).
- `constant-condition`: an `if` whose condition depends on no parameter, variable or `in.*`
  (`if 1 > 2 { ... }`), so one of its branches can never be taken. The condition is evaluated
  within the build's expression budget (`Limits.max_work`), like every other expression.
- `unused-layer`: a layer whose output reaches no output of the network (`conv; @input; relu`):
  it would hold parameters and cost time for nothing.
"""
from __future__ import annotations

from . import ast
from .diagnostics import CnnError, Note, Warning_
from .expressions import Budget, Env, evaluate
from .ops import OPS
from .values import WORDS, show

def lint(graph, program, network: ast.NetworkDef, budget: Budget | None = None) -> list[Warning_]:
    """Add the lint warnings of an elaborated graph (and its source) to graph.graph["warnings"].
    `budget` is the build's expression budget (a fresh one by default)."""
    found = (unused_layers(graph) + lossy_strides(graph) + oversized_strides(graph)
             + constant_conditions(program, network, budget or Budget()))
    graph.graph.setdefault("warnings", []).extend(found)
    return found


# ---- unused layers ------------------------------------------------------------------------------

def unused_layers(graph) -> list[Warning_]:
    """Layers from which no output can be reached, one warning per source site, in graph order."""
    stack = list(graph.graph["outputs"].values())
    live = set(stack)
    while stack:  # everything some output depends on
        for source, _ in graph.in_edges(stack.pop()):
            if source not in live:
                live.add(source)
                stack.append(source)
    sites: dict = {}
    for node, data in graph.nodes(data=True):
        if node not in live and data.op != "input":
            sites.setdefault((data.span.path, data.span), []).append(node)
    warnings = []
    for (_, span), nodes in sites.items():
        data = graph.nodes[nodes[0]]
        also = f" (and {len(nodes) - 1} more)" if len(nodes) > 1 else ""
        warnings.append(Warning_("unused-layer", f"{data['op']} `{nodes[0]}`{also}: its output reaches no "
                                 "output of the network", span,
                                 hint="remove it, or use its value: name it with `-> name` and continue from "
                                      "`@name`"))
    return warnings


# ---- lossy strides ------------------------------------------------------------------------------

def dropped(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """Input rows (or columns) after the last window: read by no output pixel. 0 when none are lost."""
    reach = dilation * (kernel - 1) + 1
    if reach < stride:  # windows have gaps between them anyway: subsampling by design
        return 0
    out = (size + 2 * pad - reach) // stride + 1
    last = (out - 1) * stride - pad + reach - 1  # the last input row the last window covers
    return max(0, size - 1 - last)


def _window_args(data):
    """(kernel, stride, pad, dilation) pairs of a strided windowed layer (pad may be `same` or
    `tf_same`), or None for other layers and global windows."""
    args = data.args
    kernel = args.get("kernel")
    if not OPS[data.op].strided or kernel in (None, "global"):
        return None
    pad = args.get("pad", (0, 0))
    pad = (0, 0) if pad == "valid" else pad
    return kernel, args.get("stride") or kernel, pad, args.get("dilation", (1, 1))


def _windowed_layers(graph):
    """(node, data, input shape, (kernel, stride, pad, dilation)) of each windowed layer that reads
    one feature map (CxHxW)."""
    for node, data in graph.nodes(data=True):
        window = _window_args(data)
        if window is None:
            continue
        sources = [source for source, _ in graph.in_edges(node)]
        if len(sources) == 1 and len(graph.nodes[sources[0]].shape) == 3:
            yield node, data, graph.nodes[sources[0]].shape, window


def lossy_strides(graph) -> list[Warning_]:
    sites: dict = {}  # one warning per source site: a block used 16 times warns once
    for node, data, shape, (kernel, stride, pad, dilation) in _windowed_layers(graph):
        if isinstance(pad, str) or data.args.get("ceil"):
            continue  # `same` padding and ceil-mode pools keep the partial window
        lost = tuple(dropped(shape[1 + i], kernel[i], stride[i], pad[i], dilation[i]) for i in range(2))
        if any(lost):
            key = (data.span.path, data.span, lost, tuple(shape))
            sites.setdefault(key, []).append(node)
    return [_lossy_warning(nodes, span, lost, shape, graph) for (_, span, lost, shape), nodes in sites.items()]


# Below this, a stride past a small input (a 1x1 map downsampled by 2 at a small input size) is
# harmless and common; torch's backward at stride 256 costs ~0.05 s.
OVERSIZED_STRIDE = 256


def oversized_strides(graph) -> list[Warning_]:
    sites: dict = {}
    for node, data, shape, (kernel, stride, pad, dilation) in _windowed_layers(graph):
        if isinstance(pad, str):  # `same` / `tf_same`: at most the window's reach - 1 in all
            extents = [shape[1 + i] + dilation[i] * (kernel[i] - 1) for i in range(2)]
        else:
            extents = [shape[1 + i] + 2 * pad[i] for i in range(2)]
        if any(stride[i] > max(extents[i], OVERSIZED_STRIDE) for i in range(2)):
            sites.setdefault((data.span.path, data.span, tuple(stride), tuple(extents)), []).append(node)
    warnings = []
    for (_, span, stride, extents), nodes in sites.items():
        data = graph.nodes[nodes[0]]
        also = f" (and {len(nodes) - 1} more)" if len(nodes) > 1 else ""
        warnings.append(Warning_(
            "oversized-stride", f"{data['op']} `{nodes[0]}`{also}: stride {'x'.join(map(str, stride))} is longer "
            f"than the padded {'x'.join(map(str, extents))} input: only its first window is computed", span,
            hint="any stride up to the input's size gives the same output; torch's backward pass slows down "
                 "in proportion to the stride"))
    return warnings


def _lossy_warning(nodes: list, span, lost: tuple, shape: tuple, graph) -> Warning_:
    data = graph.nodes[nodes[0]]
    what = " and ".join(f"the last {n} {axis}{'s' if n > 1 else ''}"
                        for n, axis in zip(lost, ("row", "column")) if n)
    stride = data.args.get("stride") or data.args["kernel"]
    stride_text = str(stride[0]) if stride[0] == stride[1] else f"{stride[0]}x{stride[1]}"
    also = f" (and {len(nodes) - 1} more instance{'s' if len(nodes) > 2 else ''})" if len(nodes) > 1 else ""
    return Warning_("lossy-stride",
                    f"{data['op']} `{nodes[0]}`{also}: stride {stride_text} on a {shape[1]}x{shape[2]} input "
                    f"never reads {what}", span,
                    hint="pad the input, change the kernel or stride, or pick an input size where "
                         "(size + 2*pad - dilation*(kernel-1) - 1) is a multiple of the stride")


# ---- constant conditions ------------------------------------------------------------------------

def constant_conditions(program, network: ast.NetworkDef, budget: Budget) -> list[Warning_]:
    """`if`s in the main file (its network and its blocks) whose condition is a constant."""
    warnings = []
    for definition in (*program.main.blocks, network):
        for node in ast.walk(definition.body):
            if isinstance(node, ast.If) and _is_constant(node.condition):
                warning = _constant_warning(node, budget)
                if warning is not None:
                    warnings.append(warning)
    return warnings


def _is_constant(expr) -> bool:
    for node in ast.walk(expr):
        if isinstance(node, ast.InAttr) or (isinstance(node, ast.Name) and node.name not in WORDS):
            return False
    return True


def _constant_warning(node: ast.If, budget: Budget) -> Warning_ | None:
    if budget.work <= 0:
        return None
    try:
        value = evaluate(node.condition, Env({}, None, budget))
    except CnnError:
        return None  # elaboration reports it, if the `if` is ever reached; an exhausted budget ends the checks
    if not isinstance(value, bool):
        return None
    dead = node.then if not value else node.orelse
    effect = ("the `if` is not needed" if dead is None
              else f"its {'body' if not value else '`else` branch'} is never taken")
    return Warning_("constant-condition", f"the condition is always {show(value)}: {effect}",
                    node.condition.span, notes=(Note("never taken", dead.span),) if dead is not None else (),
                    hint="conditions are for parameters and `in.*`; remove the `if` or the dead branch")
