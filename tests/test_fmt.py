"""`cnnc fmt`: the canonical layout, comments in place, aligned tables, idempotence, and meaning kept.

Meaning: for every shipped file the formatted file's summary JSON, generated Python and DOT are
byte-identical to the original's. fmt keeps the author's line breaks, so on the shipped files the
line map is the identity (asserted) and nothing is normalised. For the generated corpus (programs
with scrambled whitespace and comments) lines do move: there the original's line numbers are
mapped through the formatter's own line map (`path:N` in Python and DOT, `"line"` in JSON) and
everything else must be byte-identical.
"""
import random
import re
import subprocess
import sys

import pytest

from cnnc import dsl
from cnnc.cli import main
from cnnc.dsl.diagnostics import ParseError
from cnnc.dsl.fmt import format_source, format_with_map
from cnnc.dsl.syntax import parser
from conftest import ROOT
from cnnc.fuzz import program

SHIPPED = sorted((ROOT / "archs").glob("*.cnn")) + sorted((ROOT / "examples").glob("*.cnn"))


def artefacts(path: str, text: str | None = None) -> tuple[str, str, str]:
    from cnnc.graphviz_backend import render
    from cnnc.pysource import generate
    from cnnc.summary import to_json

    try:
        graph = dsl.build(path, text=text)
    except dsl.NoNetwork as library:  # examples/blocks.cnn: its meaning shows through mobilenet.cnn
        return (library.render(),)
    return to_json(graph), generate(graph), render(graph).source


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_files_are_formatted_and_idempotent(path):
    text = path.read_text()
    assert format_source(text, str(path)) == text, f"run: cnnc fmt {path.relative_to(ROOT)}"


def test_formatting_keeps_the_meaning_of_every_shipped_file(tmp_path, monkeypatch):
    """Format a copy of archs/ and examples/ from a deliberately unformatted state (every run of
    spaces collapsed, trailing `;` added), then compare all three outputs with the originals."""
    originals = {}
    for path in SHIPPED:
        relative = str(path.relative_to(ROOT))
        originals[relative] = artefacts(relative)
        target = tmp_path / relative
        target.parent.mkdir(exist_ok=True)
        target.write_text(_unformat(path.read_text()))
    monkeypatch.chdir(tmp_path)
    assert main(["fmt", "archs", "examples"]) == 0
    for relative, expected in originals.items():
        formatted = (tmp_path / relative).read_text()
        _, line_map = format_with_map((ROOT / relative).read_text(), relative)
        assert all(old[0] == new for old, new in line_map.items())  # fmt keeps the author's lines
        assert artefacts(relative) == expected, relative
        assert format_source(formatted, relative) == formatted


def _unformat(text: str) -> str:
    """The same program laid out carelessly: code's runs of spaces collapsed, and a `;` after each
    line that ends a statement (the next code line starts a new one)."""
    rows = text.split("\n")
    codes = [row.partition("#")[0].strip() if '"' not in row else row.strip() for row in rows]
    out = []
    for index, row in enumerate(rows):
        code, sep, comment = row.partition("#") if '"' not in row else (row, "", "")
        following = next((c for c in codes[index + 1:] if c), "")
        ends = re.search(r"[A-Za-z0-9_)\]}]$", code.strip()) and not re.search(r"\b(and|or|not|in)$", code.strip())
        starts = re.match(r"[A-Za-z_@{}]", following) and not re.match(r"(and|or|in|else|not)\b", following)
        if code.strip() and ends and (starts or not following):
            code = code.rstrip() + " ;"
        out.append(re.sub(r"(?<=\S) {2,}", " ", code) + sep + comment)
    return "\n".join(out)


def test_unformatted_copy_formats_back_to_the_tables_only_where_padded():
    # collapsing all padding loses the tables: fmt never invents one
    text = (ROOT / "archs" / "alexnet.cnn").read_text()
    formatted = format_source(_unformat(text))
    assert "conv1: conv(96, 11x11, stride=4);  relu\n" in formatted


