"""The fuzzer's program generator: syntactically valid .cnn programs with random semantics.

Beyond plain layers, blocks, merges, loops and conditions, it draws what broke cnnc before: hostile
names (Python keywords and builtins, nn.Module attributes, the generated classes' own names, the
runtime layers' class names), non-finite and huge literals (`1e999`, `1e999 - 1e999`, 2^62), deep
nesting of every construct (some of it past the limits), side heads inside blocks, unused values
(`-> v` never read) and dead layers (`conv; @input; relu`).
"""
from __future__ import annotations

import builtins
import keyword
import re
from pathlib import Path

NAMES = ["a", "b", "w", "s", "width", "stride", "x", "skip", "c1"]
_RUNTIME = Path(__file__).with_name("runtime.py")
RUNTIME_CLASSES = re.findall(r"^class (\w+)", _RUNTIME.read_text(), re.M) if _RUNTIME.is_file() else []
MODULE_ATTRS = ["forward", "training", "to", "cuda", "eval", "train", "state_dict", "parameters", "modules",
                "children", "add_module", "register_buffer", "_modules", "_parameters", "apply", "half", "type",
                "float", "zero_grad", "extra_repr", "__init__", "__class__", "__dict__", "dump_patches"]
GENERATED = ["Net", "NetOutputs", "Block0", "Block", "Sequential", "ModuleDict", "OrderedDict", "NamedTuple",
             "F", "nn", "torch", "x", "out", "self", "super", "INPUTS", "build", "input", "getattr"]
HOSTILE = sorted(set(keyword.kwlist) | {"print", "len", "range", "min", "max", "list", "dict", "type", "id",
                                        "object", "exec", "eval", "open", "__import__", "__builtins__"}
                 | set(MODULE_ATTRS) | set(GENERATED) | set(RUNTIME_CLASSES))
HOSTILE = [n for n in HOSTILE if re.fullmatch(r"[A-Za-z_]\w*", n) and n not in (
    "in", "if", "else", "for", "true", "false", "and", "or", "not")]  # the .cnn keywords cannot be names
_BUILTINS = sorted(n for n in dir(builtins) if n.isidentifier() and not n.startswith("_"))
LEAVES = ["in.channels", "in.h", "in.w", "true", "false", '"M"', "0.5", "same", "1x1", "3x3", "2x2", "5x1"]
ODD_LITERALS = ["1e999", "-1e999", "1e999 - 1e999", "1e308 * 10", "4611686018427387904", "-4611686018427387904",
                "4611686018427387904 * 2", "9" * 99, "1e-320", "-0.0", "0.0", "1e300 * 1e300 - 1e300 * 1e300"]


def expr(rng, variables: tuple, depth: int = 0) -> str:
    if depth >= 2 or rng.random() < 0.4:
        if rng.random() < 0.05:
            return rng.choice(ODD_LITERALS)
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


def condition(rng, variables: tuple) -> str:
    """Mostly a well-typed condition (on parameters or the incoming shape), sometimes anything."""
    if rng.random() < 0.25:
        return expr(rng, variables)
    left = rng.choice(["in.channels", "in.h", "len(in.shape)", *variables])
    return f"{left} {rng.choice(['==', '!=', '<', '>='])} {rng.choice(['1', '2', '8', '16'])}"


_VALUES = {
    "int": ["1", "2", "8", "16", "32", "in.channels", "2 * in.channels", "in.channels // 2"],
    "pair": ["1", "2", "3", "1x1", "3x3", "2x2", "3x1", "5x5"],
    "padding": ["0", "1", "2", "1x0", "same", "valid", "tf_same"],
    "kernel|global": ["global", "2x2", "3x3", "1"],
    "bool": ["true", "false"],
    "bool?": ["true", "false"],
    "perm": ["[0, 2, 3, 1]", "[0, 3, 1, 2]", "[0, 1, 2, 3]", "[0, 1]"],
    "float": ["0.5", "0.1", "1e-5", "2", "0.0", "1e999", "-1e999", "1e999 - 1e999", "1e308", "1e-320"],
    "table?": ["[[0], [1, 2]]", "[[0, 1, 2]]", "[[0]]"],
}


def arg_value(rng, kind: str, variables: tuple) -> str:
    """A plausible value for an argument kind of the op table (sometimes a random expression)."""
    if rng.random() < 0.05:
        return expr(rng, variables)
    if kind.startswith("enum:"):
        return rng.choice(kind[5:].split("|"))
    key = ("int" if kind.startswith("int") else "pair" if kind.startswith("pair")
           else "float" if kind in ("float+", "prob", "prob1", "float") else kind)
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


