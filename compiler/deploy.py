"""The deploy build: an inference-only copy of a compiled network, transformed with what the IR knows.

`deploy_module(graph, weights)` builds the network from its generated source (exactly what
`cnnc.load` builds), loads `weights` into it (copied: the result never shares storage with the
caller's tensors or module), and then rewrites it for inference using the analysed IR alone, with
no tracing and no example input:

- BatchNorm folded into the conv / linear that precedes it: the pairs are the IR's edges (a
  batchnorm whose only input is a conv, deconv or linear read by nothing else). The producer's
  weight and bias absorb the normalisation; the batchnorm becomes `nn.Identity`.
- Dropout becomes `nn.Identity`.
- Side heads and dead layers (everything that does not reach the main output) lose their weights:
  each such layer becomes a weightless stand-in of its output's shape (eval mode never calls a side
  head; a dead value is computed by nothing that matters).
- Activations run in place where the value they read is a fresh tensor read by nothing else.
- Each plain nn.Conv2d becomes a `PackedConv2d` (same object, same weights and state_dict): for
  float32 inference on a CPU with oneDNN it reorders its weight into oneDNN's layout once and keeps
  it, where nn.Conv2d reorders it on every call (1.19x-1.24x on VGG-16 and ResNet-50 here). A ReLU
  module that alone reads such a conv (through a folded BatchNorm) runs inside it (oneDNN's fused
  activation). Anywhere else (CUDA, other dtypes, export, torch.compile, tracing) it is nn.Conv2d.
- The layout: 3x3 stride-1 convs on large activations (`winograd_fits`, from the IR's shapes) run
  NNPACK's Winograd convolution where the CPU has it (x86) and torch runs on one thread; it takes
  contiguous (NCHW) activations. When such convs hold enough of the network's conv MACs
  (`WINOGRAD_SHARE`: VGG, ResNet-18/34), the network stays contiguous, those convs use Winograd
  and its max pools become `SeparableMaxPool2d`s (torch's NCHW max pool is slow on CPU).
  Otherwise 4-D weights are channels_last when the network has 2-D convs, so convolutions run in
  that layout end to end (faster or even on CPU for ResNet-50 and MobileNetV2 in
  bench/RESULTS.md's runs). `compiler/deploy_kernels.py` holds both kernels.

The transformation relies on two stable facts of the PyTorch backend: the module's attribute paths
are the IR's node paths (its state_dict keys), and the generated `forward` calls the module at a
layer's path for that layer. The result is still the generated class, so the exporters (ONNX,
torch.export) and torch.compile take it as they take the training module.
"""
from __future__ import annotations

import torch

from cnnc.dsl.diagnostics import CnnError

from .deploy_kernels import PackedConv2d, SeparableMaxPool2d, winograd_available, winograd_fits
from .names import module_name

# Ops whose output a batchnorm can be folded into (their weight's output axis is known).
FOLDABLE = frozenset({"conv", "deconv", "linear"})
# Ops that pass their input through unchanged in eval mode (dropout) or as a view (flatten).
PASS_THROUGH = frozenset({"dropout", "dropout2d", "identity"})
VIEWS = frozenset({"flatten"})
# Op families whose outputs are fresh tensors in inference (activations: fresh or, run in place,
# their input, which is then fresh by induction).
FRESH_FAMILIES = frozenset({"conv", "pool", "norm", "activation", "linear", "merge", "resample"})


# The share of a network's conv MACs in Winograd-fitting convs from which its deploy module stays
# NCHW to run them: VGG (0.88-0.92) and ResNet-18/34 (0.45/0.41) were faster that way, DenseNet-121
# (0.37) slower, ResNet-50 (0.17) even (bench/RESULTS.md, "Round 3 of the deploy build").
WINOGRAD_SHARE = 0.4


class DeployError(CnnError):
    """The deploy build cannot be made as asked (wrong weights, or training a deploy module)."""


