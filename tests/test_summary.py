"""Summaries a Keras or torchinfo user can read: the depth figure, frozen layers (checked against the
compiled module's requires_grad), rows folded by block depth, the inputs column, and the notebook
reprs (HTML table, one-line text, the located error before the traceback)."""
import json

import pytest

import cnnc
from cnnc import dsl
from cnnc.cli import main
from cnnc.summary import macs_text
from conftest import ROOT

FROZEN = """\
block Unit(c) { conv(c, 3x3, pad=1, bias=false); batchnorm; relu }
network Frozen {
    input 3x16x16
    stem: Unit(8, trainable=false)
    conv1: conv(16, 3x3, trainable=false)
    body: Unit(16)
    head: { avgpool(global); flatten; fc: linear(10) }
}
"""


@pytest.mark.parametrize("name, layers", [("vgg16", 16), ("googlenet", 22), ("resnet50", 50),
                                          ("resnet18", 18), ("alexnet", 8), ("vgg19", 19),
                                          ("densenet121", 121), ("resnet152", 152)])
def test_depth_is_the_papers_figure(name, layers):
    """Weighted layers on the longest path: the number in the network's name (AlexNet: 5 conv + 3 fc)."""
    assert dsl.build(name, networkx=False).graph["totals"]["depth"] == layers


