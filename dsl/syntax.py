"""Text -> AST. Builds the Lark parser once and turns Lark's errors into our ParseError."""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from . import ast
from .diagnostics import LimitError, Note, ParseError, Source, Span
from .limits import Limits

_TOKEN_NAMES = {"NAME": "a name", "INT": "an integer", "FLOAT": "a number", "DIMS": "a size like 3x3",
                "STRING": "a string", "$END": "end of file"}


def grammar_path() -> Path:
    """The grammar file, whether running from a checkout or from an installed wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_grammars" / "cnn.lark", here.parent / "grammars" / "cnn.lark"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("cnn.lark not found next to the dsl package")


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    return Lark(grammar_path().read_text(), parser="lalr", propagate_positions=True,
                maybe_placeholders=True, cache=True, start=["start", "expr"])


def parse(text: str, path: str = "<string>", limits: Limits | None = None) -> ast.Module:
    """Parse `text` into an AST module; raises ParseError with a located message."""
    return _parse(text, path, "start", limits or Limits())


def parse_expression(text: str, origin: str = "<command line>", limits: Limits | None = None) -> ast.Expr:
    """Parse one expression, e.g. the value of `--set widths=[64,128]`."""
    return _parse(text, origin, "expr", limits or Limits())


def shown_path(origin: str) -> str:
    """The name a source is reported under: a shipped network outside the working directory by its
    shipped name (`resnet50.cnn`), never by its path in site-packages; anything else as given."""
    if not origin.endswith(".cnn") or not os.path.isabs(origin):
        return origin
    from .loader import zoo_dir

    path = Path(origin)
    return path.name if path.parent == zoo_dir() else origin


def _parse(text: str, origin: str, start: str, limits: Limits):
    source = Source(shown_path(origin), text)
    _check_size(text, source, limits.max_tokens)
    try:
        tree = parser().parse(text, start=start)
    except UnexpectedInput as error:
        raise _parse_error(error, source) from None
    _check_depth(tree, source, limits.max_source_nesting)
    try:
        return _ToAst(source, limits.max_digits).transform(tree)
    except VisitError as error:  # unwrap: our own errors raised inside the transformer
        raise error.orig_exc from None


# Limits.max_source_nesting: levels of the parse tree (the zoo needs 16); Limits.max_tokens: the zoo's
# largest file has ~600, and parsing costs ~20 us each.
_TOKENISH = re.compile(r'#[^\n]*|"[^"\n]*"|[A-Za-z0-9_.]+|\S')


def _check_size(text: str, source: Source, max_tokens: int) -> None:
    """Refuse, before parsing it, a text whose parse would take seconds: count its tokens, roughly."""
    for count, match in enumerate(_TOKENISH.finditer(text), 1):
        if count > max_tokens:
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - text.rfind("\n", 0, match.start())
            raise LimitError(f"the file has more than {max_tokens:,} tokens", Span(
                source, line, column, line, column + 1),
                hint="write long sequences with `repeat` or `for`, or raise the limit with --limit max_tokens=N")


def _check_depth(tree: Tree, source: Source, max_nesting: int) -> None:
    """Refuse absurd nesting before the recursive passes (transformer, evaluator) see it."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_nesting:
            meta = node.meta
            line, column = (1, 1) if getattr(meta, "empty", True) else (meta.line, meta.column)
            raise LimitError(f"the source nests more than {max_nesting} levels deep", Span(
                source, line, column, line, column + 1),
                hint="split deeply nested braces, brackets or long chains of operators "
                     "(or raise the limit with --limit max_source_nesting=N)")
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def _integer(text: str, span: Span, max_digits: int) -> int:
    if len(text) > min(max_digits, 4000):  # Python refuses to convert more than 4,300 digits
        raise LimitError(f"an integer literal of {len(text):,} digits (the limit is {max_digits:,})", span,
                         hint="values are limited to +-2**62 (Limits.max_int)")
    return int(text)


def _describe(parser_: Lark, terminal: str) -> str:
    if terminal in _TOKEN_NAMES:
        return _TOKEN_NAMES[terminal]
    try:
        pattern = parser_.get_terminal(terminal).pattern
    except KeyError:
        return terminal
    return f"`{pattern.value}`" if pattern.type == "str" else terminal.lower()


def _expected(error: UnexpectedInput) -> str:
    expected = set(getattr(error, "expected", ()) or ())
    if {"NAME", "RBRACE", "FOR", "REPEAT"} <= expected:  # anywhere a statement may start
        return "; expected a statement or `}`"
    names = sorted({_describe(parser(), t) for t in expected})
    if not names:
        return ""
    if len(names) > 8:
        names = names[:8] + ["..."]
    return "; expected " + (names[0] if len(names) == 1 else "one of " + ", ".join(names))


