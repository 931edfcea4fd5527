"""Resource limits and hostile input: every case is a located CnnError, fast, never a traceback."""
import os
import time
from pathlib import Path

import pytest

from cnnc import dsl
from cnnc.dsl.diagnostics import CnnError, FileError, LimitError, TypeError_
from cnnc.dsl.limits import Limits


def net(body: str, head: str = "", params: str = "") -> str:
    return f"{head}\nnetwork N{params} {{\n    input 3x8x8\n{body}\n}}\n"


def error_of(text: str, **kwargs) -> CnnError:
    start = time.process_time()  # CPU time: the machine may be busy with other work
    with pytest.raises(CnnError) as caught:
        dsl.build(text=text, **kwargs)
    assert time.process_time() - start < 2.0, "a limit must fail fast"
    error = caught.value
    assert error.span is not None, error.render()
    assert error.render().startswith(f"<string>:{error.span.line}:{error.span.column}: error: ")
    return error


# ---- nesting in the source: never a RecursionError -----------------------------------------------

@pytest.mark.parametrize("text", [
    net("    " + "{" * 5000 + "relu" + "}" * 5000),
    net("    conv(" + "-" * 5000 + "1, 3x3)"),
    net("    if " + "not " * 5000 + "true { relu }"),
    net("    for x in " + "[" * 5000 + "]" * 5000 + " { relu }"),
    net("    conv(" + " + ".join(["1"] * 5000) + ", 3x3)"),
    net("    conv([1]" + "[0]" * 5000 + ", 3x3)"),
    net("    add " + " | ".join(["{ relu }"] * 3) + "\n" + "    concat { " * 3000 + "relu" + " } | { relu }" * 3000),
], ids=["braces", "negations", "nots", "lists", "sum-chain", "index-chain", "merges"])
def test_deep_nesting_in_the_source_is_a_located_error(text):
    error = error_of(text)
    assert isinstance(error, LimitError)
    assert "nests more than 200 levels deep" in error.message


def test_nesting_just_under_the_limit_works():
    assert list(dsl.build(text=net("    " + "{" * 90 + "relu" + "}" * 90))) == ["input", "0"]
    graph = dsl.build(text=net("    conv(" + " + ".join(["1"] * 150) + ", 3x3)"))
    assert graph.nodes["0"]["shape"] == (150, 6, 6)


def test_deep_nesting_from_the_command_line_value():
    with pytest.raises(LimitError):
        dsl.parse_value("[" * 5000 + "]" * 5000)


def test_block_recursion_is_caught_by_the_depth_limit():
    error = error_of(net("    B(1)", head="block B(n) { relu; B(n + 1) }"))
    assert "calls itself without end" in error.message


def test_blocks_nested_deep_with_deep_braces_stay_within_the_stack():
    """64 nested blocks, each with 60 levels of braces: the elaborator's nesting limit answers."""
    blocks = "\n".join(f"block B{i}() {{ {'{' * 60} relu; B{i + 1}() {'}' * 60} }}" for i in range(63))
    blocks += "\nblock B63() { relu }"
    error = error_of(net("    B0()", head=blocks))
    assert "nest more than 256 deep" in error.message


# ---- sizes, counts and work: fail fast -------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ("    repeat 100000 { relu }", "more than the limit of 100,000 layers"),
    ("    repeat 1000 { repeat 1000 { relu } }", "more than the limit of 100,000 layers"),
    ("    for i in range(100000) { relu; relu }", "more than the limit of 100,000 layers"),
    ("    repeat 100000 { repeat 100000 { } }", "steps"),
    ("    for i in range(100000) { for j in range(100000) { if i < 0 { relu } } }", "steps"),
    ("    repeat 100001 { relu }", "exceeds the limit of 100,000"),
    ("    repeat 100000 { if len(range(100000)) < 0 { relu } }", "too many list items"),
    ("    repeat 100000 { if range(90000) == range(90000) { } }", "too many list items"),
])
def test_huge_loops_fail_fast(body, message):
    assert message in error_of(net(body)).message


def test_exponential_block_tree_fails_on_the_step_limit():
    error = error_of(net("    B(30)", head="block B(d) { if d > 0 { B(d - 1); B(d - 1) } }"),
                     limits=Limits(max_steps=50_000))
    assert "steps" in error.message


