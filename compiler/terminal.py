"""What the command line writes to a terminal: colours for errors and warnings, and progress for
long work. Both only on a terminal: piped or redirected output stays plain text and quiet, and
`NO_COLOR` (https://no-color.org) turns colour off."""
from __future__ import annotations

import os
import re
import sys
import threading
import time

RESET, BOLD, RED, MAGENTA, CYAN, GREEN = "\033[0m", "\033[1m", "\033[31m", "\033[35m", "\033[36m", "\033[32m"
_FIRST = re.compile(r"^(?P<where>.*?: )?(?P<kind>error|warning)(?P<rest>: .*)$")
_CARET = re.compile(r"^(?P<gutter>\s*\| *)(?P<marks>\^+)$")
_NOTE = re.compile(r"^(?P<indent>\s+)(?P<kind>note|hint):")


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def use_colour(stream) -> bool:
    return is_terminal(stream) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def colour(text: str) -> str:
    """A rendered diagnostic with ANSI colours: the kind (error red, warning magenta), the location and
    message bold, the caret underline in the kind's colour, `note:` and `hint:` cyan."""
    lines, tint = [], RED
    for line in text.split("\n"):
        first = _FIRST.match(line) if not lines else None
        if first:
            tint = RED if first["kind"] == "error" else MAGENTA
            where = f"{BOLD}{first['where']}{RESET}" if first["where"] else ""
            line = f"{where}{BOLD}{tint}{first['kind']}{RESET}{BOLD}{first['rest']}{RESET}"
        elif _CARET.match(line):
            caret = _CARET.match(line)
            line = f"{caret['gutter']}{BOLD}{tint}{caret['marks']}{RESET}"
        elif _NOTE.match(line):
            note = _NOTE.match(line)
            line = f"{note['indent']}{BOLD}{CYAN}{note['kind']}:{RESET}{line[note.end():]}"
        lines.append(line)
    return "\n".join(lines)


def report(text: str, stream=None) -> None:
    """Print a rendered error or warning on stderr, coloured on a terminal."""
    stream = stream or sys.stderr
    print(colour(text) if use_colour(stream) else text, file=stream)


class Progress:
    """`with Progress("exporting resnet50.onnx"):` shows `cnnc: exporting resnet50.onnx ... 3.2 s` on a
    terminal, updated while the work runs and erased when it ends; nothing when stderr is not a
    terminal or `quiet` is set. The line appears after `delay` seconds, so quick work shows nothing."""

    delay = 0.5
    interval = 0.2

    def __init__(self, what: str, quiet: bool = False, stream=None):
        self.what, self.stream = what, stream or sys.stderr
        self.active = not quiet and is_terminal(self.stream)
        self.shown, self.done = False, threading.Event()

    def __enter__(self) -> "Progress":
        if self.active:
            self.start = time.monotonic()
            if self.delay <= 0:
                self._show()
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        return self

    def _run(self) -> None:
        if self.done.wait(self.delay):
            return
        while not self.done.is_set():
            self._show()
            self.done.wait(self.interval)

    def _show(self) -> None:
        self.shown = True
        self.stream.write(f"\rcnnc: {self.what} ... {time.monotonic() - self.start:.1f} s")
        self.stream.flush()

    def __exit__(self, *exc) -> None:
        if self.active:
            self.done.set()
            self.thread.join()
            if self.shown:
                self.stream.write("\r\033[K")  # erase the progress line
                self.stream.flush()
