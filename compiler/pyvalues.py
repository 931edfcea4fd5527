"""Values of the code generator: each one known in the instance being translated (from the analysed
IR) and, when it depends on a constructor argument, written as Python code over those arguments.

A `V` is constant (no dependencies: written as its literal), symbolic (`code` over the arguments it
depends on) or opaque (it depends on arguments but has no code: using it raises `CannotExpress`
with those arguments, and the generator then fixes them to their values, per class).
"""
from __future__ import annotations

from cnnc.dsl import ast
from cnnc.dsl.diagnostics import CnnError
from cnnc.dsl.expressions import Env, evaluate
from cnnc.dsl.ops import WORDS

BLIND = object()  # a value not known here: a branch no instance of the class takes


class CannotExpress(Exception):
    """A value that generated code needs depends on these arguments in a way code cannot follow."""

    def __init__(self, deps):
        super().__init__(sorted(map(str, deps)))
        self.deps = frozenset(deps)


class V:
    __slots__ = ("value", "code", "deps")

    def __init__(self, value, code=None, deps=frozenset()):
        self.value, self.code, self.deps = value, code, frozenset(deps)

    @property
    def const(self) -> bool:
        return not self.deps and self.value is not BLIND

    def tree(self):
        if self.code is not None:
            return self.code
        if self.deps or self.value is BLIND:
            raise CannotExpress(self.deps)
        return ("l", self.value)

    def __bool__(self):
        return True

    def __eq__(self, other):
        if isinstance(other, V):
            return self is other
        if self.const:
            return self.value == other
        if isinstance(other, str) and _numeric(self.code):  # `(kernel - 1) // 2 == "same"`: never
            return False
        raise CannotExpress(self.deps)

    __hash__ = object.__hash__

    def __repr__(self):
        return f"V({self.value!r}, {self.code!r}, {sorted(map(str, self.deps))})"


_ARITHMETIC = {"-", "*", "//", "/", "%", "**"}


def _numeric(tree) -> bool:
    """Code that can only give a number (never a word such as `same`)."""
    return tree is not None and (tree[0] == "b" and tree[1] in _ARITHMETIC or tree[0] == "u" and tree[1] == "-"
                                 or tree[0] == "l" and isinstance(tree[1], (int, float)))


def plain(v):
    """What pyops sees: the value itself when constant, else the V (printed as its code)."""
    return v.value if isinstance(v, V) and v.const else v


def opaque(value, *sources) -> V:
    deps = frozenset().union(*(s.deps for s in sources if isinstance(s, V)))
    return V(value, None, deps) if deps else V(value)


_ATTRS = {"channels": 0, "c": 0, "h": 1, "height": 1, "w": 2, "width": 2}
_FUNCS = {"range", "min", "max", "len", "abs", "str", "int", "floor", "ceil"}


def translate(expr: ast.Expr, env: dict, shape, blind: frozenset = frozenset(), names=None) -> V:
    """The V of a .cnn expression. `env` maps names to V, `shape` is the incoming shape (V items);
    `blind` are the dependencies of an untaken branch (values there are not known). `names` maps
    .cnn function names to Python ones (never shadowed)."""
    concrete = None
    if not blind:
        try:
            variables = {k: v.value for k, v in env.items()}
            in_shape = None if shape is None else tuple(s.value for s in shape)
            concrete = evaluate(expr, Env(variables, in_shape))
        except CnnError:
            concrete = BLIND
    else:
        concrete = BLIND
    v = _tree(expr, env, shape, blind, names or {})
    if v.const:
        return v
    if not v.deps:  # a constant in an untaken branch: still known
        return v
    return V(concrete, v.code, v.deps)


