"""`cnnc`: the command line. The only place that prints or exits.

Exit codes:
  0   ok
  1   the input is wrong: a .cnn file, a --set/--input value, or a network torch cannot export
      (a located message)
  2   the command line is wrong (usage: an unknown option, a malformed --limit, an unwritable -o)
  70  cnnc itself is wrong: an internal error, printed with a traceback (please report it)
`check` and `summary` never import torch.
"""
from __future__ import annotations

import argparse
import sys
import traceback

from cnnc import __version__
from cnnc.dsl.diagnostics import CnnError
from cnnc.dsl.limits import names as limit_names

from .terminal import Progress, report

EXAMPLES = """\
examples:
  cnnc check archs/*.cnn
  cnnc summary archs/resnet50.cnn --set classes=10 --input 3x64x64
  cnnc summary resnet50 --format json          (shipped networks by name)
  cnnc compile archs/vgg16.cnn -o vgg16.py
  cnnc render archs/googlenet.cnn -o googlenet.svg
  cnnc render resnet50 -o resnet50.html         (interactive: click blocks open, search, details)
  cnnc explain lenet5 c3                       (the arithmetic behind a layer's figures)
  cnnc diff resnet50 resnet101                 (layers, totals, checkpoint compatibility)
"""


EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70  # 70: EX_SOFTWARE in sysexits.h


class UsageError(Exception):
    """A command-line mistake (not a .cnn one): reported in one line, exit 2 as argparse's own; a
    wrong value for a right option (`--set classes=ten`) is the input's fault: `status` 1."""

    def __init__(self, message: str, status: int = EXIT_USAGE):
        super().__init__(message)
        self.status = status




