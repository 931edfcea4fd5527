"""The PyTorch backend against its oracles: the static analysis (output shapes, trainable parameter
counts), autograd (finite gradients on every parameter), and golden generated sources.

Golden sources: tests/golden/py/<name>.py hold `cnnc compile archs/<name>.cnn -o -` for the five
zoo networks. After an intended change to the generator, regenerate them with

    CNNC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_torch_backend.py

and review the diff before committing.
"""
import ast
import json
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import cnnc  # noqa: E402
from cnnc import dsl  # noqa: E402
from cnnc import pyops, torch_backend  # noqa: E402
from cnnc.names import MODULE_ATTRS  # noqa: E402
from cnnc.pysource import generate  # noqa: E402
from cnnc.dsl import NoNetwork  # noqa: E402
from cnnc.dsl.ops import OPS  # noqa: E402
from conftest import run_without_cnnc  # noqa: E402
from harness import assert_golden  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "py"
FIVE = ["lenet5", "alexnet", "vgg16", "googlenet", "resnet50"]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.cnn") if p.name != "blocks.cnn")
ARCHS = sorted((ROOT / "archs").glob("*.cnn"))

# Smaller inputs where the architecture allows them (global or adaptive pooling before the
# classifier), so the suite stays affordable on 2 cores; the analysis is redone for the same input.
SMALL = {"resnet18": "3x32x32", "resnet34": "3x32x32", "resnet50": "3x64x64", "resnet101": "3x32x32",
         "resnet152": "3x32x32", "vgg11": "3x32x32", "vgg13": "3x32x32", "vgg19": "3x32x32",
         "resnext50_32x4d": "3x32x32", "squeezenet1_1": "3x64x64", "mobilenet_v2": "3x32x32",
         "densenet121": "3x32x32", "mnasnet1_0": "3x32x32", "mobilenet_v3_large": "3x32x32",
         "efficientnet_b0": "3x32x32", "regnet_y_400mf": "3x32x32", "convnext_tiny": "3x32x32",
         "shufflenet_v2_x1_0": "3x32x32"}


def networks(paths):
    """(path, input override) for each file that defines a network (libraries of blocks are skipped)."""
    found = []
    for path in paths:
        try:
            dsl.build(str(path.relative_to(ROOT)))
        except NoNetwork:
            continue
        except dsl.CnnError:
            found.append(path)  # let the test report it
            continue
        found.append(path)
    return found


def _build(path):
    rel = str(path.relative_to(ROOT))
    graph = dsl.build(rel, input=SMALL.get(path.stem))
    return graph, torch_backend.module_from_graph(graph)


def _outputs(model_output, graph):
    names = list(graph.graph["outputs"])
    if len(names) == 1:
        return {"output": model_output}
    return dict(zip(names, model_output))


@pytest.mark.parametrize("path", networks(ARCHS) + EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_module_matches_analysis(path):
    """Forward shapes (every output) and trainable parameter count equal the analysis; one backward
    pass gives finite gradients on every parameter."""
    torch.manual_seed(0)
    graph, model = _build(path)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == graph.graph["totals"]["trainable_params"]
    inputs = [torch.randn(2, *shape) for shape in graph.graph["inputs"].values()]
    model.train()
    outputs = _outputs(model(*inputs), graph)
    for name, node in graph.graph["outputs"].items():
        assert tuple(outputs[name].shape) == (2, *graph.nodes[node]["shape"]), name
    loss = sum(out.float().pow(2).mean() for out in outputs.values())
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(param.grad).all(), name


def test_every_op_has_a_backend_entry():
    assert set(pyops.TABLE) == set(OPS)


def test_reserved_attribute_names_cover_installed_torch():
    # in a fresh process: torch.compile, run by other tests, tags live modules with private attributes
    script = ("import json, torch; print(json.dumps(sorted(set(dir(torch.nn.Sequential())) | "
              "set(dir(torch.nn.ModuleDict())) | set(dir(torch.nn.Module())))))")
    attrs = set(json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                          check=True).stdout))
    missing = {a for a in attrs if not (a.startswith("__") and a.endswith("__"))} - MODULE_ATTRS
    assert not missing


@pytest.mark.parametrize("name", FIVE)
def test_golden_source(name):
    source = generate(dsl.build(f"archs/{name}.cnn"))
    assert_golden(GOLDEN / f"{name}.py", source)


def _imports(source):
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module)
    return found


def test_compiled_file_runs_without_cnnc(tmp_path):
    out = tmp_path / "lenet.py"
    subprocess.run([sys.executable, "-m", "cnnc.cli", "compile", "archs/lenet5.cnn", "-o", str(out)],
                   cwd=ROOT, check=True, capture_output=True)
    assert _imports(out.read_text()) <= {"torch", "torch.nn.functional", "torch", "collections", "typing"}
    assert run_without_cnnc(out, "ns['build']()", "ns['INPUTS']['input']", tmp_path) == "(2, 10)"


