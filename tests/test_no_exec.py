"""Nothing in a .cnn file executes code: not in cnnc, and not in the Python it generates.

Hostile text goes in every position (labels, block, network and parameter names, strings, --set
values, import paths, the file name itself). cnnc must answer with a result or a located error,
and neither cnnc nor the generated module, once executed, may run a command or create a file.
"""
import builtins
import contextlib
import os
import re
import subprocess
from pathlib import Path

import pytest

from cnnc import dsl
from cnnc.dsl.diagnostics import CnnError

import cnnc.cli  # noqa: F401  (imported, so compiled, before builtins.compile trips)
from cnnc.fuzz import run_cli

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = "__import__('os').system('touch PWNED')"


@pytest.fixture
def tripwires(monkeypatch, tmp_path):
    """Any attempt to run a command or to eval/exec text fails the test (and is recorded)."""
    calls = []
    import cnnc.torch_backend  # noqa: F401  (torch is imported before the wires are set)

    def trip(name):
        def tripped(*args, **kwargs):
            calls.append((name, args))
            raise AssertionError(f"{name} called with {args!r}")
        return tripped

    for module, name in [(os, "system"), (os, "popen"), (os, "execv"), (os, "execve"), (os, "fork"),
                         (subprocess, "Popen"), (subprocess, "run"), (subprocess, "call")]:
        monkeypatch.setattr(module, name, trip(f"{module.__name__}.{name}"))
    monkeypatch.chdir(tmp_path)
    dsl.build(text="network W { input 3x8x8; relu }")  # the parser is built before eval/exec trip
    yield calls
    assert not calls
    assert not list(tmp_path.glob("PWNED*")) and not (ROOT / "PWNED").exists()


@contextlib.contextmanager
def no_eval():
    """builtins.eval, exec and compile trip while cnnc works (restored before pytest reports)."""
    saved = {name: getattr(builtins, name) for name in ("eval", "exec", "compile")}
    for name in saved:
        setattr(builtins, name, _forbidden(name))
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(builtins, name, function)


def _forbidden(name):
    def forbidden(*args, **kwargs):
        raise AssertionError(f"builtins.{name} called on {str(args[:1])[:200]}")
    return forbidden


HOSTILE_SOURCES = {
    "label": "network N { input 3x8x8; __import__: relu; eval: relu; exec: conv(4, 3x3) }",
    "label-call": f"network N {{ input 3x8x8; {PAYLOAD}: relu }}",
    "string-in-loop": f'network N {{ input 3x8x8; for v in ["{PAYLOAD}"] {{ if v == "M" {{ relu }} }} }}',
    "string-arg": f'network N {{ input 3x8x8; upsample(mode="{PAYLOAD}") }}',
    "string-param": f'network N(p = "{PAYLOAD}") {{ input 3x8x8; if p == "x" {{ relu }} }}',
    "block-string-arg": f'block B(s) {{ relu }}\nnetwork N {{ input 3x8x8; B("{PAYLOAD}") }}',
    "block-newline-arg": 'block B(s) { relu }\nnetwork N { input 3x8x8; B("\rimport os\ros.system(\'touch PWNED\')\r") }',
    "block-names": "block __import__() { relu }\nblock exec(eval) { conv(eval, 1x1) }\n"
                   "network __builtins__(os = 4) { input 3x8x8; __import__(); exec(os) }",
    "python-keywords": "block class(def, lambda) { conv(def, 1x1); relu }\n"
                       "network None(return = 4) { input 3x8x8; import_: relu; self: class(return, 1); "
                       "forward: relu; super: relu; torch: relu; nn: relu; F: relu; x: relu; "
                       "training: relu; _modules: relu; __init__: relu; __class__: relu }",
    "name-call": f"network N {{ input 3x8x8; conv({PAYLOAD}, 3x3) }}",
    "import-path": f'import "{PAYLOAD}"\nnetwork N {{ input 3x8x8; relu }}',
    "quotes-in-strings": 'block B(s) { relu }\nnetwork N { input 3x8x8; B("\\"\\"\\" + os.system(1) #"); B("\'\'\'") }',
    "unicode-separators": 'block B(s) { relu }\nnetwork N { input 3x8x8; B("a\u2028import os\u2029b\x0c\x0b\x1c") }',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_SOURCES))
def test_the_language_never_executes_text(name, tripwires):
    try:
        with no_eval():
            dsl.build(text=HOSTILE_SOURCES[name])
    except CnnError as error:
        assert error.span is not None, error.render()


@pytest.mark.parametrize("value", [PAYLOAD, f'"{PAYLOAD}"', "exec", "eval(1)", "[__import__]",
                                   "open(\"/etc/passwd\")", "().__class__.__bases__[0]"])
def test_set_values_are_never_executed(value, tripwires, tmp_path):
    (tmp_path / "n.cnn").write_text('network N(v = 1) { input 3x8x8; if v == 1 { relu } }\n')
    assert run_cli(["check", "n.cnn"])[0] == 0  # imports (which compile source) happen before the wires
    with no_eval():
        status, out, err, _ = run_cli(["check", "n.cnn", "--set", f"v={value}"])
    assert status in (0, 1) and "Traceback" not in err, err


def test_the_dsl_package_has_no_eval_or_exec():
    pattern = re.compile(r"\b(eval|exec|compile|__import__|import_module|pickle|marshal|os\.system|subprocess)\s*\(")
    for path in sorted((ROOT / "dsl").glob("*.py")):
        hits = [line for line in path.read_text().splitlines()
                if pattern.search(line) and not line.lstrip().startswith("#") and "re.compile" not in line]
        assert not hits, f"{path.name}: {hits}"


def _compile_and_run(text: str, path: str = "<string>"):
    """Generate the module's source, check it is valid Python, then execute it as cnnc.load does."""
    import cnnc
    from cnnc.torch_backend import module_from_source

    import torch

    from cnnc.pysource import generate

    source = cnnc.compile_source(text) if path == "<string>" else generate(dsl.build(path))
    compile(source, "<generated>", "exec")
    namespace = module_from_source(source, "hostile")
    module = namespace.build()
    with torch.no_grad():
        module.eval()(torch.zeros(1, 3, 8, 8))
    return source, namespace


@pytest.mark.parametrize("name", sorted(HOSTILE_SOURCES))
def test_generated_python_runs_nothing(name, tripwires):
    try:
        source, _ = _compile_and_run(HOSTILE_SOURCES[name])
    except CnnError as error:
        assert error.span is not None, error.render()
        return
    for line in source.splitlines():  # no payload outside comments and docstrings
        code = line.split("#", 1)[0]
        assert "os.system" not in code and "import os" not in code.replace("import os.path", ""), line


@pytest.mark.parametrize("filename", ["x\nimport os\nos.system('touch PWNED')\n#.cnn",
                                      "x\rimport os\ros.system('touch PWNED')\r#.cnn",
                                      'x"""; import os; os.system("touch PWNED"); """.cnn'])
def test_hostile_file_names_do_not_reach_generated_code(filename, tripwires, tmp_path):
    (tmp_path / filename).write_text("network N { input 3x8x8; conv(4, 3x3) }\n")
    source, _ = _compile_and_run(None, path=str(tmp_path / filename))
    code = [line.split("#", 1)[0] for line in source.splitlines()]
    assert not any("os.system" in line or line.strip() == "import os" for line in code)
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()
