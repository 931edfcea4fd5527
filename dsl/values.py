"""The language's values as .cnn source writes them, and the bare words that are values.

Values are int, float, bool, str and tuples of values (`[1, 2]` and `3x3` are both tuples). This
module sits below both the evaluator (dsl/expressions.py) and the op table (dsl/ops.py), which
each need to print values and to know the bare words, so neither imports the other.
"""
from __future__ import annotations

# Bare words that some arguments accept as values: `pad=same`, `avgpool(global)`, `mode=bilinear`.
# An expression that names one evaluates to the word itself (a string).
WORDS = frozenset({"same", "valid", "tf_same", "global", "nearest", "bilinear", "row", "batch"})


def show(value, limit: int = 120) -> str:
    """A value as .cnn source writes it, cut short with `...` after about `limit` characters."""
    out: list[str] = []
    size, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            text = str(item)
        elif isinstance(item, tuple):
            text = "["
            stack.append(_Text("]"))
            for position in range(min(len(item), limit) - 1, -1, -1):  # more would not be shown
                stack.append(item[position])
                if position:
                    stack.append(_Text(", "))
        else:
            text = _show_atom(item)
        out.append(text)
        size += len(text)
        if size > limit:
            return "".join(out)[:limit] + "..."
    return "".join(out)


class _Text(str):
    """Punctuation on show's work stack (a plain str there is a value)."""


def _show_atom(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def type_name(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    return {int: "integer", float: "number", str: "string", tuple: "list"}.get(type(value), type(value).__name__)
