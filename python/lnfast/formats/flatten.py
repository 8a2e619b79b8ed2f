"""Turn an unpickled object graph into dotted names for its tensors.

{"state_dict": {"rnn.weight_ih_l0": T}} gives "state_dict.rnn.weight_ih_l0",
a list under "layers" gives "layers.0", ... and an inert object (a pickled
nn.Module, a TorchScript module) contributes its recorded attributes, with
nn.Module's bookkeeping dicts (_parameters, _buffers, _modules) left out of
the names so a pickled module reads like its state_dict.

The walk costs time and memory linear in the pickle, whatever its shape:
 - it is iterative and visits each container once, so deep nesting, cycles
   and shared sub-graphs are cheap;
 - names are built only for tensors: a path is a chain of (parent, label)
   links, so a megabyte key over a list of 200 000 items is not copied
   into 200 000 strings, and a tensor name longer than MAX_NAME_LENGTH is
   refused;
 - each link builds its string at most once, from its parent's, and every
   string built is charged to the read's budget: 100 000 tensors 2 000
   dicts deep each get a 4 000-character name, and those 400 MB must be
   paid for like any other object;
 - file-made dicts are read through dict's own methods, never through
   attributes the file could have set.
A tensor reachable from several places keeps its first name; the others are
reported as aliases (the first MAX_ALIASES of them).

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
from .limits import Budget
from .problem import FormatProblem, clipped
from .tensor_rebuild import StorageRef, TensorRef

MAX_NAME_LENGTH = 4096
MAX_ALIASES = 1000
ROOT_TENSOR_NAME = "tensor"
_MODULE_BOOKKEEPING = frozenset({"_parameters", "_buffers", "_modules"})
# How many of a placeholder's arguments to look at for a storage; torch's
# rebuild functions take at most eight.
_ARGUMENT_SCAN_WIDTH = 16
_CONTAINERS = (dict, list, tuple)
# A visited-set entry (and its int), a path link and a suspended iterator;
# an inert object's iterator is a generator, whose frame is larger.
_VISIT_BYTES = 384
_STRING_BYTES = 56
_INERT_VISIT_BYTES = 1024


@dataclass
class Flattened:
    tensors: dict[str, TensorRef] = field(default_factory=dict)
    # Later name -> the name the same tensor was first found under.
    aliases: dict[str, str] = field(default_factory=dict)


class _Path:
    """A dotted name as a chain of links; the string is built on demand."""

    __slots__ = ("parent", "label", "length", "_text")

    def __init__(self, parent: _Path | None, label: str):
        self.parent = parent
        self.label = label
        self._text: str | None = None
        if parent is None or parent.length == 0:
            self.length = len(label)
        else:
            self.length = parent.length + 1 + len(label)

    def child(self, label: str | None) -> _Path:
        return self if label is None else _Path(self, label)

    def labels_from_root(self, limit: int) -> list[str]:
        """The last labels whose total length reaches `limit`, root first."""
        labels, total, node = [], 0, self
        while node is not None and node.length > 0 and total <= limit:
            labels.append(node.label)
            total += len(node.label) + 1
            node = node.parent
        return labels[::-1]

    def text(self, budget: Budget) -> str:
        """The dotted name, built from the nearest ancestor that has one."""
        if self.length > MAX_NAME_LENGTH:
            raise FormatProblem(
                f"a tensor's name would be {self.length} characters long "
                f"(limit {MAX_NAME_LENGTH}): ...{self.shown()[-80:]}"
            )
        pending, node = [], self
        while node is not None and node._text is None and node.length > 0:
            pending.append(node)
            node = node.parent
        for node in reversed(pending):
            above = node.parent._text if node.parent is not None and node.parent.length > 0 else ""
            node._text = f"{above}.{node.label}" if above else node.label
            budget.charge(_STRING_BYTES + len(node._text))
        return self._text or ""

    def shown(self) -> str:
        """A printable, clipped form for error messages."""
        if self.length == 0:
            return "the root object"
        text = ".".join(self.labels_from_root(200))
        if len(text) < self.length:
            text = "..." + text[-200:]
        return "'" + clipped(text) + "'"


_ROOT = _Path(None, "")


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


_VISITABLE = (TensorRef, InertObject, *_CONTAINERS)


def _worth_visiting(value) -> bool:
    return isinstance(value, _VISITABLE)


def _receives_storage(placeholder: InertObject) -> bool:
    # Storages only ever appear as direct arguments of a tensor rebuild.
    # Looking no deeper keeps this O(1) per placeholder, so a pickle cannot
    # make the check itself expensive by sharing one huge argument tuple.
    arguments = placeholder.inert_args[:_ARGUMENT_SCAN_WIDTH]
    keywords = list(dict.values(placeholder.inert_kwargs))[:_ARGUMENT_SCAN_WIDTH]
    return any(isinstance(value, StorageRef) for value in (*arguments, *keywords))


def _container_items(obj):
    """An iterator of (key, value) pairs of a dict, list or tuple."""
    if isinstance(obj, dict):
        return iter(dict.items(obj))
    return enumerate(obj)


def _state_parts(placeholder: InertObject) -> list:
    # BUILD state is a dict, a (dict, slots dict) pair, or anything a
    # custom __setstate__ accepted.
    state = placeholder.inert_state
    if (
        type(state) is tuple
        and len(state) == 2
        and all(part is None or isinstance(part, dict) for part in state)
    ):
        return [part for part in state if part]
    if isinstance(state, dict):
        return [state]
    return []


def _inert_items(placeholder: InertObject):
    """(label or None, value) pairs an inert object recorded; None = same path."""
    state = placeholder.inert_state
    if state is not None and not _state_parts(placeholder):
        yield None, state
    for part in _state_parts(placeholder):
        for key, value in dict.items(part):
            yield (None if key in _MODULE_BOOKKEEPING else key), value
    for index, item in enumerate(placeholder.inert_items):
        # __setitem__ records (key, value) pairs; append records items.
        if type(item) is tuple and len(item) == 2 and _label(item[0]) is not None:
            yield item
        else:
            yield index, item


def _refuse_placeholders_among_tensors(path: _Path, items) -> None:
    has_tensor = False
    placeholder = None
    for key, value in items:
        if isinstance(value, TensorRef):
            has_tensor = True
        elif isinstance(value, InertObject):
            placeholder = placeholder or (key, value)
        elif key is not None:
            return  # a plain value: not a state dict
    if has_tensor and placeholder is not None:
        key, value = placeholder
        where = path.child(_label(key) or "?").shown()
        raise FormatProblem(
            f"{where} is {describe(value)} where the other entries are tensors; "
            "refusing to guess what tensor it stands for"
        )


def flatten(roots: list[tuple[str, object]], budget: Budget) -> Flattened:
    """Name the tensors under `roots`; the walk's own memory (its visited
    set and iterator stack) is charged to the read's budget too."""
    result = Flattened()
    first_name: dict[int, str] = {}
    visited: set[int] = set()
    # (path, iterator of (key, value)) per open container: memory grows
    # with nesting depth, not with the width of any container. A None key
    # keeps the parent's path (the root, nn.Module bookkeeping dicts).
    stack = [(_ROOT, iter([(name or None, value) for name, value in roots]))]
    while stack:
        parent, items = stack[-1]
        entry = next(items, None)
        if entry is None:
            stack.pop()
            continue
        key, obj = entry
        if not _worth_visiting(obj):
            continue
        if key is None:
            path = parent
        else:
            label = _label(key)
            if label is None:
                continue
            path = _Path(parent, label)
        if isinstance(obj, TensorRef):
            _record_tensor(result, first_name, path, obj, budget)
        elif id(obj) in visited or (isinstance(obj, _CONTAINERS) and not obj):
            continue
        elif isinstance(obj, _CONTAINERS):
            budget.charge(_VISIT_BYTES)
            visited.add(id(obj))
            _refuse_placeholders_among_tensors(path, _container_items(obj))
            stack.append((path, _container_items(obj)))
        else:  # an InertObject
            budget.charge(_INERT_VISIT_BYTES)
            visited.add(id(obj))
            if _receives_storage(obj):
                raise FormatProblem(
                    f"{path.shown()} is {describe(obj)} applied to tensor storage; "
                    "that global is not a known tensor rebuild and is never run"
                )
            _refuse_placeholders_among_tensors(
                path, ((key, value) for key, value in _inert_items(obj) if key is not None)
            )
            stack.append((path, _inert_items(obj)))
        # Sets, storages, numbers, strings and placeholder classes hold no
        # nameable tensors: _worth_visiting skipped them.
    return result


def _record_tensor(result: Flattened, first_name: dict, path: _Path, ref: TensorRef, budget) -> None:
    if id(ref) in first_name:
        # Aliases are informational: past the cap, or unnameable, they are
        # simply not listed.
        if len(result.aliases) < MAX_ALIASES and path.length <= MAX_NAME_LENGTH:
            result.aliases[path.text(budget) or ROOT_TENSOR_NAME] = first_name[id(ref)]
        return
    name = path.text(budget) or ROOT_TENSOR_NAME
    if name in result.tensors:
        raise FormatProblem(f"two different tensors are both named {path.shown()}")
    first_name[id(ref)] = name
    result.tensors[name] = ref
