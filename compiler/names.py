"""Identifier safety for generated Python: every name that reaches generated code passes through here.

Layer paths become module attribute names (state_dict keys); block and network names become class
names; labels and parameter names become local variables. A name is used as is when it is safe,
and mangled (a trailing `_`, repeated until unique) when it is not: a Python keyword, or a name the
generated file itself uses (`self`, `torch`, `nn`, `F`...). Module names are mangled by
`module_name` alone: an attribute nn.Module already has (`forward`, `training`, `to`...), which
torch refuses as a submodule name, gets a trailing `_`, one-to-one.
"""
from __future__ import annotations

import keyword
import re

from cnnc.dsl.diagnostics import CnnError

# Attributes of nn.Module, nn.Sequential and nn.ModuleDict (torch 2.x), dunders excluded: a child
# module cannot be registered under these names. A test checks this set against the installed torch.
MODULE_ATTRS = frozenset("""
T_destination _apply _backward_hooks _backward_pre_hooks _buffers _call_impl _compiled_call_impl
_forward_hooks _forward_hooks_always_called _forward_hooks_with_kwargs _forward_pre_hooks
_forward_pre_hooks_with_kwargs _get_backward_hooks _get_backward_pre_hooks _get_item_by_idx _get_name
_is_full_backward_hook _load_from_state_dict _load_state_dict_post_hooks _load_state_dict_pre_hooks
_maybe_warn_non_full_backward_hook _modules _named_members _non_persistent_buffers_set _parameters
_register_load_state_dict_pre_hook _register_state_dict_hook _replicate_for_data_parallel
_save_to_state_dict _slow_forward _state_dict_hooks _state_dict_pre_hooks _version _wrapped_call_impl
add_module append apply bfloat16 buffers call_super_init children clear compile cpu cuda double
dump_patches eval extend extra_repr float forward get_buffer get_extra_state get_parameter
get_submodule half insert ipu items keys load_state_dict modules mtia named_buffers named_children
named_modules named_parameters parameters pop register_backward_hook register_buffer
register_forward_hook register_forward_pre_hook register_full_backward_hook
register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook
register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook
requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train training type
update values xpu zero_grad
""".split())

# Names the generated file binds or calls at module level or inside methods.
GLOBALS = frozenset({"torch", "nn", "F", "OrderedDict", "NamedTuple", "INPUTS", "self", "super", "getattr",
                     "isinstance", "int", "tuple", "sum", "range", "len", "print", "object", "type",
                     "__name__", "__file__", "__builtins__", "__import__", "__class__", "build"})

_PART = re.compile(r"[A-Za-z0-9_-]+")


def check_part(part: str, path: str) -> str:
    """A layer path component is made of letters, digits, `_` and `-` (`block1-0`, as the language's
    labels); anything else is refused."""
    if not isinstance(part, str) or not _PART.fullmatch(part):
        raise CnnError(f"layer path `{path}` has a component {part!r} that cannot name a module")
    return part


def plain(name: str) -> bool:
    """Usable verbatim as an attribute in `obj.name` (no keyword, no private-name mangling)."""
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__")


def _unique(name: str, bad, taken) -> str:
    while name in bad or name in taken:
        name += "_"
    return name


def module_name(part: str) -> str:
    """The child name a path component registers: the component itself, unless torch forbids it
    (an nn.Module attribute or a dunder) or it is such a name followed by `_`s; those get one more
    trailing `_` (`to` -> `to_`, `to_` -> `to__`). The mapping is one-to-one, so siblings never
    share a registered name, and it needs no context: every writer of generated code and every
    reader of a module's paths computes the same name from the component alone."""
    stem = part
    while True:
        if stem in MODULE_ATTRS or (len(stem) > 4 and stem.startswith("__") and stem.endswith("__")):
            return part + "_"
        if not stem.endswith("_"):
            return part
        stem = stem[:-1]


def attribute_paths(nodes: list[str]) -> list[str]:
    """The registered module paths of layers: each path component mangled by `module_name`."""
    return [".".join(module_name(part) for part in node.split(".")) for node in nodes]


def local(name: str, taken=()) -> str:
    """A safe local variable / parameter name derived from `name`."""
    if not name.isidentifier():
        name = "v_" + re.sub(r"\W", "_", name)
    bad = GLOBALS | set(keyword.kwlist) | set(keyword.softkwlist)
    if name.startswith("__"):
        name = "v" + name
    return _unique(name, bad, set(taken))


def global_name(name: str, taken=()) -> str:
    """A safe module-level (class) name."""
    if not name.isidentifier():
        name = "N_" + re.sub(r"\W", "_", name)
    if name.startswith("_"):
        name = "N" + name
    bad = GLOBALS | set(keyword.kwlist) | set(keyword.softkwlist)
    return _unique(name, bad, set(taken))


def field_name(name: str, taken=()) -> str:
    """A NamedTuple field name: no leading underscore, no keyword; a side output declared in a block
    is named by its path (`layer2.side` -> `layer2_side`)."""
    name = local(name.replace(".", "_"), taken)
    while name.startswith("_"):
        name = "out" + name
    return _unique(name, set(), set(taken))
