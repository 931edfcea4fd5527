"""cnnc's language: .cnn text -> analysed IR (a networkx.DiGraph). Never imports torch."""
from __future__ import annotations

import contextlib
import gc
import sys

from .diagnostics import CnnError, Span, Warning_

__all__ = ["build", "parse_value", "parse_shape", "CnnError", "Span", "Warning_"]


def build(path: str | None = None, *, text: str | None = None, params: dict | None = None,
          input=None, network: str | None = None, limits=None, search_path=(), networkx: bool = True):
    """Parse, elaborate and analyse a network; returns the annotated IR, a networkx.DiGraph.

    `path` is a .cnn file (or the name of a shipped one, e.g. "resnet50"); give `text` to compile
    source held in memory. `params` override the network's parameters (`classes=10`); `input` is a
    shape ("3x32x32", (3, 32, 32)) or a dict of them by input name. Raises CnnError.
    `limits` (a `cnnc.dsl.limits.Limits`) bounds every resource of this build, and this build only;
    `search_path` lists directories where imports are also looked up.
    `networkx=False` returns the light graph that `check` and `summary` use, skipping networkx's import.
    """
    from .analysis import analyse
    from .elaborate import elaborate
    from .expressions import Budget
    from .lint import lint
    from .loader import load_program

    budget = Budget(limits)  # one budget for the whole build: elaboration and lint share it
    with _stack_room():
        program = load_program(path, text, budget.limits, search_path)
        net = _choose_network(program, network)
        graph = elaborate(program, net, _values(params), _inputs(input, budget.limits), budget.limits, budget)
        lint(graph, program, net, budget)
        graph = analyse(graph, budget.limits)
    return graph.to_networkx() if networkx else graph


@contextlib.contextmanager
def _stack_room(frames: int = 4000):
    """Parsing and elaboration recurse once per nesting level. Their limits (Limits.max_source_nesting,
    max_nesting and max_depth) keep that under `frames` Python frames, but above the default
    recursion limit of 1000; lift it for the duration (Python 3.11+ frames cost no C stack).
    The garbage collector is paused meanwhile: building allocates many long-lived objects and no
    cycles worth chasing, and its passes cost ~20% of a 100k-layer check."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, frames))
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        sys.setrecursionlimit(old)
        if collecting:
            gc.enable()


def parse_value(text: str, limits=None, origin: str = "<command line>"):
    """A command-line value (`10`, `[64, 128]`, `true`, `"M"`) evaluated by our own evaluator, within
    `limits` (its own expression budget). `origin` names it in messages (`--set classes`)."""
    from .expressions import Budget, Env, evaluate
    from .syntax import parse_expression

    budget = Budget(limits)
    return evaluate(parse_expression(text, origin, budget.limits), Env({}, None, budget))


def parse_shape(value, limits=None, origin: str = "input"):
    """`3x32x32`, `784`, a tuple, or a list -> a shape tuple; raises CnnError naming `origin`."""
    from .values import show

    if isinstance(value, str):
        import re

        if re.fullmatch(r"\s*\(?\s*[0-9]+(\s*,\s*[0-9]+)+\s*\)?\s*", value):  # `3,224,224`
            numbers = "x".join(re.findall("[0-9]+", value))
            raise CnnError(f"an input shape is CxHxW or a feature count; got {value!r}", hint=f"write {numbers}")
        value = parse_value(value, limits, origin)
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, list):
        value = tuple(value)
    if (not isinstance(value, tuple) or len(value) not in (1, 3)
            or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value)):
        shown = show(value) if isinstance(value, (tuple, int, float, str, bool)) else repr(value)[:120]
        raise CnnError(f"{origin}: an input shape is CxHxW (e.g. 3x224x224) or a feature count, every "
                       f"dimension at least 1; got {shown}")
    return value


def _values(params: dict | None) -> dict:
    if not params:
        return {}
    return {key: (tuple(v) if isinstance(v, list) else v) for key, v in params.items()}


def _inputs(value, limits) -> dict:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {name: parse_shape(shape, limits, f"input {name}") for name, shape in value.items()}
    return {"": parse_shape(value, limits)}


class NoNetwork(CnnError):
    """The file defines blocks only: a library to import, not a network to build."""

    def __init__(self, program):
        span = program.main.blocks[0].name_span if program.main.blocks else program.main.span  # 1:1 if empty
        super().__init__(f"{program.path} defines no network", span,
                         hint="a file of blocks only can be imported; add `network Name { input ...; ... }`")
        self.program = program


def _choose_network(program, name: str | None):
    from .diagnostics import NameError_, closest

    networks = {n.name: n for n in program.main.networks}
    if name is not None:
        if name not in networks:
            suggestion = closest(name, networks)
            raise NameError_(f"--network {name}: {program.path} defines no network `{name}`",
                             hint=f"did you mean `{suggestion}`?" if suggestion
                             else f"it defines: {', '.join(networks) or 'none'}")
        return networks[name]
    if not networks and not program.main.blocks:
        raise NameError_(f"{program.main.span.path} defines nothing", program.main.span,
                         hint="a network reads `network Name { input 3x224x224; ... }`")
    if not networks:
        raise NoNetwork(program)
    if len(networks) > 1:
        raise NameError_(f"{program.path} defines {len(networks)} networks: {', '.join(networks)}",
                         program.main.networks[1].name_span, hint="choose one with --network NAME")
    return program.main.networks[0]
