"""Initial weights against torchvision's own constructors: per state_dict entry, the mean and standard
deviation agree within sampling error over several seeds, and constants (BatchNorm, zeroed biases)
are equal. Skipped without torchvision (see tests/test_torchvision_compat.py for the venv)."""
import math

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

import cnnc  # noqa: E402

NETWORKS = ["resnet18", "resnet50", "vgg11", "vgg16"]
# Every zoo file with a torchvision counterpart. Modules are built, and the init loop runs, in
# torchvision's order (a layer whose rule differs from its class's gets an `m is ...` branch inside
# the loop, as torchvision's SqueezeNet and Inception write it), so the same seed draws the same
# weights, bit for bit.
EXACT = {"resnet18": (), "resnet50": (), "vgg11": (), "vgg16": (), "resnext50_32x4d": (),
         "mobilenet_v2": (), "mobilenet_v3_large": (), "efficientnet_b0": (), "regnet_y_400mf": (),
         "convnext_tiny": (), "shufflenet_v2_x1_0": (), "densenet121": (), "mnasnet1_0": (),
         "squeezenet1_1": (), "inception_v3": ()}
TORCHVISION_ARGS = {"inception_v3": {"init_weights": True}, "googlenet": {"init_weights": True}}


def _close(ours, theirs, key):
    """Two samples of one distribution: means and standard deviations within 6 standard errors."""
    n = ours.numel()
    if n < 2 or theirs.std() == 0:
        assert torch.equal(ours, theirs), key  # a constant: exactly torchvision's
        return
    std = theirs.std().item()
    assert abs(ours.mean().item() - theirs.mean().item()) <= 6 * std * math.sqrt(2 / n), key
    assert abs(ours.std().item() - std) <= 6 * std * math.sqrt(2 / (2 * (n - 1))), key


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_initial_weights_match_torchvisions_constructor(name, seed):
    torch.manual_seed(seed)
    theirs = getattr(torchvision.models, name)(weights=None, num_classes=10).state_dict()
    torch.manual_seed(seed + 100)
    ours = cnnc.load(f"archs/{name}.cnn", classes=10).state_dict()
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        if value.is_floating_point():
            _close(ours[key].float(), value.float(), key)
        else:
            assert torch.equal(ours[key], value), key


@pytest.mark.parametrize("name", EXACT)
def test_the_same_seed_gives_torchvisions_exact_weights(name):
    torch.manual_seed(0)
    theirs = getattr(torchvision.models, name)(weights=None, num_classes=10,
                                               **TORCHVISION_ARGS.get(name, {})).state_dict()
    torch.manual_seed(0)
    ours = cnnc.load(f"archs/{name}.cnn", classes=10).state_dict()
    assert ours.keys() == theirs.keys()
    assert [key for key in theirs if not torch.equal(ours[key], theirs[key])] == list(EXACT[name])
    for key in EXACT[name]:  # drawn again: the same distribution as torchvision's draw
        _close(ours[key], theirs[key], key)
