"""`init` declarations: which rule a layer gets, the located errors, and the initial weights the
generated module draws, checked statistically against torchvision's rules (written out here, so the
test runs without torchvision; tests/test_init_torchvision.py compares with torchvision itself)."""
import math

import pytest

import cnnc
from cnnc import dsl

torch = pytest.importorskip("torch")

NET = """
block B(zero = false) {
    conv1: conv(8, 3x3, pad=1, bias=false);  bn1: batchnorm;  relu
    if zero { init bn1.weight: zeros }
}
network N(zi = true) {
    input 3x16x16
    init conv.weight: kaiming_normal(mode="fan_out", nonlinearity="relu")
    init linear.weight: normal(0, 0.01)
    init linear.bias: zeros
    layer: B(zero=zi)
    other: B()
    avgpool(global);  flatten;  fc: linear(10)
    init fc.bias: constant(0.5)
}
"""


def chosen(text, **params):
    graph = dsl.build(text=text, params=params)
    return {node: {p: i.text() for p, i in data.get("init", {}).items()} for node, data in graph.nodes(data=True)
            if data.get("init")}


def test_nearest_declaration_wins_and_a_layer_beats_its_op():
    assert chosen(NET) == {
        "layer.conv1": {"weight": 'kaiming_normal(mode="fan_out", nonlinearity="relu")'},
        "layer.bn1": {"weight": "zeros"},
        "other.conv1": {"weight": 'kaiming_normal(mode="fan_out", nonlinearity="relu")'},
        "fc": {"weight": "normal(mean=0, std=0.01)", "bias": "constant(value=0.5)"},
    }
    assert "layer.bn1" not in chosen(NET, zi=False)  # the block's `if` decides, per instance


def test_the_generated_module_applies_the_declarations():
    torch.manual_seed(0)
    model = cnnc.load(NET)
    assert torch.equal(model.layer.bn1.weight, torch.zeros(8))
    assert torch.equal(model.other.bn1.weight, torch.ones(8))  # torch's default
    assert torch.equal(model.fc.bias, torch.full((10,), 0.5))
    source = cnnc.compile_source(NET)
    assert "        for m in self.modules():\n            if isinstance(m, nn.Conv2d):\n" \
           '                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")\n' in source
    assert "        nn.init.zeros_(self.layer.bn1.weight)\n" in source
    assert "                nn.init.constant_(m.bias, 0.5)\n" in source  # the only linear: its rule is the loop's


def test_summary_and_json_name_the_rules():
    graph = cnnc.analyse("archs/vgg16.cnn")
    from cnnc.summary import to_json, to_table

    table = to_table(graph)
    assert ("Initialisation (torch's default elsewhere):\n"
            '  kaiming_normal(mode="fan_out", nonlinearity="relu"): 13 conv weights\n'
            "  zeros: 13 conv biases\n"
            "  normal(mean=0, std=0.01): 3 linear weights\n"
            "  zeros: 3 linear biases\n") in table
    import json

    rows = {row["path"]: row for row in json.loads(to_json(graph))["layers"]}
    assert rows["features.0"]["init"] == {"weight": 'kaiming_normal(mode="fan_out", nonlinearity="relu")',
                                          "bias": "zeros"}
    assert "init" not in rows["features.1"]


ERRORS = [
    ("init conv.weight: kaiming_norml", "unknown initialisation `kaiming_norml`", "did you mean `kaiming_normal`?"),
    ('init conv.weight: kaiming_normal(mode="fan_inn")', "kaiming_normal: mode must be one of fan_in, fan_out; "
     'got "fan_inn"', None),
    ("init conv.weight: normal(sd=1)", "normal has no argument `sd`", "did you mean `std`?"),
    ("init conv.gain: zeros", "`conv` layers have no parameter `gain`", "their parameters: weight, bias"),
    ("init cc1.weight: zeros", "init: no layer `cc1` here", "did you mean `c1`?"),
    ("init c1.bias: zeros", "init: layer `c1` (conv) has no parameter `bias`", "its parameters: weight"),
    ("init conv.weight: normal(std=-1)", "normal: std must be positive, got -1", None),
    ("init conv.weight: uniform(1, 0)", "uniform needs a < b, got a=1, b=0", None),
    ("init conv.weight: normal(std=1e999)", "normal: std must be finite, got inf", None),
    ("init bn.weight: xavier_uniform", "xavier_uniform needs a tensor of at least 2 dimensions; `bn.weight` has 1 "
     "(torch cannot compute its fan-in and fan-out)", "use normal, uniform, constant, zeros or ones for biases and norms"),
    ("init conv.weight: zeros;  init conv.weight: ones", "`conv.weight` is initialised twice here",
     "keep one `init` per target in a block or network"),
]


