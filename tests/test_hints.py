"""The exact text of the hints for habits carried over from Python, PyTorch and Keras, and of the
messages for command-line values in the wrong form. Each case: a file (or an option), the exit
status, and what cnnc prints on stderr (or stdout)."""
import pytest

from cnnc.cli import main

NET = "network N(classes = 10) {\n    input 3x32x32\n    flatten\n    linear(classes)\n}\n"

CASES = {
    "tuple_size": ("network N {\n    input 3x32x32\n    conv(16, (3, 3))\n}\n", """\
tuple_size.cnn:3:16: error: unexpected `,`; expected `)`
    3 |     conv(16, (3, 3))
      |                ^
  hint: write a size as `3x3`, not `(3, 3)`
"""),
    "python_bool": ("network N {\n    input 3x32x32\n    conv(16, 3x3, bias=False)\n}\n", """\
python_bool.cnn:3:24: error: unknown name `False`
    3 |     conv(16, 3x3, bias=False)
      |                        ^^^^^
  hint: true and false are lowercase: `false`
"""),
    "assignment_label": ("network N {\n    input 3x32x32\n    conv1 = conv(16, 3x3)\n    relu\n}\n", """\
assignment_label.cnn:3:11: error: unexpected `=`; expected one of `(`, `->`, `:`, `;`, `@`, `{`, `|`, `}`, ...
    3 |     conv1 = conv(16, 3x3)
      |           ^
  hint: label a layer with `:`, e.g. `conv1: conv(16, 3x3)`
"""),
    "residual_stride_and_channels": ("network N {\n    input 64x56x56\n"
                                     "    add { conv(256, 3x3, stride=2, pad=1) } | {}\n}\n", """\
residual_stride_and_channels.cnn:3:5: error: add: branch shapes differ: 256x28x28 vs 64x56x56
    3 |     add { conv(256, 3x3, stride=2, pad=1) } | {}
      |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  hint: the main branch outputs 256x28x28 and the shortcut 64x56x56; project the shortcut with a 1x1 conv \
to 256 channels at stride 2
"""),
    "residual_stride": ("network N {\n    input 64x56x56\n    add { conv(64, 3x3, stride=2, pad=1) } | {}\n}\n", """\
residual_stride.cnn:3:5: error: add: branch shapes differ: 64x28x28 vs 64x56x56
    3 |     add { conv(64, 3x3, stride=2, pad=1) } | {}
      |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  hint: the main branch outputs 64x28x28 and the shortcut 64x56x56; give the shortcut stride 2
"""),
    "residual_global_pool": ("network N {\n    input 64x56x56\n    add { avgpool(global) } | {}\n}\n", """\
residual_global_pool.cnn:3:5: error: add: branch shapes differ: 64x1x1 vs 64x56x56
    3 |     add { avgpool(global) } | {}
      |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  hint: `add` does not broadcast a 1x1 branch; every branch must output the same shape
"""),
    "same_at_stride_2": ("network N {\n    input 3x224x224\n    conv(64, 7x7, stride=2, pad=same)\n}\n", """\
same_at_stride_2.cnn:3:29: error: conv `0`: pad=same needs stride 1 (torch refuses it for a strided conv); at \
stride 2 the padding is uneven
    3 |     conv(64, 7x7, stride=2, pad=same)
      |                             ^^^^^^^^
  hint: write pad=tf_same for TensorFlow/Keras's 'same' (output = ceil(size / stride), the extra row and column \
at the bottom and right), or pad=3 (the same output size, padded evenly)
"""),
    "no_open_paren": ("network N {\n    input 8x8x8 16\n}\n", """\
no_open_paren.cnn:2:17: error: unexpected `16`; expected one of `!=`, `%`, `(`, `)`, `*`, `+`, `,`, `->`, ...
    2 |     input 8x8x8 16
      |                 ^^
"""),
    "empty": ("", """\
empty.cnn:1:1: error: empty.cnn defines nothing
    1 | 
      | ^
  hint: a network reads `network Name { input 3x224x224; ... }`
"""),
}


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("name", CASES)
def test_hint(name, here, capsys):
    text, expected = CASES[name]
    (here / f"{name}.cnn").write_text(text)
    assert main(["check", f"{name}.cnn"]) == 1
    captured = capsys.readouterr()
    assert captured.err == expected and captured.out == ""


def test_separate_arguments_hint_stays_inside_parentheses(here, capsys):
    (here / "args.cnn").write_text("network N {\n    input 3x8x8\n    conv(16 3x3)\n}\n")
    assert main(["check", "args.cnn"]) == 1
    assert capsys.readouterr().err.endswith("  hint: separate arguments with `,`\n")


def test_tiny_mac_counts_are_whole_numbers(here, capsys):
    (here / "tiny.cnn").write_text("network N {\n    input 1x2x2\n    conv(1, 1x1)\n}\n")
    assert main(["check", "tiny.cnn"]) == 0
    assert capsys.readouterr().out == "tiny.cnn: ok: N: 2 params, 4 MACs -> [N, 1, 2, 2]\n"


def test_set_a_bare_word_says_how_to_pass_a_string(here, capsys):
    (here / "net.cnn").write_text(NET)
    assert main(["check", "net.cnn", "--set", "classes=ten"]) == 1
    assert capsys.readouterr().err == ("cnnc: error: --set classes=ten: `ten` is not a number, list or true/false; "
                                       "to pass a string, quote it: --set 'classes=\"ten\"'\n")


def test_input_with_commas_gets_the_format(here, capsys):
    (here / "net.cnn").write_text(NET)
    assert main(["check", "net.cnn", "--input", "3,224,224"]) == 1
    assert capsys.readouterr().err == ("error: an input shape is CxHxW or a feature count; got '3,224,224'\n"
                                       "  hint: write 3x224x224\n")


def test_channels_last_input_warns(here, capsys):
    (here / "net.cnn").write_text(NET)
    assert main(["check", "net.cnn", "--input", "224x224x3"]) == 0
    captured = capsys.readouterr()
    assert captured.err == """\
net.cnn:2:5: warning: input `input` is 224x224x3: 224 channels of 224x3 pixels (as overridden)
    2 |     input 3x32x32
      |     ^^^^^^^^^^^^^
  hint: shapes are channels first, CxHxW: did you mean 3x224x224?
"""
    assert captured.out == "net.cnn: ok: N: 1,505,290 params, 1.51 MMACs -> [N, 10]\n"
    assert main(["check", "net.cnn", "--input", "3x224x224"]) == 0
    assert capsys.readouterr().err == ""
