"""Property tests for the modern ops, torch as the oracle (as tests/test_properties.py): shapes,
parameter counts, and that cnnc rejects exactly what torch rejects; where cnnc is stricter than
torch on purpose (a permute that moves the batch, a linear over a map's width) the test says so.
Values too, where an op is cnnc's own runtime layer (tf_same padding, layer norm over channels)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnc import dsl
from cnnc.dsl.diagnostics import CnnError
from test_properties import PROPERTY_SETTINGS, analyse, assert_agree, last, numel, torch_shape

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional
runtime = pytest.importorskip("cnnc.runtime")

# the costlier properties (several layers built and run per example) take a quarter of the examples
FEWER = settings(PROPERTY_SETTINGS, max_examples=max(25, PROPERTY_SETTINGS.max_examples // 4))
small = st.tuples(st.integers(1, 12), st.integers(1, 9), st.integers(1, 9))


# ---- mul: broadcasting ------------------------------------------------------------------------

@FEWER
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)), min_size=2, max_size=3))
def test_mul_broadcasts_as_torch(branches):
    """Each branch is a map CxHxW made from the input by an adaptive pool and a 1x1 conv."""
    body = "  mul " + " | ".join(f"{{ adaptive_avgpool({h}x{w}); conv({c}, 1x1) }}" for c, h, w in branches)
    graph = analyse((4, 6, 6), body)
    convs = [nn.Conv2d(4, c, 1, device="meta") for c, _, _ in branches]
    try:
        product = torch.empty(1, *branches[0], device="meta")
        for shape in branches[1:]:
            product = product * torch.empty(1, *shape, device="meta")
        expected = tuple(product.shape[1:])
    except RuntimeError as error:
        expected = error
    assert_agree(graph, expected, nn.ModuleList(convs))


def test_mul_of_a_map_and_a_flat_vector_is_refused():
    """torch would broadcast (N, F) against (N, C, H, W) by lining F up with W: never what is meant."""
    graph = analyse((3, 4, 4), "  -> x\n  mul { @x } | { flatten; linear(4) }")
    assert isinstance(graph, CnnError) and "cannot join feature maps and flat vectors" in graph.message


# ---- activations, norms, scale, stochastic depth ----------------------------------------------

MODULES = {
    "silu": lambda c: nn.SiLU(), "hardswish": lambda c: nn.Hardswish(), "hardsigmoid": lambda c: nn.Hardsigmoid(),
    "gelu": lambda c: nn.GELU(), "relu6": lambda c: nn.ReLU6(), "stochastic_depth(0.2)": lambda c: nn.Identity(),
    "layernorm": lambda c: runtime.LayerNorm2d(c), "layernorm(affine=false)":
        lambda c: runtime.LayerNorm2d(c, elementwise_affine=False),
    "scale(init=0.5)": lambda c: _Scale(c), "channel_shuffle(2)": lambda c: nn.ChannelShuffle(2),
    "chunk(2, 1)": lambda c: _Chunk(2, 1), "batchnorm": lambda c: nn.BatchNorm2d(c),
    "conv(6, 3x3, stride=2, pad=tf_same)": lambda c: runtime.Conv2dSame(c, 6, 3, 2),
    "maxpool(3x3, stride=2, pad=tf_same)": lambda c: runtime.MaxPool2dSame(3, 2),
    "avgpool(2x2, pad=tf_same)": lambda c: runtime.AvgPool2dSame(2, 2, count_include_pad=False),
    "maxpool(3x3, stride=1, pad=same)": lambda c: nn.MaxPool2d(3, 1, 1),
}


class _Scale(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer_scale = nn.Parameter(torch.full((c, 1, 1), 0.5))

    def forward(self, x):
        return self.layer_scale * x


class _Chunk(nn.Module):
    def __init__(self, parts, index):
        super().__init__()
        self.parts, self.index = parts, index

    def forward(self, x):
        return x.chunk(self.parts, 1)[self.index]


@FEWER
@given(small, st.lists(st.sampled_from(sorted(MODULES)), min_size=1, max_size=6))
def test_modern_stack_matches_torch(shape, ops):
    graph = analyse(shape, "\n".join(f"  {op}" for op in ops))
    x, shapes, total = torch.zeros(2, *shape), [], 0
    try:
        for op in ops:
            module = MODULES[op](x.shape[1]).eval()
            total += numel(module)
            x = module(x)
            if x.numel() == 0:
                raise RuntimeError("an empty output")
            shapes.append(tuple(x.shape[1:]))
    except (RuntimeError, IndexError) as error:
        assert isinstance(graph, CnnError), f"torch rejects ({error}) but cnnc accepts"
        return
    assert not isinstance(graph, CnnError), f"cnnc rejects ({graph.message}) but torch runs"
    assert [d["shape"] for _, d in graph.nodes(data=True) if d["op"] != "input"] == shapes
    assert graph.graph["totals"]["params"] == total


@PROPERTY_SETTINGS
@given(st.integers(1, 16), st.integers(1, 8), st.integers(0, 8))
def test_chunk_matches_torch(channels, parts, index):
    graph = analyse((channels, 2, 2), f"  chunk({parts}, {index})")
    try:
        expected = tuple(torch.zeros(1, channels, 2, 2).chunk(parts, 1)[index].shape[1:])
    except IndexError as error:
        expected = error
    assert_agree(graph, expected, nn.Identity())


@PROPERTY_SETTINGS
@given(st.integers(1, 16), st.integers(1, 8), st.booleans())
def test_channel_shuffle_matches_torch(channels, groups, flat):
    shape = (channels,) if flat else (channels, 2, 3)
    graph = analyse(shape, f"  channel_shuffle({groups})")
    module = nn.ChannelShuffle(groups)
    assert_agree(graph, torch_shape(module, shape, device="cpu"), module)


@FEWER
@given(st.integers(1, 12), st.booleans(), small)
def test_layernorm_over_channels_matches_torchs_layer_norm(eps_exp, affine, shape):
    """cnnc's LayerNorm2d: torch's F.layer_norm over each pixel's channels; torch's parameter count."""
    eps = 10.0 ** -eps_exp
    graph = analyse(shape, f"  layernorm(eps={eps!r}, affine={'true' if affine else 'false'})")
    module = runtime.LayerNorm2d(shape[0], eps=eps, elementwise_affine=affine)
    assert_agree(graph, torch_shape(module, shape, device="cpu"), module)
    if affine:
        nn.init.normal_(module.weight), nn.init.normal_(module.bias)
    x = torch.randn(2, *shape)
    reference = nn.LayerNorm(shape[0], eps=eps, elementwise_affine=affine)
    reference.load_state_dict(module.state_dict())
    assert torch.allclose(module(x), reference(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), atol=1e-6)


@PROPERTY_SETTINGS
@given(st.floats(-0.5, 1.5), st.sampled_from(["row", "batch", "all"]))
def test_stochastic_depth_accepts_what_torchvision_accepts(p, mode):
    torchvision_ops = pytest.importorskip("torchvision.ops")
    graph = analyse((3, 4, 4), f"  stochastic_depth({p!r}, mode={mode})")
    try:
        torchvision_ops.stochastic_depth(torch.zeros(2, 3, 4, 4), p, mode, training=True)
        expected = (3, 4, 4)
    except ValueError as error:
        expected = error
    assert_agree(graph, expected, nn.Identity())


# ---- permute, channels-last linear ------------------------------------------------------------

@PROPERTY_SETTINGS
@given(small, st.permutations([0, 1, 2, 3]), st.integers(1, 6))
def test_permute_then_linear(shape, dims, out):
    graph = analyse(shape, f"  permute({list(dims)})\n  linear({out})")
    x = torch.zeros(1, *shape, device="meta").permute(*dims)
    if dims[0] != 0:  # torch moves the batch; cnnc's shapes are per sample, so it refuses
        assert isinstance(graph, CnnError) and "batch dimension first" in graph.message
        return
    if dims[3] != 1:  # torch applies a linear to whatever is last; cnnc only to channels
        assert isinstance(graph, CnnError) and "needs a flat vector" in graph.message
        return
    module = nn.Linear(x.shape[-1], out, device="meta")
    assert_agree(graph, tuple(module(x).shape[1:]), module)
    node = last(graph)
    assert node["macs"] == x.shape[1] * x.shape[2] * x.shape[3] * out  # as torch's FLOP counter / 2


# ---- padding: same and tf_same ------------------------------------------------------------------

def tf_same_reference(x, kernel, stride, dilation=1):
    """TensorFlow's documented SAME padding: out = ceil(in / stride), pad_along = max((out - 1) *
    stride + dilation * (kernel - 1) + 1 - in, 0), pad_top = pad_along // 2, the rest at the bottom."""
    pads = []
    for size in (x.shape[3], x.shape[2]):
        out = -(-size // stride)
        along = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
        pads += [along // 2, along - along // 2]
    return pads


@FEWER
@given(st.integers(1, 20), st.integers(1, 20), st.integers(1, 5), st.integers(1, 3), st.integers(1, 2))
def test_tf_same_conv_and_pools_follow_tensorflow(h, w, kernel, stride, dilation):
    x = torch.randn(1, 2, h, w)
    pads = tf_same_reference(x, kernel, stride, dilation)
    graph = analyse((2, h, w), f"  conv(3, {kernel}x{kernel}, stride={stride}, dilation={dilation}, pad=tf_same)")
    conv = runtime.Conv2dSame(2, 3, kernel, stride, dilation=dilation)
    expected = F.conv2d(F.pad(x, pads), conv.weight, conv.bias, stride, 0, dilation)
    assert torch.allclose(conv(x), expected, atol=1e-6)
    assert_agree(graph, tuple(expected.shape[1:]), conv)
    assert expected.shape[2:] == (-(-h // stride), -(-w // stride))

    pads = tf_same_reference(x, kernel, stride)
    maxed = F.max_pool2d(F.pad(x, pads, value=float("-inf")), kernel, stride)
    assert torch.equal(runtime.MaxPool2dSame(kernel, stride)(x), maxed)
    ones = F.pad(torch.ones(1, 1, h, w), pads)
    averaged = F.avg_pool2d(F.pad(x, pads), kernel, stride) / F.avg_pool2d(ones, kernel, stride)
    assert torch.allclose(runtime.AvgPool2dSame(kernel, stride, count_include_pad=False)(x), averaged, atol=1e-6)
    for op in ("maxpool", "avgpool"):
        pooled = analyse((2, h, w), f"  {op}({kernel}x{kernel}, stride={stride}, pad=tf_same)")
        assert last(pooled)["shape"] == tuple(maxed.shape[1:])


@PROPERTY_SETTINGS
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 6), st.integers(1, 2))
def test_same_pools_match_torch_at_stride_1(h, w, kernel, dilation):
    graph = analyse((2, h, w), f"  maxpool({kernel}x{kernel}, stride=1, dilation={dilation}, pad=same)")
    if dilation * (kernel - 1) % 2:  # uneven padding: torch's pools cannot, cnnc names tf_same
        assert isinstance(graph, CnnError) and "tf_same" in graph.hint
        return
    module = nn.MaxPool2d(kernel, 1, dilation * (kernel - 1) // 2, dilation)
    assert_agree(graph, torch_shape(module, (2, h, w), device="cpu"), module)


def test_known_tensorflow_same_shapes():
    """Figures from TensorFlow's documentation and Keras models: 224 -> 112 -> 56 at stride 2."""
    graph = dsl.build(text="network N { input 3x224x224; conv(32, 3x3, stride=2, pad=tf_same); "
                           "maxpool(3x3, stride=2, pad=tf_same); conv(8, 1x1, stride=2, pad=tf_same) }",
                      networkx=False)
    assert [d["shape"] for _, d in graph.nodes(data=True)][1:] == [(32, 112, 112), (32, 56, 56), (8, 28, 28)]
