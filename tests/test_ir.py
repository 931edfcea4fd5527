"""The IR and the layering around it: the language half (dsl/) never imports the compiler half or
torch, and the op table and the expression evaluator import each other in neither direction."""
import ast
import subprocess
import sys

import pytest

from conftest import ARCHS, EXAMPLES, ROOT

from cnnc import dsl


def _imports(path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a dsl/ file; relative imports that climb out
    of dsl/ (`from .. import x`) are reported as `..x`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.lineno, node.module))
            elif node.level > 1:
                found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def test_dsl_imports_neither_the_compiler_nor_torch():
    files = sorted((ROOT / "dsl").glob("*.py"))
    assert len(files) > 10
    wrong = [f"{path.name}:{line}: {module}" for path in files for line, module in _imports(path)
             if module.startswith("..") or module.split(".")[0] == "torch"
             or (module.split(".")[0] == "cnnc" and not (module + ".").startswith("cnnc.dsl."))]
    assert not wrong, wrong


def _loaded_after(module: str) -> set:
    code = f"import sys, {module}; print(' '.join(sorted(m for m in sys.modules if m.startswith('cnnc'))))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_ops_and_expressions_do_not_import_each_other():
    assert "cnnc.dsl.ops" in _loaded_after("cnnc.dsl.ops")
    assert "cnnc.dsl.expressions" not in _loaded_after("cnnc.dsl.ops")
    assert "cnnc.dsl.expressions" in _loaded_after("cnnc.dsl.expressions")
    assert "cnnc.dsl.ops" not in _loaded_after("cnnc.dsl.expressions")


def test_jupyter_views_come_from_the_compiler():
    """dsl's graph draws nothing itself: the compiler registers its views when `cnnc` is imported,
    which happens before `cnnc.dsl` can be imported, so every public graph has them."""
    graph = dsl.build("examples/tiny_cnn.cnn")
    html = graph._repr_html_()
    from cnnc.summary import to_html

    assert html == to_html(graph, depth=1) and "<td>conv1</td>" in html
    from cnnc.dsl.graph import VIEWS
    assert set(VIEWS) == {"svg", "html"} and all(view.__module__ == "cnnc" for view in VIEWS.values())


SAMPLE = """
block Unit(c) {
    conv(c, 3x3, pad=1)
    relu
    skip: if c > 100 { conv(c, 1x1) }
}
network N {
    input 3x16x16
    stem: { conv(8, 3x3, pad=1); batchnorm }
    repeat 2 { Unit(8) }
    m: add { Unit(8) } | {}
    group { conv(8, 1x1); group { relu } }
    output aux { avgpool(global); flatten; fc: linear(10) }
    avgpool(global)
}
"""


def _kinds(scope) -> list:
    return [(type(e).__name__, e.path) for e in scope.children]


def test_the_tree_is_recorded_as_the_source_nests():
    graph = dsl.build(text=SAMPLE, networkx=False)
    tree = graph.tree
    assert tree is graph.graph["tree"]
    assert tree.root.name == "N"
    assert _kinds(tree.root) == [("Layer", "input"), ("Group", "stem"), ("Instance", "1"), ("Instance", "2"),
                                 ("Group", "m"), ("Group", "4"), ("Group", "aux"), ("Layer", "6")]
    m = tree.find("m")
    assert (m.kind, _kinds(m)) == ("merge", [("Instance", "m.0"), ("Layer", "m")])
    assert tree.layer("m").part == "" and tree.layer("m").parent is m
    unit = tree.find("m.0")
    assert (unit.block, unit.args, unit.span.line) == ("Unit", (("c", 8),), 11)
    assert _kinds(unit) == [("Layer", "m.0.0"), ("Layer", "m.0.1")]  # `skip` holds no layer: not kept
    assert tree.find("m.0.skip") is None and tree.find("nothing") is None and tree.find("") is tree.root
    assert [e.path for e in tree.find("4").walk()] == ["4.0", "4.1", "4.1.0"]
    assert tree.find("4").kind == "group" and tree.find("aux").kind == "output"
    assert tree.find("stem").kind == "group" and tree.find("stem").part == "stem"
    assert tree.parent("m.0.1") is unit and tree.parent("m") is tree.root and tree.parent("m.0") is m
    assert tree.instance_of("m.0.1") is unit and tree.instance_of("m") is None and tree.instance_of("4.1.0") is None
    assert [s.path for s in tree.layer("m.0.1").ancestors()] == ["m.0", "m", ""]
    assert [i.path for i in tree.instances()] == ["1", "2", "m.0"]
    assert tree.find("m").layers() == ["m.0.0", "m.0.1", "m"]
    assert graph.nodes["m.0.1"].scope == (unit,)  # a node's scope: the same instance entries


