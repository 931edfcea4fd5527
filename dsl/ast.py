"""The syntax tree: frozen dataclasses, one per grammar alias, each with a `span`."""
from __future__ import annotations

from dataclasses import dataclass

from .diagnostics import Span

# Identity equality: AST nodes are compared by position, never by value, and skipping the generated
# __eq__/__hash__ keeps `cnnc check` start-up short.
_node = dataclass(frozen=True, eq=False)


# ---- expressions -------------------------------------------------------------------------

@_node
class Expr:
    span: Span


@_node
class Literal(Expr):
    value: object  # int, float, bool, str, or a tuple of ints for `3x3`


@_node
class Name(Expr):
    name: str


@_node
class InAttr(Expr):
    """`in.channels`, `in.h`, `in.w`: a property of the incoming tensor."""

    attr: str


@_node
class ListExpr(Expr):
    items: tuple[Expr, ...]


@_node
class Index(Expr):
    target: Expr
    index: Expr


@_node
class FuncCall(Expr):
    name: str
    args: tuple[Expr, ...]


@_node
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr


@_node
class Compare(Expr):
    op: str
    left: Expr
    right: Expr


@_node
class BoolOp(Expr):
    op: str  # "and" | "or"
    left: Expr
    right: Expr


@_node
class Not(Expr):
    operand: Expr


@_node
class Neg(Expr):
    operand: Expr


# ---- statements --------------------------------------------------------------------------

@_node
class Node:
    span: Span


@_node
class Arg(Node):
    name: str | None  # None for a positional argument
    value: Expr


@_node
class Call(Node):
    """A layer (`conv(64, 3x3)`, `relu`) or a block instance (`Bottleneck(64)`)."""

    name: str
    args: tuple[Arg, ...]
    name_span: Span


@_node
class Seq(Node):
    body: tuple[Node, ...]


@_node
class Branch(Node):
    label: "str | Label | None"
    item: Node


@_node
class Merge(Node):
    op: str  # "concat" | "add" | "mul"
    branches: tuple[Branch, ...]


@_node
class Group(Node):
    """`group { ... }`: a group of layers named by its position (or label), like an nn.Sequential."""

    body: Seq


@_node
class Repeat(Node):
    count: Expr
    body: Seq


@_node
class For(Node):
    names: tuple[str, ...]
    iterable: Expr
    body: Seq


@_node
class If(Node):
    condition: Expr
    then: Seq
    orelse: "Seq | If | None"


@_node
class Ref(Node):
    """`@name`: continue from a named value."""

    name: str


@_node
class Label(Node):
    """A label that is not an identifier: `"block1-0":` (a Literal) or computed, `("layer" + str(i)):`."""

    value: Expr


@_node
class Statement(Node):
    label: "str | Label | None"
    item: Node
    bind: str | None  # `-> name` after the item


@_node
class Tap(Node):
    """`-> name` on its own: name the current value."""

    name: str


@_node
class InitDecl(Node):
    """`init conv.weight: kaiming_normal(mode="fan_out")`: how parameters start (dsl/init.py)."""

    target: tuple[str, ...]        # `conv`, `weight`: an op or a layer label path, then a parameter
    scheme: "Call"
    target_span: Span


@_node
class InputDecl(Node):
    name: str | None
    shape: Expr


@_node
class OutputDecl(Node):
    """`output aux1 { ... }`: a side output computed from the current value."""

    name: str
    body: Seq | None


@_node
class Param(Node):
    name: str
    default: Expr | None


@_node
class BlockDef(Node):
    name: str
    params: tuple[Param, ...]
    body: Seq
    name_span: Span


@_node
class NetworkDef(Node):
    name: str
    params: tuple[Param, ...]
    body: Seq
    name_span: Span


@_node
class Import(Node):
    path: str


@_node
class Module(Node):
    imports: tuple[Import, ...]
    blocks: tuple[BlockDef, ...]
    networks: tuple[NetworkDef, ...]


def walk(root):
    """Every AST node (statements and expressions) under `root`, in source order, without recursion."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        children = []
        for value in vars(node).values():
            if isinstance(value, (Node, Expr)):
                children.append(value)
            elif isinstance(value, tuple):
                children.extend(v for v in value if isinstance(v, (Node, Expr)))
        stack.extend(reversed(children))