@pytest.mark.parametrize("line, message, hint", ERRORS, ids=[e[1][:40] for e in ERRORS])
def test_located_errors(line, message, hint):
    text = f"network N {{\n    input 3x8x8\n    c1: conv(4, 3x3, bias=false);  bn: batchnorm\n    {line}\n}}\n"
    with pytest.raises(dsl.CnnError) as caught:
        dsl.build(text=text)
    error = caught.value
    assert error.message == message
    assert error.hint == hint
    assert error.span.line == 4


# ---- statistics: each layer's initial weights against torchvision's rule --------------------

def _fan(weight, mode):
    receptive = weight[0][0].numel() if weight.dim() > 2 else 1
    return weight.shape[1] * receptive if mode == "fan_in" else weight.shape[0] * receptive


def _assert_normal(values, mean, std, where):
    """Sample mean and standard deviation within 6 standard errors of the expected ones."""
    n = values.numel()
    got_mean, got_std = values.mean().item(), values.std().item()
    assert abs(got_mean - mean) <= 6 * std / math.sqrt(n), (where, got_mean, mean)
    assert abs(got_std - std) <= 6 * std / math.sqrt(2 * (n - 1)) + 1e-12, (where, got_std, std)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_resnet50_draws_as_torchvisions_resnet(seed):
    torch.manual_seed(seed)
    model = cnnc.load("archs/resnet50.cnn", classes=10)
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d):  # kaiming_normal_(mode="fan_out", nonlinearity="relu")
            _assert_normal(module.weight.detach(), 0.0, math.sqrt(2 / _fan(module.weight, "fan_out")), name)
        elif isinstance(module, torch.nn.BatchNorm2d):
            assert torch.equal(module.weight, torch.ones_like(module.weight)), name
            assert torch.equal(module.bias, torch.zeros_like(module.bias)), name


@pytest.mark.parametrize("seed", [0, 1])
def test_vgg16_draws_as_torchvisions_vgg(seed):
    torch.manual_seed(seed)
    model = cnnc.load("archs/vgg16.cnn", classes=10)
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Conv2d):
            _assert_normal(module.weight.detach(), 0.0, math.sqrt(2 / _fan(module.weight, "fan_out")), name)
            assert torch.equal(module.bias, torch.zeros_like(module.bias)), name
        elif isinstance(module, torch.nn.Linear):
            _assert_normal(module.weight.detach(), 0.0, 0.01, name)
            assert torch.equal(module.bias, torch.zeros_like(module.bias)), name


def test_googlenet_draws_truncated_normals():
    torch.manual_seed(0)
    model = cnnc.load("archs/googlenet.cnn", classes=10)
    for name, module in model.named_modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):  # trunc_normal_(std=0.01, a=-2, b=2)
            _assert_normal(module.weight.detach(), 0.0, 0.01, name)
            assert module.weight.abs().max() <= 2


def test_zero_init_residual_is_expressible():
    text = """
    block Basic(width, zero_init_residual = false) {
        add { conv1: conv(width, 3x3, pad=1, bias=false);  bn1: batchnorm;  relu
              conv2: conv(width, 3x3, pad=1, bias=false);  bn2: batchnorm } | {}
        relu
        if zero_init_residual { init bn2.weight: zeros }
    }
    network N(zero_init_residual = false) {
        input 8x8x8
        init conv.weight: kaiming_normal(mode="fan_out", nonlinearity="relu")
        layer1: { Basic(8, zero_init_residual);  Basic(8, zero_init_residual) }
    }
    """
    zeroed = cnnc.load(text, zero_init_residual=True)
    assert torch.equal(zeroed.get_submodule("layer1.1.bn2").weight, torch.zeros(8))
    assert torch.equal(zeroed.get_submodule("layer1.0.bn2").weight, torch.zeros(8))
    plain = cnnc.load(text)
    assert torch.equal(plain.get_submodule("layer1.1.bn2").weight, torch.ones(8))


