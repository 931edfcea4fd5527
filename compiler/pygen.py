"""Translate a network's source into the plan of its Python module: one class per `block`
definition, whose `__init__` mirrors the block's body (its `if`, `repeat` and `for` become Python
`if` and `for`) and whose `forward` is straight-line code.

The translation walks the .cnn syntax tree of each block instance (and of the network) once, with
values that are both concrete (read from the analysed IR, so every shape is the analysis's own)
and symbolic (code over the class's constructor arguments, `pyvalues.V`). Two instances share a
class when their translations print the same text. A value that code cannot follow (a spatial size
after a loop, say) raises `CannotExpress`; the class is then translated again with the arguments it
depends on fixed to their values (and such loops unrolled), so translation always ends.
"""
from __future__ import annotations

import dataclasses

from cnnc.dsl import ast
from cnnc.dsl.arguments import default, match
from cnnc.dsl.ops import OPS, OpProblem, coerce
from cnnc.dsl.ops_args import axes_of, with_axes

from . import names
from .pycode import show
from .pyflow import ControlFlow, Ctx, Flow, Frame, Stmt
from .pyops import FRESH_PRODUCERS, INPLACE_OPS, LAYERS, Code
from .pyshapes import layer_shape
from .pystructure import holds_bare_parameter, is_chain
from .pyvalues import (
    BLIND,
    CannotExpress,
    V,
    names_in,
    opaque,
    plain,
    substitute,
    total,
    translate,
)

ALL = "*"
_STATELESS_FAMILIES = {"activation", "dropout", "reshape", "resample"}
_STATELESS_OPS = {"maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool", "lrn"}
BUILTINS = {"range": "range", "min": "min", "max": "max", "len": "len", "abs": "abs", "str": "str", "int": "int",
            "floor": "math.floor", "ceil": "math.ceil"}


def _bare_parameter_in_group(call, path, naming):
    """torch's containers (nn.Sequential, nn.ModuleDict) hold modules, not a bare nn.Parameter."""
    from cnnc.dsl.diagnostics import CnnError

    group = naming.prefix or "?"
    return CnnError(f"{call.name} `{path}`: a bare parameter cannot sit in the group of layers `{group}`", call.span,
                    hint="put it directly in a block or the network (as ConvNeXt's layer_scale), "
                         "or make the group a block")


def _coerced(arg_spec, value, blind):
    """An argument of code check never elaborated (a branch not taken): a value the op refuses
    there fixes the branch's condition instead."""
    try:
        return coerce(arg_spec.kind, value, arg_spec.name)
    except OpProblem:
        raise CannotExpress(blind or {"?"}) from None


def _value(v):
    return v.value if isinstance(v, V) else v


def _plain_shape(shape):
    """A shape's plain values, keeping its axis order (a permuted map stays a `Dims`)."""
    return with_axes(tuple(plain(s) for s in shape), axes_of(shape))


