"""The deploy build's inference kernels (compiler/deploy_kernels.py) against torch's own layers:
NNPACK's Winograd convolution within Winograd's rounding of nn.Conv2d, the separable max pool
bit-identical to nn.MaxPool2d, and the layout the deploy build picks from the IR."""
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnc import dsl  # noqa: E402
from cnnc.deploy import DeployPlan, deploy_module, prefers_channels_last  # noqa: E402
from cnnc.deploy_kernels import (  # noqa: E402
    WINOGRAD_MIN_SIDE, PackedConv2d, SeparableMaxPool2d, winograd_available, winograd_fits)
from cnnc.export import example_inputs  # noqa: E402

F = torch.nn.functional
WINOGRAD = winograd_available()
needs_winograd = pytest.mark.skipif(not WINOGRAD, reason="NNPACK's Winograd convolution is not available on this CPU")


def relative(got, expected) -> float:
    return ((got - expected).abs().max() / expected.abs().max().clamp_min(1e-12)).item()


def packed(conv, winograd=True, activation=None):
    PackedConv2d.adopt(conv)
    conv.winograd, conv.activation = winograd, activation
    return conv.eval().requires_grad_(False)


def test_winograd_fits_3x3_stride_1_on_large_outputs_only():
    fits = dict(kernel=(3, 3), stride=(1, 1), dilation=(1, 1), groups=1, padding=(1, 1), height=56, width=56)
    assert winograd_fits(**fits)
    assert winograd_fits(**{**fits, "height": WINOGRAD_MIN_SIDE, "width": WINOGRAD_MIN_SIDE})
    for change in [{"kernel": (5, 5)}, {"stride": (2, 2)}, {"dilation": (2, 2)}, {"groups": 2},
                   {"padding": "same"}, {"padding": (3, 3)}, {"height": WINOGRAD_MIN_SIDE - 1}]:
        assert not winograd_fits(**{**fits, **change}), change


@needs_winograd
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_winograd_conv_equals_conv2d_one_image_at_a_time(layout, one_thread):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(16, 24, 3, padding=1)
    expected_conv = torch.nn.Conv2d(16, 24, 3, padding=1)
    expected_conv.load_state_dict(conv.state_dict())
    conv = packed(conv, activation="relu")
    x = torch.randn(3, 16, 30, 32).contiguous(memory_format=layout)
    with torch.no_grad():
        expected = torch.relu(expected_conv(x))
        got = conv(x)
    assert got.shape == expected.shape and got.is_contiguous()  # NCHW out, whatever came in
    assert 0 < relative(got, expected) <= 1e-4  # Winograd's rounding, not the direct convolution's
    assert conv._packed is None  # the oneDNN path was not taken
    torch.set_num_threads(2)  # more threads: oneDNN's path (NNPACK's pool competed with OpenMP's)
    with torch.no_grad():
        assert relative(conv(x), expected) <= 1e-5
    assert conv._packed is not None


@needs_winograd
def test_winograd_conv_falls_back_where_it_does_not_apply(one_thread):
    torch.manual_seed(0)
    conv = packed(torch.nn.Conv2d(8, 8, 3, padding=1))
    small = torch.randn(2, 8, 12, 12)  # 12x12 output: under WINOGRAD_MIN_SIDE, oneDNN's path
    with torch.no_grad():
        assert relative(conv(small), F.conv2d(small, conv.weight, conv.bias, padding=1)) <= 1e-5
    assert conv._packed is not None
    x = torch.randn(2, 8, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        assert torch.equal(conv.double()(x), F.conv2d(x, conv.weight, conv.bias, padding=1))  # nn.Conv2d's own
    conv.float().requires_grad_(True)
    y = conv(torch.randn(1, 8, 32, 32, requires_grad=True))  # autograd: nn.Conv2d, differentiable
    y.sum().backward()
    assert conv.weight.grad is not None


@settings(max_examples=60, deadline=None)
@given(kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)), stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       pad=st.tuples(st.integers(0, 2), st.integers(0, 2)), height=st.integers(1, 12), width=st.integers(1, 12),
       nan=st.booleans(), channels_last=st.booleans())
