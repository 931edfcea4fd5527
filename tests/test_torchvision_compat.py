"""torchvision compatibility: zoo files load torchvision 0.29's state_dicts with strict=True and give
the same logits (eval mode) and the same outputs, gradients and BatchNorm statistics (train mode,
dropout at 0). Skipped when torchvision is absent; to run it, in a separate venv:
`pip install torch==2.14.1 torchvision==0.29.1` (about 5.5 GB), then `pip install -e . --no-deps`
plus lark, networkx, graphviz, hypothesis and pytest (see README). No weights are downloaded:
torchvision's models are randomly initialised."""
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

import cnnc  # noqa: E402

RTOL = 1e-5   # max |ours - theirs| <= RTOL * max |theirs|


def close(got, expected):
    return (got - expected).abs().max().item() <= RTOL * expected.abs().max().item()


def pair(name, file=None, params=None, kwargs=None, input=None):
    torch.manual_seed(0)
    theirs = getattr(torchvision.models, name)(weights=None, **(kwargs or {}))
    ours = cnnc.load(f"archs/{file or name}.cnn", input=input, **(params or {}))
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return theirs, ours


@pytest.mark.parametrize("name", ["resnet50", "vgg16"])
def test_torchvision_state_dict_loads_strict_and_logits_match(name):
    torch.manual_seed(0)
    theirs = getattr(torchvision.models, name)(weights=None).eval()
    ours = cnnc.load(f"archs/{name}.cnn").eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected, got = theirs(x), ours(x)
    assert torch.allclose(got, expected, atol=1e-5, rtol=0), (got - expected).abs().max()


# torchvision name, zoo file, cnnc parameters, torchvision keyword arguments, input side in
# eval mode (the file's own) and in train mode (smaller where the network allows, to stay quick;
# Inception v3's auxiliary head needs the full 299x299)
MODERN = [
    ("resnext50_32x4d", None, {}, {}, 224, 64),
    ("squeezenet1_1", None, {"dropout": 0.0}, {"dropout": 0.0}, 227, 64),
    ("mobilenet_v2", None, {"dropout": 0.0}, {"dropout": 0.0}, 224, 64),
    ("densenet121", None, {}, {}, 224, 64),
    ("inception_v3", None, {"dropout": 0.0}, {"dropout": 0.0}, 299, 299),
    ("mnasnet1_0", None, {"dropout": 0.0}, {"dropout": 0.0}, 224, 64),
    ("mobilenet_v3_large", None, {"dropout": 0.0}, {"dropout": 0.0}, 224, 64),
    ("efficientnet_b0", None, {"dropout": 0.0, "sd": 0.0}, {"dropout": 0.0, "stochastic_depth_prob": 0.0}, 224, 64),
    ("regnet_y_400mf", None, {}, {}, 224, 64),
    ("convnext_tiny", None, {"sd": 0.0}, {"stochastic_depth_prob": 0.0}, 224, 64),
    ("shufflenet_v2_x1_0", None, {}, {}, 224, 64),
]


@pytest.mark.parametrize("name, file, params, kwargs, side, train_side", MODERN, ids=[m[0] for m in MODERN])
def test_modern_zoo_eval_and_train_match_torchvision(name, file, params, kwargs, side, train_side):
    theirs, ours = pair(name, file, params, kwargs)
    x = torch.randn(1, 3, side, side)
    with torch.no_grad():
        expected, got = theirs.eval()(x), ours.eval()(x)
    assert close(got, expected), (got - expected).abs().max()

    theirs.train(), ours.train()
    x = torch.randn(2, 3, train_side, train_side)
    torch.manual_seed(1)
    expected = theirs(x)
    torch.manual_seed(1)
    got = ours(x)
    expected = tuple(expected) if isinstance(expected, tuple) else (expected,)
    got = tuple(got) if isinstance(got, tuple) else (got,)
    assert len(got) == len(expected)       # Inception v3: (logits, AuxLogits) in training
    for g, e in zip(got, expected):
        assert close(g, e), (g - e).abs().max()
    sum(e.square().mean() for e in expected).backward()
    sum(g.square().mean() for g in got).backward()
    their_parameters = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        assert close(p.grad, their_parameters[key].grad), key
    their_state = theirs.state_dict()
    for key, value in ours.state_dict().items():    # BatchNorm running statistics after the step
        assert torch.equal(value, their_state[key]) or close(value, their_state[key]), key