def _tree(expr, env, shape, blind, names) -> V:
    if isinstance(expr, ast.Literal):
        return V(expr.value)
    if isinstance(expr, ast.Name):
        if expr.name in env:
            return env[expr.name]
        if expr.name in WORDS:
            return V(expr.name)
        return V(BLIND, None, blind or {"?"})
    if isinstance(expr, ast.InAttr):
        return _in_attr(expr, shape, blind)
    if isinstance(expr, ast.ListExpr):
        items = [_tree(i, env, shape, blind, names) for i in expr.items]
        return _combine(expr, items, lambda ts: ("t", ts), env, shape, blind)
    if isinstance(expr, (ast.BinOp, ast.Compare, ast.BoolOp)):
        left, right = _tree(expr.left, env, shape, blind, names), _tree(expr.right, env, shape, blind, names)
        op = expr.op
        if op in ("==", "!=") and any(isinstance(s, ast.Literal) and isinstance(s.value, bool)
                                      for s in (expr.left, expr.right)):
            op = "is" if op == "==" else "is not"
        return _combine(expr, [left, right], lambda ts: ("b", op, ts[0], ts[1]), env, shape, blind)
    if isinstance(expr, ast.Not):
        return _combine(expr, [_tree(expr.operand, env, shape, blind, names)], lambda ts: ("u", "not ", ts[0]),
                        env, shape, blind)
    if isinstance(expr, ast.Neg):
        return _combine(expr, [_tree(expr.operand, env, shape, blind, names)], lambda ts: ("u", "-", ts[0]),
                        env, shape, blind)
    if isinstance(expr, ast.Index):
        parts = [_tree(expr.target, env, shape, blind, names), _tree(expr.index, env, shape, blind, names)]
        return _combine(expr, parts, lambda ts: ("i", ts[0], ts[1]), env, shape, blind)
    if isinstance(expr, ast.FuncCall):
        args = [_tree(a, env, shape, blind, names) for a in expr.args]
        name = names.get(expr.name, expr.name)
        if expr.name in ("min", "max") and len(args) == 1 and args[0].deps:
            # the language's min(x) of one number is x; Python's needs an iterable
            if args[0].value is BLIND:
                return V(BLIND, None, args[0].deps | blind)
            if not isinstance(args[0].value, tuple):
                return args[0]
        if expr.name not in _FUNCS:  # no Python spelling: a value only when constant
            deps = frozenset().union(*(a.deps for a in args)) if args else frozenset()
            if not deps and all(a.value is not BLIND for a in args):
                return _combine(expr, args, None, env, shape, blind)
            return V(BLIND, None, blind or {"?"})
        return _combine(expr, args, lambda ts: ("c", name, ts), env, shape, blind)
    return V(BLIND, None, blind or {"?"})


def _combine(expr, parts: list, make, env, shape, blind) -> V:
    deps = frozenset().union(*(p.deps for p in parts)) if parts else frozenset()
    if not deps and all(p.value is not BLIND for p in parts):
        try:  # every part constant: the value itself
            return V(evaluate(expr, Env({k: v.value for k, v in env.items() if v.const},
                                        None if shape is None or not all(s.const for s in shape)
                                        else tuple(s.value for s in shape))))
        except CnnError:
            return V(BLIND, None, blind or {"?"})
    if any(p.code is None and not p.const for p in parts):
        return V(BLIND, None, deps | blind)
    return V(BLIND, make([p.tree() for p in parts]), deps | blind)


def _in_attr(expr: ast.InAttr, shape, blind) -> V:
    if shape is None:
        return V(BLIND, None, blind or {"?"})
    if expr.attr == "features" or expr.attr == "shape":
        parts = list(shape)
        if expr.attr == "shape":
            if all(p.const for p in parts):
                return V(tuple(p.value for p in parts))
            if any(p.code is None and not p.const for p in parts):
                return opaque(BLIND, *parts)
            return V(BLIND, ("t", [p.tree() for p in parts]), frozenset().union(*(p.deps for p in parts)))
        return product(parts)
    position = _ATTRS.get(expr.attr)
    if position is None or position >= len(shape):
        return V(BLIND, None, blind or {"?"})
    return shape[position]


def product(parts: list) -> V:
    """C * H * W of a shape, as a V."""
    value = 1
    for p in parts:
        value = BLIND if value is BLIND or p.value is BLIND else value * p.value
    if all(p.const for p in parts):
        return V(value)
    if any(p.code is None and not p.const for p in parts):
        return opaque(value, *parts)
    tree = None
    for p in parts:
        tree = p.tree() if tree is None else ("b", "*", tree, p.tree())
    return V(value, tree, frozenset().union(*(p.deps for p in parts)))


