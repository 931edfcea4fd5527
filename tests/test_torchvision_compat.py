"""torchvision compatibility: the zoo's ResNet-50 and VGG-16 load torchvision's state_dicts with
strict=True and give the same logits. Skipped when torchvision is absent; to run it, in a separate
venv: `pip install torch==2.14.1 torchvision==0.29.1` (about 5.5 GB), then `pip install -e . --no-deps`
plus lark, networkx, graphviz, hypothesis and pytest (see README). No weights are downloaded:
torchvision's models are randomly initialised."""
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

import cnnc  # noqa: E402


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
