"""The walker's values (Flow, Stmt, Ctx, Frame) and its control flow: labelled and plain `if`,
`repeat` and `for`, each either followed symbolically (a Python `if` or loop in the generated code)
or picked or unrolled with the values of the instance. A mixin of `pygen.Walk`."""
from __future__ import annotations

from cnnc.dsl import ast

from . import names
from .pybranch import assume, module_if
from .pystructure import is_chain
from .pyvalues import BLIND, CannotExpress, V, opaque


class Flow:
    """A tensor of the forward pass: its value id, its shape (V items) and its producing op."""

    __slots__ = ("vid", "shape", "op")

    def __init__(self, vid, shape, op=None):
        self.vid, self.shape, self.op = vid, shape, op


class Stmt:
    """One forward statement."""

    def __init__(self, kind, ins, outs, span, **info):
        self.kind, self.ins, self.outs, self.span = kind, ins, outs, span
        self.info = info
        self.training = False
        self.guard = ()  # ((if id, branch index), ...) from the outermost `if` in (pybranch)


class Ctx:
    """Where modules go: appended to a Sequential (`seq`) or set as attributes (`mod`)."""

    def __init__(self, kind, target, items=None):
        self.kind, self.target = kind, target
        self.items = items if items is not None else []  # seq: (label, ctor) for the inline form
        self.last_fresh = False  # seq: the previous item is a fresh producer (in-place ReLU)


class Frame:
    def __init__(self, variables):
        self.variables, self.values = variables, {}


