"""cnnc's headline figures in one table: each a ratio measured in the same run, with the absolutes.

    python bench/run.py [--smoke] [--runs 5] [--repeats 15] [--sizes 1000,10000,100000]
                        [--deploy-nets resnet50,vgg16,mobilenet_v2] [--batches 1,8] [--no-peers]

1. Summary of ResNet-50 from a fresh process: `cnnc check` and `cnnc summary` against a torch-based
   summary (bench/torch_summary.py: build the module, one forward pass with hooks, as torchinfo
   does); median wall time and median peak RSS over --runs interleaved runs.
2. Peers (optional): torchinfo, fvcore, ptflops, thop and torchview on torchvision's ResNet-50
   (bench/peers.py), fresh processes interleaved with `cnnc check`; each tool that is not
   installed, or torchvision itself, is skipped and said so.
3. Scaling: `cnnc check` from a fresh process on generated plain (conv, relu)* and residual
   networks of each --sizes layers (in a temp dir), the default resource limits raised with
   `--limit` (they stop at 100,000 layers and 250,000 elaboration steps).
4. Re-analysis of ResNet-50 in-process (parse, elaborate, lint, analyse: what the language server
   does on every edit), median of many.
5. Building the module in-process: `cnnc.load("archs/resnet50.cnn")` against the reference's
   constructor (torchvision's when installed, else the hand-written bench/reference_resnet50.py).
6. Forward pass, eval mode, no_grad, same weights: compiled against the reference.
7. The deploy build (bench/bench_deploy.py) against torchvision's eager model (or, without
   torchvision, the non-deploy compiled module) at each --batches, for each --deploy-nets that
   exists in archs/.
8. Generated code (bench/generated_lines.py): per zoo network, the .cnn lines beside the generated
   module's, and for ResNet-50 and VGG-16 beside torchvision's source.
9. The deploy build's kernel choices (bench/bench_kernels.py): NNPACK's Winograd against oneDNN
   per 3x3 conv shape, and the separable max pool against torch's, layer by layer.

`--smoke` runs every figure once at the smallest sizes (CI runs it, so no figure rots unnoticed).
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
# The public way to raise the limits for the scaling networks: the command line's --limit.
UNLIMITED = ["--limit", "max_nodes=10000000", "--limit", "max_steps=100000000"]


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


def cnnc_command() -> str:
    beside = os.path.join(os.path.dirname(sys.executable), "cnnc")
    return beside if os.path.exists(beside) else shutil.which("cnnc") or beside


def summaries(runs: int) -> dict:
    cnnc = cnnc_command()
    return interleaved({
        "check": [cnnc, "check", RESNET50],
        "summary": [cnnc, "summary", RESNET50],
        "torch": [sys.executable, str(ROOT / "bench" / "torch_summary.py"), "--model", "reference"],
    }, runs)


def peers(runs: int) -> tuple[dict, list[str]]:
    """{tool: (wall, rss)} for each installed peer, with `cnnc check` as "cnnc"; and what was skipped."""
    import importlib.util

    from peers import TOOLS

    if importlib.util.find_spec("torchvision") is None:
        return {}, ["all peers (they run on torchvision's model; torchvision is not installed)"]
    present = [t for t in TOOLS if importlib.util.find_spec(t) is not None]
    skipped = [f"{t} (not installed)" for t in TOOLS if t not in present]
    if not present:
        return {}, skipped
    commands = {"cnnc": [cnnc_command(), "check", RESNET50]}
    commands.update({t: [sys.executable, str(ROOT / "bench" / "peers.py"), t] for t in present})
    return interleaved(commands, runs), skipped


def reanalysis(repeats: int) -> dict:
    """Median and best seconds to re-analyse ResNet-50's text in-process (no networkx, no torch)."""
    from cnnc import dsl

    text = Path(RESNET50).read_text()
    dsl.build(RESNET50, text=text, networkx=False)  # warm: imports, the parser's tables
    times = []
    for _ in range(repeats):
        times.append(_timed(lambda: dsl.build(RESNET50, text=text, networkx=False)))
    return {"median": statistics.median(times), "best": min(times), "repeats": repeats}


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


