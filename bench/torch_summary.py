"""A torchinfo-style summary made the torch way: build the module, run one forward pass with hooks.

    python bench/torch_summary.py [--model reference|compiled] [--file archs/resnet50.cnn]

This is what a torch-based summary tool (torchinfo, torchsummary) has to do to learn a network's
shapes and parameter counts: import torch, construct the module (allocating and initialising every
weight), and run a forward pass, recording each leaf module's output through forward hooks.
`bench/run.py` times it in a fresh process against `cnnc check` / `cnnc summary`, which learn the
same from the text alone. `--model reference` uses the hand-written ResNet-50 of
bench/reference_resnet50.py (torchvision's layout); `--model compiled` uses `cnnc.load`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(kind: str, file: str):
    """(module, input shape without batch)."""
    if kind == "reference":
        sys.path.insert(0, str(ROOT / "bench"))
        from reference_resnet50 import ResNet50

        return ResNet50(), (3, 224, 224)
    sys.path.insert(0, str(ROOT))
    import cnnc

    graph = cnnc.analyse(file)
    return cnnc.load(file), tuple(next(iter(graph.graph["inputs"].values())))


def summarise(model, shape):
    """Rows (path, class, output shape, params, MACs) from one hooked forward pass at batch 1."""
    import torch

    rows, hooks = [], []

    def hook(path):
        def record(module, inputs, output):
            params = sum(p.numel() for p in module.parameters(recurse=False))
            macs = 0
            if isinstance(module, torch.nn.Conv2d):
                macs = output[0].numel() * module.weight[0].numel()
            elif isinstance(module, torch.nn.Linear):
                macs = module.weight.numel()
            rows.append((path, type(module).__name__, list(output.shape), params, macs))
        return record

    for path, module in model.named_modules():
        if path and not any(True for _ in module.children()):
            hooks.append(module.register_forward_hook(hook(path)))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for handle in hooks:
        handle.remove()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("reference", "compiled"), default="reference")
    parser.add_argument("--file", default=str(ROOT / "archs" / "resnet50.cnn"))
    args = parser.parse_args()
    model, shape = build(args.model, args.file)
    rows = summarise(model, shape)
    lines = [f"{'Layer (path)':30s} {'Type':16s} {'Output shape':20s} {'Params':>12s} {'MACs':>14s}"]
    lines += [f"{p:30s} {t:16s} {str(s):20s} {n:12,d} {m:14,d}" for p, t, s, n, m in rows]
    total = sum(p.numel() for p in model.parameters())
    lines.append(f"Total params: {total:,}   MACs: {sum(r[4] for r in rows):,}   layers: {len(rows)}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