# ---- the generated corpus: random programs, whitespace and comments scrambled ---------------

def scramble(rng, text: str) -> str:
    """The tokens of `text` joined by random whitespace and comments (meaning unchanged)."""
    from cnnc.dsl.fmt import _tokens

    parts = []
    for tok in _tokens(text):
        parts.append(tok.value)
        parts.append(rng.choice([" ", " ", "  ", "\n", "\t", "\n\n\n", " # note\n", "\n    # own line\n"]))
    return "".join(parts)


def _outcome(text: str):
    try:
        return dsl.build(None, text=text)
    except dsl.CnnError as error:
        return error


def _without_lines(graph) -> tuple[str, ...]:
    from cnnc.graphviz_backend import render
    from cnnc.pysource import generate
    from cnnc.summary import to_json

    return tuple(re.sub(r'"line": \d+|<string>:\d+', "LINE", text)
                 for text in (to_json(graph), generate(graph), render(graph).source))


def test_generated_programs_keep_their_meaning():
    rng = random.Random(14)
    built = errors = 0
    for _ in range(160):
        try:
            source = scramble(rng, program(rng))
        except Exception:  # noqa: BLE001 - the generator's rare invalid syntax (a <= b <= c)
            continue
        if "import" in source:
            continue
        try:
            formatted, line_map = format_with_map(source)
        except dsl.CnnError as error:  # nesting past the source limit (the generator goes there on purpose)
            assert "nests more than" in error.message, error.render()
            continue
        assert format_source(formatted) == formatted
        before, after = _outcome(source), _outcome(formatted)
        assert type(before) is type(after)
        if isinstance(before, dsl.CnnError):  # the same error, where its token went
            assert before.message == after.message
            assert line_map[(before.span.line, before.span.column)] == after.span.line
            errors += 1
            continue
        built += 1
        assert list(before.nodes) == list(after.nodes)
        for node, data in before.nodes(data=True):
            assert line_map[(data["span"].line, data["span"].column)] == after.nodes[node]["span"].line
        assert _without_lines(before) == _without_lines(after)
    assert built >= 10 and errors >= 10


# ---- the layout --------------------------------------------------------------------------------

EVERYTHING = '''\
# every construct of the grammar, laid out carelessly
import   "blocks.cnn" ;
block B ( w , s=1 , t = [ 1 ,2 ] ) {   # a block
  add { conv( w , 3x3 , stride = s ) ; relu ; } | short : if s!=1 or in.channels != w*2 { conv(w,1x1) }
  else if not ( s > 2 and -w < -1 or s == 1 and s<=2 and s>=0 ) { @x } else { }
  repeat s - 1 { relu }
  for a , b in [ [1,2] , [3 , 4] ] { conv(a * b + t[0] // 2 % 3 - 1 / 2, 1) }
  concat b1: Unit(w) | { } | @x
  { -> t ; relu } ;;
  mul { } | "b-1" : { relu }
  ( "l" + str( w ) ) : group { relu ; relu }
}
network N(classes=10) {
  input x: 3x32x32
  input 64
  output: conv(classes, 1x1, pad=same, bias=false, eps=1e-5, p=.5, q=2.5e3, r="M", u=min(1 , 2), v=true) -> z
  output aux { relu }
  x1: { relu }
  init conv . weight :kaiming_normal( mode = "fan_out" )
}
'''

CANONICAL = '''\
# every construct of the grammar, laid out carelessly
import "blocks.cnn"
block B(w, s = 1, t = [1, 2]) {  # a block
    add { conv(w, 3x3, stride=s);  relu } | short: if s != 1 or in.channels != w * 2 { conv(w, 1x1) } else if not (s > 2 and -w < -1 or s == 1 and s <= 2 and s >= 0) { @x } else {}
    repeat s - 1 { relu }
    for a, b in [[1, 2], [3, 4]] { conv(a * b + t[0] // 2 % 3 - 1 / 2, 1) }
    concat b1: Unit(w) | {} | @x
    { -> t;  relu }
    mul {} | "b-1": { relu }
    ("l" + str(w)): group { relu;  relu }
}
network N(classes = 10) {
    input x: 3x32x32
    input 64
    output: conv(classes, 1x1, pad=same, bias=false, eps=1e-5, p=.5, q=2.5e3, r="M", u=min(1, 2), v=true) -> z
    output aux { relu }
    x1: { relu }
    init conv.weight: kaiming_normal(mode="fan_out")
}
'''


