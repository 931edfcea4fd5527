"""cnnc's headline figures in one table: each a ratio measured in the same run, with the absolutes.

    python bench/run.py [--runs 5] [--repeats 15] [--sizes 1000,10000,100000] [--markdown]

1. Summary of ResNet-50 from a fresh process: `cnnc check` and `cnnc summary` against a torch-based
   summary (bench/torch_summary.py: build the module, one forward pass with hooks, as torchinfo
   does); median wall time and median peak RSS over --runs interleaved runs.
2. Building the module in-process: `cnnc.load("archs/resnet50.cnn")` (parse, analyse, generate,
   exec, construct) against the hand-written ResNet-50's constructor (torchvision's when installed).
3. Forward pass, batch 8, eval mode, no_grad, same weights: compiled against the reference.
4. Scaling: `cnnc check` from a fresh process on generated plain (conv, relu)* and residual
   networks of 1k, 10k and 100k layers (in a temp dir), with the default resource limits lifted
   (they stop at 100,000 layers and 250,000 elaboration steps); ratios 10k/1k and 100k/10k, and
   the time per layer once the startup (a 2-layer network) is subtracted.

Timings on a shared machine are noisy: compare the ratios, which are measured side by side.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

RESNET50 = str(ROOT / "archs" / "resnet50.cnn")
CHECK_UNLIMITED = """import sys
from cnnc.cli import main
sys.exit(main(["check", sys.argv[1], "--limit", "max_nodes=10000000", "--limit", "max_steps=100000000"]))
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    from importlib.metadata import version

    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, torch {version('torch')}, "
            f"load average {os.getloadavg()[0]:.1f} at start")