# family members written with --set (eval logits on a smaller input, to stay quick)
FAMILY = [
    ("resnext101_32x8d", "resnext50_32x4d", {"layers": (3, 4, 23, 3), "width_per_group": 8}),
    ("resnext101_64x4d", "resnext50_32x4d", {"layers": (3, 4, 23, 3), "groups": 64}),
    ("wide_resnet50_2", "resnext50_32x4d", {"groups": 1, "width_per_group": 128}),
    ("wide_resnet101_2", "resnext50_32x4d", {"layers": (3, 4, 23, 3), "groups": 1, "width_per_group": 128}),
    ("squeezenet1_0", "squeezenet1_1", {"stem": (96, 7), "config": (
        "M", (16, 64), (16, 64), (32, 128), "M", (32, 128), (48, 192), (48, 192), (64, 256), "M", (64, 256))}),
    ("mnasnet0_5", "mnasnet1_0", {"depths": (16, 8, 16, 24, 40, 48, 96, 160)}),
    ("mnasnet0_75", "mnasnet1_0", {"depths": (24, 16, 24, 32, 64, 72, 144, 240)}),
    ("mnasnet1_3", "mnasnet1_0", {"depths": (40, 24, 32, 56, 104, 128, 248, 416)}),
    ("densenet161", "densenet121", {"growth": 48, "init": 96, "layers": (6, 12, 36, 24)}),
    ("mobilenet_v3_small", "mobilenet_v3_large", {"last": 1024, "config": (
        (3, 16, 16, True, "RE", 2), (3, 72, 24, False, "RE", 2), (3, 88, 24, False, "RE", 1),
        (5, 96, 40, True, "HS", 2), (5, 240, 40, True, "HS", 1), (5, 240, 40, True, "HS", 1),
        (5, 120, 48, True, "HS", 1), (5, 144, 48, True, "HS", 1), (5, 288, 96, True, "HS", 2),
        (5, 576, 96, True, "HS", 1), (5, 576, 96, True, "HS", 1))}),
    ("efficientnet_b2", "efficientnet_b0", {"width": 1.1, "depth": 1.2, "dropout": 0.3}),
    ("efficientnet_b5", "efficientnet_b0", {"width": 1.6, "depth": 2.2, "dropout": 0.4, "eps": 0.001,
                                            "momentum": 0.01}),
    ("convnext_small", "convnext_tiny", {"layers": (3, 3, 27, 3), "sd": 0.4}),
    ("shufflenet_v2_x0_5", "shufflenet_v2_x1_0", {"channels": (24, 48, 96, 192, 1024)}),
    ("regnet_x_400mf", "regnet_y_400mf", {"widths": (32, 64, 160, 400), "depths": (1, 2, 7, 12),
                                          "groups": (16, 16, 16, 16), "se": 0}),
    ("regnet_x_8gf", "regnet_y_400mf", {"widths": (80, 240, 720, 1920), "depths": (2, 5, 15, 1),
                                        "groups": (80, 120, 120, 120), "se": 0}),
]


@pytest.mark.parametrize("name, file, params", [
    ("efficientnet_b0", "efficientnet_b0", {}),
    ("efficientnet_b4", "efficientnet_b0", {"width": 1.4, "depth": 1.8, "dropout": 0.4}),
    ("convnext_tiny", "convnext_tiny", {}),
    ("convnext_base", "convnext_tiny", {"dims": (128, 256, 512, 1024), "layers": (3, 3, 27, 3), "sd": 0.5}),
])
def test_stochastic_depth_probabilities_are_torchvisions(name, file, params):
    """Each block's stochastic depth probability (linear in the block index) equals torchvision's."""
    torch.manual_seed(0)
    theirs = getattr(torchvision.models, name)(weights=None)
    ours = cnnc.load(f"archs/{file}.cnn", input="3x64x64", **params)
    residual = [m for m in theirs.modules() if type(m).__name__ in ("MBConv", "CNBlock")
                and getattr(m, "use_res_connect", True)]
    expected = [m.stochastic_depth.p for m in residual]
    got = [m.p for n, m in ours.named_modules() if n.endswith("stochastic_depth")]
    assert got == expected and len(got) >= 9   # B0 has 9 residual blocks


@pytest.mark.parametrize("name, file, params", FAMILY, ids=[f[0] for f in FAMILY])
def test_family_members_load_strict_and_logits_match(name, file, params):
    theirs, ours = pair(name, file, params, input="3x64x64")
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected, got = theirs.eval()(x), ours.eval()(x)
    assert close(got, expected), (got - expected).abs().max()
