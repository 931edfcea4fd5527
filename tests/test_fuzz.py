"""Fuzzing with a fixed budget (2,100 cases): hostile or broken input never crashes cnnc, and the
programs that check run in torch as analysed.

The generators and the invariant are in cnnc.fuzz (and cnnc.fuzz_exec, which runs the generated
module). Cases are derandomized, so CI runs are reproducible; bench/fuzz_long.py runs the same
strategies at length with fresh randomness.
"""
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cnnc import dsl, fuzz
from cnnc.dsl.diagnostics import CnnError
from cnnc.fuzz import LOCATED, check_file, run_cli, write_case


def mutants():
    return st.randoms(use_true_random=False).map(fuzz.mutate)


def programs():
    return st.randoms(use_true_random=False).map(fuzz.program)


def fuzz_settings(examples: int):
    """Derandomised; no shrinking (a case is a random.Random's draws: shrinking them takes minutes and
    rarely simplifies the text), so a failure is reported at once, with the text that failed."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate], suppress_health_check=list(HealthCheck))


def build_or_located_error(text: str) -> None:
    """The library entry point: success, or a CnnError located inside the text."""
    try:
        dsl.build(text=text)
    except CnnError as error:
        assert error.span is not None, error.render()
        assert error.render().startswith(f"<string>:{error.span.line}:{error.span.column}: error: ")


@fuzz_settings(400)
@given(st.binary(max_size=600))
def test_random_bytes(tmp_path, data):
    path, text = write_case(tmp_path, data)
    check_file(path, text, full=False)


@fuzz_settings(600)
@given(st.text(max_size=300))
def test_random_unicode(text):
    build_or_located_error(text)


@fuzz_settings(100)
@given(st.text(max_size=300))
def test_random_unicode_through_the_cli(tmp_path, text):
    path, text = write_case(tmp_path, text)
    check_file(path, text, full=False)


@fuzz_settings(500)
@given(mutants())
def test_mutated_zoo_and_examples(tmp_path, text):
    path, text = write_case(tmp_path, text)
    check_file(path, text)


@fuzz_settings(500)
@given(programs())
def test_generated_programs(tmp_path, text):
    path, text = write_case(tmp_path, text)
    check_file(path, text, execute=True)


def test_a_set_value_bomb_in_a_real_process(tmp_path):
    """A 2.6 KB `--set` value that builds 15 million list items: bounded by the work budget (it took
    600 MB); likewise `--input`."""
    from cnnc.fuzz import LOCATED

    (tmp_path / "n.cnn").write_text("network N(v = 1) { input 3x8x8; relu }\n")
    bomb = "(range(99990) == " * 150 + "0" + ")" * 150
    for option in (["--set", f"v={bomb}"], ["--input", bomb], ["--input", f"input={bomb}"]):
        code, stderr, cpu, peak = _run_measured(["check", str(tmp_path / "n.cnn"), *option], tmp_path)
        assert code == 1 and LOCATED.search(stderr) and "too many list items" in stderr, stderr[-2000:]
        assert peak < MAX_RSS_BYTES, f"{option[0]}: {peak / 2 ** 20:.0f} MB"


@pytest.mark.parametrize("value", ["[" * 3000, "1" * 5000, "__import__('os')", '"\x1b[2J"', "x" * 100000,
                                   "1x" * 2000 + "1", "-" * 3000 + "1", "[1] * 100000000", "\x00"])
def test_hostile_set_values(tmp_path, value):
    path, text = write_case(tmp_path, "network N(v = 1) { input 3x8x8; relu }\n")
    status, _, err, seconds = run_cli(["check", path, "--set", f"v={value}"])
    assert status in (0, 1) and "Traceback" not in err and seconds < 2, err


# ---- real subprocesses: exit codes, CPU time and peak memory -------------------------------------

HOSTILE_FILES = {
    "ok.cnn": "network N { input 3x32x32; conv(8, 3x3, pad=1); relu; flatten; linear(10) }\n",
    "empty.cnn": "",
    "braces.cnn": "network N { input 3x8x8\n" + "{" * 20000 + "}" * 20000 + "}\n",
    "sum.cnn": "network N { input 3x8x8; conv(" + "+".join(["1"] * 20000) + ", 3x3) }\n",
    "repeat.cnn": "network N { input 3x8x8; repeat 100000 { repeat 100000 { relu } } }\n",
    "tree.cnn": "block B(d) { if d > 0 { B(d - 1); B(d - 1) } else { relu } }\nnetwork N { input 3x8x8; B(40) }\n",
    "wide.cnn": "network N { input 3x8x8; conv(16777216, 1x1); conv(16777216, 1x1) }\n",
    "doubling.cnn": "block B(x, d) { if d > 0 { B([x, x], d - 1) } else { conv(len(x), 1x1) } }\n"
                    "network N { input 3x8x8; B([1], 60) }\n",
    "longline.cnn": "network N { input 3x8x8; " + "relu; " * 3000 + "}\n",
    "toolong.cnn": "network N { input 3x8x8; " + "relu; " * 1000000 + "}\n",
    "comment.cnn": "# " + "x" * 4000000 + "\nnetwork N { input 3x8x8; " + "a" * 100000 + " }\n",
    "bytes.cnn": bytes(range(256)) * 40,
    "cycle.cnn": 'import "cycle.cnn"\nnetwork N { input 3x8x8; relu }\n',
    # a constant condition in a block nothing uses: lint evaluated it outside any budget (600 MB)
    "lint-bomb.cnn": "block B() { if " + "(range(99990) == " * 150 + "0" + ")" * 150 + " { relu } }\n"
                     "network N { input 3x8x8; relu }\n",
}
MAX_RSS_BYTES = 500 * 2 ** 20


# Runs the CLI and records its own peak memory (VmHWM of the process after exec) in a file: the
# rusage of a child forked from this pytest process would count the parent's pages at the fork.
_MEASURED_CLI = """
import os, sys
from cnnc.cli import main
try:
    code = main(sys.argv[1:])
