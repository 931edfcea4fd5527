"""Does cnnc's ResNet-18 start training where torchvision's does? Loss curves side by side.

Trains three constructors of the same ResNet-18 (10 classes, 32x32 inputs) from scratch on a
synthetic, learnable data set made here (ten random smooth class templates, shifted and noised), with
the same data order per seed:
  - torchvision.models.resnet18(num_classes=10)                 (its own initialisation)
  - cnnc.load("archs/resnet18.cnn", classes=10)                 (the file's `init` declarations)
  - the same file with its `init` lines removed                 (torch's defaults: a control)
and prints the mean training loss over windows of steps, per constructor, averaged over seeds, with
the spread between seeds. Needs torchvision (see tests/test_torchvision_compat.py for the venv).

    python bench/init_training.py [--steps 200] [--seeds 3] [--batch 32] [--smoke]
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import cnnc

ROOT = Path(__file__).resolve().parent.parent


def dataset(n: int, seed: int = 1234):
    """n images of ten classes: a smooth random template per class, shifted by up to 4 pixels, noised."""
    g = torch.Generator().manual_seed(seed)
    templates = F.interpolate(torch.randn(10, 3, 8, 8, generator=g), size=32, mode="bilinear", align_corners=False)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = templates[labels]
    shifts = torch.randint(-4, 5, (n, 2), generator=g)
    images = torch.stack([torch.roll(img, (int(dy), int(dx)), dims=(1, 2)) for img, (dy, dx) in zip(images, shifts)])
    images = images + 1.5 * torch.randn(images.shape, generator=g)
    return images, labels


def constructors():
    import torchvision

    source = (ROOT / "archs/resnet18.cnn").read_text()
    plain = re.sub(r"^\s*init .*$", "", source, flags=re.M)
    assert plain != source
    return {
        "torchvision": lambda: torchvision.models.resnet18(num_classes=10),
        "cnnc (init)": lambda: cnnc.load(source, classes=10, input="3x32x32"),
        "cnnc (torch defaults)": lambda: cnnc.load(plain, classes=10, input="3x32x32"),
    }


def train(make, seed: int, images, labels, steps: int, batch: int) -> list[float]:
    torch.manual_seed(seed)
    model = make()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    order = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, len(images), (batch,), generator=order)
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--window", type=int, default=25)
    parser.add_argument("--smoke", action="store_true", help="a few steps, one seed")
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps, args.seeds, args.window = 6, 1, 3
    try:
        makers = constructors()
    except ImportError:
        print("torchvision is not installed: skipped")
        return 0
    torch.set_num_threads(max(1, torch.get_num_threads()))
    images, labels = dataset(4096)
    curves: dict[str, list[list[float]]] = {name: [] for name in makers}
    started = time.perf_counter()
    for seed in range(args.seeds):
        for name, make in makers.items():  # interleaved: the same load for every constructor
            curves[name].append(train(make, seed, images, labels, args.steps, args.batch))
    windows = list(range(0, args.steps, args.window))
    print(f"ResNet-18, 10 classes, 32x32, batch {args.batch}, SGD(lr=0.05, momentum=0.9), "
          f"{args.steps} steps x {args.seeds} seeds; torch {torch.__version__}; {time.perf_counter() - started:.0f} s")
    print("mean training loss per window of steps: mean over seeds (spread between seeds: min-max)")
    header = f"{'steps':>9} | " + " | ".join(f"{name:>24}" for name in makers)
    print(header)
    print("-" * len(header))
    summary = {}
    for start in windows:
        cells = []
        for name in makers:
            per_seed = [statistics.fmean(c[start:start + args.window]) for c in curves[name]]
            summary.setdefault(name, []).append(per_seed)
            cells.append(f"{statistics.fmean(per_seed):6.3f} ({min(per_seed):.3f}-{max(per_seed):.3f})")
        print(f"{start:>4}-{start + args.window - 1:<4} | " + " | ".join(f"{c:>24}" for c in cells))
    tv, ours = summary["torchvision"], summary["cnnc (init)"]
    gaps = [abs(statistics.fmean(a) - statistics.fmean(b)) for a, b in zip(tv, ours)]
    noise = [max(max(a) - min(a), max(b) - min(b)) for a, b in zip(tv, ours)]
    print(f"largest gap between torchvision's and cnnc's mean curves: {max(gaps):.3f}; "
          f"seed spread in that window: {noise[gaps.index(max(gaps))]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
