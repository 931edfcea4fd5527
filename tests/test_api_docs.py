"""docs/api.md cannot drift from the code: every documented signature equals the real one, every
name in `cnnc.__all__` is documented, and every example runs, with the values its comments claim."""
import importlib
import inspect
import re

import pytest

import cnnc
from conftest import ROOT

DOC = (ROOT / "docs" / "api.md").read_text()
HEADING = re.compile(r"^### `(cnnc[\w.]*)\((.*)\)(?: -> (.+))?`$", re.M)


def resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def documented(obj) -> str:
    """The signature as the reference writes it: parameters without annotations, the return annotation kept."""
    signature = inspect.signature(obj)
    plain = signature.replace(parameters=[p.replace(annotation=inspect.Parameter.empty)
                                          for p in signature.parameters.values()],
                              return_annotation=inspect.Signature.empty)
    returns = signature.return_annotation
    text = str(plain)[1:-1]
    return text if returns is inspect.Signature.empty else f"{text} -> {str(returns).strip(chr(39))}"


HEADINGS = HEADING.findall(DOC)


@pytest.mark.parametrize("name, params, returns", HEADINGS, ids=[h[0] for h in HEADINGS])
def test_signature_matches_the_code(name, params, returns):
    assert documented(resolve(name)) == params + (f" -> {returns}" if returns else "")


def test_every_public_function_is_documented():
    names = {h[0] for h in HEADINGS}
    assert {f"cnnc.{name}" for name in cnnc.__all__} <= names
    assert len(HEADINGS) == len(names)


def test_examples_run_and_show_what_they_claim(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in re.findall(r"```python\n(.*?)```", DOC, re.S):
        for line in block.splitlines():
            code, _, claim = line.partition("  # ")
            if claim and claim.lstrip(" ")[:1] in "([0123456789t":
                assert repr(eval(code, namespace)) == claim.strip(), line
            else:
                exec(line, namespace)
    assert (tmp_path / "resnet50.py").read_text().startswith("# ResNet50(classes=10), compiled by cnnc")
