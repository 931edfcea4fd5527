"""Highlighting: the Pygments lexer (entry point `cnn`) and the VS Code TextMate grammar, the latter
run by the real TextMate engine (vscode-textmate + vscode-oniguruma from npm; skipped without node or
without `npm install` in editors/vscode, which .ci/setup runs). On every shipped file the two
highlighters must agree, character by character, on what is a comment, string, number, built-in
layer, label, keyword or constant."""
import json
import shutil
import subprocess

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, String

from cnnc.highlight import CnnLexer, textmate_grammar
from conftest import ROOT

SHIPPED = sorted((ROOT / "archs").glob("*.cnn")) + sorted((ROOT / "examples").glob("*.cnn"))
VSCODE = ROOT / "editors" / "vscode"


def test_the_lexer_is_registered_for_cnn_files():
    assert isinstance(get_lexer_by_name("cnn"), CnnLexer)
    assert isinstance(get_lexer_for_filename("resnet50.cnn"), CnnLexer)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_lexes_without_errors(path):
    text = path.read_text()
    tokens = list(CnnLexer().get_tokens_unprocessed(text))
    assert not [value for _, kind, value in tokens if kind in Error]
    assert "".join(value for _, _, value in tokens) == text


def test_token_kinds_on_a_line():
    line = 'block B(w, stride = 1) { conv1: conv(w, 3x3, pad=same) -> x;  @x  # note\n'
    tokens = [(kind, value) for kind, value in CnnLexer().get_tokens(line) if value.strip()]
    P = Punctuation
    assert tokens == [
        (Keyword.Declaration, "block"), (Name.Class, "B"), (P, "("), (Name, "w"), (P, ","),
        (Name.Attribute, "stride"), (Operator, "="), (Number.Integer, "1"), (P, ")"), (P, "{"),
        (Name.Label, "conv1"), (P, ":"), (Name.Builtin, "conv"), (P, "("), (Name, "w"), (P, ","), (Number, "3x3"),
        (P, ","), (Name.Attribute, "pad"), (Operator, "="), (Name.Constant, "same"), (P, ")"), (Operator, "->"),
        (Name.Variable, "x"), (P, ";"), (Operator, "@"), (Name.Variable, "x"), (Comment.Single, "# note")]


def test_the_shipped_textmate_grammar_is_generated_from_the_op_table():
    shipped = json.loads((VSCODE / "syntaxes" / "cnn.tmLanguage.json").read_text())
    assert shipped == textmate_grammar(), \
        "regenerate: python -m cnnc.highlight > editors/vscode/syntaxes/cnn.tmLanguage.json"


def test_the_extension_manifest_starts_cnnc_lsp():
    manifest = json.loads((VSCODE / "package.json").read_text())
    assert manifest["contributes"]["languages"][0]["extensions"] == [".cnn"]
    assert manifest["contributes"]["grammars"][0]["path"] == "./syntaxes/cnn.tmLanguage.json"
    assert manifest["contributes"]["configuration"]["properties"]["cnn.server.command"]["default"] == ["cnnc", "lsp"]
    assert "vscode-languageclient" in manifest["dependencies"]
    assert "new LanguageClient" in (VSCODE / "extension.js").read_text()


def _pygments_kind(kind) -> str:
    for category, name in ((Comment, "comment"), (String, "string"), (Number, "number"),
                           (Name.Builtin, "builtin"), (Name.Label, "label"), (Keyword.Constant, "constant"),
                           (Name.Constant, "constant"), (Keyword, "keyword"), (Operator.Word, "keyword")):
        if kind in category:
            return name
    return "other"


def _textmate_kind(scopes: list[str]) -> str:
    scope = scopes[-1]
    for prefix, name in (("comment", "comment"), ("string", "string"), ("constant.numeric", "number"),
                         ("support.function.builtin", "builtin"), ("entity.name.label", "label"),
                         ("constant.language", "constant"), ("keyword.operator.logical", "keyword"),
                         ("keyword.operator", "other"), ("keyword", "keyword")):
        if scope.startswith(prefix):
            return name
    return "other"


@pytest.mark.skipif(shutil.which("node") is None or not (VSCODE / "node_modules" / "vscode-textmate").is_dir(),
                    reason="needs node and `npm install` in editors/vscode (done by .ci/setup)")
def test_textmate_grammar_with_the_real_engine_agrees_with_pygments():
    result = subprocess.run(["node", str(VSCODE / "test" / "tokenize.js"), *map(str, SHIPPED)],
                            capture_output=True, text=True, check=True, timeout=120)
    tokenized = json.loads(result.stdout)
    assert sorted(tokenized) == sorted(map(str, SHIPPED))
    checked = 0
    for path in SHIPPED:
        text = path.read_text()
        lines = text.split("\n")
        pygments_kinds = []
        for _, kind, value in CnnLexer().get_tokens_unprocessed(text):
            pygments_kinds += [_pygments_kind(kind)] * len(value)
        offset = 0
        for number, (line, tokens) in enumerate(zip(lines, tokenized[str(path)]), 1):
            covered = [None] * len(line)
            for start, end, *scopes in tokens:
                assert not any("invalid" in s for s in scopes), (path, number)
                for column in range(start, end):
                    covered[column] = _textmate_kind(scopes)
            for column, char in enumerate(line):
                if not char.isspace():
                    assert covered[column] == pygments_kinds[offset + column], \
                        f"{path.name}:{number}:{column + 1}: {line!r}"
                    checked += 1
            offset += len(line) + 1
    assert checked > 10_000
