"""Each modern construct against the torchvision module it was written for: the cnnc text's compiled
module loads the torchvision module's state_dict strictly (the same keys, shapes included) and
computes the same outputs in eval mode, and in train mode where it is deterministic. Skips
cleanly without torchvision. The zoo's whole networks are tests/test_torchvision_compat.py."""
from functools import partial

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from torch import nn  # noqa: E402
from torchvision.models import convnext, densenet, efficientnet, mobilenetv3, regnet, shufflenetv2  # noqa: E402
from torchvision.ops import SqueezeExcitation, StochasticDepth  # noqa: E402

import cnnc  # noqa: E402


def randomise(module: nn.Module) -> nn.Module:
    """Random parameters and running statistics, so that equal outputs mean equal computations."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                values = torch.rand(tensor.shape, generator=generator) + 0.5 if "running_var" in name \
                    else torch.randn(tensor.shape, generator=generator) * 0.5
                tensor.copy_(values)
    return module


def compare(text: str, reference: nn.Module, input_shape, train: bool = False, **params):
    """The compiled text loads `reference`'s state_dict strictly and gives its outputs."""
    randomise(reference)
    model = cnnc.load(text, **params)
    model.load_state_dict(reference.state_dict(), strict=True)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in reference.parameters())
    x = torch.randn(2, *input_shape, generator=torch.Generator().manual_seed(1))
    for mode in ([False, True] if train else [False]):
        model.train(mode), reference.train(mode)
        expected, got = reference(x), model(x)
        assert got.shape == expected.shape
        assert torch.allclose(got, expected, rtol=1e-5, atol=1e-5), (mode, (got - expected).abs().max())
    return model


SE = """
block SE(squeeze, gate = "sigmoid", channels = in.channels) {
    mul {} | {
        avgpool: adaptive_avgpool(1)
        fc1: conv(squeeze, 1x1)
        activation: relu
        fc2: conv(channels, 1x1)
        scale_activation: if gate == "sigmoid" { sigmoid } else { hardsigmoid }
    }
}
"""


@pytest.mark.parametrize("gate, scale_activation", [("sigmoid", nn.Sigmoid), ("hard", nn.Hardsigmoid)])
def test_squeeze_excitation(gate, scale_activation):
    text = SE + f'network N {{ input 16x5x5; SE(8, gate="{gate}") }}'
    reference = nn.Sequential(SqueezeExcitation(16, 8, scale_activation=scale_activation))
    compare(text, reference, (16, 5, 5), train=True)


def test_mobilenet_v3_inverted_residual():
    """group { } numbers Conv2dNormActivation (block.0.0), mul the SE gate, hardswish, a residual."""
    text = SE + """
# torchvision's _make_divisible(v, 8): the nearest multiple of 8 (at least 8), plus 8 when that loses
# more than 10%
block InvertedResidual(expanded, out, kernel, stride, se = true, channels = in.channels,
                       q = max(8, (expanded // 4 + 4) // 8 * 8),
                       squeeze = q + 8 * min(1, max(0, ceil(0.9 * (expanded // 4) - q)))) {
    -> input_
    block: {
        if expanded != channels { group { conv(expanded, 1x1, bias=false); batchnorm(eps=0.001, momentum=0.01); hardswish } }
        group { conv(expanded, kernel, stride=stride, pad=(kernel - 1) // 2, groups=expanded, bias=false)
                batchnorm(eps=0.001, momentum=0.01); hardswish }
        if se { SE(squeeze, gate="hard") }
        group { conv(out, 1x1, bias=false); batchnorm(eps=0.001, momentum=0.01) }
    }
    if stride == 1 and channels == out { add {} | @input_ }
}
network N { input 16x9x9; InvertedResidual(64, 16, 3, 1); InvertedResidual(72, 24, 5, 2) }
"""
    norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
    reference = nn.Sequential(
        mobilenetv3.InvertedResidual(mobilenetv3.InvertedResidualConfig(16, 3, 64, 16, True, "HS", 1, 1, 1.0), norm),
        mobilenetv3.InvertedResidual(mobilenetv3.InvertedResidualConfig(16, 5, 72, 24, True, "HS", 2, 1, 1.0), norm))
    model = compare(text, reference, (16, 9, 9), train=True)
    assert "0.block.2.fc1.weight" in model.state_dict() and "0.block.0.0.weight" in model.state_dict()


