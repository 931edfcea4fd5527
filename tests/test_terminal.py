"""On a terminal, errors and warnings are coloured and long work shows a progress line; piped,
redirected, with NO_COLOR or with -q, the output is plain text and quiet."""
import io
import shutil

import pytest

from cnnc import terminal
from cnnc.cli import main

BAD = "network N {\n    input 3x8x8\n    conv(4, 3x3, bias=False)\n}\n"
PLAIN = """\
bad.cnn:3:23: error: unknown name `False`
    3 |     conv(4, 3x3, bias=False)
      |                       ^^^^^
  hint: true and false are lowercase: `false`
"""
B, R, X, C = "\033[1m", "\033[31m", "\033[0m", "\033[36m"
COLOURED = (f"{B}bad.cnn:3:23: {X}{B}{R}error{X}{B}: unknown name `False`{X}\n"
            "    3 |     conv(4, 3x3, bias=False)\n"
            f"      |                       {B}{R}^^^^^{X}\n"
            f"  {B}{C}hint:{X} true and false are lowercase: `false`\n")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    (tmp_path / "bad.cnn").write_text(BAD)
    return tmp_path


def test_errors_are_coloured_on_a_terminal(here, monkeypatch):
    monkeypatch.setattr("sys.stderr", Terminal())
    assert main(["check", "bad.cnn"]) == 1
    assert terminal.sys.stderr.getvalue() == COLOURED


@pytest.mark.parametrize("how", ["pipe", "NO_COLOR", "dumb"])
def test_errors_are_plain_otherwise(here, monkeypatch, how, capsys):
    if how != "pipe":
        monkeypatch.setattr("sys.stderr", Terminal())
        monkeypatch.setenv(*(("NO_COLOR", "1") if how == "NO_COLOR" else ("TERM", "dumb")))
    assert main(["check", "bad.cnn"]) == 1
    err = terminal.sys.stderr.getvalue() if how != "pipe" else capsys.readouterr().err
    assert err == PLAIN


def test_warnings_are_coloured_magenta(here, monkeypatch):
    (here / "net.cnn").write_text("network N {\n    input 224x224x3\n    relu\n}\n")
    monkeypatch.setattr("sys.stderr", Terminal())
    assert main(["check", "net.cnn"]) == 0
    first = terminal.sys.stderr.getvalue().splitlines()[0]
    assert first == f"{B}net.cnn:2:5: {X}{B}\033[35mwarning{X}{B}: input `input` is 224x224x3: 224 channels of " \
                    f"224x3 pixels{X}"


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
@pytest.mark.parametrize("quiet", [False, True])
def test_progress_on_a_terminal_only(here, monkeypatch, quiet):
    (here / "net.cnn").write_text("network N {\n    input 3x8x8\n    conv(4, 3x3)\n}\n")
    monkeypatch.setattr(terminal.Progress, "delay", 0)
    monkeypatch.setattr("sys.stderr", Terminal())
    assert main(["render", "net.cnn", "-o", "net.svg"] + (["-q"] if quiet else [])) == 0
    err = terminal.sys.stderr.getvalue()
    if quiet:
        assert err == ""
    else:
        assert err.startswith("\rcnnc: drawing net.svg ... 0.") and err.endswith(" s\r\033[K")
    assert (here / "net.svg").read_text().startswith("<?xml")


def test_no_progress_off_a_terminal(here, monkeypatch, capsys):
    (here / "net.cnn").write_text("network N {\n    input 3x8x8\n    conv(4, 3x3)\n}\n")
    monkeypatch.setattr(terminal.Progress, "delay", 0)
    assert main(["render", "net.cnn", "-o", "net.dot"]) == 0
    assert capsys.readouterr().err == ""


def test_progress_updates_while_work_runs():
    stream = Terminal()
    progress = terminal.Progress("exporting x.onnx", stream=stream)
    progress.delay, progress.interval = 0.05, 0.05
    with progress:
        import time
        time.sleep(0.4)
    updates = stream.getvalue().split("\r")
    assert updates[0] == "" and updates[-1] == "\033[K" and len(updates) >= 4
    assert all(u.startswith("cnnc: exporting x.onnx ... ") and u.endswith(" s") for u in updates[1:-1])
