"""CUDA: compiled modules move to the GPU and run there without touching the host.

Run with `python -m pytest -m cuda tests/test_torch_cuda.py`; every test skips without a GPU.
CUDA-graph capture is the oracle for "no tensor is created on the CPU inside forward": any
host-to-device copy or synchronisation during capture is an error.
"""
import pytest

torch = pytest.importorskip("torch")

from cnnc import dsl  # noqa: E402
from cnnc.export import example_inputs  # noqa: E402
from cnnc.torch_backend import module_from_graph  # noqa: E402
from test_torch_backend import ARCHS, networks  # noqa: E402

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]
ZOO = networks(ARCHS)


def _model(path):
    graph = dsl.build(str(path))
    torch.manual_seed(0)
    return graph, module_from_graph(graph).eval()


@pytest.fixture(autouse=True)
def exact_float32():
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_zoo_on_gpu_matches_cpu_and_trains(path):
    graph, model = _model(path)
    inputs = example_inputs(graph)
    with torch.no_grad():
        expected = model(*inputs)
        got = model.cuda()(*[x.cuda() for x in inputs]).cpu()
    assert torch.allclose(got, expected, rtol=1e-3, atol=1e-3 * expected.abs().max().item())
    model.train()
    out = model(*[x.cuda() for x in inputs])
    outs = out if isinstance(out, tuple) else (out,)  # side outputs in training mode
    sum(o.float().pow(2).mean() for o in outs).backward()
    assert all(p.grad is not None and p.grad.is_cuda and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("name", ["lenet5", "googlenet", "resnet50"])
def test_cuda_graph_capture_proves_no_host_work_in_forward(name):
    graph, model = _model(f"archs/{name}.cnn")
    model.cuda()
    static = example_inputs(graph, device="cuda")
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.no_grad(), torch.cuda.stream(stream):
        for _ in range(2):
            model(*static)
    torch.cuda.current_stream().wait_stream(stream)
    captured = torch.cuda.CUDAGraph()
    with torch.no_grad(), torch.cuda.graph(captured):
        out = model(*static)
    fresh = example_inputs(graph, device="cuda")
    for buffer, value in zip(static, fresh):
        buffer.copy_(value * 2)
    captured.replay()
    with torch.no_grad():
        assert torch.allclose(out, model(*static), atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", ["lenet5", "resnet50", "googlenet"])
def test_half_bfloat16_channels_last(name, dtype):
    graph, model = _model(f"archs/{name}.cnn")
    model.cuda()
    x = example_inputs(graph, device="cuda")[0]
    with torch.no_grad():
        reference = model(x)
        low = model.to(dtype=dtype, memory_format=torch.channels_last)(
            x.to(dtype=dtype, memory_format=torch.channels_last))
    assert low.dtype == dtype and torch.isfinite(low).all()
    scale = reference.abs().max().item()
    assert torch.allclose(low.float(), reference, rtol=0.05, atol=0.05 * scale)


@pytest.mark.parametrize("name", ["lenet5", "resnet50"])
def test_torch_compile_inductor_fullgraph(name):
    graph, model = _model(f"archs/{name}.cnn")
    model.cuda()
    x = example_inputs(graph, device="cuda")[0]
    compiled = torch.compile(model, fullgraph=True)
    with torch.no_grad():
        assert torch.allclose(compiled(x), model(x), rtol=1e-3, atol=1e-3)


def test_data_parallel_on_gpu():
    graph, model = _model("examples/residual.cnn")
    x = example_inputs(graph)[0]
    with torch.no_grad():
        expected = model(x)
        got = torch.nn.DataParallel(model.cuda())(x.cuda()).cpu()
    assert torch.allclose(got, expected, atol=1e-4)
