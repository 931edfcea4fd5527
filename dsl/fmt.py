"""`cnnc fmt`: the canonical layout of .cnn text.

The formatter works from the token stream of a successful parse (the real parser's tokens, typed in
context: `in` the keyword vs a name) and the comments, which are the ignored text between tokens.
It only ever changes the whitespace between tokens and drops redundant `;`; a self-check re-lexes
the output and compares token by token, so formatting cannot change what a file means.

The layout (docs/design.md has the reasons; dsl/fmt_lines.py lays the lines out):

- Line breaks between statements are the author's: a row of a paper's table stays one line, and
  fmt never joins or splits statements. Statements sharing a line are separated by `;` and two
  spaces. A `;` at the end of a line, before `}`, or repeated, is dropped.
- A `{` that opens a body never starts a line; neither does `else` (unless a comment sits before
  it). A line that starts with the `|` of a merge is placed so that its branch lines up with the
  merge's first branch. A body that spans lines has its `{` last on its line and its `}` first.
- Four spaces per level of nesting. A line that continues an open `(` or `[` is indented one level
  when the bracket ends its line, and aligned just after the bracket otherwise.
- One space around binary operators, `->`, `|`, and the `=` of a parameter default; none around
  the `=` of a keyword argument, inside brackets, or after `@`, `.` and a unary `-`; one space
  after `,` and `:`. A trailing comment is two spaces after the code; its text is kept verbatim.
- At most one blank line in a row; none at the start or end of a file, after a line that opens a
  bracket, or before a line that closes one.
- Aligned tables (the rule): where the author padded a cell with more spaces than the canonical
  ones, fmt aligns that column, recomputed tight. Cells are the item after a line's label, each
  argument of the line's first call (rows calling the same layer or block; numbers right-aligned),
  each element of an innermost list literal, each statement after a `;`, and the trailing comment.
  Labels, arguments and comments align over a *run* (the lines of one body not separated by a
  blank line); list elements and statements after `;` over adjacent lines only. Unpadded text is
  never aligned, so no table appears that the author did not write, and an edit that widens one
  row re-aligns the whole column.
- `# fmt: off` ... `# fmt: on` (on lines of their own) keeps the lines between verbatim.
"""
from __future__ import annotations

import re

from .diagnostics import CnnError
from .fmt_lines import CLOSERS, ENDERS, OPENERS, Comment, Line, Tok, render, space
from .syntax import parse, parser

__all__ = ["format_source", "format_with_map", "FormatError"]

_COMMENT = re.compile(r"#[^\n]*")
_OFF, _ON = re.compile(r"#\s*fmt:\s*off\b"), re.compile(r"#\s*fmt:\s*on\b")


class FormatError(CnnError):
    """The formatter would have changed the token stream (a bug in fmt, never the input's fault)."""


def format_source(text: str, path: str = "<string>") -> str:
    """The canonical layout of `text`; raises ParseError (located) if it does not parse."""
    return format_with_map(text, path)[0]


def format_with_map(text: str, path: str = "<string>") -> tuple[str, dict[tuple[int, int], int]]:
    """The formatted text, and a map from each token's original (line, column) to its new line."""
    module = parse(text, path)  # the located syntax error, if any, before anything else
    tokens = _tokens(text)
    starts, branches = _statement_braces(module)
    by_place = {}
    for tok in tokens:
        place = (tok.line, tok.start - text.rfind("\n", 0, tok.start))
        by_place[place] = tok
        tok.statement = tok.value == "{" and place in starts
    for later, first in branches.items():  # `| branch`: the first branch of its merge
        tok = by_place.get(later)
        if tok is not None and first in by_place:
            tok.first_branch = by_place[first]
            by_place[first].branch_head = True
    items = _items(text, tokens)
    kept = [t for t in items if isinstance(t, Tok)]
    lines = _lines(items)
    out, line_map = render(lines, text)
    _self_check(out, kept, path)
    return out, line_map


# ---- tokens and comments ------------------------------------------------------------------------

