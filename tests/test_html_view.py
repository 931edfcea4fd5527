"""The interactive HTML view, in a real browser (headless Chromium through selenium).

The page must draw, at each depth, exactly the nodes, clusters and edges of compiler/diagram.py (the
SVG's model); clicking a folded block opens it in place and its title folds it back; a node's
details show its figures, their explanation and its source; search finds and reveals layers.
Screenshots go to $CNNC_SCREENSHOTS (a directory), else to pytest's temporary directory.
Skipped where Chromium, chromedriver or selenium are missing (`.ci/setup` installs them).
"""
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

import cnnc
from cnnc import cli, diagram, dsl
from cnnc.html_view import View, page
from conftest import ARCHS, EXAMPLES, ROOT, relative

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")


# ---- without a browser ---------------------------------------------------------------------------

def test_render_html_is_self_contained(tmp_path, capsys):
    out = tmp_path / "net.html"
    assert cli.main(["render", "resnet50", "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and '<script type="application/json" id="cnnc-data">' in text
    local = text.replace('"http://www.w3.org/2000/svg"', "")  # the SVG namespace: a name, never fetched
    for remote in (r"https?://", r"\bsrc=", r"<link", r"@import", r"url\((?!#)"):
        assert not re.search(remote, local), remote
    assert "block Bottleneck(width, stride = 1)" in text  # the .cnn source is embedded
    assert capsys.readouterr().err == ""


def test_render_html_errors(tmp_path, capsys):
    assert cli.main(["render", "resnet50", "-o", str(tmp_path / "x.html"), "--rankdir", "LR"]) == 2  # usage
    assert capsys.readouterr().err == ("cnnc: error: --rankdir LR applies to Graphviz output; the HTML view "
                                       "is drawn top to bottom\n")
    missing = tmp_path / "no" / "such" / "dir" / "x.html"
    assert cli.main(["render", "resnet50", "-o", str(missing)]) == 2
    assert capsys.readouterr().err == f"cnnc: error: cannot write {missing}: No such file or directory\n"


def test_show_returns_an_iframe_view_outside_a_notebook():
    view = cnnc.show("lenet5")
    assert isinstance(view, View)
    assert view._repr_html_().startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert 'sandbox="allow-scripts"' in view._repr_html_()


# ---- in the browser --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not (BROWSER and DRIVER):
        pytest.skip("Chromium and chromedriver are not installed (CI installs them: .ci/setup)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,900"):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="cnnc-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = BROWSER
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """name -> file URL of the page for a shipped network or an example."""
    folder = tmp_path_factory.mktemp("html")
    made = {}

    def get(name: str) -> str:
        if name not in made:
            path = folder / f"{Path(name).stem}.html"
            path.write_text(page(dsl.build(name, networkx=False)))
            made[name] = path.as_uri()
        return made[name]
    return get


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = os.environ.get("CNNC_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("screenshots")


def _open(browser, url):
    browser.get(url)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    return browser


def _clusters(items) -> set:
    out = set()
    for item in items:
        if isinstance(item, diagram.Cluster):
            out.add(item.group.path)
            out |= _clusters(item.items)
    return out


MODEL_CASES = ["resnet50", "googlenet", "lenet5", "examples/unet.cnn", "examples/aux_heads.cnn",
               "examples/inception.cnn", "tests/data/modern_ops.cnn"]


@pytest.mark.parametrize("name", MODEL_CASES)
def test_each_depth_draws_the_svg_model(browser, pages, name):
    """At every depth, the same nodes, clusters and edges as `cnnc render --depth N`, none overlapping."""
    _open(browser, pages(name))
    graph = dsl.build(name, networkx=False)
    levels = max(len(d["scope"]) for _, d in graph.nodes(data=True))
    for depth in range(levels + 2):
        model = diagram.build(graph, depth=depth)
        browser.execute_script(f"cnnc.setDepth({depth})")
        assert set(browser.execute_script("return cnnc.visible()")) == set(model.shown), depth
        assert set(browser.execute_script("return cnnc.clusters()")) == _clusters(model.root), depth
        assert {tuple(e) for e in browser.execute_script("return cnnc.edges()")} == {(a, b) for a, b, _, _ in model.edges}
        assert browser.execute_script("return cnnc.overlaps()") == []


def _click(browser, ident: str, part: str = ""):
    from selenium.webdriver.common.by import By

    element = browser.find_element(By.CSS_SELECTOR, f'[data-id="{ident}"] {part}'.strip())
    browser.execute_script("arguments[0].scrollIntoView()", element)
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element(element).click().perform()


def _side(browser) -> str:
    return browser.execute_script("return document.getElementById('side').innerText")


SHIPPED = [relative(p) for p in ARCHS + EXAMPLES if "network " in p.read_text()]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_network_draws_at_its_default_depth(browser, pages, name):
    _open(browser, pages(name))
    model = diagram.build(dsl.build(name, networkx=False), depth=1)
    assert set(browser.execute_script("return cnnc.visible()")) == set(model.shown)
    assert browser.execute_script("return cnnc.overlaps()") == []


def test_click_expands_and_folds_in_place_and_shows_details(browser, pages, shots):
    _open(browser, pages("resnet50"))
    assert "layer1.1" in browser.execute_script("return cnnc.visible()")  # Bottleneck(64, 1) x2, folded
    _click(browser, "layer1.1", "rect")
    visible = set(browser.execute_script("return cnnc.visible()"))
    assert {"layer1.1.conv1", "layer1.1.conv2", "layer1.2.conv3", "layer1.2.9"} <= visible
    assert "layer1.1" not in visible
    assert {"layer1.1", "layer1.2"} <= set(browser.execute_script("return cnnc.clusters()"))
    assert "layer1.1: Bottleneck(64, 1)" in _side(browser)  # the opened block is selected
    _click(browser, "layer1.1.conv2", "rect")
    side = _side(browser)
    rf = dsl.build("resnet50", networkx=False).nodes["layer1.1.conv2"]["rf"]
    assert rf == (27, 27)
    for text in ["layer1.1.conv2", "conv 3x3, 64", "drawn as one node", "64x56x56",
                 "out=64, kernel=3x3, stride=1, pad=1, dilation=1, groups=1, bias=false",
                 "36,864", "115,605,504", "27x27",
                 "H = W = (56 + 2·1 − 3)/1 + 1 = 56", "3·3·64·64 = 36,864   (no bias)",
                 "RF        19 + (3 − 1)·4 = 27; jump 4·1 = 4",
                 "conv2: conv(width, 3x3, stride=stride, pad=1, bias=false)",      # the .cnn line
                 "in layer1.1: Bottleneck(width=64, stride=1)"]:
        assert text in side, text
    browser.execute_script("cnnc.reveal('layer1.1.conv2')")  # centred and zoomed in, for the screenshot
    browser.save_screenshot(str(shots / "resnet50.png"))
    _click(browser, "cluster:layer1.1", ".head text")  # the title folds the block back
    visible = set(browser.execute_script("return cnnc.visible()"))
    assert "layer1.1" in visible and "layer1.1.conv1" not in visible


def test_expand_all_and_depth_controls(browser, pages):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _open(browser, pages("resnet50"))
    browser.find_element(By.ID, "expand").click()
    assert len(browser.execute_script("return cnnc.visible()")) == len(diagram.build(dsl.build("resnet50"), depth=99).shown)
    Select(browser.find_element(By.ID, "depth")).select_by_value("0")
    assert set(browser.execute_script("return cnnc.visible()")) == set(diagram.build(dsl.build("resnet50"), depth=0).shown)


def test_search_finds_and_reveals(browser, pages, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(browser, pages("googlenet"))
    browser.execute_script("cnnc.setDepth(0)")
    box = browser.find_element(By.ID, "search")
    box.send_keys("inception4c.branch3")
    results = browser.find_element(By.ID, "results").text
    assert "inception4c.branch3.2" in results and "inception4b" not in results
    assert "inception4c" in browser.execute_script(
        "return [...document.querySelectorAll('.node.match')].map(e => e.dataset.id)")  # the folded block
    box.send_keys(Keys.ENTER)
    assert "inception4c.branch3.0" in browser.execute_script("return cnnc.visible()")  # opened to show it
    assert _side(browser).startswith("inception4c.branch3.0")
    box.clear()
    box.send_keys("lrn")
    assert browser.find_element(By.ID, "results").text.count("lrn") == 2
    box.send_keys(Keys.ESCAPE)
    browser.execute_script("cnnc.setDepth(1); cnnc.reveal('inception4a.branch2.2')")
    browser.save_screenshot(str(shots / "googlenet.png"))


def test_resnet152_stays_responsive(browser, pages):
    started = time.perf_counter()
    _open(browser, pages("resnet152"))
    loaded = time.perf_counter() - started
    took = browser.execute_script("const t = performance.now(); cnnc.setDepth(99); return performance.now() - t")
    shown = len(browser.execute_script("return cnnc.visible()"))
    assert shown == len(diagram.build(dsl.build("resnet152"), depth=99).shown)
    assert took < 1000 and loaded < 10, (took, loaded)  # ms to lay out and draw everything; s to load
    assert browser.execute_script("return cnnc.overlaps()") == []


def test_show_in_a_notebook_iframe(browser, tmp_path):
    """What Jupyter displays: the page inside an iframe's srcdoc, scripts allowed."""
    from selenium.webdriver.common.by import By

    wrapper = tmp_path / "notebook.html"
    wrapper.write_text(f"<!DOCTYPE html><html><body>{cnnc.show('lenet5')._repr_html_()}</body></html>")
    _open(browser, wrapper.as_uri())
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    try:
        assert "c1" in browser.execute_script("return cnnc.visible()")
    finally:
        browser.switch_to.default_content()


def test_show_displays_in_a_jupyter_kernel(tmp_path):
    """In a real kernel, cnnc.show displays the iframe (and returns None, so nothing shows twice)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('import cnnc\ncnnc.show("lenet5")'),
                                               nbformat.v4.new_code_cell('cnnc.show("lenet5", depth=0) is None')])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    first, second = notebook.cells
    (shown,) = first.outputs
    assert shown.output_type == "display_data"
    assert shown.data["text/html"].startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert "LeNet5" in shown.data["text/html"]
    assert [o.output_type for o in second.outputs] == ["display_data", "execute_result"]
    assert second.outputs[1].data["text/plain"] == "True"


def test_ci_installs_the_browser():
    """The browser tests run in CI: .ci/setup installs Chromium and its driver, the test extra selenium."""
    assert "chromium chromium-driver" in (ROOT / ".ci" / "setup").read_text()
    assert '"selenium' in (ROOT / "pyproject.toml").read_text()