def total(parts: list) -> V:
    """The sum of several V (concat's channels)."""
    value = 0
    for p in parts:
        value = BLIND if value is BLIND or p.value is BLIND else value + p.value
    if all(p.const for p in parts):
        return V(value)
    if any(p.code is None and not p.const for p in parts):
        return opaque(value, *parts)
    terms: dict = {}  # like terms collected: `in_channels + 6 * growth`, not `+ growth` six times
    constant = 0
    for p in parts:
        for term in _addends(p.tree()):
            coefficient, base = _scaled(term)
            if base[0] == "l" and isinstance(base[1], int) and not isinstance(base[1], bool):
                constant += coefficient * base[1]
            else:
                terms[base] = terms.get(base, 0) + coefficient
    tree = None
    for base, coefficient in terms.items():
        term = base if coefficient == 1 else ("b", "*", ("l", coefficient), base)
        tree = term if tree is None else ("b", "+", tree, term)
    if constant or tree is None:
        tree = ("l", constant) if tree is None else ("b", "+", tree, ("l", constant))
    return V(value, tree, frozenset().union(*(p.deps for p in parts)))


def _addends(tree) -> list:
    if tree[0] == "b" and tree[1] == "+":
        return _addends(tree[2]) + _addends(tree[3])
    return [tree]


def _scaled(tree):
    if tree[0] == "b" and tree[1] == "*" and tree[2][0] == "l" and isinstance(tree[2][1], int):
        return tree[2][1], tree[3]
    return 1, tree


def substitute(tree, mapping: dict):
    """`tree` with names replaced by trees (a child block's output size in its caller's terms)."""
    if tree[0] == "n":
        return mapping.get(tree[1], tree)
    if tree[0] in ("l", "raw"):
        return tree
    if tree[0] == "b":
        return ("b", tree[1], substitute(tree[2], mapping), substitute(tree[3], mapping))
    if tree[0] == "u":
        return ("u", tree[1], substitute(tree[2], mapping))
    if tree[0] == "i":
        return ("i", substitute(tree[1], mapping), substitute(tree[2], mapping))
    if tree[0] == "c":
        return ("c", tree[1], [substitute(a, mapping) for a in tree[2]])
    if tree[0] == "t":
        return ("t", [substitute(a, mapping) for a in tree[1]])
    if tree[0] == "?":
        test = fold(substitute(tree[1], mapping))
        if test[0] == "l":  # known once the caller's arguments are in: the branch it takes
            return substitute(tree[2] if test[1] else tree[3], mapping)
        return ("?", test, substitute(tree[2], mapping), substitute(tree[3], mapping))
    return None


_FOLD = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
         "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
         "and": lambda a, b: a and b, "or": lambda a, b: a or b, "is": lambda a, b: a is b,
         "is not": lambda a, b: a is not b}


def fold(tree):
    """A condition with literals only, as its literal (`2 == 1` -> False); else the tree."""
    if tree[0] == "b" and tree[1] in _FOLD:
        left, right = fold(tree[2]), fold(tree[3])
        if left[0] == "l" and right[0] == "l":
            return ("l", _FOLD[tree[1]](left[1], right[1]))
        return ("b", tree[1], left, right)
    if tree[0] == "u" and tree[1].strip() == "not":
        operand = fold(tree[2])
        return ("l", not operand[1]) if operand[0] == "l" else ("u", tree[1], operand)
    return tree


def names_in(tree) -> set:
    if tree is None:
        return set()
    if tree[0] == "n":
        return {tree[1]}
    if tree[0] in ("l", "raw"):
        return set()
    if tree[0] == "b":
        return names_in(tree[2]) | names_in(tree[3])
    if tree[0] == "u":
        return names_in(tree[2])
    if tree[0] == "i":
        return names_in(tree[1]) | names_in(tree[2])
    if tree[0] == "c":
        return set().union(*(names_in(a) for a in tree[2])) if tree[2] else set()
    if tree[0] == "t":
        return set().union(*(names_in(a) for a in tree[1])) if tree[1] else set()
    if tree[0] == "a":
        return names_in(tree[1])
    if tree[0] == "?":
        return names_in(tree[1]) | names_in(tree[2]) | names_in(tree[3])
    return set()
