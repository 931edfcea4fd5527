"""The deploy build (compiler/deploy.py): folded outputs equal the training module's eval outputs for
every zoo network and example, no BatchNorm is left after a conv or linear, weights are copied,
side heads and dead layers hold no weights, and the deploy module exports (torch.export, ONNX
checked with onnxruntime) and compiles."""
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import cnnc  # noqa: E402
from cnnc import dsl  # noqa: E402
from cnnc.cli import main  # noqa: E402
from cnnc.deploy import DeployError, DeployPlan, deploy_module  # noqa: E402
from cnnc.export import example_inputs, exported_program, onnx_program  # noqa: E402
from cnnc.torch_backend import module_from_graph  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ZOO = sorted((ROOT / "archs").glob("*.cnn"))
EXAMPLES = [p for p in sorted((ROOT / "examples").glob("*.cnn")) if "network " in p.read_text()]
# A small input keeps the big networks fast where the architecture allows one.
SMALL = ("3x32x32", "3x96x96")
BN = torch.nn.modules.batchnorm._BatchNorm


def trained(graph, seed: int = 0):
    """The training module with non-trivial BatchNorm statistics and affine terms (a fresh module's
    mean 0 / variance 1 would make folding a no-op), in eval mode."""
    torch.manual_seed(seed)
    model = module_from_graph(graph)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, BN):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                if module.weight is not None:
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.5, 0.5)
    return model.eval()


def relative(got, expected) -> float:
    return ((got - expected).abs().max() / expected.abs().max().clamp_min(1e-12)).item()


def _graph(path):
    """The network at the smallest of SMALL it accepts (its declared input otherwise)."""
    default = dsl.build(str(path))
    shape = tuple(default.graph["inputs"].values())[0]
    if len(default.graph["inputs"]) == 1 and shape[0] == 3 and shape[1] > 32:
        for small in SMALL:
            try:
                return dsl.build(str(path), input=small)
            except dsl.CnnError:
                continue
    return default


def _bn_after_producer(graph, model) -> list:
    """IR batchnorm nodes that follow a conv/deconv/linear and are still BatchNorm modules."""
    left = []
    for node, data in graph.nodes(data=True):
        preds = list(graph.predecessors(node))
        if data["op"] == "batchnorm" and len(preds) == 1 and graph.nodes[preds[0]]["op"] in ("conv", "deconv", "linear"):
            module = model.get_submodule(node) if node else None
            if isinstance(module, BN):
                left.append(node)
    return left


