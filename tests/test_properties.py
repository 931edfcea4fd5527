"""Property tests with torch as the oracle: for random layer arguments and random stacks, the
static analysis gives the shapes torch computes and the parameter counts of torch's layers, and it
rejects exactly the configurations torch rejects. Shapes come from the `meta` device: no compute."""
import os
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnc import dsl
from cnnc.dsl.diagnostics import CnnError

torch = pytest.importorskip("torch")
nn = torch.nn

# CI runs the same 200 examples per property every time (a landing must not depend on luck);
# CNNC_PROPERTY_EXAMPLES=5000 CNNC_PROPERTY_RANDOM=1 pytest tests/test_properties.py explores anew.
PROPERTY_SETTINGS = settings(max_examples=int(os.environ.get("CNNC_PROPERTY_EXAMPLES", "200")),
                             derandomize=os.environ.get("CNNC_PROPERTY_RANDOM") != "1", deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])


def size(pair) -> str:
    return f"{pair[0]}x{pair[1]}"


def analyse(input_shape, body: str):
    """The analysed graph of `body` applied to an input, or the CnnError it raises."""
    text = "network P {\n  input " + "x".join(map(str, input_shape)) + f"\n{body}\n}}\n"
    try:
        return dsl.build(text=text, networkx=False)
    except CnnError as error:
        return error


def torch_shape(module, input_shape, device="meta"):
    try:
        return tuple(module(torch.zeros(1, *input_shape, device=device)).shape[1:])
    except (RuntimeError, ValueError) as error:
        return error


def numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


def last(graph) -> dict:
    node = graph.graph["outputs"]["output"]
    return graph.nodes[node]


def assert_agree(graph, expected, module):
    if isinstance(expected, Exception):
        assert isinstance(graph, CnnError), f"torch rejects ({expected}) but cnnc accepts"
        return
    assert not isinstance(graph, CnnError), f"cnnc rejects ({graph.message}) but torch gives {expected}"
    assert last(graph)["shape"] == expected
    assert graph.graph["totals"]["params"] == numel(module)


pairs = st.tuples(st.integers(1, 5), st.integers(1, 5))
spatial = st.tuples(st.integers(1, 8), st.integers(1, 40), st.integers(1, 40))


@st.composite
def conv_case(draw):
    channels, h, w = draw(spatial)
    groups = draw(st.sampled_from([g for g in (1, 2, 3, 4) if channels % g == 0]))
    out = groups * draw(st.integers(1, 4))
    kernel, stride, dilation = draw(pairs), draw(st.tuples(st.integers(1, 3), st.integers(1, 3))), \
        draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    pad = draw(st.one_of(st.tuples(st.integers(0, 3), st.integers(0, 3)), st.just("same")))
    if pad == "same":
        stride = (1, 1)
    bias = draw(st.booleans())
    return (channels, h, w), out, kernel, stride, pad, dilation, groups, bias


@PROPERTY_SETTINGS
@given(conv_case())
def test_conv_matches_torch(case):
    shape, out, kernel, stride, pad, dilation, groups, bias = case
    pad_text = pad if pad == "same" else size(pad)
    graph = analyse(shape, f"  conv({out}, {size(kernel)}, stride={size(stride)}, pad={pad_text}, "
                           f"dilation={size(dilation)}, groups={groups}, bias={'true' if bias else 'false'})")
    module = nn.Conv2d(shape[0], out, kernel, stride, pad, dilation, groups, bias, device="meta")
    warnings.filterwarnings("ignore", "Using padding='same'")
    assert_agree(graph, torch_shape(module, shape), module)


@st.composite
def deconv_case(draw):
    channels, h, w = draw(spatial)
    kernel, stride = draw(pairs), draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    pad = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    output_pad = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    return (channels, h, w), draw(st.integers(1, 6)), kernel, stride, pad, output_pad, dilation


@PROPERTY_SETTINGS
@given(deconv_case())
def test_deconv_matches_torch(case):
    shape, out, kernel, stride, pad, output_pad, dilation = case
    graph = analyse(shape, f"  deconv({out}, {size(kernel)}, stride={size(stride)}, pad={size(pad)}, "
                           f"output_pad={size(output_pad)}, dilation={size(dilation)})")
    try:
        # on the CPU: the meta kernel skips torch's output_pad check
        module = nn.ConvTranspose2d(shape[0], out, kernel, stride, pad, output_pad, dilation=dilation)
        expected = torch_shape(module, shape, device="cpu")
    except ValueError as error:  # torch checks output_pad when the layer is made
        module, expected = None, error
    assert_agree(graph, expected, module)


