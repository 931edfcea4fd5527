"""The op table: the one home of what each op means.

One `OpSpec` per op holds its arguments (and how many may be positional), defaults, shape rule,
parameter, buffer and MAC counts, receptive-field window, short label (summary, diagram, explain
and hover), family (diagram colour), whether the generated code may run it in place and whether
its output is a fresh tensor, and its line in `cnnc ops`. The rules live in dsl/ops_rules.py and
dsl/ops_labels.py; argument kinds in dsl/ops_args.py. The torch side is compiler/pyops.py, keyed by
op name (a test checks that it covers this table). Adding an op is one entry here, one there, and
its tests; a merge kind also adds its keyword to grammars/cnn.lark.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import ops_labels as L
from . import ops_rules as R
from .ops_args import REQUIRED, ArgSpec, Dims, OpProblem, axes_of, channels_of, coerce  # noqa: F401
from .ops_rules import Costs, Shape  # noqa: F401
from .values import WORDS  # noqa: F401  (the bare words some arguments take)


@dataclass(frozen=True)
class OpSpec:
    name: str
    family: str  # input, conv, pool, norm, activation, dropout, reshape, linear, merge, resample
    args: tuple[ArgSpec, ...]
    shape: Callable[[dict, list[Shape]], Shape]
    costs: Callable[[dict, list[Shape], Shape], Costs] = R.no_costs
    window: Callable[[dict, list[Shape]], object] = R.no_window  # see analysis.receptive
    doc: str = ""
    merge: bool = False
    positional: int = 0            # the first `positional` args may be given without their name
    text: Callable[[str, dict], str] = L.plain   # the short label, from the op name and its args
    inplace: bool = False          # may run in place on a fresh input nothing else reads (relu)
    fresh: bool = False            # its output is a new tensor its own backward does not need
    strided: bool = False          # a windowed op whose stride can skip the last rows (lint)
    defaults: Callable[[dict], None] | None = None  # fills defaults that depend on other arguments

    def label(self, args: dict) -> str:
        return self.text(self.name, args)


def label(data: dict) -> str:
    """The short label of one IR node (its `op` and normalised `args`): `conv 3x3, 64, /2`."""
    return OPS[data["op"]].label(data["args"])


def _spec(name, family, args, shape, costs=None, window=None, doc="", **more):
    return OpSpec(name, family, tuple(ArgSpec(*a) for a in args), shape, costs or R.no_costs,
                  window or R.no_window, doc, **more)


def _activation(name, doc, args=(), positional=0, text=L.plain, shape=R.same, **more):
    return _spec(name, "activation", args, shape, doc=doc, positional=positional, text=text, **more)


_CONV_COMMON = [("stride", "pair+", 1), ("pad", "padding", 0), ("dilation", "pair+", 1),
                ("groups", "int+", 1), ("bias", "bool", True)]

OPS: dict[str, OpSpec] = {spec.name: spec for spec in [
    _spec("input", "input", [], R.same, doc="a network input", text=lambda op, a: "input"),
    # ---- convolutions
    _spec("conv", "conv", [("out", "int+"), ("kernel", "pair+"), *_CONV_COMMON, ("table", "table?", None)],
          R.conv_shape, R.conv_costs, R.conv_window, positional=2, text=L.conv, fresh=True, strided=True,
          doc="2-D convolution; pad=same (stride 1, as torch) or pad=tf_same (TensorFlow/Keras: output "
              "ceil(size/stride), uneven padding at the bottom/right); `table` lists the input channels of "
              "each output channel (LeNet C3)"),
    _spec("deconv", "conv", [("out", "int+"), ("kernel", "pair+"), ("stride", "pair+", 1), ("pad", "pair0", 0),
                             ("output_pad", "pair0", 0), ("dilation", "pair+", 1), ("groups", "int+", 1),
                             ("bias", "bool", True)],
          R.deconv_shape, R.deconv_costs, R.deconv_window, positional=2, text=L.conv, fresh=True,
          doc="transposed convolution (upsampling by learned weights)"),
    # ---- pools
    _spec("maxpool", "pool", [("kernel", "pair+"), ("stride", "pair+?", None), ("pad", "padding", 0),
                              ("dilation", "pair+", 1), ("ceil", "bool", False)],
          R.pool_shape("maxpool"), window=R.pool_window, positional=1, text=L.pool, fresh=True, strided=True,
          doc="max pooling; stride defaults to the kernel; pad=same (stride 1, odd kernel) or pad=tf_same"),
    _spec("avgpool", "pool", [("kernel", "kernel|global"), ("stride", "pair+?", None), ("pad", "padding", 0),
                              ("ceil", "bool", False), ("count_pad", "bool?", None)],
          R.pool_shape("avgpool"), window=R.pool_window, positional=1, text=L.pool, strided=True,
          defaults=R.avgpool_defaults,
          doc="average pooling; `avgpool(global)` averages each whole map to 1x1; count_pad counts the "
              "padding in the mean (default: true as torch, false with pad=tf_same as TensorFlow); "
              "pad=same or pad=tf_same"),
    _spec("adaptive_avgpool", "pool", [("size", "pair+")], R.adaptive_shape("adaptive_avgpool"),
          window=R.adaptive_window, positional=1, text=L.adaptive, doc="average pooling to a fixed output size"),
    _spec("adaptive_maxpool", "pool", [("size", "pair+")], R.adaptive_shape("adaptive_maxpool"),
          window=R.adaptive_window, positional=1, text=L.adaptive, doc="max pooling to a fixed output size"),
    _spec("subsample", "pool", [("kernel", "pair+", 2), ("stride", "pair+?", None)],
          lambda a, s: R.pool_shape("subsample")({**a, "pad": (0, 0)}, s), R.subsample_costs, R.pool_window,
          positional=1, text=L.pool, strided=True,
          doc="LeNet-5 trainable subsampling: window sum x a per-map weight + a per-map bias"),
    # ---- norms
    _spec("batchnorm", "norm", [("eps", "float+", 1e-5), ("momentum", "float", 0.1), ("affine", "bool", True)],
          R.same_channels_first("batchnorm"), R.batchnorm_costs, fresh=True,
          doc="batch normalisation over channels (1-d on flat vectors, 2-d on feature maps)"),
    _spec("layernorm", "norm", [("eps", "float+", 1e-5), ("affine", "bool", True)], R.layernorm_shape, R.layernorm_costs,
          doc="layer normalisation over the channels, wherever they are: of each pixel of a CxHxW map "
              "(torchvision's LayerNorm2d), of a channels-last tensor or of a flat vector (nn.LayerNorm)"),
    _spec("lrn", "norm", [("size", "int+", 5), ("alpha", "float", 1e-4), ("beta", "float", 0.75), ("k", "float", 1.0)],
          R.same_spatial("lrn"), positional=1, text=L.with_arg("size"),
          doc="local response normalisation across channels"),
    _spec("scale", "norm", [("init", "float", 1.0)], R.same, R.scale_costs,
          doc="a learnable per-channel scale, a bare parameter named by the layer (ConvNeXt's layer_scale, "
              "shape Cx1x1), initialised to `init`"),
    # ---- activations
    _activation("relu", "max(0, x)", inplace=True),
    _activation("relu6", "min(max(0, x), 6)", inplace=True),
    _activation("leaky_relu", "leaky ReLU", [("slope", "float", 0.01)], 1, L.with_arg("slope", L.number)),
    _activation("elu", "exponential linear unit", [("alpha", "float", 1.0)], 1, L.with_arg("alpha", L.number, 1.0)),
    _activation("gelu", "Gaussian error linear unit (exact, as nn.GELU)"),
    _activation("silu", "x * sigmoid(x), a.k.a. swish (EfficientNet)", inplace=True),
    _activation("hardswish", "x * relu6(x + 3) / 6 (MobileNetV3)", inplace=True),
    _activation("hardsigmoid", "relu6(x + 3) / 6 (MobileNetV3's squeeze-and-excitation gate)"),
    _activation("tanh", "tanh(x)"),
    _activation("scaled_tanh", "a * tanh(s * x), LeCun's squashing function", [("a", "float", 1.7159),
                                                                                 ("s", "float", 2 / 3)]),
    _activation("sigmoid", "logistic sigmoid"),
    _activation("softmax", "softmax over channels", shape=R.same_channels_first("softmax")),
    _activation("log_softmax", "log-softmax over channels", shape=R.same_channels_first("log_softmax")),
    # ---- regularisers
    _spec("dropout", "dropout", [("p", "prob", 0.5)], R.same, positional=1, text=L.with_arg("p", L.number),
          doc="dropout"),
    _spec("dropout2d", "dropout", [("p", "prob", 0.5)], R.same_spatial("dropout2d"), positional=1,
          text=L.with_arg("p", L.number), doc="channel-wise dropout"),
    _spec("stochastic_depth", "dropout", [("p", "prob1"), ("mode", "enum:row|batch", "row")], R.same,
          positional=1, text=L.with_arg("p", L.number),
          doc="stochastic depth (torchvision's StochasticDepth): in training, zeroes each sample (mode=row) "
              "or the whole batch (mode=batch) with probability p and scales the rest by 1/(1-p); "
              "identity in eval"),
    # ---- reshapes
    _spec("flatten", "reshape", [], R.flatten_shape, window=R.all_window, doc="CxHxW -> C*H*W"),
    _spec("identity", "reshape", [], R.same, doc="passes its input through"),
    _spec("permute", "reshape", [("dims", "perm")], R.permute_shape, positional=1, text=L.permute,
          doc="reorders the axes, torch's dims with the batch first: permute([0, 2, 3, 1]) puts the channels "
              "last (then `linear` and `layernorm` act on each pixel's channels), permute([0, 3, 1, 2]) back"),
    _spec("chunk", "reshape", [("parts", "int+"), ("index", "int0")], R.chunk_shape, positional=2,
          text=L.chunk, doc="one piece of the channels split as torch's x.chunk(parts, dim=1)[index] "
                            "(ShuffleNetV2: chunk(2, 0), chunk(2, 1))"),
    _spec("channel_shuffle", "reshape", [("groups", "int+")], R.shuffle_shape, positional=1,
          text=L.with_arg("groups"), doc="interleaves the channels of `groups` groups (ShuffleNet)"),
    # ---- linear layers
    _spec("linear", "linear", [("out", "int+"), ("bias", "bool", True)], R.linear_shape, R.linear_costs,
          window=R.linear_window, positional=1, text=L.with_arg("out"), fresh=True,
          doc="fully connected layer, on a flat vector or on the channels of a channels-last tensor"),
    _spec("rbf", "linear", [("units", "int+")], R.rbf_shape,
          lambda a, i, o: Costs(buffers=a["units"] * i[0][0]), R.all_window, positional=1,
          text=L.with_arg("units"), doc="Euclidean RBF output units with fixed +-1 prototypes (LeNet-5)"),
    # ---- resampling
    _spec("upsample", "resample", [("scale", "int+", 2), ("mode", "enum:nearest|bilinear", "nearest")],
          R.upsample_shape, window=R.up_window, positional=1, text=L.upsample, fresh=True,
          doc="upsampling by an integer factor"),
    # ---- merges: `KIND { ... } | { ... }`
    _spec("concat", "merge", [], R.concat_shape, doc="joins branches along channels", merge=True, fresh=True),
    _spec("add", "merge", [], R.add_shape, doc="adds branches element-wise (residual); shapes must be equal",
          merge=True, fresh=True),
    _spec("mul", "merge", [], R.mul_shape, merge=True, fresh=True,
          doc="multiplies branches element-wise, broadcasting a size of 1 (squeeze-and-excitation: "
              "mul {} | { ...gate Cx1x1 }); 0 MACs, as torchvision counts"),
]}

LAYER_OPS = frozenset(name for name, spec in OPS.items() if not spec.merge and name != "input")
MERGE_OPS = tuple(name for name, spec in OPS.items() if spec.merge)