@pytest.mark.parametrize("path", ZOO + EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_deploy_equals_training_module_in_eval(path, one_thread):  # one thread: Winograd convs run too
    graph = _graph(path)
    model = trained(graph)
    deployed = deploy_module(graph, model.state_dict())
    inputs = example_inputs(graph, batch=2)
    with torch.no_grad():
        expected, got = model(*inputs), deployed(*inputs)
    assert got.shape == expected.shape
    assert relative(got, expected) <= 1e-4
    assert not _bn_after_producer(graph, deployed)
    assert not any(isinstance(m, (torch.nn.Dropout, torch.nn.Dropout2d)) for m in deployed.modules())
    plan = DeployPlan(graph)
    live_bn = sum(d["op"] == "batchnorm" and n not in plan.dead for n, d in graph.nodes(data=True))
    assert sum(isinstance(m, BN) for m in deployed.modules()) == live_bn - len(plan.folds)


def test_zoo_batchnorms_all_fold():
    """Every BatchNorm of the zoo follows a conv: all of them fold (ResNet-50: 53)."""
    graph = dsl.build("archs/resnet50.cnn")
    assert len(DeployPlan(graph).folds) == 53
    deployed = deploy_module(graph)
    assert not any(isinstance(m, BN) for m in deployed.modules())


def test_side_heads_and_dead_layers_hold_no_weights():
    graph = dsl.build("archs/googlenet.cnn")
    deployed = deploy_module(graph, trained(graph).state_dict())
    assert sum(p.numel() for p in deployed.parameters()) == graph.graph["totals"]["main_params"]
    source = """network Dead {
        input 3x8x8
        conv(4, 3x3) -> a
        relu; flatten; linear(7)
        @a
        conv(4, 3x3); batchnorm; relu; flatten; linear(10)
    }"""
    graph = cnnc.analyse(source)
    model = trained(graph)
    deployed = deploy_module(graph, model)
    x = example_inputs(graph)[0]
    with torch.no_grad():
        assert relative(deployed(x), model(x)) <= 1e-4
    assert not list(deployed.get_submodule("3").parameters())  # the dead linear(7)


@pytest.mark.parametrize("source", [
    "network L { input 20\n linear(16); batchnorm; relu; linear(4, bias=false); batchnorm(eps=0.01) }",
    "network D { input 4x5x5\n deconv(6, 3x3, stride=2, groups=2); batchnorm; relu; deconv(3, 2x2, bias=false); batchnorm }",
    "network G { input 4x9x9\n conv(8, 3x3, groups=4, bias=false); batchnorm(affine=false); relu6; avgpool(global) }",
    "network T { input 3x8x8\n conv(4, 3x3, table=[[0], [0, 1], [1, 2], [0, 1, 2]]); batchnorm; tanh }",
], ids=["linear", "deconv-groups", "conv-groups-no-affine", "table-conv"])
def test_fold_every_producer_kind(source):
    graph = cnnc.analyse(source)
    model = trained(graph)
    deployed = deploy_module(graph, model.state_dict())
    x = example_inputs(graph, batch=3)[0]
    with torch.no_grad():
        assert relative(deployed(x), model(x)) <= 1e-4
    assert not any(isinstance(m, BN) for m in deployed.modules())


def test_batchnorm_whose_producer_is_read_twice_is_kept():
    source = "network K { input 4x6x6\n conv(4, 3x3, pad=1) -> c\n add { batchnorm } | { @c }\n relu }"
    graph = cnnc.analyse(source)
    model = trained(graph)
    deployed = deploy_module(graph, model)
    assert DeployPlan(graph).folds == []
    x = example_inputs(graph)[0]
    with torch.no_grad():
        assert relative(deployed(x), model(x)) <= 1e-4


def test_weights_are_copied_not_shared(tmp_path):
    graph = dsl.build("archs/resnet18.cnn", input="3x32x32")
    model = trained(graph)
    state = model.state_dict()
    path = tmp_path / "weights.pt"
    torch.save(state, path)
    x = example_inputs(graph)[0]
    for weights in (state, str(path), model):
        deployed = cnnc.load("archs/resnet18.cnn", input="3x32x32", weights=weights, deploy=True)
        before = deployed(x).clone()
        ours = {t.data_ptr() for t in deployed.state_dict().values()}
        assert not ours & {t.data_ptr() for t in state.values()}
        with torch.no_grad():
            for tensor in state.values():
                if tensor.is_floating_point():
                    tensor.add_(1.0)
            assert torch.equal(deployed(x), before)
            for tensor in state.values():
                if tensor.is_floating_point():
                    tensor.sub_(1.0)
    assert not any(p.requires_grad for p in deployed.parameters())
    assert deployed.conv1.weight.is_contiguous(memory_format=torch.channels_last)  # 2-D convs: channels_last


def test_layout_channels_last_for_2d_convs():
    graph = dsl.build("archs/mobilenet_v2.cnn", input="3x32x32")
    deployed = deploy_module(graph)
    weights = [m.weight for m in deployed.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
    x = example_inputs(graph)[0]
    with torch.no_grad():
        assert deployed(x).shape == (2, 1000)
    dense = deploy_module(dsl.build("archs/resnet18.cnn", input="3x32x32"))
    assert dense.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    forced = deploy_module(dsl.build("archs/resnet18.cnn", input="3x32x32"), channels_last=False)
    assert not forced.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    flat = deploy_module(dsl.build(text="network N { input 64; linear(10) }"))
    assert flat(torch.randn(2, 64)).shape == (2, 10)


def test_load_with_weights_without_deploy_is_the_training_module():
    graph = dsl.build("archs/lenet5.cnn")
    model = trained(graph)
    loaded = cnnc.load("archs/lenet5.cnn", weights=model.state_dict())
    for key, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], tensor)
    loaded.train()  # an ordinary module


def test_deploy_refuses_training_and_wrong_weights():
    deployed = cnnc.load("archs/lenet5.cnn", deploy=True)
    deployed.eval()
    with pytest.raises(DeployError, match="inference-only"):
        deployed.train()
    with pytest.raises(DeployError, match="do not fit"):
        cnnc.load("archs/lenet5.cnn", weights={"nope": torch.zeros(1)}, deploy=True)


