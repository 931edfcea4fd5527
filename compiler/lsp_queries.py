"""Hover, definitions, references, completion and symbols over an Analysis (compiler/lsp_analysis.py).

Positions here are the compiler's: 1-based lines and columns (characters). compiler/lsp.py converts
to and from the editor's units.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from cnnc.dsl import ast
from cnnc.dsl.ops import LAYER_OPS, OPS, REQUIRED, WORDS

from .lsp_analysis import Analysis, walk
from .summary import rf_text, shape_text

KEYWORDS = ("block", "network", "input", "output", "import", "init", "repeat", "for", "in", "if", "else",
            "concat", "add", "mul", "group", "true", "false", "and", "or", "not")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Place:
    """A location: a file (absolute or as given) and a 1-based range."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int


def _place(span, default_path: str) -> Place:
    path = span.path if span.source is not None else default_path
    return Place(path, span.line, span.column, span.end_line, span.end_column)


def _contains(span, line: int, column: int) -> bool:
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def word_at(text: str, line: int, column: int) -> tuple[str, int, str]:
    """(the identifier under the cursor, its 1-based start column, the character before it)."""
    lines = text.split("\n")
    row = lines[line - 1] if 0 < line <= len(lines) else ""
    for match in _WORD.finditer(row):
        if match.start() + 1 <= column <= match.end() + 1:
            before = row[match.start() - 1] if match.start() else ""
            return match.group(), match.start() + 1, before
    return "", column, ""


# ---- definitions and references -----------------------------------------------------------------

def _definition_at(a: Analysis, line: int, column: int):
    if a.module is None:
        return None
    for definition in (*a.module.blocks, *a.module.networks):
        if definition.span.source is not None and _contains(definition.span, line, column):
            return definition
    return None


def _binds(a: Analysis, definition, name: str) -> list[Place]:
    """Where `name` is bound (`-> name`, `input name:`) inside a definition."""
    places = []
    lines = a.text.split("\n")
    for node in walk(definition.body):
        if isinstance(node, ast.Tap) and node.name == name:
            places.append(_place(node.span, a.path))
        elif isinstance(node, ast.Statement) and node.bind == name:
            row = lines[node.span.end_line - 1]
            at = row.rfind(name, 0, node.span.end_column - 1)
            places.append(Place(a.path, node.span.end_line, at + 1, node.span.end_line, at + 1 + len(name)))
        elif isinstance(node, ast.InputDecl) and node.name == name:
            places.append(_place(node.span, a.path))
    return places


def definition(a: Analysis, line: int, column: int) -> list[Place]:
    if a.module is None:
        return []
    for item in a.module.imports:
        if _contains(item.span, line, column):
            target = os.path.normpath(os.path.join(os.path.dirname(a.path), item.path))
            return [Place(os.path.abspath(target), 1, 1, 1, 1)] if os.path.isfile(target) else []
    word, _, before = word_at(a.text, line, column)
    if not word:
        return []
    if before == "@":
        enclosing = _definition_at(a, line, column)
        return _binds(a, enclosing, word) if enclosing is not None else []
    block = a.program.blocks.get(word) if a.program is not None else None
    if block is not None:
        return [_place(block.name_span, a.path)]
    network = a.program.networks.get(word) if a.program is not None else None
    return [_place(network.name_span, a.path)] if network is not None else []


def _calls(a: Analysis, name: str) -> list[ast.Call]:
    if a.module is None:
        return []
    return [node for definition in (*a.module.blocks, *a.module.networks) for node in walk(definition.body)
            if isinstance(node, ast.Call) and node.name == name]


def references(a: Analysis, line: int, column: int, include_declaration: bool) -> list[Place]:
    word, _, _ = word_at(a.text, line, column)
    block = a.program.blocks.get(word) if a.program is not None else None
    if block is None:
        return []
    places = [_place(call.name_span, a.path) for call in _calls(a, word)]
    if include_declaration:
        places.insert(0, _place(block.name_span, a.path))
    return places


# ---- hover --------------------------------------------------------------------------------------

