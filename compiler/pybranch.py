"""An `if` on a block's parameters (or its input's channels or size) in a block that is not a chain:
MobileNetV2's `if stride == 1 and in.channels == out { add { conv: ... } | {} } else { conv: ... }`.

Generated as torchvision writes it: `__init__` stores the condition (`self.residual = stride == 1 and
in_channels == out`) and builds only the taken branch's submodules; forward tests the stored flag.
Each branch's forward statements carry a guard `(if id, branch index)`; the printer (pyforward)
nests them and gives every branch's result the same variable.
"""
from __future__ import annotations

from cnnc.dsl import ast

from . import names
from .pyvalues import BLIND, CannotExpress, V, opaque


class Flag:
    """A condition stored on the module; its attribute name is chosen once the class is walked
    (so it avoids every submodule name), and it prints as `self.NAME`."""

    def __init__(self, base: str):
        self.base, self.name = base, None

    def __str__(self) -> str:
        return f"self.{self.name or self.base}"


class UnknownPosition:
    """The position after an `if` whose branches number different counts of items, in a branch no
    instance takes: naming a numbered item from it cannot be done (CannotExpress)."""

    def __init__(self, deps):
        self.deps = deps

    def __str__(self):
        raise CannotExpress(self.deps)

    def __add__(self, other):
        return self


class Lazy:
    """Code that names flags, printed once their names are chosen."""

    def __init__(self, make):
        self.make = make

    def __str__(self) -> str:
        return self.make()


class Branching:
    """One `if`: its flags (one per tested branch), its input value and its result value."""

    def __init__(self, flags, tests, deps, source, result):
        self.flags, self.tests, self.deps, self.source, self.result = flags, tests, deps, source, result


def _residual(body) -> bool:
    """A branch that is one `add` with an identity branch: the residual connection."""
    if body is None or len(body.body) != 1 or not isinstance(body.body[0], ast.Statement):
        return False
    item = body.body[0].item
    return isinstance(item, ast.Merge) and item.op == "add" and any(
        isinstance(b.item, ast.Seq) and not b.item.body for b in item.branches)


def module_if(w, cond, v, flow, naming, frame, ctx):
    """The walker's `if` with a symbolic condition in a module context (a block's `__init__`)."""
    from .pyflow import Flow, Stmt

    branches = w.branches(cond, frame, flow.shape)
    deps = frozenset().union(*(t.deps for t, _ in branches if t is not None))
    flags = []
    for index, (test, body) in enumerate(branches):
        if test is None:
            continue
        flag = Flag("residual" if index == 0 and _residual(body) else "condition")
        w.flags.append(flag)
        flags.append(flag)
        w.emit(("assign", flag, w.code(test)), cond.span)
    cid = len(w.branchings)
    result = w.value()
    w.branchings.append(Branching(flags, list(flags) + [None], deps, flow.vid, result))
    saved_values = dict(frame.values)
    before = after = naming.position
    outs, taken_out, taken_found, ends = [], None, False, set()
    start = len(w.init)
    bodies = []
    for index, (test, body) in enumerate(branches):
        taken = (not taken_found and not w.blind and (test is None or test.value is True)
                 and all(t is None or t.value is not BLIND for t, _ in branches[:index + 1]))
        naming.position = before
        mark_init, mark_stmts, mark_exports = len(w.init), len(w.stmts), len(w.exports)
        saved_blind = w.blind
        if not taken:
            w.blind = w.blind | deps
        w.depth += 1
        out = flow if body is None else w.seq(body, flow, naming, frame, ctx)
        w.depth -= 1
        w.blind = saved_blind
        ends.add(naming.position)
        w.stmts.append(Stmt("alias", [out.vid], [result], cond.span))
        for s in w.stmts[mark_stmts:]:
            s.guard = ((cid, index), *s.guard)
        bodies.append(w.init[mark_init:])
        del w.init[mark_init:]
        if frame.values != saved_values:  # a value named inside a branch and read after it
            raise CannotExpress(deps)
        if len(w.exports) != mark_exports:  # side outputs exist in some instances only: the
            raise CannotExpress(deps)        # outputs' tuple would differ, so the condition is fixed
        shape = out.shape
        for earlier, _ in branches[:index]:
            shape = assume(shape, earlier, False)
        if test is not None:
            shape = assume(shape, test, True)
        out = Flow(out.vid, shape, out.op)
        outs.append(out)
        if taken:
            taken_found, taken_out, after = True, out, naming.position
    if len(ends) == 1:  # every branch numbers the same items: the next item's number is known
        after = ends.pop()
    elif not taken_found:  # known only if no numbered item follows
        after = UnknownPosition(w.blind | deps)
    naming.position = after
    del w.init[start:]
    # shared stateless modules are built before the `if`, so that every branch finds them
    for body in bodies:
        for item in body:
            if item[1][0] == "shared":
                w.init.append((w.depth, item[1], item[2]))
    printed = [[item for item in body if item[1][0] != "shared"] for body in bodies]
    texts = {repr([(d, t) for d, t, _ in body]) for body in printed}
    if len(printed) > 1 and len(texts) == 1:  # every branch builds the same modules: built once
        w.init.extend((d - 1, t, span) for d, t, span in printed[0])
        printed = [[] for _ in printed]
    for keyword, text, body in heads(list(flags) + [None], printed):
        w.emit((keyword, text), cond.span)
        w.init.extend(body)
    return Flow(result, _joined(flow, outs, taken_out, deps, [t for t, _ in branches]), None)