def merge_ops() -> list[str]:
    from cnnc.dsl.ops import OPS

    return sorted(n for n, spec in OPS.items() if spec.merge)


def name(rng, hostile: bool = True) -> str:
    if hostile and rng.random() < 0.1:
        return rng.choice(_BUILTINS)
    return rng.choice(NAMES + HOSTILE if hostile else NAMES)


def statements(rng, variables: tuple, blocks: tuple, depth: int = 0) -> list[str]:
    out = []
    for _ in range(rng.randint(1, 3 if depth else 6)):
        kinds = ["layer"] * 4 + (["block"] * 2 if blocks else [])
        if depth < 2:
            kinds += ["seq", "merge", "repeat", "for", "if", "output", "output"]
        kinds += ["tap", "dead"] + (["ref"] if rng.random() < 0.3 else [])
        if depth == 0 and rng.random() < 0.1:
            kinds.append("deep")
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
        branches = [f"{name(rng) + ': ' if rng.random() < 0.2 else ''}{{ {inner()} }}"
                    for _ in range(rng.randint(1, 3))] + (["{}"] if rng.random() < 0.5 else [])
        return f"{label}{rng.choice(merge_ops())} " + " | ".join(branches) + bind
    if kind == "repeat":
        return f"{label}repeat {rng.choice(['0', '1', '2', '3'])} {{ {inner()} }}"
    if kind == "for":
        var = name(rng, False)
        items = rng.choice(["[8, 16]", '[16, "M", 32]', "range(3)", "[[1, 2], [3, 4]]", "[]"])
        return f"{label}for {var} in {items} {{ {inner((var,))} }}"
    if kind == "if":
        orelse = f" else {{ {inner()} }}" if rng.random() < 0.5 else ""
        return f"{label}if {condition(rng, variables)} {{ {inner()} }}{orelse}"
    if kind == "output":
        return f"output {name(rng)} {{ {inner()} }}"
    if kind == "ref":
        return f"@{name(rng, False)}"
    if kind == "dead":  # a value nothing reads: the layers after `-> v` until `@v` are dead
        v = name(rng, False)
        return f"-> {v}; {layer_call(rng, variables)}; @{v}"
    if kind == "deep":
        return deep(rng, variables)
    return f"-> {name(rng, False)}"


def deep(rng, variables: tuple) -> str:
    """One construct nested 5 to 300 levels deep around a layer (past 200 the source limit answers)."""
    levels = rng.choice([5, 20, 60, 120, 300])
    kind = rng.choice(["braces", "labels", "merge", "repeat", "for", "if", "output", "parens", "lists"])
    core = layer_call(rng, variables)
    if kind == "braces":
        return "{ " * levels + core + " }" * levels
    if kind == "labels":  # a: { a: { ... } }: single-child labelled groups
        label = name(rng)
        return f"{label}: {{ " * levels + core + " }" * levels
    if kind == "merge":
        return "add { " * levels + core + " } | {}" * levels
    if kind == "repeat":
        return "repeat 1 { " * levels + core + " }" * levels
    if kind == "for":
        return "".join(f"for v{i} in [1] {{ " for i in range(levels)) + core + " }" * levels
    if kind == "if":
        return "if true { " * levels + core + " }" * levels
    if kind == "output":
        return "".join(f"output o{i} {{ " for i in range(levels)) + core + " }" * levels
    if kind == "parens":
        return f"conv({'(' * levels}8{')' * levels}, 1x1)"
    return f"for v in {'[' * levels}1{']' * levels} {{ {core} }}"


def program(rng) -> str:
    """A syntactically valid program: a few blocks and one network, random semantics."""
    blocks, defs = [], []
    for index in range(rng.randint(0, 3)):
        block = rng.choice(["Block", "Unit", "Stage", "Net", "NetOutputs", *rng.sample(HOSTILE, 3)])
        block = f"{block}{index}" if rng.random() < 0.5 or block in [b for b, _ in blocks] else block
        params = rng.sample(NAMES + [rng.choice(HOSTILE)], rng.randint(0, 3))
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
    net = rng.choice(["Net", "N", "forward", "torch", "Block0", "Module", *rng.sample(HOSTILE, 2)])
    network = f"network {net}{header} {{\n    input {shape}\n    " + "\n    ".join(body) + "\n}"
    imports = rng.choice(['import "blocks.cnn"\n', 'import "resnet18.cnn"\n']) if rng.random() < 0.1 else ""
    return imports + "\n".join(defs + [network]) + "\n"