def test_separable_max_pool_is_bit_identical_to_max_pool2d(kernel, stride, pad, height, width, nan, channels_last):
    pad = tuple(min(p, k // 2) for p, k in zip(pad, kernel))
    if height + 2 * pad[0] < kernel[0] or width + 2 * pad[1] < kernel[1]:
        return  # torch refuses an output of size 0 too
    pool = torch.nn.MaxPool2d(kernel, stride, pad)
    expected_pool = torch.nn.MaxPool2d(kernel, stride, pad)
    SeparableMaxPool2d.adopt(pool)
    x = torch.randn(2, 3, height, width)
    if nan:
        x[1, 2, height // 2, width // 2] = float("nan")
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)  # torch's kernel: fast in that layout
    with torch.no_grad():
        got, expected = pool(x), expected_pool(x)
    assert got.shape == expected.shape
    assert torch.equal(got.nan_to_num(123.0), expected.nan_to_num(123.0))
    assert torch.equal(got.isnan(), expected.isnan())
    if not channels_last and kernel != (1, 1):
        assert got.is_contiguous() and got.data_ptr() != x.data_ptr()  # a fresh tensor, as max_pool2d's


def test_winograd_share_picks_the_layout():
    vgg, resnet50 = DeployPlan(dsl.build("archs/vgg16.cnn")), DeployPlan(dsl.build("archs/resnet50.cnn"))
    assert len(vgg.winograd) == 10  # conv1_1 .. conv4_3 (28x28 and up); conv5_x are 14x14
    assert vgg.winograd_share == pytest.approx(0.91, abs=0.005)
    assert resnet50.winograd_share == pytest.approx(0.17, abs=0.005)  # layer1/layer2 3x3 convs only
    assert prefers_channels_last(dsl.build("archs/resnet50.cnn"))
    assert prefers_channels_last(dsl.build("archs/vgg16.cnn")) is not WINOGRAD


@needs_winograd
def test_vgg_deploy_is_nchw_with_winograd_convs_and_separable_pools():
    graph = dsl.build("archs/vgg11.cnn")
    deployed = deploy_module(graph)
    winograd = [m for m in deployed.modules() if type(m) is PackedConv2d and m.winograd]
    assert len(winograd) == len(DeployPlan(graph).winograd) == 6  # the 3x3 convs at 28x28 and up
    assert sum(type(m) is SeparableMaxPool2d for m in deployed.modules()) == 5
    assert not deployed.features[0].weight.is_contiguous(memory_format=torch.channels_last)


WINOGRAD_ZOO = ["vgg11", "vgg13", "vgg16", "vgg19", "resnet18", "resnet34"]


def test_the_zoo_networks_that_stay_nchw():
    from pathlib import Path

    nchw = sorted(p.stem for p in Path("archs").glob("*.cnn") if DeployPlan(dsl.build(str(p))).winograd_share >= 0.4)
    assert nchw == sorted(WINOGRAD_ZOO)


@needs_winograd
@pytest.mark.parametrize("name", WINOGRAD_ZOO)
def test_winograd_deploy_equals_training_module_at_full_size(name, one_thread):
    from cnnc.torch_backend import module_from_graph

    graph = dsl.build(f"archs/{name}.cnn")
    torch.manual_seed(0)
    model = module_from_graph(graph).eval()
    with torch.no_grad():  # non-trivial BatchNorm statistics, so that folding is not a no-op
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    deployed = deploy_module(graph, model)
    winograd = [m for m in deployed.modules() if type(m) is PackedConv2d and m.winograd]
    assert winograd and len(winograd) == len(DeployPlan(graph).winograd)
    inputs = example_inputs(graph, batch=2)
    with torch.no_grad():
        assert relative(deployed(*inputs), model(*inputs)) <= 1e-4
    assert all(m._packed is None for m in winograd)  # each ran as Winograd, not oneDNN


@needs_winograd
def test_a_winograd_conv_in_a_fresh_process_initialises_nnpack_itself():
    """An unpickled deploy module calls its Winograd convs before anything asked whether NNPACK is
    available (which is what initialises it); an uninitialised NNPACK fails every convolution."""
    import subprocess
    import sys

    script = """
import torch
from cnnc.deploy_kernels import PackedConv2d
torch.set_num_threads(1)
conv = torch.nn.Conv2d(8, 8, 3, padding=1)
PackedConv2d.adopt(conv)
conv.winograd = True
conv.eval().requires_grad_(False)
x = torch.randn(2, 8, 32, 32)
with torch.no_grad():
    y = conv(x)
    expected = torch.nn.functional.conv2d(x, conv.weight, conv.bias, padding=1)
assert conv._packed is None and ((y - expected).abs().max() / expected.abs().max()).item() <= 1e-4
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


@needs_winograd
def test_an_empty_batch_runs(one_thread):
    conv = packed(torch.nn.Conv2d(8, 8, 3, padding=1))
    with torch.no_grad():
        assert conv(torch.randn(0, 8, 32, 32)).shape == (0, 8, 32, 32)
