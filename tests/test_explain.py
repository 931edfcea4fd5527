"""`cnnc explain`: formulas with the numbers substituted, checked against the course's worked figures
and, for every layer of the zoo and the examples, against the analysis (which equals torch).

Regenerate the goldens after an intended change:
    CNNC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_explain.py
"""

import pytest

from cnnc import cli, dsl
from cnnc.dsl.ops import OPS
from cnnc.explain import explain, explain_layer, layer_figures, receptive
from cnnc.explain_ops import FORMULAS, GENERIC
from harness import assert_golden
from conftest import ARCHS, EXAMPLES, ROOT, relative

GOLDEN = ROOT / "tests" / "golden" / "explain"


def _run(args, capsys):
    status = cli.main(["explain", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ---- the course's worked figures ----------------------------------------------------------------

def test_lenet5_worked_figures(capsys):
    status, out, _ = _run(["lenet5"], capsys)
    assert status == 0
    for figure in ["params    (5·5·1 + 1)·6 = 156",                          # C1
                   "params    (1 + 1)·6 = 12   (a coefficient and a bias per map)",  # S2
                   "6 maps of 3 inputs: 6·(3·5·5 + 1) = 456",                 # C3, Table I
                   "9 maps of 4 inputs: 9·(4·5·5 + 1) = 909",
                   "1 map of 6 inputs: 1·(6·5·5 + 1) = 151",
                   "456 + 909 + 151 = 1,516",
                   "params    (1 + 1)·16 = 32",                              # S4
                   "params    (5·5·16 + 1)·120 = 48,120",                    # C5
                   "params    (120 + 1)·84 = 10,164",                        # F6
                   "params: 156 + 12 + 1,516 + 32 + 48,120 + 10,164 = 60,000"]:
        assert figure in out, figure


def test_alexnet_conv1_is_55_from_227(capsys):
    status, out, _ = _run(["alexnet", "conv1"], capsys)
    assert status == 0
    assert "H = W = (227 + 2·0 − 11)/4 + 1 = 216/4 + 1 = 55" in out
    assert "output    96x55x55" in out


def test_floor_ceil_and_padding_are_shown():
    graph = dsl.build("resnet50")
    text = explain_layer(graph, "conv1")  # 224 + 2·3 - 7 = 223, odd: floor
    assert "H = W = ⌊(224 + 2·3 − 7)/2⌋ + 1 = ⌊223/2⌋ + 1 = 112   (floor)" in text
    google = dsl.build("googlenet")
    text = explain_layer(google, "pool1")  # 112 - 3 = 109, odd: ceil mode rounds up
    assert "H = W = ⌈(112 + 2·0 − 3)/2⌉ + 1 = ⌈109/2⌉ + 1 = 56   (ceil)" in text
    assert "out = ⌈(in + 2p − f)/s⌉ + 1" in text


def test_groups_dilation_deconv_and_same_padding(cnn_file):
    graph = dsl.build(cnn_file("""network N {
        input 32x16x16
        g: conv(64, 3x3, pad=1, groups=4, bias=false)
        d: conv(64, 3x3, pad=2, dilation=2)
        s: conv(8, 5x5, pad=same)
        t: deconv(4, 2x2, stride=2)
        p: maxpool(3x3, stride=2, pad=1, ceil=true)
        u: upsample(2)
        a: avgpool(global); flatten; l: linear(10, bias=false)
    }"""))
    assert "params    3·3·(32/4)·64 = 4,608   (no bias)" in explain_layer(graph, "g")
    assert "H = W = (16 + 2·2 − 2·(3 − 1) − 1)/1 + 1 = 16" in explain_layer(graph, "d")
    assert "pad=same at stride 1 keeps the size: 16x16" in explain_layer(graph, "s")
    deconv = explain_layer(graph, "t")
    assert "H = W = (16 − 1)·2 − 2·0 + 1·(2 − 1) + 0 + 1 = 32" in deconv
    assert "params    8·4·2·2 + 4 = 132" in deconv
    assert "MACs      8·4·2·2 · 16·16 (input positions) = 32,768" in deconv
    assert "jump 1/2 = 1/2" in deconv
    assert "params    4·10 = 40   (no bias)" in explain_layer(graph, "l")


def test_modern_ops():
    graph = dsl.build(MODERN)
    assert "params    2·32 = 64   (a scale and a shift per channel)" in explain_layer(graph, "ln")
    fc1 = explain_layer(graph, "fc1")  # a linear layer on a channels-last tensor: per pixel
    assert "params    (32 + 1)·64 = 2,112" in fc1 and "MACs      32·64 · 8·8 = 131,072" in fc1
    assert "params    32   (one scale per channel)" in explain_layer(graph, "ls")
    assert "broadcast: 32x8x8 · 32x1x1 = 32x8x8" in explain_layer(graph, "16")
    assert "axes reordered by [0, 2, 3, 1] (batch first): 32x8x8 -> 8x8x32" in explain_layer(graph, "2")
    assert "RF        max(9, 16) = 16 (the widest branch); jump 1" in explain_layer(graph, "16")


def test_merges_show_their_branches():
    graph = dsl.build("googlenet")
    text = explain_layer(graph, "inception3a.4")
    assert "channels = 64 + 128 + 32 + 32 = 256" in text
    assert "RF        max(" in text
    resnet = dsl.build("resnet50")
    assert "each branch's shape (2 branches, summed element-wise)" in explain_layer(resnet, "layer1.0.9")


# ---- every op, every layer: the explained values are the analysis' values -------------------------

def test_every_op_has_a_formula_or_is_generic():
    """An op with parameters, buffers, MACs or a new shape needs a rule in explain_ops.FORMULAS;
    the generic explanation is complete only for shape-preserving, parameter-free ops."""
    missing = sorted(set(OPS) - set(FORMULAS) - GENERIC)
    assert not missing, f"ops without an explanation rule in compiler/explain_ops.py: {missing}"
    assert not (set(FORMULAS) | GENERIC) - set(OPS), "rules for ops that do not exist"


def _networks(paths):
    return [p for p in paths if "network " in p.read_text()]


MODERN = "tests/data/modern_ops.cnn"  # layernorm, scale, mul, permute, chunk, channel_shuffle, silu...


@pytest.mark.parametrize("path", [relative(p) for p in _networks(ARCHS + EXAMPLES)] + [MODERN])
def test_figures_equal_the_analysis(path):
    graph = dsl.build(path, networkx=False)
    for node, data in graph.nodes(data=True):
        fig, _ = layer_figures(graph, node)
        assert fig.out == tuple(data["shape"]), node
        assert (fig.params_value, fig.buffers_value, fig.macs_value) == (data["params"], data["buffers"],
                                                                           data["macs"]), node
        _, rf, jump = receptive(graph, node)
        assert (rf, jump) == (tuple(data["rf"]), tuple(data["jump"])), node
        assert fig.shape and all("\n" not in line for line in fig.shape)
        assert explain_layer(graph, node).startswith(node + " · ")


def _random_layer(rng, channels: int) -> str:
    k = rng.randint(1, 5)
    s, p, d = rng.randint(1, 3), rng.randint(0, k // 2), rng.randint(1, 2)
    kind = rng.choice(["conv", "conv", "maxpool", "avgpool", "deconv", "upsample", "subsample"])
    if kind == "conv":
        g = rng.choice([g for g in (1, 2, 4) if channels % g == 0])
        out = g * rng.randint(1, 4)
        return f"conv({out}, {k}x{rng.randint(1, 5)}, stride={s}, pad={p}, dilation={d}, groups={g}, " \
               f"bias={rng.choice(['true', 'false'])})"
    if kind == "maxpool":
        return f"maxpool({k}x{k}, stride={s}, pad={p}, dilation={d}, ceil={rng.choice(['true', 'false'])})"
    if kind == "avgpool":
        return f"avgpool({k}x{k}, stride={s}, pad={p}, ceil={rng.choice(['true', 'false'])})"
    if kind == "deconv":
        return f"deconv({rng.randint(1, 6)}, {k}x{k}, stride={s}, pad={min(p, k - 1)}, output_pad={rng.randint(0, s - 1)})"
    if kind == "upsample":
        return "upsample(2)"
    return f"subsample({k}x{k})"


def test_random_windows_explain_the_analysis_figures(tmp_path):
    """Strides, paddings, dilations, ceil mode and groups drawn at random: every explained size,
    count and receptive field equals the analysis' (which equals torch's, tests/test_properties.py)."""
    import random

    rng = random.Random(15)
    checked = 0
    for case in range(300):
        channels, size = rng.choice([4, 8]), rng.randint(9, 40)
        layers = "; ".join(_random_layer(rng, channels) for _ in range(rng.randint(1, 3)))
        path = tmp_path / f"case{case}.cnn"
        path.write_text(f"network N {{ input {channels}x{size}x{size + rng.randint(0, 5)}; {layers}; flatten }}")
        try:
            graph = dsl.build(str(path), networkx=False)
        except dsl.CnnError:
            continue  # too small an input, a pad over half a kernel...: not this test's business
        for node, data in graph.nodes(data=True):
            fig, _ = layer_figures(graph, node)
            assert fig.out == tuple(data["shape"]), (path.read_text(), node)
            assert (fig.params_value, fig.macs_value) == (data["params"], data["macs"]), (path.read_text(), node)
            assert receptive(graph, node)[1:] == (tuple(data["rf"]), tuple(data["jump"])), (path.read_text(), node)
            explain_layer(graph, node)
            checked += 1
    assert checked > 600


def test_generic_ops_are_shape_preserving_and_free(cnn_file):
    """What GENERIC claims, checked on a layer of each such op."""
    calls = {"channel_shuffle": "channel_shuffle(2)", "stochastic_depth": "stochastic_depth(0.1)"}  # required args
    for op in sorted(GENERIC - {"input"}):
        graph = dsl.build(cnn_file(f"network N {{ input 4x8x8; x: {calls.get(op, op)} }}"), networkx=False)
        data = graph.nodes["x"]
        assert data["shape"] == (4, 8, 8) and data["params"] == data["buffers"] == data["macs"] == 0, op
        fig, _ = layer_figures(graph, "x")
        assert fig.shape == ["(the input's shape)"] and fig.params == fig.macs == "0", op


# ---- goldens and errors -----------------------------------------------------------------------

GOLDENS = {"lenet5": ["lenet5"], "alexnet": ["alexnet"],
           "resnet50_paths": ["resnet50", "conv1", "maxpool", "layer1.0", "layer2.0.conv2", "avgpool", "fc"],
           "googlenet_inception3a": ["googlenet", "inception3a", "aux1.fc1"]}


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden(name, capsys):
    status, out, err = _run(GOLDENS[name], capsys)
    assert status == 0 and err == ""
    assert_golden(GOLDEN / f"{name}.txt", out)


def test_unknown_path_error_text(capsys):
    status, out, err = _run(["resnet50", "layer5.0"], capsys)
    assert (status, out) == (1, "")
    assert err == "error: ResNet50 has no layer or group `layer5.0`\n  hint: did you mean `layer4.0`?\n"
    status, _, err = _run(["lenet5", "zzzzzz"], capsys)
    assert err == ("error: LeNet5 has no layer or group `zzzzzz`\n"
                   "  hint: `cnnc summary FILE` lists every layer's path\n")


def test_explain_layer_is_the_per_layer_text():
    graph = dsl.build("lenet5")
    assert explain_layer(graph, "c1") in explain(graph)
    assert explain(graph, ["c1"]).startswith(explain_layer(graph, "c1") + "\n\n")
