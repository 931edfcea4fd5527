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
]


@pytest.mark.parametrize("name, file, params", FAMILY, ids=[f[0] for f in FAMILY])
def test_family_members_load_strict_and_logits_match(name, file, params):
    theirs, ours = pair(name, file, params, input="3x64x64")
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected, got = theirs.eval()(x), ours.eval()(x)
    assert close(got, expected), (got - expected).abs().max()