def signature(name: str, a: Analysis | None = None) -> str:
    if name in OPS:
        return f"{name}(" + ", ".join(arg.name if arg.default is REQUIRED else f"{arg.name}={_show(arg.default)}"
                                     for arg in OPS[name].args) + ")"
    block = a.program.blocks.get(name) if a is not None and a.program is not None else None
    if block is None:
        return name
    params = ", ".join(p.name if p.default is None else f"{p.name} = {_expr_text(a, p.default)}"
                       for p in block.params)
    return f"block {name}({params})"


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _expr_text(a: Analysis, expr) -> str:
    span = expr.span  # possibly in an imported file: read its own source
    if span.source is None or span.line != span.end_line:
        return "..."
    return span.source.line(span.line)[span.column - 1:span.end_column - 1]


def hover(a: Analysis, line: int, column: int) -> tuple[str, Place] | None:
    """Markdown for the thing under the cursor, and the range it covers."""
    word, start, before = word_at(a.text, line, column)
    if not word or before == "@":
        return None
    where = Place(a.path, line, start, line, start + len(word))
    call = next((c for c in _all_calls(a) if _contains(c.name_span, line, column)), None)
    parts = []
    if word in OPS and (call is not None or word in LAYER_OPS):
        parts.append(f"```cnn\n{signature(word)}\n```\n{OPS[word].doc}")
    elif a.program is not None and word in a.program.blocks:
        uses = _calls(a, word)
        lines = ", ".join(str(c.name_span.line) for c in uses[:12]) + (", ..." if len(uses) > 12 else "")
        parts.append(f"```cnn\n{signature(word, a)}\n```\n" +
                     (f"used {len(uses)} time{'s' if len(uses) != 1 else ''} in this file (lines {lines})"
                      if uses else "not used in this file"))
    else:
        return None
    if call is not None:
        parts += _arithmetic(a, call) + _instances(a, call)
    return "\n\n".join(parts), where


def _arithmetic(a: Analysis, call: ast.Call) -> list[str]:
    """`cnnc explain`'s figures for the first layer this call made (the formulas behind the table)."""
    from .explain import explain_layer

    if call.name not in OPS:
        return []
    for graph in a.graphs.values():
        for path, data in graph.nodes(data=True):
            if _same(data["span"], call):
                return [f"```text\n{explain_layer(graph, path).rstrip()}\n```"]
    return []


def _all_calls(a: Analysis):
    if a.module is None:
        return []
    return [node for definition in (*a.module.blocks, *a.module.networks) for node in walk(definition.body)
            if isinstance(node, ast.Call)]


def _same(span, call) -> bool:
    return span.line == call.span.line and span.column == call.span.column and span.path == call.span.path


def _instances(a: Analysis, call: ast.Call) -> list[str]:
    """What the elaborated networks made of this call: layers, or block instances (aggregated)."""
    rows = []
    for name, graph in a.graphs.items():
        if call.name in OPS:
            for path, data in graph.nodes(data=True):
                if _same(data["span"], call):
                    rows.append((path, data["shape"], data["params"], data["macs"], data["rf"]))
            continue
        instances: dict[str, list] = {}
        for path, data in graph.nodes(data=True):
            for entry in data.get("scope", ()):
                if entry.block == call.name and _same(entry.span, call):
                    instances.setdefault(entry.path, []).append(data)
        for path, members in instances.items():
            last = members[-1]
            rows.append((path, last["shape"], sum(m["params"] for m in members),
                         sum(m["macs"] for m in members), last["rf"]))
    if not rows:
        return []
    table = ["| path | output | params | MACs | RF |", "|---|---|---|---|---|"]
    for path, shape, params, macs, rf in rows[:16]:
        table.append(f"| `{path}` | {shape_text(shape)} | {params:,} | {macs:,} | {rf_text(rf)} |")
    if len(rows) > 16:
        table.append(f"| ... {len(rows) - 16} more | | | | |")
    return ["\n".join(table)]


# ---- completion ---------------------------------------------------------------------------------

@dataclass
class Item:
    label: str
    kind: str          # "op" | "block" | "argument" | "parameter" | "keyword" | "word"
    detail: str = ""
    insert: str | None = None
    doc: str = ""