finally:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM"))
    with open(os.environ["CNNC_PEAK_FILE"], "w") as out:
        out.write(peak)
sys.exit(code)
"""


def _run_measured(args, tmp_path):
    """Run `cnnc ARGS...`: its exit code, stderr, CPU seconds (os.wait4) and peak RSS bytes."""
    import os
    import subprocess
    import sys
    import tempfile

    peak_file = tmp_path / "peak.txt"
    env = {**os.environ, "CNNC_PEAK_FILE": str(peak_file)}
    with tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([sys.executable, "-c", _MEASURED_CLI, *args], stdout=subprocess.DEVNULL,
                                   stderr=err, text=True, env=env)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            if process.poll() is None:
                process.kill()
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        peak = int(peak_file.read_text()) * 1024
        return process.returncode, err.read(), usage.ru_utime + usage.ru_stime, peak


@pytest.mark.parametrize("command", ["check", "summary", "render"])
def test_hostile_files_in_real_processes(tmp_path, command):
    """Exit 0 or 1, a located error, under 2 s of CPU beyond interpreter start-up, under 500 MB."""
    (tmp_path / "trivial.cnn").write_text("network T { input 3x8x8; relu }\n")
    extra = ["-o", "-"] if command == "render" else []
    code, _, startup, _ = _run_measured([command, str(tmp_path / "trivial.cnn"), "-q", *extra], tmp_path)
    assert code == 0  # startup: the interpreter, imports and the grammar, paid by every run
    for name, data in HOSTILE_FILES.items():
        path = tmp_path / name
        path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
        code, stderr, cpu, peak = _run_measured([command, str(path), *extra], tmp_path)
        assert code in (0, 1), f"{name}: exit {code}\n{stderr[-3000:]}"
        assert "Traceback" not in stderr, stderr[-3000:]
        if code == 1:
            assert LOCATED.search(stderr), stderr[-2000:]
        assert code == 0 or name != "ok.cnn", stderr
        assert cpu - startup < 2.0, f"{name}: {cpu:.2f} s of CPU ({startup:.2f} s start-up)"
        assert peak < MAX_RSS_BYTES, f"{name}: {peak / 2 ** 20:.0f} MB"


FOUND_BY_FUZZING = {
    # `x` was a layer and the group of `x.0`, `x.1`: check passed, compile crashed (KeyError, exit 2)
    "layer-and-group": "network N { input 3x8x8; concat { x: { relu; relu } } | { x: tanh } }\n",
    "group-then-layer": "network N { input 3x8x8; x: tanh; x: { relu; relu } }\n",
    "input-and-group": "network N { input x: 3x8x8; x: { relu } }\n",
    "long-run-case0": "network forward {\n    input 64\n    -> s\n    concat { x_1: for c1 in [[1, 2], [3, 4]] "
                      "{ gelu() } } | { { -> a; -> s } } | { x_1: tanh; output eval { w: relu; c1: scaled_tanh; "
                      "scaled_tanh }; __class__: for s in [] { @c1; batchnorm(momentum=2) } } | {}\n    flatten\n"
                      "    dropout()\n}\n",
    "long-run-case1": 'import "blocks.cnn"\nnetwork torch(w = 11, skip = 10) {\n    input 3x1x1\n'
                      "    for s in [] { -> stride; output torch { rbf(8); -> width } }\n    log_softmax()\n"
                      "    None: { relu }\n    -> w\n    None: scaled_tanh(a=0.5, s=1e-5)\n}\n",
    # a 2,323-block ResNet-101 mutant: compile translated the block once per instance (3.8 s of CPU)
    "resnet101-with-2323-blocks": 'import "resnet50.cnn"\nnetwork ResNet101(classes = 1000) {\n    input 3x224x224\n'
                                  '    init conv.weight: kaiming_normal(mode="fan_out", nonlinearity="relu")\n'
                                  "    conv1: conv(64, 7x7, stride=2, pad=3, bias=false);  bn1: batchnorm;  relu: relu\n"
                                  "    maxpool: maxpool(3x3, stride=2, pad=1)\n    layer1: Stage(64, 3, stride=1)\n"
                                  "    layer2: Stage(128, 4)\n    layer3: Stage(256, 2323)\n    layer4: Stage(512, 3)\n"
                                  "    avgpool: avgpool(global);  flatten\n    fc: linear(classes)\n}\n",
    "empty": "",
    "nul": "network N {\x00}",
}


@pytest.mark.parametrize("name", sorted(FOUND_BY_FUZZING))
def test_found_by_fuzzing(tmp_path, name):
    path, text = write_case(tmp_path, FOUND_BY_FUZZING[name])
    check_file(path, text)


# Programs that check but whose generated module failed to run (found by bench/fuzz_long.py).
FOUND_BY_EXECUTING = {
    # the runtime Conv2dSame calls F.pad, but `import torch.nn.functional as F` was decided from the
    # network's own code (a docstring's quotes hid the runtime class's code from that search)
    "tf-same-conv-alone": "network N { input 3x8x8; conv(4, 2x2, pad=tf_same) }\n",
    # a bare parameter (layer scale) in a labelled group: nn.Sequential and nn.ModuleDict hold modules
    # only, and compile refused what check accepted
    "bare-parameter-in-groups": "network N {\n    input 3x8x8\n    conv(4, 3x3)\n"
                                "    g: { scale(init=0.5); -> a; relu; @a; scale }\n"
                                "    h: { repeat 2 { scale; relu } }\n    k: { relu; scale; tanh }\n}\n",
    # a block with side outputs returns a tuple: it was made an item of an nn.Sequential (a chain)
    "side-outputs-in-a-chain": "block S() { output aux { relu }; tanh }\nblock W() { S() }\n"
                               "network N { input 3x8x8; W(); output head { S(); relu }; relu }\n",
    # two side outputs of one block were both given the variable `out`
    "two-side-outputs-in-a-block": "block S() { output a { relu }; output b { tanh } }\n"
                                   "network N { input 3x8x8; S(); relu }\n",
    # a labelled merge's layers were registered on the parent, colliding with its numbered children
    "labelled-merge-layers": "network N { input 3x8x8; conv(3, 1x1); F: add { conv(3, 1x1) } | { conv(3, 1x1); "
                             "batchnorm } | { scale }; conv(3, 1x1) }\n",
    # a block reached only through a branch not taken reads a value nothing bound: check never sees
    # it, and the generator crashed (KeyError) translating it; the branch's condition is now fixed
    "unbound-value-in-an-untaken-branch": "block B() { add { @w; relu } | {} }\n"
                                          "network N(k = 5) { input 3x8x8; if k < 2 { B() }; relu }\n",
    # an argument the op refuses, in code check never elaborated: compile crashed (OpProblem)
    "refused-argument-in-an-untaken-branch": "block B() { layernorm(eps=1e999 - 1e999) }\n"
                                             "network N(k = 5) { input 3x8x8; if k < 2 { B() }; relu }\n",
    # a block that passes its input through, merged with that input: the elaborator's identity node
    # for the repeated tensor was numbered differently by the generator (compile crashed)
    "pass-through-block-merged-with-its-input": "block S() { output aux { tanh } }\n"
                                                "network M { input 3x8x8; concat { S() } | {}; batchnorm }\n",
    # the language's min(x) of one number is x; the generated `min(stride)` raised TypeError
    "min-of-one-number": "block B(s) { deconv(2, 3x3, stride=min(s)); relu; conv(2, 1x1, stride=max(s)) }\n"
                         "network N(stride = 2) { input 3x8x8; B(stride); B(1) }\n",
    # a group named by a Python keyword inside an nn.Sequential was indexed like a ModuleDict
    # (`self.head["nonlocal"]`: TypeError)
    "keyword-group-in-a-sequential": "network N { input 3x8x8; output head { relu; nonlocal: { tanh; max: relu } }; "
                                     "relu }\n",
    # a parameter without a default after one with a default: allowed in .cnn, a SyntaxError in Python
    "required-after-default": "block B(s = 10, skip) { conv(skip, 1x1, stride=s) }\n"
                              "network N { input 3x8x8; B(1, 4); B(skip=5); B(2, skip=6) }\n",
    # empty labelled groups (`try: repeat 0 {...}`) were built as empty nn.ModuleDicts, replacing the
    # layer their label names (`try: softmax`), and then called
    "empty-groups-sharing-a-label": "network N { input 3x8x8; try: softmax; for x in [1, 2] { try: repeat 0 "
                                    "{ tanh } }; flatten }\n",
    # an `if` branch that builds nothing, in a block written as an nn.Sequential: `if ...:` had no body
    "empty-branch-in-a-sequential-block": "block B(out) { if in.channels == out { } else { conv(out, 1x1) } }\n"
                                          "network N { input 3x8x8; B(3); B(5); relu }\n",
    # side outputs inside an `if` on a network parameter: returned although the branch was not taken
    # (UnboundLocalError); the condition is now fixed at compile time
    "side-outputs-in-a-conditional-branch": "block S() { relu; output aux { tanh } }\n"
                                            "network N(s = 7) { input 3x8x8; if s < 2 { S() }; relu }\n",
    # a loop whose body changes the rank (flatten), in a group written as an nn.Sequential: compile
    # crashed (IndexError) joining the shapes
    "rank-changing-loop-in-a-sequential": "network N { input 3x1x1; tanh; output head { x: for w in range(3) "
                                          "{ flatten(); layernorm(eps=1e-5) } }; batchnorm; flatten }\n",
    # a non-finite layer-scale initial value was written as a bare `nan`
    "non-finite-scale-init": "network N { input 3x8x8; scale(init=1e999 - 1e999); scale(init=-1e999) }\n",
}


@pytest.mark.parametrize("name", sorted(FOUND_BY_EXECUTING))
def test_found_by_executing(tmp_path, name):
    path, text = write_case(tmp_path, FOUND_BY_EXECUTING[name])
    outcome = check_file(path, text, execute=True)
    assert outcome["summary"] == 0 and outcome["executed"] == "ran", outcome


def test_a_float_argument_beyond_float32_is_a_located_error(tmp_path):
    """torch.full refused `scale(init=1e308)` when the module was built, and nn.LeakyReLU(1e308) when
    it ran; check accepted both. Every float argument is held to float32's range (non-finite values
    are float32 values)."""
    with pytest.raises(CnnError, match=r"slope 1e\+308 is beyond the range of float32"):
        dsl.build(text="network N { input 3x8x8; leaky_relu(slope=1e308) }")
    with pytest.raises(CnnError, match=r"init 1e\+308 is beyond the range of float32") as error:
        dsl.build(text="network N { input 3x8x8; scale(init=1e308) }")
    assert (error.value.span.line, error.value.span.column) == (1, 32)
    path, text = write_case(tmp_path, "network N { input 3x8x8; scale(init=3e38); scale(init=-3e38) }\n")
    assert check_file(path, text, execute=True)["executed"] == "ran"


def test_a_window_past_32_bits_is_a_located_error():
    """torch's pools take 32-bit window sizes: maxpool(3, stride=2**62) passed check and failed when run."""
    with pytest.raises(CnnError, match="stride 4611686018427387904x4611686018427387904 is past the largest window"):
        dsl.build(text="network N { input 3x8x8; maxpool(3, stride=4611686018427387904, ceil=true) }")
    assert dsl.build(text="network N { input 3x8x8; maxpool(3, stride=2147483647) }")