def _tokens(text: str) -> list[Tok]:
    toks = []
    for token in parser().parse_interactive(text, start="start").iter_parse():
        if token.type != "$END":
            toks.append(Tok(str(token), token.type, token.line, token.start_pos, token.end_pos))
    _annotate(toks)
    return toks


def _statement_braces(module) -> tuple[set, dict]:
    """Where the unlabelled groups `{ ... }` that are statements of their own begin; and for every
    later branch of a merge, where its merge's first branch begins."""
    from . import ast

    found, branches, stack = set(), {}, [module]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Statement) and node.label is None and isinstance(node.item, ast.Seq):
            found.add((node.item.span.line, node.item.span.column))
        if isinstance(node, ast.Merge) and node.branches:
            first = node.branches[0].span
            for branch in node.branches[1:]:
                branches[(branch.span.line, branch.span.column)] = (first.line, first.column)
        for value in vars(node).values():
            if isinstance(value, ast.Node):
                stack.append(value)
            elif isinstance(value, tuple):
                stack.extend(v for v in value if isinstance(v, ast.Node))
    return found, branches


def _annotate(toks: list[Tok]) -> None:
    """Roles the spacing needs: unary minus, and the `=` of a parameter default."""
    header, depth, param_depth = False, 0, None
    prev = None
    for tok in toks:
        if tok.value == "-":
            tok.unary = prev is None or not (prev.type in ENDERS or prev.value in (")", "]", "true", "false"))
        if tok.value in ("block", "network") and tok.type != "NAME":
            header = True
        if tok.value in ("(", "["):
            depth += 1
            if header and tok.value == "(" and param_depth is None:
                param_depth = depth
        elif tok.value in (")", "]"):
            if depth == param_depth:
                param_depth, header = None, False
            depth -= 1
        elif tok.value == "{":
            header = False
        elif tok.value == "=" and param_depth is not None and depth == param_depth:
            tok.param_eq = True
        prev = tok


def _items(text: str, toks: list[Tok]) -> list:
    """Tokens, comments and newline counts in source order; redundant `;` dropped."""
    items: list = []
    position = 0
    for tok in toks + [None]:
        gap_end = tok.start if tok is not None else len(text)
        _gap(text, position, gap_end, items)
        if tok is not None:
            items.append(tok)
            position = tok.end
    return _drop_semicolons(items)


def _gap(text: str, start: int, end: int, items: list) -> None:
    gap = text[start:end]
    at = 0
    for match in _COMMENT.finditer(gap):
        newlines = gap.count("\n", at, match.start())
        if newlines:
            items.append(newlines)
        line_start = text.rfind("\n", 0, start + match.start()) + 1
        own = text[line_start:start + match.start()].strip(" \t\f\r\ufeff") == ""
        items.append(Comment(match.group().rstrip(), text.count("\n", 0, start + match.start()) + 1, own))
        at = match.end()
    newlines = gap.count("\n", at)
    if newlines:
        items.append(newlines)


def _next_code(items: list, index: int):
    """(the next token after index, whether a line break or comment comes before it)."""
    broken = False
    for item in items[index + 1:]:
        if isinstance(item, Tok):
            return item, broken
        broken = True
    return None, broken


def _drop_semicolons(items: list) -> list:
    out: list = []
    prev_code = None
    broken_before = True
    in_raw = False
    for index, item in enumerate(items):
        if isinstance(item, Comment) and item.own_line:
            in_raw = bool(_OFF.match(item.text)) or (in_raw and not _ON.match(item.text))
        if isinstance(item, Tok):
            if item.value == ";" and not in_raw:
                nxt, broken_after = _next_code(items, index)
                redundant = (prev_code is None or prev_code.value in ("{", ";") or nxt is None
                             or nxt.value in ("}", ";") or broken_before or broken_after)
                if redundant and not (nxt is not None and nxt.value == "->"):
                    continue
            prev_code, broken_before = item, False
        else:
            broken_before = True
        out.append(item)
    return out


# ---- lines --------------------------------------------------------------------------------------