def test_nodes_are_typed_and_still_read_as_mappings():
    graph = dsl.build(text=SAMPLE)  # the public networkx graph holds the same typed nodes
    node = graph.nodes["m"]
    assert (node.path, node.op, node.inputs, node.shape) == ("m", "add", ("m.0.1", "2.1"), (8, 16, 16))
    assert node["op"] == "add" and node["shape"] == node.shape and node["params"] == node.meta["params"] == 0
    assert [graph.nodes[s].path for s, _, _ in sorted(graph.in_edges("m", data="port"), key=lambda e: e[2])] == \
        list(node.inputs)
    assert node.get("frozen") is None and "rf" in node and "frozen" not in node and "scope" in node
    node["note"] = "mine"
    assert node.meta["note"] == "mine" and dict(node)["note"] == "mine"
    assert set(node) == {"path", "op", "args", "inputs", "shape", "span", "scope", *node.meta}
    with pytest.raises(KeyError):
        del node["shape"]
    assert graph.tree.find("m").layers() == ["m.0.0", "m.0.1", "m"]  # the tree survives to_networkx()
    assert type(graph.copy().nodes["m"]) is dict  # networkx's own copies hold plain dicts


def _trees():
    for path in [*ARCHS, *EXAMPLES, *sorted((ROOT / "tests" / "cases").glob("*.cnn"))]:
        try:
            yield path, dsl.build(str(path), networkx=False)
        except dsl.CnnError:
            continue  # a case that shows an error


def test_the_tree_agrees_with_every_path():
    """Every shipped network and example: the recorded tree is exactly what the dotted paths imply
    (paths are derived from the tree, and each prefix names one kept entry)."""
    checked = 0
    for path, graph in _trees():
        tree, nodes = graph.tree, list(graph.nodes)
        assert tree.root.layers() == nodes, path  # depth first in source order is creation order
        for node in nodes:
            parts = node.split(".")
            chain = [s.path for s in reversed(tree.layer(node).ancestors())]
            prefixes = ["", *(".".join(parts[:k]) for k in range(1, len(parts)))]
            assert chain in (prefixes, prefixes + [node]), (path, node, chain)  # + a labelled merge's group
            assert graph.nodes[node].scope == tuple(s for s in reversed(tree.layer(node).ancestors())
                                                    if s.__class__.__name__ == "Instance")
        assert tree.paths() == {".".join(n.split(".")[:k]) for n in nodes for k in range(1, n.count(".") + 2)}
        checked += 1
    assert checked > 30


def test_the_public_graph_pickles_with_its_nodes_and_tree():
    """For multiprocessing and caches: the networkx class is made on first use, so it pickles through
    a module-level function; the copy keeps typed nodes, the tree, and the instances they share."""
    import pickle

    graph = dsl.build(text=SAMPLE)
    copy = pickle.loads(pickle.dumps(graph))
    assert type(copy) is type(graph) and repr(copy) == repr(graph) and list(copy.edges) == list(graph.edges)
    assert copy.nodes["m.0.1"].meta == graph.nodes["m.0.1"].meta
    assert copy.nodes["m.0.1"].scope == (copy.tree.find("m.0"),) and copy.tree.find("m").layers() == ["m.0.0", "m.0.1", "m"]
