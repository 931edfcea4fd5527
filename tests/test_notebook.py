"""examples/notebook.ipynb, executed in a real Jupyter kernel (nbclient + ipykernel): its outputs hold
the summary table (the analysed graph's HTML repr), the inline diagram (SVG), the one-line repr,
and, for the broken network, the located diagnostic in place of a traceback through cnnc."""
import shutil

import pytest

from conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


@pytest.mark.skipif(shutil.which("dot") is None, reason="the inline diagram needs Graphviz's dot")
def test_notebook_runs_and_shows_the_table_and_the_diagram(tmp_path):
    notebook = nbformat.read(ROOT / "examples" / "notebook.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")  # stored clean
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]

    (table,) = [o for o in code[0].outputs if o.output_type == "execute_result"]
    html = table.data["text/html"]
    assert html.startswith('<div class="cnnc-summary"><p><b>ResNet50</b> (resnet50.cnn, blocks folded past depth 1)')
    assert "<tr><td>layer1.0</td><td>Bottleneck(64, 1)</td><td>[N, 256, 56, 56]</td>" in html
    assert "Total params: 23,528,522" in html  # 25,557,032 - 2,049,000 + 20,490 with classes=10
    assert table.data["text/plain"].startswith("<cnnc network ResNet50 from resnet50.cnn: 176 layers, ")

    (diagram,) = [o for o in code[1].outputs if o.output_type == "execute_result"]
    svg = diagram.data["image/svg+xml"]
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "Stage(512, 3, 2)" in svg

    printed = "".join(o.text for o in code[2].outputs if o.output_type == "stream")
    assert printed.startswith("<cnnc network ResNet50 from resnet50.cnn: 176 layers, 23,528,522 params, ")
    assert code[2].outputs[-1].data["text/plain"] == "(50, 23528522)"

    mine = code[3].outputs[0].data["text/html"]
    assert "<tr><td>stem.0</td><td>conv 3x3, 16 (frozen)</td>" in mine and "Non-trainable params: 480 (frozen: trainable=false)" in mine  # 16 * 27 + 16 + 2 * 16

    (error,) = code[4].outputs
    assert error.output_type == "error" and error.ename == "ShapeError"
    assert error.traceback[:3] == [
        "<string>:4:5: error: conv `0`: the input 3x8x8 is too small: the output would be 0x0",
        "    4 |     conv(16, 9x9)", "      |     ^^^^^^^^^^^^^"]
    assert not any("cnnc/" in line or "dsl/" in line for line in error.traceback)  # no frames inside cnnc

    assert code[5].outputs[0].data["text/plain"] == "torch.Size([2, 10])"