def test_json_totals_gain_buffers_and_depth(capsys):
    assert main(["summary", "resnet50", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    totals = document["totals"]
    assert totals["params"] == 25_557_032 and totals["trainable_params"] == 25_557_032
    assert totals["buffers"] == 53_120 and totals["depth"] == 50  # running means and variances
    conv1 = document["layers"][1]
    assert conv1["args"] == {"out": 64, "kernel": [7, 7], "stride": [2, 2], "pad": [3, 3], "dilation": [1, 1],
                             "groups": 1, "bias": False, "table": None}
    add = next(row for row in document["layers"] if row["path"] == "layer1.0.9")
    assert add["inputs"] == ["layer1.0.bn3", "layer1.0.downsample.1"]


def test_frozen_layers_match_the_compiled_module(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    path = tmp_path / "frozen.cnn"
    path.write_text(FROZEN)
    graph = dsl.build(str(path), networkx=False)
    totals = graph.graph["totals"]
    model = cnnc.load(str(path))
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    assert totals["params"] == sum(p.numel() for p in model.parameters())
    assert totals["params"] - totals["trainable_params"] == frozen == 8 * 27 + 16 + 16 * 8 * 9 + 16
    assert {n for n, p in model.named_parameters() if not p.requires_grad} == {
        "stem.0.weight", "stem.1.weight", "stem.1.bias", "conv1.weight", "conv1.bias"}
    assert isinstance(model.stem[0].weight, torch.nn.Parameter)
    assert main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"Non-trainable params: {frozen:,} (frozen: trainable=false)\n" in out
    assert "\nconv1         conv 3x3, 16 (frozen)  [N, 16, 14, 14]   1,168  225,792   5\n" in out
    assert main(["check", str(path)]) == 0  # the check line counts every parameter, frozen or not
    assert capsys.readouterr().out == f"{path}: ok: Frozen: 3,906 params, 733 KMACs -> [N, 10]\n"


def test_trainable_needs_parameters_and_a_boolean(cnn_file, capsys):
    relu = cnn_file("network N {\n    input 3x8x8\n    relu(trainable=false)\n}\n", "relu.cnn")
    assert main(["check", relu]) == 1
    assert capsys.readouterr().err.endswith(
        "relu.cnn:3:5: error: relu `0` has no parameters to freeze\n"
        "    3 |     relu(trainable=false)\n"
        "      |     ^^^^^^^^^^^^^^^^^^^^^\n"
        "  hint: `trainable=false` applies to layers with weights (conv, linear, batchnorm, ...)\n")
    text = cnn_file("network N {\n    input 3x8x8\n    conv(4, 1x1, trainable=0)\n}\n", "int.cnn")
    assert main(["check", text]) == 1
    assert "int.cnn:3:18: error: trainable must be true or false, got 0\n" in capsys.readouterr().err


def test_summary_depth_folds_block_instances(capsys):
    full = dsl.build("resnet50", networkx=False)
    assert main(["summary", "resnet50", "--depth", "0"]) == 0
    out = capsys.readouterr().out
    layer2 = [line for line in out.splitlines() if line.startswith("layer2 ")]
    members = [d for n, d in full.nodes(data=True) if n.startswith("layer2.")]
    assert layer2 == ["layer2        Stage(128, 4, 2)  [N, 512, 28, 28]    "
                      f"{sum(d['params'] for d in members):,}  {sum(d['macs'] for d in members):,}   91"]
    assert len(out.splitlines()) == 4 + 12 + 1 + 8 + 2  # title and headings, rows, rule, totals, init (2)
    assert main(["summary", "resnet50", "--depth", "1"]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[4:]]
    assert rows[5:9] == ["layer1.0", "layer1.1", "layer1.2", "layer2.0"]
    assert main(["summary", "resnet50", "--depth", "-1"]) == 2  # usage
    assert capsys.readouterr().err == "cnnc: error: --depth must be 0 or more, got -1\n"


def test_inputs_column_names_what_is_not_the_previous_row(capsys):
    assert main(["summary", "archs/googlenet.cnn", "--depth", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split() == ["Layer", "(path)", "Op", "Output", "shape", "Params", "MACs", "RF", "Inputs"]
    row = {line.split()[0]: line for line in lines[4:] if line and not line.startswith("=")}
    assert row["aux1.0"].rstrip().endswith("235")  # a side head reading the row before it
    assert row["aux1.fc2"].rstrip().endswith("379")
    assert row["inception4b"].endswith("  inception4a")  # back on the main path after the head
    assert row["inception4c"].rstrip().endswith("299")  # reads the row before: no inputs shown
    assert main(["summary", "archs/vgg16.cnn"]) == 0
    assert "Inputs" not in capsys.readouterr().out  # a plain chain has no inputs column


def test_notebook_reprs():
    graph = cnnc.analyse("resnet50")
    assert repr(graph) == ("<cnnc network ResNet50 from archs/resnet50.cnn: 176 layers, 25,557,032 params, "
                           "4,089,184,256 MACs, depth 50; 3x224x224 -> 1000>")
    assert repr(dsl.build("resnet50", networkx=False)) == repr(graph)
    html = graph._repr_html_()
    assert html.startswith('<div class="cnnc-summary"><p><b>ResNet50</b> (archs/resnet50.cnn, blocks folded '
                           "past depth 1)</p>\n<table>\n<thead><tr><th>Layer (path)</th>")
    assert "<tr><td>layer1.0</td><td>Bottleneck(64, 1)</td><td>[N, 256, 56, 56]</td>" in html
    assert "Depth: 50 weighted layers (conv, linear) on the longest path" in html


def test_located_error_renders_before_the_traceback():
    with pytest.raises(cnnc.dsl.CnnError) as caught:
        cnnc.analyse("network N {\n    input 3x8x8\n    conv(3, 9x9)\n}\n")
    lines = caught.value._render_traceback_()
    assert lines[:5] == [
        "<string>:3:5: error: conv `0`: the input 3x8x8 is too small: the output would be 0x0",
        "    3 |     conv(3, 9x9)",
        "      |     ^^^^^^^^^^^^",
        "  hint: the input is too small for this layer; use a larger --input or less downsampling",
        "", ][:4] + [""]
    assert lines[5] == "raised by:" and __file__ in lines[6] and len(lines) == 8  # the caller's frame only


def test_zoo_lists_the_shipped_networks(capsys):
    assert main(["zoo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    shipped = sorted(p.stem for p in (ROOT / "archs").glob("*.cnn"))
    by_name = {line.split()[0]: line for line in lines[1:1 + len(shipped)]}
    assert sorted(by_name) == shipped and lines[1 + len(shipped)] == ""
    for name in by_name:
        graph = dsl.build(name, networkx=False)
        t = graph.graph["totals"]
        assert by_name[name].split()[1:4] == [graph.graph["name"], f"{t['params']:,}", macs_text(t["macs"]).split()[0]]
    assert by_name["resnet50"].split()[5:8] == ["50", "3x224x224", "ResNet-50:"]
    assert lines[-1] == "Examples, one small file per construct: examples"