def _lines(items: list) -> list[Line]:
    """Items -> lines, with the author's line breaks, the joins and splits of the layout applied."""
    items = _joins(items)
    items = _splits(items)
    lines: list[Line] = [Line()]
    raw_from = None
    depth = 0  # open ( and [: no blank line inside them
    for index, item in enumerate(items):
        if isinstance(item, Tok) and item.value in ("(", "["):
            depth += 1
        elif isinstance(item, Tok) and item.value in (")", "]"):
            depth -= 1
        line = lines[-1]
        if raw_from is not None:  # inside `fmt: off`: collect the original text later
            if isinstance(item, Comment) and item.own_line and _ON.match(item.text):
                line.raw = (raw_from, item.line)
                raw_from = None
            elif isinstance(item, Tok):
                line.tokens.append(item)
            continue
        if isinstance(item, int):
            lines.append(Line())
            if item > 1 and depth == 0:
                lines.append(Line(blank=True))
                lines.append(Line())
        elif isinstance(item, Comment):
            if item.own_line and _OFF.match(item.text) and not line.tokens:
                raw_from = item.line
                line.raw = (raw_from, None)
                continue
            if item.own_line and line.tokens:
                lines.append(Line())
            lines[-1].comment = item
        else:
            if line.comment is not None:  # a comment ends its line
                lines.append(Line())
            lines[-1].tokens.append(item)
    if raw_from is not None:
        lines[-1].raw = (raw_from, None)
    return _blank_lines([line for line in lines if line.tokens or line.comment or line.raw or line.blank])


def _joins(items: list) -> list:
    """No line starts with `{`, `else`, `|`, `,`, `=`, nor with a token glued to the one before
    (`(` of a call, `:` of a label, `.`, what follows `@` or a unary `-`): the line break before
    them is dropped, unless a comment sits there."""
    out: list = []
    prev = None
    for item in items:
        if isinstance(item, Tok):
            if out and isinstance(out[-1], int) and len(out) >= 2 and isinstance(out[-2], Tok) and _glued(prev, item):
                out.pop()
            prev = item
        out.append(item)
    return out


def _glued(prev: Tok, tok: Tok) -> bool:
    if tok.value == "{":
        return not tok.statement
    if tok.value in ("else", ",", "=", ";"):
        return True
    return space(prev, tok) == "" and prev.value not in ("(", "[") and tok.value not in (")", "]")


def _splits(items: list) -> list:
    """A `{ ... }` that spans lines: its `{` ends its line, its `}` starts one."""
    match: dict[int, int] = {}
    stack = []
    for index, item in enumerate(items):
        if isinstance(item, Tok) and item.value == "{":
            stack.append(index)
        elif isinstance(item, Tok) and item.value == "}" and stack:
            match[stack.pop()] = index
    breaks_after, breaks_before = set(), set()
    for open_, close in match.items():
        if any(isinstance(items[k], int) or (isinstance(items[k], Comment) and items[k].own_line)
               for k in range(open_ + 1, close)):
            breaks_after.add(open_)
            breaks_before.add(close)
    out: list = []
    for index, item in enumerate(items):
        if index in breaks_before and out and not isinstance(out[-1], int):
            out.append(1)
        out.append(item)
        if index in breaks_after:
            nxt = items[index + 1] if index + 1 < len(items) else None
            if isinstance(nxt, Tok):
                out.append(1)
    return out


def _blank_lines(lines: list[Line]) -> list[Line]:
    out: list[Line] = []
    for line in lines:
        if line.blank:
            if not out or out[-1].blank or (out[-1].tokens and out[-1].tokens[-1].value in OPENERS
                                              and not out[-1].raw):
                continue
        elif out and out[-1].blank and line.tokens and line.tokens[0].value in CLOSERS and not line.raw:
            out.pop()
        out.append(line)
    while out and out[-1].blank:
        out.pop()
    return out


def _self_check(out: str, kept: list[Tok], path: str) -> None:
    after = [t.value for t in _tokens(out)] if out else []
    if after != [t.value for t in kept]:
        raise FormatError(f"{path}: the formatter would change the tokens of this file; "
                          "please report it with the file")
