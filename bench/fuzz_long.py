"""The long fuzzing run: the CI fuzz strategies (cnnc.fuzz) with fresh randomness, for a while.

    python bench/fuzz_long.py --minutes 20 [--seed N] [--cases N]

Every case goes through `cnnc check` and `summary --format json` in-process, then `render -o -`
and `compile -o -` (on every success and one failure in four). Every generated program that checks
is also run (cnnc.fuzz_exec): its module built, forward in train and eval mode, backward, shapes,
parameter counts and eval-mode MACs (torch's FLOP counter) compared with the analysis. The
invariant is the CI one: success, or a located error with exit 1; no traceback, no other exit
status, under 2 s of CPU per command. A failing case is saved under bench/fuzz_failures/ and the
run goes on; so is the slowest case. The case being run is written to bench/fuzz_failures/running.cnn
first, and a case that runs longer than --case-limit seconds of wall time is stopped (SIGALRM) and
counted as a failure, so a hang is recorded instead of stalling the run; a case stuck in torch's
native code (which the signal cannot interrupt) is saved as hung.cnn and ends the run (exit 3). At the end it prints the figures recorded in bench/RESULTS.md:
cases per strategy, outcomes, executed programs, the longest command, peak memory.
"""
from __future__ import annotations

import argparse
import collections
import random
import resource
import os
import shutil
import signal
import sys
import threading
import tempfile
import time
import traceback
from pathlib import Path

from cnnc import fuzz

ROOT = Path(__file__).resolve().parent.parent
FAILURES = ROOT / "bench" / "fuzz_failures"


class CaseTimeout(Exception):
    """A case ran past the wall-clock limit."""


def _stop_case(signum, frame):
    raise CaseTimeout("case ran past the wall-clock limit")


def _watchdog(case_started: list, case_limit: float, counts) -> None:
    """SIGALRM interrupts Python code only: a case stuck inside torch's native code is caught here,
    saved as hung.cnn, and the run ends with what it has (exit 3)."""
    while True:
        time.sleep(5)
        if case_started[0] and time.monotonic() - case_started[0] > 2 * case_limit:
            shutil.copy(FAILURES / "running.cnn", FAILURES / "hung.cnn")
            print(f"a case ran past {2 * case_limit:.0f} s inside native code: {FAILURES / 'hung.cnn'}; "
                  f"cases so far: {sum(counts.values())} {dict(sorted(counts.items()))}", flush=True)
            os._exit(3)


def run(minutes: float, seed: int, cases: int | None = None, progress: float = 60.0,
        case_limit: float = 60.0) -> dict:
    rng = random.Random(seed)
    fuzz.warm_up()
    import cnnc.fuzz_exec  # noqa: F401  (torch, imported once, before the clock of any case)

    counts, outcomes, executed, failures = (collections.Counter(), collections.Counter(),
                                            collections.Counter(), [])
    slowest = b""
    case_started = [0.0]
    threading.Thread(target=_watchdog, args=(case_started, case_limit, counts), daemon=True).start()
    longest_run = (0.0, "")
    FAILURES.mkdir(exist_ok=True)
    signal.signal(signal.SIGALRM, _stop_case)
    start = time.monotonic()
    deadline, report = start + 60 * minutes, start + progress
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        while time.monotonic() < deadline and (cases is None or sum(counts.values()) < cases):
            name = rng.choice(sorted(fuzz.STRATEGIES))
            data = fuzz.STRATEGIES[name](rng)
            counts[name] += 1
            raw = data if isinstance(data, bytes) else data.encode()
            (FAILURES / "running.cnn").write_bytes(raw)
            path, text = fuzz.write_case(directory, data)
            before = fuzz.TIMER.longest
            began = time.process_time()
            case_started[0] = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, case_limit)
            try:
                outcome = fuzz.check_file(path, text, full=name not in ("bytes", "unicode"),
                                          execute=name not in ("bytes", "unicode"))
                outcomes["ok" if outcome["summary"] == 0 else "located error"] += 1
                if "executed" in outcome:
                    executed[outcome["executed"]] += 1
                    spent = time.process_time() - began
                    if spent > longest_run[0]:
                        longest_run = (spent, name)
            except Exception:  # noqa: BLE001 - the invariant's failures and anything the harness did not expect
                saved = FAILURES / f"case{len(failures)}.cnn"
                saved.write_bytes(raw)
                failures.append((str(saved), traceback.format_exc(limit=1).strip().splitlines()[-1][:300]))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                case_started[0] = 0.0
            if fuzz.TIMER.longest != before:
                slowest = raw
            if time.monotonic() > report:
                report += progress
                print(f"{(time.monotonic() - start) / 60:.1f} min: {sum(counts.values())} cases, "
                      f"{sum(executed.values())} executed, {len(failures)} failures", flush=True)
    if fuzz.TIMER.longest:
        (FAILURES / "slowest.cnn").write_bytes(slowest)
    return {"seed": seed, "minutes": round((time.monotonic() - start) / 60, 1), "cases": sum(counts.values()),
            "by strategy": dict(sorted(counts.items())), "outcomes": dict(outcomes),
            "executed": dict(executed), "failures": failures,
            "longest command": f"{fuzz.TIMER.longest:.3f} s CPU ({fuzz.TIMER.command})",
            "longest case with execution": f"{longest_run[0]:.3f} s CPU ({longest_run[1]})",
            "peak memory": f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (whole process)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--cases", type=int, default=None, help="stop after this many cases")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--case-limit", type=float, default=60.0, help="wall seconds before a case counts as hung")
    args = parser.parse_args()
    report = run(args.minutes, args.seed, args.cases, case_limit=args.case_limit)
    for key, value in report.items():
        print(f"{key}: {value}")
    sys.exit(1 if report["failures"] else 0)


if __name__ == "__main__":
    main()
