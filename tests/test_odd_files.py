"""Odd files: empty, BOM, CRLF, tabs, non-UTF-8, NUL, long lines, directories, FIFOs, dangling links,
unreadable and missing files. Each gets a clear message; columns are right with tabs and CRLF."""
import os

import pytest

from cnnc import dsl
from cnnc.dsl.diagnostics import CnnError, FileError, LimitError

from cnnc.fuzz import run_cli

BAD_ARG = "network N {\n\tinput 3x8x8\n\tconv(8, 3x3, stride=oops)\n}\n"  # `oops` is line 3, column 22 (a tab is one column)


def located(path: str) -> tuple[int, str]:
    status, out, err, _ = run_cli(["check", path])
    return status, err


@pytest.mark.parametrize("name, data", [
    ("tabs", BAD_ARG.encode()),
    ("crlf", BAD_ARG.replace("\n", "\r\n").encode()),
    ("bom-crlf", b"\xef\xbb\xbf" + BAD_ARG.replace("\n", "\r\n").encode()),
    ("form-feed", BAD_ARG.replace("network N {\n", "network N {\x0c\n").encode()),
    ("line-separator-in-comment", ("# a\u2028b\u2029c\n" + BAD_ARG).encode()),
])
def test_columns_with_tabs_crlf_and_bom(tmp_path, name, data):
    path = tmp_path / "odd.cnn"
    path.write_bytes(data)
    status, err = located(str(path))
    line = 4 if name == "line-separator-in-comment" else 3
    assert status == 1
    assert err.startswith(f"{path}:{line}:22: error: unknown name `oops`"), err
    excerpt = err.splitlines()[1:3]
    assert excerpt[0].endswith(" conv(8, 3x3, stride=oops)"), excerpt  # the tab shown as one space
    assert excerpt[1].index("^") == excerpt[0].index("oops"), excerpt


def test_lone_cr_line_endings_stay_on_one_line(tmp_path):
    """Old Mac endings: the parser sees one line; the excerpt shows the same line, not a neighbour."""
    path = tmp_path / "cr.cnn"
    path.write_bytes(BAD_ARG.replace("\n", "\r").encode())
    status, err = located(str(path))
    assert status == 1 and err.startswith(f"{path}:1:"), err
    assert "oops" in err.splitlines()[1]


def test_empty_and_blank_files_are_located(tmp_path):
    for text in ["", "\n\n", "   # only a comment\n", "\ufeff"]:
        path = tmp_path / "empty.cnn"
        path.write_text(text)
        with pytest.raises(CnnError, match="defines nothing") as caught:
            dsl.build(str(path))
        assert caught.value.span is not None
        status, out, err, _ = run_cli(["check", str(path)])
        assert status == 1 and err.startswith(f"{path}:1:1: error: {path} defines nothing\n"), err


def test_non_utf8_is_located(tmp_path):
    path = tmp_path / "latin1.cnn"
    path.write_bytes(b"network N {\n\tinput 3x8x8 # caf\xe9\n}\n")
    status, err = located(str(path))
    assert status == 1 and err.startswith(f"{path}:2:19: error: not UTF-8 text (byte 0xe9"), err


def test_nul_bytes_are_located(tmp_path):
    path = tmp_path / "binary.cnn"
    path.write_bytes(b"network N {\n  input\x00 3x8x8\n}\n")
    status, err = located(str(path))
    assert status == 1 and err.startswith(f"{path}:2:8: error: a NUL byte"), err


def test_very_long_lines_are_shown_in_a_window(tmp_path):
    path = tmp_path / "long.cnn"
    path.write_text("network N { input 3x8x8; " + "relu; " * 2000 + "oops }\n")
    status, err = located(str(path))
    assert status == 1 and "unknown layer or block `oops`" in err
    assert max(len(line) for line in err.splitlines()) < 300


def test_too_many_tokens_fail_before_parsing(tmp_path):
    with pytest.raises(LimitError, match="more than 50,000 tokens") as caught:
        dsl.build(text="network N { input 3x8x8; " + "relu; " * 100_000 + "}")
    assert caught.value.span.line == 1


@pytest.mark.parametrize("kind, message", [
    ("directory", "is a directory"),
    ("fifo", "not a regular file"),
    ("dangling", "no such file"),
    ("missing", "no such file"),
    ("device", "not a regular file"),
])
def test_files_that_are_not_readable_text(tmp_path, kind, message):
    path = tmp_path / "x.cnn"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling":
        path.symlink_to(tmp_path / "nowhere.cnn")
    elif kind == "device":
        path = "/dev/zero"
    status, out, err, seconds = run_cli(["check", str(path)])
    assert status == 1 and message in err and "Traceback" not in err and seconds < 2, err


def test_unreadable_file(tmp_path, monkeypatch):
    """Root ignores chmod 000, so the refusal comes from a patched open."""
    path = tmp_path / "secret.cnn"
    path.write_text("network N { input 3x8x8; relu }\n")
    real_open = open

    def refusing_open(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing_open)
    with pytest.raises(FileError, match="permission denied"):
        dsl.build(str(path))


def test_import_of_a_non_utf8_file_names_both_places(tmp_path):
    (tmp_path / "lib.cnn").write_bytes(b"block B() { relu } # \xff\n")
    (tmp_path / "main.cnn").write_text('import "lib.cnn"\nnetwork N { input 3x8x8; B() }\n')
    with pytest.raises(FileError) as caught:
        dsl.build(str(tmp_path / "main.cnn"))
    rendered = caught.value.render()
    assert rendered.startswith(f"{tmp_path / 'lib.cnn'}:1:22: error: not UTF-8"), rendered
    assert f"note: imported here at {tmp_path / 'main.cnn'}:1:1" in rendered