def _parse_error(error: UnexpectedInput, source: Source) -> ParseError:
    line, column = max(1, error.line), max(1, error.column)
    if isinstance(error, UnexpectedCharacters):
        char = source.text[error.pos_in_stream] if error.pos_in_stream < len(source.text) else "?"
        span = Span(source, line, column, line, column + 1)
        hint = "strings use double quotes" if char == "'" else None
        return ParseError(f"unexpected character {char!r}", span, hint=hint)
    token = getattr(error, "token", None)
    if isinstance(error, UnexpectedEOF) or (isinstance(token, Token) and token.type == "$END"):
        return _eof_error(source, _expected(error))
    assert isinstance(token, Token)
    end = token.end_column if token.end_line == token.line else column + 1
    span = Span(source, line, column, line, max(end, column + 1))
    return ParseError(f"unexpected `{token.value}`{_expected(error)}", span,
                      hint=_hint_for(token, error, source.text))


_TUPLE = re.compile(r"\(\s*([0-9]+)\s*,\s*([0-9]+)\s*\)")
_CODE = re.compile(r'#[^\n]*|"[^"\n]*"|[()]')


def _hint_for(token: Token, error: UnexpectedInput, text: str) -> str | None:
    expected = set(getattr(error, "expected", ()) or ())
    before = text[:token.start_pos] if token.start_pos is not None else ""
    if token.type == "NAME" and token.value == "x":
        return "write sizes without spaces: 3x3"
    if token.value == ",":
        pair = _TUPLE.match(text, before.rfind("("))  # `(3, 3)`, Python's habit for a size
        if pair and pair.end() > token.start_pos:
            return f"write a size as `{pair[1]}x{pair[2]}`, not `{pair[0]}`"
    if token.value == "=" and "EQUAL" not in expected:
        label = re.search(r"(?:^|[\s;{}])([A-Za-z_][A-Za-z0-9_]*)\s*$", before)
        if label and "COLON" in expected:  # `conv1 = conv(...)`: a label, in Python's syntax
            rest = text[token.end_pos:].split("\n", 1)[0].split("#", 1)[0].split(";", 1)[0].strip(" \t}")
            return f"label a layer with `:`, e.g. `{label[1]}: {rest or '...'}`"
        return "compare with `==`; `=` only names an argument or a parameter default"
    if token.type in ("NAME", "INT", "DIMS") and "COMMA" in expected and _open_parens(before):
        return "separate arguments with `,`"
    return None


def _open_parens(text: str) -> int:
    """How many `(` are open at the end of `text` (comments and strings skipped)."""
    depth = 0
    for match in _CODE.finditer(text):
        if match[0] == "(":
            depth += 1
        elif match[0] == ")":
            depth = max(0, depth - 1)
    return depth


def _eof_error(source: Source, expected: str) -> ParseError:
    lines = source.lines() or [""]
    last = len(lines)
    span = Span(source, last, len(lines[-1]) + 1, last, len(lines[-1]) + 2)
    opener = _unclosed_brace(source)
    if opener:
        return ParseError("unexpected end of file; expected `}`", span,
                          notes=(Note("this `{` is never closed", opener),))
    return ParseError(f"unexpected end of file{expected}", span)


def _unclosed_brace(source: Source) -> Span | None:
    stack: list[tuple[int, int]] = []
    for number, text in enumerate(source.lines(), 1):
        code = text.split("#", 1)[0]
        for column, char in enumerate(code, 1):
            if char == "{":
                stack.append((number, column))
            elif char == "}" and stack:
                stack.pop()
    if not stack:
        return None
    line, column = stack[-1]
    return Span(source, line, column, line, column + 1)