def deploy_module(graph, weights=None, channels_last: bool | None = None):
    """An inference module for the analysed IR `graph`, with `weights` (a state_dict, a path to one,
    or a module whose state_dict to take); without weights, the fresh initialisation is folded.
    `channels_last`: the layout of 4-D weights (and so of activations); None chooses it from the
    graph (`prefers_channels_last`)."""
    from .torch_backend import module_from_graph

    model = module_from_graph(graph)
    if weights is not None:
        load_weights(model, graph, weights)
    model.eval()
    plan = DeployPlan(graph)
    with torch.no_grad():
        modules = _Modules(model)
        for bn, producer in plan.folds:
            if _fold(modules.get(producer), modules.get(bn)):
                modules.replace(bn, torch.nn.Identity())
        for node in plan.dropped:
            modules.replace(node, torch.nn.Identity())
        for parent in list(model.modules()):  # unlabelled dropout is a shared module, not at its path
            for name, child in list(parent._modules.items()):
                if isinstance(child, (torch.nn.Dropout, torch.nn.Dropout2d)):
                    parent._modules[name] = torch.nn.Identity()
        for node in plan.dead:
            if modules.get(node) is not None:
                modules.replace(node, _Dead(graph.nodes[node]["shape"]))
        for node in plan.inplace:
            module = modules.get(node)
            if module is not None and isinstance(getattr(module, "inplace", None), bool) \
                    and modules.unshared(module):
                module.inplace = True
    if channels_last is None:
        channels_last = prefers_channels_last(graph, plan)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    for module in model.modules():
        if type(module) is torch.nn.Conv2d and module.padding_mode == "zeros" and not isinstance(module.padding, str):
            PackedConv2d.adopt(module)
        elif type(module) is torch.nn.MaxPool2d and not channels_last:
            SeparableMaxPool2d.adopt(module)
    if not channels_last and winograd_available():
        for conv in map(modules.get, plan.winograd):
            if type(conv) is PackedConv2d:
                conv.winograd = True
    for relu, conv in plan.fused:
        conv_module, relu_module = modules.get(conv), modules.get(relu)
        if (type(conv_module) is PackedConv2d and type(relu_module) is torch.nn.ReLU
                and modules.unshared(relu_module) and modules.unshared(conv_module)):
            conv_module.activation = "relu"
            modules.replace(relu, torch.nn.Identity())
    model.requires_grad_(False)
    _inference_only(model)
    return model


def prefers_channels_last(graph, plan=None) -> bool:
    """Whether the deploy module runs in channels_last: the network has a 2-D conv (4-D weights and
    activations), and not `WINOGRAD_SHARE` of its conv MACs in convs that run NNPACK's Winograd
    convolution on this CPU (NCHW only). With prepacked convs, channels_last was as fast or faster
    on CPU than the contiguous layout for every network measured without Winograd
    (bench/RESULTS.md)."""
    plan = plan or DeployPlan(graph)
    if plan.winograd_share >= WINOGRAD_SHARE and winograd_available():
        return False
    return any(data["op"] in ("conv", "deconv") and len(data["shape"]) == 3 for _, data in graph.nodes(data=True))


def load_weights(model, graph, weights) -> None:
    """`model.load_state_dict(read_weights(weights), strict=True)`: copies into the module's own tensors."""
    try:
        model.load_state_dict(read_weights(weights), strict=True)
    except RuntimeError as error:
        raise DeployError(f"the weights do not fit {graph.graph['name']}: " + str(error).splitlines()[0],
                          hint="the state_dict keys are the layer paths (`cnnc summary` lists them)") from None