def _common(parser: argparse.ArgumentParser, many: bool = False) -> None:
    if many:
        parser.add_argument("files", nargs="+", metavar="FILE", help=".cnn files, or shipped network names")
    else:
        parser.add_argument("file", metavar="FILE", help="a .cnn file, or a shipped network name (resnet50)")
    parser.add_argument("--set", dest="params", action="append", default=[], metavar="NAME=VALUE",
                        help="override a network parameter, e.g. --set classes=10 (repeatable)")
    parser.add_argument("--input", metavar="CxHxW", help="override the input shape, e.g. 3x32x32 "
                        "(or NAME=CxHxW for a network with several inputs)")
    parser.add_argument("--network", metavar="NAME", help="which network, when a file defines several")
    parser.add_argument("-q", "--no-warnings", action="store_true", help="quiet: no warnings, no progress line")
    parser.add_argument("--limit", dest="limits", action="append", default=[], metavar="NAME=N",
                        help="raise (or lower) a resource limit, e.g. --limit max_nodes=1000000 "
                             "--limit max_tokens=2000000; the limits: " + ", ".join(limit_names())
                             + " (see README, Robustness)")
    parser.add_argument("--path", dest="search_path", action="append", default=[], metavar="DIR",
                        help="also look up imports in DIR (repeatable), after the importing file's "
                             "directory and before the shipped networks")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnc", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES,
        description="cnnc: a language for convolutional network architectures, and its compiler.\n"
                    "Checks shapes, parameters, MACs and receptive fields statically, draws diagrams, "
                    "and compiles to PyTorch.")
    parser.add_argument("--version", action="version", version=f"cnnc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = sub.add_parser("check", help="check files; one line each: params, MACs, output shape",
                           description="Check .cnn files statically (no torch). Prints one line per file: "
                                       "network, parameters, MACs and output shapes, or located errors.")
    _common(check, many=True)

    summary = sub.add_parser("summary", help="per-layer table: shapes, params, MACs, receptive fields",
                             description="Print a per-layer summary: path, op, output shape, parameters, "
                                         "MACs and receptive field, then totals. No torch, no forward pass.")
    _common(summary)
    summary.add_argument("--format", choices=("table", "json", "markdown"), default="table",
                         help="output format (default: table)")
    summary.add_argument("--depth", type=int, default=None, metavar="N",
                         help="table and markdown: one row per block instance nested deeper than N, with "
                              "its totals (default: every layer)")

    compile_ = sub.add_parser("compile", help="generate a PyTorch module (.py), or export ONNX / pt2",
                              description="Compile to a readable, self-contained PyTorch module.")
    _common(compile_)
    compile_.add_argument("-o", "--output", metavar="OUT", help="where to write (default: see README)")
    compile_.add_argument("--format", choices=("py", "onnx", "pt2"), default="py",
                          help="py: Python source (default); onnx / pt2: exported model")
    compile_.add_argument("--weights", metavar="FILE.pt", help="a state_dict (torch.save) to export with "
                          "(onnx / pt2); its keys are the layer paths")
    compile_.add_argument("--deploy", action="store_true", help="export the inference build (onnx / pt2): "
                          "BatchNorm folded into convs, dropout and side heads dropped")
    compile_.add_argument("--line-comments", action="store_true",
                          help="py: end each generated line that comes from the .cnn file with `# FILE:LINE`")

    render = sub.add_parser("render", help="draw the network: svg, png, pdf, dot (Graphviz) or interactive html",
                            description="Draw the analysed network: ops on nodes, shapes on edges, "
                                        "blocks as clusters, repeated blocks folded.")
    _common(render)
    render.add_argument("-o", "--output", metavar="OUT", help="OUT.svg, .png, .pdf or .dot; OUT.html: an interactive "
                        "page (no Graphviz needed); - writes DOT to stdout (default: NAME.svg in the current directory)")
    render.add_argument("--depth", type=int, default=None, metavar="N",
                        help="block nesting shown expanded (default 1); deeper blocks fold into one node, "
                             "repeats into one node marked xN")
    render.add_argument("--rankdir", choices=("TB", "LR"), default=None, help="layout direction")

    explain = sub.add_parser("explain", help="the arithmetic behind each layer's shape, params, MACs and RF",
                             description="For each layer (or the named layers and groups), its output size, "
                                         "parameters, MACs and receptive field as formulas with the numbers "
                                         "substituted, then the totals they add up to.")
    _common(explain)
    explain.add_argument("paths", nargs="*", metavar="PATH",
                         help="layer paths (conv1, layer1.0.conv2) or groups (layer1.0); default: every layer")

    diff = sub.add_parser("diff", help="compare two networks: layers, totals, checkpoint compatibility",
                          description="Compare network A with B: layers added, removed and changed (matched by "
                                      "path), totals, and which of A's state_dict keys B loads unchanged. "
                                      "Exit status 0: identical, 1: different, 2: trouble.")
    diff.add_argument("a", metavar="A", help="a .cnn file or a shipped network name")
    diff.add_argument("b", metavar="B", help="a .cnn file or a shipped network name")
    for flag, side in (("", "both sides"), ("-a", "A only"), ("-b", "B only")):
        diff.add_argument(f"--set{flag}", dest=f"params{flag.replace('-', '_')}", action="append", default=[],
                          metavar="NAME=VALUE", help=f"override a network parameter ({side}; repeatable)")
        diff.add_argument(f"--input{flag}", dest=f"input{flag.replace('-', '_')}", metavar="CxHxW",
                          help=f"override the input shape ({side})")
    diff.add_argument("--network-a", metavar="NAME", help="which network of A, when it defines several")
    diff.add_argument("--network-b", metavar="NAME", help="which network of B, when it defines several")
    diff.add_argument("--format", choices=("table", "json", "markdown"), default="table",
                      help="output format (default: table)")
    diff.add_argument("-q", "--no-warnings", action="store_true", help="do not print warnings")
    diff.add_argument("--limit", dest="limits", action="append", default=[], metavar="NAME=N",
                      help="raise (or lower) a resource limit (both sides)")

    sub.add_parser("ops", help="list the built-in layers and their arguments",
                   description="List the built-in layers, their arguments and defaults.")

    fmt = sub.add_parser("fmt", help="format .cnn files in place (the one canonical layout)",
                         description="Rewrite .cnn files in the canonical layout (README: Editing .cnn files). "
                                     "Only whitespace and redundant `;` change; comments stay in place.")
    fmt.add_argument("files", nargs="+", metavar="FILE", help=".cnn files or directories (searched for "
                     "*.cnn); - reads standard input and writes standard output")
    fmt.add_argument("--check", action="store_true", help="change nothing; list the files that would "
                     "change and exit 1 if there are any")
    fmt.add_argument("--diff", action="store_true", help="change nothing; print a unified diff")

    sub.add_parser("zoo", help="list the shipped networks: name, params, MACs, depth, description",
                   description="List the shipped networks (usable by name, importable from .cnn files) "
                               "and where the examples are.")

    sub.add_parser("lsp", help="run the language server on standard input/output (for editors)",
                   description="Run the cnn language server (Language Server Protocol over stdio): "
                               "diagnostics, hover, go to definition, references, completion, symbols, "
                               "formatting. Editors start it; see README, Editing .cnn files.")
    return parser