def test_exponential_values_are_refused():
    """[x, x] doubled 60 times shares memory but would take 2**60 steps to compare or print."""
    head = "block B(x, d) { if d > 0 { B([x, x], d - 1) } else { conv(x, 3x3) } }"
    assert "100,000 items" in error_of(net("    B([1], 60)", head=head)).message


@pytest.mark.parametrize("body, message", [
    ("    conv(16777217, 1x1)", "channels exceed the limit of 16,777,216"),
    ("    upsample(scale=4611686018427387904)", "bytes per sample; the limit is"),
    ("    deconv(3, 3x3, stride=100000000)", "bytes per sample; the limit is"),
    ("    flatten; linear(4611686018427387904)", "channels exceed the limit"),
    ("    conv(" + "9" * 5000 + ", 3x3)", "integer literal of 5,000 digits"),
    ("    conv(4611686018427387904 * 4611686018427387904, 3x3)", "integer overflow"),
    ("    conv(1 // 0, 3x3)", "division by zero"),
    ("    conv(1 % 0, 3x3)", "division by zero"),
    ("    dropout(1.0 / 0.0)", "division by zero"),
    ("    for i in range(-4611686018427387904, 4611686018427387904) { relu }", "too long"),
    ("    for i in [1] * 4611686018427387904 { relu }", "too long"),
    ("    conv(len(\"" + "a" * 60000 + "\" + \"" + "a" * 60000 + "\"), 3x3)", "characters is too long"),
    ("    dropout(1e999)", "must be in [0, 1)"),
    ("    conv(1e300 * 1e300 - 1e300 * 1e300, 3x3)", "must be an integer, got nan"),
])
def test_absurd_values_are_located_errors(body, message):
    assert message in error_of(net(body)).message


def test_input_override_too_large():
    with pytest.raises(LimitError):
        dsl.build(text=net("    relu"), input="100000x100000x100000")


def test_limits_are_configurable():
    text = net("    repeat 20 { relu }")
    dsl.build(text=text)
    with pytest.raises(LimitError, match="limit of 10 layers"):
        dsl.build(text=text, limits=Limits(max_nodes=10))
    with pytest.raises(LimitError, match="exceeds the limit of 5"):
        dsl.build(text=text, limits=Limits(max_repeat=5))
    with pytest.raises(LimitError, match="channels"):
        dsl.build(text=net("    conv(64, 1x1)"), limits=Limits(max_channels=32))


def test_error_messages_show_huge_values_briefly():
    error = error_of(net("    conv(range(90000), 3x3)"))
    assert len(error.render()) < 1000


# ---- imports and files ---------------------------------------------------------------------------

def test_import_cycle(tmp_path):
    (tmp_path / "a.cnn").write_text('import "b.cnn"\nblock A() { relu }\n')
    (tmp_path / "b.cnn").write_text('import "a.cnn"\nblock B() { relu }\n')
    (tmp_path / "main.cnn").write_text('import "a.cnn"\nnetwork N { input 3x8x8; A() }\n')
    with pytest.raises(FileError, match="import cycle") as caught:
        dsl.build(str(tmp_path / "main.cnn"))
    assert caught.value.span is not None


def test_self_import(tmp_path):
    (tmp_path / "main.cnn").write_text('import "main.cnn"\nnetwork N { input 3x8x8; relu }\n')
    with pytest.raises(FileError, match="import cycle"):
        dsl.build(str(tmp_path / "main.cnn"))