@st.composite
def pool_case(draw):
    shape = draw(spatial)
    kind = draw(st.sampled_from(["maxpool", "avgpool"]))
    kernel = draw(pairs)
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    pad = draw(st.tuples(st.integers(0, 3), st.integers(0, 3)))
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2))) if kind == "maxpool" else (1, 1)
    return shape, kind, kernel, stride, pad, dilation, draw(st.booleans())


@PROPERTY_SETTINGS
@given(pool_case())
def test_pool_matches_torch(case):
    shape, kind, kernel, stride, pad, dilation, ceil = case
    args = f"{size(kernel)}, pad={size(pad)}, ceil={'true' if ceil else 'false'}"
    args += f", stride={size(stride)}" if stride else ""
    if kind == "maxpool":
        args += f", dilation={size(dilation)}"
        module = nn.MaxPool2d(kernel, stride, pad, dilation, ceil_mode=ceil)
    else:
        module = nn.AvgPool2d(kernel, stride, pad, ceil_mode=ceil)
    assert_agree(analyse(shape, f"  {kind}({args})"), torch_shape(module, shape), module)


@PROPERTY_SETTINGS
@given(st.integers(1, 5000), st.integers(1, 5000), st.booleans())
def test_linear_matches_torch(features, out, bias):
    graph = analyse((features,), f"  linear({out}, bias={'true' if bias else 'false'})")
    module = nn.Linear(features, out, bias, device="meta")
    assert_agree(graph, torch_shape(module, (features,)), module)


# ---- random sequential stacks ----------------------------------------------------------

@st.composite
def layer(draw, channels):
    """One random layer as (.cnn text, torch module factory taking the input channel count)."""
    kind = draw(st.sampled_from(["conv", "maxpool", "avgpool", "batchnorm", "relu", "deconv", "lrn",
                                 "upsample", "gap"]))
    k = draw(st.integers(1, 3))
    s = draw(st.integers(1, 2))
    p = draw(st.integers(0, k // 2))
    if kind == "conv":
        out = draw(st.integers(1, 8))
        return f"conv({out}, {k}x{k}, stride={s}, pad={p})", lambda c: nn.Conv2d(c, out, k, s, p, device="meta")
    if kind == "deconv":
        out = draw(st.integers(1, 8))
        return f"deconv({out}, {k}x{k}, stride={s})", lambda c: nn.ConvTranspose2d(c, out, k, s, device="meta")
    if kind == "maxpool":
        return f"maxpool({k}x{k}, stride={s}, pad={p}, ceil=true)", lambda c: nn.MaxPool2d(k, s, p, ceil_mode=True)
    if kind == "avgpool":
        return f"avgpool({k}x{k}, stride={s}, pad={p})", lambda c: nn.AvgPool2d(k, s, p)
    if kind == "batchnorm":
        return "batchnorm", lambda c: nn.BatchNorm2d(c, device="meta")
    if kind == "lrn":
        return "lrn(size=3)", lambda c: nn.LocalResponseNorm(3)
    if kind == "upsample":
        return "upsample(2)", lambda c: nn.Upsample(scale_factor=2)
    if kind == "gap":
        return "avgpool(global)", lambda c: nn.AdaptiveAvgPool2d(1)
    return "relu", lambda c: nn.ReLU()


@PROPERTY_SETTINGS
@given(spatial, st.lists(layer(None), min_size=1, max_size=8), st.booleans())
def test_stack_matches_torch_forward(shape, layers, classify):
    body = "\n".join(f"  {text}" for text, _ in layers)
    if classify:
        body += "\n  flatten\n  linear(7)"
    graph = analyse(shape, body)
    x = torch.empty(1, *shape, device="meta")
    shapes, total = [], 0
    try:
        for _, make in layers:
            module = make(x.shape[1]).eval()  # eval: batchnorm accepts one value per channel
            total += numel(module)
            x = module(x)
            shapes.append(tuple(x.shape[1:]))
        if classify:
            x = torch.flatten(x, 1)
            head = nn.Linear(x.shape[1], 7, device="meta")
            total += numel(head)
            shapes += [tuple(x.shape[1:]), tuple(head(x).shape[1:])]
    except RuntimeError as error:
        assert isinstance(graph, CnnError), f"torch rejects ({error}) but cnnc accepts"
        return
    assert not isinstance(graph, CnnError), f"cnnc rejects ({graph.message}) but torch runs"
    analysed = [d["shape"] for _, d in graph.nodes(data=True) if d["op"] != "input"]
    assert analysed == shapes
    assert graph.graph["totals"]["params"] == total