def _params(pairs: list[str], limits=None) -> dict:
    """`--set NAME=VALUE`: each value is evaluated by cnnc's evaluator within the limits; its
    messages are located in `--set NAME`."""
    from cnnc.dsl import parse_value

    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip().isidentifier():
            raise UsageError(f"--set expects NAME=VALUE, got {pair!r}")
        if value.strip().isidentifier() and value.strip() not in ("true", "false"):  # `--set classes=ten`
            raise UsageError(f"--set {pair}: `{value.strip()}` is not a number, list or true/false; "
                             f"to pass a string, quote it: --set '{name.strip()}=\"{value.strip()}\"'", EXIT_INPUT)
        params[name.strip()] = parse_value(value, limits, origin=f"--set {name.strip()}")
    return params


def _input(text: str | None, limits=None):
    """`--input CxHxW` or `--input NAME=CxHxW`, parsed here so that its messages name `--input`."""
    from cnnc.dsl import parse_shape

    if text is None:
        return None
    name, sep, shape = text.partition("=")
    if sep and name.strip().isidentifier():
        return {name.strip(): parse_shape(shape, limits, origin=f"--input {name.strip()}")}
    return parse_shape(text, limits, origin="--input")


def load(args, path: str, networkx: bool = True):
    """Build the analysed graph for `path` with the command line's overrides."""
    from cnnc import dsl

    limits = _limits(args.limits)
    return dsl.build(path, params=_params(args.params, limits), input=_input(args.input, limits),
                     network=args.network, limits=limits, search_path=args.search_path, networkx=networkx)


def _limits(pairs: list[str]):
    """`--limit NAME=N` -> a cnnc.dsl.limits.Limits (the defaults for the names not given)."""
    from cnnc.dsl.limits import from_pairs

    try:
        return from_pairs(pairs)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _warn(args, graph) -> None:
    if not args.no_warnings:
        for warning in graph.graph.get("warnings", ()):
            report(warning.render())


def cmd_check(args) -> int:
    from cnnc.dsl import NoNetwork
    from .summary import check_line

    status = 0
    for path in args.files:
        try:
            graph = load(args, path, networkx=False)
        except NoNetwork as library:
            names = ", ".join(library.program.main.blocks[i].name for i in range(len(library.program.main.blocks)))
            print(f"{path}: ok: a library of blocks ({names or 'none'})")
            continue
        except CnnError as error:
            report(error.render())
            status = 1
            continue
        _warn(args, graph)
        print(check_line(graph))
    return status


def cmd_summary(args) -> int:
    from .summary import FORMATS

    if args.depth is not None and args.depth < 0:
        raise UsageError(f"--depth must be 0 or more, got {args.depth}")
    graph = load(args, args.file, networkx=False)
    _warn(args, graph)
    form = FORMATS[args.format]
    sys.stdout.write(form(graph) if args.format == "json" else form(graph, depth=args.depth))
    return 0


def cmd_compile(args) -> int:
    """Write the generated module (py), or an exported model (onnx, pt2). Default output: NAME.EXT in
    the current directory, NAME being the input file's stem; `-o -` writes Python source to stdout."""
    import os

    graph = load(args, args.file)
    _warn(args, graph)
    stem = os.path.splitext(os.path.basename(args.file))[0] or graph.graph["name"]
    out = args.output or f"{stem}.{args.format}"
    if args.format != "py" and args.line_comments:
        raise UsageError("--line-comments annotates Python source: it goes with --format py")
    if args.format == "py" and (args.deploy or args.weights):
        raise UsageError(f"{'--deploy' if args.deploy else '--weights'} exports a model: add --format onnx "
                         "or --format pt2 (from Python: cnnc.load(FILE, weights=..., deploy=True))")
    if args.format == "py":
        from .pysource import generate

        source = generate(graph, line_comments=args.line_comments)
        if out == "-":
            sys.stdout.write(source)
            return 0
        try:
            with open(out, "w", encoding="utf-8") as handle:
                handle.write(source)
        except OSError as error:
            raise UsageError(f"cannot write {out}: {error.strerror}") from None
    else:
        if out == "-":
            raise UsageError(f"--format {args.format} writes a binary file; give -o FILE")
        import logging
        import warnings

        from .export import exported_program, write_onnx

        for name in ("torch.onnx", "torch.onnx._internal.exporter._registration"):
            logging.getLogger(name).setLevel(logging.ERROR)
        with warnings.catch_warnings(), Progress(f"exporting {out}", quiet=args.no_warnings):
            warnings.simplefilter("ignore")
            model = _export_model(args, graph)
            if args.format == "onnx":
                write_onnx(graph, out, model)
            else:
                import torch

                torch.export.save(exported_program(graph, model), out)
    print(f"cnnc: wrote {out}", file=sys.stderr)
    return 0


