"""Source spans, the structured error classes, and the one renderer of excerpts.

Library code raises `CnnError` (or a subclass); only the CLI renders and prints.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field


@dataclass(frozen=True, eq=False)
class Source:
    """One source text and the name it is reported under."""

    path: str
    text: str

    def lines(self) -> list[str]:
        """The lines as the parser counts them: split at \\n only, a \\r before it dropped (CRLF files)."""
        lines = self.text.split("\n")
        if len(lines) > 1 and not lines[-1]:
            lines.pop()
        return [line[:-1] if line.endswith("\r") else line for line in lines]

    def line(self, number: int) -> str:
        lines = self.lines()
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return ""


@dataclass(frozen=True)
class Span:
    """A region of a source: 1-based line and column, end exclusive."""

    source: Source = field(compare=False, hash=False, repr=False)
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def path(self) -> str:
        return self.source.path

    def __str__(self) -> str:
        return f"{self.source.path}:{self.line}:{self.column}"

    def to(self, other: "Span") -> "Span":
        """The span from the start of self to the end of other."""
        return Span(self.source, self.line, self.column, other.end_line, other.end_column)


@dataclass(frozen=True)
class Note:
    message: str
    span: Span | None = None


class CnnError(Exception):
    """An error in the user's input, located in the source."""

    kind = "error"

    def __init__(self, message: str, span: Span | None = None, *, hint: str | None = None,
                 notes: tuple[Note, ...] | list[Note] = ()):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        self.notes = tuple(notes)

    def with_notes(self, *notes: Note) -> "CnnError":
        self.notes = self.notes + tuple(notes)
        return self

    def render(self) -> str:
        return render(self.kind, self.message, self.span, self.hint, self.notes)

    def __str__(self) -> str:
        return self.render()

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of the traceback: the located message first, then only the
        frames outside cnnc (the caller's own code)."""
        import os
        import sys
        import traceback

        ours = tuple(os.path.dirname(os.path.abspath(m.__file__)) + os.sep
                     for m in (sys.modules[__name__], sys.modules.get("cnnc")) if m and m.__file__)
        frames = [f for f in traceback.extract_tb(self.__traceback__)
                  if not os.path.abspath(f.filename).startswith(ours)]
        lines = self.render().split("\n")
        if frames:
            lines += ["", "raised by:"] + "".join(traceback.format_list(frames)).rstrip("\n").split("\n")
        return lines


class ParseError(CnnError):
    """The text does not follow the grammar."""


class NameError_(CnnError):
    """A name (layer, block, argument, value, variable) is not known."""


class TypeError_(CnnError):
    """A value has the wrong type or is out of its allowed range."""


class ShapeError(CnnError):
    """A tensor shape is invalid, collapses, or does not match."""


class LimitError(CnnError):
    """A resource limit (nodes, repeats, recursion, sizes) was exceeded."""


class FileError(CnnError):
    """A file cannot be read or imported."""


@dataclass(frozen=True)
class Warning_:
    """A problem worth reporting that does not stop compilation."""

    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    notes: tuple[Note, ...] = ()

    def render(self) -> str:
        return render("warning", self.message, self.span, self.hint, self.notes)


def excerpt(span: Span) -> list[str]:
    """The source line of `span` with a caret underline, compiler style."""
    text = span.source.line(span.line)
    gutter = f"{span.line:>5} | "
    end = span.end_column if span.end_line == span.line else len(text) + 1
    width = max(1, end - span.column)
    width = min(width, max(1, len(text) + 1 - span.column + 1))
    if len(text) > 200:  # keep very long lines readable: show a window around the caret
        start = max(0, span.column - 60)
        text = ("..." if start else "") + text[start:start + 140] + "..."
        column = span.column - start + (3 if start else 0)
        width = min(width, 80)
    else:
        column = span.column
    marker = " " * (len(gutter) - 2) + "| " + " " * (column - 1) + "^" * width
    text = "".join(" " if _unprintable(c) else c for c in text)  # one column each, after the windowing
    return [gutter + text, marker]


def _unprintable(char: str) -> bool:
    """Tabs, control and format characters (ANSI escapes, bidi overrides): never sent to a terminal raw."""
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def clean(text: str) -> str:
    """`text` with unprintable characters escaped, e.g. \\x1b, so messages cannot drive a terminal."""
    if not any(_unprintable(c) for c in text if c != "\n"):
        return text
    return "".join(c if c == "\n" or not _unprintable(c) else ascii(c)[1:-1] for c in text)


def render(kind: str, message: str, span: Span | None, hint: str | None,
           notes: tuple[Note, ...]) -> str:
    where = f"{span}: " if span else ""
    lines = [f"{where}{kind}: {message}"]
    if span is not None:
        lines += excerpt(span)
    for note, count in _collapsed(notes):
        at = f" at {note.span}" if note.span else ""
        times = f" ({count} times)" if count > 1 else ""
        lines.append(f"  note: {note.message}{at}{times}")
    if hint:
        lines.append(f"  hint: {hint}")
    return clean("\n".join(lines))


def _collapsed(notes: tuple[Note, ...]) -> list[tuple[Note, int]]:
    """Consecutive identical notes (deep recursion) shown once with a count."""
    runs: list[list] = []
    for note in notes:
        if runs and runs[-1][0] == note:
            runs[-1][1] += 1
        else:
            runs.append([note, 1])
    return [(note, count) for note, count in runs]


def closest(name: str, candidates) -> str | None:
    """The candidate most like `name`, for 'did you mean' hints."""
    import difflib

    matches = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