def read_weights(weights) -> dict:
    """A state_dict from a path (torch.load, tensors only), a mapping, or a module."""
    import os

    if isinstance(weights, torch.nn.Module):
        return weights.state_dict()
    if isinstance(weights, (str, os.PathLike)):
        try:
            weights = torch.load(weights, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError) as error:
            raise DeployError(f"cannot read weights from {os.fspath(weights)}: {error}") from None
    if hasattr(weights, "keys") and "state_dict" in weights and not torch.is_tensor(weights["state_dict"]):
        weights = weights["state_dict"]  # a training checkpoint {"state_dict": ..., "epoch": ...}
    if not hasattr(weights, "items"):
        raise DeployError(f"weights must be a state_dict, a path to one, or a module; got {type(weights).__name__}")
    return dict(weights)


class DeployPlan:
    """What the IR says about a network's inference form (no torch): BatchNorm folds, dropped
    layers, dead layers, activations that may run in place, fused ReLUs, and the convs that fit
    NNPACK's Winograd convolution."""

    def __init__(self, graph):
        from cnnc.dsl.graph import ancestors
        from cnnc.dsl.ops import OPS

        nodes = graph.nodes
        main = graph.graph["outputs"]["output"]
        outputs = set(graph.graph["outputs"].values())
        live = ancestors(graph, main) | {main}
        self.dead = [n for n in nodes if n not in live]
        self.folds, self.dropped, self.inplace = [], [], []
        folded = set()
        for node in nodes:
            if node not in live:
                continue
            op = nodes[node]["op"]
            sources = _sources(graph, node)
            if op == "batchnorm" and len(sources) == 1:
                source = sources[0]
                if (nodes[source]["op"] in FOLDABLE and graph.out_degree(source) == 1
                        and source not in outputs):
                    self.folds.append((node, source))
                    folded.add(node)
            elif op in ("dropout", "dropout2d"):
                self.dropped.append(node)

        def fresh(node) -> bool:
            """Is `node`'s value (in the deploy module) a fresh tensor that only one reader sees?"""
            while True:
                if graph.out_degree(node) != 1 or node in outputs:
                    return False
                data = nodes[node]
                if data["op"] in PASS_THROUGH or data["op"] in VIEWS or node in folded:
                    sources = _sources(graph, node)
                    if len(sources) != 1:
                        return False
                    node = sources[0]
                    continue
                return OPS[data["op"]].family in FRESH_FAMILIES

        for node in nodes:
            if node in live and OPS[nodes[node]["op"]].family == "activation":
                sources = _sources(graph, node)
                if len(sources) == 1 and fresh(sources[0]):
                    self.inplace.append(node)
        # a relu whose only input is a conv (through a folded batchnorm) that nothing else reads
        self.fused = []  # (relu, conv)
        for node in self.inplace:
            if nodes[node]["op"] != "relu":
                continue
            source = _sources(graph, node)[0]
            if source in folded:
                source = _sources(graph, source)[0]
            if nodes[source]["op"] == "conv" and graph.out_degree(source) == 1 and source not in outputs:
                self.fused.append((node, source))
        # 3x3 stride-1 convs where NNPACK's Winograd convolution was faster, and their share of MACs
        convs = [n for n in nodes if n in live and nodes[n]["op"] == "conv" and len(nodes[n]["shape"]) == 3]
        self.winograd = [n for n in convs if _winograd_fits(graph, n)]
        conv_macs = sum(nodes[n]["macs"] for n in convs)
        self.winograd_share = sum(nodes[n]["macs"] for n in self.winograd) / conv_macs if conv_macs else 0.0


def _winograd_fits(graph, node) -> bool:
    args, (_, height, width) = graph.nodes[node]["args"], graph.nodes[node]["shape"]
    return args.get("table") is None and winograd_fits(
        args["kernel"], args["stride"], args["dilation"], args["groups"], args["pad"], height, width)


def _sources(graph, node) -> list:
    edges = sorted(graph.in_edges(node, data="port"), key=lambda e: e[2] or 0)
    return [source for source, _, _ in edges]