@pytest.mark.parametrize("target, message", [
    ("missing.cnn", "no such file"),
    ("sub.cnn", "is a directory"),
    ("fifo.cnn", "not a regular file"),
    ("dangling.cnn", "no such file"),
    ("nul\x00.cnn", "no such file"),
])
def test_bad_imports_are_located(tmp_path, monkeypatch, target, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub.cnn").mkdir()
    os.mkfifo(tmp_path / "fifo.cnn")
    os.symlink(tmp_path / "nowhere.cnn", tmp_path / "dangling.cnn")
    text = f'import "{target}"\nnetwork N {{ input 3x8x8; relu }}\n'
    with pytest.raises(FileError, match=message) as caught:
        dsl.build(text=text)
    assert (caught.value.span.line, caught.value.span.column) == (1, 1)


def test_type_errors_stay_type_errors():
    assert isinstance(error_of(net('    conv("a" * 2, 3x3)')), TypeError_)


# ---- one Limits value, per call --------------------------------------------------------------------

def test_the_readme_limits_table_is_the_limits_value():
    from cnnc.dsl.limits import markdown_table

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert markdown_table() in readme


def test_no_limit_is_a_module_global():
    """Every limit is a field of Limits; no module keeps one that a caller could assign."""
    import cnnc.dsl
    import cnnc.dsl.analysis
    import cnnc.dsl.elaborate
    import cnnc.dsl.expressions
    import cnnc.dsl.lint
    import cnnc.dsl.loader
    import cnnc.dsl.syntax

    for module in (cnnc.dsl, cnnc.dsl.syntax, cnnc.dsl.expressions, cnnc.dsl.loader, cnnc.dsl.elaborate,
                   cnnc.dsl.analysis, cnnc.dsl.lint):
        assert not [name for name in vars(module) if name.startswith("MAX_")], module.__name__


def _import_chain(tmp_path, depth: int) -> str:
    for i in range(depth):
        (tmp_path / f"m{i}.cnn").write_text(f'import "m{i + 1}.cnn"\nblock B{i}() {{ relu }}\n')
    (tmp_path / f"m{depth}.cnn").write_text("block Last() { relu }\n")
    main = tmp_path / "main.cnn"
    main.write_text('import "m0.cnn"\nnetwork N { input 3x8x8; B0() }\n')
    return str(main)


# every limit that used to be a module global: (field, a low value, the text that exceeds it)
PER_CALL = {
    "max_tokens": (20, net("    relu\n" * 30)),
    "max_source_nesting": (20, net("    " + "{" * 30 + "relu" + "}" * 30)),
    "max_digits": (5, net("    if 1234567 > 0 { relu }")),
    "max_int": (1000, net("    if 3000 * 3000 > 0 { relu }")),
    "max_list": (10, net("    for i in range(50) { }")),
    "max_list_depth": (2, net("    for i in [[[[1]]]] { }")),
    "max_work": (1000, net("    for i in range(999) { if range(999) == range(999) { } }")),
    "max_params": (100, net("    conv(64, 3x3)")),
}


@pytest.mark.parametrize("field", sorted(PER_CALL) + ["max_file_bytes", "max_import_depth"])
def test_two_calls_with_different_limits_do_not_affect_each_other(field, tmp_path):
    """A low limit fails its own call only: the default call before and after it succeeds, and a
    second low call fails again (nothing is left behind in the process)."""
    if field in PER_CALL:
        low, text = PER_CALL[field]
        call = lambda limits=None: dsl.build(text=text, limits=limits)  # noqa: E731
    elif field == "max_file_bytes":
        low, path = 20, tmp_path / "net.cnn"
        path.write_text(net("    relu"))
        call = lambda limits=None: dsl.build(path, limits=limits)  # noqa: E731
    else:
        low, path = 1, _import_chain(tmp_path, 3)
        call = lambda limits=None: dsl.build(path, limits=limits)  # noqa: E731
    for _ in range(2):
        call()
        with pytest.raises(CnnError) as caught:
            call(Limits().replace(**{field: low}))
        located = caught.value.span is not None or field == "max_file_bytes"  # that one names the file
        assert located, caught.value.render()
    call()


def test_limits_in_threads_stay_apart():
    """Two threads building at the same time, one with a low token limit: each sees its own."""
    import threading

    text, results = net("    relu\n" * 30), {"low": [], "default": []}

    def work(kind):
        for _ in range(20):
            try:
                dsl.build(text=text, limits=Limits(max_tokens=20) if kind == "low" else None, networkx=False)
                results[kind].append("ok")
            except LimitError:
                results[kind].append("limit")

    threads = [threading.Thread(target=work, args=(kind,)) for kind in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"low": ["limit"] * 20, "default": ["ok"] * 20}


def test_a_limit_set_on_the_command_line_is_for_that_command_only(tmp_path, capsys):
    from cnnc.cli import main

    big = tmp_path / "big.cnn"
    big.write_text(net("    relu\n" * 30))
    assert main(["check", str(big), "--limit", "max_tokens=20"]) == 1
    assert "the file has more than 20 tokens" in capsys.readouterr().err
    assert main(["check", str(big)]) == 0  # was process-wide: the next call still saw 20


# ---- parameters: a located limit before anything is allocated ---------------------------------------

def test_absurd_parameter_counts_are_refused_before_allocation():
    import cnnc

    text = net("    flatten; linear(16777216); linear(16777216)")
    error = error_of(text)
    assert isinstance(error, LimitError) and (error.span.line, error.span.column) == (4, 32)
    assert error.message == ("the network holds 281,478,231,490,560 parameters and buffers (1.0 PiB as "
                             "float32), more than the limit of 4,294,967,296 (16.0 GiB); linear `2` "
                             "(281,474,993,487,872) crosses it")
    assert "--limit max_params=N" in error.hint
    with pytest.raises(LimitError):  # the module is never built: torch would allocate 1 PiB
        cnnc.load(text)
    assert dsl.build(text=text, limits=Limits(max_params=2 ** 50)).graph["totals"]["params"] == 281_478_231_490_560


# ---- the lint pass and command-line values spend the same budget ---------------------------------------

BOMB = "(range(99990) == " * 150 + "0" + ")" * 150  # 2.6 KB; 15 million list items if evaluated


def test_a_constant_condition_bomb_in_an_unused_block_is_bounded():
    """Lint evaluates constant conditions, also in blocks the network never uses; within the build's
    budget, so the 2.6 KB condition stops at Limits.max_work items (it took 600 MB unbounded)."""
    import time

    text = "block B() { if " + BOMB + " { relu } }\n" + net("    relu")
    start = time.process_time()
    graph = dsl.build(text=text, limits=Limits(max_work=200_000))
    assert time.process_time() - start < 0.5
    assert [w.code for w in graph.graph["warnings"]] == []  # the check was cut short, not the build


def test_a_set_value_bomb_is_bounded():
    with pytest.raises(LimitError, match="too many list items"):
        dsl.parse_value(BOMB, Limits(max_work=200_000))
    with pytest.raises(LimitError, match="too many list items"):
        dsl.parse_shape(BOMB, Limits(max_work=200_000))


# ---- labels: one path, one item -------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "    concat { x: B() } | { x: { b: tanh } }",
    "    add { x: B() } | x: { b: sigmoid }",
    "    x: B(); output x { b: relu }",
    "    add { x: B() } | { x: C() }",
])
def test_a_label_naming_a_block_instance_and_a_group_is_a_located_error(body):
    """`x` was both a block instance and a group (or a side head, or another block's instance):
    check accepted it and compile crashed with a KeyError."""
    error = error_of(net(body, head="block B() { a: relu }\nblock C() { b: relu }"))
    assert error.message == "two items are both named `x`"
    assert error.notes[0].message == "the first one"