def test_every_construct_has_one_canonical_layout():
    assert format_source(EVERYTHING) == CANONICAL
    assert format_source(CANONICAL) == CANONICAL


def test_the_sample_covers_every_rule_and_terminal_of_the_grammar():
    """New syntax must be added to EVERYTHING above (and so gets a canonical layout here)."""
    from lark import Tree

    tree = parser().parse(EVERYTHING, start="start")
    used_rules, used_terminals = set(), set()
    for node in tree.iter_subtrees():
        used_rules.add(node.data)
    for tok in tree.scan_values(lambda v: v is not None):
        used_terminals.add(tok.type)
    for tok in parser().parse_interactive(EVERYTHING, start="start").iter_parse():
        used_terminals.add(tok.type)
    grammar_rules = {str(rule.alias or rule.origin.name) for rule in parser().rules}
    inlined = {"expr", "atom", "postfix", "unary", "product", "sum", "comparison", "not_test", "and_test", "or_test"}
    assert not {r for r in grammar_rules if not r.startswith("_")} - {str(r) for r in used_rules} - inlined
    terminals = {t.name for t in parser().terminals if t.name != "COMMENT" and not t.name.startswith("__IGNORE")}
    assert not terminals - used_terminals
    assert isinstance(tree, Tree)


def test_comments_stay_in_place():
    text = ("# head\n\n\n\nnetwork N {   # trailing on the header\n  # own line, indented with the body\n"
            "  input 3x8x8 # after code\n\n\n  relu\n    # before the brace\n}\n# tail\n")
    assert format_source(text) == (
        "# head\n\nnetwork N {  # trailing on the header\n    # own line, indented with the body\n"
        "    input 3x8x8  # after code\n\n    relu\n    # before the brace\n}\n# tail\n")


def test_braces_and_else_join_the_line_before():
    text = "network N\n{\n input 3x8x8\n add { relu } |\n { relu }\n if true { relu }\n else { relu }\n}\n"
    assert format_source(text) == ("network N {\n    input 3x8x8\n    add { relu } | { relu }\n"
                                   "    if true { relu } else { relu }\n}\n")


def test_a_bar_that_starts_a_line_lines_its_branch_up_with_the_first():
    text = "network N {\ninput 3x8x8\n  concat { relu }\n| { relu }\n    |b: { relu }\n}\n"
    assert format_source(text) == ("network N {\n    input 3x8x8\n    concat { relu }\n"
                                   "         | { relu }\n         | b: { relu }\n}\n")


def test_a_body_that_spans_lines_opens_and_closes_on_its_own_lines():
    text = "network N { input 3x8x8\n  relu }\n"
    assert format_source(text) == "network N {\n    input 3x8x8\n    relu\n}\n"


def test_aligned_tables_are_kept_and_recomputed():
    text = ("network N {\n    input 3x8x8\n"
            "    a:   Blk( 1, 20)\n"
            "    bee: Blk(300, 4)   # widened row\n"
            "    relu\n"
            "    c:   Blk(5, 6)\n"
            "    x: conv(1, 1x1);           relu\n"
            "    yy: conv(100, 3x3, pad=1);  relu;  relu\n}\n")
    assert format_source(text) == (
        "network N {\n    input 3x8x8\n"
        "    a:   Blk(  1, 20)\n"
        "    bee: Blk(300, 4)  # widened row\n"
        "    relu\n"
        "    c:   Blk(  5, 6)\n"
        "    x:   conv(1, 1x1);           relu\n"
        "    yy:  conv(100, 3x3, pad=1);  relu;  relu\n}\n")


