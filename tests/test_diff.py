"""`cnnc diff`: layers matched by path, totals, and the checkpoint view computed statically,
checked against the real state_dicts of the compiled modules.

Regenerate the goldens after an intended change:
    CNNC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_diff.py
"""
import json

import pytest

from cnnc import cli, dsl
from cnnc.diff import compare
from cnnc.dsl.ops import OPS
from cnnc.state_dict import STATE, STATELESS, state_dict_shapes
from harness import assert_golden
from conftest import ARCHS, EXAMPLES, ROOT, relative

GOLDEN = ROOT / "tests" / "golden" / "diff"
WIDE = "tests/data/resnet50_wide.cnn"  # ResNet-50 with layer2 widened from 128 to 192


def _run(args, capsys):
    status = cli.main(["diff", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


GOLDENS = {
    "resnet50_resnet101.txt": ["resnet50", "resnet101"],
    "vgg16_vgg19.txt": ["vgg16", "vgg19"],
    "resnet50_resnext50.txt": ["resnet50", "resnext50_32x4d"],
    "resnet50_wide.txt": ["resnet50", WIDE],
    "resnet50_wide.md": ["resnet50", WIDE, "--format", "markdown"],
    "lenet5_input36.json": ["lenet5", "lenet5", "--input-b", "1x36x36", "--format", "json"],
}


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden(name, capsys):
    status, out, err = _run(GOLDENS[name], capsys)
    assert (status, err) == (1, "")
    assert_golden(GOLDEN / name, out)


def test_deeper_variant_reads_as_one_line(capsys):
    _, out, _ = _run(["resnet50", "resnet101"], capsys)
    assert "  layer3  Stage(256, 6, 2)  ->  Stage(256, 23, 2)" in out
    assert "  layer3.6 … layer3.22  17 × Bottleneck(256, 1)  170 layers  +18,992,128 params  +3,712,221,184 MACs" in out
    assert "params      25,557,032     44,549,160  +18,992,128 (+74.3%)" in out
    assert "load_state_dict(strict=True) fails; strict=False loads 320 keys" in out


def test_identical_exits_0(capsys):
    status, out, _ = _run(["resnet50", "archs/resnet50.cnn"], capsys)
    assert status == 0 and out.splitlines()[2] == "identical"
    assert "load_state_dict(strict=True) succeeds" in out
    assert _run(["resnet50", "resnet50", "--set-b", "classes=10"], capsys)[0] == 1
    assert _run(["resnet50", "resnet50", "--set", "classes=10"], capsys)[0] == 0  # both sides


def test_errors_exit_2_with_their_text(capsys, cnn_file):
    assert _run(["resnet50", "nosuch"], capsys) == (2, "", "error: no such file: nosuch\n")
    assert _run(["lenet5", "lenet5", "--set-a", "foo"], capsys) == (
        2, "", "cnnc: error: --set expects NAME=VALUE, got 'foo'\n")
    broken = cnn_file("network N {\n    input 3x8x8\n    conv(4, 3x3, strde=1)\n}\n")
    status, out, err = _run(["lenet5", broken], capsys)
    assert (status, out) == (2, "")
    assert err == (f"{broken}:3:18: error: `conv` has no argument `strde`\n"
                   "    3 |     conv(4, 3x3, strde=1)\n"
                   "      |                  ^^^^^^^\n"
                   "  hint: did you mean `stride`?\n")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["diff", "resnet50"])
    assert exit_.value.code == 2
    capsys.readouterr()


def test_json_schema(capsys):
    _, out, _ = _run(["resnet50", WIDE, "--format", "json"], capsys)
    document = json.loads(out)
    assert set(document) == {"identical", "a", "b", "added", "removed", "changed", "blocks_changed", "checkpoint"}
    assert document["identical"] is False and document["b"]["params"] == 27_280_936
    assert {"path": "layer2", "a": "Stage(128, 4, 2)", "b": "Stage(192, 4, 2)"} in document["blocks_changed"]
    assert len(document["checkpoint"]["reshaped"]) == 67 and len(document["checkpoint"]["unchanged"]) == 253


# ---- the static state_dict against torch's --------------------------------------------------------

def test_every_op_has_a_state_rule():
    missing = sorted(set(OPS) - set(STATE) - STATELESS)
    assert not missing, f"ops without a state_dict rule in compiler/state_dict.py: {missing}"
    assert not (set(STATE) | STATELESS) - set(OPS)


def _networks(paths):
    return [relative(p) for p in paths if "network " in p.read_text()]


@pytest.fixture(scope="module")
def torch_state():
    torch = pytest.importorskip("torch")
    import cnnc

    def state(path, **params):
        # big networks on the meta device (shapes only: no memory, no initialisation); small ones on
        # the CPU, where LeNet's table conv builds its index in a loop that meta tensors slow down
        big = dsl.build(path, params=params, networkx=False).graph["totals"]["params"] > 10 ** 6
        with torch.device("meta" if big else "cpu"):
            return {k: tuple(v.shape) for k, v in cnnc.load(path, **params).state_dict().items()}
    return state


# resnet101/152 and vgg13/19 repeat the blocks of resnet50 and vgg16: left out to save time
STATE_CASES = [p for p in _networks(ARCHS) + _networks(EXAMPLES) + [WIDE, "tests/data/modern_ops.cnn"]
               if p not in ("archs/resnet152.cnn", "archs/resnet101.cnn", "archs/vgg19.cnn", "archs/vgg13.cnn")]


@pytest.mark.parametrize("path", STATE_CASES)
def test_static_state_dict_is_torchs(path, torch_state):
    assert state_dict_shapes(dsl.build(path, networkx=False)) == torch_state(path)


@pytest.mark.parametrize("a, b, params_b", [("resnet50", WIDE, {}), ("vgg16", "vgg19", {}),
                                            ("lenet5", "lenet5", {"classes": 12})])
def test_checkpoint_view_is_what_torch_loads(a, b, params_b, torch_state):
    """Load A's real state_dict into B: the keys that load, mismatch and are missing or unexpected."""
    diff = compare(dsl.build(a, networkx=False), dsl.build(b, params=params_b, networkx=False))
    sa, sb = torch_state(a), torch_state(b, **params_b)
    assert diff.unchanged_keys == [k for k in sa if k in sb and sa[k] == sb[k]]
    assert [k for k, _, _ in diff.reshaped_keys] == [k for k in sa if k in sb and sa[k] != sb[k]]
    assert diff.only_a_keys == [k for k in sa if k not in sb]  # torch: unexpected keys
    assert diff.only_b_keys == [k for k in sb if k not in sa]  # torch: missing keys
