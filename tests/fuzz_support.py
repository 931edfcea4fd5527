"""Fuzzing support shared by tests/test_fuzz.py and bench/fuzz_long.py.

The invariant, for `cnnc check`, `summary`, `render` and `compile` alike: every input ends in success
or in a diagnostic located at file:line:col with exit status 1; never a traceback, never exit 2,
never more than 2 s of CPU per command (memory is checked in the subprocess tests).

Inputs come from three hypothesis strategies: random bytes and unicode text; mutations of the zoo
and example files (tokens deleted, duplicated, swapped or replaced, truncation, spliced lines); and
`programs()`, a generator of syntactically valid programs with random semantics.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import json
import re
import time
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
CORPUS_FILES = sorted((ROOT / "archs").glob("*.cnn")) + sorted((ROOT / "examples").glob("*.cnn"))
CORPUS = {path.name: path.read_text() for path in CORPUS_FILES}
LIBRARY = (ROOT / "examples" / "blocks.cnn").read_text()  # imported by examples/mobilenet.cnn

LOCATED = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): error: ", re.M)
CPU_LIMIT_S = 2.0


# ---- which commands exist ---------------------------------------------------------------------

def cli_compile_ready() -> bool:
    """`cnnc compile` is being written by another session; it is tested once it is wired up."""
    from cnnc import cli

    return "not implemented" not in inspect.getsource(cli.cmd_compile)


def render_ready() -> bool:
    from cnnc import cli

    return "not implemented" not in inspect.getsource(cli.cmd_render)


def pysource_ready() -> bool:
    return (ROOT / "compiler" / "pysource.py").is_file()


# ---- running the CLI in-process -------------------------------------------------------------------

def run_cli(argv: list[str]) -> tuple[int, str, str, float]:
    """cnnc.cli.main(argv) with captured output: (exit status, stdout, stderr, CPU seconds)."""
    from cnnc.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.process_time()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit_:  # argparse
            status = exit_.code
    return status, out.getvalue(), err.getvalue(), time.process_time() - start


def assert_outcome(argv: list[str], path: str, text: str | None) -> tuple[int, str]:
    """Run one command and check the invariant; returns (status, stdout)."""
    status, out, err, seconds = run_cli(argv)
    where = f"cnnc {' '.join(argv)}"
    assert "Traceback" not in err and "internal error" not in err, f"{where}\n{err}"
    assert status in (0, 1), f"{where}: exit {status}\n{err}"
    assert seconds < CPU_LIMIT_S, f"{where}: {seconds:.2f} s"
    if status == 1:
        assert_located(err, path, text, where)
    return status, out


def assert_located(err: str, path: str, text: str | None, where: str = "") -> None:
    match = LOCATED.search(err)
    assert match, f"{where}: no located error in\n{err}"
    from cnnc.dsl.loader import zoo_dir

    here = Path(match["path"]).resolve().parent in (Path(path).resolve().parent, zoo_dir().resolve())  # or its imports
    assert here, f"{where}: located outside the case's directory\n{err}"
    line, column = int(match["line"]), int(match["col"])
    if text is not None and match["path"] == path:  # the location lies inside the text (or just after)
        lines = text.split("\n")
        assert 1 <= line <= len(lines) + 1, f"{where}: line {line} of {len(lines)}\n{err}"
        assert column >= 1, f"{where}: column {column}\n{err}"


_WARM = []


def warm_up() -> None:
    """Import every backend once, so the first case's CPU time is not the imports' (torch's ~2 s)."""
    if not _WARM:
        import cnnc.summary  # noqa: F401
        import networkx  # noqa: F401

        for module in ("cnnc.pysource", "cnnc.graphviz_backend"):
            with contextlib.suppress(ImportError):
                __import__(module)
        _WARM.append(True)


def check_file(path: str, text: str | None, full: bool = True) -> dict:
    """All commands on one file. `full`: render and compile too (else only check and summary); they
    load the file as check does, so a failing input goes through them one time in four."""
    warm_up()
    outcome = {}
    status, _ = assert_outcome(["check", path], path, text)
    outcome["check"] = status
    status, out = assert_outcome(["summary", "--format", "json", path], path, text)
    outcome["summary"] = status
    if status == 0:
        json.loads(out)
    if not full or (status == 1 and len(text or "") % 4):
        return outcome
    if render_ready():
        status, out = assert_outcome(["render", path, "-o", "-"], path, text)
        outcome["render"] = status
        assert status == 1 or "digraph" in out, out[:200]
    if cli_compile_ready():
        status, out = assert_outcome(["compile", path, "-o", "-"], path, text)
        outcome["compile"] = status
    elif pysource_ready() and outcome["summary"] == 0:
        outcome["compile"] = check_generated_source(path)
    return outcome


def check_generated_source(path: str) -> int:
    """In-process `compile` until the CLI has it: CnnError or valid Python, nothing else."""
    import cnnc
    from cnnc.dsl.diagnostics import CnnError

    start = time.process_time()
    try:
        source = cnnc.compile_source(path)
    except CnnError as error:
        assert error.span is not None, error.render()
        return 1
    assert time.process_time() - start < CPU_LIMIT_S
    compile(source, "<generated>", "exec")  # a SyntaxError here is a generator bug
    return 0


def write_case(directory: Path, data: str | bytes, name: str = "case.cnn") -> tuple[str, str | None]:
    """Write a fuzz case next to a copy of examples/blocks.cnn; returns (path, text or None)."""
    library = directory / "blocks.cnn"
    if not library.exists():
        library.write_text(LIBRARY)
    path = directory / name
    if isinstance(data, bytes):
        path.write_bytes(data)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None
    else:
        path.write_text(data, encoding="utf-8", newline="")
        text = data
    return str(path), text


# ---- mutations of the corpus ----------------------------------------------------------------------
# Generators take a random.Random drawn by hypothesis (st.randoms): cheap to run, reproducible.

_TOKEN = re.compile(r'\s+|#[^\n]*|"[^"\n]*"|[0-9]+(?:x[0-9]+)+|[0-9]*\.?[0-9]+|[A-Za-z_][A-Za-z0-9_]*|->|[=!<>]=|//|.', re.S)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


POOL = sorted({t for text in CORPUS.values() for t in tokens(text) if not t.isspace()})
ODD = ["\t", "\r\n", "\r", "\ufeff", "\x00", "\x0c", "\u2028", "é", "\U0001f600", "{", "}", "(", ")", "[", "]",
       '"', "'", "#", "@", "->", "|", ";", ":", "=", ",", "x", "."]
EDGE_NUMBERS = ["0", "1", "-1", "2", "65536", "16777217", "99999999999", "4611686018427387904"]


def mutate(rng, text: str | None = None) -> str:
    """A zoo or example file with one to four mutations."""
    parts = tokens(text if text is not None else CORPUS[rng.choice(sorted(CORPUS))])
    for _ in range(rng.randint(1, 4)):
        parts = _mutate(rng, rng.choice(["delete", "duplicate", "swap", "replace", "truncate", "splice",
                                         "insert", "number"]), parts)
    return "".join(parts)


def _mutate(rng, kind: str, parts: list[str]) -> list[str]:
    if not parts:
        return parts
    i = rng.randrange(len(parts))
    if kind == "delete":
        return parts[:i] + parts[i + 1:]
    if kind == "duplicate":
        return parts[:i + 1] + parts[i:]
    if kind == "swap":
        j = rng.randrange(len(parts))
        parts = list(parts)
        parts[i], parts[j] = parts[j], parts[i]
        return parts
    if kind == "replace":
        return parts[:i] + [rng.choice(POOL)] + parts[i + 1:]
    if kind == "truncate":
        return parts[:i]
    if kind == "splice":  # a line of another file inserted after a newline
        line = rng.choice(CORPUS[rng.choice(sorted(CORPUS))].split("\n"))
        return parts[:i] + ["\n" + line + "\n"] + parts[i:]
    if kind == "insert":
        return parts[:i] + [rng.choice(ODD)] + parts[i:]
    numbers = [k for k, t in enumerate(parts) if t.isdigit()]
    if not numbers:
        return parts
    k = rng.choice(numbers)
    return parts[:k] + [rng.choice(EDGE_NUMBERS)] + parts[k + 1:]


def mutants():
    return st.randoms(use_true_random=False).map(mutate)


# ---- grammar-generated programs -------------------------------------------------------------------

NAMES = ["a", "b", "w", "s", "width", "stride", "x", "skip", "c1"]
HOSTILE = ["self", "forward", "class", "def", "None", "True", "torch", "nn", "super", "_modules",
           "training", "__init__", "__class__", "__import__", "exec", "eval", "os", "sys", "input_", "lambda",
           "F", "x_1", "module", "return", "pass", "global"]
LEAVES = ["in.channels", "in.h", "in.w", "true", "false", '"M"', "0.5", "same", "1x1", "3x3", "2x2", "5x1"]


def expr(rng, variables: tuple, depth: int = 0) -> str:
    if depth >= 2 or rng.random() < 0.4:
        pool = LEAVES + list(variables) * 3
        return str(rng.randint(0, 70)) if rng.random() < 0.4 else rng.choice(pool)
    sub = lambda: expr(rng, variables, depth + 1)  # noqa: E731
    kind = rng.choice(["bin", "cmp", "bool", "neg", "call", "list", "index", "paren"])
    if kind == "bin":
        return f"{sub()} {rng.choice(['+', '-', '*', '//', '%', '/'])} {sub()}"
    if kind == "cmp":
        return f"{sub()} {rng.choice(['==', '!=', '<', '<=', '>', '>='])} {sub()}"
    if kind == "bool":
        return f"{sub()} {rng.choice(['and', 'or'])} {sub()}"
    if kind == "neg":
        return f"{rng.choice(['-', 'not '])}{sub()}"
    if kind == "call":
        return f"{rng.choice(['min', 'max', 'len', 'range', 'abs'])}({sub()})"
    if kind == "list":
        return "[" + ", ".join(sub() for _ in range(rng.randint(0, 3))) + "]"
    if kind == "index":
        return f"{sub()}[{sub()}]"
    return f"({sub()})"


_VALUES = {
    "int": ["1", "2", "8", "16", "32", "in.channels", "2 * in.channels", "in.channels // 2"],
    "pair": ["1", "2", "3", "1x1", "3x3", "2x2", "3x1", "5x5"],
    "padding": ["0", "1", "2", "1x0", "same", "valid"],
    "kernel|global": ["global", "2x2", "3x3", "1"],
    "bool": ["true", "false"],
    "float": ["0.5", "0.1", "1e-5", "2", "0.0"],
    "table?": ["[[0], [1, 2]]", "[[0, 1, 2]]", "[[0]]"],
}


def arg_value(rng, kind: str, variables: tuple) -> str:
    """A plausible value for an argument kind of the op table (sometimes a random expression)."""
    if rng.random() < 0.15:
        return expr(rng, variables)
    if kind.startswith("enum:"):
        return rng.choice(kind[5:].split("|"))
    key = ("int" if kind.startswith("int") else "pair" if kind.startswith("pair")
           else "float" if kind in ("float+", "prob") else kind)
    pool = _VALUES.get(key, _VALUES["int"])
    return rng.choice(pool + list(variables)) if key == "int" else rng.choice(pool)


def layer_call(rng, variables: tuple, flat: bool = False) -> str:
    from cnnc.dsl.ops import LAYER_OPS, OPS, REQUIRED

    if flat or rng.random() < 0.5:  # mostly ops that keep the network valid
        op = rng.choice(["relu", "conv", "conv", "batchnorm", "maxpool", "identity", "dropout", "tanh"]
                        if not flat else ["linear", "relu", "dropout", "batchnorm", "identity"])
    else:
        op = rng.choice(sorted(LAYER_OPS))
    spec = OPS[op]
    parts = []
    for position, arg in enumerate(spec.args):
        if arg.default is REQUIRED:
            value = arg_value(rng, arg.kind, variables)
            parts.append(value if all(a.default is REQUIRED for a in spec.args[:position + 1])
                         else f"{arg.name}={value}")
        elif rng.random() < 0.25:
            parts.append(f"{arg.name}={arg_value(rng, arg.kind, variables)}")
    if op == "conv" and not any(p.startswith("pad=") for p in parts) and rng.random() < 0.6:
        parts.append("pad=same")
    return op if not parts and rng.random() < 0.5 else f"{op}({', '.join(parts)})"


def name(rng, hostile: bool = True) -> str:
    return rng.choice(NAMES + HOSTILE if hostile else NAMES)


def statements(rng, variables: tuple, blocks: tuple, depth: int = 0) -> list[str]:
    out = []
    for _ in range(rng.randint(1, 3 if depth else 6)):
        kinds = ["layer"] * 4 + (["block"] * 2 if blocks else [])
        if depth < 2:
            kinds += ["seq", "merge", "repeat", "for", "if", "output"]
        kinds += ["ref", "tap"]
        out.append(statement(rng, rng.choice(kinds), variables, blocks, depth))
    return out


def statement(rng, kind: str, variables: tuple, blocks: tuple, depth: int) -> str:
    inner = lambda extra=(): "; ".join(statements(rng, variables + extra, blocks, depth + 1))  # noqa: E731
    label = f"{name(rng)}: " if rng.random() < 0.3 else ""
    bind = f" -> {name(rng, False)}" if rng.random() < 0.15 else ""
    if kind == "layer":
        return label + layer_call(rng, variables) + bind
    if kind == "block":
        block, arity = rng.choice(blocks)
        args = ", ".join(arg_value(rng, "int+", variables) for _ in range(rng.randint(max(0, arity - 1), arity)))
        return f"{label}{block}({args}){bind}"
    if kind == "seq":
        return f"{label}{{ {inner()} }}{bind}"
    if kind == "merge":
        branches = [f"{{ {inner()} }}" for _ in range(rng.randint(1, 3))] + (["{}"] if rng.random() < 0.5 else [])
        return f"{label}{rng.choice(['add', 'concat'])} " + " | ".join(branches) + bind
    if kind == "repeat":
        return f"{label}repeat {rng.choice(['0', '1', '2', '3'])} {{ {inner()} }}"
    if kind == "for":
        var = name(rng, False)
        items = rng.choice(["[8, 16]", '[16, "M", 32]', "range(3)", "[[1, 2], [3, 4]]", "[]"])
        return f"{label}for {var} in {items} {{ {inner((var,))} }}"
    if kind == "if":
        orelse = f" else {{ {inner()} }}" if rng.random() < 0.5 else ""
        return f"{label}if {expr(rng, variables)} {{ {inner()} }}{orelse}"
    if kind == "output":
        return f"output {name(rng)} {{ {inner()} }}"
    if kind == "ref":
        return f"@{name(rng, False)}"
    return f"-> {name(rng, False)}"


def program(rng) -> str:
    """A syntactically valid program: a few blocks and one network, random semantics."""
    blocks, defs = [], []
    for index in range(rng.randint(0, 3)):
        block = rng.choice(["Block", "Unit", "Stage", "forward", "Module", "nn", "self", "torch"])
        block = f"{block}{index}" if rng.random() < 0.5 or block in [b for b, _ in blocks] else block
        params = rng.sample(NAMES, rng.randint(0, 3))
        defaults = [f"{p} = {rng.randint(1, 32)}" if rng.random() < 0.5 else p for p in params]
        body = statements(rng, tuple(params), tuple(blocks), 1)
        defs.append(f"block {block}({', '.join(defaults)}) {{\n    " + "\n    ".join(body) + "\n}")
        blocks.append((block, len(params)))
    params = rng.sample(NAMES, rng.randint(0, 2))
    header = f"({', '.join(f'{p} = {rng.randint(1, 16)}' for p in params)})" if params else ""
    shape = rng.choice(["3x32x32", "1x28x28", "3x17x17", "8x8x8", "64", "3x64x64", "3x1x1"])
    body = statements(rng, tuple(params), tuple(blocks))
    if rng.random() < 0.5:
        body += ["flatten", layer_call(rng, tuple(params), flat=True)]
    net = rng.choice(["Net", "N", "forward", "torch"])
    network = f"network {net}{header} {{\n    input {shape}\n    " + "\n    ".join(body) + "\n}"
    imports = 'import "blocks.cnn"\n' if rng.random() < 0.1 else ""
    return imports + "\n".join(defs + [network]) + "\n"


def programs():
    return st.randoms(use_true_random=False).map(program)
