"""AST -> IR: resolve names, evaluate expressions, expand blocks, repeats, loops and conditions.

The IR (dsl/ir.py) is a directed graph (dsl.graph.LightGraph, converted to networkx.DiGraph) of
typed nodes whose ids are layer paths (`layer1.0.conv1`), and the module tree, recorded here as
items open naming scopes (`graph.graph["tree"]`). Each node's output shape is computed as it is
created, because conditions may ask about the incoming shape (`in.channels`). Costs and receptive
fields are added later by `analysis`.

Paths: a labelled item is named by its label; an unlabelled one by its position in the nearest
naming scope, like nn.Sequential. Block instances and labelled compound items open a naming scope;
unlabelled sequences, branches, repeats, loops and conditions are transparent, so their items
are numbered in the enclosing scope (`repeat 2 { Bottleneck(64) }` gives `layer1.1`, `layer1.2`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import ast
from .arguments import layer_args, match, take_trainable
from .diagnostics import CnnError, LimitError, NameError_, Note, ShapeError, Span, TypeError_, Warning_, closest
from .expressions import Budget, Env, evaluate
from .graph import LightGraph
from .ir import Group, Instance, Node, TreeBuilder
from .limits import Limits, Meter
from .init import apply_inits, declare
from .loader import Program
from .ops import OPS, LAYER_OPS, OpProblem
from .values import show


class Naming:
    """A naming scope: a path prefix and the position counter of its items."""

    def __init__(self, prefix: str):
        self.prefix, self.position = prefix, 0

    def next(self, label: str | None) -> str:
        name = label if label is not None else str(self.position)
        self.position += 1
        return f"{self.prefix}.{name}" if self.prefix else name

    def child(self, label: str | None) -> "Naming":
        return Naming(self.next(label))


@dataclass
class Frame:
    """One block or network instance: its variables and its named values."""

    variables: dict
    values: dict = field(default_factory=dict)       # name -> node id
    bound_at: dict = field(default_factory=dict)     # name -> span of the binding
    used: set = field(default_factory=set)


def elaborate(program: Program, network: ast.NetworkDef, params: dict | None = None,
              inputs: dict | None = None, limits: Limits | None = None, budget: Budget | None = None) -> LightGraph:
    """Build the IR of `network`; `params` and `inputs` override defaults and declared shapes.
    `budget` (the build's expression work, shared with its other passes) defaults to a fresh one."""
    budget = budget or Budget(limits)
    return _Elaborator(program, limits or budget.limits, budget).network(network, params or {}, inputs or {})


class _Elaborator:
    def __init__(self, program: Program, limits: Limits, budget: Budget):
        self.program, self.limits, self.budget = program, limits, budget
        self.graph = LightGraph()
        self.scope: list[Instance] = []  # the enclosing block instances, outermost first
        self.tree: TreeBuilder | None = None
        self.warnings: list[Warning_] = []
        self.outputs: dict[str, str] = {}
        self.meter = Meter(limits)
        self.groups: dict[str, Span] = {}  # paths that are groups of layers -> first use
        self.inits: list = []  # `init` declarations, resolved onto the layers at the end
        self.frozen: list[bool] = []  # `trainable=` of the enclosing block instances that set it
        self.owners: dict[str, Span] = {}  # paths of items that hold layers (instances, groups) -> the item

    def _env(self, variables, in_shape) -> Env:
        return Env(variables, in_shape, self.budget)

    # -- the network ---------------------------------------------------------------------
    def network(self, net: ast.NetworkDef, overrides: dict, input_overrides: dict) -> LightGraph:
        names = [p.name for p in net.params]
        for key in overrides:
            if key not in names:
                suggestion = closest(key, names)
                raise NameError_(f"network {net.name} has no parameter `{key}`", net.name_span,
                                 hint=f"did you mean `{suggestion}`?" if suggestion else
                                 f"its parameters: {', '.join(names) or 'none'}")
        frame = Frame({})
        for param in net.params:
            if param.name in overrides:
                frame.variables[param.name] = overrides[param.name]
            elif param.default is None:
                raise NameError_(f"network parameter `{param.name}` has no default and was not set",
                                 param.span, hint=f"give it a default, or pass --set {param.name}=...")
            else:
                frame.variables[param.name] = evaluate(param.default, self._env(frame.variables, None))
        self.input_overrides = dict(input_overrides)
        self.tree = TreeBuilder(net.name)
        flow = self.seq(net.body, None, Naming(""), frame)
        if not any(d.op == "input" for _, d in self.graph.nodes(data=True)):
            raise ShapeError(f"network {net.name} declares no input", net.name_span,
                             hint="start its body with e.g. `input 3x224x224`")
        unused = set(self.input_overrides) - {n for n, d in self.graph.nodes(data=True) if d.op == "input"}
        if unused:
            raise NameError_(f"--input names no input of {net.name}: {', '.join(sorted(unused))}", net.name_span)
        self._warn_unused(frame)
        g = self.graph
        apply_inits(g, self.inits)
        g.graph.update(name=net.name, source=self.program.main.span.source.path, params=dict(frame.variables),
                       inputs={n: d.shape for n, d in g.nodes(data=True) if d.op == "input"},
                       outputs={"output": flow, **self.outputs}, warnings=self.warnings,
                       program=self.program, network_def=net, tree=self.tree.tree())
        return g

    # -- statements ----------------------------------------------------------------------
    def seq(self, seq: ast.Seq, flow, naming: Naming, frame: Frame):
        self.meter.enter(seq.span)
        try:
            for stmt in seq.body:
                self.meter.step(stmt.span)
                flow = self.statement(stmt, flow, naming, frame)
        except RecursionError:  # a last resort: the limits above should make this unreachable
            raise LimitError("the program nests too deeply to evaluate", seq.span) from None
        finally:
            self.meter.leave()
        return flow

    def statement(self, stmt, flow, naming: Naming, frame: Frame):
        if isinstance(stmt, ast.Statement):
            out = self.item(stmt.item, stmt.label, flow, naming, frame)
            if stmt.bind:
                self._bind(frame, stmt.bind, out, stmt.span)
            return out
        if isinstance(stmt, ast.Tap):
            self._bind(frame, stmt.name, self._need_flow(flow, stmt.span), stmt.span)
            return flow
        if isinstance(stmt, ast.InputDecl):
            return self.input(stmt, flow, frame)
        if isinstance(stmt, ast.OutputDecl):
            return self.output(stmt, flow, naming, frame)
        if isinstance(stmt, ast.InitDecl):
            self.inits.append(declare(stmt, naming.prefix, self._env(frame.variables, self._shape(flow)), self.inits))
            return flow
        raise AssertionError(f"unknown statement {type(stmt).__name__}")

    def input(self, decl: ast.InputDecl, flow, frame: Frame):
        if self.scope:
            raise ShapeError("`input` belongs in a network, not in a block", decl.span,
                             hint="a block takes the tensor flowing into it")
        name = decl.name or "input"
        first = not any(d.op == "input" for _, d in self.graph.nodes(data=True))
        if first and "" in self.input_overrides:  # an unnamed --input sets the first input
            self.input_overrides.setdefault(name, self.input_overrides.pop(""))
        shape = self.input_overrides.get(name)
        given = "" if shape is None else " (as overridden)"
        if shape is None:
            shape = evaluate(decl.shape, self._env(frame.variables, None))
        shape = self._input_shape(shape, decl)
        if len(shape) == 3 and shape[2] in (1, 3, 4) and shape[0] > 4 and shape[0] >= shape[1] // 2:
            self.warnings.append(Warning_(  # `224x224x3`: Keras's channels-last habit
                "channels-last", f"input `{name}` is {shape[0]}x{shape[1]}x{shape[2]}: {shape[0]} channels of "
                f"{shape[1]}x{shape[2]} pixels{given}", decl.span,
                hint=f"shapes are channels first, CxHxW: did you mean {shape[2]}x{shape[0]}x{shape[1]}?"))
        if name in self.graph:
            raise NameError_(f"input `{name}` is declared twice", decl.span)
        self._add(name, "input", {}, [], decl.span, shape=shape)
        frame.values[name] = name
        frame.used.add(name)
        return name if first else flow  # the first input flows on; the others are used as `@name`

    def _input_shape(self, value, decl: ast.InputDecl) -> tuple[int, ...]:
        shape = (value,) if isinstance(value, int) and not isinstance(value, bool) else value
        if (not isinstance(shape, tuple) or len(shape) not in (1, 3)
                or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)):
            raise TypeError_(f"an input shape is CxHxW (e.g. 3x224x224) or a feature count; got {show(value)}",
                             decl.shape.span)
        return shape

    def output(self, decl: ast.OutputDecl, flow, naming: Naming, frame: Frame):
        flow = self._need_flow(flow, decl.span)
        # named by its path, like the layers of its head: `aux1` in the network, `layer2.side` in a
        # block instance, so a block that declares a side output can be used many times
        name = f"{naming.prefix}.{decl.name}" if naming.prefix else decl.name
        if name in self.outputs or name == "output":
            raise NameError_(f"output `{name}` is declared twice", decl.span)
        if decl.body is None:
            result = flow
        else:
            head = naming.child(decl.name)
            result = self._owned(Group(head.prefix, "output", decl.span),
                                 lambda: self.seq(decl.body, flow, head, frame))
        self.outputs[name] = result
        return flow

    # -- items ---------------------------------------------------------------------------
    def item(self, item, label, flow, naming: Naming, frame: Frame):
        if isinstance(label, ast.Label):
            label = self._label(label, flow, frame)
        if isinstance(item, ast.Call):
            return self.call(item, label, flow, naming, frame)
        if isinstance(item, ast.Ref):
            if label:
                raise NameError_("a reference `@name` cannot be labelled", item.span)
            return self.ref(item, frame)
        if label:
            inner = naming.child(label)
            return self._owned(Group(inner.prefix, _KINDS[type(item)], item.span),
                               lambda: self._compound(item, label, flow, naming, inner, frame))
        return self._compound(item, label, flow, naming, naming, frame)

    def _owned(self, group: Group, build):
        """Build an item that opens the naming scope `group.path` (a labelled group, merge or side
        head), recording it in the module tree. One path is one module: two items that both hold
        layers may not share it (a block instance `x` and a group `x` in two branches would be one
        module with two meanings)."""
        before = len(self.graph)
        out = self._scoped(group, build)
        self._claim_owner(group.path, group.span, before)
        return out

    def _scoped(self, scope, build):
        """Build an item inside `scope`, an entry of the module tree."""
        self.tree.open(scope)
        try:
            return build()
        finally:
            self.tree.close(scope)

    def _claim_owner(self, path: str, span: Span, before: int) -> None:
        if len(self.graph) > before:
            first = self.owners.get(path)
            if first is not None:
                raise NameError_(f"two items are both named `{path}`", span, notes=(Note("the first one", first),),
                                 hint="labels must be unique in their block: give one of them another label")
            self.owners[path] = span

    def _compound(self, item, label, flow, naming: Naming, inner: Naming, frame: Frame):
        if isinstance(item, ast.Seq):
            return self.seq(item, flow, inner, frame)
        if isinstance(item, ast.Group):  # named by its position when unlabelled
            if label:
                return self.seq(item.body, flow, inner, frame)
            inner = naming.child(None)
            return self._scoped(Group(inner.prefix, "group", item.span), lambda: self.seq(item.body, flow, inner, frame))
        if isinstance(item, ast.Merge):
            return self.merge(item, label, flow, naming, inner, frame)
        if isinstance(item, ast.Repeat):
            return self.repeat(item, flow, inner, frame)
        if isinstance(item, ast.For):
            return self.loop(item, flow, inner, frame)
        if isinstance(item, ast.If):
            return self.condition(item, flow, inner, frame)
        raise AssertionError(f"unknown item {type(item).__name__}")

    def _label(self, label: ast.Label, flow, frame: Frame) -> str:
        """The text of a quoted or computed label: letters, digits, `_` and `-` (`block1-0`), or a
        non-negative integer."""
        value = evaluate(label.value, Env(frame.variables, self._shape(flow)))
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return str(value)
        if isinstance(value, str) and _LABEL.fullmatch(value):
            return value
        hint = ("a label names one level of the path; nest a labelled group instead" if isinstance(value, str)
                and "." in value else "labels use letters, digits, `_` and `-`, e.g. \"block1-0\" or "
                "(\"denselayer\" + str(i))")
        raise TypeError_(f"a label must be a non-empty name of letters, digits, `_` and `-`, or a non-negative "
                         f"integer; got {show(value)}", label.value.span, hint=hint)

    def ref(self, ref: ast.Ref, frame: Frame):
        if ref.name not in frame.values:
            suggestion = closest(ref.name, frame.values)
            raise NameError_(f"unknown value `@{ref.name}`", ref.span,
                             hint=f"did you mean `@{suggestion}`?" if suggestion
                             else "name a value first with `-> name` after an item")
        frame.used.add(ref.name)
        return frame.values[ref.name]

    def merge(self, merge: ast.Merge, label, flow, naming: Naming, inner: Naming, frame: Frame):
        flow = self._need_flow(flow, merge.span)
        if len(merge.branches) < 2:
            raise ShapeError(f"{merge.op} needs at least two branches, separated by `|`", merge.span)
        outputs = [self.item(b.item, b.label, flow, inner, frame) for b in merge.branches]
        path = inner.prefix if label else naming.next(None)
        sources = []
        for port, source in enumerate(outputs):
            if source in sources:  # the same tensor twice: route it through an identity node
                source = self._add(inner.next(None), "identity", {}, [source], merge.branches[port].span)
            sources.append(source)
        return self._add(path, merge.op, {}, sources, merge.span,
                         branch_spans=[b.span for b in merge.branches])

    def repeat(self, rep: ast.Repeat, flow, naming: Naming, frame: Frame):
        count = evaluate(rep.count, self._env(frame.variables, self._shape(flow)))
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise TypeError_(f"repeat needs a non-negative integer count, got {show(count)}", rep.count.span)
        if count > self.limits.max_repeat:
            raise LimitError(f"repeat {count:,} exceeds the limit of {self.limits.max_repeat:,}", rep.count.span)
        sizes: list = []
        for done in range(count):
            before = (len(self.graph), self.meter.steps)
            self.meter.step(rep.span)
            flow = self.seq(rep.body, flow, naming, frame)
            self.meter.forecast(sizes, before, len(self.graph), count - done - 1, rep.span)
        return flow

    def loop(self, loop: ast.For, flow, naming: Naming, frame: Frame):
        items = evaluate(loop.iterable, self._env(frame.variables, self._shape(flow)))
        if not isinstance(items, tuple):
            raise TypeError_(f"`for` needs a list, got {show(items)}", loop.iterable.span)
        saved = {n: frame.variables[n] for n in loop.names if n in frame.variables}
        sizes: list = []
        for done, item in enumerate(items):
            before = (len(self.graph), self.meter.steps)
            self.meter.step(loop.span)
            frame.variables.update(self._unpack(loop, item))
            flow = self.seq(loop.body, flow, naming, frame)
            self.meter.forecast(sizes, before, len(self.graph), len(items) - done - 1, loop.span)
        for name in loop.names:
            frame.variables.pop(name, None)
        frame.variables.update(saved)
        return flow

    def _unpack(self, loop: ast.For, item) -> dict:
        if len(loop.names) == 1:
            return {loop.names[0]: item}
        if not isinstance(item, tuple) or len(item) != len(loop.names):
            raise TypeError_(f"cannot unpack {show(item)} into {len(loop.names)} names "
                             f"({', '.join(loop.names)})", loop.iterable.span)
        return dict(zip(loop.names, item))

    def condition(self, cond: ast.If, flow, naming: Naming, frame: Frame):
        value = evaluate(cond.condition, self._env(frame.variables, self._shape(flow)))
        if not isinstance(value, bool):
            raise TypeError_(f"a condition must be true or false, got {show(value)}", cond.condition.span,
                             hint="compare explicitly, e.g. `stride != 1`")
        if value:
            return self.seq(cond.then, flow, naming, frame)
        if isinstance(cond.orelse, ast.If):
            return self.condition(cond.orelse, flow, naming, frame)
        if cond.orelse is not None:
            return self.seq(cond.orelse, flow, naming, frame)
        return flow

    # -- calls: layers and block instances -----------------------------------------------
    def call(self, call: ast.Call, label, flow, naming: Naming, frame: Frame):
        block = self.program.blocks.get(call.name)
        if block is not None:
            return self.instance(block, call, label, flow, naming, frame)
        if call.name not in LAYER_OPS:
            candidates = list(LAYER_OPS) + list(self.program.blocks)
            suggestion = closest(call.name, candidates)
            raise NameError_(f"unknown layer or block `{call.name}`", call.name_span,
                             hint=f"did you mean `{suggestion}`?" if suggestion else
                             "see `cnnc ops` for the built-in layers")
        flow = self._need_flow(flow, call.span)
        in_shape = self._shape(flow)
        call, trainable = take_trainable(call, [a.name for a in OPS[call.name].args], frame.variables, in_shape)
        args = layer_args(call, self._env(frame.variables, in_shape))
        path = self._add(naming.next(label), call.name, args, [flow], call.span, call=call)
        if trainable is not None:
            self.graph.nodes[path]["frozen"] = None if trainable else "layer"
        return path

    def instance(self, block: ast.BlockDef, call: ast.Call, label, flow, naming: Naming, frame: Frame):
        if len(self.scope) >= self.limits.max_depth:
            recursive = block.name in [e.block for e in self.scope]
            message = (f"block {block.name} calls itself without end ({self.limits.max_depth} levels deep)"
                       if recursive else f"blocks nest more than {self.limits.max_depth} deep")
            raise LimitError(message, call.span,
                             hint="make the recursion stop with an `if` on a parameter" if recursive else None)
        self.meter.step(call.span, cost=6)  # a block instance costs about six statements
        in_shape = self._shape(flow)
        names = [p.name for p in block.params]
        call, trainable = take_trainable(call, names, frame.variables, in_shape)
        given = match(call, names, f"block {block.name}",
                            {p.name for p in block.params if p.default is None}, block.name_span)
        caller_env = self._env(frame.variables, in_shape)
        variables: dict = {}
        for param in block.params:
            if param.name in given:
                variables[param.name] = evaluate(given[param.name].value, caller_env)
            else:
                variables[param.name] = evaluate(param.default, self._env(variables, in_shape))
        path = naming.next(label)
        entry = Instance(path, block.name, tuple(variables.items()), call.span)
        self.scope.append(entry)
        self.tree.open(entry)
        if trainable is not None:
            self.frozen.append(not trainable)
        inner = Frame(variables)
        before = len(self.graph)
        try:
            out = self.seq(block.body, flow, Naming(path), inner)
            self._warn_unused(inner)
        except CnnError as error:  # each enclosing instance adds its use site, innermost first
            error.with_notes(Note(f"in {_call_text(call)}", call.span))
            raise
        finally:
            self.scope.pop()
            self.tree.close(entry)
            if trainable is not None:
                self.frozen.pop()
        self._claim_owner(path, call.span, before)
        return out

    # -- graph building ------------------------------------------------------------------
    def _add(self, path: str, op: str, args: dict, inputs: list, span: Span, shape=None,
             call: ast.Call | None = None, branch_spans=None) -> str:
        if path in self.graph:
            raise NameError_(f"two layers are both named `{path}`", span,
                             notes=(Note("the first one", self.graph.nodes[path]["span"]),),
                             hint="labels must be unique in their block; inside `repeat` or `for`, "
                                  "leave the layer unlabelled so it is numbered")
        self.meter.new_layer(len(self.graph), span)
        self._claim_prefixes(path, op, span)
        if shape is None:
            shape = self._infer(path, op, args, inputs, span, call, branch_spans)
        self.meter.layer_size(shape, span)
        node = Node(path, op, args, tuple(inputs), shape, span, tuple(self.scope))
        if self.frozen and self.frozen[-1]:
            node.meta["frozen"] = "block"
        self.graph.add(node)
        self.tree.add(path)
        return path

    def _infer(self, path, op, args, inputs, span, call, branch_spans):
        shapes = [self.graph.nodes[s].shape for s in inputs]
        try:
            return OPS[op].shape(args, shapes)
        except OpProblem as problem:
            where = span
            if call is not None and problem.arg:
                where = next((a.span for a in call.args if a.name == problem.arg), span)
            hint = problem.hint
            if op == "add" and branch_spans:
                hint = hint or _add_hint(shapes, inputs)
            # layers are named by their path (`conv5`, `features.28`); merges by their op alone
            who = op if OPS[op].merge else f"{op} `{path}`"
            raise ShapeError(f"{who}: {problem.message}", where, hint=hint) from None

    def _claim_prefixes(self, path: str, op: str, span: Span) -> None:
        """A path is a layer or a group of layers (a module or a container), never both. A merge is
        no module: `m: add {...} | {...}` is the add `m` over the group `m.0`, `m.1`."""
        groups, merge = self.groups, OPS[op].merge
        clash, new, prefix = (path if path in groups and not merge else None), [], path
        while clash is None and "." in prefix:
            prefix = prefix[:prefix.rfind(".")]
            if prefix in groups:  # claimed, and so checked, with all of its own prefixes
                break
            if prefix in self.graph and not OPS[self.graph.nodes[prefix].op].merge:
                clash = prefix
            new.append(prefix)
        if clash is not None:
            first = groups.get(clash) or self.graph.nodes[clash]["span"]
            raise NameError_(f"`{clash}` names both a layer and a group of layers"
                             + (f" (`{path}`)" if path != clash else ""), span,
                             notes=(Note("the other one", first),),
                             hint="give the layer or the group another label")
        for prefix in new:
            groups[prefix] = span

    def _shape(self, flow):
        return None if flow is None else self.graph.nodes[flow].shape

    def _need_flow(self, flow, span: Span):
        if flow is None:
            raise ShapeError("no tensor flows here yet", span, hint="declare the network's `input` first")
        return flow

    def _bind(self, frame: Frame, name: str, node, span: Span) -> None:
        frame.values[name] = node
        frame.bound_at.setdefault(name, span)

    def _warn_unused(self, frame: Frame) -> None:
        for name, span in frame.bound_at.items():
            if name not in frame.used:
                self.warnings.append(Warning_("unused-value", f"value `{name}` is never used", span,
                                              hint=f"refer to it with `@{name}`, or remove `-> {name}`"))


