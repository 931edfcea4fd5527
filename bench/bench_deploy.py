"""The deploy build against the eager reference: CPU throughput, side by side in one process.

    python bench/bench_deploy.py [--nets resnet50,vgg16] [--batches 1,8] [--repeats 7] [--threads N]

For each network and batch size, every variant runs the same input with the same weights, taking
turns (the order rotates every round), after two warm-up passes each; the table gives median
milliseconds per forward pass and throughput ratios against the reference (above 1: faster).

- reference: torchvision's eager model when torchvision is installed (its `state_dict` is the
  weights of every variant), otherwise the non-deploy compiled module (`cnnc.load`), which runs at
  torchvision's speed (bench/RESULTS.md).
- compiled: `cnnc.load(path, weights=...)`, the training module in eval mode.
- fold: the deploy build in the contiguous layout (BatchNorm folded, dropout and side heads dropped,
  convs on prepacked oneDNN weights with the ReLU that alone reads them fused in; on x86, 3x3
  stride-1 convs on large activations as NNPACK's Winograd convolution and max pools as strided
  maxima), what `deploy=True` builds for VGG and ResNet-18/34.
- fold+CL: the deploy build in channels_last, what `cnnc.load(path, weights=..., deploy=True)`
  builds for the other networks with 2-D convs.
- deploy+freeze: the deploy module traced, `torch.jit.freeze`d and `optimize_for_inference` (oneDNN
  fusion of conv + add + relu, prepacked weights): a TorchScript module, not exportable.
- deploy+inductor (only when asked for with --variants): `torch.compile` of the deploy module with
  inductor's freezing (`torch._inductor.config.freezing = True`); compiling takes minutes on 2 cores.

Every variant's output is compared with the reference's (max relative difference, printed).
BatchNorm statistics and affine terms are randomised first (a fresh model's mean 0 / variance 1
would make folding trivially exact). Timings on a shared machine are noisy: the ratios, measured
side by side, are the figures to compare.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = ("reference", "compiled", "fold", "fold+CL", "deploy+freeze", "deploy+inductor")


def reference_model(name: str):
    """(label, module) of the reference: torchvision's model, else None."""
    try:
        import torchvision
    except ImportError:
        return None
    return f"torchvision {torchvision.__version__}'s eager model", getattr(torchvision.models, name)()


def randomise_batchnorms(model) -> None:
    import torch

    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                n = module.num_features
                module.running_mean.copy_(torch.rand(n, generator=generator) - 0.5)
                module.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.rand(n, generator=generator) - 0.5)


def build(name: str, variants, size: int = 224) -> tuple[str, dict]:
    """Label of the reference, and {variant: module} sharing one set of weights."""
    import torch

    import cnnc
    from cnnc.deploy import deploy_module

    path = str(ROOT / "archs" / f"{name}.cnn")
    shape = f"3x{size}x{size}"
    torch.manual_seed(0)
    found = reference_model(name)
    if found is None:
        label, ref = ("cnnc.load: torchvision is not installed, so the non-deploy compiled module "
                      "is the reference", cnnc.load(path, input=shape))
    else:
        label, ref = found
    randomise_batchnorms(ref)
    weights = ref.state_dict()
    models = {"reference": ref.eval()}
    if "compiled" in variants:
        models["compiled"] = cnnc.load(path, input=shape, weights=weights).eval()
    graph = cnnc.analyse(path, input=shape)
    if "fold" in variants:
        models["fold"] = deploy_module(graph, weights, channels_last=False)
    if "fold+CL" in variants:
        models["fold+CL"] = deploy_module(graph, weights, channels_last=True)
    if any(v.startswith("deploy") for v in variants):
        models["deploy"] = cnnc.load(path, input=shape, weights=weights, deploy=True)
    return label, models


