"""The language's vocabulary for modern CNNs, without torch: quoted, computed and numbered labels,
positional arguments, `mul`, channels-last tensors, `same`/`tf_same` padding, and the exact text
of their errors."""
import pytest

from cnnc import dsl
from cnnc.cli import main
from cnnc.dsl.diagnostics import CnnError


def build(body: str, input_shape: str = "3x16x16", blocks: str = ""):
    return dsl.build(text=f"{blocks}\nnetwork N {{\n    input {input_shape}\n{body}\n}}\n", networkx=False)


def layers(graph) -> dict:
    return {node: data for node, data in graph.nodes(data=True) if data["op"] != "input"}


def error(body: str, input_shape: str = "3x16x16", blocks: str = "") -> CnnError:
    with pytest.raises(CnnError) as caught:
        build(body, input_shape, blocks)
    return caught.value


# ---- labels ---------------------------------------------------------------------------------

def test_quoted_computed_and_numbered_labels():
    graph = build("""
    trunk: {
        "block1-0": conv(8, 3x3, pad=1)
        for i in range(2) { ("denselayer" + str(i + 1)): relu }
        (7): relu
        group { conv(8, 1x1); batchnorm }
        group { group { relu } }
    }""")
    assert list(layers(graph)) == ["trunk.block1-0", "trunk.denselayer1", "trunk.denselayer2", "trunk.7",
                                   "trunk.4.0", "trunk.4.1", "trunk.5.0.0"]


def test_group_is_named_by_its_position_and_a_label_still_wins():
    graph = build("features: { group { conv(8, 3x3); relu }; stage2: group { relu } }")
    assert list(layers(graph)) == ["features.0.0", "features.0.1", "features.stage2.0"]


@pytest.mark.parametrize("label, message", [
    ('"a.b"', 'a label must be a non-empty name of letters, digits, `_` and `-`, or a non-negative integer; '
              'got "a.b"'),
    ('""', 'a label must be a non-empty name of letters, digits, `_` and `-`, or a non-negative integer; got ""'),
    ("(-1)", "a label must be a non-empty name of letters, digits, `_` and `-`, or a non-negative integer; "
             "got -1"),
    ("(1.5)", "a label must be a non-empty name of letters, digits, `_` and `-`, or a non-negative integer; "
              "got 1.5"),
])
def test_bad_labels_are_located_errors(label, message):
    problem = error(f"    {label}: relu")
    assert problem.message == message
    assert problem.span.line == 4


# ---- positional arguments -----------------------------------------------------------------------

BATCHNORM = """\
network N {
    input 3x32x32
    conv(32, 3x3)
    batchnorm(32)
}
"""