@v_args(meta=True)
class _ToAst(Transformer):
    """Parse tree -> AST. Method names are the grammar's aliases."""

    def __init__(self, source: Source, max_digits: int):
        super().__init__()
        self.source, self.max_digits = source, max_digits

    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.source, 1, 1, 1, 1)
        return Span(self.source, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, token: Token) -> Span:
        return Span(self.source, token.line, token.column, token.end_line, token.end_column)

    # -- top level
    def module(self, meta, children):
        items = [c for c in children if c is not None and not isinstance(c, Token)]
        return ast.Module(self._span(meta),
                          tuple(i for i in items if isinstance(i, ast.Import)),
                          tuple(i for i in items if isinstance(i, ast.BlockDef)),
                          tuple(i for i in items if isinstance(i, ast.NetworkDef)))

    def import_(self, meta, children):
        return ast.Import(self._span(meta), children[0][1:-1])

    def block_def(self, meta, children):
        name, params, body = children
        return ast.BlockDef(self._span(meta), str(name), tuple(params or ()), body, self._tok(name))

    def network_def(self, meta, children):
        name, params, body = children
        return ast.NetworkDef(self._span(meta), str(name), tuple(params or ()), body, self._tok(name))

    def params(self, meta, children):
        return [c for c in children if c is not None]

    def param(self, meta, children):
        return ast.Param(self._span(meta), str(children[0]), children[1])

    # -- statements
    def seq(self, meta, children):
        return ast.Seq(self._span(meta), tuple(c for c in children if isinstance(c, ast.Node)))

    def input_decl(self, meta, children):
        name, shape = children
        return ast.InputDecl(self._span(meta), str(name) if name else None, shape)

    def output_decl(self, meta, children):
        return ast.OutputDecl(self._span(meta), str(children[0]), children[1])

    def tap(self, meta, children):
        return ast.Tap(self._span(meta), str(children[0]))

    def init_decl(self, meta, children):
        *names, scheme = children
        first, last = self._tok(names[0]), self._tok(names[-1])
        target_span = Span(self.source, first.line, first.column, last.end_line, last.end_column)
        return ast.InitDecl(self._span(meta), tuple(str(n) for n in names), scheme, target_span)

    def statement(self, meta, children):
        label, item, bind = children
        return ast.Statement(self._span(meta), label, item, bind)

    def label(self, meta, children):
        return str(children[0])

    def output_label(self, meta, children):
        return "output"

    def string_label(self, meta, children):
        token = children[0]
        return ast.Label(self._span(meta), ast.Literal(self._tok(token), str(token)[1:-1]))

    def expr_label(self, meta, children):
        return ast.Label(self._span(meta), children[0])

    def group(self, meta, children):
        return ast.Group(self._span(meta), children[0])

    def bind(self, meta, children):
        return str(children[0])

    def call(self, meta, children):
        name, args = children
        return ast.Call(self._span(meta), str(name), tuple(args or ()), self._tok(name))

    def args(self, meta, children):
        return [c for c in children if c is not None]

    def arg(self, meta, children):
        return ast.Arg(self._span(meta), None, children[0])

    def kwarg(self, meta, children):
        return ast.Arg(self._span(meta), str(children[0]), children[1])

    def merge(self, meta, children):
        return ast.Merge(self._span(meta), children[0], tuple(children[1:]))

    def merge_op(self, meta, children):
        return str(children[0])

    def branch(self, meta, children):
        label, item = children
        return ast.Branch(self._span(meta), label, item)

    def repeat(self, meta, children):
        return ast.Repeat(self._span(meta), children[0], children[1])

    def for_(self, meta, children):
        *names, iterable, body = children
        return ast.For(self._span(meta), tuple(str(n) for n in names), iterable, body)

    def if_(self, meta, children):
        condition, then, orelse = children
        return ast.If(self._span(meta), condition, then, orelse)

    def ref(self, meta, children):
        return ast.Ref(self._span(meta), str(children[0]))

    # -- expressions
    def or_(self, meta, children):
        return ast.BoolOp(self._span(meta), "or", children[0], children[1])

    def and_(self, meta, children):
        return ast.BoolOp(self._span(meta), "and", children[0], children[1])

    def not_(self, meta, children):
        return ast.Not(self._span(meta), children[0])

    def compare(self, meta, children):
        return ast.Compare(self._span(meta), children[1], children[0], children[2])

    def binop(self, meta, children):
        return ast.BinOp(self._span(meta), children[1], children[0], children[2])

    def comp_op(self, meta, children):
        return str(children[0])

    add_op = mul_op = comp_op

    def neg(self, meta, children):
        return ast.Neg(self._span(meta), children[0])

    def index(self, meta, children):
        return ast.Index(self._span(meta), children[0], children[1])

    def int_(self, meta, children):
        return ast.Literal(self._span(meta), _integer(str(children[0]), self._span(meta), self.max_digits))

    def float_(self, meta, children):
        return ast.Literal(self._span(meta), float(children[0]))

    def dims(self, meta, children):
        return ast.Literal(self._span(meta), tuple(_integer(p, self._span(meta), self.max_digits) for p in str(children[0]).split("x")))

    def string(self, meta, children):
        return ast.Literal(self._span(meta), str(children[0])[1:-1])

    def true(self, meta, children):
        return ast.Literal(self._span(meta), True)

    def false(self, meta, children):
        return ast.Literal(self._span(meta), False)

    def name(self, meta, children):
        return ast.Name(self._span(meta), str(children[0]))

    def in_attr(self, meta, children):
        return ast.InAttr(self._span(meta), str(children[0]))

    def fcall(self, meta, children):
        return ast.FuncCall(self._span(meta), str(children[0]), tuple(c for c in children[1:] if c is not None))

    def list_(self, meta, children):
        return ast.ListExpr(self._span(meta), tuple(c for c in children if c is not None))
