"""Fuzzing cnnc: input generators and the invariant every input must satisfy.

Used by tests/test_fuzz.py (a fixed, derandomised budget in CI) and bench/fuzz_long.py (fresh
randomness, for as long as asked). Generators take a `random.Random` and return text or bytes:

- `random_bytes`, `random_text`: noise;
- `mutate`: a zoo or example file with one to four token-level mutations;
- `program`: a syntactically valid program with random semantics, hostile names (Python keywords,
  builtins, nn.Module attributes, generated class names), non-finite and huge literals, deep
  nesting of every construct, side heads inside blocks, unused values and dead layers.

The invariant (`check_file`), for `cnnc check`, `summary`, `render` and `compile` alike: success, or
a diagnostic located at file:line:col with exit status 1; never a traceback or another status,
never more than 2 s of CPU per command. Programs that check are also run (`cnnc.fuzz_exec`): the
generated module is built, run forward in train and eval mode and backward, and its output shapes,
parameter count and (eval) MACs seen by torch's FLOP counter must equal the analysis.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import time
from pathlib import Path

from cnnc.dsl.loader import zoo_dir


class FuzzFailure(AssertionError):
    """An input broke the invariant (raised explicitly, so `python -O` keeps the checks)."""


def expect(condition, message) -> None:
    if not condition:
        raise FuzzFailure(message() if callable(message) else message)


# ---- the corpus -----------------------------------------------------------------------------------

def _examples_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "examples", here.parent / "examples"):
        if candidate.is_dir():
            return candidate
    return here


CORPUS = {p.name: p.read_text() for p in [*sorted(zoo_dir().glob("*.cnn")), *sorted(_examples_dir().glob("*.cnn"))]}
LIBRARY = CORPUS.get("blocks.cnn", "block DepthwiseSeparable(out, stride = 1) { relu }\n")  # what fuzz cases import

LOCATED = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): error: ", re.M)
CPU_LIMIT_S = 2.0


# ---- running the CLI in-process -------------------------------------------------------------------

def run_cli(argv: list[str]) -> tuple[int, str, str, float]:
    """cnnc.cli.main(argv) with captured output: (exit status, stdout, stderr, CPU seconds)."""
    from cnnc.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.process_time()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit_:  # argparse
            status = exit_.code
    return status, out.getvalue(), err.getvalue(), time.process_time() - start


class Timer:
    """The slowest command seen (for the long run's report)."""

    def __init__(self):
        self.longest, self.command = 0.0, ""

    def record(self, seconds: float, argv: list[str]) -> bool:
        if seconds > self.longest:
            self.longest, self.command = seconds, " ".join(argv[:1])
            return True
        return False


TIMER = Timer()


def assert_outcome(argv: list[str], path: str, text: str | None) -> tuple[int, str]:
    """Run one command and check the invariant; returns (status, stdout)."""
    status, out, err, seconds = run_cli(argv)
    TIMER.record(seconds, argv)
    where = f"cnnc {' '.join(argv)}"
    expect("Traceback" not in err and "internal error" not in err, lambda: f"{where}\n{err}")
    expect(status in (0, 1), lambda: f"{where}: exit {status}\n{err}")
    expect(seconds < CPU_LIMIT_S, lambda: f"{where}: {seconds:.2f} s")
    if status == 1:
        assert_located(err, path, text, where)
    return status, out


def assert_located(err: str, path: str, text: str | None, where: str = "") -> None:
    match = LOCATED.search(err)
    expect(match, lambda: f"{where}: no located error in\n{err}")
    places = (Path(path).resolve().parent, zoo_dir().resolve())  # the file, a file it imports, or the zoo
    shown = Path(match["path"])
    here = (shown.resolve().parent in places) or (not shown.is_absolute() and (zoo_dir() / shown).is_file())
    expect(here, lambda: f"{where}: located outside the case's directory\n{err}")
    line, column = int(match["line"]), int(match["col"])
    if text is not None and match["path"] == path:  # the location lies inside the text (or just after)
        lines = text.split("\n")
        expect(1 <= line <= len(lines) + 1, lambda: f"{where}: line {line} of {len(lines)}\n{err}")
        expect(column >= 1, lambda: f"{where}: column {column}\n{err}")


_WARM = []


def warm_up() -> None:
    """Import every backend once, so the first case's CPU time is not the imports' (torch's ~2 s)."""
    if not _WARM:
        import networkx  # noqa: F401

        import cnnc.graphviz_backend  # noqa: F401
        import cnnc.pysource  # noqa: F401
        import cnnc.summary  # noqa: F401
        _WARM.append(True)


def check_file(path: str, text: str | None, full: bool = True, execute: bool = False) -> dict:
    """All commands on one file: check and summary; with `full`, render and compile too (a failing
    input goes through them one time in four); with `execute`, a file that checks is also built and
    run by torch and compared with the analysis (cnnc.fuzz_exec.execute)."""
    warm_up()
    outcome = {}
    status, _ = assert_outcome(["check", path], path, text)
    outcome["check"] = status
    status, out = assert_outcome(["summary", "--format", "json", path], path, text)
    outcome["summary"] = status
    if status == 0:
        json.loads(out)
    if not full or (status == 1 and len(text or "") % 4):
        return outcome
    status, out = assert_outcome(["render", path, "-o", "-"], path, text)
    outcome["render"] = status
    expect(status == 1 or "digraph" in out, lambda: out[:200])
    status, out = assert_outcome(["compile", path, "-o", "-"], path, text)
    outcome["compile"] = status
    if status == 0:
        compile(out, "<generated>", "exec")  # a SyntaxError here is a generator bug
    if execute and outcome["summary"] == 0:
        from .fuzz_exec import execute as run

        outcome["executed"] = run(path)
    return outcome


def write_case(directory: Path, data: str | bytes, name: str = "case.cnn") -> tuple[str, str | None]:
    """Write a fuzz case next to a copy of examples/blocks.cnn; returns (path, text or None)."""
    library = directory / "blocks.cnn"
    if not library.exists():
        library.write_text(LIBRARY)
    path = directory / name
    if isinstance(data, bytes):
        path.write_bytes(data)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None
    else:
        path.write_text(data, encoding="utf-8", newline="")
        text = data
    return str(path), text


# ---- noise --------------------------------------------------------------------------------------------

_UNICODE = "network block input output repeat for in if else add concat import conv relu {}()[]@:;,|=<>-+*/%#\"'\n\t "


def random_bytes(rng) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randrange(600)))


