"""The generated Python as a reader and a linter see it: one class per block definition with the
block's parameters, network parameters as constructor arguments, ruff-clean files, and the edge
cases of names, floats, nesting, side heads and dead layers (each once broke generated code)."""
import ast
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import cnnc  # noqa: E402
from cnnc import dsl  # noqa: E402
from cnnc.pysource import generate  # noqa: E402
from cnnc.torch_backend import module_from_graph  # noqa: E402
from conftest import run_without_cnnc  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "py"
SOURCES = sorted((ROOT / "archs").glob("*.cnn")) + sorted(
    p for p in (ROOT / "examples").glob("*.cnn") if p.name != "blocks.cnn")


def _ruff():
    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    return exe if Path(exe).exists() else None


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    for path in SOURCES:
        (out / f"{path.stem}.py").write_text(generate(dsl.build(str(path.relative_to(ROOT)))))
    return out


# Known gaps of the printer, each an expected failure until fixed (strict: a fix must remove it here).
RUFF_GAPS: dict[str, str] = {}


@pytest.mark.skipif(_ruff() is None, reason="ruff is not installed (pip install -e '.[test]')")
@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=RUFF_GAPS[p.stem]))
                                  if p.stem in RUFF_GAPS else p for p in SOURCES], ids=lambda p: p.stem)
