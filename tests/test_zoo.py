"""The zoo (archs/): every network reproduces its paper's (or torchvision's) figures exactly.

Oracles: parameter counts are torchvision's (`sum(p.numel() for p in model.parameters())`) for VGG
and ResNet, and the papers' own arithmetic for LeNet-5 (60,000), AlexNet and GoogLeNet; MACs are
torchvision's "GFLOPS" column where it has one. Layer paths follow torchvision's module names.

Golden summaries: tests/golden/zoo/<name>.txt hold `cnnc summary archs/<name>.cnn`. After an
intended change to the summary format or to a network, regenerate them with

    CNNC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_zoo.py

and review the diff before committing.
"""
import re
from pathlib import Path

import pytest

from cnnc import dsl
from cnnc import cli
from cnnc.dsl.diagnostics import ShapeError
from harness import assert_golden

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "zoo"
FIVE = ["lenet5", "alexnet", "vgg16", "googlenet", "resnet50"]

# name: (trainable params, MACs on the main output or None, main output shape)
FIGURES = {
    "lenet5": (60_000, 325_680, (10,)),
    "alexnet": (60_965_224, 724_406_816, (1000,)),
    "vgg16": (138_357_544, 15_470_264_320, (1000,)),
    "googlenet": (13_378_280, 1_582_671_872, (1000,)),
    "resnet50": (25_557_032, 4_089_184_256, (1000,)),
    "vgg11": (132_863_336, None, (1000,)),
    "vgg13": (133_047_848, None, (1000,)),
    "vgg19": (143_667_240, None, (1000,)),
    "resnet18": (11_689_512, None, (1000,)),
    "resnet34": (21_797_672, None, (1000,)),
    "resnet101": (44_549_160, None, (1000,)),
    "resnet152": (60_192_808, None, (1000,)),
    "resnext50_32x4d": (25_028_904, 4_230_479_872, (1000,)),
    "squeezenet1_1": (1_235_496, 387_747_520, (1000,)),     # at its declared 227x227
    "mobilenet_v2": (3_504_872, 300_774_272, (1000,)),
    "densenet121": (7_978_856, 2_834_161_664, (1000,)),
    "inception_v3": (27_161_264, 5_713_216_096, (1000,)),    # 299x299; params include AuxLogits
    "mnasnet1_0": (4_383_312, 314_415_872, (1000,)),
    "mobilenet_v3_large": (5_483_032, 216_589_760, (1000,)),
    "efficientnet_b0": (5_288_548, 385_814_752, (1000,)),
    "regnet_y_400mf": (4_344_144, 401_842_848, (1000,)),
    "convnext_tiny": (28_589_128, 4_455_531_264, (1000,)),
    "shufflenet_v2_x1_0": (2_278_604, 144_907_992, (1000,)),
}

_CACHE = {}


def build(name: str):
    if name not in _CACHE:
        _CACHE[name] = dsl.build(f"archs/{name}.cnn")
    return _CACHE[name]


def output_shape(graph, which: str = "output"):
    return graph.nodes[graph.graph["outputs"][which]]["shape"]


def code_lines(name: str) -> list[str]:
    """Non-comment, non-blank lines (block definitions included)."""
    lines = (ROOT / "archs" / f"{name}.cnn").read_text().splitlines()
    return [line for line in lines if line.strip() and not line.strip().startswith("#")]


