"""Warnings: lossy strides, constant conditions, unused values. Not errors; `-q` silences them."""
import pytest

from cnnc import dsl
from cnnc.dsl.lint import dropped

from cnnc.fuzz import run_cli
from conftest import ARCHS, EXAMPLES

CORPUS_FILES = ARCHS + EXAMPLES


def warnings_of(text: str, **kwargs) -> list:
    return dsl.build(text=text, **kwargs).graph["warnings"]


def codes(text: str, **kwargs) -> list[str]:
    return [w.code for w in warnings_of(text, **kwargs)]


def net(body: str, shape: str = "3x32x32", head: str = "") -> str:
    return f"{head}\nnetwork N {{\n    input {shape}\n{body}\n}}\n"


# ---- lossy strides ------------------------------------------------------------------------------

@pytest.mark.parametrize("size, kernel, stride, pad, dilation, lost", [
    (7, 2, 2, 0, 1, 1),     # maxpool 2x2 on 7: row 6 is never read
    (8, 2, 2, 0, 1, 0),
    (224, 7, 2, 3, 1, 0),   # ResNet's stem reads every row (the last window is padding-aligned)
    (56, 3, 2, 1, 1, 0),
    (10, 3, 4, 0, 1, 1),    # windows 0-2, 4-6: rows 7 (and 3) skipped; 3 < 4: subsampling, not reported
    (10, 5, 4, 0, 1, 1),    # windows 0-4, 4-8: row 9 lost
    (11, 3, 3, 0, 1, 2),    # windows 0-2, 3-5, 6-8: rows 9 and 10 lost
    (56, 1, 2, 0, 1, 0),    # a 1x1 stride-2 shortcut: gaps by design
    (9, 3, 2, 0, 2, 0),     # dilated: reach 5, windows 0-4, 2-6, 4-8
    (10, 3, 2, 0, 2, 1),
])
def test_dropped_rows(size, kernel, stride, pad, dilation, lost):
    expected = 0 if dilation * (kernel - 1) + 1 < stride else lost
    assert dropped(size, kernel, stride, pad, dilation) == expected


def brute_force_dropped(size, kernel, stride, pad, dilation):
    """Rows after the last one any window reads, by enumerating the windows (the oracle)."""
    reach = dilation * (kernel - 1) + 1
    out = (size + 2 * pad - reach) // stride + 1
    read = {start + dilation * k - pad for start in range(0, out * stride, stride) for k in range(kernel)}
    last = max(r for r in read if 0 <= r < size)
    return size - 1 - last


@pytest.mark.parametrize("size", range(5, 40))
@pytest.mark.parametrize("kernel, stride, pad, dilation", [(2, 2, 0, 1), (3, 2, 1, 1), (3, 2, 0, 1),
                                                           (5, 3, 2, 1), (3, 3, 0, 2), (7, 4, 3, 1)])
def test_dropped_rows_match_brute_force(size, kernel, stride, pad, dilation):
    if size + 2 * pad < dilation * (kernel - 1) + 1:
        return
    assert dropped(size, kernel, stride, pad, dilation) == brute_force_dropped(size, kernel, stride, pad, dilation)


def test_lossy_stride_names_the_layer_and_what_is_lost():
    [warning] = warnings_of(net("    pool1: maxpool(2x2)", shape="3x7x8"))
    assert warning.code == "lossy-stride"
    assert warning.message == "maxpool `pool1`: stride 2 on a 7x8 input never reads the last 1 row"
    assert (warning.span.line, warning.span.column) == (4, 12)


def test_lossy_stride_in_a_block_used_many_times_warns_once():
    head = "block B() { conv(4, 3x3, stride=3) }"
    [warning] = warnings_of(net("    B(); B()", shape="4x11x11", head=head)[:-3] + "; conv(4, 1x1, stride=1) }\n")
    assert "never reads the last 2 rows and the last 2 columns" in warning.message
    assert "`0.0`" in warning.message


def test_no_lossy_warning_for_ceil_mode_same_padding_or_global_pools():
    assert codes(net("    maxpool(2x2, ceil=true); conv(4, 3x3, pad=same); avgpool(global)", shape="3x7x7")) == []


# ---- constant conditions ------------------------------------------------------------------------

@pytest.mark.parametrize("condition, message", [
    ("1 > 2", "the condition is always false: its body is never taken"),
    ("false", "the condition is always false: its body is never taken"),
    ("len([1, 2]) == 2", "the condition is always true: the `if` is not needed"),
    ('"M" == "M"', "the condition is always true: the `if` is not needed"),
])
def test_constant_conditions(condition, message):
    [warning] = warnings_of(net(f"    if {condition} {{ relu }}"))
    assert warning.code == "constant-condition" and warning.message == message
    assert (warning.span.line, warning.span.column) == (4, 8)


