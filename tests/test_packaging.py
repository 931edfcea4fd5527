"""What a user gets from `pip install .`: a wheel that installs one top-level package, `cnnc`, with the
grammar, the zoo and the examples inside it, and that works from any directory: `import cnnc`,
`python -m cnnc`, the `cnnc` script, shipped networks by name, and messages that name them by their
shipped name rather than a site-packages path.

One test, offline: the wheel is built from a copy of the sources without build isolation (with this
environment's setuptools) and installed with --no-deps into a fresh venv that sees this
environment's packages (torch, lark, networkx, graphviz) through a .pth file.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import cnnc
from conftest import ROOT

SOURCES = ["pyproject.toml", "README.md", "compiler", "dsl", "grammars", "archs", "examples"]


def run(argv, cwd, env=None) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{argv} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def test_wheel_installs_cnnc_only_and_works_from_anywhere(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__", "*.pyc")}
                                            if (ROOT / name).is_dir() else {}))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run(pip + ["wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(source)],
        tmp_path)
    (wheel,) = (tmp_path / "dist").glob("cnnc-*.whl")

    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"cnnc", f"cnnc-{cnnc.__version__}.dist-info"}
    for data in ["cnnc/dsl/_grammars/cnn.lark", "cnnc/dsl/_archs/resnet50.cnn", "cnnc/examples/unet.cnn",
                 "cnnc/examples/blocks.cnn", "cnnc/__main__.py", "cnnc/dsl/ops.py"]:
        assert data in names

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    run(pip + ["--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)], tmp_path)
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    tmp_path).strip())
    # the dependencies: this environment's site-packages (and what its own .pth files add)
    ours = [p for p in sys.path if p.endswith("-packages") and os.path.isdir(p)]
    ours.append(sysconfig.get_paths()["purelib"])
    (site / "deps.pth").write_text("\n".join(dict.fromkeys(ours)) + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NO_COLOR")}
    where = run([str(python), "-c", "import cnnc; m = cnnc.load('resnet50', classes=10); "
                 "print(cnnc.__file__); print(m.fc.out_features)"], elsewhere, env).split()
    assert where == [str(site / "cnnc" / "__init__.py"), "10"]

    out = run([str(python), "-m", "cnnc", "check", "resnet50"], elsewhere, env)
    assert out == "resnet50.cnn: ok: ResNet50: 25,557,032 params, 4.09 GMACs -> [N, 1000]\n"
    assert run([str(venv / "bin" / "cnnc"), "--version"], elsewhere, env) == f"cnnc {cnnc.__version__}\n"

    zoo = run([str(venv / "bin" / "cnnc"), "zoo"], elsewhere, env).splitlines()
    assert zoo[0].split() == ["name", "network", "params", "MACs", "depth", "input", "description"]
    (resnet50,) = [line for line in zoo if line.startswith("resnet50 ")]
    assert resnet50.split()[:6] == ["resnet50", "ResNet50", "25,557,032", "4.09", "GMACs", "50"]
    assert zoo[-1] == f"Examples, one small file per construct: {site / 'cnnc' / 'examples'}"

    (elsewhere / "mine.cnn").write_text(  # a user's file that reuses the zoo's blocks
        'import "resnet50.cnn"\n\nnetwork Mine {\n    input 3x64x64\n    conv(64, 3x3, pad=1)\n'
        "    Bottleneck(16)\n    avgpool(global); flatten; linear(10)\n}\n")
    out = run([str(venv / "bin" / "cnnc"), "check", "mine.cnn"], elsewhere, env)
    # params 1,792 + 4,544 + 650; MACs 64x64 pixels x (27 x 64 + 64 x 16 + 144 x 16 + 16 x 64) + 640
    assert out == "mine.cnn: ok: Mine: 6,986 params, 24.9 MMACs -> [N, 10]\n"

    dot = run([str(venv / "bin" / "cnnc"), "render", "resnet50", "-o", "-"], elsewhere, env)
    assert str(site) not in dot and "resnet50.cnn:" in dot  # tooltips name the shipped file
