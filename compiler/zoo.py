"""The shipped networks (the zoo) and the shipped examples, as users list them (`cnnc zoo`)."""
from __future__ import annotations

from pathlib import Path


def examples_dir() -> Path | None:
    """The example files: `examples/` in a checkout, `cnnc/examples` in an installed wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "examples", here.parent / "examples"):
        if candidate.is_dir():
            return candidate
    return None


def description(text: str) -> str:
    """A network's one-line description: the first line of its opening comment, e.g.
    `ResNet-50: K. He, X. Zhang, S. Ren and J. Sun, ...`."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            return line.lstrip("#").strip().rstrip(",")
        if line:
            break
    return ""


def shipped() -> list[dict]:
    """Every shipped network, analysed at its declared input: name (what `cnnc summary NAME` and
    `import "NAME.cnn"` take), network, params, MACs, depth, input shape and description."""
    from cnnc import dsl
    from cnnc.dsl.loader import zoo_dir

    result = []
    for path in sorted(zoo_dir().glob("*.cnn")):
        graph = dsl.build(path.stem, networkx=False)
        totals = graph.graph["totals"]
        result.append({"name": path.stem, "network": graph.graph["name"], "params": totals["params"],
                       "macs": totals["macs"], "depth": totals["depth"],
                       "input": next(iter(graph.graph["inputs"].values())),
                       "description": description(path.read_text(encoding="utf-8"))})
    return result


def table(width: int = 130) -> str:
    """`cnnc zoo`: one line per shipped network, then where the examples are."""
    from .summary import macs_text

    rows = [(n["name"], n["network"], f"{n['params']:,}", macs_text(n["macs"]), str(n["depth"]),
             "x".join(map(str, n["input"])), n["description"]) for n in shipped()]
    headers = ("name", "network", "params", "MACs", "depth", "input", "description")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    right = (False, False, True, True, True, False, False)

    def line(values) -> str:
        cells = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values[:-1], widths, right)]
        text = "  ".join(cells) + "  "
        room = max(20, width - len(text))
        last = values[-1] if len(values[-1]) <= room else values[-1][:room - 3] + "..."
        return (text + last).rstrip()

    out = [line(headers)] + [line(r) for r in rows]
    out.append("")
    out.append("Use a name anywhere a file goes (`cnnc summary resnet50`), or import its blocks: "
               'import "resnet50.cnn"')
    examples = examples_dir()
    if examples is not None:
        out.append(f"Examples, one small file per construct: {_shown(examples)}")
    return "\n".join(out) + "\n"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