class Walk(ControlFlow):
    """The translation of one class, for one instance (or for no instance: `blind`)."""

    def __init__(self, gen, frozen, blind=frozenset(), path_known=True):
        self.gen, self.frozen, self.blind = gen, frozen, blind
        self.init: list = []          # (depth, text | ("member"...), span)
        self.depth = 0
        self.stmts: list[Stmt] = []
        self.nvalues = 0
        self.attrs: list = []         # class-level attribute names in order
        self.shared: dict = {}        # ctor code of a shared stateless module -> attribute name
        self.locals: set = set()
        self.used_names: set = set()  # ctor parameter names the printed code refers to
        self.children: list = []
        self.exports: list = []       # side outputs of a block: (name, vid)
        self.inputs: list = []        # forward arguments: vids
        self.shared_lines: list = []
        self.inplace: dict = {}
        self.dicts: set = set()
        self.holders: set = set()     # groups that hold a bare parameter: a plain nn.Module
        self.carry_vars: set = set()
        self.reusable = None  # the input's channel parameter, in a Sequential block (make_layers style)
        self.flags: list = []       # conditions stored on the module (pybranch.Flag)
        self.branchings: list = []  # the `if`s of forward (pybranch.Branching), by id

    def is_dict(self, target) -> bool:
        return target in self.dicts

    # -- helpers ------------------------------------------------------------------------------
    def fixed(self, key) -> bool:
        return ALL in self.frozen or key in self.frozen

    def value(self, shape_or_none=None):
        self.nvalues += 1
        return self.nvalues - 1

    def emit(self, text, span=None):
        self.init.append((self.depth, text, span))

    def code(self, v, hint: str = "TABLE") -> str:
        if isinstance(v, V) and v.const or not isinstance(v, V):
            return self.gen.constant(v.value if isinstance(v, V) else v, hint)
        tree = v.tree()
        self.used_names |= names_in(tree)
        return show(tree)

    def local(self, base: str) -> str:
        name = names.local(base, self.locals | self.gen.global_names)
        self.locals.add(name)
        return name

    def expr(self, e, frame: Frame, shape) -> V:
        return translate(e, frame.variables, shape, self.blind, BUILTINS)

    def need(self, v: V):
        """A structural value (a condition, a count, a list to loop over): symbolic is fine."""
        if v.value is BLIND and v.code is None:
            raise CannotExpress(v.deps or self.blind or {"?"})
        return v

    # -- statements ------------------------------------------------------------------------------
    def seq(self, body: ast.Seq, flow, naming, frame, ctx):
        for stmt in body.body:
            flow = self.statement(stmt, flow, naming, frame, ctx)
        return flow

    def statement(self, stmt, flow, naming, frame, ctx):
        if isinstance(stmt, ast.Statement):
            out = self.item(stmt.item, stmt.label, flow, naming, frame, ctx)
            if stmt.bind:
                frame.values[stmt.bind] = out
            return out
        if isinstance(stmt, ast.Tap):
            frame.values[stmt.name] = flow
            return flow
        if isinstance(stmt, ast.InitDecl):  # applied at the end of the network class (pyinit)
            return flow
        if isinstance(stmt, ast.InputDecl):
            name = stmt.name or "input"
            shape = tuple(V(n) for n in self.gen.g.nodes[name]["shape"])
            new = Flow(self.value(), shape, "input")
            self.inputs.append((name, new.vid))
            frame.values[name] = new
            return new if len(self.inputs) == 1 else flow
        if isinstance(stmt, ast.OutputDecl):
            return self.output(stmt, flow, naming, frame, ctx)
        raise AssertionError(type(stmt).__name__)

    def output(self, decl, flow, naming, frame, ctx):
        if ctx.kind != "mod":
            raise CannotExpress(self.blind or {"?"})
        path = f"{naming.prefix}.{decl.name}" if naming.prefix else decl.name
        result = flow
        if decl.body is not None:
            inner = naming.child(decl.name)
            result = self.group(decl.body, decl.name, flow, inner, frame, ctx, decl.span)
        self.exports.append((path, result.vid, decl.span))
        return flow

    def item(self, item, label, flow, naming, frame, ctx):
        if isinstance(label, ast.Label):
            v = self.expr(label.value, frame, flow.shape if flow is not None else None)
            if v.const:
                label = str(v.value)
            elif ctx.kind == "seq" and v.code is not None and isinstance(item, ast.Call):
                label = CodeLabel(v, self)  # `self.add_module("denselayer" + str(i + 1), ...)`
            else:
                raise CannotExpress(v.deps or self.blind or {"?"})
        if isinstance(item, ast.Group) and not label:
            inner = naming.child(None)
            return self.group(item.body, inner.prefix.rsplit(".", 1)[-1], flow, inner, frame, ctx, item.span)
        if isinstance(item, ast.Group):
            item = item.body
        if isinstance(item, ast.Call):
            if item.name in self.gen.blocks:
                return self.instance(item, label, flow, naming, frame, ctx)
            return self.layer(item, label, flow, naming, frame, ctx)
        if isinstance(item, ast.Ref):
            # a name no earlier statement bound: only in code check never elaborated (a branch not
            # taken), which then stays fixed as elaborated
            if ctx.kind != "mod" or item.name not in frame.values:
                raise CannotExpress(self.blind or {"?"})
            return frame.values[item.name]
        inner = naming.child(label) if label else naming
        if isinstance(item, ast.Merge):
            return self.merge(item, label, flow, naming, inner, frame, ctx)
        if label:
            body = item if isinstance(item, ast.Seq) else ast.Seq(item.span, (ast.Statement(item.span, None, item, None),))
            if isinstance(item, ast.If) and ctx.kind == "mod":
                return self.labelled_if(item, label, flow, inner, frame, ctx)
            return self.group(body, label, flow, inner, frame, ctx, item.span)
        if isinstance(item, ast.Seq):
            return self.seq(item, flow, naming, frame, ctx)
        if isinstance(item, ast.Repeat):
            return self.repeat(item, flow, naming, frame, ctx)
        if isinstance(item, ast.For):
            return self.loop(item, flow, naming, frame, ctx)
        if isinstance(item, ast.If):
            return self.condition(item, flow, naming, frame, ctx)
        raise AssertionError(type(item).__name__)

    # -- groups ----------------------------------------------------------------------------------
    def group(self, body, label, flow, inner, frame, ctx, span):
        """A labelled group: an nn.Sequential when it is a chain, else its own container."""
        name = names.module_name(label)
        if is_chain(body, self.gen.blocks):
            access = self.member_access(ctx, name)
            start = len(self.init)
            sub = Ctx("seq", access)
            out = self.seq(body, flow, inner, frame, sub)
            lines = self.init[start:]
            del self.init[start:]
            out_flow = out
            if all(isinstance(t, tuple) and t[0] == "item" and t[1] == access for _, t, _ in lines) \
                    and 0 < len(lines) <= 12:
                ctor = ("seqinline", [t[2] for _, t, _ in lines], [s for _, _, s in lines])
                self.add_member(ctx, name, ctor, span)
            else:
                self.add_member(ctx, name, ("raw", "nn.Sequential()"), span)
                self.init.extend(lines)
            if ctx.kind == "mod":
                return self.call_stmt(("attr", access), [flow], out_flow.shape, span, label=label, op="group")
            ctx.last_fresh = False
            return out_flow
        if ctx.kind != "mod":
            raise CannotExpress(self.blind or {"?"})
        start = len(self.init)
        sub = self.container(ctx, name, body.body, span)
        out = self.seq(body, flow, inner, frame, sub)
        self.drop_if_empty(start, sub)
        return out

    def drop_if_empty(self, start, sub) -> None:
        """A container (emitted at `start`) that nothing was registered in is not built: an empty
        group holds no module, and its label may name a layer elsewhere (`x: relu; x: repeat 0 {...}`)."""
        if not any(isinstance(t, tuple) and len(t) > 1 and t[1] == sub.target for _, t, _ in self.init[start + 1:]):
            del self.init[start]

    def container(self, ctx, name, items, span) -> Ctx:
        """A labelled group's own container: an nn.ModuleDict, or a plain nn.Module where it holds a
        bare parameter (nn.ModuleDict holds modules only)."""
        access = self.member_access(ctx, name)
        if holds_bare_parameter(items):
            self.add_member(ctx, name, ("raw", "nn.Module()"), span)
            self.holders.add(access)
        else:
            self.add_member(ctx, name, ("raw", "nn.ModuleDict()"), span)
            self.dicts.add(access)
        return Ctx("mod", access)

    def member_access(self, ctx, name) -> str:
        if names.plain(name):
            return f"{ctx.target}.{name}"
        if self.is_dict(ctx.target):
            return f'{ctx.target}["{name}"]'
        if name.isdigit() and ctx.target != "self" and ctx.target not in self.holders:
            return f"{ctx.target}[{name}]"  # a numbered child of an nn.Sequential
        return f'getattr({ctx.target}, "{name}")'

    def add_member(self, ctx, name, ctor, span):
        """Register a submodule `name` of the container `ctx.target`."""
        if ctx.kind == "seq" and name.isdigit():
            self.emit(("item", ctx.target, ctor), span)
            return
        if ctx.target == "self" and name not in self.attrs:
            self.attrs.append(name)
        self.emit(("set", ctx.target, name, ctor), span)

    # -- layers ----------------------------------------------------------------------------------
    def layer(self, call, label, flow, naming, frame, ctx):
        call = _without_trainable(call, [a.name for a in OPS[call.name].args])
        path = naming.next(label) if naming.prefix is not None else None
        spec = OPS[call.name]
        given = match(call, [a.name for a in spec.args], call.name, set())
        node = self.gen.node(path) if not self.blind else None
        if node is not None and node["op"] != call.name:
            raise AssertionError(f"generator and elaborator disagree at {path}: {node['op']} vs {call.name}")
        args = {}
        for arg_spec in spec.args:
            if arg_spec.name in given:
                v = self.expr(given[arg_spec.name].value, frame, flow.shape)
                if v.const or (not v.deps and v.value is not BLIND):
                    args[arg_spec.name] = node["args"][arg_spec.name] if node else _coerced(
                        arg_spec, v.value, self.blind)
                else:
                    if node is not None:
                        v = V(node["args"][arg_spec.name], v.code, v.deps)
                    args[arg_spec.name] = v
            else:
                args[arg_spec.name] = node["args"][arg_spec.name] if node else default(arg_spec)
        out_shape = layer_shape(call.name, args, [flow.shape], node, self.blind)
        stateless = self.stateless(call.name, node)
        ctor = ("layer", call.name, args, [flow.shape], out_shape)
        apply = self.layer_of(ctor).apply
        if apply and (ctx.kind == "seq" or self.is_dict(ctx.target)):
            raise _bare_parameter_in_group(call, path, naming)
        if ctx.kind == "seq":
            inplace = call.name in INPLACE_OPS and ctx.last_fresh
            built = self.build(ctor, inplace)
            name = _registered(label) if label else str(path.rsplit(".", 1)[-1] if path else "0")
            if label:
                self.emit(("set", ctx.target, name, ("raw", built)), call.span)
            else:
                self.emit(("item", ctx.target, ("raw", built)), call.span)
            ctx.last_fresh = call.name in FRESH_PRODUCERS
            return Flow(None, out_shape, call.name)
        if stateless and not label:
            self.emit(("shared", ctor), call.span)
            return self.call_stmt(("shared", ctor), [flow], out_shape, call.span, op=call.name)
        if path is None:
            raise CannotExpress(self.blind or {"?"})
        part = label if label else path.rsplit(".", 1)[-1]
        name = names.module_name(part)
        access = self.member_access(ctx, name)
        if apply:  # a bare parameter (layer scale): `self.gamma * x`
            self.add_member(ctx, name, ctor, call.span)
            return self.call_stmt(("apply", apply.format(self=access, x="{x}")), [flow], out_shape, call.span,
                                  op=call.name, ctor=ctor)
        self.add_member(ctx, name, ctor, call.span)
        return self.call_stmt(("attr", access), [flow], out_shape, call.span, op=call.name, ctor=ctor)

    def stateless(self, op, node) -> bool:
        if node is not None:
            return not node["params"] and not node["buffers"]
        return OPS[op].family in _STATELESS_FAMILIES or op in _STATELESS_OPS

    def layer_of(self, ctor):
        _, op, args, ins, out = ctor
        return LAYERS[op]({k: plain(v) for k, v in args.items()}, [_plain_shape(shape) for shape in ins],
                          _plain_shape(out), False)

    def build(self, ctor, inplace=False) -> str:
        _, op, args, ins, out = ctor
        layer = LAYERS[op]({k: plain(v) for k, v in args.items()}, [_plain_shape(shape) for shape in ins],
                           _plain_shape(out), inplace)
        if layer.apply:  # a bare parameter's tensor is written as one expression: values as code
            def code(v):
                if not isinstance(v, V):
                    return v
                return v.value if v.const else _Written(self, v)

            layer = LAYERS[op]({k: code(v) for k, v in args.items()},
                               [with_axes(tuple(code(s) for s in shape), axes_of(shape)) for shape in ins],
                               with_axes(tuple(code(s) for s in out), axes_of(out)), inplace)
        if layer.ctor in self.gen.runtime_names:
            self.gen.runtime_used.add(layer.ctor)
        codes = []
        for arg in layer.args:
            value = arg.value
            if isinstance(value, V):
                codes.append((arg.key, self.code(value), False))
                continue
            skip = repr(value) == repr(arg.default)
            codes.append((arg.key, str(value) if isinstance(value, Code) else self.gen.constant(value), skip))
        while codes and codes[-1][0] is None and codes[-1][2]:
            codes.pop()
        text = ", ".join(c if k is None else f"{k}={c}" for k, c, skip in codes if k is None or not skip)
        return f"{layer.ctor}({text})"

    # -- block instances ---------------------------------------------------------------------------
    def instance(self, call, label, flow, naming, frame, ctx):
        block = self.gen.blocks[call.name]
        call = _without_trainable(call, [p.name for p in block.params])
        path = naming.next(label) if naming.prefix is not None else None
        pnames = [p.name for p in block.params]
        given = match(call, pnames, call.name, set())
        args = {}
        for param in block.params:
            if param.name in given:
                args[param.name] = self.expr(given[param.name].value, frame, flow.shape)
            else:
                args[param.name] = translate(param.default, args, flow.shape, self.blind, BUILTINS)
        result = self.gen.block_class(block, args, flow.shape, path, self.blind)
        self.children.append(result.name)
        parts = []
        positional = True
        for key in result.signature:
            if key == "in_channels":
                parts.append(self.code(flow.shape[0]))
            elif key == "in_size" and all(s.code == ("i", ("n", "in_size"), ("l", i))
                                          for i, s in enumerate(flow.shape[1:])):  # this class's own input size
                parts.append(self.code(V(BLIND, ("n", "in_size"), frozenset().union(*(s.deps for s in flow.shape[1:])))))
            elif key == "in_size":
                parts.append(self.code(V(BLIND, ("t", [s.tree() for s in flow.shape[1:]]),
                                         frozenset().union(*(s.deps for s in flow.shape[1:])))
                                       if not all(s.const for s in flow.shape[1:])
                                       else V(tuple(s.value for s in flow.shape[1:]))))
            else:
                pname, pyname = key
                if pname not in given:
                    positional = False
                    continue
                text = self.code(args[pname], pname)
                if given[pname].name is not None:
                    positional = False
                parts.append(text if positional else f"{pyname}={text}")
        ctor = ("raw", f"{result.name}({', '.join(parts)})")
        mapping = {"in_channels": flow.shape[0], "in_size": None}
        for key in result.signature:
            if isinstance(key, tuple):
                mapping[key[1]] = args[key[0]]
        out_shape = []
        for v in result.out_shape:
            concrete = v.value
            if v.const:
                out_shape.append(V(concrete))
                continue
            tree = v.code
            free = names_in(tree) if tree is not None else None
            mutated = any(isinstance(d, tuple) and d[0] == "var" for d in v.deps)
            if tree is None or mutated or any(n not in mapping or mapping[n] is None for n in free):
                out_shape.append(opaque(concrete, flow.shape[0], *flow.shape, *args.values()) if any(
                    not a.const for a in [*flow.shape, *args.values()]) else V(concrete))
                continue
            try:
                mapped = substitute(tree, {n: mapping[n].tree() for n in free})
                deps = frozenset().union(*(mapping[n].deps for n in free)) if free else frozenset()
                out_shape.append(V(concrete, mapped, deps) if deps else V(concrete))
            except CannotExpress:
                out_shape.append(opaque(concrete, *[mapping[n] for n in free]))
        out_shape = tuple(out_shape)
        if ctx.kind == "seq":
            name = _registered(label) if label else "0"
            self.emit(("set", ctx.target, name, ctor) if label else ("item", ctx.target, ctor), call.span)
            ctx.last_fresh = False
            return Flow(None, out_shape, None)
        if path is None:
            raise CannotExpress(self.blind or {"?"})
        part = label if label else path.rsplit(".", 1)[-1]
        name = names.module_name(part)
        access = self.member_access(ctx, name)
        self.add_member(ctx, name, ctor, call.span)
        outs = [self.value() for _ in range(1 + len(result.sides))]
        self.stmts.append(Stmt("call", [flow.vid], outs, call.span, access=("attr", access),
                               label=label or call.name.lower(), op="block", sides=result.sides))
        for (side, _), vid in zip(result.sides, outs[1:]):
            self.exports.append((f"{path}.{side}" if path else side, vid, call.span))
        return Flow(outs[0], out_shape, None)

    def repeated_branches(self, path, merge, outs) -> int:
        """How many branches give a tensor an earlier branch gave (the elaborator routes each through
        an identity node): read from the elaborated merge when there is one (a block that passes its
        input through is a new value here, the same tensor there), else from the values here."""
        node = self.gen.node(path) if path is not None and not self.blind else None
        if node is None:
            return sum(any(out.vid == o.vid for o in outs[:index]) for index, out in enumerate(outs))
        spans = {b.span for b in merge.branches}
        graph = self.gen.g
        return sum(graph.nodes[source]["op"] == "identity" and graph.nodes[source]["span"] in spans
                   for source in graph.predecessors(path))

    def call_stmt(self, access, flows, shape, span, label=None, op=None, ctor=None):
        out = self.value()
        self.stmts.append(Stmt("call", [f.vid for f in flows], [out], span, access=access, label=label,
                               op=op, ctor=ctor))
        return Flow(out, shape, op)

    # -- merges ------------------------------------------------------------------------------------
    def merge(self, merge, label, flow, naming, inner, frame, ctx):
        if ctx.kind != "mod":
            raise CannotExpress(self.blind or {"?"})
        outs, branch_ctx, start = [], ctx, len(self.init)
        if label and naming.prefix is not None:  # the branches' layers are children of the merge's label
            branch_ctx = self.container(ctx, names.module_name(label), merge.branches, merge.span)
        for branch in merge.branches:
            outs.append(self.item(branch.item, branch.label, flow, inner, frame, branch_ctx))
        if branch_ctx is not ctx:
            self.drop_if_empty(start, branch_ctx)
        try:
            path = (inner.prefix if label else naming.next(None)) if naming.prefix is not None else None
            if inner.prefix is not None:  # the elaborator's identity node per repeated tensor, numbered after
                for _ in range(self.repeated_branches(path, merge, outs)):
                    inner.next(None)
        except CannotExpress:  # numbered after an `if` no instance takes: a merge holds no module
            if not self.blind:
                raise
            path = None
        node = self.gen.node(path) if path is not None and not self.blind else None
        if merge.op == "concat":
            shape = (total([o.shape[0] for o in outs]), *outs[0].shape[1:])
        elif merge.op == "add":  # equal shapes: each size from the first branch that has its code
            shape = with_axes(tuple(next((o.shape[i] for o in outs if o.shape[i].const or o.shape[i].code is not None),
                                         outs[0].shape[i]) for i in range(len(outs[0].shape))), axes_of(outs[0].shape))
        else:
            shape = outs[0].shape
        if node is not None:
            shape = tuple(s if s.value == n else opaque(n, *s.deps and [s]) for s, n in zip(shape, node["shape"]))
            shape = tuple(V(n, s.code, s.deps) if not s.const else V(n) for s, n in zip(shape, node["shape"]))
        value = self.value()
        self.stmts.append(Stmt("merge", [o.vid for o in outs], [value], merge.span, op=merge.op))
        return Flow(value, shape, merge.op)

    # -- control flow ------------------------------------------------------------------------------