def test_batchnorm_channels_are_not_eps(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bn.cnn").write_text(BATCHNORM)
    assert main(["check", "bn.cnn"]) == 1
    assert capsys.readouterr().err == """\
bn.cnn:4:15: error: `batchnorm` takes no positional arguments
    4 |     batchnorm(32)
      |               ^^
  hint: batchnorm takes its channels from its input; pass eps=... by name
"""


@pytest.mark.parametrize("call, message, hint", [
    ("conv(8, 3x3, 2)", "`conv` takes at most 2 positional arguments (out, kernel)", "pass stride=... by name"),
    ("maxpool(3x3, 2)", "`maxpool` takes at most 1 positional argument (kernel)", "pass stride=... by name"),
    ("layernorm(1e-6)", "`layernorm` takes no positional arguments",
     "layernorm takes its channels from its input; pass eps=... by name"),
    ("stochastic_depth(0.1, row)", "`stochastic_depth` takes at most 1 positional argument (p)",
     "pass mode=... by name"),
])
def test_knobs_are_named(call, message, hint):
    problem = error(f"    {call}")
    assert (problem.message, problem.hint) == (message, hint)


def test_sizes_stay_positional():
    graph = build("conv(8, 3x3); maxpool(2x2); dropout(0.5); leaky_relu(0.2); chunk(2, 1); flatten; linear(10)")
    assert [d["shape"] for d in layers(graph).values()] == [(8, 14, 14), (8, 7, 7), (8, 7, 7), (8, 7, 7),
                                                            (4, 7, 7), (196,), (10,)]


# ---- mul, channels last ------------------------------------------------------------------------

SE = "block SE(squeeze, channels = in.channels) { mul {} | { avgpool: adaptive_avgpool(1); fc1: conv(squeeze, 1x1); " \
     "activation: relu; fc2: conv(channels, 1x1); scale_activation: hardsigmoid } }"


def test_squeeze_excitation_broadcasts_its_gate():
    graph = build("conv(16, 3x3, pad=1); se: SE(4)", blocks=SE)
    nodes = layers(graph)
    assert nodes["se.5"]["op"] == "mul" and nodes["se.5"]["shape"] == (16, 16, 16)
    assert graph.graph["totals"]["params"] == 448 + (16 * 4 + 4) + (4 * 16 + 16)
    assert nodes["se.5"]["rf"] == (18, 18)  # the gate sees the whole map
    after = build("conv(16, 3x3, pad=1); se: SE(4); conv(4, 3x3)", blocks=SE)
    assert layers(after)["2"]["rf"] == (20, 20)  # the gate's 1x1 map does not set the pixel spacing


def test_mul_rejects_what_does_not_broadcast():
    problem = error("mul { conv(4, 1x1) } | { adaptive_avgpool(2x2) }")
    assert problem.message == "mul: branch shapes do not broadcast: 4x16x16 vs 3x2x2"


def test_channels_last_linear_and_layernorm():
    graph = build("permute([0, 2, 3, 1]); layernorm(eps=1e-6); linear(12); gelu; linear(3); "
                  "permute([0, 3, 1, 2]); conv(4, 1x1)")
    nodes = layers(graph)
    assert [d["shape"] for d in nodes.values()] == [(16, 16, 3), (16, 16, 3), (16, 16, 12), (16, 16, 12),
                                                    (16, 16, 3), (3, 16, 16), (4, 16, 16)]
    assert nodes["2"]["macs"] == 16 * 16 * 3 * 12 and nodes["2"]["params"] == 3 * 12 + 12
    assert nodes["1"]["params"] == 6 and nodes["5"]["rf"] == (1, 1)


def test_a_conv_on_a_channels_last_tensor_says_how_to_permute_back():
    problem = error("permute([0, 2, 3, 1]); conv(4, 1x1)")
    assert problem.message == "conv `1`: needs channels first (CxHxW), got a permuted HWC tensor 16x16x3"
    assert problem.hint == "permute it back first: permute([0, 3, 1, 2])"


def test_in_channels_finds_the_channels_of_a_permuted_tensor():
    graph = build("permute([0, 2, 3, 1]); linear(2 * in.channels)")
    assert layers(graph)["1"]["shape"] == (16, 16, 6)


# ---- padding -----------------------------------------------------------------------------------

def test_tf_same_rounds_up_at_any_stride():
    graph = build("conv(4, 3x3, stride=2, pad=tf_same); maxpool(3x3, stride=2, pad=tf_same); "
                  "avgpool(2x2, pad=tf_same)", input_shape="3x15x16")
    assert [d["shape"] for d in layers(graph).values()] == [(4, 8, 8), (4, 4, 4), (4, 2, 2)]


def test_same_at_stride_2_names_tf_same():
    problem = error("conv(4, 3x3, stride=2, pad=same)")
    assert problem.message == ("conv `0`: pad=same needs stride 1 (torch refuses it for a strided conv); "
                               "at stride 2 the padding is uneven")
    assert "pad=tf_same" in problem.hint
    assert "pad=tf_same" in error("maxpool(3x3, pad=same)").hint  # a pool's stride defaults to its kernel
    assert error("maxpool(2x2, stride=1, pad=same)").message.startswith("maxpool `0`: pad=same with the even window")
    assert build("maxpool(3x3, stride=1, pad=same)").nodes["0"]["shape"] == (3, 16, 16)


def test_tf_same_average_pool_counts_valid_pixels_by_default():
    graph = build("avgpool(3x3, stride=2, pad=tf_same); avgpool(3x3, stride=1, pad=1); "
                  "avgpool(3x3, stride=2, pad=tf_same, count_pad=true)")
    assert [d["args"]["count_pad"] for d in layers(graph).values()] == [False, True, True]


def test_a_bare_parameter_lives_on_a_block_or_a_plain_module_group(tmp_path):
    import torch

    import cnnc

    source = cnnc.compile_source("block B() { relu; scale(init=0.5); relu }\nnetwork N { input 4x4x4; B() }")
    assert 'self.register_parameter("1", nn.Parameter(torch.full((in_channels, 1, 1), 0.5)))' in source
    assert 'x = getattr(self, "1") * x' in source
    # in a labelled group, the group is a plain nn.Module (nn.Sequential and nn.ModuleDict hold
    # modules only), and the parameter keeps its path as its state_dict key
    text = "network N { input 4x4x4; g: { relu; s: scale(init=2); relu } }"
    source = cnnc.compile_source(text)
    assert "self.g = nn.Module()" in source and "self.g.s = nn.Parameter(torch.full((4, 1, 1), 2.0))" in source
    (tmp_path / "g.cnn").write_text(text)
    model = cnnc.load(str(tmp_path / "g.cnn"))
    assert list(model.state_dict()) == ["g.s"]
    x = torch.randn(2, 4, 4, 4)
    torch.testing.assert_close(model(x), torch.relu(2 * torch.relu(x)))
