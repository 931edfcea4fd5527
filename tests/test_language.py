"""The language end to end on the example files: golden summaries (table and JSON), the JSON
schema, overrides, paths, and that `check` and `summary` never import torch (or networkx)."""
import json
import subprocess
import sys

import pytest

from cnnc import dsl
from cnnc.cli import main
from cnnc.dsl.ops import OPS
from conftest import EXAMPLES, ROOT, relative

from harness import assert_golden

GOLDEN = ROOT / "tests" / "golden" / "summary"


def run(capsys, *argv) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("form", ["table", "json"])
def test_golden_summary(path, form, capsys):
    out = run(capsys, "summary", relative(path), "--format", form)
    assert_golden(GOLDEN / f"{path.stem}.{'txt' if form == 'table' else 'json'}", out)


def test_json_follows_the_design_schema(capsys):
    document = json.loads(run(capsys, "summary", "examples/aux_heads.cnn", "--format", "json"))
    assert list(document) == ["network", "inputs", "outputs", "totals", "layers"]
    assert document["inputs"] == {"input": [3, 32, 32]}
    assert document["outputs"] == {"output": [10], "aux1": [10]}
    assert list(document["totals"]) == ["params", "trainable_params", "macs", "activation_bytes",
                                        "buffers", "depth"]
    for layer in document["layers"]:
        assert list(layer) == ["path", "op", "output_shape", "params", "macs", "receptive_field", "line",
                               "args", "inputs", "trainable_params", "buffers"]
    fc = next(layer for layer in document["layers"] if layer["path"] == "fc")
    assert fc == {"path": "fc", "op": "linear", "output_shape": [10], "params": 650, "macs": 640,
                  "receptive_field": [38, 38], "line": 11, "args": {"out": 10, "bias": True},
                  "inputs": ["4"], "trainable_params": 650, "buffers": 0}


def test_markdown_summary(capsys):
    out = run(capsys, "summary", "examples/tiny_cnn.cnn", "--format", "markdown")
    assert out.startswith("### TinyCNN\n\n| Layer (path) | Op | Output shape | Params | MACs | RF |\n")
    assert "| `conv1` | conv 3x3, 16 | [N, 16, 28, 28] | 160 | 112,896 | 3 |" in out


def test_check_prints_one_line_per_file(capsys):
    out = run(capsys, "check", "examples/tiny_cnn.cnn", "examples/aux_heads.cnn", "examples/blocks.cnn")
    assert out.splitlines() == [
        "examples/tiny_cnn.cnn: ok: TinyCNN: 20,490 params, 1.03 MMACs -> [N, 10]",
        "examples/aux_heads.cnn: ok: AuxNet: 25,172 params, 5.6 MMACs -> [N, 10], [N, 10] (aux1)",
        "examples/blocks.cnn: ok: a library of blocks (DepthwiseSeparable)",
    ]


def test_overrides_from_the_command_line(capsys):
    out = run(capsys, "check", "examples/residual.cnn", "--set", "classes=100", "--set", "blocks=3",
              "--input", "3x64x64")
    assert out == "examples/residual.cnn: ok: SmallResNet: 278,324 params, 163 MMACs -> [N, 100]\n"


def test_list_override_drives_a_loop():
    graph = dsl.build("examples/vgg_config.cnn", params={"config": [16, "M", 32, "M"]})
    convs = [d["shape"][0] for _, d in graph.nodes(data=True) if d["op"] == "conv"]
    assert convs == [16, 32]


def test_paths_follow_labels_and_positions():
    graph = dsl.build("examples/residual.cnn")
    paths = list(graph.nodes)
    assert paths[:4] == ["input", "conv1", "bn1", "2"]  # the relu is the third item
    # blocks numbered like nn.Sequential; the shortcut projection only where shapes change
    assert "layer1.0.conv1" in paths and "layer1.1.conv2" in paths
    assert "layer1.0.downsample.0" not in paths
    assert ["layer2.0.downsample.0", "layer2.0.downsample.1"] == [p for p in paths if p.startswith("layer2.0.down")]


def test_named_values_make_a_dag():
    graph = dsl.build("examples/unet.cnn")
    concat = [n for n, d in graph.nodes(data=True) if d["op"] == "concat"]
    assert len(concat) == 2
    sources = sorted(graph.predecessors(concat[0]), key=lambda s: graph.edges[s, concat[0]]["port"])
    assert sources == ["enc2.5", "up2"]  # the skip from the encoder, then the upsampled path
    assert graph.nodes[concat[0]]["shape"] == (64, 32, 32)


def test_side_outputs_are_graph_outputs():
    graph = dsl.build("examples/aux_heads.cnn")
    assert graph.graph["outputs"] == {"output": "fc", "aux1": "aux1.fc"}
    totals = graph.graph["totals"]
    assert totals["params"] == totals["main_params"] + graph.nodes["aux1.fc"]["params"]


def test_imports_bring_blocks(tmp_path):
    graph = dsl.build("examples/mobilenet.cnn")
    depthwise = graph.nodes["blocks.0.dw"]
    assert depthwise["args"]["groups"] == 32 and depthwise["scope"][0].block == "DepthwiseSeparable"