class ControlFlow:
    """`if`, `repeat` and `for` for `pygen.Walk` (which provides the rest of the walk)."""

    def labelled_if(self, cond, label, flow, inner, frame, ctx):
        """`downsample: if c { chain }`: an optional submodule (None when the condition is false)."""
        v = self.need(self.expr(cond.condition, frame, flow.shape))
        body = cond.then
        if v.const or self.fixed_all(v):
            taken = self.pick(cond, v, frame, flow.shape)
            if taken is None:
                return flow
            return self.group(taken, label, flow, inner, frame, ctx, cond.span)
        if cond.orelse is not None and not (isinstance(cond.orelse, ast.Seq) and not cond.orelse.body):
            raise CannotExpress(v.deps)
        if not is_chain(body, self.gen.blocks):
            raise CannotExpress(v.deps)
        name = names.module_name(label)
        access = self.member_access(ctx, name)
        saved_blind = self.blind
        if v.value is not True:
            self.blind = self.blind | v.deps
        self.add_member(ctx, name, ("raw", "None"), cond.span)
        self.emit(("if", self.code(v)), cond.span)
        self.depth += 1
        start = len(self.init)
        out = self.seq(body, flow, inner, frame, Ctx("seq", access))
        lines = self.init[start:]
        del self.init[start:]
        if all(isinstance(t, tuple) and t[0] == "item" and t[1] == access for _, t, _ in lines) \
                and 0 < len(lines) <= 12:
            self.emit(("set", ctx.target, name, ("seqinline", [t[2] for _, t, _ in lines],
                                                  [s for _, _, s in lines])), cond.span)
        else:
            self.emit(("set", ctx.target, name, ("raw", "nn.Sequential()")), cond.span)
            self.init.extend(lines)
        self.depth -= 1
        self.blind = saved_blind
        shape = flow.shape
        if v.value is True:
            shape = out.shape
        kept, built = assume(flow.shape, v, False), assume(out.shape, v, True)
        merged = tuple(a if (a is b or _same(a, b)) else opaque(a.value, a, b, v)
                       for a, b in zip(kept, built)) if len(out.shape) == len(flow.shape) else None
        if merged is None:
            raise CannotExpress(v.deps)
        result = self.value()
        self.stmts.append(Stmt("optional", [flow.vid], [result], cond.span, access=access, label=label))
        return Flow(result, tuple(V(s.value if v.value is not True else o.value, s.code, s.deps)
                                  if not s.const else s for s, o in zip(merged, shape)), None)

    def fixed_all(self, v) -> bool:
        return bool(v.deps) and all(self.fixed(d) for d in v.deps)

    def pick(self, cond, v, frame, shape):
        """The branch a constant condition takes (a body, or None)."""
        while True:
            if v.value is True:
                return cond.then
            if isinstance(cond.orelse, ast.If):
                cond = cond.orelse
                v = self.need(self.expr(cond.condition, frame, shape))
                if not (v.const or self.fixed_all(v)):
                    raise CannotExpress(v.deps)
                continue
            return cond.orelse

    def condition(self, cond, flow, naming, frame, ctx):
        v = self.need(self.expr(cond.condition, frame, flow.shape))
        if v.const or self.fixed_all(v):
            if v.value is BLIND:
                raise CannotExpress(v.deps or self.blind or {"?"})
            taken = self.pick(cond, v, frame, flow.shape)
            return flow if taken is None else self.seq(taken, flow, naming, frame, ctx)
        if ctx.kind != "seq":
            return module_if(self, cond, v, flow, naming, frame, ctx)
        return self.carrying(lambda carried, var: self._condition(cond, v, carried, var, naming, frame, ctx),
                             flow, naming, frame)

    def branches(self, cond, frame, shape) -> list:
        """[(test or None for `else`, body or None)] of an if/else-if chain; a missing `else` is
        (None, None): the tensor passes unchanged."""
        branches, chain = [], cond
        while chain is not None:
            if isinstance(chain, ast.If):
                branches.append((self.need(self.expr(chain.condition, frame, shape)), chain.then))
                chain = chain.orelse
            else:
                branches.append((None, chain))
                chain = None
        if branches[-1][0] is not None:
            branches.append((None, None))
        return branches

    def _condition(self, cond, v, carried, var, naming, frame, ctx):
        branches = self.branches(cond, frame, carried.shape)
        result, taken_found = None, False
        before = after = naming.position
        outs = []
        for index, (test, body) in enumerate(branches):
            taken = (not taken_found and not self.blind and (test is None or test.value is True)
                     and all(t is None or t.value is not BLIND for t, _ in branches[:index + 1]))
            naming.position = before
            if body is None:
                out = carried
            else:
                keyword = "if" if index == 0 else ("elif" if test is not None else "else")
                self.emit((keyword, self.code(test) if test is not None else None), cond.span)
                saved = self.blind
                if not taken:
                    self.blind = self.blind | v.deps | (test.deps if test is not None else frozenset())
                naming.position = before
                self.depth += 1
                out = self.seq(body, carried, naming, frame, ctx)
                self.assign_carry(var, carried, out)
                self.depth -= 1
                self.blind = saved
            outs.append(out)
            if taken:
                taken_found, result, after = True, out, naming.position
        naming.position = after
        return self.joined(carried, var, outs, result, v.deps)

    def carrying(self, run, flow, naming, frame):
        """Run a symbolic loop or `if` (in a Sequential) first as is; if the channel count changes
        inside, again with the count in a variable (`channels = v`, as torchvision's make_layers)."""
        mark = (len(self.init), set(self.locals), set(self.used_names), list(self.children), naming.position,
                dict(frame.variables), self.blind, self.depth)
        carried = Flow(None, flow.shape, None)
        try:
            return run(carried, None)
        except _NeedCarry:
            del self.init[mark[0]:]
            self.locals, self.used_names, self.children = mark[1], mark[2], mark[3]
            naming.position = mark[4]
            frame.variables.clear()
            frame.variables.update(mark[5])
            self.blind, self.depth = mark[6], mark[7]
        c = flow.shape[0]
        tree = c.tree()
        if tree[0] == "n" and (tree[1] in self.carry_vars or tree[1] == self.reusable):
            var = tree[1]
        else:
            var = self.local("channels")
            self.carry_vars.add(var)
            self.emit(("assign", var, self.code(c)), None)
        carried = Flow(None, (V(c.value, ("n", var), c.deps | {("var", var)}), *flow.shape[1:]), None)
        return run(carried, var)

    def assign_carry(self, var, carried, out):
        if var is None:
            if not _same(out.shape[0], carried.shape[0]):
                raise _NeedCarry()
            return
        if out.shape[0].code != ("n", var):
            self.emit(("assign", var, self.code(out.shape[0])), None)

    def joined(self, carried, var, outs, result, deps):
        """The shape after a loop or `if`: the taken path's values, code only where every path agrees."""
        final = result if result is not None else carried
        if any(len(o.shape) != len(carried.shape) for o in [*outs, final]):
            raise CannotExpress(deps or self.blind or {"?"})  # a path changes the rank (a flatten): unrolled
        c = carried.shape[0]
        first = V(final.shape[0].value, c.code, c.deps) if (c.code is not None or c.const) and all(
            _same(o.shape[0], c) or var is not None for o in outs) else opaque(final.shape[0].value, c, *deps and [
                V(0, None, deps)])
        if var is not None:
            first = V(final.shape[0].value, ("n", var), c.deps | {("var", var)})
        elif c.const and final.shape[0].value != c.value:
            first = opaque(final.shape[0].value, V(0, None, deps))
        rest = []
        for i, s in enumerate(carried.shape[1:], 1):
            if all(o.shape[i] is s for o in outs):
                rest.append(V(final.shape[i].value, s.code, s.deps) if not s.const else s)
            else:
                rest.append(opaque(final.shape[i].value, s, V(0, None, deps | {"?"} if not deps else deps)))
        return Flow(None, (first, *rest), None)

    def repeat(self, rep, flow, naming, frame, ctx):
        count = self.need(self.expr(rep.count, frame, flow.shape))
        token = ("loop", id(rep))
        if count.const or self.fixed(token) or self.fixed_all(count):
            if count.value is BLIND:
                raise CannotExpress(count.deps or self.blind or {"?"})
            for _ in range(count.value):
                flow = self.seq(rep.body, flow, naming, frame, ctx)
            return flow
        return self.symbolic_loop(rep, flow, naming, frame, ctx, count, None, token)

    def loop(self, loop, flow, naming, frame, ctx):
        items = self.need(self.expr(loop.iterable, frame, flow.shape))
        token = ("loop", id(loop))
        saved = {n: frame.variables[n] for n in loop.names if n in frame.variables}
        counted = _constant_range(loop.iterable)
        if (items.const and counted is not None and len(items.value) > 1 and ctx.kind == "seq"
                and not self.fixed(token) and not self.blind):  # `for i in range(7)` stays a loop
            items = V(items.value, ("c", "range", [("l", n) for n in counted]), {token})
        if items.const or self.fixed(token) or self.fixed_all(items):
            if items.value is BLIND:
                raise CannotExpress(items.deps or self.blind or {"?"})
            for value in items.value:
                frame.variables.update({k: V(x) for k, x in unpack(loop.names, value).items()})
                flow = self.seq(loop.body, flow, naming, frame, ctx)
        else:
            flow = self.symbolic_loop(loop, flow, naming, frame, ctx, items, loop.names, token)
        for n in loop.names:
            frame.variables.pop(n, None)
        frame.variables.update(saved)
        return flow

    def symbolic_loop(self, node, flow, naming, frame, ctx, source, loop_names, token):
        deps = source.deps | {token}
        if ctx.kind != "seq":
            raise CannotExpress(deps)
        return self.carrying(lambda carried, var: self._loop(node, carried, var, naming, frame, ctx, source,
                                                             loop_names, deps), flow, naming, frame)

    def _loop(self, node, carried, var, naming, frame, ctx, source, loop_names, deps):
        py = [self.local(n) for n in loop_names] if loop_names else []
        if loop_names:
            self.emit(("for", ", ".join(py), self.code(source)), node.span)
        else:
            self.emit(("for", "_", f"range({self.code(source)})"), node.span)
        self.depth += 1
        values = source.value
        if values is BLIND:
            iterations = []
        else:
            iterations = list(values) if loop_names else list(range(values))
        current, texts, outs, result = carried, None, [], None
        for item in iterations or [BLIND]:
            blind = item is BLIND
            saved_blind = self.blind
            if blind:
                self.blind = self.blind | deps
            if loop_names:
                parts = unpack(loop_names, item) if not blind else {n: BLIND for n in loop_names}
                for n, p in zip(loop_names, py):
                    frame.variables[n] = V(parts.get(n, BLIND), ("n", p), deps)
            mark, position = len(self.init), naming.position
            out = self.seq(node.body, current, naming, frame, ctx)
            self.assign_carry(var, current, out)
            body = self.init[mark:]
            if texts is None:
                texts = [t for _, t, _ in body]
            else:
                del self.init[mark:]
                if [t for _, t, _ in body] != texts:
                    raise CannotExpress(deps)
            self.blind = saved_blind
            if len(out.shape) != len(current.shape):
                raise CannotExpress(deps)  # the body changes the rank (a flatten): unrolled instead
            outs.append(out)
            if blind:
                naming.position = position
            else:
                result = out
            first = carried.shape[0]
            current = Flow(None, (V(out.shape[0].value, first.code, first.deps) if not first.const else first,
                                  *out.shape[1:]), None)
        self.depth -= 1
        return self.joined(carried, var, [carried, *outs], result, deps)


def _constant_range(expr):
    """The literal arguments of `range(7)` / `range(1, 7)`, else None."""
    if isinstance(expr, ast.FuncCall) and expr.name == "range" and expr.args and all(
            isinstance(a, ast.Literal) and type(a.value) is int for a in expr.args):
        return [a.value for a in expr.args]
    return None


class _NeedCarry(Exception):
    pass


def _same(a: V, b: V) -> bool:
    if a is b:
        return True
    if a.const and b.const:
        return a.value == b.value
    return a.code is not None and a.code == b.code and _vars(a) == _vars(b)


def _vars(v: V) -> set:
    return {d for d in v.deps if isinstance(d, tuple) and d[0] == "var"}


def unpack(loop_names, item) -> dict:
    if len(loop_names) == 1:
        return {loop_names[0]: item}
    return dict(zip(loop_names, item))
