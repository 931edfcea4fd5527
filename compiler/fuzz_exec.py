"""Run what the fuzzer generates: the module of a program that checks, against its analysis.

`execute(path)` builds the generated module (the same code `cnnc compile` writes), runs it forward
in train mode (every output, side heads included) and backward, then in eval mode (the main output
alone) under torch's FLOP counter, and requires:

- every output's shape equals the analysis's, in both modes;
- the module's parameter count (and trainable count) equals the analysis's totals;
- backward reaches every parameter that the outputs depend on, without an error;
- the MACs torch's FLOP counter sees in eval mode (conv, transposed conv and matrix products: half
  its FLOPs) equal the analysis's `macs` (main output, per sample). Connection-table convolutions
  run one full convolution and count its MACs, so there the analysis's figure is a lower bound.

Programs too large to run quickly (parameters, activations or MACs past the bounds below) are
skipped and counted as such. Values need not be finite (`1e999` is a legal argument): shapes,
counts and MACs do not depend on them.
"""
from __future__ import annotations

import contextlib
import linecache
import sys
import time
import warnings

from .fuzz import FuzzFailure, expect

MAX_PARAMS = 2_000_000
MAX_ACTIVATION_BYTES = 64 * 2 ** 20   # per sample, float32, every layer's output
MAX_MACS = 100_000_000                # per sample
BATCH = 2


def too_large(totals: dict) -> bool:
    return (totals["params"] > MAX_PARAMS or totals["activation_bytes"] > MAX_ACTIVATION_BYTES
            or totals["all_macs"] > MAX_MACS)


def execute(path: str, seconds: float = 20.0) -> str:
    """Run the network of `path` (a file that checks) and compare it with the analysis. Returns
    "ran" or "skipped (...)" with the reason; raises FuzzFailure on a mismatch or any error from the module."""
    import cnnc
    import torch

    graph = cnnc.analyse(path)
    totals = graph.graph["totals"]
    if too_large(totals):
        return "skipped (too large)"
    if any(w.code == "oversized-stride" for w in graph.graph.get("warnings", ())):
        return "skipped (stride past the input: torch's backward is slow)"
    start = time.process_time()
    try:
        with _forgetting_generated_modules(), torch.random.fork_rng(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's performance notes (padding='same' with even kernels)
            torch.manual_seed(0)
            _run(graph, totals, path)
    except FuzzFailure:
        raise
    except Exception as error:  # noqa: BLE001 - any error from building or running the module is a failure
        raise FuzzFailure(f"{path}: the generated module fails: {type(error).__name__}: {error}") from error
    spent = time.process_time() - start
    expect(spent < seconds, f"{path}: running the module took {spent:.1f} s of CPU")
    return "ran"


def _run(graph, totals: dict, path: str) -> None:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from .torch_backend import module_from_graph

    model = module_from_graph(graph)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    expect(params == totals["params"], f"{path}: the module has {params:,} parameters, the analysis "
                                       f"{totals['params']:,}")
    expect(trainable == totals["trainable_params"], f"{path}: {trainable:,} trainable parameters, the "
                                                    f"analysis {totals['trainable_params']:,}")
    inputs = [torch.randn(BATCH, *shape) for shape in graph.graph["inputs"].values()]
    outputs = graph.graph["outputs"]

    model.train()
    got = model(*[x.clone() for x in inputs])
    got = [got] if len(outputs) == 1 else list(got)
    expect(len(got) == len(outputs), f"{path}: train mode returns {len(got)} outputs, the analysis has "
                                     f"{len(outputs)}")
    for (name, node), tensor in zip(outputs.items(), got):
        _same_shape(tensor, graph.nodes[node]["shape"], f"{path}: train-mode output `{name}`")
    loss = sum(t.float().sum() for t in got if t.requires_grad)
    if torch.is_tensor(loss):
        loss.backward()

    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        main = model(*[x.clone() for x in inputs])
    expect(torch.is_tensor(main), f"{path}: eval mode returns {type(main).__name__}, not the main output")
    _same_shape(main, graph.nodes[outputs["output"]]["shape"], f"{path}: eval-mode output")
    macs = counter.get_total_flops() // 2 // BATCH
    tables = any(d["op"] == "conv" and d["args"].get("table") is not None for _, d in graph.nodes(data=True))
    ok = macs >= totals["macs"] if tables else macs == totals["macs"]
    expect(ok, f"{path}: torch counts {macs:,} MACs per sample in eval mode, the analysis {totals['macs']:,}")


def _same_shape(tensor, shape, what: str) -> None:
    expect(tuple(tensor.shape) == (BATCH, *shape), f"{what} is {tuple(tensor.shape)}, the analysis says "
                                                   f"{(BATCH, *shape)}")


@contextlib.contextmanager
def _forgetting_generated_modules():
    """Generated modules register in sys.modules and linecache; a long run drops them after use."""
    modules, lines = set(sys.modules), set(linecache.cache)
    try:
        yield
    finally:
        for name in set(sys.modules) - modules:
            if name.startswith("cnnc_generated_"):
                del sys.modules[name]
        for name in set(linecache.cache) - lines:
            if str(name).startswith("<cnnc-generated"):
                linecache.cache.pop(name, None)
