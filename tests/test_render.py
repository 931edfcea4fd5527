"""`cnnc render` and cnnc.render: DOT goldens for the zoo, structure, labels, Graphviz present or not.

Regenerate the DOT goldens after an intended change to the diagrams:
    CNNC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_render.py
"""
import re

import graphviz
import pytest

import cnnc
from cnnc import dsl
from cnnc import cli, diagram
from cnnc.diagram_labels import label
from cnnc.summary import op_text
from cnnc.graphviz_backend import has_dot, render
from conftest import ARCHS, EXAMPLES, ROOT, relative
from harness import assert_golden
from cnnc.dsl.ops import OPS

GOLDEN = ROOT / "tests" / "golden" / "dot"
needs_dot = pytest.mark.skipif(not has_dot(), reason="Graphviz's dot is not installed (CI installs it)")


def _networks(paths):
    """The files that define a network (a file of blocks only is a library, not drawable)."""
    return [p for p in paths if re.search(r"^\s*network\s", p.read_text(), re.M)]


CASES = ([(relative(p), p.stem, None) for p in _networks(ARCHS)]
         + [(relative(p), f"example_{p.stem}", None) for p in _networks(EXAMPLES)]
         + [("archs/resnet50.cnn", "resnet50.depth99", 99), ("archs/googlenet.cnn", "googlenet.depth0", 0)])


def _dot(path, depth=None, capsys=None) -> str:
    args = ["render", path, "-o", "-"] + ([] if depth is None else ["--depth", str(depth)])
    assert cli.main(args) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("path, name, depth", CASES, ids=[c[1] for c in CASES])
def test_dot_golden(path, name, depth, capsys):
    out = _dot(path, depth, capsys)
    assert_golden(GOLDEN / f"{name}.dot", out)


def test_every_op_has_one_label_shared_by_summary_and_diagram():
    for name, spec in OPS.items():
        assert callable(spec.text), name  # the short label lives in the op table (dsl/ops.py)
    for path in _networks(EXAMPLES):
        for node, data in dsl.build(relative(path)).nodes(data=True):
            assert op_text(data) == label(data), (path, node)


def test_label_rules_on_every_layer_of_the_zoo():
    for path in _networks(ARCHS) + _networks(EXAMPLES):
        for node, data in dsl.build(relative(path)).nodes(data=True):
            text = label(data)
            assert text.startswith(data["op"]) and "\n" not in text, (path, node, text)


@pytest.mark.parametrize("source, expected", [
    ("conv(64, 3x3, stride=2, pad=1)", "conv 3x3, 64, /2"),
    ("conv(64, 7x1, stride=[2, 1])", "conv 7x1, 64, /2x1"),
    ("conv(32, 3x3, groups=8, dilation=2)", "conv 3x3, 32, groups 8, dilation 2"),
    ("deconv(8, 2x2, stride=2)", "deconv 2x2, 8, ×2"),
    ("maxpool(3x3, stride=2, ceil=true)", "maxpool 3x3, /2, ceil"),
    ("maxpool(2x2)", "maxpool 2x2, /2"),
    ("maxpool(3x3, stride=1, pad=1)", "maxpool 3x3"),
    ("avgpool(global)", "avgpool global"),
    ("adaptive_avgpool(7x7)", "adaptive_avgpool 7x7"),
    ("lrn(5)", "lrn 5"),
    ("leaky_relu(0.2)", "leaky_relu 0.2"),
    ("dropout(0.5)", "dropout 0.5"),
    ("upsample(2, mode=bilinear)", "upsample ×2, bilinear"),
    ("relu", "relu"),
])
def test_label_texts(source, expected):
    graph = dsl.build(text=f"network N {{ input 16x32x32\n layer: {source} }}")
    assert label(graph.nodes["layer"]) == expected


def test_linear_label():
    graph = dsl.build(text="network N { input 10\n fc: linear(1000) }")
    assert label(graph.nodes["fc"]) == "linear 1000"


# ---- structure ----------------------------------------------------------------------------------

