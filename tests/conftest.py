import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # paths in messages and goldens are relative to the repository root

EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.cnn") if p.name != "blocks.cnn")
ARCHS = sorted((ROOT / "archs").glob("*.cnn"))


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture
def cnn_file(tmp_path):
    """Write a .cnn source to a temporary file and return its path."""
    def write(text: str, name: str = "net.cnn") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


def pytest_terminal_summary(terminalreporter):
    from harness import UPDATED, VARIABLE

    if UPDATED:
        terminalreporter.write_line(f"{VARIABLE}=1 rewrote {len(UPDATED)} golden file(s); review them, "
                                    f"then run again without it:")
        for path in UPDATED:
            terminalreporter.write_line(f"  {path}")
