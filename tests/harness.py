"""The one golden-file harness: `assert_golden(path, text)`.

A golden file holds the exact expected output of a command (a summary, generated Python, DOT,
diagnostics). A test compares what cnnc produces now with it, and fails with a diff when they differ.

After an intended change, regenerate the files with

    CNNC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/...

Only the exact value `1` updates (`0`, `yes` or an empty value do not). A test that rewrote its
golden file fails, so an update is always followed by a deliberate second run that checks it, after
reviewing the diff (`git diff tests/`). The run's summary lists every file that was rewritten.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

VARIABLE = "CNNC_UPDATE_GOLDEN"
ROOT = Path(__file__).resolve().parent.parent
UPDATED: list[str] = []  # files rewritten in this run, for the terminal summary (conftest.py)


def updating() -> bool:
    return os.environ.get(VARIABLE) == "1"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def assert_golden(path, text: str, *, absent_when_empty: bool = False) -> None:
    """`text` must equal the file at `path`. With CNNC_UPDATE_GOLDEN=1, a differing (or missing)
    file is rewritten and the test fails. `absent_when_empty`: an empty `text` is expected as no
    file at all (a case with no diagnostics has no .diagnostics file)."""
    path = Path(path)
    expected = path.read_text(encoding="utf-8") if path.exists() else None
    wanted = None if absent_when_empty and text == "" else text
    if expected == wanted:
        return
    if updating():
        if wanted is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(wanted, encoding="utf-8", newline="")
        UPDATED.append(_shown(path))
        pytest.fail(f"golden file {'removed' if wanted is None else 'updated'}: {_shown(path)}; review "
                    f"the diff, then run again without {VARIABLE} to check it", pytrace=False)
    if expected is None:
        pytest.fail(f"no golden file {_shown(path)}; create it with {VARIABLE}=1 and review it", pytrace=False)
    if wanted is None:
        pytest.fail(f"expected no output, but {_shown(path)} exists; remove it with {VARIABLE}=1", pytrace=False)
    diff = list(difflib.unified_diff(expected.splitlines(), text.splitlines(), "expected", "actual",
                                     lineterm="", n=2))
    shown = "\n".join(diff[:80]) + (f"\n... ({len(diff) - 80} more diff lines)" if len(diff) > 80 else "")
    pytest.fail(f"output differs from {_shown(path)} (regenerate with {VARIABLE}=1 if the change is "
                f"intended):\n{shown}", pytrace=False)