def _joined(flow, outs, taken, deps, tests):
    """The shape after the `if`: the taken branch's values; code where every branch agrees, else
    the branches' codes under the conditions (`in_channels // 2 + out // 2 if stride == 1 else ...`),
    which a caller that knows the arguments reduces to one branch."""
    from .pyflow import _same

    if any(len(o.shape) != len(flow.shape) for o in outs):
        raise CannotExpress(deps)
    shape = []
    for i in range(len(flow.shape)):
        value = taken.shape[i].value if taken is not None else BLIND
        first = outs[0].shape[i]
        sizes = [o.shape[i] for o in outs]
        if all(_same(s, first) for s in sizes[1:]):
            shape.append(first if first.const else V(value, first.code, first.deps))
        elif all(s.const or s.code is not None for s in sizes) and all(
                t is None or t.const or t.code is not None for t in tests):
            tree = sizes[-1].tree()
            for test, size in zip(reversed(tests[:-1]), reversed(sizes[:-1])):
                tree = ("?", test.tree(), size.tree(), tree)
            shape.append(V(value, tree, deps.union(*(s.deps for s in sizes))))
        else:
            shape.append(opaque(value, *sizes, V(0, None, deps)))
    return tuple(shape)


def name_flags(w) -> None:
    """Attribute names of the stored conditions, clear of every submodule's."""
    taken = set(w.attrs) | set(names.MODULE_ATTRS)
    for flag in w.flags:
        flag.name = names.local(flag.base, taken)
        taken.add(flag.name)
        w.attrs.append(flag.name)


def heads(tests, bodies) -> list:
    """(keyword, condition, body) for each branch with a body: `if`, `elif`, `else`. A branch without
    one is left out, and the next one's condition says it was not taken (`if not self.residual:`)."""
    result, skipped = [], []
    for index, body in enumerate(bodies):
        test = tests[index] if index < len(tests) else None
        if not body:
            if test is not None:
                skipped.append(test)
            continue
        parts = [("not ", t) for t in skipped] + ([("", test)] if test is not None else [])
        skipped = []
        text = Lazy(lambda parts=parts: " and ".join(f"{n}{t}" for n, t in parts)) if parts else None
        keyword = "if" if not result else ("elif" if parts else "else")
        result.append((keyword, text, body))
    return result


def _equalities(tree, truth: bool) -> list:
    """(a, b) code pairs equal wherever `tree` has the truth value `truth`: a false
    `in.channels != w` (or a false `... or in.channels != w`) means in_channels == w."""
    if tree is None:
        return []
    if tree[0] == "u" and tree[1].strip() == "not":
        return _equalities(tree[2], not truth)
    if tree[0] != "b":
        return []
    op = tree[1]
    if (op == "and" and truth) or (op == "or" and not truth):
        return _equalities(tree[2], truth) + _equalities(tree[3], truth)
    if (op == "==" and truth) or (op == "!=" and not truth):
        return [(tree[2], tree[3]), (tree[3], tree[2])]
    return []


_INPUT_NAMES = {"in_channels", "in_features", "in_size"}


def assume(shape, test, truth: bool):
    """`shape` on a path where the condition `test` (a V) is `truth`: a size written in the input's
    terms (`in_channels`) is rewritten in the parameters' (`w`) where the condition says they agree,
    so both paths of `downsample: if in.channels != w { conv(w, 1x1) }` give `w` channels."""
    from .pyvalues import names_in

    pairs = [(a, b) for a, b in _equalities(test.code if test is not None else None, truth)
             if names_in(a) & _INPUT_NAMES and not names_in(b) & _INPUT_NAMES]
    if not pairs:
        return shape
    out = []
    for s in shape:
        for a, b in pairs:
            if not s.const and s.code == a:
                s = V(s.value, b, s.deps | test.deps)
                break
        out.append(s)
    return type(shape)(out) if type(shape) is tuple else _rebuilt(shape, out)


def _rebuilt(shape, sizes):
    from cnnc.dsl.ops_args import axes_of, with_axes

    return with_axes(tuple(sizes), axes_of(shape))
