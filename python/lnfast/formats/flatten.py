"""Turn an unpickled object graph into dotted names for its tensors.

{"state_dict": {"rnn.weight_ih_l0": T}} gives "state_dict.rnn.weight_ih_l0",
a list under "layers" gives "layers.0", ... and an inert object (a pickled
nn.Module, a TorchScript module) contributes its recorded attributes, with
nn.Module's bookkeeping dicts (_parameters, _buffers, _modules) left out of
the names so a pickled module reads like its state_dict.

The walk is iterative and visits each object once, so deep nesting, cycles
and heavily shared sub-graphs in a hostile pickle cost linear time. A
tensor reachable from several places keeps its first name; the others are
reported as aliases.

This is also where an inert placeholder on the path of a tensor is caught:
 - a placeholder that was handed a storage (a tensor being rebuilt by code
   we will not run, e.g. os.system put in place of _rebuild_tensor_v2, or
   torch._utils._rebuild_qtensor);
 - a placeholder sitting in a container whose other entries are all
   tensors (a state dict), where a tensor is expected.
Placeholders elsewhere (hyper-parameters, callbacks, module objects) stay
inert and are simply not tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .inert import InertObject, describe
from .problem import FormatProblem, shown
from .tensor_rebuild import StorageRef, TensorRef

_MODULE_BOOKKEEPING = frozenset({"_parameters", "_buffers", "_modules"})
# How many of a placeholder's arguments to look at for a storage; torch's
# rebuild functions take at most eight.
_ARGUMENT_SCAN_WIDTH = 16
ROOT_TENSOR_NAME = "tensor"


@dataclass
class Flattened:
    tensors: dict[str, TensorRef] = field(default_factory=dict)
    # Later name -> the name the same tensor was first found under.
    aliases: dict[str, str] = field(default_factory=dict)


def _join(path: str, label: str) -> str:
    return label if not path else f"{path}.{label}"


def _receives_storage(placeholder: InertObject) -> bool:
    # Storages only ever appear as direct arguments of a tensor rebuild.
    # Looking no deeper keeps this O(1) per placeholder, so a pickle cannot
    # make the check itself expensive by sharing one huge argument tuple.
    arguments = placeholder.inert_args[:_ARGUMENT_SCAN_WIDTH]
    keywords = list(placeholder.inert_kwargs.values())[:_ARGUMENT_SCAN_WIDTH]
    return any(isinstance(value, StorageRef) for value in (*arguments, *keywords))


def _label(key) -> str | None:
    """The name segment for a dict key, or None for keys we cannot name."""
    if isinstance(key, str):
        return key
    if isinstance(key, (bool, float)):
        return repr(key)
    # str() of an int beyond 4300 digits raises; no real key is that long.
    if isinstance(key, int) and key.bit_length() <= 64:
        return str(key)
    return None


def _container_children(obj) -> list[tuple[str, object]]:
    if isinstance(obj, dict):
        labelled = [(_label(key), value) for key, value in obj.items()]
        return [(label, value) for label, value in labelled if label is not None]
    return [(str(index), value) for index, value in enumerate(obj)]


def _inert_children(obj: InertObject) -> list[tuple[str | None, object]]:
    """Attributes and items an inert object recorded; None label = same path."""
    children: list[tuple[str | None, object]] = []
    state = obj.inert_state
    # BUILD state is a dict, a (dict, slots dict) pair, or anything a
    # custom __setstate__ accepted.
    if (
        isinstance(state, tuple)
        and len(state) == 2
        and all(part is None or isinstance(part, dict) for part in state)
    ):
        parts = [part for part in state if part]
    elif isinstance(state, dict):
        parts = [state]
    else:
        parts = []
        if state is not None:
            children.append((None, state))
    for part in parts:
        for key, value in part.items():
            if key in _MODULE_BOOKKEEPING:
                children.append((None, value))
            elif _label(key) is not None:
                children.append((_label(key), value))
    for index, item in enumerate(obj.inert_items):
        # __setitem__ records (key, value) pairs; append records items.
        if isinstance(item, tuple) and len(item) == 2 and _label(item[0]) is not None:
            children.append((_label(item[0]), item[1]))
        else:
            children.append((str(index), item))
    return children


def _refuse_placeholders_among_tensors(path: str, children) -> None:
    values = [value for _, value in children]
    if not any(isinstance(value, TensorRef) for value in values):
        return
    if not all(isinstance(value, (TensorRef, InertObject)) for value in values):
        return
    for label, value in children:
        if isinstance(value, InertObject):
            raise FormatProblem(
                f"{shown(_join(path, label))} is {describe(value)} where the other entries are "
                "tensors; refusing to guess what tensor it stands for"
            )


def flatten(roots: list[tuple[str, object]]) -> Flattened:
    result = Flattened()
    first_name: dict[int, str] = {}
    visited: set[int] = set()
    stack: list[tuple[str, object]] = list(reversed(roots))
    while stack:
        path, obj = stack.pop()
        if isinstance(obj, TensorRef):
            name = path or ROOT_TENSOR_NAME
            if id(obj) in first_name:
                result.aliases[name] = first_name[id(obj)]
                continue
            if name in result.tensors:
                raise FormatProblem(f"two different tensors are both named {shown(name)}")
            first_name[id(obj)] = name
            result.tensors[name] = obj
            continue
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in visited:
                continue
            visited.add(id(obj))
            children = _container_children(obj)
            _refuse_placeholders_among_tensors(path, children)
            stack.extend((_join(path, label), value) for label, value in reversed(children))
        elif isinstance(obj, InertObject):
            if id(obj) in visited:
                continue
            visited.add(id(obj))
            if _receives_storage(obj):
                raise FormatProblem(
                    f"{shown(path) if path else 'the root object'} is {describe(obj)} applied to tensor "
                    "storage; that global is not a known tensor rebuild and is never run"
                )
            children = _inert_children(obj)
            named = [(label, value) for label, value in children if label is not None]
            _refuse_placeholders_among_tensors(path, named)
            stack.extend(
                (path if label is None else _join(path, label), value)
                for label, value in reversed(children)
            )
        # Sets, storages, numbers, strings and placeholder classes hold no
        # nameable tensors.
    return result