def interleaved_medians(calls: dict, repeats: int) -> dict:
    """Median seconds of each zero-argument call over `repeats` rounds in which the calls take turns,
    the order rotating every round."""
    times = {key: [] for key in calls}
    order = list(calls)
    for i in range(repeats):
        for key in order[i % len(order):] + order[:i % len(order)]:
            start = time.perf_counter()
            calls[key]()
            times[key].append(time.perf_counter() - start)
    return {key: statistics.median(v) for key, v in times.items()}


def freeze(model, x):
    """The frozen, oneDNN-optimised TorchScript module, or None where oneDNN refuses the network
    (e.g. an adaptive pool whose input size is not a multiple of its output size)."""
    import torch

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, x.contiguous(memory_format=torch.channels_last))
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
        try:
            frozen(x)
        except RuntimeError:
            return None
        return frozen


def measure(name: str, batches: list[int], repeats: int, variants=VARIANTS[:-1], size: int = 224) -> list[dict]:
    import torch

    import cnnc
    from cnnc.deploy import prefers_channels_last

    graph = cnnc.analyse(str(ROOT / "archs" / f"{name}.cnn"), input=f"3x{size}x{size}")
    label, models = build(name, variants, size)
    rows = []
    for batch in batches:
        x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(batch))
        runs = {k: m for k, m in models.items() if k in variants}
        if "deploy+freeze" in variants:
            frozen = freeze(models["deploy"], x)
            if frozen is not None:
                runs["deploy+freeze"] = frozen
        if "deploy+inductor" in variants:
            import torch._inductor.config

            torch._inductor.config.freezing = True
            runs["deploy+inductor"] = torch.compile(models["deploy"])
        runs.pop("deploy", None)
        with torch.no_grad():
            expected = runs["reference"](x)
            difference = {}
            for key, model in runs.items():
                out = model(x)
                model(x)  # second warm-up pass (freeze specialises on the first calls)
                difference[key] = ((out - expected).abs().max() / expected.abs().max()).item()
            median = interleaved_medians({key: (lambda model=model: model(x)) for key, model in runs.items()},
                                         repeats)
        rows.append({"net": name, "batch": batch, "reference": label, "ms": median,
                     "deploy": "fold+CL" if prefers_channels_last(graph) else "fold",
                     "speedup": {k: median["reference"] / v for k, v in median.items()},
                     "difference": difference, "repeats": repeats, "size": size,
                     "threads": torch.get_num_threads(), "variants": list(runs)})
    return rows


def table(rows: list[dict]) -> str:
    variants = [v for v in VARIANTS if any(v in row["ms"] for row in rows)]
    head = "| network | batch | " + " | ".join(variants) + " |"
    lines = [head, "|---|---:|" + "---:|" * len(variants)]
    for row in rows:
        cells = [(f"{row['ms'][v] * 1e3:.0f} ms ({row['speedup'][v]:.2f}x)" if v in row["ms"] else "—")
                 + (" *" if v == row["deploy"] else "") for v in variants]
        lines.append(f"| {row['net']} | {row['batch']} | " + " | ".join(cells) + " |")
    worst = max(d for row in rows for d in row["difference"].values())
    lines.append("")
    lines.append("\\* what `deploy=True` builds for that network. "
                 f"Reference: {rows[0]['reference']}; ratios are reference time / variant time "
                 f"(throughput); medians of {rows[0]['repeats']} interleaved passes; largest relative "
                 f"output difference from the reference {worst:.1e}.")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", default="resnet50,vgg16")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--variants", default=",".join(VARIANTS[:-1]))
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--size", type=int, default=224, help="input height and width")
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    variants = ["reference"] + [v for v in args.variants.split(",") if v != "reference"]
    rows = []
    for name in args.nets.split(","):
        if not (ROOT / "archs" / f"{name}.cnn").exists():
            print(f"skipped {name}: archs/{name}.cnn does not exist", file=sys.stderr)
            continue
        rows += measure(name, [int(b) for b in args.batches.split(",")], args.repeats, variants, args.size)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(table(rows))


if __name__ == "__main__":
    main()
