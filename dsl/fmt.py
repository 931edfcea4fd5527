"""`cnnc fmt`: the canonical layout of .cnn text.

The formatter works from the token stream of a successful parse (the real parser's tokens, typed in
context: `in` the keyword vs a name) and the comments, which are the ignored text between tokens.
It only ever changes the whitespace between tokens and drops redundant `;`; a self-check re-lexes
the output and compares token by token, so formatting cannot change what a file means.

The layout (docs/design.md has the reasons):

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
  blank line); list elements and statements after `;` over adjacent lines only. Unpadded text is never aligned, so no table appears that the author did not
  write, and an edit that widens one row re-aligns the whole column.
- `# fmt: off` ... `# fmt: on` (on lines of their own) keeps the lines between verbatim.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .diagnostics import CnnError
from .syntax import parse, parser

__all__ = ["format_source", "format_with_map", "FormatError"]

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}
_ENDERS = {"NAME", "INT", "FLOAT", "DIMS", "STRING"}
_NUMBERS = {"INT", "FLOAT", "DIMS"}
_COMMENT = re.compile(r"#[^\n]*")
_OFF, _ON = re.compile(r"#\s*fmt:\s*off\b"), re.compile(r"#\s*fmt:\s*on\b")


class FormatError(CnnError):
    """The formatter would have changed the token stream (a bug in fmt, never the input's fault)."""


@dataclass(eq=False)
class Tok:
    value: str
    type: str
    line: int       # original 1-based line
    start: int      # offset in the original text
    end: int
    unary: bool = False
    param_eq: bool = False
    statement: bool = False  # a `{` that starts a statement (a bare group), not a header's body
    first_branch: "Tok | None" = None  # on the first token of a merge's later branch
    branch_head: bool = False           # the first token of a merge's first branch


@dataclass(eq=False)
class Comment:
    text: str
    line: int
    own_line: bool  # nothing but whitespace before it on its original line


@dataclass(eq=False)
class Line:
    tokens: list = field(default_factory=list)
    comment: Comment | None = None
    raw: tuple | None = None        # a `fmt: off` region: (first, last) original lines, verbatim
    blank: bool = False


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
    out, line_map = _render(lines, text)
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
            tok.unary = prev is None or not (prev.type in _ENDERS or prev.value in (")", "]", "true", "false"))
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
    return _space(prev, tok) == "" and prev.value not in ("(", "[") and tok.value not in (")", "]")


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
            if not out or out[-1].blank or (out[-1].tokens and out[-1].tokens[-1].value in _OPENERS
                                              and not out[-1].raw):
                continue
        elif out and out[-1].blank and line.tokens and line.tokens[0].value in _CLOSERS and not line.raw:
            out.pop()
        out.append(line)
    while out and out[-1].blank:
        out.pop()
    return out


# ---- spacing and alignment ----------------------------------------------------------------------

def _space(prev: Tok | None, tok: Tok) -> str:
    if prev is None:
        return ""
    p, c = prev.value, tok.value
    if c in (",", ";", ")", "]", ":", "."):
        return ""
    if p in ("(", "[", "@", "."):
        return ""
    if c == "(" and prev.type == "NAME":
        return ""
    if c == "[" and (prev.type in _ENDERS or p in (")", "]")):
        return ""
    if p == "-" and prev.unary:
        return ""
    if c == "=" or p == "=":
        return " " if (tok if c == "=" else prev).param_eq else ""
    if p == "{" and c == "}":
        return ""
    if p == ";":
        return "  "
    return " "


@dataclass(eq=False)
class Stop:
    """A place in a line where padding may align the next cell with other lines."""

    key: tuple
    canonical: int
    cell: int           # width of the cell after the stop (used when right-aligned)
    numeric: bool
    padded: bool        # the author put more than the canonical space here
    origin: int = 0     # the cell's column in the original line
    pad: int = -1


@dataclass(eq=False)
class Laid:
    """A line broken into segments and stops: seg0 stop0 seg1 stop1 ... segN."""

    line: Line
    opener: list | None = None  # [token, line index, visual?, position]: the bracket this line is in
    run: tuple = ()
    segs: list = field(default_factory=list)
    stops: list = field(default_factory=list)
    columns: list = field(default_factory=list)  # output column of each token (after indentation)
    indent: int = 0


def _render(lines: list[Line], source: str) -> tuple[str, dict[tuple[int, int], int]]:
    laid = _structure(lines, source)
    for _ in range(6):  # visual continuation indents depend on columns, which depend on alignment
        _resolve(laid)
        if not _indent(laid):
            break
    text, line_map = [], {}
    original = source.split("\n")
    for item in laid:
        line = item.line
        number = len(text) + 1
        if line.raw:
            first, last = line.raw
            text.extend(row.rstrip() for row in original[first - 1:last or len(original)])
            for tok in line.tokens:
                line_map[_where(source, tok)] = number + tok.line - first
            continue
        text.append("" if line.blank else (" " * item.indent + _join(item)).rstrip())
        for tok in line.tokens:
            line_map[_where(source, tok)] = number
    while text and not text[-1]:
        text.pop()
    out = "\n".join(text)
    return (out + "\n" if out else ""), line_map


def _where(source: str, tok: Tok) -> tuple[int, int]:
    return tok.line, tok.start - source.rfind("\n", 0, tok.start)


def _join(item: Laid) -> str:
    parts = [item.segs[0]]
    for stop, seg in zip(item.stops, item.segs[1:]):
        parts.append(" " * (stop.pad if stop.pad >= 0 else stop.canonical))
        parts.append(seg)
    return "".join(parts)


def _structure(lines: list[Line], source: str) -> list[Laid]:
    """Nesting levels, runs, segments and stops of every line."""
    laid: list[Laid] = []
    stack: list[list] = []  # [token, output line index, visual?]
    blank_count: dict[int, int] = {}
    for index, line in enumerate(lines):
        item = Laid(line)
        laid.append(item)
        if line.blank:
            owner = _body(stack)
            blank_count[owner] = blank_count.get(owner, 0) + 1
            continue
        toks = line.tokens
        k = 0
        while k < len(toks) and toks[k].value in _CLOSERS and stack:
            stack.pop()
            k += 1
        owner = _body(stack)  # continuation lines belong to the run of their statement's body
        item.run = (owner, blank_count.get(owner, 0))
        item.opener = stack[-1] if stack else None
        for position, tok in enumerate(toks[k:], k):
            if tok.value in _OPENERS:
                visual = tok.value != "{" and position + 1 < len(toks)
                stack.append([tok, index, visual, position])
            elif tok.value in _CLOSERS and stack:
                stack.pop()
        if not line.raw:
            _cells(item, source)
    return laid


def _body(stack: list) -> int:
    return next((id(entry[0]) for entry in reversed(stack) if entry[0].value == "{"), 0)


def _cells(item: Laid, text: str) -> None:
    line = item.line
    toks = line.tokens
    stops_at: dict[int, Stop] = {}
    if (len(toks) > 2 and toks[1].value == ":" and (toks[0].type in ("NAME", "STRING") or toks[0].value == "output")
            and toks[0].value != "input"):
        stops_at[2] = Stop(("label",), 1, 0, False, _gap_width(text, toks[1], toks[2]) > 1)
    first = 2 if 2 in stops_at else 0
    if len(toks) > first + 2 and toks[first].type == "NAME" and toks[first + 1].value == "(":
        first = _arg_cells(text, toks, first, stops_at)
    _list_cells(text, toks, first, stops_at)
    depth, lowest, statement = 0, 0, 0  # a continuation line reaches its statement's level below 0
    for position, tok in enumerate(toks):
        if tok.value in _OPENERS:
            depth += 1
        elif tok.value in _CLOSERS:
            depth -= 1
            lowest = min(lowest, depth)
        elif tok.value == ";" and depth == lowest and position + 1 < len(toks):
            statement += 1
            nxt = toks[position + 1]
            stops_at[position + 1] = Stop(("stmt", statement), 2, 0, False, _gap_width(text, tok, nxt) > 2,
                                          nxt.start - text.rfind("\n", 0, nxt.start))
    segs, stops, current, prev = [], [], "", None
    for position, tok in enumerate(toks):
        if position in stops_at:
            segs.append(current)
            stops.append(stops_at[position])
            current = ""
        else:
            current += _space(prev, tok)
        current += tok.value
        prev = tok
    if line.comment is not None:
        if toks:
            segs.append(current)
            padded = toks[-1].line == line.comment.line and _comment_gap(text, toks[-1]) > 2
            # a comment after an opening `{` speaks for the body: it is never part of a column
            key = ("comment",) if toks[-1].value != "{" else ("comment", id(line))
            stops.append(Stop(key, 2, 0, False, padded))
            current = ""
        current += line.comment.text
    segs.append(current)
    item.segs, item.stops = segs, stops


def _gap_width(text: str, a: Tok, b: Tok) -> int:
    """Characters between two tokens of the original, 0 if they were on different lines."""
    gap = text[a.end:b.start]
    return len(gap) if "\n" not in gap else 0


def _comment_gap(text: str, last: Tok) -> int:
    rest = text[last.end:last.end + 400]
    return len(rest) - len(rest.lstrip(" \t"))


def _arg_cells(text: str, toks: list[Tok], first: int, stops_at: dict) -> int:
    """Cells for the arguments of a line's first call, if it closes on the line; returns where the
    rest of the line starts."""
    callee = toks[first].value
    depth, start, j = 0, first + 2, 0
    cells = []
    for position in range(first + 1, len(toks)):
        value = toks[position].value
        if value in _OPENERS:
            depth += 1
        elif value in _CLOSERS:
            depth -= 1
            if depth == 0:
                if position > start:
                    cells.append((start, position))
                break
        elif value == "," and depth == 1:
            cells.append((start, position))
            start = position + 1
    else:
        return first  # the call continues on another line: not a row
    for j, (begin, end) in enumerate(cells):
        cell = toks[begin:end]
        width = sum(len(t.value) for t in cell) + sum(len(_space(a, b)) for a, b in zip(cell, cell[1:]))
        numeric = all(t.type in _NUMBERS or (t.value == "-" and t.unary) for t in cell)
        canonical = 0 if j == 0 else 1
        stops_at[begin] = Stop(("arg", callee, j), canonical, width, numeric,
                               _gap_width(text, toks[begin - 1], toks[begin]) > canonical)
    return position + 1


def _list_cells(text: str, toks: list[Tok], start: int, stops_at: dict) -> None:
    """Elements of the innermost list literals before the line's first `;` (rows of a table written
    as lists, e.g. MobileNetV2's [t, c, n, s] settings): cells aligned over adjacent lines."""
    ordinal, depth = 0, 0
    for position in range(start, len(toks)):
        tok = toks[position]
        if tok.value == ";" and depth <= 0:
            return
        depth += tok.value in _OPENERS
        depth -= tok.value in _CLOSERS
        prev = toks[position - 1] if position else None
        if tok.value != "[" or (prev is not None and (prev.type in _ENDERS or prev.value in (")", "]"))):
            continue
        cells, begin, inner = [], position + 1, 0
        for index in range(position + 1, len(toks)):
            value = toks[index].value
            if value in ("[", "(", "{", ";"):
                break  # not an innermost list on one line
            if value in ("]", ","):
                if index > begin:
                    cells.append((begin, index))
                begin = index + 1
                if value == "]":
                    inner = index
                    break
        if not inner:
            continue
        for j, (first, end) in enumerate(cells):
            cell = toks[first:end]
            width = sum(len(t.value) for t in cell) + sum(len(_space(a, b)) for a, b in zip(cell, cell[1:]))
            numeric = all(t.type in _NUMBERS or (t.value == "-" and t.unary) for t in cell)
            canonical = 0 if j == 0 else 1
            origin = toks[first].start - text.rfind("\n", 0, toks[first].start)
            stops_at.setdefault(first, Stop(("item", ordinal), canonical, width, numeric,
                                            _gap_width(text, toks[first - 1], toks[first]) > canonical, origin))
            ordinal += 1


def _rank(key: tuple) -> int:
    kind = key[0]
    if kind == "label":
        return 0
    if kind == "arg":
        return 1 + key[2]
    if kind == "item":
        return 5_000 + key[1]
    if kind == "stmt":
        return 10_000 + key[1]
    return 1_000_000


def _resolve(laid: list[Laid]) -> None:
    """Set every stop's padding: canonical, or aligned within its group when the author padded."""
    groups: list[list] = []
    by_key: dict[tuple, list] = {}
    open_rows: dict[tuple, list] = {}  # statements after `;`: [group, index of its last line]
    previous = -1
    for index, item in enumerate(laid):
        line = item.line
        if line.blank or line.raw:
            previous = index
            continue
        if not line.tokens:
            continue  # comment-only lines are transparent
        for stop in item.stops:
            stop.pad = -1
            key = (item.run, stop.key)
            if stop.key[0] in ("stmt", "item"):
                entry = open_rows.get(key)
                if entry is not None and (entry[1] == previous or entry[0][-1][1].origin == stop.origin):
                    entry[0].append((item, stop))
                    entry[1] = index
                else:
                    group = [(item, stop)]
                    groups.append(group)
                    open_rows[key] = [group, index]
            else:
                if key not in by_key:
                    by_key[key] = []
                    groups.append(by_key[key])
                by_key[key].append((item, stop))
        previous = index
    for members in sorted(groups, key=lambda m: _rank(m[0][1].key)):
        if len(members) < 2 or not any(stop.padded for _, stop in members):
            continue
        right = all(stop.numeric for _, stop in members)
        widths = [(item.indent + _width_before(item, stop), stop) for item, stop in members]
        target = max(prefix + stop.canonical + (stop.cell if right else 0) for prefix, stop in widths)
        for prefix, stop in widths:
            stop.pad = target - prefix - (stop.cell if right else 0)


def _width_before(item: Laid, stop: Stop) -> int:
    width = len(item.segs[0])
    for s, seg in zip(item.stops, item.segs[1:]):
        if s is stop:
            return width
        width += (s.pad if s.pad >= 0 else s.canonical) + len(seg)
    raise AssertionError("stop not in line")


def _indent(laid: list[Laid]) -> bool:
    """Set indentation (levels, or visual continuation); True if any changed."""
    changed = False
    columns: dict[int, int] = {}  # id(opening token) -> output column just after it
    for index, item in enumerate(laid):
        line = item.line
        if line.blank or line.raw:
            continue
        entry = item.opener
        bar = len(line.tokens) > 1 and line.tokens[0].value == "|"
        head = line.tokens[1].first_branch if bar else None
        if head is not None and id(head) in columns:  # `| {` under its merge's first branch
            indent = max(0, columns[id(head)] - 2)
        elif entry is None:
            indent = 0
        elif entry[2]:  # visual: just after the bracket
            indent = columns.get(id(entry[0]), laid[entry[1]].indent + 4)
        else:           # hanging: one level deeper than the line that opened it
            base = entry[1]
            while entry[0].value == "{" and laid[base].opener is not None and laid[base].opener[0].value != "{":
                base = laid[base].opener[1]  # a body: deeper than the statement's first line
            indent = laid[base].indent + 4
        if indent != item.indent:
            item.indent, changed = indent, True
        text = " " * item.indent + _join(item)
        column = item.indent
        search = 0
        for tok in line.tokens:
            at = text.find(tok.value, max(search, column))
            if tok.value in _OPENERS:
                columns[id(tok)] = at + 1
            if tok.branch_head:
                columns[id(tok)] = at
            search = at + len(tok.value)
    return changed


def _self_check(out: str, kept: list[Tok], path: str) -> None:
    after = [t.value for t in _tokens(out)] if out else []
    if after != [t.value for t in kept]:
        raise FormatError(f"{path}: the formatter would change the tokens of this file; "
                          "please report it with the file")