def test_efficientnet_mbconv_with_stochastic_depth():
    text = SE + """
block MBConv(expand, out, kernel, stride, sd, channels = in.channels) {
    -> input_
    block: {
        if expand != 1 { group { conv(expand * channels, 1x1, bias=false); batchnorm; silu } }
        group { conv(expand * channels, kernel, stride=stride, pad=(kernel - 1) // 2, groups=expand * channels,
                     bias=false); batchnorm; silu }
        SE(max(1, channels // 4))
        group { conv(out, 1x1, bias=false); batchnorm }
    }
    if stride == 1 and channels == out { add { stochastic_depth: stochastic_depth(sd) } | @input_ }
}
network N { input 16x8x8; MBConv(6, 16, 3, 1, 0.0); MBConv(4, 24, 5, 2, 0.0) }
"""
    text = text.replace("activation: relu", "activation: if gate == \"sigmoid\" { silu } else { relu }")
    reference = nn.Sequential(
        efficientnet.MBConv(efficientnet.MBConvConfig(6, 3, 1, 16, 16, 1), 0.0, nn.BatchNorm2d),
        efficientnet.MBConv(efficientnet.MBConvConfig(4, 5, 2, 16, 24, 1), 0.0, nn.BatchNorm2d))
    compare(text, reference, (16, 8, 8), train=True)


CNBLOCK = """
block CNBlock(dim, sd = 0.0, scale_init = 1e-6) {
    add {
        block: {
            conv(dim, 7x7, pad=3, groups=dim)
            permute([0, 2, 3, 1])
            layernorm(eps=1e-6)
            linear(4 * dim)
            gelu
            linear(dim)
            permute([0, 3, 1, 2])
        }
        layer_scale: scale(init=scale_init)
        stochastic_depth: stochastic_depth(sd)
    } | {}
}
"""


def test_convnext_stem_block_and_downsampling():
    """layernorm on a CxHxW map is LayerNorm2d; after permute, nn.LayerNorm; `scale` is the bare
    parameter `layer_scale` (key `1.layer_scale`, shape Cx1x1); the permutes hold block.1 and block.6."""
    text = CNBLOCK + """
network N {
    input 3x32x32
    group { conv(16, 4x4, stride=4); layernorm(eps=1e-6) }
    CNBlock(16, scale_init=0.5)
    group { layernorm(eps=1e-6); conv(32, 2x2, stride=2) }
    avgpool(global)
    group { layernorm(eps=1e-6); flatten; linear(10) }
}
"""
    norm = partial(convnext.LayerNorm2d, eps=1e-6)
    from torchvision.ops.misc import Conv2dNormActivation

    reference = nn.Sequential(
        Conv2dNormActivation(3, 16, kernel_size=4, stride=4, padding=0, norm_layer=norm, activation_layer=None,
                             bias=True),
        convnext.CNBlock(16, 0.5, 0.0),
        nn.Sequential(norm(16), nn.Conv2d(16, 32, kernel_size=2, stride=2)),
        nn.AdaptiveAvgPool2d(1),
        nn.Sequential(norm(32), nn.Flatten(1), nn.Linear(32, 10)))
    model = compare(text, reference, (3, 32, 32), train=True)
    assert model.state_dict()["1.layer_scale"].shape == (16, 1, 1)
    assert {"1.block.0.weight", "1.block.2.weight", "1.block.3.weight", "1.block.5.weight"} <= set(model.state_dict())