def test_every_zoo_file_is_covered():
    assert sorted(p.stem for p in (ROOT / "archs").glob("*.cnn")) == sorted(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_counts(name):
    params, macs, shape = FIGURES[name]
    graph = build(name)
    totals = graph.graph["totals"]
    assert totals["trainable_params"] == params
    if macs is not None:
        assert totals["macs"] == macs
    assert output_shape(graph) == shape
    assert graph.graph["warnings"] == []


def test_googlenet_main_and_auxiliary_heads():
    graph = build("googlenet")
    totals = graph.graph["totals"]
    assert totals["main_params"] == 6_998_552
    assert totals["trainable_params"] == 13_378_280
    assert list(graph.graph["outputs"]) == ["output", "aux1", "aux2"]
    assert output_shape(graph, "aux1") == output_shape(graph, "aux2") == (1000,)
    # the heads branch off 4a (512 channels) and 4d (528 channels) at 14x14 -> 4x4
    assert graph.nodes["aux1.conv"]["params"] == 512 * 128 + 128
    assert graph.nodes["aux2.conv"]["params"] == 528 * 128 + 128
    assert graph.nodes["aux1.0"]["shape"] == (512, 4, 4)
    assert graph.nodes["avgpool"]["shape"] == (1024, 1, 1)
    concats = [n for n, d in graph.nodes(data=True) if d["op"] == "concat"]
    assert [graph.nodes[n]["shape"][0] for n in concats] == [256, 480, 512, 512, 512, 528, 832, 832, 1024]


def test_lenet5_layers_follow_the_paper():
    graph = build("lenet5")
    shapes = {n: graph.nodes[n]["shape"] for n in ("c1", "s2", "c3", "s4", "c5", "f6", "out")}
    assert shapes == {"c1": (6, 28, 28), "s2": (6, 14, 14), "c3": (16, 10, 10), "s4": (16, 5, 5),
                      "c5": (120, 1, 1), "f6": (84,), "out": (10,)}
    params = {n: graph.nodes[n]["params"] for n in shapes}
    # C3: 60 connections of 5x5 weights + 16 biases; S2/S4: a coefficient and a bias per map
    assert params == {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164, "out": 0}
    assert graph.nodes["out"]["buffers"] == 84 * 10  # the fixed prototypes are not trained
    table = graph.nodes["c3"]["args"]["table"]
    assert table == ((0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
                     (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
                     (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5))
    # Table I read by columns: S2 map 0 feeds C3 maps 0, 4, 5, 6, 9, 10, 11, 12, 14, 15
    assert [j for j, row in enumerate(table) if 0 in row] == [0, 4, 5, 6, 9, 10, 11, 12, 14, 15]
    assert sum(1 for _, d in graph.nodes(data=True) if d["op"] == "scaled_tanh") == 6


def test_alexnet_two_gpu_split():
    graph = build("alexnet")
    groups = {n: graph.nodes[n]["args"]["groups"] for n in ("conv1", "conv2", "conv3", "conv4", "conv5")}
    assert groups == {"conv1": 1, "conv2": 2, "conv3": 1, "conv4": 2, "conv5": 2}
    assert graph.nodes["pool5"]["shape"] == (256, 6, 6)
    assert graph.nodes["norm1"]["args"]["k"] == 2.0


def _torchvision_vgg_paths(config):
    paths, index = [], 0
    for v in config:
        if v == "M":
            index += 1
        else:
            paths.append(f"features.{index}")
            index += 2
    return paths + ["classifier.0", "classifier.3", "classifier.6"]


def _torchvision_resnet_paths(layers, bottleneck):
    paths = ["conv1", "bn1"]
    convs = 3 if bottleneck else 2
    for stage, blocks in enumerate(layers, start=1):
        for block in range(blocks):
            prefix = f"layer{stage}.{block}"
            for i in range(1, convs + 1):
                paths += [f"{prefix}.conv{i}", f"{prefix}.bn{i}"]
            if block == 0 and (stage > 1 or bottleneck):
                paths += [f"{prefix}.downsample.0", f"{prefix}.downsample.1"]
    return paths + ["fc"]


D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


@pytest.mark.parametrize("name, expected", [
    ("vgg16", _torchvision_vgg_paths(D)),
    ("vgg11", _torchvision_vgg_paths([64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"])),
    ("resnet18", _torchvision_resnet_paths([2, 2, 2, 2], False)),
    ("resnet34", _torchvision_resnet_paths([3, 4, 6, 3], False)),
    ("resnet50", _torchvision_resnet_paths([3, 4, 6, 3], True)),
    ("resnet101", _torchvision_resnet_paths([3, 4, 23, 3], True)),
    ("resnet152", _torchvision_resnet_paths([3, 8, 36, 3], True)),
])
def test_parameter_paths_are_torchvisions(name, expected):
    """Layers with parameters sit at torchvision's module paths, in its order."""
    graph = build(name)
    assert [n for n, d in graph.nodes(data=True) if d["params"]] == expected


@pytest.mark.parametrize("name", ["vgg11", "vgg16", "resnet18", "resnet50", "resnet101"])
def test_state_dict_matches_torchvision(name):
    """With torchvision installed: every parameter name and size equals torchvision's."""
    models = pytest.importorskip("torchvision.models")
    expected = {k: p.numel() for k, p in getattr(models, name)().named_parameters()}
    found = {}
    for node, data in build(name).nodes(data=True):
        if data["op"] == "batchnorm":
            found[f"{node}.weight"] = found[f"{node}.bias"] = data["shape"][0]
        elif data["params"]:
            bias = data["args"]["out"] if data["args"]["bias"] else 0
            found[f"{node}.weight"] = data["params"] - bias
            if bias:
                found[f"{node}.bias"] = bias
    assert found == expected


def test_vgg16_is_driven_by_its_configuration():
    vgg11 = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
    graph = dsl.build("archs/vgg16.cnn", params={"config": vgg11})
    assert graph.graph["totals"]["trainable_params"] == 132_863_336


# ---- other inputs and classes ----------------------------------------------------------------

@pytest.mark.parametrize("name, params", [
    ("vgg16", 134_301_514), ("vgg11", 128_807_306), ("resnet18", 11_181_642),
    ("resnet50", 23_528_522), ("resnet152", 58_164_298), ("lenet5", 866_700),
])
def test_ten_classes_at_64x64(name, params):
    graph = dsl.build(f"archs/{name}.cnn", params={"classes": 10}, input="3x64x64")
    assert output_shape(graph) == (10,)
    assert graph.graph["totals"]["trainable_params"] == params


def test_ten_classes_at_64x64_vgg_and_resnet_lose_only_the_classifier():
    """The 64x64 input changes no conv: only the last linear layer shrinks to 10 classes."""
    for name, fc in [("vgg16", "classifier.6"), ("resnet50", "fc")]:
        small = dsl.build(f"archs/{name}.cnn", params={"classes": 10}, input="3x64x64")
        full = build(name)
        fan_in_plus_bias = full.nodes[fc]["params"] // 1000
        assert (full.graph["totals"]["trainable_params"] - small.graph["totals"]["trainable_params"]
                == fan_in_plus_bias * 990)


@pytest.mark.parametrize("name, input, line, column, layer, seen", [
    ("alexnet", "3x64x64", 17, 63, "maxpool `pool5`", "256x2x2"),
    ("googlenet", "3x64x64", 40, 9, "avgpool `aux1.0`", "512x4x4"),   # aux1's 5x5/3 pool after 4a
    ("vgg16", "3x16x16", 10, 23, "maxpool `features.30`", "512x1x1"),  # the fifth pool, in a loop
    ("lenet5", "1x20x20", 18, 9, "conv `c5`", "16x2x2"),
])
def test_too_small_input_is_a_located_error(name, input, line, column, layer, seen):
    """The error points at the first layer whose output collapses, and names it by its path."""
    with pytest.raises(ShapeError) as caught:
        dsl.build(f"archs/{name}.cnn", params={"classes": 10}, input=input)
    error = caught.value
    assert (error.span.path, error.span.line, error.span.column) == (f"archs/{name}.cnn", line, column)
    assert error.message.startswith(f"{layer}: the input {seen} is too small: the output would be ")
    assert "too small" in error.hint


def test_too_small_input_from_the_command_line(capsys):
    assert cli.main(["summary", "archs/alexnet.cnn", "--set", "classes=10", "--input", "3x64x64"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("archs/alexnet.cnn:17:63: error: maxpool `pool5`: the input 256x2x2 is too small: "
                          "the output would be 0x0")
    assert "pool5: maxpool(3x3, stride=2)" in err


def test_ten_classes_at_64x64_from_the_command_line(capsys):
    assert cli.main(["summary", "archs/resnet50.cnn", "--set", "classes=10", "--input", "3x64x64"]) == 0
    out = capsys.readouterr().out
    assert "fc                     linear" in out and "[N, 10]" in out.splitlines()[-1]


# ---- conciseness -------------------------------------------------------------------------------

def test_resnet50_is_at_most_40_lines():
    assert len(code_lines("resnet50")) <= 40


def test_family_members_are_short():
    for name in ["vgg11", "vgg13", "vgg19", "resnet34", "resnet101", "resnet152"]:
        assert len(code_lines(name)) <= 15, name


def test_googlenet_inception_once_and_nine_aligned_instances():
    lines = code_lines("googlenet")
    assert sum(1 for line in lines if line.startswith("block Inception(")) == 1
    rows = [line for line in lines if re.match(r"\s+inception[345][a-e]:\s+Inception\(.*\)$", line)]
    assert len(rows) == 9
    assert len({line.index("(") for line in rows}) == 1
    assert len({len(line) for line in rows}) == 1  # columns line up


def test_vgg16_layers_come_from_its_configuration_list():
    lines = code_lines("vgg16")
    assert sum(1 for line in lines if "conv(" in line) == 1
    assert any(line.strip().startswith("for v in config") for line in lines)


def test_each_file_cites_its_paper():
    for name in FIGURES:
        first = (ROOT / "archs" / f"{name}.cnn").read_text().splitlines()[0]
        assert first.startswith("# ") and re.search(r"\b(19|20)\d\d\b", "\n".join(
            (ROOT / "archs" / f"{name}.cnn").read_text().splitlines()[:3])), name


# ---- golden summaries --------------------------------------------------------------------------

@pytest.mark.parametrize("name", FIVE)
def test_golden_summary(name, capsys):
    assert cli.main(["summary", f"archs/{name}.cnn"]) == 0
    out = capsys.readouterr().out
    assert_golden(GOLDEN / f"{name}.txt", out)


AUX = {"googlenet": 13_378_280, "inception_v3": 27_161_264}   # README shows main params (with aux)


# torchvision's "GFLOPS" column (docs.pytorch.org/vision/stable/models.html), which counts MACs
TORCHVISION_GFLOPS = {"vgg11": 7.61, "vgg13": 11.31, "vgg16": 15.47, "vgg19": 19.63, "resnet18": 1.81,
                      "resnet34": 3.66, "resnet50": 4.09, "resnet101": 7.8, "resnet152": 11.51}


@pytest.mark.parametrize("name", sorted(TORCHVISION_GFLOPS))
def test_macs_match_torchvisions_gflops_column(name):
    assert round(build(name).graph["totals"]["macs"] / 1e9, 2) == TORCHVISION_GFLOPS[name]


# torchvision 0.29's builders (weights=None): parameter count (= the weights' meta["num_params"]) and
# the weights' meta["_ops"] (GMACs at the weights' crop size), read from torchvision; each zoo file
# writes its family members with --set.
# torchvision name: (zoo file, --set parameters, input or None for the file's own, params, _ops)
TORCHVISION_FAMILIES = {
    "resnext50_32x4d": ("resnext50_32x4d", {}, None, 25_028_904, 4.23),
    "resnext101_32x8d": ("resnext50_32x4d", {"layers": (3, 4, 23, 3), "width_per_group": 8}, None,
                         88_791_336, 16.414),
    "resnext101_64x4d": ("resnext50_32x4d", {"layers": (3, 4, 23, 3), "groups": 64}, None, 83_455_272, 15.46),
    "wide_resnet50_2": ("resnext50_32x4d", {"groups": 1, "width_per_group": 128}, None, 68_883_240, 11.398),
    "wide_resnet101_2": ("resnext50_32x4d", {"layers": (3, 4, 23, 3), "groups": 1, "width_per_group": 128},
                         None, 126_886_696, 22.753),
    "squeezenet1_1": ("squeezenet1_1", {}, "3x224x224", 1_235_496, 0.349),
    "squeezenet1_0": ("squeezenet1_1", {"stem": (96, 7), "config": (
        "M", (16, 64), (16, 64), (32, 128), "M", (32, 128), (48, 192), (48, 192), (64, 256), "M", (64, 256))},
        "3x224x224", 1_248_424, 0.819),
    "mobilenet_v2": ("mobilenet_v2", {}, None, 3_504_872, 0.301),
    "densenet121": ("densenet121", {}, None, 7_978_856, 2.834),
    "inception_v3": ("inception_v3", {}, None, 27_161_264, 5.713),
    "mnasnet1_0": ("mnasnet1_0", {}, None, 4_383_312, 0.314),
    "mnasnet0_5": ("mnasnet1_0", {"depths": (16, 8, 16, 24, 40, 48, 96, 160)}, None, 2_218_512, 0.104),
    "mnasnet0_75": ("mnasnet1_0", {"depths": (24, 16, 24, 32, 64, 72, 144, 240)}, None, 3_170_208, 0.215),
    "mnasnet1_3": ("mnasnet1_0", {"depths": (40, 24, 32, 56, 104, 128, 248, 416)}, None, 6_282_256, 0.526),
    "densenet161": ("densenet121", {"growth": 48, "init": 96, "layers": (6, 12, 36, 24)}, None, 28_681_000, 7.728),
    "densenet169": ("densenet121", {"layers": (6, 12, 32, 32)}, None, 14_149_480, 3.36),
    "densenet201": ("densenet121", {"layers": (6, 12, 48, 32)}, None, 20_013_928, 4.291),
    "mobilenet_v3_large": ("mobilenet_v3_large", {}, None, 5_483_032, 0.217),
    "mobilenet_v3_small": ("mobilenet_v3_large", {"last": 1024, "config": (
        (3, 16, 16, True, "RE", 2), (3, 72, 24, False, "RE", 2), (3, 88, 24, False, "RE", 1),
        (5, 96, 40, True, "HS", 2), (5, 240, 40, True, "HS", 1), (5, 240, 40, True, "HS", 1),
        (5, 120, 48, True, "HS", 1), (5, 144, 48, True, "HS", 1), (5, 288, 96, True, "HS", 2),
        (5, 576, 96, True, "HS", 1), (5, 576, 96, True, "HS", 1))}, None, 2_542_856, 0.057),
    "efficientnet_b0": ("efficientnet_b0", {}, None, 5_288_548, 0.386),
    "efficientnet_b1": ("efficientnet_b0", {"depth": 1.1}, "3x240x240", 7_794_184, 0.687),
    "efficientnet_b2": ("efficientnet_b0", {"width": 1.1, "depth": 1.2, "dropout": 0.3}, "3x288x288",
                        9_109_994, 1.088),
    "efficientnet_b3": ("efficientnet_b0", {"width": 1.2, "depth": 1.4, "dropout": 0.3}, "3x300x300",
                        12_233_232, 1.827),
    "efficientnet_b4": ("efficientnet_b0", {"width": 1.4, "depth": 1.8, "dropout": 0.4}, "3x380x380",
                        19_341_616, 4.394),
    "efficientnet_b5": ("efficientnet_b0", {"width": 1.6, "depth": 2.2, "dropout": 0.4, "eps": 0.001,
                                            "momentum": 0.01}, "3x456x456", 30_389_784, 10.266),
    "efficientnet_b6": ("efficientnet_b0", {"width": 1.8, "depth": 2.6, "dropout": 0.5, "eps": 0.001,
                                            "momentum": 0.01}, "3x528x528", 43_040_704, 19.068),
    "efficientnet_b7": ("efficientnet_b0", {"width": 2.0, "depth": 3.1, "dropout": 0.5, "eps": 0.001,
                                            "momentum": 0.01}, "3x600x600", 66_347_960, 37.746),
    "convnext_tiny": ("convnext_tiny", {}, None, 28_589_128, 4.456),
    "convnext_small": ("convnext_tiny", {"layers": (3, 3, 27, 3), "sd": 0.4}, None, 50_223_688, 8.684),
    "convnext_base": ("convnext_tiny", {"dims": (128, 256, 512, 1024), "layers": (3, 3, 27, 3), "sd": 0.5}, None,
                      88_591_464, 15.355),
    "convnext_large": ("convnext_tiny", {"dims": (192, 384, 768, 1536), "layers": (3, 3, 27, 3), "sd": 0.5},
                       None, 197_767_336, 34.361),
    "shufflenet_v2_x1_0": ("shufflenet_v2_x1_0", {}, None, 2_278_604, 0.145),
    "shufflenet_v2_x0_5": ("shufflenet_v2_x1_0", {"channels": (24, 48, 96, 192, 1024)}, None, 1_366_792, 0.04),
    "shufflenet_v2_x1_5": ("shufflenet_v2_x1_0", {"channels": (24, 176, 352, 704, 1024)}, None, 3_503_624, 0.296),
    "shufflenet_v2_x2_0": ("shufflenet_v2_x1_0", {"channels": (24, 244, 488, 976, 2048)}, None, 7_393_996, 0.583),
    "regnet_y_400mf": ("regnet_y_400mf", {}, None, 4_344_144, 0.402),
    "regnet_x_400mf": ("regnet_y_400mf", {"widths": (32, 64, 160, 400), "depths": (1, 2, 7, 12), "groups": (16, 16, 16, 16), "se": 0}, None,
                5_495_976, 0.414),
    "regnet_x_800mf": ("regnet_y_400mf", {"widths": (64, 128, 288, 672), "depths": (1, 3, 7, 5), "groups": (16, 16, 16, 16), "se": 0}, None,
                7_259_656, 0.8),
    "regnet_x_1_6gf": ("regnet_y_400mf", {"widths": (72, 168, 408, 912), "depths": (2, 4, 10, 2), "groups": (24, 24, 24, 24), "se": 0}, None,
                9_190_136, 1.603),
    "regnet_x_3_2gf": ("regnet_y_400mf", {"widths": (96, 192, 432, 1008), "depths": (2, 6, 15, 2), "groups": (48, 48, 48, 48), "se": 0}, None,
                15_296_552, 3.177),
    "regnet_x_8gf": ("regnet_y_400mf", {"widths": (80, 240, 720, 1920), "depths": (2, 5, 15, 1), "groups": (80, 120, 120, 120), "se": 0}, None,
                39_572_648, 7.995),
    "regnet_x_16gf": ("regnet_y_400mf", {"widths": (256, 512, 896, 2048), "depths": (2, 6, 13, 1), "groups": (128, 128, 128, 128), "se": 0}, None,
                54_278_536, 15.941),
    "regnet_x_32gf": ("regnet_y_400mf", {"widths": (336, 672, 1344, 2520), "depths": (2, 7, 13, 1), "groups": (168, 168, 168, 168), "se": 0}, None,
                107_811_560, 31.736),
    "regnet_y_800mf": ("regnet_y_400mf", {"widths": (64, 144, 320, 784), "depths": (1, 3, 8, 2), "groups": (16, 16, 16, 16)}, None,
                6_432_512, 0.834),
    "regnet_y_1_6gf": ("regnet_y_400mf", {"widths": (48, 120, 336, 888), "depths": (2, 6, 17, 2), "groups": (24, 24, 24, 24)}, None,
                11_202_430, 1.612),
    "regnet_y_3_2gf": ("regnet_y_400mf", {"widths": (72, 216, 576, 1512), "depths": (2, 5, 13, 1), "groups": (24, 24, 24, 24)}, None,
                19_436_338, 3.176),
    "regnet_y_8gf": ("regnet_y_400mf", {"widths": (224, 448, 896, 2016), "depths": (2, 4, 10, 1), "groups": (56, 56, 56, 56)}, None,
                39_381_472, 8.473),
    "regnet_y_16gf": ("regnet_y_400mf", {"widths": (224, 448, 1232, 3024), "depths": (2, 4, 11, 1), "groups": (112, 112, 112, 112)}, None,
                83_590_140, 15.912),
    "regnet_y_32gf": ("regnet_y_400mf", {"widths": (232, 696, 1392, 3712), "depths": (2, 5, 12, 1), "groups": (232, 232, 232, 232)}, None,
                145_046_770, 32.28),
    # the SWAG end-to-end weights' figure, at their 384x384 crop
    "regnet_y_128gf": ("regnet_y_400mf", {"widths": (528, 1056, 2904, 7392), "depths": (2, 7, 17, 1),
                                          "groups": (264, 264, 264, 264)}, "3x384x384", 644_812_894, 374.57),
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_FAMILIES))
def test_counts_equal_torchvisions_builders(name):
    """Parameters equal torchvision's; MACs equal its `_ops` figure to the digits it gives."""
    file, params, input, tv_params, tv_ops = TORCHVISION_FAMILIES[name]
    graph = dsl.build(f"archs/{file}.cnn", params=params, input=input)
    assert graph.graph["totals"]["trainable_params"] == tv_params
    assert round(graph.graph["totals"]["macs"] / 1e9, 3) == tv_ops


@pytest.mark.parametrize("name, paths", [
    ("resnext50_32x4d", ["layer1.0.downsample.0", "layer4.2.conv2", "fc"]),
    ("squeezenet1_1", ["features.0", "features.3.squeeze", "features.12.expand3x3", "classifier.1"]),
    ("mobilenet_v2", ["features.0.0", "features.1.conv.0.0", "features.1.conv.1", "features.2.conv.3",
                      "features.17.conv.2", "features.18.1", "classifier.1"]),
    ("densenet121", ["features.conv0", "features.denseblock3.denselayer24.conv2",
                     "features.transition3.conv", "features.norm5", "classifier"]),
    ("mobilenet_v3_large", ["features.0.0", "features.1.block.0.0", "features.4.block.2.fc1", "features.16.0",
                            "classifier.0", "classifier.3"]),
    ("efficientnet_b0", ["features.0.0", "features.1.0.block.1.fc2", "features.2.0.block.0.0",
                         "features.2.1.block.2.fc1", "features.8.1", "classifier.1"]),
    ("regnet_y_400mf", ["stem.0", "trunk_output.block1.block1-0.proj.0", "trunk_output.block2.block2-2.f.se.fc1",
                        "trunk_output.block4.block4-5.f.c.1", "fc"]),
    ("convnext_tiny", ["features.0.0", "features.0.1", "features.1.0.block.0", "features.1.0.block.2",
                       "features.1.0.layer_scale", "features.5.8.block.5", "features.6.1", "classifier.0",
                       "classifier.2"]),
    ("shufflenet_v2_x1_0", ["conv1.0", "stage2.0.branch1.0", "stage2.0.branch1.2", "stage2.1.branch2.5",
                            "stage4.3.branch2.0", "conv5.1", "fc"]),
    ("mnasnet1_0", ["layers.0", "layers.7", "layers.8.0.layers.0", "layers.13.0.layers.7", "layers.14",
                    "layers.15", "classifier.1"]),
    ("inception_v3", ["Conv2d_1a_3x3.conv", "Mixed_5b.branch_pool.bn", "Mixed_7c.branch3x3dbl_3b.conv",
                      "AuxLogits.conv1.conv", "AuxLogits.fc", "fc"]),
])
def test_torchvision_module_paths(name, paths):
    """A few of torchvision's module paths, checked without torchvision (the strict state_dict
    load in test_torchvision_compat.py checks them all)."""
    graph = build(name)
    for path in paths:
        assert graph.nodes[path]["params"] > 0, path


def test_resnext_groups_and_widths():
    graph = build("resnext50_32x4d")
    conv = graph.nodes["layer1.0.conv2"]
    assert (conv["args"]["groups"], conv["shape"][0]) == (32, 128)   # 32 groups of 4 channels
    assert graph.nodes["layer4.0.conv2"]["shape"] == (1024, 7, 7)


def test_densenet_channels_grow_by_k():
    graph = build("densenet121")
    concats = [graph.nodes[n]["shape"][0] for n, d in graph.nodes(data=True) if d["op"] == "concat"]
    assert len(concats) == 6 + 12 + 24 + 16
    assert concats[:6] == [96, 128, 160, 192, 224, 256] and concats[-1] == 1024
    assert graph.nodes["features.transition1.conv"]["shape"] == (128, 56, 56)
    assert graph.nodes["features.transition1.pool"]["shape"] == (128, 28, 28)


def test_readme_zoo_table_matches_the_files():
    """Every figure in the README's zoo table comes from the files as they are."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The zoo"):]
    rows = re.findall(r"^\| `(\w+)\.cnn` \|[^|]*\| (\w+) \| ([\d,]+)[^|]*\| ([\d,]+) \| (\d+) \|$", section, re.M)
    assert sorted(row[0] for row in rows) == sorted(FIGURES)
    for name, shape, params, macs, lines in rows:
        graph, number = build(name), lambda text: int(text.replace(",", ""))
        totals = graph.graph["totals"]
        assert shape == "x".join(map(str, graph.graph["inputs"]["input"])), name
        assert number(params) == (totals["main_params"] if name in AUX else totals["trainable_params"])
        assert number(macs) == totals["macs"], name
        assert int(lines) == len(code_lines(name)), name
    for name, with_aux in AUX.items():
        assert f"with aux heads {with_aux:,}" in section, name
