"""The generated network's initialisation: the `init` declarations as torchvision writes them.

Each layer's choices were resolved by the analysis (dsl/init.py: node attribute `init`). Where every
module of a torch class gets the same choice, one `isinstance` branch of a loop over
`self.modules()` says it (torchvision's VGG and ResNet); layers that differ from their class's rule
follow as explicit lines, after the loop, so they win.
"""
from __future__ import annotations

from collections import Counter

from cnnc.dsl.init import SCHEMES

from . import names
from .pyops import LAYERS

INDENT = "    "


def call(init, tensor: str) -> str:
    """`nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")`."""
    args = dict(init.args)
    if init.scheme == "constant":
        return f"nn.init.constant_({tensor}, {_value(args['value'])})"
    given = [f"{name}={_value(args[spec.name])}" for spec in SCHEMES[init.scheme]
             for name in [spec.name] if spec.name in args]
    return f"nn.init.{init.scheme}_({', '.join([tensor, *given])})"


def _value(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _torch_class(graph, node: str, seen: dict) -> str:
    """The class a layer is built with, read off the constructor the backend writes for it (`seen`:
    the answers so far, by op, arguments and shapes: a 2,000-block network has few distinct layers)."""
    data = graph.nodes[node]
    edges = sorted(graph.in_edges(node, data="port"), key=lambda e: e[2] or 0)
    ins = [graph.nodes[source]["shape"] for source, _, _ in edges]
    key = (data["op"], repr(data["args"]), repr(ins), repr(data["shape"]))
    if key not in seen:
        seen[key] = LAYERS[data["op"]](data["args"], ins, data["shape"], False).ctor  # a pyops.Layer's class
    return seen[key]


def init_lines(graph) -> list[str]:
    """Lines for the end of the network's `__init__` (no indentation); [] when nothing is declared."""
    chosen = {node: data["init"] for node, data in graph.nodes(data=True) if data.get("init")}
    if not chosen:
        return []
    from cnnc.dsl.init import parameters

    members: dict[str, list[str]] = {}  # torch class -> every layer built with it
    seen: dict = {}
    for node, data in graph.nodes(data=True):
        if parameters(data["op"], data["args"]):
            members.setdefault(_torch_class(graph, node, seen), []).append(node)
    loop, rules = [], {}  # (class, param) -> the init the loop applies
    handled: set = set()  # (layer, param) drawn in the loop by an `m is ...` branch
    for klass, nodes in members.items():
        params = sorted({p for n in nodes for p in parameters(graph.nodes[n]["op"], graph.nodes[n]["args"])},
                        key=lambda p: (p != "weight", p))
        body = []
        for param in params:
            having = [n for n in nodes if param in parameters(graph.nodes[n]["op"], graph.nodes[n]["args"])]
            picks = [chosen.get(n, {}).get(param) for n in having]
            if any(p is None for p in picks):
                continue  # some keep torch's default: say each of the others explicitly
            common = Counter(p.text() for p in picks).most_common(1)[0][0]
            init = next(p for p in picks if p.text() == common)
            rules[(klass, param)] = init
            lines_ = _with_exceptions(having, picks, init, param, handled)
            optional = len(having) < len(nodes)
            body += [f"if m.{param} is not None:", *(INDENT + line for line in lines_)] if optional else lines_
        if body:
            loop.append(([klass], body))
    merged: list = []  # classes with the same body share one branch: isinstance(m, (nn.Conv2d, nn.Linear))
    for classes, body in loop:
        same = next((entry for entry in merged if entry[1] == body), None)
        if same is None:
            merged.append((list(classes), body))
        else:
            same[0].extend(classes)
    branches = []
    for classes, body in merged:
        kinds = classes[0] if len(classes) == 1 else f"({', '.join(classes)})"
        branches += [f"{'if' if not branches else 'elif'} isinstance(m, {kinds}):", *(INDENT + b for b in body)]
    lines = ["for m in self.modules():", *(INDENT + line for line in branches)] if branches else []
    explicit = []
    for node, picks in chosen.items():
        klass = _torch_class(graph, node, seen)
        for param, init in picks.items():
            rule = rules.get((klass, param))
            if (node, param) not in handled and (rule is None or rule.text() != init.text()):
                explicit.append((node, param, init))
    if explicit:
        paths = names.attribute_paths([node for node, _, _ in explicit])
        for (node, param, init), path in zip(explicit, paths):
            lines.append(call(init, f"{_module(path)}.{param}"))
    return ["# initialisation declared with `init` (torch's default elsewhere)", *lines]


def _with_exceptions(having, picks, init, param, handled) -> list[str]:
    """The loop's line for one parameter; layers with another rule get an `m is ...` branch first, so
    each parameter is drawn once, in module order, as torchvision's SqueezeNet and Inception do."""
    others = [(node, pick) for node, pick in zip(having, picks) if pick.text() != init.text()]
    if not others:
        return [call(init, f"m.{param}")]
    paths = names.attribute_paths([node for node, _ in others])
    lines = []
    for (node, pick), path in zip(others, paths):
        lines += [f"{'if' if not lines else 'elif'} m is {_module(path)}:", INDENT + call(pick, f"m.{param}")]
        handled.add((node, param))
    return lines + ["else:", INDENT + call(init, f"m.{param}")]


def _module(path: str) -> str:
    """`self.layer1.bn3` where every step is a plain attribute, else `self.get_submodule("...")`."""
    import keyword

    parts = path.split(".")
    if all(part.isidentifier() and not keyword.iskeyword(part) for part in parts):
        return "self." + path
    return f'self.get_submodule("{path}")'
