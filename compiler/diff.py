"""`cnnc diff A B`: two analysed networks compared layer by layer (matched by path), with totals and
the checkpoint view (which of A's state_dict entries B loads unchanged), all without torch.

Added and removed layers are reported by the largest group that is wholly new or wholly gone
(`layer3.6 … layer3.22: 17 × Bottleneck(256, 1)`), so a deeper variant reads as one line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from cnnc.dsl.ir import Scope
from cnnc.dsl.values import show

from .diagram_labels import label
from .state_dict import entries

SEP = " \u2026 "


@dataclass
class Diff:
    a: object                    # analysed graphs
    b: object
    added: list = field(default_factory=list)      # Group lines: wholly new in B
    removed: list = field(default_factory=list)    # ... wholly gone from A
    changed: list = field(default_factory=list)    # (path, facts in A, facts in B)
    blocks: list = field(default_factory=list)     # (path, call in A, call in B): block arguments that differ
    unchanged_keys: list = field(default_factory=list)
    reshaped_keys: list = field(default_factory=list)  # (key, shape in A, shape in B)
    only_a_keys: list = field(default_factory=list)
    only_b_keys: list = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed or self.blocks or self.reshaped_keys
                    or self.only_a_keys or self.only_b_keys or _io(self.a) != _io(self.b))


@dataclass
class Group:
    """Consecutive sibling groups (or single layers) that are all added, or all removed."""

    first: str
    last: str
    count: int                   # groups (or layers) in the run
    what: str                    # `Bottleneck(256, 1)`, `conv 3x3, 256`, `group`
    layers: int
    params: int
    macs: int


def _facts(graph, node) -> dict:
    data = graph.nodes[node]
    return {"kind": data["op"], "op": label(data), "shape": list(data["shape"]), "params": data["params"],
            "macs": data["macs"]}


def _io(graph) -> tuple:
    return (tuple((n, tuple(s)) for n, s in graph.graph["inputs"].items()),
            tuple((n, tuple(graph.nodes[v]["shape"])) for n, v in graph.graph["outputs"].items()))


def compare(a, b) -> Diff:
    diff = Diff(a, b)
    only_a = [n for n in a.nodes if n not in b.nodes]
    only_b = [n for n in b.nodes if n not in a.nodes]
    diff.removed = _grouped(a, only_a, b)
    diff.added = _grouped(b, only_b, a)
    for node in a.nodes:
        if node in b.nodes:
            fa, fb = _facts(a, node), _facts(b, node)
            if fa != fb or a.nodes[node]["args"] != b.nodes[node]["args"]:
                diff.changed.append((node, fa, fb))
    calls_a, calls_b = _calls(a), _calls(b)
    diff.blocks = [(p, calls_a[p], calls_b[p]) for p in calls_a if p in calls_b and calls_a[p] != calls_b[p]]
    sa = {k: s for keys in entries(a).values() for k, s in keys}
    sb = {k: s for keys in entries(b).values() for k, s in keys}
    for key, shape in sa.items():
        if key not in sb:
            diff.only_a_keys.append(key)
        elif sb[key] == shape:
            diff.unchanged_keys.append(key)
        else:
            diff.reshaped_keys.append((key, shape, sb[key]))
    diff.only_b_keys = [k for k in sb if k not in sa]
    return diff


def _calls(graph) -> dict:
    """Block instance path -> its call (`Bottleneck(64, 1)`), from the module tree."""
    return {entry.path: f"{entry.block}({', '.join(show(v, 40) for _, v in entry.args)})"
            for entry in graph.graph["tree"].instances()}


def _grouped(graph, paths: list, other) -> list:
    """`paths` (layers of `graph` absent from the `other` network) as the largest wholly absent
    groups, consecutive siblings with the same description merged into one run."""
    if not paths:
        return []
    absent = set(paths)
    named_other = other.graph["tree"].paths()
    tree = graph.graph["tree"]
    calls = _calls(graph)
    tops, seen = [], set()
    for path in paths:
        top = path
        for scope in reversed(tree.layer(path).ancestors()[:-1]):  # outermost first, the network excluded
            if scope.path == path:
                break  # a labelled merge's group: named as its layer
            if scope.path not in named_other and all(n in absent for n in scope.layers()):
                top = scope.path
                break
        if top not in seen:
            seen.add(top)
            tops.append(top)
    groups: list[Group] = []
    for top in tops:
        members = _under(graph, top) or [top]
        what = calls.get(top) or (label(graph.nodes[top]) if top in graph.nodes else f"group of {len(members)} layers")
        params = sum(graph.nodes[m]["params"] for m in members)
        macs = sum(graph.nodes[m]["macs"] for m in members)
        previous = groups[-1] if groups else None
        if previous and previous.what == what and top in calls and _next(previous.last, top):
            previous.last, previous.count = top, previous.count + 1
            previous.layers += len(members)
            previous.params += params
            previous.macs += macs
        else:
            groups.append(Group(top, top, 1, what, len(members), params, macs))
    return groups


def _under(graph, path: str) -> list:
    """The layers under `path` (a layer path names itself)."""
    entry = graph.graph["tree"].find(path)
    return entry.layers() if isinstance(entry, Scope) else [path]


def _next(a: str, b: str) -> bool:
    """`layer3.6` then `layer3.7`: consecutive numbered siblings."""
    pa, _, ia = a.rpartition(".")
    pb, _, ib = b.rpartition(".")
    return pa == pb and ia.isdigit() and ib.isdigit() and int(ib) == int(ia) + 1


# ---- output -------------------------------------------------------------------------------------

def _signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else f"{n:,}" if n < 0 else "0"


def _pct(a: int, b: int) -> str:
    if not a or a == b:
        return ""
    pct = (b - a) / a * 100
    return f" ({pct:+.1f}%)" if abs(pct) >= 0.05 else f" ({'+' if pct > 0 else '-'}<0.1%)"


def _shape(shape) -> str:
    return "x".join(str(n) for n in shape)


def _span(g: Group) -> str:
    return g.first if g.count == 1 else f"{g.first}{SEP}{g.last}"


def _what(g: Group) -> str:
    return g.what if g.count == 1 else f"{g.count} × {g.what}"


def totals(diff: Diff) -> list:
    ta, tb = diff.a.graph["totals"], diff.b.graph["totals"]
    rows = [("layers", len(diff.a.nodes), len(diff.b.nodes)), ("params", ta["params"], tb["params"]),
            ("MACs", ta["macs"], tb["macs"]), ("buffers", ta["buffers"], tb["buffers"])]
    return rows


def to_json(diff: Diff) -> str:
    def side(graph):
        t = graph.graph["totals"]
        return {"network": graph.graph["name"], "source": str(graph.graph["source"]), "layers": len(graph.nodes),
                "params": t["params"], "macs": t["macs"], "buffers": t["buffers"],
                "inputs": {n: list(s) for n, s in graph.graph["inputs"].items()},
                "outputs": {n: list(graph.nodes[v]["shape"]) for n, v in graph.graph["outputs"].items()}}

    def groups(items):
        return [{"first": g.first, "last": g.last, "count": g.count, "what": g.what, "layers": g.layers,
                 "params": g.params, "macs": g.macs} for g in items]

    document = {
        "identical": diff.identical, "a": side(diff.a), "b": side(diff.b),
        "added": groups(diff.added), "removed": groups(diff.removed),
        "changed": [{"path": p, "a": fa, "b": fb} for p, fa, fb in diff.changed],
        "blocks_changed": [{"path": p, "a": ca, "b": cb} for p, ca, cb in diff.blocks],
        "checkpoint": {"unchanged": diff.unchanged_keys,
                       "reshaped": [{"key": k, "a": list(sa), "b": list(sb)} for k, sa, sb in diff.reshaped_keys],
                       "only_in_a": diff.only_a_keys, "only_in_b": diff.only_b_keys},
    }
    return json.dumps(document, indent=2) + "\n"


def _by_block(diff: Diff, items: list, path_of) -> list:
    """`items` in runs by the outermost block instance with other arguments that holds them (None:
    held by none), in order."""
    runs: list = []
    for item in items:
        path = path_of(item)
        owner = next((p for p, _, _ in diff.blocks if path.startswith(p + ".")), None)
        if runs and runs[-1][0] == owner and owner is not None:
            runs[-1][1].append(item)
        else:
            runs.append((owner, [item]))
    return runs


def _block_runs(blocks: list) -> list:
    """Consecutive numbered siblings with the same change as one row: `layer3.1 … layer3.5`."""
    runs: list = []
    for path, ca, cb in blocks:
        if runs and (runs[-1][2], runs[-1][3]) == (ca, cb) and _next(runs[-1][1], path):
            runs[-1][1] = path
        else:
            runs.append([path, path, ca, cb])
    return [(first if first == last else f"{first}{SEP}{last}", ca, cb) for first, last, ca, cb in runs]


def _changed_rows(diff: Diff, code) -> list:
    """Changed layers; those inside a block instance whose arguments changed, as one row per block."""
    rows = []
    for owner, items in _by_block(diff, diff.changed, lambda item: item[0]):
        if owner is None:
            rows += [(code(p), f"{fa['op']} → {_shape(fa['shape'])}", "->", f"{fb['op']} → {_shape(fb['shape'])}",
                      f"{_signed(fb['params'] - fa['params'])} params", f"{_signed(fb['macs'] - fa['macs'])} MACs")
                     for p, fa, fb in items]
        else:
            params = sum(fb["params"] - fa["params"] for _, fa, fb in items)
            macs = sum(fb["macs"] - fa["macs"] for _, fa, fb in items)
            rows.append((code(owner + ".*"), f"{_n(len(items), 'layer')} (see its arguments above)", "", "",
                         f"{_signed(params)} params", f"{_signed(macs)} MACs"))
    return rows


def _n(count: int, what: str) -> str:
    return f"{count:,} {what}" + ("" if count == 1 else "s")


def _keys(keys: list, limit: int = 6) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", … {len(keys) - limit} more" if len(keys) > limit else "")


def _lines(diff: Diff, md: bool) -> list[str]:
    a, b = diff.a.graph, diff.b.graph
    code = (lambda t: f"`{t}`") if md else (lambda t: t)
    out = []
    rows = [("", "A", "B", "change")]
    for name, va, vb in totals(diff):
        rows.append((name, f"{va:,}", f"{vb:,}", (_signed(vb - va) + _pct(va, vb)) if va != vb else "="))
    for name in dict.fromkeys([*a["outputs"], *b["outputs"]]):
        sa = _shape(diff.a.nodes[a["outputs"][name]]["shape"]) if name in a["outputs"] else "-"
        sb = _shape(diff.b.nodes[b["outputs"][name]]["shape"]) if name in b["outputs"] else "-"
        rows.append((f"output {name}" if name != "output" else "output", sa, sb, "=" if sa == sb else "changed"))
    out += _table(rows, md, right=(False, True, True, False), header=True)
    blocks = _block_runs(diff.blocks)
    sections = [("Blocks with other arguments", ("path", "A", "", "B"),
                 [(code(p), ca, "->", cb) for p, ca, cb in blocks]),
                ("Added in B", ("path", "what", "layers", "params", "MACs"), [(code(_span(g)), _what(g), _n(g.layers, "layer"), f"{_signed(g.params)} params",
                                 f"{_signed(g.macs)} MACs") for g in diff.added]),
                ("Removed from A", ("path", "what", "layers", "params", "MACs"), [(code(_span(g)), _what(g), _n(g.layers, "layer"), f"{_signed(-g.params)} params",
                                     f"{_signed(-g.macs)} MACs") for g in diff.removed]),
                ("Changed", ("path", "A", "", "B", "params", "MACs"), _changed_rows(diff, code))]
    for title, header, items in sections:
        if items:
            out += ["", f"{'### ' if md else ''}{title} ({len(items)})"]
            out += _table([header] + items, md, header=True) if md else ["  " + line for line in _table(items, md)]
    renumbered = [p for p, fa, fb in diff.changed if p.rpartition(".")[2].isdigit() and fa["kind"] != fb["kind"]]
    if renumbered:
        out += ["", "note: numbered paths are positions: a layer inserted or removed before others renumbers them "
                    "(and their state_dict keys)"]
    n_a = len(diff.unchanged_keys) + len(diff.reshaped_keys) + len(diff.only_a_keys)
    out += ["", f"{'### ' if md else ''}Checkpoint: A's state_dict ({n_a} keys) loaded into B"]
    facts = [("loads unchanged", _n(len(diff.unchanged_keys), "key")),
             ("changes shape", _n(len(diff.reshaped_keys), "key")),
             ("only in A (unexpected in B)", _n(len(diff.only_a_keys), "key") + (
                 f": {_keys(diff.only_a_keys)}" if diff.only_a_keys else "")),
             ("new in B (missing from A)", _n(len(diff.only_b_keys), "key") + (
                 f": {_keys(diff.only_b_keys)}" if diff.only_b_keys else ""))]
    out += _table([("", "")] + facts, md, header=True) if md else ["  " + line for line in _table(facts, md)]
    if diff.reshaped_keys:
        reshaped = []
        for owner, items in _by_block(diff, diff.reshaped_keys, lambda item: item[0]):
            if owner is None:
                reshaped += [(code(k), _shape(sa) or "scalar", "->", _shape(sb) or "scalar") for k, sa, sb in items]
            else:
                k, sa, sb = items[0]
                reshaped.append((code(owner + ".*"), _n(len(items), "key"), "",
                                 f"e.g. {k}: {_shape(sa) or 'scalar'} -> {_shape(sb) or 'scalar'}"))
        out += [""] + (_table([("key", "A", "", "B")] + reshaped, md, header=True) if md
                       else ["  " + line for line in _table(reshaped, md)])
    strict = not (diff.reshaped_keys or diff.only_a_keys or diff.only_b_keys)
    out += ["", "load_state_dict(strict=True) " + ("succeeds" if strict else "fails") +
            (f"; strict=False loads {len(diff.unchanged_keys):,} keys" if not strict and not diff.reshaped_keys else "") +
            ("; strict=False also fails: shapes differ (load the unchanged keys only)" if diff.reshaped_keys else "")]
    return out


def _table(rows: list, md: bool, right=None, header: bool = False) -> list[str]:
    if md:
        head, *body = rows
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if right and right[i] else "---"
                                                                   for i in range(len(head))) + "|"]
        return lines + ["| " + " | ".join(r) + " |" for r in body]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = right or [False] * len(widths)
    return ["  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right)).rstrip() for row in rows]


def _header(diff: Diff) -> list[str]:
    a, b = diff.a.graph, diff.b.graph
    verdict = "identical" if diff.identical else "different"
    return [f"A: {a['name']} ({a['source']})", f"B: {b['name']} ({b['source']})", f"{verdict}", ""]


def to_table(diff: Diff) -> str:
    return "\n".join(_header(diff) + _lines(diff, False)) + "\n"


def to_markdown(diff: Diff) -> str:
    a, b = diff.a.graph, diff.b.graph
    head = [f"## {a['name']} → {b['name']}", "", f"A: `{a['source']}`, B: `{b['source']}`: "
            f"{'identical' if diff.identical else 'different'}", ""]
    return "\n".join(head + _lines(diff, True)) + "\n"


FORMATS = {"table": to_table, "json": to_json, "markdown": to_markdown}
