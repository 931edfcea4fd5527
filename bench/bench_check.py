"""`cnnc check` on ResNet-50 from a fresh process: median wall time and peak RSS, against
`python -c "import torch"` measured in the same run (torch-based tools pay at least that).

Targets (issue 2): median <= 0.3 s and <= 80 MB peak RSS on the 2-core CI machine.
Usage: python bench/bench_check.py [--runs 15] [--file archs/resnet50.cnn]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time


def measure(command: list[str], runs: int) -> tuple[float, float]:
    """Median wall seconds and median peak RSS (MB) of `command` run `runs` times."""
    walls, rss = [], []
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        walls.append(time.perf_counter() - start)
        rss.append(usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed")
    return statistics.median(walls), statistics.median(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--file", default="archs/resnet50.cnn")
    args = parser.parse_args()
    cnnc = shutil.which("cnnc") or os.path.join(os.path.dirname(sys.executable), "cnnc")
    rows = [("cnnc check " + args.file, [cnnc, "check", args.file]),
            ('python -c "import torch"', [sys.executable, "-c", "import torch"])]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    results = {}
    for name, command in rows:
        measure(command, 1)  # warm the file cache and any on-disk caches
        results[name] = measure(command, args.runs)
        wall, rss = results[name]
        print(f"{name:40s} median {wall:6.3f} s   peak RSS {rss:6.1f} MB   ({args.runs} runs)")
    (check_wall, check_rss), (torch_wall, torch_rss) = results.values()
    print(f"ratio check / import torch: time {check_wall / torch_wall:.2f}x, memory {check_rss / torch_rss:.2f}x")
    print(f"targets: time <= 0.300 s: {'met' if check_wall <= 0.3 else 'MISSED'}; "
          f"memory <= 80 MB: {'met' if check_rss <= 80 else 'MISSED'}")


if __name__ == "__main__":
    main()
