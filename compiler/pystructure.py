"""What the .cnn syntax tree says about a body's structure, for the code generator: whether it is a
chain (an nn.Sequential), holds a bare parameter, or calls a block with side outputs."""
from __future__ import annotations

from cnnc.dsl import ast

BARE_PARAMETERS = {"scale"}  # ops whose torch side is an nn.Parameter applied in forward (pyops `apply`)


def if_bodies(item: ast.If) -> list:
    """The bodies of an if / else-if / else chain, in order (no body for a missing `else`)."""
    bodies = []
    while isinstance(item, ast.If):
        bodies.append(item.then)
        item = item.orelse
    return bodies + ([item] if item is not None else [])


def holds_bare_parameter(items) -> bool:
    """A bare parameter among a group's (or a merge's branches') own layers, not inside a block: a
    block is its own module."""
    for stmt in items:
        item = stmt.item if isinstance(stmt, (ast.Statement, ast.Branch)) else stmt
        if isinstance(item, ast.Call) and item.name in BARE_PARAMETERS:
            return True
        if isinstance(item, ast.If):
            inner = [body.body for body in if_bodies(item)]
        elif isinstance(item, (ast.Repeat, ast.For)):
            inner = [item.body.body]
        elif isinstance(item, ast.Seq):
            inner = [item.body]
        elif isinstance(item, ast.Merge):
            inner = [item.branches]
        else:
            inner = []
        if any(holds_bare_parameter(statements) for statements in inner):
            return True
    return False


def has_side_outputs(name: str, blocks, seen=None) -> bool:
    """Whether block `name` returns side outputs (an `output` in it, or in a block it calls): its
    module returns a tuple, so it cannot be an item of an nn.Sequential."""
    if name not in blocks:
        return False
    seen = set() if seen is None else seen
    if name in seen:
        return False
    seen.add(name)
    for node in ast.walk(blocks[name].body):
        if isinstance(node, ast.OutputDecl):
            return True
        if isinstance(node, ast.Call) and node.name in blocks and has_side_outputs(node.name, blocks, seen):
            return True
    return False


def is_chain(body: ast.Seq, blocks) -> bool:
    """Every item takes the running tensor and gives the next: an nn.Sequential."""
    for stmt in body.body:
        if not isinstance(stmt, ast.Statement) or stmt.bind:
            return False
        item = stmt.item
        if isinstance(item, ast.Call):
            if item.name in BARE_PARAMETERS or has_side_outputs(item.name, blocks):
                return False
            continue
        if isinstance(item, (ast.Seq, ast.Group)):
            if not is_chain(item if isinstance(item, ast.Seq) else item.body, blocks):
                return False
        elif isinstance(item, (ast.Repeat, ast.For)):
            if stmt.label or not is_chain(item.body, blocks):
                return False
        elif isinstance(item, ast.If):
            if stmt.label or not all(is_chain(body, blocks) for body in if_bodies(item)):
                return False
        else:
            return False
    return True