def completion(a: Analysis, line: int, column: int) -> list[Item]:
    prefix = _offset(a.text, line, column)
    text = a.text[:prefix]
    callee = _open_call(text)
    items = [Item(p, "parameter", "parameter") for p in _params_in_scope(text)]
    if callee is not None:
        if callee in OPS:
            items += [Item(f"{arg.name}=", "argument", "required" if arg.default is REQUIRED
                           else f"default {_show(arg.default)}", doc=OPS[callee].doc) for arg in OPS[callee].args]
        elif a.program is not None and callee in a.program.blocks:
            items += [Item(f"{p.name}=", "argument", "required" if p.default is None
                           else f"default {_expr_text(a, p.default)}") for p in a.program.blocks[callee].params]
        items += [Item(word, "word") for word in sorted(WORDS)] + [Item(w, "keyword") for w in ("true", "false")]
        return items
    items += [Item(name, "op", signature(name), doc=OPS[name].doc) for name in sorted(LAYER_OPS)]
    blocks = {name: signature(name, a) for name in a.program.blocks} if a.program is not None else {}
    for header in re.finditer(r"^block\s+([A-Za-z_]\w*)\s*\(([^)]*)\)", a.text, re.M):  # blocks being typed
        params = ", ".join(" ".join(p.split()).replace(" =", " =").strip() for p in header.group(2).split(","))
        blocks.setdefault(header.group(1), f"block {header.group(1)}({params})")
    items += [Item(name, "block", detail) for name, detail in sorted(blocks.items())]
    items += [Item(word, "keyword") for word in KEYWORDS]
    return items


def _offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(row) + 1 for row in lines[:line - 1]) + column - 1


def _open_call(text: str) -> str | None:
    """The name before the innermost `(` still open at the end of `text` (comments ignored)."""
    depth = 0
    code = re.sub(r"#[^\n]*", "", text)
    code = re.sub(r'"[^"\n]*"', '""', code)
    for index in range(len(code) - 1, -1, -1):
        char = code[index]
        if char in ")]":
            depth += 1
        elif char in "([":
            if depth == 0:
                if char == "[":
                    continue
                match = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", code[:index])
                return match.group(1) if match else None
            depth -= 1
        elif char in "{}" and depth == 0:
            return None
    return None


def _params_in_scope(text: str) -> list[str]:
    """Parameters of the definition the cursor is in, and the variables of enclosing `for`s."""
    headers = list(re.finditer(r"^(?:block|network)\s+[A-Za-z_]\w*\s*(?:\(([^)]*)\))?", text, re.M))
    if not headers:
        return []
    header = headers[-1]
    names = [re.match(r"\s*([A-Za-z_]\w*)", p).group(1) for p in (header.group(1) or "").split(",")
             if re.match(r"\s*[A-Za-z_]", p)]
    for loop in re.finditer(r"\bfor\s+([A-Za-z_][\w\s,]*?)\s+in\b", text[header.end():]):
        names += [n.strip() for n in loop.group(1).split(",") if n.strip()]
    return list(dict.fromkeys(names))


# ---- symbols ------------------------------------------------------------------------------------

@dataclass
class Symbol:
    name: str
    kind: str          # "block" | "network" | "layer"
    detail: str
    place: Place
    selection: Place
    children: list


def symbols(a: Analysis) -> list[Symbol]:
    if a.module is None:
        return []
    out = []
    for definition, kind in [(b, "block") for b in a.module.blocks] + [(n, "network") for n in a.module.networks]:
        children = []
        for node in walk(definition.body):
            if isinstance(node, (ast.Statement, ast.Branch)) and node.label is not None:
                label = node.label
                if isinstance(label, ast.Label):  # quoted or computed: named by its source text
                    span = label.span
                    start = Place(a.path, span.line, span.column, span.end_line, span.end_column)
                    label = span.source.line(span.line)[span.column - 1:span.end_column - 1] \
                        if span.line == span.end_line else "(label)"
                else:
                    start = Place(a.path, node.span.line, node.span.column, node.span.line,
                                  node.span.column + len(label))
                detail = node.item.name if isinstance(node.item, ast.Call) else type(node.item).__name__.lower()
                children.append(Symbol(label, "layer", detail, _place(node.span, a.path), start, []))
        detail = signature(definition.name, a) if kind == "block" else "network"
        out.append(Symbol(definition.name, kind, detail, _place(definition.span, a.path),
                          _place(definition.name_span, a.path), children))
    return out
