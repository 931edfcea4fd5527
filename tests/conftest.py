import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # paths in messages and goldens are relative to the repository root

EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.cnn") if p.name != "blocks.cnn")
ARCHS = sorted((ROOT / "archs").glob("*.cnn"))


def run_without_cnnc(generated: Path, model: str, shape: str, cwd: Path) -> str:
    """Run a generated file in a fresh interpreter where `import cnnc` fails: build `model` (an
    expression over the file's namespace `ns`), run it in eval mode on a batch of 2 of `shape`,
    and return the printed output shape."""
    import subprocess

    script = ("import sys; sys.modules['cnnc'] = None\n"
              "import runpy, torch\n"
              f"ns = runpy.run_path({str(generated)!r})\n"
              f"m = {model}.eval()\n"
              f"print(tuple(m(torch.randn(2, *{shape})).shape))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


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


@pytest.fixture
def one_thread():
    """torch on one thread for the test (the deploy build's Winograd convolutions run only then)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pytest_terminal_summary(terminalreporter):
    from harness import UPDATED, VARIABLE

    if UPDATED:
        terminalreporter.write_line(f"{VARIABLE}=1 rewrote {len(UPDATED)} golden file(s); review them, "
                                    f"then run again without it:")
        for path in UPDATED:
            terminalreporter.write_line(f"  {path}")
