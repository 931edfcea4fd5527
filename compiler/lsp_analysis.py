"""What the language server knows about one document, computed in-process from cnnc.dsl's pipeline.

`analyse(text, path)` parses, loads imports, elaborates and analyses every network of a document,
and collects *every independent problem* instead of stopping at the first:

- a syntax error stops only its own top-level definition: a file that does not parse is re-parsed
  one top-level chunk at a time (chunks start at lines beginning with `block`, `network` or
  `import`), so each broken definition reports its error and the others are still analysed;
- each import, each definition (duplicates, built-in names) and each network is checked on its own;
  a network that uses a block whose definition does not parse is not elaborated (its errors would
  only repeat the syntax error);
- warnings (lint) of every network that builds; at most MAX_PROBLEMS problems.

No editor protocol here: compiler/lsp.py turns this into LSP messages. bench/bench_lsp.py times it.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from cnnc.dsl import ast
from cnnc.dsl.ast import walk
from cnnc.dsl.diagnostics import CnnError, ParseError, Source, Span, Warning_

MAX_PROBLEMS = 100
_TOP = re.compile(r"^(?:block|network|import)\b", re.M)
_DEFINES = re.compile(r"^(?:block|network)\s+([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Problem:
    severity: str               # "error" | "warning"
    message: str
    line: int                   # 1-based, in this document
    column: int
    end_line: int
    end_column: int
    hint: str | None = None
    notes: tuple = ()           # ((message, path, line, column, end_line, end_column), ...)
    code: str | None = None


@dataclass
class Analysis:
    path: str
    text: str
    module: ast.Module | None = None
    program: object = None
    graphs: dict = field(default_factory=dict)      # network name -> analysed LightGraph
    problems: list[Problem] = field(default_factory=list)
    broken: set = field(default_factory=set)        # names of definitions that do not parse


def analyse(text: str, path: str, limits=None) -> Analysis:
    """`limits` (cnnc.dsl.limits.Limits) bounds this analysis alone: each session may have its own."""
    from cnnc.dsl import _stack_room
    from cnnc.dsl.limits import Limits

    result = Analysis(path, text)
    limits = limits or Limits()
    with _stack_room():
        result.module = _parse(text, path, result, limits)
        if result.module is not None:
            result.program = _load(result.module, path, result, limits)
            _elaborate(result, limits)
    seen, unique = set(), []
    for problem in result.problems:
        key = (problem.severity, problem.message, problem.line, problem.column)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    result.problems = unique[:MAX_PROBLEMS]
    return result


# ---- parsing, with recovery per top-level definition ------------------------------------------

def _parse(text: str, path: str, result: Analysis, limits) -> ast.Module | None:
    from cnnc.dsl.syntax import parse

    try:
        return parse(text, path, limits)
    except ParseError:
        pass
    except CnnError as error:  # a limit: nothing more to say about this text
        _add(result, error, path)
        return None
    starts = [m.start() for m in _TOP.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    imports, blocks, networks = [], [], []
    for begin, end in zip(starts, starts[1:] + [len(text)]):
        chunk = re.sub(r"[^\n]", " ", text[:begin]) + text[begin:end]  # positions stay exact
        try:
            module = parse(chunk, path, limits)
        except CnnError as error:
            _add(result, error, path)
            named = _DEFINES.match(text[begin:end])
            if named:
                result.broken.add(named.group(1))
            continue
        imports += module.imports
        blocks += module.blocks
        networks += module.networks
    return ast.Module(Span(Source(path, text), 1, 1, 1, 1), tuple(imports), tuple(blocks), tuple(networks))


# ---- imports and definitions, each on its own -------------------------------------------------

def _load(module: ast.Module, path: str, result: Analysis, limits):
    from cnnc.dsl import loader

    program = loader.Program(module, path)
    for item in module.imports:
        try:
            loader._collect(program, ast.Module(item.span, (item,), (), ()), path,
                            stack=[os.path.abspath(path)], seen=set(), limits=limits)
        except CnnError as error:
            _add(result, error, path, fallback=item.span)
    for table, definitions, what in ((program.blocks, module.blocks, "block"),
                                     (program.networks, module.networks, "network")):
        for definition in definitions:
            try:
                loader._define(table, definition, what)
            except CnnError as error:
                _add(result, error, path)
    return program


def _elaborate(result: Analysis, limits) -> None:
    from cnnc.dsl.analysis import analyse as annotate
    from cnnc.dsl.elaborate import elaborate
    from cnnc.dsl.expressions import Budget
    from cnnc.dsl.lint import lint

    program = result.program
    for network in result.module.networks:
        if program.networks.get(network.name) is not network:
            continue
        if result.broken & _uses(network, program):
            continue
        try:
            budget = Budget(limits)
            graph = elaborate(program, network, {}, {}, limits, budget)
            lint(graph, program, network, budget)
            graph = annotate(graph, limits)
        except CnnError as error:
            _add(result, error, result.path, fallback=network.name_span)
            continue
        result.graphs[network.name] = graph
        for warning in graph.graph.get("warnings", ()):
            _add(result, warning, result.path, fallback=network.name_span)


def _uses(definition, program) -> set[str]:
    """Every name called from a definition, through the blocks it uses."""
    names, todo, done = set(), [definition], set()
    while todo:
        node = todo.pop()
        for call in walk(node.body):
            if isinstance(call, ast.Call) and call.name not in names:
                names.add(call.name)
                block = program.blocks.get(call.name)
                if block is not None and block.name not in done:
                    done.add(block.name)
                    todo.append(block)
    return names


def _add(result: Analysis, error: CnnError | Warning_, path: str, fallback: Span | None = None) -> None:
    """An error or warning as a Problem located in this document (one raised in an imported file is
    shown where this document leads to it: its first note here, or the import / network)."""
    severity = "warning" if isinstance(error, Warning_) else "error"
    span, message = error.span, error.message
    if span is None or span.path != path:
        here = next((n.span for n in error.notes if n.span is not None and n.span.path == path), None) or fallback
        if span is not None:
            message = f"{message} (at {span})"
        span = here
    if span is None:
        span = Span(None, 1, 1, 1, 1)
    notes = tuple((n.message, n.span.path, n.span.line, n.span.column, n.span.end_line, n.span.end_column)
                  for n in error.notes if n.span is not None)
    result.problems.append(Problem(severity, message, span.line, span.column, span.end_line,
                                   max(span.end_column, span.column + (span.end_line == span.line)),
                                   error.hint, notes, getattr(error, "code", None)))
