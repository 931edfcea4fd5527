"""Resource limits and hostile input: every case is a located CnnError, fast, never a traceback."""
import os
import time

import pytest

from cnnc import dsl
from cnnc.dsl.diagnostics import CnnError, FileError, LimitError, TypeError_
from cnnc.dsl.elaborate import Limits


def net(body: str, head: str = "", params: str = "") -> str:
    return f"{head}\nnetwork N{params} {{\n    input 3x8x8\n{body}\n}}\n"


def error_of(text: str, **kwargs) -> CnnError:
    start = time.perf_counter()
    with pytest.raises(CnnError) as caught:
        dsl.build(text=text, **kwargs)
    assert time.perf_counter() - start < 2.0, "a limit must fail fast"
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
    dsl.build(text=net("    " + "{" * 90 + "relu" + "}" * 90))
    dsl.build(text=net("    conv(" + " + ".join(["1"] * 150) + ", 3x3)"))


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