def _export_model(args, graph):
    """The module to export: the deploy build with --deploy, the training module with --weights."""
    if args.deploy:
        from .deploy import deploy_module

        return deploy_module(graph, args.weights)
    if args.weights:
        from .deploy import load_weights
        from .torch_backend import module_from_graph

        model = module_from_graph(graph)
        load_weights(model, graph, args.weights)
        return model
    return None


def cmd_render(args) -> int:
    from pathlib import Path

    from .graphviz_backend import FORMATS, render, write

    if args.depth is not None and args.depth < 0:
        raise UsageError(f"--depth must be 0 or more, got {args.depth}")
    output = args.output or Path(args.file).stem + ".svg"
    if output != "-" and Path(output).suffix.lower() == ".html":
        return _render_html(args, output)
    if output != "-" and Path(output).suffix.lower() not in FORMATS:
        raise UsageError(f"cannot tell the format of {output}: name it .svg, .png, .pdf, .dot or .html "
                         "(or -o - for DOT on stdout)")
    graph = load(args, args.file, networkx=False)
    _warn(args, graph)
    dot = render(graph, depth=args.depth, rankdir=args.rankdir)
    if output == "-":
        sys.stdout.write(dot.source)
        return 0
    with Progress(f"drawing {output}", quiet=args.no_warnings):
        write(dot, output)
    if not args.output:
        print(f"wrote {output}")
    return 0


def _render_html(args, output: str) -> int:
    """The interactive page: laid out in the browser, so Graphviz is not needed."""
    from .html_view import write

    if args.rankdir == "LR":
        raise UsageError("--rankdir LR applies to Graphviz output; the HTML view is drawn top to bottom")
    graph = load(args, args.file, networkx=False)
    _warn(args, graph)
    try:
        write(graph, output, depth=args.depth)
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror}") from None
    return 0


def cmd_diff(args) -> int:
    """0 identical, 1 different, 2 trouble (as diff(1)): an error in either file is status 2."""
    from cnnc import dsl

    from .diff import FORMATS, compare

    try:
        graphs = []
        for side in ("a", "b"):
            limits = _limits(args.limits)
            params = {**_params(args.params, limits), **_params(getattr(args, f"params_{side}"), limits)}
            shape = getattr(args, f"input_{side}") or args.input
            graph = dsl.build(getattr(args, side), params=params, input=_input(shape, limits),
                              network=getattr(args, f"network_{side}"), limits=limits,
                              search_path=getattr(args, "search_path", []), networkx=False)
            _warn(args, graph)
            graphs.append(graph)
        result = compare(*graphs)
    except CnnError as error:
        print(error.render(), file=sys.stderr)
        return 2
    except UsageError as error:
        print(f"cnnc: error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(FORMATS[args.format](result))
    return 0 if result.identical else 1


def cmd_explain(args) -> int:
    from .explain import explain

    graph = load(args, args.file, networkx=False)
    _warn(args, graph)
    sys.stdout.write(explain(graph, args.paths))
    return 0


def cmd_ops(args) -> int:
    from cnnc.dsl.ops import OPS, REQUIRED

    for name, spec in OPS.items():
        if name == "input":
            continue
        if spec.merge:
            print(f"{name} {{ ... }} | {{ ... }}".ljust(60) + f"  {spec.doc}")
            continue
        shown = [a.name if a.default is REQUIRED else f"{a.name}={_show_default(a.default)}" for a in spec.args]
        if spec.positional < len(shown):  # the rest only by name, as Python writes it
            shown.insert(spec.positional, "*")
        params = ", ".join(shown)
        print(f"{name}({params})".ljust(60) + f"  {spec.doc}")
    return 0


def cmd_zoo(args) -> int:
    from .zoo import table

    sys.stdout.write(table())
    return 0


def _show_default(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def cmd_fmt(args) -> int:
    from .fmt_files import run_fmt

    return run_fmt(args.files, check=args.check, diff=args.diff)


def cmd_lsp(args) -> int:
    from .lsp import serve

    serve()
    return 0


COMMANDS = {"check": cmd_check, "summary": cmd_summary, "compile": cmd_compile, "render": cmd_render,
            "ops": cmd_ops, "explain": cmd_explain, "fmt": cmd_fmt, "zoo": cmd_zoo, "diff": cmd_diff,
            "lsp": cmd_lsp}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CnnError as error:
        report(error.render())
        return EXIT_INPUT
    except UsageError as error:
        report(f"cnnc: error: {error}")
        return error.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # noqa: BLE001 - the one place that turns our own bugs into a report
        print("cnnc: internal error, please report it with the input that caused it:", file=sys.stderr)
        traceback.print_exc()
        return EXIT_INTERNAL


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
