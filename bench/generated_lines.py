"""How long the generated PyTorch is: per zoo network, the `.cnn` file's lines beside the generated
module's, and for ResNet-50 and VGG-16 beside torchvision's source for the same network.

    python bench/generated_lines.py

Lines are counted the same way everywhere: non-blank lines that are not comments, docstrings
excluded (torchvision's `resnet50` docstring is 20 lines of weight documentation). The generated
module is `cnnc compile FILE -o -` (classes, `INPUTS`, `build`, the header comment not counted).
torchvision's source is what building that one network needs:

- ResNet-50: `conv3x3`, `conv1x1`, `Bottleneck`, `ResNet`, `_resnet`, `resnet50`
  (torchvision.models.resnet; `BasicBlock`, used by ResNet-18/34 only, is left out);
- VGG-16: `VGG`, `cfgs` (all four configurations, as the module holds them), `make_layers`, `_vgg`,
  `vgg16` (torchvision.models.vgg).

`classes` counts every class of the generated module: one per block definition used, the network's,
and the runtime helpers torch lacks (`StochasticDepth`, `Permute`, `LayerNorm2d`, ...).

Without torchvision the last column says so and the rest is unchanged.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TORCHVISION = {
    "resnet50": ("torchvision.models.resnet", ["conv3x3", "conv1x1", "Bottleneck", "ResNet", "_resnet", "resnet50"]),
    "vgg16": ("torchvision.models.vgg", ["VGG", "cfgs", "make_layers", "_vgg", "vgg16"]),
}


def cnn_lines(text: str) -> int:
    """Non-blank lines of a .cnn file that are not only a comment."""
    return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))


def python_lines(source: str) -> int:
    """Non-blank, non-comment lines of Python source, docstrings excluded."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                skipped.update(range(first.lineno, first.end_lineno + 1))
    return sum(1 for number, line in enumerate(source.splitlines(), 1)
               if number not in skipped and line.strip() and not line.strip().startswith("#"))


def torchvision_lines(name: str) -> int | None:
    """Lines of torchvision's source for network `name`, or None without torchvision."""
    if name not in TORCHVISION or importlib.util.find_spec("torchvision") is None:
        return None
    module_name, parts = TORCHVISION[name]
    module = importlib.import_module(module_name)
    source = inspect.getsource(module)
    total = 0
    for part in parts:
        value = getattr(module, part)
        if callable(value):
            total += python_lines(inspect.getsource(value))
        else:  # a module-level table (vgg's cfgs): its assignment's lines
            node = next(n for n in ast.parse(source).body if isinstance(n, (ast.Assign, ast.AnnAssign))
                        and part in [t.id for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                                     if isinstance(t, ast.Name)])
            total += python_lines("\n".join(source.splitlines()[node.lineno - 1:node.end_lineno]))
    return total


def rows() -> list[dict]:
    from cnnc import dsl
    from cnnc.pysource import generate

    result = []
    for path in sorted((ROOT / "archs").glob("*.cnn")):
        source = generate(dsl.build(str(path)))
        classes = sum(1 for n in ast.parse(source).body if isinstance(n, ast.ClassDef))
        result.append({"network": path.stem, "cnn": cnn_lines(path.read_text()), "py": python_lines(source),
                       "classes": classes, "torchvision": torchvision_lines(path.stem)})
    return result


def table(found: list[dict]) -> str:
    have = importlib.util.find_spec("torchvision") is not None
    lines = ["| network | .cnn lines | generated .py lines | classes | torchvision's source lines |",
             "|---|---:|---:|---:|---:|"]
    for row in found:
        tv = row["torchvision"]
        shown = str(tv) if tv is not None else ("" if have or row["network"] not in TORCHVISION
                                                 else "(torchvision not installed)")
        lines.append(f"| {row['network']} | {row['cnn']} | {row['py']} | {row['classes']} | {shown} |")
    return "\n".join(lines)


def main() -> None:
    print(table(rows()))


if __name__ == "__main__":
    main()
