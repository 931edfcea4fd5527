"""The exact text of every kind of diagnostic: a located message, the source line, a caret
underline, use-site notes for errors inside blocks, and a hint where one helps. Exit code 1."""
import pytest

from cnnc.cli import main

CASES = {
    "add": (
        """\
block Bottleneck(width, stride = 1) {
    add {
        conv(width, 1x1)
        conv(4 * width, 3x3, stride=stride, pad=1)
    } | {}
    relu
}

network N {
    input 64x56x56
    Bottleneck(64)
}
""",
        """\
add.cnn:2:5: error: add: branch shapes differ: 256x56x56 vs 64x56x56
    2 |     add {
      |     ^^^^^
  note: in Bottleneck(64) at add.cnn:11:5
  hint: the main branch outputs 256x56x56 and the shortcut 64x56x56; project it with a 1x1 conv
"""),
    "char": (
        """\
network N {
    input 3x32x32
    conv(16, 3x3, pad='same')
}
""",
        """\
char.cnn:3:23: error: unexpected character "'"
    3 |     conv(16, 3x3, pad='same')
      |                       ^
  hint: strings use double quotes
"""),
    "collapse": (
        """\
network N {
    input 3x8x8
    conv(16, 3x3)
    maxpool(2x2)
    conv(16, 5x5)
}
""",
        """\
collapse.cnn:5:5: error: conv `2`: the input 16x3x3 is too small: the output would be -1x-1
    5 |     conv(16, 5x5)
      |     ^^^^^^^^^^^^^
  hint: the input is too small for this layer; use a larger --input or less downsampling
"""),
    "concat": (
        """\
network N {
    input 3x32x32
    concat { conv(8, 3x3) } | { conv(8, 3x3, pad=1) }
}
""",
        """\
concat.cnn:3:5: error: concat: branch sizes differ: 8x30x30 vs 8x32x32
    3 |     concat { conv(8, 3x3) } | { conv(8, 3x3, pad=1) }
      |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  hint: concat joins channels; every branch must keep the same height and width
"""),
    "cond": (
        """\
network N {
    input 3x32x32
    if 3 { relu }
}
""",
        """\
cond.cnn:3:8: error: a condition must be true or false, got 3
    3 |     if 3 { relu }
      |        ^
  hint: compare explicitly, e.g. `stride != 1`
"""),
    "division": (
        """\
network N(classes = 10) {
    input 3x32x32
    flatten
    linear(classes / 2)
}
""",
        """\
division.cnn:4:12: error: linear: out must be an integer, got 5.0
    4 |     linear(classes / 2)
      |            ^^^^^^^^^^^
  hint: use `//` for integer division
"""),
    "dup": (
        """\
network N {
    input 3x32x32
    c: conv(8, 3x3)
    c: conv(8, 3x3)
}
""",
        """\
dup.cnn:4:8: error: two layers are both named `c`
    4 |     c: conv(8, 3x3)
      |        ^^^^^^^^^^^^
  note: the first one at dup.cnn:3:8
  hint: labels must be unique in their block; inside `repeat` or `for`, leave the layer unlabelled so it is numbered
"""),
    "duprep": (
        """\
network N {
    input 3x32x32
    repeat 2 { c: conv(8, 3x3) }
}
""",
        """\
duprep.cnn:3:19: error: two layers are both named `c`
    3 |     repeat 2 { c: conv(8, 3x3) }
      |                   ^^^^^^^^^^^^
  note: the first one at duprep.cnn:3:19
  hint: labels must be unique in their block; inside `repeat` or `for`, leave the layer unlabelled so it is numbered
"""),
    "eof": (
        """\
network N {
    input 3x32x32
    conv(16, 3x3)
""",
        """\
eof.cnn:3:18: error: unexpected end of file; expected `}`
    3 |     conv(16, 3x3)
      |                  ^
  note: this `{` is never closed at eof.cnn:1:11
"""),
    "flat": (
        """\
network N {
    input 3x32x32
    flatten
    conv(8, 3x3)
}
""",
        """\
flat.cnn:4:5: error: conv `1`: needs a feature map CxHxW, got a flat vector of 3072
    4 |     conv(8, 3x3)
      |     ^^^^^^^^^^^^
  hint: put it before `flatten`, or drop the flatten
"""),
    "imp": (
        """\
import "nope.cnn"
network N {
    input 3x32x32
}
""",
        """\
imp.cnn:1:1: error: no such file: nope.cnn
    1 | import "nope.cnn"
      | ^^^^^^^^^^^^^^^^^
  hint: looked next to the importing file and among the shipped networks
"""),
    "junk": (
        """\
network N {
    input 3x32x32
    conv(8, 3x3) x
}
""",
        """\
junk.cnn:3:18: error: unknown layer or block `x`
    3 |     conv(8, 3x3) x
      |                  ^
  hint: see `cnnc ops` for the built-in layers
"""),
    "linear": (
        """\
network N {
    input 3x32x32
    linear(10)
}
""",
        """\
linear.cnn:3:5: error: linear `0`: needs a flat vector, got a feature map 3x32x32
    3 |     linear(10)
      |     ^^^^^^^^^^
  hint: add `flatten` (or a global pool) before `linear`; for each pixel's channels, permute([0, 2, 3, 1]) first
"""),
    "missing": (
        """\
block B(w) { conv(w, 3x3) }
network N {
    input 3x32x32
    B()
}
""",
        """\
missing.cnn:4:5: error: block B needs argument `w`
    4 |     B()
      |     ^^^
  note: defined here at missing.cnn:1:7
  hint: its parameters: w
"""),
    "nonpositive": (
        """\
network N {
    input 3x32x32
    conv(0, 3x3)
}
""",
        """\
nonpositive.cnn:3:10: error: conv: out must be at least 1, got 0
    3 |     conv(0, 3x3)
      |          ^
"""),
    "recursion": (
        """\
block Down(n) {
    conv(8, 3x3, pad=1)
    Down(n - 1)
}
network N {
    input 3x32x32
    Down(3)
}
""",
        """\
recursion.cnn:3:5: error: block Down calls itself without end (64 levels deep)
    3 |     Down(n - 1)
      |     ^^^^^^^^^^^
  note: in Down(n - 1) at recursion.cnn:3:5 (63 times)
  note: in Down(3) at recursion.cnn:7:5
  hint: make the recursion stop with an `if` on a parameter
"""),
    "ref": (
        """\
network N {
    input 3x32x32
    @skip
}
""",
        """\
ref.cnn:3:5: error: unknown value `@skip`
    3 |     @skip
      |     ^^^^^
  hint: name a value first with `-> name` after an item
"""),
    "syntax": (
        """\
network N {
    input 3x32x32
    conv(16, 3x3
    relu
}
""",
        """\
syntax.cnn:4:5: error: unexpected `relu`; expected one of `)`, `,`
    4 |     relu
      |     ^^^^
  hint: separate arguments with `,`
"""),
    "syntax_token": (
        """\
network N {
    input 3x32x32
    conv(16, 3x3) |
}
""",
        """\
syntax_token.cnn:3:19: error: unexpected `|`; expected a statement or `}`
    3 |     conv(16, 3x3) |
      |                   ^
"""),
    "unknown_arg": (
        """\
network N {
    input 3x32x32
    conv(16, 3x3, strde=2)
}
""",
        """\
unknown_arg.cnn:3:19: error: `conv` has no argument `strde`
    3 |     conv(16, 3x3, strde=2)
      |                   ^^^^^^^
  hint: did you mean `stride`?
"""),
    "unknown_layer": (
        """\
network N {
    input 3x32x32
    conv(16, 3x3)
    maxpol(2x2)
}
""",
        """\
unknown_layer.cnn:4:5: error: unknown layer or block `maxpol`
    4 |     maxpol(2x2)
      |     ^^^^^^
  hint: did you mean `maxpool`?
"""),
    "unknown_name": (
        """\
network N(width = 16) {
    input 3x32x32
    conv(widht, 3x3)
}
""",
        """\
unknown_name.cnn:3:10: error: unknown name `widht`
    3 |     conv(widht, 3x3)
      |          ^^^^^
  hint: did you mean `width`?
"""),
    "wrong_type": (
        """\
network N {
    input 3x32x32
    conv(16, 3x3, bias=1)
}
""",
        """\
wrong_type.cnn:3:19: error: conv: bias must be true or false, got 1
    3 |     conv(16, 3x3, bias=1)
      |                   ^^^^^^
"""),
    "wrong_type2": (
        """\
network N {
    input 3x32x32
    conv(16.5, 3x3)
}
""",
        """\
wrong_type2.cnn:3:10: error: conv: out must be an integer, got 16.5
    3 |     conv(16.5, 3x3)
      |          ^^^^
"""),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_diagnostic_text(name, tmp_path, monkeypatch, capsys):
    source, expected = CASES[name]
    monkeypatch.chdir(tmp_path)
    (tmp_path / f"{name}.cnn").write_text(source)
    assert main(["check", f"{name}.cnn"]) == 1
    captured = capsys.readouterr()
    assert captured.err == expected
    assert captured.out == ""