def test_generated_files_pass_ruff_check_and_format(generated, path):
    target = str(generated / f"{path.stem}.py")
    check = subprocess.run([_ruff(), "check", "--isolated", "--no-cache", target], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = subprocess.run([_ruff(), "format", "--isolated", "--no-cache", "--check", "--diff", target],
                         capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def _classes(source: str) -> list[ast.ClassDef]:
    return [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]


@pytest.mark.parametrize("path", [p for p in SOURCES if p.parent.name == "archs"], ids=lambda p: p.stem)
def test_one_class_per_block_definition(path):
    """No `Bottleneck2`, no argument-less per-instance classes, no `getattr(self, "N")`."""
    graph = dsl.build(str(path.relative_to(ROOT)))
    source = generate(graph)
    used = {e.block for _, d in graph.nodes(data=True) for e in d["scope"]}
    blocks = [c for c in _classes(source) if c.name in used or re.fullmatch(r"[A-Za-z_]+\d+", c.name)
              and c.name.rstrip("0123456789") in used]
    assert sorted(c.name for c in blocks) == sorted(used)
    for cls in blocks:
        init = next(f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
        assert len(init.args.args) > 1, f"{cls.name} takes no arguments"
    assert not re.search(r'getattr\(self, "\d+"\)', source)


def test_resnet50_takes_classes_and_runs_without_cnnc(tmp_path):
    out = tmp_path / "resnet50.py"
    subprocess.run([sys.executable, "-m", "cnnc", "compile", "archs/resnet50.cnn", "-o", str(out)],
                   cwd=ROOT, check=True, capture_output=True)
    assert run_without_cnnc(out, "ns['ResNet50'](classes=10)", "(3, 64, 64)", tmp_path) == "(2, 10)"
    model = cnnc.load("archs/resnet50.cnn", input="3x64x64", classes=10).eval()
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 10)


def test_block_instances_differing_in_branches_share_a_class():
    source = cnnc.compile_source("archs/resnet50.cnn")
    assert source.count("class Bottleneck(") == 1 and "Bottleneck2" not in source
    assert "self.downsample = None\n" in source and "if self.downsample is not None:" in source
    assert "for _ in range(blocks - 1):" in source


def test_vgg_configuration_is_a_loop():
    source = cnnc.compile_source("archs/vgg16.cnn")
    assert "for v in config:" in source and 'if v == "M":' in source


def test_source_paths_are_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = cnnc.compile_source(str(ROOT / "archs" / "resnet50.cnn"))
    assert str(ROOT) not in source
    assert "compiled by cnnc from resnet50.cnn." in source or "compiled by cnnc from archs/resnet50.cnn." in source


def test_line_comments_are_opt_in():
    plain = cnnc.compile_source("examples/tiny_cnn.cnn")
    assert "# examples/tiny_cnn.cnn:" not in plain
    from cnnc.pysource import generate_with_map

    commented, spans = generate_with_map(dsl.build("examples/tiny_cnn.cnn"), line_comments=True)
    assert "x = self.conv1(x)  # examples/tiny_cnn.cnn:4" in commented
    line = plain.splitlines().index("        x = self.conv1(x)") + 1
    _, spans = generate_with_map(dsl.build("examples/tiny_cnn.cnn"))
    assert spans[line].line == 4


def test_compile_line_comments_flag(capsys, tmp_path, monkeypatch):
    """`cnnc compile --line-comments` writes the line map as comments; the file still runs."""
    from cnnc.cli import main

    monkeypatch.chdir(ROOT)
    assert main(["compile", "archs/resnet50.cnn", "-o", "-"]) == 0
    plain = capsys.readouterr().out
    assert main(["compile", "archs/resnet50.cnn", "--line-comments", "-o", "-"]) == 0
    commented = capsys.readouterr().out
    assert "# archs/resnet50.cnn:" not in plain
    assert [re.sub(r"  # archs/resnet50\.cnn:\d+$", "", line) for line in commented.splitlines()] == plain.splitlines()
    source = (ROOT / "archs" / "resnet50.cnn").read_text().splitlines()
    tagged = [(line, int(m.group(1))) for line in commented.splitlines()
              if (m := re.search(r"  # archs/resnet50\.cnn:(\d+)$", line))]
    assert len(tagged) > 30
    conv1 = next(n for line, n in tagged if line.lstrip().startswith("self.conv1 = nn.Conv2d(in_channels"))
    assert "conv1:" in source[conv1 - 1]
    namespace: dict = {}
    exec(compile(commented, "resnet50.py", "exec"), namespace)
    model = namespace["ResNet50"](classes=10)
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 10)
    assert main(["compile", "archs/resnet50.cnn", "--line-comments", "--format", "onnx",
                 "-o", str(tmp_path / "r.onnx")]) == 2


# ---- issue: generated code that always runs --------------------------------------------------------

def _run(text, **params):
    graph = dsl.build(text=text, params=params or None)
    model = module_from_graph(graph)
    x = torch.randn(2, *graph.graph["inputs"]["input"])
    return graph, model, model.train()(x), model.eval()(x)


@pytest.mark.parametrize("layer", ["leaky_relu(1e999)", "lrn(5, k=1e999)", "leaky_relu(1e999 - 1e999)",
                                   "leaky_relu(-1e999)"])
def test_non_finite_floats_are_valid_python(layer):
    """The analysis accepts them, and so does torch: the generated code writes float("inf")."""
    text = f"network N {{ input 3x8x8; conv(4, 3x3); {layer}; avgpool(global); flatten; linear(2) }}"
    source = generate(dsl.build(text=text))
    assert re.search(r'float\("(inf|nan)"\)', source) and not re.search(r"\b(inf|nan)\b(?!\")", source)
    _run(text)


def test_user_names_never_shadow_generated_names():
    text = """
block Inner(w) { conv(w, 1x1) }
block Outer(Inner, Subsample = 2, NOutputs = 1) { Inner(Inner); relu }
network N {
    input 3x8x8
    Outer(4)
    output aux { avgpool(global); flatten; linear(3) }
    concat { NOutputs: { relu } } | { Subsample: relu }
    avgpool(global); flatten; linear(2)
}
"""
    _, model, train, evaluated = _run(text)
    assert train.output.shape == (2, 2) and train.aux.shape == (2, 3) and evaluated.shape == (2, 2)


def test_deeply_nested_groups_compile_fast_and_parse():
    depth = 60
    text = "network N { input 3x8x8; " + "a: { " * depth + "relu" + " }" * depth + " }"
    graph = dsl.build(text=text)
    start = time.process_time()
    source = generate(graph)
    assert time.process_time() - start < 2.0
    compile(source, "<generated>", "exec")
    model = module_from_graph(graph)
    assert model(torch.randn(1, 3, 8, 8)).shape == (1, 3, 8, 8)


def test_side_heads_inside_blocks_run_only_in_training():
    text = """
block Stage(w) {
    conv(w, 3x3, pad=1); relu
    output side { avgpool(global); flatten; head: linear(5) }
}
network N { input 3x16x16; s1: Stage(8); s2: Stage(8); avgpool(global); flatten; linear(2) }
"""
    graph = dsl.build(text=text)
    model = module_from_graph(graph)
    calls = []
    for name in ("s1.side.head", "s2.side.head"):
        model.get_submodule(name).register_forward_hook(lambda *a: calls.append(1))
    x = torch.randn(2, 3, 16, 16)
    out = model.train()(x)
    assert len(calls) == 2 and out.s1_side.shape == (2, 5)
    calls.clear()
    assert model.eval()(x).shape == (2, 2)
    assert calls == []


def test_dead_layers_are_built_but_not_run():
    graph = dsl.build(text="network N { input 3x8x8; dead: conv(4, 3x3); @input; relu; flatten }")
    model = module_from_graph(graph)
    assert "dead.weight" in model.state_dict()
    calls = []
    model.dead.register_forward_hook(lambda *a: calls.append(1))
    assert model(torch.randn(1, 3, 8, 8)).shape == (1, 192)
    assert calls == []