def test_a_merge_label_is_both_a_layer_and_a_group():
    graph = dsl.build(text="network N { input 3x8x8; m: add { relu } | { relu } }")
    assert {"m", "m.0", "m.1"} <= set(graph.nodes)


# ---- running what is generated --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tiny_cnn", "aux_heads", "residual", "vgg_config"])
def test_executing_a_program_compares_it_with_the_analysis(name):
    from cnnc.fuzz_exec import execute

    assert execute(f"examples/{name}.cnn") == "ran"


@pytest.mark.parametrize("figure", ["macs", "params", "shape"])
def test_execution_catches_an_analysis_that_differs_from_torch(figure, monkeypatch):
    """The oracle can fail: an analysis off by one MAC, one parameter or one channel is caught."""
    import cnnc
    from cnnc.fuzz import FuzzFailure
    from cnnc.fuzz_exec import execute

    real = cnnc.analyse

    def wrong(*args, **kwargs):
        graph = real(*args, **kwargs)
        if figure == "shape":
            node = graph.graph["outputs"]["output"]
            graph.nodes[node]["shape"] = (graph.nodes[node]["shape"][0] + 1,)
        else:
            graph.graph["totals"][figure] += 1
        return graph

    monkeypatch.setattr(cnnc, "analyse", wrong)
    with pytest.raises(FuzzFailure, match={"macs": "MACs", "params": "parameters", "shape": "output"}[figure]):
        execute("examples/tiny_cnn.cnn")


def test_execution_skips_what_is_too_large_to_run_quickly():
    from cnnc.fuzz_exec import execute

    assert execute("archs/vgg16.cnn") == "skipped (too large)"