def test_reusing_a_label_in_a_condition_branch_still_works():
    graph = dsl.build(text=net("    if in.h > 4 { x: { relu } } else { x: { tanh } }"))
    assert "x.0" in graph


# ---- imports stay home -------------------------------------------------------------------------------

def test_a_users_file_imports_the_shipped_blocks(tmp_path):
    (tmp_path / "mine.cnn").write_text('import "resnet50.cnn"\n'
                                       "network Mine { input 3x64x64; conv(64, 1x1); Bottleneck(16) }\n")
    graph = dsl.build(str(tmp_path / "mine.cnn"))
    assert graph.nodes["1.conv3"]["shape"] == (64, 64, 64)


def test_a_misspelt_shipped_name_gets_a_suggestion(tmp_path):
    (tmp_path / "mine.cnn").write_text('import "resnet5O.cnn"\nnetwork Mine { input 3x64x64; relu }\n')
    with pytest.raises(FileError, match="no such file") as caught:
        dsl.build(str(tmp_path / "mine.cnn"))
    assert caught.value.hint == "did you mean `resnet50.cnn`?"
    with pytest.raises(FileError, match="no such file: resnet5O") as caught:  # a shipped name on the command line
        dsl.build("resnet5O")
    assert caught.value.hint == "did you mean the shipped network `resnet50`?"