def fresh(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh process. Linux carries a process's peak RSS
    across fork and exec, so call this before the parent grows (main() imports torch last)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return wall, usage.ru_maxrss / 1024


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """Median wall and median peak RSS of each command, the commands taking turns."""
    for command in commands.values():
        fresh(command)  # warm the file cache
    samples = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(fresh(command))
    return {name: (statistics.median(w for w, _ in s), statistics.median(r for _, r in s))
            for name, s in samples.items()}


def summaries(runs: int) -> dict:
    cnnc = shutil.which("cnnc") or os.path.join(os.path.dirname(sys.executable), "cnnc")
    return interleaved({
        "check": [cnnc, "check", RESNET50],
        "summary": [cnnc, "summary", RESNET50],
        "torch": [sys.executable, str(ROOT / "bench" / "torch_summary.py"), "--model", "reference"],
    }, runs)


def reference():
    try:
        import torchvision

        return "torchvision resnet50()", torchvision.models.resnet50
    except ImportError:
        from reference_resnet50 import ResNet50

        return "hand-written ResNet-50 (bench/reference_resnet50.py)", ResNet50


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def build_and_forward(repeats: int, batch: int = 8) -> dict:
    """Median build time and forward time, compiled vs reference, alternating which goes first."""
    import torch

    import cnnc

    name, make = reference()
    cnnc.load(RESNET50), make()  # warm: imports, the parser, the allocator
    build = {"compiled": [], "reference": []}
    for i in range(5):
        order = [("compiled", lambda: cnnc.load(RESNET50)), ("reference", make)]
        for key, fn in order if i % 2 == 0 else order[::-1]:
            build[key].append(_timed(fn))
    ref = make().eval()
    model = cnnc.load(RESNET50).eval()
    model.load_state_dict(ref.state_dict())
    x = torch.randn(batch, 3, 224, 224)
    forward = {"compiled": [], "reference": []}
    with torch.no_grad():
        difference = (model(x) - ref(x)).abs().max().item()
        for i in range(repeats):
            order = [("compiled", model), ("reference", ref)]
            for key, net in order if i % 2 == 0 else order[::-1]:
                forward[key].append(_timed(lambda: net(x)))
    med = statistics.median
    return {"reference": name, "difference": difference, "batch": batch, "threads": torch.get_num_threads(),
            "build": {k: med(v) for k, v in build.items()},
            "forward": {k: med(v) for k, v in forward.items()}}


def plain(layers: int) -> str:
    """(conv, relu) pairs: `layers` layers, 100 per line."""
    lines = ["network Plain {", "    input 8x16x16"]
    lines += ["    repeat 50 { conv(8, 3x3, pad=1); relu }"] * (layers // 100)
    lines += ["    conv(8, 3x3, pad=1); relu"] * (layers % 100 // 2)
    return "\n".join(lines + ["}"]) + "\n"


def residual(layers: int) -> str:
    """Residual blocks of 5 layers (conv, relu, conv, add, relu): `layers` layers, 100 per line."""
    lines = ["block Res(c) {", "    add {", "        conv(c, 3x3, pad=1);  relu;  conv(c, 3x3, pad=1)",
             "    } | {}", "    relu", "}", "", "network Residual {", "    input 8x16x16"]
    lines += ["    repeat 20 { Res(8) }"] * (layers // 100)
    lines += ["    Res(8)"] * (layers % 100 // 5)
    return "\n".join(lines + ["}"]) + "\n"


def scaling(sizes: list[int], runs: int) -> dict:
    """{kind: {layers: median seconds}} of check from a fresh process, the files taking turns
    (sizes of 50,000 layers and more run at most 3 times)."""
    samples = {}
    with tempfile.TemporaryDirectory() as folder:
        driver = os.path.join(folder, "check.py")
        Path(driver).write_text(CHECK_UNLIMITED)
        paths = {}
        for kind, make in (("plain", plain), ("residual", residual)):
            for n in sizes:
                paths[kind, n] = os.path.join(folder, f"{kind}{n}.cnn")
                Path(paths[kind, n]).write_text(make(n))
        for run in range(runs):
            for (kind, n), path in paths.items():
                if n < 50_000 or run < 3:
                    samples.setdefault((kind, n), []).append(fresh([sys.executable, driver, path])[0])
    results = {}
    for (kind, n), walls in samples.items():
        results.setdefault(kind, {})[n] = statistics.median(walls)
    return results


def table(machine_line, summary, built, scaled, sizes) -> str:
    check, full, torch_ = summary["check"], summary["summary"], summary["torch"]
    fb, ff = built["build"], built["forward"]
    rows = [
        ("ResNet-50 summary, fresh process: wall time", f"`cnnc check` {check[0]:.2f} s",
         f"torch summary {torch_[0]:.2f} s", f"{torch_[0] / check[0]:.1f}x faster"),
        ("ResNet-50 summary, fresh process: peak RSS", f"`cnnc check` {check[1]:.0f} MB",
         f"torch summary {torch_[1]:.0f} MB", f"{torch_[1] / check[1]:.1f}x less"),
        ("ResNet-50 full table, fresh process: wall time", f"`cnnc summary` {full[0]:.2f} s",
         f"torch summary {torch_[0]:.2f} s", f"{torch_[0] / full[0]:.1f}x faster"),
        ("ResNet-50 module, in-process build", f"`cnnc.load` {fb['compiled'] * 1e3:.0f} ms",
         f"constructor {fb['reference'] * 1e3:.0f} ms", f"{fb['compiled'] / fb['reference']:.2f}x the time"),
        (f"ResNet-50 forward, batch {built['batch']}, CPU, {built['threads']} threads", f"compiled {ff['compiled'] * 1e3:.0f} ms",
         f"reference {ff['reference'] * 1e3:.0f} ms", f"{ff['compiled'] / ff['reference']:.2f}x the time"),
    ]
    for kind in ("plain", "residual"):
        times = scaled[kind]
        absolute = ", ".join(f"{n // 1000}k: {times[n]:.2f} s" for n in sizes)
        ratios = ", ".join(f"{b // 1000}k/{a // 1000}k {times[b] / times[a]:.1f}x"
                           for a, b in zip(sizes, sizes[1:]))
        marginal = ", ".join(f"{a // 1000}k→{b // 1000}k {(times[b] - times[a]) / (b - a) * 1e6:.0f} µs"
                             for a, b in zip(sizes, sizes[1:]))
        rows.append((f"`cnnc check` scaling, {kind} network", absolute,
                     f"cost per added layer: {marginal}", ratios))
    lines = [f"Measured {datetime.date.today().isoformat()} by `python bench/run.py` on {machine_line}.",
             f"Reference network: {built['reference']} (max |logit difference| with the same weights "
             f"{built['difference']:.1e}); its constructor initialises like torchvision's (default init, "
             "then kaiming_normal_ over the convs), the compiled module keeps torch's default init. "
             "torch summary: bench/torch_summary.py (build + one hooked forward pass, batch 1).", "",
             "| figure | cnnc | against | ratio |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh-process runs per command")
    parser.add_argument("--repeats", type=int, default=15, help="forward passes per network")
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    machine_line = machine()
    summary = summaries(args.runs)  # fresh processes first, while this one is small
    scaled = scaling(sizes, args.runs)
    built = build_and_forward(args.repeats)
    print(table(machine_line + f", {os.getloadavg()[0]:.1f} at end", summary, built, scaled, sizes))


if __name__ == "__main__":
    main()