def random_text(rng) -> str:
    pool = _UNICODE + "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(8))
    return "".join(rng.choice(pool) for _ in range(rng.randrange(300)))


# ---- mutations of the corpus ----------------------------------------------------------------------

_TOKEN = re.compile(r'\s+|#[^\n]*|"[^"\n]*"|[0-9]+(?:x[0-9]+)+|[0-9]*\.?[0-9]+|[A-Za-z_][A-Za-z0-9_]*|->|[=!<>]=|//|.', re.S)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


POOL = sorted({t for text in CORPUS.values() for t in tokens(text) if not t.isspace()})
ODD = ["\t", "\r\n", "\r", "\ufeff", "\x00", "\x0c", "\u2028", "é", "\U0001f600", "{", "}", "(", ")", "[", "]",
       '"', "'", "#", "@", "->", "|", ";", ":", "=", ",", "x", "."]
EDGE_NUMBERS = ["0", "1", "-1", "2", "65536", "16777217", "99999999999", "4611686018427387904", "1e999",
                "1e308", "-0.0", "1e-320", "9" * 99]


def mutate(rng, text: str | None = None) -> str:
    """A zoo or example file (or `text`) with one to four mutations."""
    parts = tokens(text if text is not None else CORPUS[rng.choice(sorted(CORPUS))])
    for _ in range(rng.randint(1, 4)):
        parts = _mutate(rng, rng.choice(["delete", "duplicate", "swap", "replace", "truncate", "splice",
                                         "insert", "number"]), parts)
    return "".join(parts)


def _mutate(rng, kind: str, parts: list[str]) -> list[str]:
    if not parts:
        return parts
    i = rng.randrange(len(parts))
    if kind == "delete":
        return parts[:i] + parts[i + 1:]
    if kind == "duplicate":
        return parts[:i + 1] + parts[i:]
    if kind == "swap":
        j = rng.randrange(len(parts))
        parts = list(parts)
        parts[i], parts[j] = parts[j], parts[i]
        return parts
    if kind == "replace":
        return parts[:i] + [rng.choice(POOL)] + parts[i + 1:]
    if kind == "truncate":
        return parts[:i]
    if kind == "splice":  # a line of another file inserted after a newline
        line = rng.choice(CORPUS[rng.choice(sorted(CORPUS))].split("\n"))
        return parts[:i] + ["\n" + line + "\n"] + parts[i:]
    if kind == "insert":
        return parts[:i] + [rng.choice(ODD)] + parts[i:]
    numbers = [k for k, t in enumerate(parts) if t.isdigit()]
    if not numbers:
        return parts
    k = rng.choice(numbers)
    return parts[:k] + [rng.choice(EDGE_NUMBERS)] + parts[k + 1:]


from .fuzz_programs import program  # noqa: E402  (the program generator; it uses the helpers above)

STRATEGIES = {
    "bytes": random_bytes,
    "unicode": random_text,
    "mutant": mutate,
    "program": program,
    "mutated program": lambda rng: mutate(rng, program(rng)),
}

__all__ = ["STRATEGIES", "FuzzFailure", "check_file", "write_case", "run_cli", "mutate", "program",
           "random_bytes", "random_text", "assert_located", "LOCATED", "TIMER"]