@pytest.mark.parametrize("target, message", [
    ("/proc/self/environ", "an import names a .cnn file, not '/proc/self/environ'"),
    ("../../etc/passwd", "an import names a .cnn file, not '../../etc/passwd'"),
    ("/etc/passwd.cnn", "an import is a relative path, not '/etc/passwd.cnn'"),
])
def test_imports_read_nothing_but_cnn_files(tmp_path, target, message):
    (tmp_path / "main.cnn").write_text(f'import "{target}"\nnetwork N {{ input 3x8x8; relu }}\n')
    with pytest.raises(FileError) as caught:
        dsl.build(str(tmp_path / "main.cnn"))
    assert caught.value.message == message
    assert "PATH=" not in caught.value.render() and "root:" not in caught.value.render()


def test_imports_on_the_search_path(tmp_path, capsys):
    from cnnc.cli import main

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "parts.cnn").write_text("block Part() { conv(4, 1x1) }\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "net.cnn").write_text('import "parts.cnn"\nnetwork N { input 3x8x8; Part() }\n')
    with pytest.raises(FileError, match="no such file"):
        dsl.build(str(tmp_path / "app" / "net.cnn"))
    assert dsl.build(str(tmp_path / "app" / "net.cnn"), search_path=[tmp_path / "lib"]).nodes["0.0"]["params"] == 16
    assert main(["check", str(tmp_path / "app" / "net.cnn"), "--path", str(tmp_path / "lib")]) == 0
    assert "N: 16 params" in capsys.readouterr().out
    (tmp_path / "app" / "up.cnn").write_text('import "../parts.cnn"\nnetwork N { input 3x8x8; relu }\n')
    with pytest.raises(FileError, match="no such file"):  # a search directory is not climbed out of
        dsl.build(str(tmp_path / "app" / "up.cnn"), search_path=[tmp_path / "lib" / "sub"])


# ---- the command line: where a value came from; usage and internal errors apart -------------------------

@pytest.mark.parametrize("argv, status, message", [
    (["--limit", "max_nodes=1__0"], 2, "cnnc: error: --limit expects NAME=N with N a positive whole number"),
    (["--limit", "max_nodes=1\u00b2"], 2, "cnnc: error: --limit expects NAME=N with N a positive whole number"),
    (["--limit", "max_nodes=\u0661\u0660"], 2, "cnnc: error: --limit expects NAME=N"),  # Arabic-Indic digits
    (["--limit", "max_nodes=1_000"], 0, ""),
    (["--input", "0x8x8"], 1, "error: --input: an input shape is CxHxW (e.g. 3x224x224) or a feature count, "
                              "every dimension at least 1; got [0, 8, 8]"),
    (["--input", "x=0x8x8"], 1, "error: --input x: an input shape is CxHxW"),
    (["--network", "Q"], 1, "error: --network Q: "),
    (["--set", "v=[1,"], 1, "--set v:1:4: error: unexpected end of file"),
])
def test_command_line_values_say_where_they_came_from(tmp_path, capsys, argv, status, message):
    from cnnc.cli import main

    (tmp_path / "n.cnn").write_text("network N(v = 1) { input 3x8x8; relu }\n")
    assert main(["check", str(tmp_path / "n.cnn"), *argv]) == status
    err = capsys.readouterr().err
    assert err.startswith(message) and "Traceback" not in err, err


def test_internal_errors_have_their_own_exit_status(monkeypatch, capsys):
    from cnnc import cli

    def broken(args):
        raise RuntimeError("a bug in cnnc")

    monkeypatch.setitem(cli.COMMANDS, "check", broken)
    assert cli.main(["check", "examples/tiny_cnn.cnn"]) == 70
    err = capsys.readouterr().err
    assert err.startswith("cnnc: internal error, please report it") and "RuntimeError: a bug in cnnc" in err
    with pytest.raises(SystemExit) as caught:  # argparse's own usage errors are 2 as well
        cli.main(["check", "--no-such-option"])
    assert caught.value.code == 2
    assert "70 an internal error" in (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "70  cnnc itself is wrong" in cli.__doc__


def test_an_export_torch_cannot_do_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("onnxscript")
    from cnnc.cli import main

    (tmp_path / "n.cnn").write_text("network N { input 3x9x9; adaptive_maxpool(2x2); flatten; linear(10) }\n")
    assert main(["compile", str(tmp_path / "n.cnn"), "--format", "onnx", "-o", str(tmp_path / "n.onnx")]) == 1
    err = capsys.readouterr().err
    assert "error: torch cannot export this network to ONNX: " in err and "adaptive_max_pool2d" in err
    assert "Traceback" not in err and not (tmp_path / "n.onnx").exists()
