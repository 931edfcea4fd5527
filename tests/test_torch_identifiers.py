"""Identifier safety: labels, block and network names that are Python keywords, builtins, names the
generated file uses, or nn.Module attributes neither break nor inject code; torch-reserved path
components are mangled with a trailing `_`, one-to-one (`to` -> `to_`, `to_` -> `to__`)."""
import ast

import pytest

torch = pytest.importorskip("torch")

import cnnc  # noqa: E402
from cnnc import dsl  # noqa: E402
from cnnc.pysource import generate  # noqa: E402
from cnnc.torch_backend import module_from_graph  # noqa: E402

NASTY = """
block nn(self, lambda = 1) {
    forward: conv(self, 3x3, pad=1);  torch: relu
    __init__: identity
}
block F(x) {
    add { class: conv(x, 1x1) } | { __import__: conv(x, 1x1) }
    training: relu
}
network build(torch = 4) {
    input 3x8x8
    self: conv(torch, 3x3, pad=1)
    forward: nn(8)
    x: nn(8, lambda=2)
    __class__: F(8)
    output __dict__ { avgpool(global); flatten; linear(2) }
    to: F(8)
    avgpool(global); flatten
    __import__: linear(3)
}
"""

RENAMED = {"forward": "forward_", "training": "training_", "to": "to_", "__init__": "__init___",
           "__import__": "__import___", "__class__": "__class___", "__dict__": "__dict___"}


def test_nasty_names_compile_run_and_map_to_predictable_keys(cnn_file):
    path = cnn_file(NASTY)
    source = cnnc.compile_source(path)
    tree = ast.parse(source)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "torch" in imported and imported <= {"torch", "torch.nn.functional", "typing"}  # torch only
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert calls <= {"super", "getattr", "nn_", "F_", "build_", "build_Outputs"}

    graph = cnnc.analyse(path)
    model = cnnc.load(path)
    expected = set()
    for node, data in graph.nodes(data=True):
        if data["params"]:
            mapped = ".".join(RENAMED.get(part, part) for part in node.split("."))
            expected |= {f"{mapped}.weight", f"{mapped}.bias"}
    assert set(model.state_dict()) == expected
    x = torch.randn(2, 3, 8, 8)
    out = model.train()(x)
    assert out.output.shape == (2, 3) and out[1].shape == (2, 2)
    assert model.eval()(x).shape == (2, 3)
    assert sum(p.numel() for p in model.parameters()) == graph.graph["totals"]["trainable_params"]


SIBLINGS = """
block B(c) {
    to: conv(c, 3x3, pad=1)
    to_: conv(c, 1x1)
    __init__: relu
    __init___: conv(c, 1x1)
}
network Siblings {
    input 3x8x8
    to: conv(4, 3x3, pad=1)
    to_: conv(5, 3x3, pad=1)
    to__: B(6)
    forward_: conv(2, 1x1)
    forward: flatten
    linear(2)
}
"""


def test_a_mangled_name_never_meets_a_sibling_label():
    """`to` registers as `to_`, so a sibling labelled `to_` must not: each writer of generated code
    and each reader of module paths (state_dict keys, initialisation, deploy) names it `to__`."""
    from cnnc.deploy import deploy_module
    from cnnc.names import MODULE_ATTRS, module_name

    graph = dsl.build(text=SIBLINGS)
    model = module_from_graph(graph)
    keys = set(model.state_dict())
    assert {"to_.weight", "to__.weight", "to___.to_.weight", "to___.to__.weight", "to___.__init____.weight",
            "forward__.weight"} <= keys
    assert sum(p.numel() for p in model.parameters()) == graph.graph["totals"]["trainable_params"]
    with torch.no_grad():
        x = torch.randn(2, 3, 8, 8)
        assert model(x).shape == (2, 2)
        assert torch.allclose(deploy_module(graph, model)(x), model.eval()(x), rtol=1e-4, atol=1e-5)
    for name in MODULE_ATTRS:
        assert module_name(name) not in MODULE_ATTRS and module_name(name + "_") != module_name(name)


def test_strange_text_in_paths_and_values_stays_in_comments(tmp_path):
    odd = tmp_path / 'we"ird\\dir\nimport os'
    odd.mkdir()
    path = odd / "net.cnn"
    path.write_text('network N(tag = "x") {\n    input 1x4x4\n    flatten;  linear(2)\n}\n')
    tag = '"""\n)) import os  # \\'
    graph = dsl.build(str(path), params={"tag": tag})
    source = generate(graph)
    compile(source, "<test>", "exec")
    assert not any(line.strip().startswith("import os") for line in source.splitlines())
    model = module_from_graph(graph)
    assert model(torch.randn(2, 1, 4, 4)).shape == (2, 2)