def test_rows_written_as_lists_keep_their_columns():
    text = ("network N(rows = [[1,  16, 1], [6,  24, 2],\n                   [6, 96, 3], [6, 160, 3]]) {\n"
            "    input 3x8x8\n}\n")
    assert format_source(text) == ("network N(rows = [[1, 16, 1], [6,  24, 2],\n"
                                   "                  [6, 96, 3], [6, 160, 3]]) {\n    input 3x8x8\n}\n")


def test_no_table_is_invented():
    text = "network N {\n input 3x8x8\n a: Blk(1, 20)\n bee: Blk(300, 4)\n x: relu;  relu\n yy: conv(1, 1);  relu\n}\n"
    assert format_source(text) == text.replace("\n ", "\n    ")


def test_continuation_lines_hang_or_align_with_their_bracket():
    text = "network N(a = [1, 2,\n3, 4], b = [\n5,\n6]) {\ninput 3x8x8\n}\n"
    assert format_source(text) == ("network N(a = [1, 2,\n               3, 4], b = [\n                   5,\n"
                                   "                   6]) {\n    input 3x8x8\n}\n")


def test_fmt_off_keeps_lines_verbatim():
    text = ("network N {\n  input 3x8x8\n  # fmt: off\n  relu ;   relu\n    relu\n  # fmt: on\n  relu ; relu\n}\n")
    assert format_source(text) == ("network N {\n    input 3x8x8\n  # fmt: off\n  relu ;   relu\n    relu\n"
                                   "  # fmt: on\n    relu;  relu\n}\n")


def test_a_semicolon_before_a_tap_on_the_next_line_is_kept():
    text = "network N {\n    input 3x8x8\n    relu;\n    -> a\n    @a\n}\n"
    assert format_source(text) == text


def test_syntax_error_is_located():
    with pytest.raises(ParseError) as error:
        format_source("network N {\n    conv(4,,3x3)\n}\n", "bad.cnn")
    assert str(error.value).startswith("bad.cnn:2:12: error: unexpected `,`")


# ---- the command line ----------------------------------------------------------------------------

def test_fmt_rewrites_in_place_and_check_lists_files(tmp_path, capsys):
    good = tmp_path / "good.cnn"
    bad = tmp_path / "messy.cnn"
    good.write_text("network N {\n    input 3x8x8\n}\n")
    bad.write_text("network N { input 3x8x8\nrelu ; }\n")
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    assert capsys.readouterr().out == f"would reformat {bad}\n"
    assert bad.read_text() == "network N { input 3x8x8\nrelu ; }\n"
    assert main(["fmt", "--diff", str(bad)]) == 0
    out = capsys.readouterr().out
    assert f"--- {bad} (original)\n+++ {bad} (formatted)\n" in out and "+    relu\n" in out
    assert main(["fmt", str(good), str(bad)]) == 0
    assert capsys.readouterr().err == f"reformatted {bad}\n"
    assert bad.read_text() == "network N {\n    input 3x8x8\n    relu\n}\n"
    assert main(["fmt", "--check", str(good), str(bad)]) == 0


def test_fmt_leaves_a_file_with_a_syntax_error_untouched(tmp_path, capsys):
    broken = tmp_path / "broken.cnn"
    broken.write_text("network N {\n  conv(4,,3x3)\n}\n")
    assert main(["fmt", str(broken)]) == 1
    assert broken.read_text() == "network N {\n  conv(4,,3x3)\n}\n"
    assert capsys.readouterr().err.startswith(f"{broken}:2:10: error: unexpected `,`")


def test_fmt_reads_standard_input():
    result = subprocess.run([sys.executable, "-m", "cnnc", "fmt", "-"], input="network N{input 3x8x8;relu;}",
                            capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "network N { input 3x8x8;  relu }\n")