class _Modules:
    """The module at each IR node path (path components torch refuses carry a trailing `_`)."""

    def __init__(self, model):
        self.model = model
        self.uses: dict[int, int] = {}
        for _, module in model.named_modules(remove_duplicate=False):
            self.uses[id(module)] = self.uses.get(id(module), 0) + 1

    def _walk(self, path: str):
        parent, module, name = None, self.model, None
        for part in path.split("."):
            children = getattr(module, "_modules", {})
            name = module_name(part)
            if name not in children:
                name = part if part in children else None
            if name is None:
                return None, None, None
            parent, module = module, children[name]
        return parent, name, module

    def get(self, path: str):
        return self._walk(path)[2]

    def replace(self, path: str, new) -> None:
        parent, name, _ = self._walk(path)
        if parent is not None:
            parent._modules[name] = new

    def unshared(self, module) -> bool:
        return self.uses.get(id(module), 0) == 1


def _fold(producer, bn) -> bool:
    """Fold eval-mode `bn` into `producer`'s weight and bias, in place; False when either is not
    the kind of module expected (the pair is then left unfolded)."""
    if producer is None or bn is None or not isinstance(bn, torch.nn.modules.batchnorm._BatchNorm):
        return False
    if bn.running_mean is None or bn.running_var is None:
        return False  # no running statistics: eval mode normalises with the batch's own
    weight = getattr(producer, "weight", None)
    if not isinstance(weight, torch.Tensor):
        return False
    scale = torch.rsqrt(bn.running_var.double() + bn.eps)
    shift = -bn.running_mean.double() * scale
    if bn.weight is not None:
        scale = scale * bn.weight.double()
        shift = shift * bn.weight.double() + bn.bias.double()
    out = scale.numel()
    w = weight.double()
    if isinstance(producer, (torch.nn.Conv2d, torch.nn.Conv1d, torch.nn.Linear)):
        if w.shape[0] != out:
            return False
        w = w * scale.view(-1, *[1] * (w.dim() - 1))
    elif isinstance(producer, torch.nn.ConvTranspose2d):
        # weight (in, out / groups, kh, kw): output channel g * (out / groups) + j
        groups = producer.groups
        cin, per = w.shape[0], w.shape[1]
        if per * groups != out:
            return False
        index = (torch.arange(cin).view(-1, 1) // (cin // groups)) * per + torch.arange(per).view(1, -1)
        w = w * scale[index].view(cin, per, *[1] * (w.dim() - 2))
    elif hasattr(producer, "table"):  # TableConv2d: one weight row per (output, input) link
        rows = torch.tensor([len(row) for row in producer.table])
        if rows.numel() != out:
            return False
        w = w * scale.repeat_interleave(rows).view(-1, *[1] * (w.dim() - 1))
    else:
        return False
    bias = producer.bias.double() if getattr(producer, "bias", None) is not None else torch.zeros_like(scale)
    bias = bias * scale + shift
    weight.copy_(w.to(weight.dtype))
    if getattr(producer, "bias", None) is not None:
        producer.bias.copy_(bias.to(producer.bias.dtype))
    else:
        producer.bias = torch.nn.Parameter(bias.to(weight.dtype), requires_grad=False)
    return True


class _Dead(torch.nn.Module):
    """A layer that does not reach the main output: no weights, no work; returns a tensor of the
    layer's output shape (its input when the shapes agree, else zeros)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x, *rest):
        if tuple(x.shape[1:]) == self.shape:
            return x
        return x.new_zeros((x.shape[0], *self.shape))

    def extra_repr(self):
        return "x".join(map(str, self.shape))


def _inference_only(model) -> None:
    """`eval()` works; `train(True)` raises (side heads and batchnorms are gone)."""
    import types

    def train(self, mode: bool = True):
        if mode:
            raise DeployError(f"a deploy module ({type(self).__name__}) is inference-only: its batchnorms are "
                              "folded and its side heads dropped",
                              hint="build the training module with cnnc.load(...) without deploy=True")
        return type(self).train(self, False)

    model.train = types.MethodType(train, model)
    model.deploy = True