def test_resnet50_default_folds_its_bottlenecks():
    graph = dsl.build("archs/resnet50.cnn")
    shown = diagram.build(graph, depth=1)
    folded = {s.id: len(s.groups) for s in shown.shown.values() if s.kind == "folded"}
    assert folded == {"layer1.0": 1, "layer1.1": 2, "layer2.0": 1, "layer2.1": 3,
                      "layer3.0": 1, "layer3.1": 5, "layer4.0": 1, "layer4.1": 2}
    assert set(shown.where) == set(graph.nodes)  # every layer is drawn, folded or not
    source = render(graph).source
    assert "Bottleneck(256, 1) ×5" in source and "layer3.1 … layer3.5" in source
    assert "cluster_layer1" in source and "cluster_layer1.0" not in source
    assert "Stage(64, 3, 1)" in source


def test_depth_expands_blocks_and_fuses_chains():
    graph = dsl.build("archs/resnet50.cnn")
    shown = diagram.build(graph, depth=99)
    assert not [s for s in shown.shown.values() if s.kind == "folded"]
    assert shown.shown["layer1.0.conv1"].members == ["layer1.0.conv1", "layer1.0.bn1", "layer1.0.2"]
    source = render(graph, depth=99).source
    assert "cluster_layer3.5" in source and "conv 3x3, 128, /2" in source
    folded_all = diagram.build(graph, depth=0)
    assert [s.id for s in folded_all.root if s.kind == "folded"] == ["layer1", "layer2", "layer3", "layer4"]


def test_unfused_graph_shows_every_layer():
    graph = dsl.build("archs/resnet50.cnn")
    shown = diagram.build(graph, depth=99, fuse=False)
    assert set(shown.shown) == set(graph.nodes)


def test_edges_carry_shapes_and_side_outputs_branch_off():
    graph = dsl.build("archs/googlenet.cnn")
    source = render(graph).source
    assert re.search(r'"inception3a.branch1.0" -> "inception3a.4" \[label=" 64x28x28"', source)  # branch1's conv into concat
    aux_edge = re.search(r'"inception4a.4" -> "aux1.0" \[([^]]*)\]', source)
    assert aux_edge and "dashed" in aux_edge.group(1)
    assert '"aux1 (output)"' in source and '"output (output)"' in source
    assert "output aux1" in source  # the head's cluster is titled as a side output
    assert "invhouse" in source  # the input looks distinct


def test_only_side_output_heads_are_titled_as_outputs():
    """A labelled group whose value is also declared an output (`output x` after it) is still a group:
    the module tree says which clusters are heads (`output aux { ... }`)."""
    graph = dsl.build(text="network N {\n    input 3x8x8\n    x: { conv(4, 3x3); relu; conv(4, 1x1) }\n"
                           "    output x\n    conv(4, 1x1)\n    output aux { conv(2, 1x1); conv(2, 1x1) }\n}\n")
    titles = re.findall(r"label=<<b>([^<]*)</b>>", render(graph, depth=9).source)
    assert "x" in titles and "output x" not in titles and "output aux" in titles


def test_inception_branches_keep_their_order():
    """Branches are emitted in source order with ordering=out, so they do not cross."""
    source = render(dsl.build("archs/googlenet.cnn")).source
    assert "ordering=out" in source
    starts = [source.index(f'pool2 -> "inception3a.branch{i}') for i in (1, 2, 3, 4)]
    assert starts == sorted(starts)


def test_rankdir_and_python_api():
    dot = cnnc.render("archs/lenet5.cnn", rankdir="LR", depth=2)
    assert isinstance(dot, graphviz.Digraph) and "rankdir=LR" in dot.source
    graph = cnnc.analyse("examples/unet.cnn")
    assert cnnc.render(graph).source == render(graph).source


# ---- Graphviz present or missing ---------------------------------------------------------------

@needs_dot
def test_svg_has_tooltips(tmp_path):
    out = tmp_path / "resnet50.svg"
    assert cli.main(["render", "archs/resnet50.cnn", "-o", str(out)]) == 0
    text = out.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "receptive field" in text and "MACs" in text and "params" in text
    assert "Bottleneck(64, 1) ×2" in text


@needs_dot
def test_png_and_pdf(tmp_path):
    for suffix, magic in ((".png", b"\x89PNG"), (".pdf", b"%PDF")):
        out = tmp_path / f"lenet5{suffix}"
        assert cli.main(["render", "archs/lenet5.cnn", "-o", str(out)]) == 0
        assert out.read_bytes().startswith(magic)


