"""Benchmark: the compiled ResNet-50 against a reference (torchvision's, or bench/reference_resnet50.py).

    python bench/bench_load.py [--device cpu|cuda] [--batch 8] [--repeats 15]

Measured in one process, interleaved, medians: (1) building the module — `cnnc.load(...)`
(parse, analyse, generate, exec, construct) vs the reference's constructor; (2) forward time in
eval mode under no_grad, same weights. Prints ratios (compiled / reference); figures go to
bench/RESULTS.md. Not a test: timings depend on the machine.
"""
import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import cnnc  # noqa: E402


def reference():
    try:
        import torchvision
        return "torchvision.models.resnet50()", torchvision.models.resnet50
    except ImportError:
        from reference_resnet50 import ResNet50
        return "bench/reference_resnet50.py", ResNet50


def _time(fn, sync):
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"))
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    name, make_reference = reference()
    arch = str(ROOT / "archs" / "resnet50.cnn")
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)

    cnnc.load(arch), make_reference()  # warm-up: imports, parser, allocator
    load_c, load_r = [], []
    for _ in range(5):
        load_c.append(_time(lambda: cnnc.load(arch), lambda: None))
        load_r.append(_time(make_reference, lambda: None))

    dtype = getattr(torch, args.dtype)
    ref = make_reference().eval()
    model = cnnc.load(arch).eval()
    model.load_state_dict(ref.state_dict(), strict=True)
    ref.to(args.device, dtype)
    model.to(args.device, dtype)
    x = torch.randn(args.batch, 3, 224, 224, device=args.device, dtype=dtype)
    fwd_c, fwd_r = [], []
    with torch.no_grad():
        diff = (model(x) - ref(x)).abs().max().item()
        for _ in range(3):
            model(x), ref(x)
        for i in range(args.repeats):
            first, second = (model, ref) if i % 2 == 0 else (ref, model)
            t1 = _time(lambda: first(x), sync)
            t2 = _time(lambda: second(x), sync)
            (fwd_c if first is model else fwd_r).append(t1)
            (fwd_r if first is model else fwd_c).append(t2)
    med = statistics.median
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or platform.machine()
    print(f"reference: {name}; torch {torch.__version__}; {device}; {os.cpu_count()} CPUs; "
          f"threads {torch.get_num_threads()}; max |logit diff| {diff:.2e}")
    print(f"load:    compiled {med(load_c) * 1e3:8.1f} ms   reference {med(load_r) * 1e3:8.1f} ms   "
          f"ratio {med(load_c) / med(load_r):.3f}")
    print(f"forward: compiled {med(fwd_c) * 1e3:8.2f} ms   reference {med(fwd_r) * 1e3:8.2f} ms   "
          f"ratio {med(fwd_c) / med(fwd_r):.3f}   (batch {args.batch}, {args.device}, {args.dtype})")


if __name__ == "__main__":
    main()
