"""The syntax tree: frozen dataclasses, one per grammar alias, each with a `span`."""
from __future__ import annotations

from dataclasses import dataclass

from .diagnostics import Span


# ---- expressions -------------------------------------------------------------------------

@dataclass(frozen=True)
class Expr:
    span: Span


@dataclass(frozen=True)
class Literal(Expr):
    value: object  # int, float, bool, str, or a tuple of ints for `3x3`


@dataclass(frozen=True)
class Name(Expr):
    name: str


@dataclass(frozen=True)
class InAttr(Expr):
    """`in.channels`, `in.h`, `in.w`: a property of the incoming tensor."""

    attr: str


@dataclass(frozen=True)
class ListExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Index(Expr):
    target: Expr
    index: Expr


@dataclass(frozen=True)
class FuncCall(Expr):
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Compare(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class BoolOp(Expr):
    op: str  # "and" | "or"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True)
class Neg(Expr):
    operand: Expr


# ---- statements --------------------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    span: Span


@dataclass(frozen=True)
class Arg(Node):
    name: str | None  # None for a positional argument
    value: Expr


@dataclass(frozen=True)
class Call(Node):
    """A layer (`conv(64, 3x3)`, `relu`) or a block instance (`Bottleneck(64)`)."""

    name: str
    args: tuple[Arg, ...]
    name_span: Span


@dataclass(frozen=True)
class Seq(Node):
    body: tuple[Node, ...]


@dataclass(frozen=True)
class Branch(Node):
    label: str | None
    item: Node


@dataclass(frozen=True)
class Merge(Node):
    op: str  # "concat" | "add"
    branches: tuple[Branch, ...]


@dataclass(frozen=True)
class Repeat(Node):
    count: Expr
    body: Seq


@dataclass(frozen=True)
class For(Node):
    names: tuple[str, ...]
    iterable: Expr
    body: Seq


@dataclass(frozen=True)
class If(Node):
    condition: Expr
    then: Seq
    orelse: "Seq | If | None"


@dataclass(frozen=True)
class Ref(Node):
    """`@name`: continue from a named value."""

    name: str


@dataclass(frozen=True)
class Statement(Node):
    label: str | None
    item: Node
    bind: str | None  # `-> name` after the item


@dataclass(frozen=True)
class Tap(Node):
    """`-> name` on its own: name the current value."""

    name: str


@dataclass(frozen=True)
class InputDecl(Node):
    name: str | None
    shape: Expr


@dataclass(frozen=True)
class OutputDecl(Node):
    """`output aux1 { ... }`: a side output computed from the current value."""

    name: str
    body: Seq | None


@dataclass(frozen=True)
class Param(Node):
    name: str
    default: Expr | None


@dataclass(frozen=True)
class BlockDef(Node):
    name: str
    params: tuple[Param, ...]
    body: Seq
    name_span: Span


@dataclass(frozen=True)
class NetworkDef(Node):
    name: str
    params: tuple[Param, ...]
    body: Seq
    name_span: Span


@dataclass(frozen=True)
class Import(Node):
    path: str


@dataclass(frozen=True)
class Module(Node):
    imports: tuple[Import, ...]
    blocks: tuple[BlockDef, ...]
    networks: tuple[NetworkDef, ...]