_LABEL = re.compile(r"[A-Za-z0-9_-]{1,200}")
_KINDS = {ast.Seq: "group", ast.Group: "group", ast.Merge: "merge", ast.Repeat: "repeat", ast.For: "for", ast.If: "if"}


def _call_text(call: ast.Call) -> str:
    span = call.span
    if span.line == span.end_line:
        return span.source.line(span.line)[span.column - 1:span.end_column - 1]
    return f"{call.name}(...)"


def _add_hint(shapes, inputs) -> str:
    main, other = shapes[0], shapes[-1]
    dims = lambda shape: "x".join(map(str, shape))  # noqa: E731
    if len(main) != 3 or len(other) != 3:
        return "every branch of `add` must output the same shape"
    if main[1:] == other[1:]:
        return f"the main branch outputs {dims(main)} and the shortcut {dims(other)}; project it with a 1x1 conv"
    if (1, 1) in (main[1:], other[1:]):  # a globally pooled branch: no stride makes the sizes meet
        return "`add` does not broadcast a 1x1 branch; every branch must output the same shape"
    stride = [o // m if m and o % m == 0 else None for m, o in zip(main[1:], other[1:])]
    if None in stride or min(stride) < 1:
        return "the branches' spatial sizes differ; give the shortcut the same stride"
    step = stride[0] if stride[0] == stride[1] else dims(stride)
    if main[0] == other[0]:
        return f"the main branch outputs {dims(main)} and the shortcut {dims(other)}; give the shortcut stride {step}"
    return (f"the main branch outputs {dims(main)} and the shortcut {dims(other)}; project the shortcut with "
            f"a 1x1 conv to {main[0]} channels at stride {step}")
