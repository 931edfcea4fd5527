"""In-process re-analysis (parse, elaborate, lint, analyse: what the language server does on every
edit), with and without the two cheap speed-ups of `cnnc check`, side by side in one process.

    python bench/bench_reanalysis.py [--repeats 40] [--layers 10000]

- gc: the garbage collector paused while a network is built (dsl.build); "off" lets it run.
- int rf: receptive-field jumps as integers until a fraction is needed (dsl/analysis.py); "off"
  swaps in the previous all-Fraction arithmetic.

Prints the median and best of --repeats builds of ResNet-50, and of one generated plain network
of --layers layers (the collector matters more as the number of live objects grows).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import types
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def fraction_receptive(data, sources, in_shapes):
    """dsl/analysis.py's receptive-field rule before integer jumps (every jump a Fraction)."""
    from cnnc.dsl.ops import OPS

    if not sources:
        return (1, 1), (Fraction(1), Fraction(1))
    if len(sources) == 1:
        rf, jump = sources[0]["rf"], sources[0]["jump"]
    else:
        rf = tuple(max(s["rf"][i] for s in sources) for i in range(2))
        jump = tuple(max(s["jump"][i] for s in sources) for i in range(2))
    jump = tuple(Fraction(j) for j in jump)
    window = OPS[data["op"]].window(data["args"], in_shapes)
    if window is None:
        return rf, jump
    if window == "all":
        if len(in_shapes[0]) != 3:
            return rf, jump
        size = in_shapes[0][1:]
        return (tuple(int(rf[i] + (size[i] - 1) * jump[i]) for i in range(2)),
                tuple(jump[i] * size[i] for i in range(2)))
    if window[0] == "up":
        _, kernel, stride = window
        steps = [-(-kernel[i] // stride[i]) for i in range(2)]
        return (tuple(int(rf[i] + (steps[i] - 1) * jump[i]) for i in range(2)),
                tuple(jump[i] / stride[i] for i in range(2)))
    kernel, stride = window
    return (tuple(int(rf[i] + (kernel[i] - 1) * jump[i]) for i in range(2)),
            tuple(jump[i] * stride[i] for i in range(2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--layers", type=int, default=10000)
    args = parser.parse_args()
    import gc

    import cnnc.dsl as dsl
    from cnnc.dsl import analysis
    from cnnc.dsl.limits import Limits
    from run import plain

    real_gc, real_rf = dsl.gc, analysis._receptive
    running = types.SimpleNamespace(isenabled=lambda: False, disable=lambda: None, enable=lambda: None)
    configs = {"both (as shipped)": (real_gc, real_rf), "gc running": (running, real_rf),
               "Fraction jumps": (real_gc, fraction_receptive), "neither": (running, fraction_receptive)}
    texts = {"ResNet-50": (str(ROOT / "archs" / "resnet50.cnn"), None, args.repeats),
             f"plain {args.layers:,} layers": (None, plain(args.layers), max(3, args.repeats // 10))}
    limits = Limits(max_nodes=10 ** 7, max_steps=10 ** 8)
    for name, (path, text, repeats) in texts.items():
        text = text or Path(path).read_text()
        dsl.build(path, text=text, networkx=False, limits=limits)  # warm
        samples = {c: [] for c in configs}
        for i in range(repeats):
            for config, (collector, rule) in configs.items():
                dsl.gc, analysis._receptive = collector, rule
                start = time.perf_counter()
                dsl.build(path, text=text, networkx=False, limits=limits)
                samples[config].append(time.perf_counter() - start)
                gc.collect()
        dsl.gc, analysis._receptive = real_gc, real_rf
        for config, times in samples.items():
            print(f"{name:22s} {config:18s} median {statistics.median(times) * 1e3:8.1f} ms   "
                  f"best {min(times) * 1e3:8.1f} ms   ({repeats} runs)")


if __name__ == "__main__":
    main()