class CodeLabel(str):
    """A label computed from the class's arguments: its value in this instance (the path), and the
    code that registers the module under it."""

    def __new__(cls, v, walk):
        label = super().__new__(cls, "?" if v.value is BLIND else str(v.value))
        label.code = walk.code(v)
        return label


class Registered:
    """A computed child name as `add_module` writes it; equal across instances when its code is."""

    def __init__(self, code):
        self.code = code

    def __eq__(self, other):
        return isinstance(other, Registered) and other.code == self.code

    def __hash__(self):
        return hash(self.code)

    def __repr__(self):
        return f"Registered({self.code})"


def _registered(label):
    """The child name a label registers (torch's own attribute names get a trailing `_`)."""
    if isinstance(label, CodeLabel):
        if names.module_name(str(label)) != str(label):
            raise CannotExpress({"?"})
        return Registered(label.code)
    return names.module_name(label)


class _Written:
    """A value in a bare parameter's constructor, written as its code only where the table prints it
    (so the input's size is not made an argument when only its channels are read)."""

    def __init__(self, walk, v):
        self.walk, self.v = walk, v

    def __repr__(self) -> str:
        return self.walk.code(self.v)

    __str__ = __repr__


def _without_trainable(call, params):
    """`trainable=` is not an argument (the analysis marks the layers; the network class freezes them)."""
    if "trainable" in params or not any(a.name == "trainable" for a in call.args):
        return call
    return dataclasses.replace(call, args=tuple(a for a in call.args if a.name != "trainable"))
