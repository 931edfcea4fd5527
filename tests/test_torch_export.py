"""Compiled modules under torch's tooling: torch.export (every zoo network), ONNX checked against
onnxruntime, torch.compile without graph breaks, dtypes, channels_last, DataParallel / DDP."""
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from cnnc import dsl  # noqa: E402
from cnnc.export import example_inputs, exported_program, onnx_program  # noqa: E402
from cnnc.torch_backend import module_from_graph  # noqa: E402
from test_torch_backend import ARCHS, FIVE, networks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Export traces the graph; a small input keeps it fast where the architecture allows one.
SMALL = {"resnet18": "3x32x32", "resnet34": "3x32x32", "resnet50": "3x32x32", "resnet101": "3x32x32",
         "resnet152": "3x32x32", "vgg11": "3x32x32", "vgg13": "3x32x32", "vgg16": "3x32x32", "vgg19": "3x32x32"}
ZOO = networks(ARCHS)


def _model(name_or_path, input=None):
    path = name_or_path if str(name_or_path).endswith(".cnn") else f"archs/{name_or_path}.cnn"
    graph = dsl.build(str(path), input=input)
    torch.manual_seed(0)
    return graph, module_from_graph(graph).eval()


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_torch_export_every_zoo_network(path):
    graph, model = _model(path, SMALL.get(path.stem))
    program = exported_program(graph, model)
    inputs = example_inputs(graph, batch=3)  # the batch dimension is dynamic
    with torch.no_grad():
        assert torch.allclose(program.module()(*inputs), model(*inputs), atol=1e-5)


@pytest.mark.parametrize("name", FIVE)
def test_onnx_matches_onnxruntime(name, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    graph, model = _model(name, SMALL.get(name))
    path = tmp_path / f"{name}.onnx"
    onnx_program(graph, model).save(str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = example_inputs(graph, batch=3)
    feed = {arg.name: x.numpy() for arg, x in zip(session.get_inputs(), inputs)}
    got = torch.from_numpy(session.run(None, feed)[0])
    with torch.no_grad():
        expected = model(*inputs)
    assert torch.allclose(got, expected, atol=1e-4, rtol=1e-4), (got - expected).abs().max()


@pytest.mark.parametrize("path", ["archs/lenet5.cnn", "examples/residual.cnn"])
def test_torch_compile_fullgraph_no_graph_breaks(path):
    """fullgraph=True raises on any graph break; aot_eager traces forward and backward without
    needing a C++ toolchain (the CUDA tests use the default inductor backend)."""
    graph, model = _model(path)
    x = example_inputs(graph)[0]
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    with torch.no_grad():
        assert torch.allclose(compiled(x), model(x), atol=1e-5)
    model.train()
    compiled(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_and_channels_last(dtype):
    graph, model = _model("examples/residual.cnn")
    x = example_inputs(graph)[0]
    with torch.no_grad():
        reference = model(x)
        last = model.to(memory_format=torch.channels_last)(x.to(memory_format=torch.channels_last))
        assert torch.allclose(last, reference, atol=1e-4)
        try:
            low = model.to(dtype)(x.to(dtype))
        except RuntimeError as error:  # some CPU builds lack float16 kernels
            pytest.skip(f"{dtype} on CPU: {error}")
    assert low.dtype == dtype
    assert torch.allclose(low.float(), reference, atol=0.1, rtol=0.1)


def test_lenet_custom_layers_follow_dtype():
    graph, model = _model("lenet5")
    x = example_inputs(graph)[0]
    with torch.no_grad():
        reference = model(x)
        low = model.to(torch.bfloat16)(x.bfloat16())
    assert model.out.prototypes.dtype == torch.bfloat16 and model.c3.slots.dtype == torch.long
    assert torch.allclose(low.float(), reference, rtol=0.05, atol=0.5)


def test_data_parallel_and_ddp(tmp_path):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    graph, model = _model("examples/residual.cnn")
    x = example_inputs(graph)[0]
    if not torch.cuda.is_available():  # with a GPU, DataParallel moves the module there (see test_torch_cuda)
        with torch.no_grad():
            assert torch.allclose(torch.nn.DataParallel(model)(x), model(x))
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        ddp = DistributedDataParallel(model.train())
        ddp(x).sum().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    finally:
        dist.destroy_process_group()


def test_pt2_round_trip(tmp_path):
    graph, model = _model("examples/inception.cnn")
    path = tmp_path / "net.pt2"
    torch.export.save(exported_program(graph, model), str(path))
    loaded = torch.export.load(str(path)).module()
    x = example_inputs(graph)[0]
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=1e-6)


def test_cli_writes_pt2_and_onnx(tmp_path):
    from cnnc.cli import main

    assert main(["compile", "examples/tiny_cnn.cnn", "--format", "pt2", "-o", str(tmp_path / "t.pt2")]) == 0
    program = torch.export.load(str(tmp_path / "t.pt2"))
    assert program.module()(torch.randn(5, 1, 28, 28)).shape == (5, 10)  # dynamic batch
    assert main(["compile", "examples/tiny_cnn.cnn", "--format", "pt2", "-o", "-"]) == 2  # usage
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    assert main(["compile", "examples/tiny_cnn.cnn", "--format", "onnx", "-o", str(tmp_path / "t.onnx")]) == 0
    session = ort.InferenceSession(str(tmp_path / "t.onnx"), providers=["CPUExecutionProvider"])
    assert session.run(None, {"x": torch.randn(3, 1, 28, 28).numpy()})[0].shape == (3, 10)
