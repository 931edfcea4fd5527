"""A Pygments lexer for .cnn files (registered as `cnn` through the `pygments.lexers` entry point).

    pygmentize -l cnn archs/resnet50.cnn        # or any Pygments-based tool: Sphinx, Jupyter, mkdocs

Built-in layer names come from the op table, so a new op is highlighted without touching this file.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

from cnnc.dsl.ops import LAYER_OPS, WORDS

__all__ = ["CnnLexer"]

_KEYWORDS = ("import", "input", "output", "repeat", "for", "in", "if", "else")
_MERGES = ("concat", "add")


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

