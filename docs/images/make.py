"""Regenerate the README's diagrams: `.venv/bin/python docs/images/make.py` (Graphviz; pngquant, optipng if present)."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cnnc import dsl  # noqa: E402
from cnnc.graphviz_backend import render, write  # noqa: E402

NETWORKS = ["lenet5", "alexnet", "vgg16", "googlenet", "resnet50"]

for name in NETWORKS:
    dot = render(dsl.build(str(ROOT / "archs" / f"{name}.cnn")))  # the defaults, as `cnnc render` draws them
    out = ROOT / "docs" / "images" / f"{name}.png"
    write(dot, out)
    if shutil.which("pngquant"):  # 64 colours: the diagrams use a dozen, plus anti-aliasing
        subprocess.run(["pngquant", "--force", "--skip-if-larger", "--output", str(out), "64", str(out)], check=False)
    if shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o5", "-strip", "all", str(out)], check=True)
    print(out.relative_to(ROOT), out.stat().st_size)
