"""A Pygments lexer for .cnn files (registered as `cnn` through the `pygments.lexers` entry point).

    pygmentize -l cnn archs/resnet50.cnn        # or any Pygments-based tool: Sphinx, Jupyter, mkdocs

Built-in layer names come from the op table, so a new op is highlighted without touching this file.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

from cnnc.dsl.ops import LAYER_OPS
from cnnc.dsl.values import WORDS

__all__ = ["CnnLexer"]

_OTHER = ("import", "input", "output", "init", "group")
_CONTROL = ("repeat", "for", "in", "if", "else")
_KEYWORDS = _OTHER + _CONTROL
_MERGES = ("concat", "add", "mul")


class CnnLexer(RegexLexer):
    """The cnn language: declarative convolutional network architectures (cnnc)."""

    name = "cnn"
    aliases = ["cnn", "cnnc"]
    filenames = ["*.cnn"]
    mimetypes = ["text/x-cnn"]
    url = "https://pypi.org/project/cnnc/"

    tokens = {
        "root": [
            (r"[ \t\f\r\n\ufeff]+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r"(block|network)(\s+)([A-Za-z_]\w*)", bygroups(Keyword.Declaration, Whitespace, Name.Class)),
            (r"(->)(\s*)([A-Za-z_]\w*)", bygroups(Operator, Whitespace, Name.Variable)),
            (r"(@)([A-Za-z_]\w*)", bygroups(Operator, Name.Variable)),
            (r"([A-Za-z_]\w*)(\s*)(:)(?!\s*[0-9])", bygroups(Name.Label, Whitespace, Punctuation)),
            (r"([A-Za-z_]\w*)(\s*)(=)(?!=)", bygroups(Name.Attribute, Whitespace, Operator)),
            (words(_KEYWORDS, suffix=r"\b"), Keyword),
            (words(_MERGES, suffix=r"\b"), Keyword.Reserved),
            (words(("and", "or", "not"), suffix=r"\b"), Operator.Word),
            (words(("true", "false"), suffix=r"\b"), Keyword.Constant),
            (words(sorted(WORDS), suffix=r"\b"), Name.Constant),
            (words(sorted(LAYER_OPS, key=len, reverse=True), suffix=r"\b"), Name.Builtin),
            (r"[A-Z]\w*", Name.Class),
            (r"[A-Za-z_]\w*", Name),
            (r"[0-9]+(x[0-9]+)+\b", Number),
            (r"[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+|\.[0-9]+([eE][-+]?[0-9]+)?", Number.Float),
            (r"[0-9]+", Number.Integer),
            (r'"[^"\n]*"', String.Double),
            (r"==|!=|<=|>=|//|[-+*/%<>=|.]", Operator),
            (r"[(){}\[\],;:]", Punctuation),
        ],
    }



def textmate_grammar() -> dict:
    """The TextMate grammar of editors/vscode (same categories as CnnLexer; op names from the op table).

    Regenerate the shipped file after adding an op:
        python -m cnnc.highlight > editors/vscode/syntaxes/cnn.tmLanguage.json
    """
    ops = "|".join(sorted(LAYER_OPS, key=lambda name: (-len(name), name)))
    name = r"[A-Za-z_][A-Za-z0-9_]*"
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "cnn",
        "scopeName": "source.cnn",
        "fileTypes": ["cnn"],
        "patterns": [{"include": "#main"}],
        "repository": {"main": {"patterns": [
            {"name": "comment.line.number-sign.cnn", "match": "#.*$"},
            {"name": "string.quoted.double.cnn", "match": '"[^"\\n]*"'},
            {"match": rf"\b(block|network)\s+({name})",
             "captures": {"1": {"name": "keyword.declaration.cnn"}, "2": {"name": "entity.name.type.cnn"}}},
            {"match": rf"(->)\s*({name})",
             "captures": {"1": {"name": "keyword.operator.arrow.cnn"}, "2": {"name": "variable.other.definition.cnn"}}},
            {"match": rf"(@)({name})",
             "captures": {"1": {"name": "keyword.operator.reference.cnn"}, "2": {"name": "variable.other.reference.cnn"}}},
            {"match": rf"\b({name})\s*(:)(?!\s*[0-9])",
             "captures": {"1": {"name": "entity.name.label.cnn"}, "2": {"name": "punctuation.separator.label.cnn"}}},
            {"match": rf"\b({name})\s*(=)(?!=)",
             "captures": {"1": {"name": "variable.parameter.cnn"}, "2": {"name": "keyword.operator.assignment.cnn"}}},
            {"name": "keyword.other.cnn", "match": r"\b(" + "|".join(_OTHER) + r")\b"},
            {"name": "keyword.control.cnn", "match": r"\b(" + "|".join(_CONTROL) + r")\b"},
            {"name": "keyword.control.merge.cnn", "match": r"\b(" + "|".join(_MERGES) + r")\b"},
            {"name": "keyword.operator.logical.cnn", "match": r"\b(and|or|not)\b"},
            {"name": "constant.language.boolean.cnn", "match": r"\b(true|false)\b"},
            {"name": "constant.language.word.cnn", "match": r"\b(" + "|".join(sorted(WORDS)) + r")\b"},
            {"name": "support.function.builtin.cnn", "match": rf"\b({ops})\b"},
            {"name": "entity.name.function.block.cnn", "match": r"\b[A-Z][A-Za-z0-9_]*\b"},
            {"name": "variable.other.cnn", "match": rf"\b{name}\b"},
            {"name": "constant.numeric.size.cnn", "match": r"\b[0-9]+(x[0-9]+)+\b"},
            {"name": "constant.numeric.float.cnn",
             "match": r"\b[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?|\b[0-9]+[eE][-+]?[0-9]+\b|\.[0-9]+([eE][-+]?[0-9]+)?"},
            {"name": "constant.numeric.integer.cnn", "match": r"\b[0-9]+\b"},
            {"name": "keyword.operator.cnn", "match": r"==|!=|<=|>=|//|[-+*/%<>=|.]"},
            {"name": "punctuation.cnn", "match": r"[(){}\[\],;:]"},
        ]}},
    }


if __name__ == "__main__":
    import json

    print(json.dumps(textmate_grammar(), indent=2))
