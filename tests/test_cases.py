"""Case files, Black-style: each `tests/cases/NAME.cnn` sits beside its expected outputs.

- `NAME.diagnostics`: what `cnnc check NAME.cnn` prints on stderr (errors or warnings); absent when
  it prints nothing.
- for a file that checks: `NAME.summary` (`cnnc summary`), `NAME.dot` (`cnnc render -o -`) and
  `NAME.py` (`cnnc compile -o -`).

A new case is a new .cnn file: write it, run `CNNC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest
tests/test_cases.py` once (it fails, having written the outputs), review them, run again.
See tests/harness.py.
"""
import contextlib
import io
import os
from pathlib import Path

import pytest

from cnnc.cli import main
import harness
from harness import assert_golden, updating

CASES = Path(__file__).resolve().parent / "cases"
FILES = sorted(CASES.glob("*.cnn"))
OUTPUTS = {"summary": ["summary"], "dot": ["render", "-o", "-"], "py": ["compile", "-o", "-"]}


def cnnc(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("case", FILES, ids=lambda p: p.stem)
def test_case(case, monkeypatch):
    monkeypatch.chdir(CASES)  # messages name the file as `NAME.cnn`
    status, _, err = cnnc("check", case.name)
    assert status in (0, 1), err
    failures = []
    for suffix in ["diagnostics", *OUTPUTS]:
        expected = case.with_suffix(f".{suffix}")
        if suffix == "diagnostics":
            text = err
        elif status == 0:
            code, text, stderr = cnnc(*OUTPUTS[suffix][:1], case.name, *OUTPUTS[suffix][1:], "-q")
            assert code == 0, stderr
        else:
            text = ""  # a file with errors has no other outputs
        try:
            assert_golden(expected, text, absent_when_empty=True)
        except pytest.fail.Exception as failure:  # compare (or update) every output, then report
            failures.append(str(failure))
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


def test_only_known_files_in_cases():
    known = {".cnn", *(f".{suffix}" for suffix in ["diagnostics", *OUTPUTS])}
    stray = sorted(p.name for p in CASES.iterdir() if p.suffix not in known)
    assert not stray, f"files in tests/cases/ that no case reads: {stray}"
    orphans = sorted(p.name for p in CASES.iterdir() if not p.with_suffix(".cnn").exists())
    assert not orphans, f"expected outputs without their .cnn file: {orphans}"


def test_the_harness_updates_only_on_exactly_1_and_fails_the_updating_run(tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "UPDATED", [])  # not a real update: keep it out of the run's summary
    golden = tmp_path / "out.txt"
    golden.write_text("old\n")
    for value in ("0", "", "yes", "true"):
        monkeypatch.setenv("CNNC_UPDATE_GOLDEN", value)
        assert not updating()
        with pytest.raises(pytest.fail.Exception, match="output differs"):
            assert_golden(golden, "new\n")
        assert golden.read_text() == "old\n"
    monkeypatch.setenv("CNNC_UPDATE_GOLDEN", "1")
    with pytest.raises(pytest.fail.Exception, match="golden file updated"):
        assert_golden(golden, "new\n")
    assert golden.read_text() == "new\n"
    assert_golden(golden, "new\n")  # the second run passes
    monkeypatch.delenv("CNNC_UPDATE_GOLDEN")
    with pytest.raises(pytest.fail.Exception, match="no golden file"):
        assert_golden(tmp_path / "missing.txt", "x")
    assert not os.path.exists(tmp_path / "missing.txt")
