"""The line model of `cnnc fmt` (dsl/fmt.py) and its layout: tokens, comments and lines in, the
formatted text and a line map out. Spacing between tokens, indentation (nesting and bracket
continuations) and aligned tables (the rule in dsl/fmt.py's docstring) are decided here; which
tokens go on which line is decided by dsl/fmt.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")", "]", "}"}
ENDERS = {"NAME", "INT", "FLOAT", "DIMS", "STRING"}
NUMBERS = {"INT", "FLOAT", "DIMS"}


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


# ---- spacing and alignment ----------------------------------------------------------------------

def space(prev: Tok | None, tok: Tok) -> str:
    if prev is None:
        return ""
    p, c = prev.value, tok.value
    if c in (",", ";", ")", "]", ":", "."):
        return ""
    if p in ("(", "[", "@", "."):
        return ""
    if c == "(" and prev.type == "NAME":
        return ""
    if c == "[" and (prev.type in ENDERS or p in (")", "]")):
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


def render(lines: list[Line], source: str) -> tuple[str, dict[tuple[int, int], int]]:
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
        while k < len(toks) and toks[k].value in CLOSERS and stack:
            stack.pop()
            k += 1
        owner = _body(stack)  # continuation lines belong to the run of their statement's body
        item.run = (owner, blank_count.get(owner, 0))
        item.opener = stack[-1] if stack else None
        for position, tok in enumerate(toks[k:], k):
            if tok.value in OPENERS:
                visual = tok.value != "{" and position + 1 < len(toks)
                stack.append([tok, index, visual, position])
            elif tok.value in CLOSERS and stack:
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
        if tok.value in OPENERS:
            depth += 1
        elif tok.value in CLOSERS:
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
            current += space(prev, tok)
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
        if value in OPENERS:
            depth += 1
        elif value in CLOSERS:
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
        width = sum(len(t.value) for t in cell) + sum(len(space(a, b)) for a, b in zip(cell, cell[1:]))
        numeric = all(t.type in NUMBERS or (t.value == "-" and t.unary) for t in cell)
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
        depth += tok.value in OPENERS
        depth -= tok.value in CLOSERS
        prev = toks[position - 1] if position else None
        if tok.value != "[" or (prev is not None and (prev.type in ENDERS or prev.value in (")", "]"))):
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
            width = sum(len(t.value) for t in cell) + sum(len(space(a, b)) for a, b in zip(cell, cell[1:]))
            numeric = all(t.type in NUMBERS or (t.value == "-" and t.unary) for t in cell)
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
            if tok.value in OPENERS:
                columns[id(tok)] = at + 1
            if tok.branch_head:
                columns[id(tok)] = at
            search = at + len(tok.value)
    return changed