def test_deploy_exports_and_compiles(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    graph = dsl.build("archs/resnet18.cnn", input="3x32x32")
    model = trained(graph)
    deployed = deploy_module(graph, model)
    inputs = example_inputs(graph, batch=3)
    with torch.no_grad():
        expected = model(*inputs)
        program = exported_program(graph, deployed)
        assert relative(program.module()(*inputs), expected) <= 1e-4
    path = tmp_path / "deploy.onnx"
    onnx_program(graph, program=program).save(str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: inputs[0].numpy()})[0])
    assert relative(got, expected) <= 1e-4
    small = cnnc.analyse("examples/residual.cnn")
    deployed = deploy_module(small, trained(small))
    compiled = torch.compile(deployed, fullgraph=True, backend="aot_eager")
    x = example_inputs(small)[0]
    with torch.no_grad():
        assert relative(compiled(x), deployed(x)) <= 1e-5


def test_cli_compile_deploy(tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    graph = dsl.build("archs/lenet5.cnn")
    model = trained(graph)
    weights = tmp_path / "w.pt"
    torch.save(model.state_dict(), weights)
    out = tmp_path / "lenet5.onnx"
    assert main(["compile", "archs/lenet5.cnn", "--deploy", "--weights", str(weights), "--format", "onnx",
                 "-o", str(out)]) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = example_inputs(graph, batch=2)[0]
    got = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
    with torch.no_grad():
        assert relative(got, model(x)) <= 1e-4
    assert main(["compile", "archs/lenet5.cnn", "--deploy", "-o", str(tmp_path / "x.py")]) == 2  # usage
    assert "--deploy" in capsys.readouterr().err
    assert main(["compile", "archs/lenet5.cnn", "--weights", str(weights), "--format", "pt2",
                 "-o", str(tmp_path / "x.pt2")]) == 0


def test_convs_run_on_prepacked_weights_and_fall_back_elsewhere():
    import copy
    import pickle

    from cnnc.deploy import PackedConv2d

    graph = dsl.build("archs/resnet18.cnn", input="3x32x32")
    model = trained(graph)
    deployed = deploy_module(graph, model)
    convs = [m for m in deployed.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(type(m) is PackedConv2d for m in convs)
    names = {name for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}
    assert {f"{name}.weight" for name in names} <= set(deployed.state_dict())  # same keys, dense tensors
    assert all(deployed.state_dict()[f"{name}.weight"].layout == torch.strided for name in names)
    conv = deployed.conv1
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
        assert relative(deployed(x), expected) <= 1e-4
        if torch.backends.mkldnn.is_available():
            assert conv._packed is not None and conv._packed_key[0] == (2, 3, 32, 32)
        packed = conv._packed
        deployed(torch.randn(3, 3, 40, 40))  # another shape: packed again for it
        assert conv._packed is not packed or packed is None
        # a changed weight is seen (the cache follows the weight's version)
        dense = torch.nn.functional.conv2d(x, conv.weight * 2, conv.bias, conv.stride, conv.padding)
        assert conv.activation == "relu"  # the stem's relu (its own module) runs inside the conv
        dense = torch.relu(dense)
        conv.weight.mul_(2)
        assert relative(conv(x), dense) <= 1e-5
        # float64 runs nn.Conv2d's own forward
        conv.double()
        assert torch.equal(conv(x.double()), torch.relu(torch.nn.functional.conv2d(
            x.double(), conv.weight, conv.bias, conv.stride, conv.padding)))
    clone = pickle.loads(pickle.dumps(copy.deepcopy(deployed.float())))
    assert clone.conv1._packed is None
    with torch.no_grad():
        assert relative(clone(x), deployed(x)) <= 1e-6


def test_a_relu_that_alone_reads_a_conv_runs_inside_it():
    from cnnc.deploy import PackedConv2d

    graph = dsl.build("archs/vgg11.cnn", input="3x32x32")
    model = trained(graph)
    deployed = deploy_module(graph, model)
    fused = [m for m in deployed.modules() if type(m) is PackedConv2d and m.activation == "relu"]
    assert len(fused) == 8  # every conv of VGG-11 is followed by its own ReLU
    assert not any(type(m) is torch.nn.ReLU for m in deployed.features.modules())
    inputs = example_inputs(graph, batch=2)
    with torch.no_grad():
        expected = model(*inputs)
        assert relative(deployed(*inputs), expected) <= 1e-4
        assert relative(exported_program(graph, deployed).module()(*inputs), expected) <= 1e-4  # nn.Conv2d + relu
