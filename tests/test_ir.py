"""The IR and the layering around it: the language half (dsl/) never imports the compiler half or
torch, and the op table and the expression evaluator import each other in neither direction."""
import ast
import subprocess
import sys

from conftest import ROOT

from cnnc import dsl


def _imports(path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a dsl/ file; relative imports that climb out
    of dsl/ (`from .. import x`) are reported as `..x`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.lineno, node.module))
            elif node.level > 1:
                found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def test_dsl_imports_neither_the_compiler_nor_torch():
    files = sorted((ROOT / "dsl").glob("*.py"))
    assert len(files) > 10
    wrong = [f"{path.name}:{line}: {module}" for path in files for line, module in _imports(path)
             if module.startswith("..") or module.split(".")[0] == "torch"
             or (module.split(".")[0] == "cnnc" and not (module + ".").startswith("cnnc.dsl."))]
    assert not wrong, wrong


def _loaded_after(module: str) -> set:
    code = f"import sys, {module}; print(' '.join(sorted(m for m in sys.modules if m.startswith('cnnc'))))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_ops_and_expressions_do_not_import_each_other():
    assert "cnnc.dsl.ops" in _loaded_after("cnnc.dsl.ops")
    assert "cnnc.dsl.expressions" not in _loaded_after("cnnc.dsl.ops")
    assert "cnnc.dsl.expressions" in _loaded_after("cnnc.dsl.expressions")
    assert "cnnc.dsl.ops" not in _loaded_after("cnnc.dsl.expressions")


def test_jupyter_views_come_from_the_compiler():
    """dsl's graph draws nothing itself: the compiler registers its views when `cnnc` is imported,
    which happens before `cnnc.dsl` can be imported, so every public graph has them."""
    graph = dsl.build("examples/tiny_cnn.cnn")
    html = graph._repr_html_()
    from cnnc.summary import to_html

    assert html == to_html(graph, depth=1) and "<td>conv1</td>" in html
    from cnnc.dsl.graph import VIEWS
    assert set(VIEWS) == {"svg", "html"} and all(view.__module__ == "cnnc" for view in VIEWS.values())