def build_and_forward(repeats: int, batch: int = 8, builds: int = 5, size: int = 224) -> dict:
    """Median build time and forward time, compiled vs reference, alternating which goes first."""
    import torch

    import cnnc

    name, make = reference()
    cnnc.load(RESNET50), make()  # warm: imports, the parser, the allocator
    build = {"compiled": [], "reference": []}
    for i in range(builds):
        order = [("compiled", lambda: cnnc.load(RESNET50)), ("reference", make)]
        for key, fn in order if i % 2 == 0 else order[::-1]:
            build[key].append(_timed(fn))
    ref = make().eval()
    model = cnnc.load(RESNET50).eval()
    model.load_state_dict(ref.state_dict())
    x = torch.randn(batch, 3, size, size)
    forward = {"compiled": [], "reference": []}
    with torch.no_grad():
        difference = (model(x) - ref(x)).abs().max().item()
        for i in range(repeats):
            order = [("compiled", model), ("reference", ref)]
            for key, net in order if i % 2 == 0 else order[::-1]:
                forward[key].append(_timed(lambda: net(x)))
    med = statistics.median
    return {"reference": name, "difference": difference, "batch": batch, "size": size,
            "threads": torch.get_num_threads(),
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
    cnnc = cnnc_command()
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for kind, make in (("plain", plain), ("residual", residual)):
            for n in sizes:
                paths[kind, n] = os.path.join(folder, f"{kind}{n}.cnn")
                Path(paths[kind, n]).write_text(make(n))
        for run in range(runs):
            for (kind, n), path in paths.items():
                if n < 50_000 or run < 3:
                    samples.setdefault((kind, n), []).append(fresh([cnnc, "check", path, *UNLIMITED])[0])
    results = {}
    for (kind, n), walls in samples.items():
        results.setdefault(kind, {})[n] = statistics.median(walls)
    return results


def table(machine_line, summary, others, skipped, again, built, scaled, sizes, deployed) -> str:
    check, full, torch_ = summary["check"], summary["summary"], summary["torch"]
    fb, ff = built["build"], built["forward"]
    rows = [
        ("ResNet-50 summary, fresh process: wall time", f"`cnnc check` {check[0]:.2f} s",
         f"torch summary {torch_[0]:.2f} s", f"{torch_[0] / check[0]:.1f}x faster"),
        ("ResNet-50 summary, fresh process: peak RSS", f"`cnnc check` {check[1]:.0f} MB",
         f"torch summary {torch_[1]:.0f} MB", f"{torch_[1] / check[1]:.1f}x less"),
        ("ResNet-50 full table, fresh process: wall time", f"`cnnc summary` {full[0]:.2f} s",
         f"torch summary {torch_[0]:.2f} s", f"{torch_[0] / full[0]:.1f}x faster"),
    ]
    if others:
        ours = others["cnnc"]
        for tool, (wall, rss) in others.items():
            if tool != "cnnc":
                rows.append((f"ResNet-50 summary, fresh process: {tool} (torchvision's model)",
                             f"`cnnc check` {ours[0]:.2f} s, {ours[1]:.0f} MB", f"{tool} {wall:.2f} s, {rss:.0f} MB",
                             f"{wall / ours[0]:.1f}x faster, {rss / ours[1]:.1f}x less memory"))
    rows += [
        ("ResNet-50 re-analysis in-process (parse to analysed IR, as the language server does)",
         f"{again['median'] * 1e3:.1f} ms (best {again['best'] * 1e3:.1f} ms, {again['repeats']} runs)",
         "target: well under 50 ms", ""),
        ("ResNet-50 module, in-process build", f"`cnnc.load` {fb['compiled'] * 1e3:.0f} ms",
         f"constructor {fb['reference'] * 1e3:.0f} ms", f"{fb['compiled'] / fb['reference']:.2f}x the time"),
        (f"ResNet-50 forward, batch {built['batch']}, {built['size']}x{built['size']}, CPU, {built['threads']} threads",
         f"compiled {ff['compiled'] * 1e3:.0f} ms", f"reference {ff['reference'] * 1e3:.0f} ms",
         f"{ff['compiled'] / ff['reference']:.2f}x the time"),
    ]
    for kind in ("plain", "residual"):
        times = scaled[kind]
        absolute = ", ".join(f"{_k(n)}: {times[n]:.2f} s" for n in sizes)
        ratios = ", ".join(f"{_k(b)}/{_k(a)} {times[b] / times[a]:.1f}x" for a, b in zip(sizes, sizes[1:]))
        marginal = ", ".join(f"{_k(a)}→{_k(b)} {(times[b] - times[a]) / (b - a) * 1e6:.0f} µs"
                             for a, b in zip(sizes, sizes[1:]))
        rows.append((f"`cnnc check` scaling, {kind} network", absolute,
                     f"time per added layer: {marginal}", ratios))
    lines = [f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by "
             f"`python bench/run.py` on {machine_line}.",
             f"Reference network: {built['reference']} (max |logit difference| with the same weights "
             f"{built['difference']:.1e}). torch summary: bench/torch_summary.py (build + one hooked "
             "forward pass, batch 1)." + (f" Skipped: {', '.join(skipped)}." if skipped else ""), "",
             "| figure | cnnc | against | ratio |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    if deployed:
        from bench_deploy import table as deploy_table

        lines += ["", f"Deploy build (`cnnc.load(..., weights=..., deploy=True)`), CPU, {deployed[0]['threads']} "
                      f"threads, {deployed[0]['size']}x{deployed[0]['size']} inputs; median ms per forward pass "
                      "(throughput ratio against the reference):", "", deploy_table(deployed)]
    return "\n".join(lines)


def _k(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


_START = time.perf_counter()


def progress(what: str) -> None:
    print(f"[{time.perf_counter() - _START:6.1f} s] {what}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="every figure once at the smallest sizes (a quick check that the benchmark runs)")
    parser.add_argument("--runs", type=int, default=5, help="fresh-process runs per command")
    parser.add_argument("--repeats", type=int, default=15, help="forward passes per network")
    parser.add_argument("--sizes", default="1000,10000,100000", help="layers of the scaling networks")
    parser.add_argument("--deploy-nets", default="resnet50,vgg16,mobilenet_v2",
                        help="networks of the deploy figures; NAME@1 limits one to batch 1")
    parser.add_argument("--batches", default="1,8", help="batch sizes of the deploy figures")
    parser.add_argument("--deploy-repeats", type=int, default=7)
    parser.add_argument("--skip-variants", default="", help="deploy variants to leave out, e.g. compiled")
    parser.add_argument("--no-peers", action="store_true", help="skip torchinfo, fvcore, ...")
    parser.add_argument("--peer-runs", type=int, default=3, help="fresh-process runs per peer tool")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads of the in-process figures (default: torch's own choice)")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.repeats, args.sizes, args.deploy_repeats, args.batches = 1, 1, "100,1000", 1, "1"
    sizes = [int(s) for s in args.sizes.split(",")]
    machine_line = machine()
    # fresh processes first, while this one is small (a child inherits its parent's peak RSS)
    progress("summaries")
    summary = summaries(args.runs)
    progress("peers")
    others, skipped = ({}, ["peers (--no-peers)"]) if args.no_peers else peers(min(args.runs, args.peer_runs))
    progress("scaling")
    scaled = scaling(sizes, args.runs)
    progress("re-analysis")
    again = reanalysis(3 if args.smoke else 50)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    progress("build and forward")
    if args.smoke:
        built = build_and_forward(1, batch=1, builds=1, size=64)
    else:
        built = build_and_forward(args.repeats)
    from bench_deploy import VARIANTS, measure

    variants = [v for v in VARIANTS[:-1] if v not in args.skip_variants.split(",")]

    deployed = []
    for name in args.deploy_nets.split(","):
        name, _, only = name.partition("@")
        batches = [int(b) for b in (only or args.batches).split(",")]
        if (ROOT / "archs" / f"{name}.cnn").exists():
            progress(f"deploy {name}")
            deployed += measure(name, batches, args.deploy_repeats, variants, size=64 if args.smoke else 224)
        else:
            skipped.append(f"deploy {name} (no archs/{name}.cnn)")
    progress("generated lines")
    from generated_lines import rows as line_rows
    from generated_lines import table as line_table

    counted = line_table(line_rows())
    progress("kernels")
    from bench_kernels import run as kernel_tables

    kernels = kernel_tables(smoke=args.smoke)
    print(table(machine_line + f", {os.getloadavg()[0]:.1f} at end", summary, others, skipped, again, built,
                scaled, sizes, deployed))
    print("\nGenerated code (bench/generated_lines.py): non-blank, non-comment lines, docstrings excluded:\n")
    print(counted)
    print("\nThe deploy build's kernel choices (bench/bench_kernels.py), one image:\n")
    print(kernels)


if __name__ == "__main__":
    main()
