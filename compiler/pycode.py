"""Python expressions as small trees, printed with the fewest parentheses, and lines formatted the
way `ruff format` (Black) formats them, so that generated files pass `ruff format --check`.

An expression is a tuple: ("n", name), ("l", value), ("b", op, left, right), ("u", op, operand),
("i", target, index), ("c", function, args, kwargs), ("t", items), ("a", target, attribute), or
("?", test, then, otherwise) for `then if test else otherwise`, or
("raw", code) for code written elsewhere (a literal constant's name, a call built by pyops).
"""
from __future__ import annotations

import math

LINE = 88
INDENT = "    "

_PREC = {"or": 10, "and": 15, "not ": 20, "==": 30, "!=": 30, "<": 30, "<=": 30, ">": 30, ">=": 30,
         "is": 30, "is not": 30, "+": 50, "-": 50, "*": 60, "/": 60, "//": 60, "%": 60, "neg": 70}


def literal(value) -> str:
    """A value as Python source: double-quoted strings, non-finite floats as float("inf")."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return 'float("nan")'
        if math.isinf(value):
            return 'float("inf")' if value > 0 else '-float("inf")'
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (tuple, list)):
        items = [literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    raise TypeError(f"no literal for {type(value).__name__}")


def _string(text: str) -> str:
    code = repr(text)
    if code.startswith("'") and '"' not in text and "'" not in text:
        return '"' + code[1:-1] + '"'
    return code


def _prec(tree) -> int:
    kind = tree[0]
    if kind == "?":
        return 5
    if kind == "b":
        return _PREC[tree[1]]
    if kind == "u":
        return _PREC["neg" if tree[1] == "-" else "not "]
    if kind == "l" and isinstance(tree[1], (int, float)) and not isinstance(tree[1], bool) and (
            tree[1] < 0 or (isinstance(tree[1], float) and math.isinf(tree[1]) and tree[1] < 0)):
        return _PREC["neg"]
    return 100


def show(tree) -> str:
    """Source text of an expression tree."""
    kind = tree[0]
    if kind == "n" or kind == "raw":
        return tree[1]
    if kind == "l":
        return literal(tree[1])
    if kind == "b" and tree[1] == "+":
        tree = _collect(tree)
        if tree[0] != "b" or tree[1] != "+":
            return show(tree)
    if kind == "b":
        op, prec = tree[1], _PREC[tree[1]]
        right_min = prec + 1 if prec >= 50 or prec == 30 else prec
        left_min = prec + 1 if prec == 30 else prec
        return f"{_wrap(tree[2], left_min)} {op} {_wrap(tree[3], right_min)}"
    if kind == "u":
        return f"{tree[1]}{_wrap(tree[2], _prec(tree))}"
    if kind == "?":
        return f"{_wrap(tree[2], 6)} if {_wrap(tree[1], 6)} else {_wrap(tree[3], 5)}"
    if kind == "i":
        return f"{_wrap(tree[1], 100)}[{show(tree[2])}]"
    if kind == "a":
        return f"{_wrap(tree[1], 100)}.{tree[2]}"
    if kind == "c":
        args = [show(a) for a in tree[2]] + [f"{k}={show(v)}" for k, v in (tree[3] if len(tree) > 3 else ())]
        return f"{tree[1]}({', '.join(args)})"
    if kind == "t":
        items = [show(i) for i in tree[1]]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    raise AssertionError(kind)


def _collect(tree):
    """`a + b + b` as `a + 2 * b`: like terms of a sum, in order of first appearance."""
    terms: dict = {}
    trees: dict = {}
    stack, addends = [tree], []
    while stack:
        t = stack.pop()
        if t[0] == "b" and t[1] == "+":
            stack += [t[3], t[2]]
        else:
            addends.append(t)
    for t in addends:
        k, base = 1, t
        if t[0] == "b" and t[1] == "*" and t[2][0] == "l" and type(t[2][1]) is int:
            k, base = t[2][1], t[3]
        key = show(base)
        terms[key] = terms.get(key, 0) + k
        trees.setdefault(key, base)
    out = None
    for key, k in terms.items():
        term = trees[key] if k == 1 else ("b", "*", ("l", k), trees[key])
        out = term if out is None else ("b", "+", out, term)
    if len(terms) == len(addends):
        return tree
    return out


def _wrap(tree, minimum: int) -> str:
    text = show(tree)
    return f"({text})" if _prec(tree) < minimum else text


# ---- Black-style line splitting ---------------------------------------------------------------

def _split_args(text: str) -> tuple[str, list[str], str] | None:
    """`head(a, b)tail` split at the last top-level bracket pair: (head + "(", [a, b], ")" + tail)."""
    depth, close, opening = 0, None, None
    in_string = None
    positions = []
    for i, ch in enumerate(text):
        if in_string:
            if ch == "\\":
                continue
            if ch == in_string and text[i - 1] != "\\":
                in_string = None
            continue
        if ch in "\"'":
            in_string = ch
        elif ch in "([{":
            positions.append(i)
            depth += 1
        elif ch in ")]}":
            depth -= 1
            start = positions.pop()
            if depth == 0:
                opening, close = start, i
    if close is None or close - opening <= 1:
        return None
    inner = text[opening + 1:close]
    items, depth, current, in_string = [], 0, "", None
    for ch in inner:
        if in_string:
            current += ch
            if ch == in_string and not current.endswith("\\" + ch):
                in_string = None
            continue
        if ch in "\"'":
            in_string = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        items.append(current.strip())
    return text[:opening + 1], items, text[close:]


def format_line(text: str, depth: int) -> list[str]:
    """One logical line at `depth` indentation, split as ruff format would when it is too long."""
    pad = INDENT * depth
    if len(pad) + len(text) <= LINE:
        return [pad + text]
    parts = _split_args(text)
    if parts is None:
        return [pad + text]
    head, items, tail = parts
    body = ", ".join(items)
    single_tuple = head.endswith("(") and len(items) == 1 and text[len(head) + len(items[0]):].startswith(",")
    if len(items) == 1 and not single_tuple:
        return [pad + head] + format_line(items[0], depth + 1) + [pad + tail]
    if len(INDENT * (depth + 1)) + len(body) <= LINE and not single_tuple:
        return [pad + head, INDENT * (depth + 1) + body, pad + tail]
    lines = [pad + head]
    for item in items:
        lines += format_line(item + ",", depth + 1)
    return lines + [pad + tail]