def test_resnet18_draws_torchvisions_exact_initial_weights():
    """Modules are built, and the init loop runs, in torchvision's order, so the same seed gives the
    same weights. Sums recorded from torchvision 0.29.1 (torch 2.14.1):
    torch.manual_seed(0); torchvision.models.resnet18(weights=None, num_classes=10).state_dict()."""
    torch.manual_seed(0)
    state = cnnc.load("archs/resnet18.cnn", classes=10).state_dict()
    sums = [round(float(state[key].double().sum()), 6)
            for key in ("conv1.weight", "layer4.1.conv2.weight", "fc.weight", "fc.bias")]
    assert sums == [-0.673757, 6.769153, 0.881312, 0.031099]


# Sums recorded from torchvision 0.29.1 (torch 2.14.1): torch.manual_seed(0);
# torchvision.models.NAME(weights=None, num_classes=10).state_dict(). cnnc builds these networks'
# modules, and runs their init loops, in torchvision's order (tests/test_init_torchvision.py compares
# every parameter where torchvision is installed).
FINGERPRINTS = [
    ("squeezenet1_1", {"features.0.weight": -8.086586, "features.7.expand3x3.weight": -0.683753,
                       "features.12.expand3x3.weight": 21.295005}),
    ("mobilenet_v2", {"features.0.0.weight": 1.625806, "features.9.conv.2.weight": -20.257594,
                      "classifier.1.weight": 1.760139}),
    ("densenet121", {"features.conv0.weight": -15.784327, "features.denseblock3.denselayer11.conv2.weight": 5.51049,
                     "classifier.weight": 0.974531}),
    ("mnasnet1_0", {"layers.0.weight": -2.658843, "layers.10.1.layers.6.weight": 22.474531,
                    "classifier.1.weight": -18.643106}),
    ("mobilenet_v3_large", {"features.0.0.weight": -2.423846, "features.9.block.2.0.weight": -8.590308,
                            "classifier.3.weight": 0.275881}),
    ("efficientnet_b0", {"features.0.0.weight": 2.937803, "features.5.0.block.1.0.weight": -0.441193,
                         "classifier.1.weight": 25.023079}),
    ("regnet_y_400mf", {"stem.0.weight": 0.623031, "trunk_output.block3.block3-3.f.c.0.weight": 34.538168,
                        "fc.weight": -1.950485}),
    ("shufflenet_v2_x1_0", {"conv1.0.weight": -1.027989, "stage3.3.branch2.5.weight": 0.274799,
                            "fc.weight": -2.758684}),
]


@pytest.mark.parametrize("name, sums", FINGERPRINTS, ids=[f[0] for f in FINGERPRINTS])
def test_zoo_draws_torchvisions_exact_initial_weights(name, sums):
    torch.manual_seed(0)
    model = cnnc.load(f"archs/{name}.cnn", classes=10)
    state = model.state_dict()
    assert {key: round(float(state[key].double().sum()), 6) for key in sums} == sums
    if name == "squeezenet1_1":  # final_conv, drawn after the loop: normal(0, 0.01), biases 0
        _assert_normal(state["classifier.1.weight"], 0.0, 0.01, name)
        assert all(torch.equal(v, torch.zeros_like(v)) for k, v in state.items() if k.endswith(".bias"))
    if name == "efficientnet_b0":  # uniform(-1/sqrt(out_features), 1/sqrt(out_features)): std bound/sqrt(3)
        weight, bound = state["classifier.1.weight"], 1 / math.sqrt(10)
        assert weight.abs().max() <= bound
        _assert_normal(weight, 0.0, bound / math.sqrt(3), name)  # mean and std of the uniform
