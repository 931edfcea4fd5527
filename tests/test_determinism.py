"""Same input, same bytes: summary JSON, DOT and generated Python across runs and PYTHONHASHSEED values.

One subprocess per seed digests every output of every zoo and example file, plus generated programs
and a warning-heavy file (warnings are printed in a fixed order too); the digests must be identical.
"""
import json
import os
import random
import subprocess
import sys
from pathlib import Path

from cnnc.fuzz import program

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(str(p.relative_to(ROOT)) for p in [*ROOT.glob("archs/*.cnn"), *ROOT.glob("examples/*.cnn")])

DIGEST = r"""
import contextlib, hashlib, io, json, sys
from cnnc.cli import main
commands = json.loads(sys.argv[1])
files = json.loads(sys.argv[2])
result = {}
for path in files:
    for command in commands:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main([command[0], path, *command[1:]])
        text = f"{status}\n{out.getvalue()}\n{err.getvalue()}"
        result[f"{path} {' '.join(command)}"] = hashlib.sha256(text.encode()).hexdigest()
print(json.dumps(result, sort_keys=True))
"""


def digests(seed: str, commands: list, files: list) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    run = subprocess.run([sys.executable, "-c", DIGEST, json.dumps(commands), json.dumps(files)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_outputs_are_byte_identical_across_hash_seeds(tmp_path):
    commands = [["summary", "--format", "json"], ["summary"], ["check"], ["render", "-o", "-"], ["compile", "-o", "-"]]
    extra = []
    for seed in range(6):  # generated programs: some succeed, some fail; both must be stable
        path = tmp_path / f"generated{seed}.cnn"
        path.write_text(program(random.Random(seed)))
        extra.append(str(path))
    warnings = tmp_path / "warnings.cnn"
    warnings.write_text("block B(w) { conv(w, 3x3, stride=2) -> unused; if 1 > 2 { relu } }\n"
                        "network N { input 3x32x32 -> skip; B(8); maxpool(2x2); B(4); if true { relu } }\n")
    files = FILES + extra + [str(warnings)]
    first, second = digests("1", commands, files), digests("4242", commands, files)
    assert len(first) == len(files) * len(commands)
    assert first == second, sorted(key for key in first if first[key] != second[key])
