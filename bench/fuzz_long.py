"""The long fuzzing run: the CI fuzz strategies (tests/fuzz_support.py) with fresh randomness, for a while.

    python bench/fuzz_long.py --minutes 20 [--seed N]

Every case goes through `cnnc check` and `summary --format json` in-process, and `render -o -` and
`compile -o -` when they exist (on every success and one failure in four). The invariant is the CI
one: success, or a located error with exit 1; no traceback, no exit 2, under 2 s of CPU per command.
A failing case is saved under bench/fuzz_failures/ and the run goes on; so is the slowest case. At the end it prints the
figures recorded in bench/RESULTS.md: cases per strategy, outcomes, the longest command, peak memory.
"""
from __future__ import annotations

import argparse
import collections
import random
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import fuzz_support as fs  # noqa: E402

UNICODE = "network block input output repeat for in if else add concat import conv relu {}()[]@:;,|=<>-+*/%#\"'\n\t "


def random_bytes(rng: random.Random) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randrange(600)))


def random_text(rng: random.Random) -> str:
    pool = UNICODE + "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(8))
    return "".join(rng.choice(pool) for _ in range(rng.randrange(300)))


STRATEGIES = {
    "bytes": random_bytes,
    "unicode": random_text,
    "mutant": fs.mutate,
    "program": fs.program,
    "mutated program": lambda rng: fs.mutate(rng, fs.program(rng)),
}


class Timed:
    """Wraps fuzz_support.run_cli to record the slowest command."""

    def __init__(self):
        self.longest = (0.0, "")
        self.real = fs.run_cli

    def __call__(self, argv):
        result = self.real(argv)
        if result[3] > self.longest[0]:
            self.longest = (result[3], " ".join(argv[:1]))
        return result


def run(minutes: float, seed: int) -> dict:
    rng = random.Random(seed)
    timed = Timed()
    fs.run_cli = timed
    fs.warm_up()
    counts, outcomes, failures = collections.Counter(), collections.Counter(), []
    slowest: str | bytes = ""
    failure_dir = ROOT / "bench" / "fuzz_failures"
    deadline = time.monotonic() + 60 * minutes
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        while time.monotonic() < deadline:
            name = rng.choice(sorted(STRATEGIES))
            data = STRATEGIES[name](rng)
            counts[name] += 1
            path, text = fs.write_case(directory, data)
            before = timed.longest
            try:
                outcome = fs.check_file(path, text, full=name not in ("bytes", "unicode"))
                outcomes["ok" if outcome["summary"] == 0 else "located error"] += 1
            except AssertionError:
                failure_dir.mkdir(exist_ok=True)
                saved = failure_dir / f"case{len(failures)}.cnn"
                saved.write_bytes(data if isinstance(data, bytes) else data.encode())
                failures.append((str(saved), traceback.format_exc(limit=1).strip().splitlines()[-1][:300]))
            if timed.longest != before:
                slowest = data
    if timed.longest[0]:
        failure_dir.mkdir(exist_ok=True)
        (failure_dir / "slowest.cnn").write_bytes(slowest if isinstance(slowest, bytes) else slowest.encode())
    return {"seed": seed, "minutes": minutes, "cases": sum(counts.values()), "by strategy": dict(counts),
            "outcomes": dict(outcomes), "failures": failures,
            "longest command": f"{timed.longest[0]:.3f} s CPU ({timed.longest[1]})",
            "peak memory": f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (whole process)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    report = run(args.minutes, args.seed)
    for key, value in report.items():
        print(f"{key}: {value}")
    sys.exit(1 if report["failures"] else 0)


if __name__ == "__main__":
    main()
