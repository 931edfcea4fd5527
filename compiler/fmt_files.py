"""`cnnc fmt FILE...`: the files side of the formatter (dsl/fmt.py lays out one text)."""
from __future__ import annotations

import difflib
import sys
from pathlib import Path

from cnnc.dsl.diagnostics import CnnError
from cnnc.dsl.fmt import format_source
from cnnc.dsl.loader import read_source


def expand(paths: list[str]) -> list[str]:
    """Files as given; directories replaced by the *.cnn files below them, sorted."""
    out = []
    for path in paths:
        if path != "-" and Path(path).is_dir():
            out.extend(str(p) for p in sorted(Path(path).rglob("*.cnn")))
        else:
            out.append(path)
    return out


def run_fmt(paths: list[str], check: bool = False, diff: bool = False) -> int:
    """Format each file in place (or only report, with check/diff). Exit status: 1 if a file has an
    error, or with --check if a file would change; 0 otherwise."""
    status = 0
    changed = []
    for path in expand(paths):
        try:
            text = sys.stdin.read() if path == "-" else read_source(path)
            formatted = format_source(text, "<stdin>" if path == "-" else path)
        except CnnError as error:  # a syntax error: the file is left untouched
            print(error.render(), file=sys.stderr)
            status = 1
            continue
        if path == "-" and not (check or diff):
            sys.stdout.write(formatted)
            continue
        if formatted == text:
            continue
        changed.append(path)
        if diff:
            name = "<stdin>" if path == "-" else path
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), formatted.splitlines(True),
                                                       f"{name} (original)", f"{name} (formatted)"))
        if check:
            print(f"would reformat {path}")
        elif not diff:
            Path(path).write_text(formatted, encoding="utf-8")
            print(f"reformatted {path}", file=sys.stderr)
    if check and changed:
        status = 1
    return status