@needs_dot
def test_default_output_is_name_svg_in_the_current_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["render", str(ROOT / "examples" / "tiny_cnn.cnn")]) == 0
    assert (tmp_path / "tiny_cnn.svg").read_text().count("<svg") == 1
    assert capsys.readouterr().out == "wrote tiny_cnn.svg\n"


@needs_dot
def test_jupyter_repr_is_svg():
    graph = dsl.build("examples/tiny_cnn.cnn")
    assert "<svg" in graph._repr_svg_()


def test_without_graphviz_one_line_names_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "net.svg"
    assert cli.main(["render", "archs/resnet50.cnn", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install graphviz" in err and "net.dot" in err
    assert not out.exists()
    assert dsl.build("examples/tiny_cnn.cnn")._repr_svg_() is None  # Jupyter falls back to text
    assert cli.main(["render", "archs/resnet50.cnn", "-o", str(tmp_path / "net.dot")]) == 0
    assert (tmp_path / "net.dot").read_text().startswith("// ResNet50")


def test_command_line_mistakes(tmp_path, capsys):
    assert cli.main(["render", "archs/lenet5.cnn", "-o", str(tmp_path / "x.jpg")]) == 2  # usage
    assert "name it .svg, .png, .pdf, .dot or .html (or -o - for DOT on stdout)" in capsys.readouterr().err
    assert cli.main(["render", "archs/lenet5.cnn", "--depth", "-1", "-o", "-"]) == 2
    assert "--depth" in capsys.readouterr().err
    assert not (tmp_path / "x.jpg").exists()


def test_unusual_graphs_render(tmp_path):
    """Named inputs, taps, labelled merges, empty blocks, a repeat that ends the network, no layers."""
    texts = {
        "inputs": "network Two { input a: 3x8x8\n input b: 3x8x8\n @a; conv(4, 3x3, pad=1) -> x\n"
                  " @b; conv(4, 3x3, pad=1); relu\n add { @x } | { identity } }",
        "taps": "network T { input 3x8x8\n conv(4, 3x3, pad=1); relu\n output feat\n conv(8, 1x1)\n"
                " output head { flatten; linear(2) }\n tail: { avgpool(global); flatten; linear(3) } }",
        "merges": "block Id() { }\nblock B(w) { x: concat { conv(w, 1x1) } | { conv(w, 1x1) };  relu }\n"
                  "network L { input 3x8x8\n Id()\n m: add { relu } | { relu }\n same: concat { } | { }\n"
                  " B(2); B(2)\n r: { repeat 3 { B(2) } } }",
        "empty": "network O { input 3x8x8 }",
    }
    graphs = {name: dsl.build(text=text) for name, text in texts.items()}
    folded = diagram.build(graphs["merges"], depth=0)
    assert [(s.id, len(s.groups)) for s in folded.shown.values() if s.kind == "folded"] == \
        [("3", 1), ("4", 1), ("r.0", 3)]  # B(2) after a 6-channel concat differs from the rest
    assert "<b>input a</b>" in render(graphs["inputs"]).source
    taps = render(graphs["taps"]).source
    assert '"feat (output)"' in taps and '"head (output)"' in taps
    for name, graph in graphs.items():
        for depth in (0, 1, 99):
            for fuse in (True, False):
                shown = diagram.build(graph, depth=depth, fuse=fuse)
                assert set(shown.where) == set(graph.nodes), name
        if has_dot():
            render(graph).pipe(format="svg")  # dot accepts the text


def test_light_graph_draws_the_same():
    """`cnnc render` draws dsl's light graph (no networkx import); the public graph gives the same DOT."""
    light = dsl.build("archs/googlenet.cnn", networkx=False)
    assert render(light).source == render(dsl.build("archs/googlenet.cnn")).source


def test_a_broken_graphviz_is_one_line(tmp_path, monkeypatch, capsys):
    """A `dot` that fails (say, built without its png plugin) is reported in one line, exit 1."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text('#!/bin/sh\necho \'Format: "png" not recognized. Use one of: dot svg\' >&2\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert cli.main(["render", "archs/lenet5.cnn", "-o", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'Format: "png" not recognized' in err and "x.dot" in err