def test_constant_condition_with_else_names_the_dead_branch():
    [warning] = warnings_of(net("    if 2 > 1 { relu } else { tanh }"))
    assert warning.message == "the condition is always true: its `else` branch is never taken"
    assert warning.notes[0].span.column == 28


@pytest.mark.parametrize("condition", ["in.channels > 2", "c > 1", "c > 1 or 1 > 2", "c == 2 and 1 > 0"])
def test_conditions_on_parameters_or_the_input_are_not_constant(condition):
    text = f"network N(c = 2) {{ input 3x8x8; if {condition} {{ relu }} }}"
    assert codes(text) == []


def test_constant_condition_in_an_unused_block_and_in_loops():
    text = net('    for v in [1, "M"] { if v == "M" { relu } }', head="block B() { if true { relu } else { tanh } }")
    assert codes(text) == ["constant-condition"]


# ---- unused values ------------------------------------------------------------------------------

def test_unused_value():
    [warning] = warnings_of(net("    conv(4, 3x3) -> features\n    relu"))
    assert warning.code == "unused-value" and warning.message == "value `features` is never used"


def test_used_value_is_not_reported():
    assert codes(net("    conv(4, 3x3) -> f\n    concat { @f } | { identity }")) == []


# ---- the command line ----------------------------------------------------------------------------

def test_warnings_go_to_stderr_and_q_silences_them(tmp_path):
    path = tmp_path / "w.cnn"
    path.write_text(net("    maxpool(2x2) -> x\n    if 1 > 2 { relu }", shape="3x7x7"))
    status, out, err, _ = run_cli(["check", str(path)])
    assert status == 0 and ": ok: " in out
    assert [line.split(": warning: ")[0] for line in err.splitlines() if ": warning: " in line] == [
        f"{path}:4:5", f"{path}:4:5", f"{path}:5:8"]  # unused value, lossy stride, constant condition
    for flag in ("-q", "--no-warnings"):
        status, out, err, _ = run_cli(["check", flag, str(path)])
        assert status == 0 and err == ""


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_the_zoo_and_examples_are_warning_free(path):
    if path.name == "blocks.cnn":
        return
    assert [w.render() for w in dsl.build(str(path)).graph["warnings"]] == []


# ---- unused layers ------------------------------------------------------------------------------

def test_a_layer_nothing_reads_is_an_unused_layer():
    """`conv; @input; relu`: the conv's output reaches no output (its parameters and time are wasted)."""
    (warning,) = warnings_of(net("    dead: conv(8, 3x3)\n    @input\n    relu"))
    assert (warning.code, warning.message) == ("unused-layer", "conv `dead`: its output reaches no output of "
                                                               "the network")
    assert (warning.span.line, warning.span.column) == (4, 11)


def test_one_unused_layer_warning_per_source_site():
    text = net("    repeat 3 { tanh; @input }")
    (warning,) = warnings_of(text)
    assert warning.message == "tanh `0` (and 2 more): its output reaches no output of the network"


def test_side_heads_are_used():
    assert codes(net("    output aux { flatten; linear(10) }\n    relu")) == []


@pytest.mark.parametrize("layer, extents", [
    ("c: conv(4, 3x3, stride=300, pad=tf_same)", "10x10"),  # at most the window's reach - 1 of padding
    ("c: maxpool(3x3, stride=300, ceil=true)", "8x8"),
    ("c: maxpool(3x3, stride=300, pad=1, ceil=true)", "10x10"),
])
def test_oversized_stride_covers_same_padding_and_ceil_mode(layer, extents, tmp_path):
    [warning] = warnings_of(net("    " + layer, shape="3x8x8"))
    assert warning.code == "oversized-stride" and f"the padded {extents} input" in warning.message
    from cnnc.fuzz_exec import execute

    path = tmp_path / "s.cnn"
    path.write_text(net("    " + layer.replace("300", "16777217") + "; relu", shape="3x8x8"))
    assert execute(str(path)).startswith("skipped (stride past the input")


def test_oversized_stride_warns_and_the_fuzzer_does_not_run_its_slow_backward(tmp_path):
    """torch's conv backward takes time in proportion to the stride (16,777,217 hung a fuzz run)."""
    [warning] = warnings_of(net("    c: conv(4, 3x3, stride=300, pad=1)", shape="3x8x8"))
    assert warning.code == "oversized-stride"
    assert warning.message == ("conv `c`: stride 300x300 is longer than the padded 10x10 input: "
                               "only its first window is computed")
    # a small stride past a small map (ResNet's last stage at a small --input) is not reported
    assert warnings_of(net("    c: conv(4, 1x1, stride=2); conv(4, 1x1, stride=256)", shape="3x1x1")) == []
    from cnnc.fuzz_exec import execute

    path = tmp_path / "s.cnn"
    path.write_text(net("    c: conv(4, 3x3, stride=16777217, pad=1); relu", shape="3x8x8"))
    assert execute(str(path)).startswith("skipped (stride past the input")