def test_stochastic_depth_in_training_draws_as_torchvision():
    text = CNBLOCK + "network N { input 8x6x6; CNBlock(8, sd=0.5, scale_init=1.0) }"
    reference = nn.Sequential(convnext.CNBlock(8, 1.0, 0.5))
    randomise(reference)
    model = cnnc.load(text)
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(16, 8, 6, 6)
    torch.manual_seed(3)
    expected = reference.train()(x)
    torch.manual_seed(3)
    got = model.train()(x)
    assert torch.allclose(got, expected, atol=1e-6)
    assert not torch.allclose(got, model.eval()(x))  # some rows were dropped
    assert isinstance(reference[0].stochastic_depth, StochasticDepth)


SHUFFLE = """
block InvertedResidual(out, stride) {
    concat {
        if stride == 1 { chunk(2, 0) } else {
            branch1: { conv(in.channels, 3x3, stride=stride, pad=1, groups=in.channels, bias=false); batchnorm
                       conv(out // 2, 1x1, bias=false); batchnorm; relu }
        }
    } | {
        if stride == 1 { chunk(2, 1) }
        branch2: { conv(out // 2, 1x1, bias=false); batchnorm; relu
                   conv(out // 2, 3x3, stride=stride, pad=1, groups=out // 2, bias=false); batchnorm
                   conv(out // 2, 1x1, bias=false); batchnorm; relu }
    }
    channel_shuffle(2)
}
network N { input 24x8x8; InvertedResidual(48, 2); InvertedResidual(48, 1) }
"""


def test_shufflenet_v2_split_and_shuffle():
    reference = nn.Sequential(shufflenetv2.InvertedResidual(24, 48, 2), shufflenetv2.InvertedResidual(48, 48, 1))
    compare(SHUFFLE, reference, (24, 8, 8), train=True)


def test_regnet_quoted_labels():
    """`"block1-0":` names torchvision's AnyStage blocks; proj, f.a, f.b, f.se, f.c as in RegNet-Y."""
    text = SE + """
block ResBottleneck(out, stride, group_width = 8, se_ratio = 0.25, channels = in.channels) {
    add {
        f: {
            a: group { conv(out, 1x1, bias=false); batchnorm; relu }
            b: group { conv(out, 3x3, stride=stride, pad=1, groups=out // group_width, bias=false); batchnorm; relu }
            se: SE(int(se_ratio * channels + 0.5))
            c: group { conv(out, 1x1, bias=false); batchnorm }
        }
    } | proj: if channels != out or stride != 1 { conv(out, 1x1, stride=stride, bias=false); batchnorm }
    activation: relu
}
network N {
    input 8x8x8
    block1: { for i in range(2) { ("block1-" + str(i)): ResBottleneck(16, if_stride(i)) } }
}
"""
    text = text.replace("if_stride(i)", "2 - min(i, 1)")
    reference = nn.Sequential()
    reference.add_module("block1", regnet.AnyStage(8, 16, 2, 2, regnet.ResBottleneckBlock, nn.BatchNorm2d, nn.ReLU,
                                                   8, 1.0, 0.25, 1))
    model = compare(text, reference, (8, 8, 8), train=True)
    assert "block1.block1-0.f.se.fc1.weight" in model.state_dict()


def test_densenet_computed_labels():
    text = """
block DenseLayer(growth, bn_size = 4) {
    concat {} | {
        norm1: batchnorm; relu1: relu; conv1: conv(bn_size * growth, 1x1, bias=false)
        norm2: batchnorm; relu2: relu; conv2: conv(growth, 3x3, pad=1, bias=false)
    }
}
network N {
    input 8x6x6
    denseblock1: { for i in range(3) { ("denselayer" + str(i + 1)): DenseLayer(4) } }
}
"""
    reference = nn.Sequential()
    reference.add_module("denseblock1", densenet._DenseBlock(3, 8, 4, 4, 0.0))
    model = compare(text, reference, (8, 6, 6), train=True)
    assert "denseblock1.denselayer3.conv2.weight" in model.state_dict()