def test_source_text_builds_like_a_file():
    text = (ROOT / "examples/tiny_cnn.cnn").read_text()
    assert dsl.build(text=text).graph["totals"] == dsl.build("examples/tiny_cnn.cnn").graph["totals"]


@pytest.mark.parametrize("command", ["check", "summary"])
def test_check_and_summary_never_import_torch(command):
    code = ("import sys; from cnnc.cli import main; "
            f"assert main([{command!r}, 'archs/resnet50.cnn']) == 0; "
            "heavy = sorted(m for m in ('torch', 'networkx', 'graphviz') if m in sys.modules); "
            "assert not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_help_reads_well(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("check", "summary", "compile", "render", "ops"):
        assert command in out
    for command in ("check", "summary", "compile", "render"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--set NAME=VALUE" in capsys.readouterr().out


def test_ops_lists_every_layer(capsys):
    out = run(capsys, "ops")
    assert "conv(out, kernel, *, stride=1, pad=0, dilation=1, groups=1, bias=true, table=none)" in out
    assert "maxpool(kernel, *, stride=none, pad=0, dilation=1, ceil=false)" in out
    assert "batchnorm(*, eps=1e-05, momentum=0.1, affine=true)" in out
    for name in OPS:  # every op of the table, merges as `KIND { ... } | { ... }`
        if name != "input":
            assert f"\n{name}(" in out or f"\n{name} {{ ... }} | {{ ... }}" in out or out.startswith(name), name


def test_bad_set_is_one_line(capsys):
    assert main(["check", "examples/tiny_cnn.cnn", "--set", "classes"]) == 2  # a usage error
    assert capsys.readouterr().err == "cnnc: error: --set expects NAME=VALUE, got 'classes'\n"


def test_unknown_network_parameter(capsys):
    assert main(["check", "examples/tiny_cnn.cnn", "--set", "clases=3"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("examples/tiny_cnn.cnn:2:9: error: network TinyCNN has no parameter `clases`")
    assert "hint: did you mean `classes`?" in err


MULTI_INPUT = """
network Fusion {
    input rgb: 3x32x32
    input depth: 1x32x32
    a: conv(8, 3x3, pad=1) -> features
    @depth
    b: conv(8, 3x3, pad=1)
    concat { @features } | {}
}
"""


def test_several_inputs_the_first_flows_the_others_by_name():
    graph = dsl.build(text=MULTI_INPUT)
    assert graph.graph["inputs"] == {"rgb": (3, 32, 32), "depth": (1, 32, 32)}
    assert list(graph.predecessors("a")) == ["rgb"] and list(graph.predecessors("b")) == ["depth"]
    assert graph.nodes["a"]["params"] == 8 * 3 * 9 + 8
    assert dsl.build(text=MULTI_INPUT, input="5x32x32").graph["inputs"]["rgb"] == (5, 32, 32)
    assert dsl.build(text=MULTI_INPUT, input={"depth": "2x32x32"}).nodes["b"]["params"] == 8 * 2 * 9 + 8


def test_limits_can_be_raised_from_the_command_line(tmp_path, capsys):
    big = tmp_path / "big.cnn"
    big.write_text("network Big {\n input 4x4x4\n" + "  relu\n" * 30 + "}\n")
    assert main(["check", str(big), "--limit", "max_nodes=10"]) == 1
    err = capsys.readouterr().err
    assert "error: the network has more than 10 layers" in err
    assert "hint: raise the limit with --limit max_nodes=N (Limits.max_nodes in Python)" in err
    assert main(["check", str(big), "--limit", "max_tokens=20"]) == 1
    assert "--limit max_tokens=N" in capsys.readouterr().err
    assert main(["check", str(big), "--limit", "max_nodes=100", "--limit", "max_tokens=1000"]) == 0
    assert main(["check", str(big), "--limit", "nodes=5"]) == 2  # a usage error
    assert capsys.readouterr().err.startswith(
        "cnnc: error: unknown limit 'nodes' (did you mean 'max_nodes'?); the limits are: max_file_bytes, ")


def test_compiling_to_python_source_never_imports_torch(tmp_path):
    code = ("import sys; from cnnc.cli import main; "
            f"assert main(['compile', 'archs/lenet5.cnn', '-o', {str(tmp_path / 'lenet5.py')!r}]) == 0; "
            "assert 'torch' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "class TableConv2d(nn.Module):" in (tmp_path / "lenet5.py").read_text()


SIDE_IN_BLOCK = """
block Stage(width) {
    conv(width, 3x3, pad=1);  relu
    output side { avgpool(global);  flatten;  probe: linear(2) }
}

network Probed {
    input 3x16x16
    a: Stage(8)
    b: Stage(16)
    avgpool(global);  flatten;  fc: linear(10)
}
"""


def test_side_outputs_are_named_by_path_so_blocks_can_declare_them():
    graph = dsl.build(text=SIDE_IN_BLOCK)
    assert graph.graph["outputs"] == {"output": "fc", "a.side": "a.side.probe", "b.side": "b.side.probe"}


def test_a_side_output_name_declared_twice_is_located():
    text = "network N { input 4; output x { linear(2) }; output x { linear(3) } }"
    with pytest.raises(dsl.CnnError) as caught:
        dsl.build(text=text)
    assert caught.value.message == "output `x` is declared twice"
    assert (caught.value.span.line, caught.value.span.column) == (1, 46)