def test_cli_default_output_is_stem_in_current_directory(tmp_path, monkeypatch):
    subprocess.run([sys.executable, "-m", "cnnc.cli", "compile", str(ROOT / "examples/tiny_cnn.cnn")],
                   cwd=tmp_path, check=True, capture_output=True)
    monkeypatch.chdir(tmp_path)  # source paths in generated files are relative to the working directory
    assert (tmp_path / "tiny_cnn.py").read_text() == cnnc.compile_source(str(ROOT / "examples/tiny_cnn.cnn"))


def test_load_and_compile_source_share_one_code_path():
    model = cnnc.load("examples/residual.cnn", input="3x16x16", classes=3, blocks=1)
    source = cnnc.compile_source("examples/residual.cnn", input="3x16x16", classes=3, blocks=1)
    assert type(model).__module__.startswith("cnnc_generated_")
    assert sys.modules[type(model).__module__].__file__ .startswith("<cnnc-generated")
    import inspect
    assert inspect.getsource(type(model)) in source
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 3)


def test_tracebacks_show_generated_lines():
    model = cnnc.load("examples/tiny_cnn.cnn")
    try:
        model(torch.randn(2, 3, 28, 28))  # wrong channel count
    except RuntimeError:
        text = traceback.format_exc()
    else:
        raise AssertionError("expected a shape error")
    assert "x = self.conv1(x)\n" in text and '<cnnc-generated TinyCNN' in text


def test_side_outputs_namedtuple_in_training_main_output_in_eval():
    graph = dsl.build("examples/aux_heads.cnn")
    model = torch_backend.module_from_graph(graph)
    x = torch.randn(2, 3, 32, 32)
    out = model.train()(x)
    assert out._fields == ("output", "aux1")
    assert out.output.shape == (2, 10) and out.aux1.shape == (2, 10)
    model.eval()
    assert isinstance(model(x), torch.Tensor)


def test_state_dict_keys_are_layer_paths_and_round_trip(tmp_path):
    graph = dsl.build("examples/inception.cnn")
    model = torch_backend.module_from_graph(graph).eval()
    layer_paths = {n for n, d in graph.nodes(data=True) if d["params"] or d["buffers"]}
    assert {k.rsplit(".", 1)[0] for k in model.state_dict()} == layer_paths
    torch.save(model.state_dict(), tmp_path / "w.pt")
    fresh = cnnc.load("examples/inception.cnn").eval()
    fresh.load_state_dict(torch.load(tmp_path / "w.pt"), strict=True)
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(model(x), fresh(x))


def test_whole_module_pickles_within_the_process(tmp_path):
    model = cnnc.load("examples/tiny_cnn.cnn").eval()
    torch.save(model, tmp_path / "m.pt")
    again = torch.load(tmp_path / "m.pt", weights_only=False)
    x = torch.randn(2, 1, 28, 28)
    assert torch.equal(model(x), again(x))


def test_table_conv_is_one_conv_with_packed_weights():
    graph = dsl.build("archs/lenet5.cnn")
    model = torch_backend.module_from_graph(graph)
    c3 = model.c3
    assert c3.weight.shape == (60, 5, 5) and c3.bias.shape == (16,)
    assert graph.nodes["c3"]["trainable"] == c3.weight.numel() + c3.bias.numel() == 1516
    dense = c3.dense_weight()
    table = graph.nodes["c3"]["args"]["table"]
    for o in range(16):
        for i in range(6):
            assert bool(dense[o, i].abs().sum() > 0) == (i in table[o])
    x = torch.randn(2, 6, 14, 14)
    assert torch.allclose(c3(x), torch.nn.functional.conv2d(x, dense, c3.bias), atol=1e-6)


def test_rbf_prototypes_are_a_fixed_deterministic_buffer():
    a, b = cnnc.load("archs/lenet5.cnn"), cnnc.load("archs/lenet5.cnn")
    assert torch.equal(a.out.prototypes, b.out.prototypes)
    assert set(a.out.prototypes.unique().tolist()) == {-1.0, 1.0}
    assert "out.prototypes" in a.state_dict() and not any(p is a.out.prototypes for p in a.parameters())
    x = torch.randn(2, 84)
    expected = ((x[:, None, :] - a.out.prototypes[None]) ** 2).sum(-1)
    assert torch.allclose(a.out(x), expected)


def test_subsample_is_window_sum_times_coefficient_plus_bias():
    model = cnnc.load("archs/lenet5.cnn")
    s2 = model.s2
    x = torch.randn(2, 6, 28, 28)
    sums = x.unfold(2, 2, 2).unfold(3, 2, 2).sum((-1, -2))
    assert torch.allclose(s2(x), sums * s2.weight[None, :, None, None] + s2.bias[None, :, None, None], atol=1e-5)
