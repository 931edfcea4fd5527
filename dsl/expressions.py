"""Our own evaluator for the integer/boolean expressions of .cnn files. Nothing is ever exec'd.

Values are int, float, bool, str and tuples of values (`[1, 2]` and `3x3` are both tuples).
"""
from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import Callable, Mapping

from . import ast
from .diagnostics import LimitError, NameError_, TypeError_, closest
from .limits import Limits
from .values import WORDS, show, type_name


class Budget:
    """The limits of one compilation and the expression work it has left, in list items and string
    characters that expressions build: every operation on a value costs at most its size, so charging
    each result's size bounds the total time (and the memory of the values alive at once). One budget
    serves a whole build: network parameters, `--set` and `--input` values, elaboration and lint."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.work = self.limits.max_work

    def charge(self, cost: int, expr: ast.Expr) -> None:
        self.work -= cost
        if self.work < 0:
            raise LimitError("the expressions of this network build too many list items and characters",
                             expr.span, hint="raise the limit with --limit max_work=N (Limits.max_work in Python)")


_IN_ATTRS = {"channels": 0, "c": 0, "h": 1, "height": 1, "w": 2, "width": 2}


@dataclass
class Env:
    variables: Mapping[str, object]
    in_shape: tuple[int, ...] | None  # the shape flowing into the statement, for `in.channels`
    budget: Budget = field(default_factory=Budget)  # share the build's budget; a fresh one is a fresh limit


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _checked(value, expr: ast.Expr, budget: Budget):
    limits = budget.limits
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > limits.max_int:
        digits = len(str(abs(value))) if abs(value).bit_length() < 10_000 else f"more than {3_000:,}"
        raise LimitError(f"integer overflow: the result has {digits} digits", expr.span,
                         hint=f"values are limited to +-{limits.max_int:,} (Limits.max_int)")
    built = not isinstance(expr, (ast.Name, ast.Index))  # a new value, not one looked up
    if isinstance(value, tuple) and built:
        budget.charge(_weigh(value, expr, limits), expr)
    elif isinstance(value, str):
        if len(value) > limits.max_list:
            raise LimitError(f"a string of {len(value):,} characters is too long (limit {limits.max_list:,})",
                             expr.span)
        budget.charge(len(value) if built else 0, expr)
    return value


def _weigh(value: tuple, expr: ast.Expr, limits: Limits) -> int:
    """The items of a list at every level (a shared sub-list counts each time it appears)."""
    total, stack = 0, [(value, 1)]
    while stack:
        items, depth = stack.pop()
        total += len(items)
        if total > limits.max_list:
            raise LimitError(f"a list of more than {limits.max_list:,} items (nested lists included) is too long",
                             expr.span)
        if depth > limits.max_list_depth:
            raise LimitError(f"lists nest more than {limits.max_list_depth} deep", expr.span)
        stack.extend((item, depth + 1) for item in items if isinstance(item, tuple))
    return total


def _arith(op: str, left, right, expr: ast.BinOp, budget: Budget):
    if op == "+" and isinstance(left, tuple) and isinstance(right, tuple):
        return left + right
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if op == "*" and isinstance(left, tuple) and _int(right):
        _size_guard(len(left) * right, expr, budget.limits)
        return left * right
    if not (_number(left) and _number(right)):
        raise TypeError_(f"cannot apply `{op}` to {type_name(left)} {show(left)} and "
                         f"{type_name(right)} {show(right)}", expr.span)
    if op in ("/", "//", "%") and right == 0:
        raise TypeError_("division by zero", expr.right.span)
    if op == "/":
        return left / right
    return {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
            "//": lambda: left // right, "%": lambda: left % right}[op]()


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _size_guard(n: int, expr: ast.Expr, limits: Limits) -> None:
    if n > limits.max_list:
        raise LimitError(f"list of {n} items is too long (limit {limits.max_list})", expr.span)


def _compare(op: str, left, right, expr: ast.Compare, budget: Budget) -> bool:
    if isinstance(left, tuple) and isinstance(right, tuple):  # comparing lists costs their size
        budget.charge(_weigh(left, expr, budget.limits), expr)
    if op == "==":
        return left == right and type_name(left) == type_name(right) or (_number(left) and _number(right) and left == right)
    if op == "!=":
        return not _compare("==", left, right, expr, budget)
    if not (_number(left) and _number(right)):
        raise TypeError_(f"cannot compare {type_name(left)} {show(left)} with {type_name(right)} "
                         f"{show(right)} using `{op}`", expr.span)
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _bool(value, expr: ast.Expr, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError_(f"{what} must be true or false, got {type_name(value)} {show(value)}", expr.span,
                         hint="compare explicitly, e.g. `stride != 1`")
    return value


def _range(args: list, expr: ast.FuncCall, budget: Budget):
    if not (1 <= len(args) <= 3) or not all(_int(a) for a in args):
        raise TypeError_("range takes one to three integers", expr.span)
    if len(args) == 3 and args[2] == 0:
        raise TypeError_("range step cannot be zero", expr.span)
    start, stop, step = (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) == 3 else 1)
    count = -(-(stop - start) // step) if step > 0 else -(-(start - stop) // -step)
    _size_guard(max(0, count), expr, budget.limits)  # before building it; len(range) overflows past 2**63
    return tuple(range(start, stop, step))


def _minmax(fn):
    def call(args: list, expr: ast.FuncCall, budget: Budget):
        items = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
        budget.charge(len(items), expr)
        if not items or not all(_number(v) for v in items):
            raise TypeError_(f"{expr.name} takes numbers or one non-empty list of numbers", expr.span)
        return fn(items)
    return call


def _len(args: list, expr: ast.FuncCall, budget: Budget):
    if len(args) != 1 or not isinstance(args[0], (tuple, str)):
        raise TypeError_("len takes one list or string", expr.span)
    return len(args[0])


def _abs(args: list, expr: ast.FuncCall, budget: Budget):
    if len(args) != 1 or not _number(args[0]):
        raise TypeError_("abs takes one number", expr.span)
    return abs(args[0])


def _str(args: list, expr: ast.FuncCall, budget: Budget):
    if len(args) != 1 or not (_int(args[0]) or isinstance(args[0], str)):
        raise TypeError_("str takes one integer or string (for labels: \"layer\" + str(i))", expr.span)
    return str(args[0])


def _rounding(name: str, fn):
    def call(args: list, expr: ast.FuncCall, budget: Budget):
        if len(args) != 1 or not _number(args[0]):
            raise TypeError_(f"{name} takes one number", expr.span)
        value = args[0]
        if isinstance(value, float) and not math.isfinite(value):
            raise TypeError_(f"{name} of {show(value)}", expr.span)
        return fn(value)  # evaluate() then checks the integer's magnitude
    return call


FUNCTIONS: dict[str, Callable] = {"range": _range, "min": _minmax(min), "max": _minmax(max),
                                  "len": _len, "abs": _abs, "str": _str,
                                  "int": _rounding("int", int),  # toward zero, as Python's int()
                                  "floor": _rounding("floor", math.floor), "ceil": _rounding("ceil", math.ceil)}


def evaluate(expr: ast.Expr, env: Env):
    """The value of `expr`; raises located TypeError_/NameError_/LimitError."""
    return _checked(_evaluate(expr, env), expr, env.budget)


def _evaluate(expr: ast.Expr, env: Env):
    if isinstance(expr, ast.Literal):
        return expr.value
    if isinstance(expr, ast.Name):
        return _lookup(expr, env)
    if isinstance(expr, ast.InAttr):
        return _in_attr(expr, env)
    if isinstance(expr, ast.ListExpr):
        return tuple(evaluate(item, env) for item in expr.items)
    if isinstance(expr, ast.BinOp):
        return _arith(expr.op, evaluate(expr.left, env), evaluate(expr.right, env), expr, env.budget)
    if isinstance(expr, ast.Compare):
        return _compare(expr.op, evaluate(expr.left, env), evaluate(expr.right, env), expr, env.budget)
    if isinstance(expr, ast.BoolOp):
        left = _bool(evaluate(expr.left, env), expr.left, f"the left side of `{expr.op}`")
        if (expr.op == "and" and not left) or (expr.op == "or" and left):
            return left
        return _bool(evaluate(expr.right, env), expr.right, f"the right side of `{expr.op}`")
    if isinstance(expr, ast.Not):
        return not _bool(evaluate(expr.operand, env), expr.operand, "the operand of `not`")
    if isinstance(expr, ast.Neg):
        value = evaluate(expr.operand, env)
        if not _number(value):
            raise TypeError_(f"cannot negate {type_name(value)} {show(value)}", expr.span)
        return -value
    if isinstance(expr, ast.Index):
        return _index(expr, env)
    if isinstance(expr, ast.FuncCall):
        return _call(expr, env)
    raise AssertionError(f"unknown expression {type(expr).__name__}")


def _lookup(expr: ast.Name, env: Env):
    if expr.name in env.variables:
        return env.variables[expr.name]
    if expr.name in WORDS:
        return expr.name
    suggestion = closest(expr.name, list(env.variables) + sorted(WORDS))
    known = ", ".join(sorted(env.variables)) or "none"
    hint = f"did you mean `{suggestion}`?" if suggestion else f"names in scope here: {known}"
    if expr.name in ("True", "False"):
        hint = f"true and false are lowercase: `{expr.name.lower()}`"
    raise NameError_(f"unknown name `{expr.name}`", expr.span, hint=hint)


def _in_attr(expr: ast.InAttr, env: Env):
    shape = env.in_shape
    if shape is None:
        raise NameError_("`in` is not defined here: no tensor flows into this statement", expr.span,
                         hint="declare the network's `input` first")
    if expr.attr == "shape":
        return tuple(shape)
    if expr.attr == "features":
        return _product(shape)
    if expr.attr not in _IN_ATTRS:
        suggestion = closest(expr.attr, list(_IN_ATTRS) + ["shape", "features"])
        raise NameError_(f"unknown property `in.{expr.attr}`", expr.span,
                         hint=f"did you mean `in.{suggestion}`?" if suggestion
                         else "use in.channels, in.h, in.w, in.features or in.shape")
    position = _IN_ATTRS[expr.attr]
    axes = getattr(shape, "axes", None)  # a permuted tensor (dsl.ops_args.Dims): find the axis by name
    if axes is not None:
        position = axes.index("CHW"[position])
    if position >= len(shape):
        raise TypeError_(f"`in.{expr.attr}` needs a feature map, but the input is a flat vector of {shape[0]}",
                         expr.span, hint="use in.features")
    return shape[position]


def _product(shape) -> int:
    total = 1
    for n in shape:
        total *= n
    return total


def _index(expr: ast.Index, env: Env):
    target, index = evaluate(expr.target, env), evaluate(expr.index, env)
    if not isinstance(target, (tuple, str)):
        raise TypeError_(f"cannot index {type_name(target)} {show(target)}", expr.target.span)
    if not _int(index):
        raise TypeError_(f"an index must be an integer, got {type_name(index)} {show(index)}", expr.index.span)
    if not -len(target) <= index < len(target):
        raise TypeError_(f"index {index} is out of range for a list of {len(target)}", expr.index.span)
    return target[index]


def _call(expr: ast.FuncCall, env: Env):
    function = FUNCTIONS.get(expr.name)
    if function is None:
        suggestion = closest(expr.name, FUNCTIONS)
        raise NameError_(f"unknown function `{expr.name}`", expr.span,
                         hint=f"did you mean `{suggestion}`?" if suggestion
                         else "functions: " + ", ".join(sorted(FUNCTIONS)))
    return function([evaluate(arg, env) for arg in expr.args], expr, env.budget)
