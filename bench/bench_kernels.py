"""The deploy build's kernel choices (compiler/deploy_kernels.py), measured layer by layer.

    python bench/bench_kernels.py [--batch 1] [--channels 32,64,128,256,512] [--sides 7,14,28,56]
                                  [--repeats 5] [--smoke]

1. A 3x3 stride-1 conv (C -> C channels, padding 1, output side S) as the deploy build runs it with
   `winograd = True` (NNPACK's single-image Winograd convolution, NCHW) against its oneDNN path
   (weights reordered once, channels_last input): the ratio is oneDNN's time / Winograd's (above
   1: Winograd faster). `WINOGRAD_MIN_SIDE` is where the ratio crosses 1 on the development VM.
2. A max pool on NCHW activations: torch's nn.MaxPool2d against `SeparableMaxPool2d` (strided
   maxima along rows, then columns), and torch's kernel on channels_last input for scale.

One torch thread (the deploy build takes the Winograd path only then). Each pair runs the same
input, taking turns, after a warm-up; medians. `--smoke`: one small shape, once.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _median_ms(calls: dict, repeats: int) -> dict:
    """Median milliseconds of each call, after one warm-up call each (bench_deploy's turn-taking)."""
    from bench_deploy import interleaved_medians

    for call in calls.values():
        call()
    return {key: seconds * 1e3 for key, seconds in interleaved_medians(calls, repeats).items()}


def conv_ratios(batch: int, channels: list[int], sides: list[int], repeats: int) -> list[dict]:
    """oneDNN / Winograd time per (channels, output side) of a 3x3 stride-1 conv."""
    import torch

    from cnnc.deploy_kernels import PackedConv2d, winograd_available

    if not winograd_available():
        return []
    rows = []
    for c in channels:
        for side in sides:
            torch.manual_seed(0)
            conv = torch.nn.Conv2d(c, c, 3, padding=1)
            PackedConv2d.adopt(conv)
            conv.eval().requires_grad_(False)
            x = torch.randn(batch, c, side, side)
            x_last = x.contiguous(memory_format=torch.channels_last)

            def winograd(conv=conv, x=x):
                conv.winograd = True
                return conv(x)

            def onednn(conv=conv, x=x_last):
                conv.winograd = False
                return conv(x)

            with torch.no_grad():
                ms = _median_ms({"winograd": winograd, "onednn": onednn}, repeats)
            rows.append({"channels": c, "side": side, **ms, "ratio": ms["onednn"] / ms["winograd"]})
    return rows


def pool_ratios(batch: int, repeats: int, shapes) -> list[dict]:
    import torch

    from cnnc.deploy_kernels import SeparableMaxPool2d

    rows = []
    for c, side, kernel, stride, pad in shapes:
        x = torch.randn(batch, c, side, side)
        x_last = x.contiguous(memory_format=torch.channels_last)
        torch_pool = torch.nn.MaxPool2d(kernel, stride, pad)
        separable = torch.nn.MaxPool2d(kernel, stride, pad)
        SeparableMaxPool2d.adopt(separable)
        with torch.no_grad():
            assert torch.equal(separable(x), torch_pool(x))
            ms = _median_ms({"torch NCHW": lambda: torch_pool(x), "separable NCHW": lambda: separable(x),
                             "torch channels_last": lambda: torch_pool(x_last)}, repeats)
        rows.append({"shape": f"{c}x{side}x{side}, {kernel}x{kernel}/{stride} pad {pad}", **ms,
                     "ratio": ms["torch NCHW"] / ms["separable NCHW"]})
    return rows


def tables(convs: list[dict], pools: list[dict], batch: int) -> str:
    lines = []
    if convs:
        sides = sorted({r["side"] for r in convs})
        lines += [f"3x3 stride-1 conv, batch {batch}: oneDNN (prepacked, channels_last) time / NNPACK Winograd "
                  "time (above 1: Winograd faster)", "",
                  "| channels | " + " | ".join(f"{s}x{s}" for s in sides) + " |",
                  "|---:|" + "---:|" * len(sides)]
        for c in sorted({r["channels"] for r in convs}):
            cells = {r["side"]: f"{r['ratio']:.2f}x" for r in convs if r["channels"] == c}
            lines.append(f"| {c} | " + " | ".join(cells[s] for s in sides) + " |")
    else:
        lines.append("3x3 conv: NNPACK's Winograd convolution is not available here (skipped)")
    lines += ["", f"Max pool, batch {batch}: median ms", "",
              "| input, window | torch NCHW | separable NCHW | torch channels_last | torch NCHW / separable |",
              "|---|---:|---:|---:|---:|"]
    for r in pools:
        lines.append(f"| {r['shape']} | {r['torch NCHW']:.2f} | {r['separable NCHW']:.2f} | "
                     f"{r['torch channels_last']:.2f} | {r['ratio']:.1f}x |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--channels", default="32,64,128,256,512")
    parser.add_argument("--sides", default="7,14,28,56")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="one small conv and pool shape, once")
    args = parser.parse_args(argv)
    print(run(args.batch, args.channels, args.sides, args.repeats, args.smoke))


def run(batch=1, channels="32,64,128,256,512", sides="7,14,28,56", repeats=5, smoke=False) -> str:
    """The tables, on one torch thread (the deploy build runs Winograd only then); the process's
    thread count is restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        pools = [(64, 112, 2, 2, 0), (64, 112, 3, 2, 1), (256, 56, 2, 2, 0), (512, 28, 2, 2, 0)]
        if smoke:
            channels, sides, repeats, pools = "16", "28", 1, pools[:1]
        convs = conv_ratios(batch, [int(c) for c in channels.split(",")], [int(s) for s in sides.split(",")],
                            repeats)
        return f"torch {torch.__version__}, 1 thread\n\n" + tables(convs, pool_ratios(batch, repeats, pools), batch)
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    main()
