"""A call's arguments: which parameter each one names (`match`), a layer's arguments evaluated and
checked against its op's table entry (`layer_args`), and `trainable=`, which any call accepts
(`take_trainable`). The elaborator uses them for layers and block instances, and code generation
matches calls the same way."""
from __future__ import annotations

import dataclasses
import functools

from . import ast
from .diagnostics import NameError_, Note, Span, TypeError_, closest
from .expressions import Env, evaluate
from .ops import OPS, REQUIRED, OpProblem, coerce
from .values import show


def match(call: ast.Call, names: list[str], what: str, required: set[str],
           definition: Span | None = None, positional: int | None = None) -> dict[str, ast.Arg]:
    """Map positional and keyword arguments to parameter names. An op takes its first
    `positional` arguments by position (sizes: `conv(64, 3x3)`); tuning knobs only by name."""
    notes = (Note("defined here", definition),) if definition else ()
    given: dict[str, ast.Arg] = {}
    for position, arg in enumerate(call.args):
        if arg.name is None:
            if given and any(a.name for a in call.args[:position]):
                raise TypeError_("a positional argument follows a keyword argument", arg.span)
            if positional is not None and position >= positional and position < len(names):
                raise TypeError_(positional_message(call.name, names, positional), arg.span,
                                 hint=positional_hint(call.name, names, position, positional))
            if position >= len(names):
                raise TypeError_(f"{what} takes at most {len(names)} argument(s), got {len(call.args)}",
                                 arg.span, hint=f"its parameters: {', '.join(names) or 'none'}", notes=notes)
            name = names[position]
        else:
            name = arg.name
            if name not in names:
                suggestion = closest(name, names)
                raise NameError_(f"{what} has no argument `{name}`", arg.span, notes=notes,
                                 hint=f"did you mean `{suggestion}`?" if suggestion
                                 else f"its arguments: {', '.join(names) or 'none'}")
        if name in given:
            raise TypeError_(f"argument `{name}` is given twice", arg.span)
        given[name] = arg
    missing = [n for n in names if n in required and n not in given]
    if missing:
        raise TypeError_(f"{what} needs argument `{missing[0]}`", call.span, notes=notes,
                         hint=f"its parameters: {', '.join(names)}")
    return given


def layer_args(call: ast.Call, env: Env) -> dict:
    """A layer call's arguments, every one of its op's, evaluated in `env` and checked (`coerce`)."""
    spec = OPS[call.name]
    given = match(call, [a.name for a in spec.args], f"`{call.name}`", required={
        a.name for a in spec.args if a.default is REQUIRED}, positional=spec.positional)
    args = {}
    for arg_spec in spec.args:
        if arg_spec.name in given:
            node = given[arg_spec.name]
            try:
                args[arg_spec.name] = coerce(arg_spec.kind, evaluate(node.value, env), arg_spec.name)
            except OpProblem as problem:
                raise TypeError_(f"{call.name}: {problem.message}", node.span, hint=problem.hint) from None
        else:
            args[arg_spec.name] = default(arg_spec)
    if spec.defaults is not None:
        spec.defaults(args)
    return args


def take_trainable(call: ast.Call, names: list[str], variables, in_shape):
    """Take `trainable=true|false` off a call (any layer, any block instance that does not declare
    a parameter of that name): the call without it, and its value (None when not given)."""
    given = [a for a in call.args if a.name == "trainable"]
    if not given or "trainable" in names:
        return call, None
    value = evaluate(given[0].value, Env(variables, in_shape))
    if not isinstance(value, bool):
        raise TypeError_(f"trainable must be true or false, got {show(value)}", given[0].span)
    return dataclasses.replace(call, args=tuple(a for a in call.args if a.name != "trainable")), value


@functools.lru_cache(maxsize=None)
def default(arg_spec) -> object:
    """An argument's default in normalised form (defaults are constants: normalise each once)."""
    return coerce(arg_spec.kind, arg_spec.default, arg_spec.name)


def positional_message(op: str, names: list[str], positional: int) -> str:
    if positional == 0:
        return f"`{op}` takes no positional arguments"
    return (f"`{op}` takes at most {positional} positional argument{'s' if positional > 1 else ''} "
            f"({', '.join(names[:positional])})")


def positional_hint(op: str, names: list[str], position: int, positional: int) -> str:
    name = names[position]
    if OPS[op].family == "norm" and positional == 0:
        return f"{op} takes its channels from its input; pass {name}=... by name"
    return f"pass {name}=... by name"
