"""cnnc's backends: summary, Python source / PyTorch module, Graphviz diagrams, and the CLI.

Importing this package is cheap: torch and graphviz are imported only by the functions that need them.
"""
from __future__ import annotations

__version__ = "0.2.0"

__all__ = ["load", "compile_source", "render", "analyse", "show"]


def analyse(source, *, input=None, network=None, **params):
    """The analysed IR (a networkx.DiGraph) of a .cnn file path, a shipped name, or source text."""
    from cnnc import dsl

    path, text = _path_or_text(source)
    return dsl.build(path, text=text, params=params, input=input, network=network)


def compile_source(source, *, input=None, network=None, **params) -> str:
    """The generated PyTorch source of a network: a self-contained module that imports torch only."""
    from .pysource import generate

    return generate(analyse(source, input=input, network=network, **params))


def load(source, *, input=None, network=None, weights=None, deploy=False, **params):
    """Build the network as a torch.nn.Module by executing its generated source.

    `weights`: a state_dict, a path to one, or a module to copy it from (loaded strictly; copied,
    never shared). `deploy=True`: an inference-only module instead (compiler/deploy.py): BatchNorm
    folded into the preceding conv/linear, dropout and side heads dropped, channels_last when
    the network has grouped convs.
    """
    graph = analyse(source, input=input, network=network, **params)
    if deploy:
        from .deploy import deploy_module

        return deploy_module(graph, weights)
    from .torch_backend import module_from_graph

    model = module_from_graph(graph)
    if weights is not None:
        from .deploy import load_weights

        load_weights(model, graph, weights)
    return model


def render(source, **options):
    """A graphviz.Digraph of a network (a path, source text, or an analysed graph)."""
    from .graphviz_backend import render as _render

    graph = source if hasattr(source, "graph") and hasattr(source, "nodes") else analyse(source)
    return _render(graph, **options)


def show(source, *, depth=None, height=640, input=None, network=None, **params):
    """The interactive diagram of a network (a path, source text, or an analysed graph): the page of
    `cnnc render FILE -o net.html` in an iframe. In a Jupyter kernel it is displayed and None is
    returned; elsewhere the view is returned (`.html` is the page, `.save(path)` writes it)."""
    from .html_view import View, page

    graph = source if hasattr(source, "graph") and hasattr(source, "nodes") else analyse(
        source, input=input, network=network, **params)
    view = View(page(graph, depth), height)
    try:
        from IPython import get_ipython
    except ImportError:
        return view
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return view
    from IPython.display import display

    display(view)
    return None


def _path_or_text(source) -> tuple[str | None, str | None]:
    """A path (or shipped name) when `source` looks like one; otherwise source text."""
    import os

    text = str(source)
    if "{" in text or "\n" in text:
        return None, text
    return os.fspath(source), None


def _svg_view(graph):
    """Jupyter's `_repr_svg_` of an analysed graph: its diagram (None without Graphviz's `dot`)."""
    from .graphviz_backend import svg

    return svg(graph)


def _html_view(graph):
    """Jupyter's `_repr_html_`: the summary table, one row per block instance past depth 1 (as
    `cnnc summary --depth 1`)."""
    from .summary import to_html

    return to_html(graph, depth=1) if "totals" in graph.graph else None


def _register_views() -> None:
    """The graphs the language half returns (`cnnc.dsl.build`, `cnnc.analyse`) show in Jupyter as
    drawn here; `cnnc.dsl` is a subpackage of `cnnc`, so this runs before any graph exists."""
    from cnnc.dsl import graph

    graph.VIEWS.update(svg=_svg_view, html=_html_view)


_register_views()

