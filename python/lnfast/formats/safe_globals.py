"""The only pickle globals that resolve to something other than a placeholder.

Each allowed name maps to our own small implementation - never to the real
torch, collections or builtins object - wrapped so the pickle cannot modify
it (BUILD on a global would otherwise set attributes on it). Constructors
that copy their argument charge a budget so repeated calls cannot multiply
memory or hashing work. Everything not listed here becomes an InertObject
subclass.
"""

from __future__ import annotations

from collections import OrderedDict

from .inert import describe, is_placeholder_class, make_placeholder_class
from .problem import FormatProblem
from .tensor_rebuild import StorageRef, TensorRef, make_tensor_ref
from .torch_types import DTYPES_BY_NAME, STORAGE_TYPES
from .unpickle_limits import UnpickleLimits


class SafeCallable:
    """An allowed global: callable by the pickle, immutable to it."""

    __slots__ = ("qualified_name", "function", "rebuilds_tensor")

    def __init__(self, qualified_name: str, function, rebuilds_tensor: bool = False):
        self.qualified_name = qualified_name
        self.function = function
        self.rebuilds_tensor = rebuilds_tensor

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def __setstate__(self, state):
        raise FormatProblem(f"the file tries to modify the global {self.qualified_name}")

    def __reduce__(self):
        raise TypeError("safe globals are not picklable")

    def __repr__(self):
        return f"<safe {self.qualified_name}>"


# --- tensor rebuilds (torch._utils, torch._tensor) -----------------------


def _storage_dtype(storage):
    # make_tensor_ref reports a non-storage; here just avoid touching it.
    return storage.dtype if isinstance(storage, StorageRef) else None


def _rebuild_tensor(storage, storage_offset, size, stride):
    return make_tensor_ref(storage, _storage_dtype(storage), storage_offset, size, stride)


def _rebuild_tensor_v2(
    storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None
):
    # requires_grad and hooks only matter for training; hooks that are
    # pickled functions arrive as inert placeholders and are never called.
    return make_tensor_ref(
        storage, _storage_dtype(storage), storage_offset, size, stride, metadata
    )


def _rebuild_tensor_v3(
    storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None
):
    return make_tensor_ref(storage, dtype, storage_offset, size, stride, metadata)


def _require_tensor(data, context: str) -> TensorRef:
    if not isinstance(data, TensorRef):
        raise FormatProblem(f"{context} is {describe(data)}, not a tensor")
    return data


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return _require_tensor(data, "a parameter's data")


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _require_tensor(data, "a parameter's data")


def _rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    return _require_tensor(data, "a device tensor's data")


def _rebuild_from_type(func, new_type, args, state):
    # Tensor subclasses: `new_type` is a class we never import, so the
    # result is a plain tensor; `func` must be one of our rebuilds.
    if not (isinstance(func, SafeCallable) and func.rebuilds_tensor):
        raise FormatProblem(f"a tensor subclass is rebuilt through {describe(func)}")
    if not isinstance(args, tuple):
        raise FormatProblem(f"tensor subclass arguments are {describe(args)}, not a tuple")
    return func(*args)


# --- containers ----------------------------------------------------------

_COPYABLE = (list, tuple, dict, set, frozenset, str, bytes)


class _Constructors:
    """Container constructors that pay for what they build and hash."""

    def __init__(self, limits: UnpickleLimits):
        self.limits = limits

    def _source(self, name: str, args: tuple):
        if len(args) > 1:
            raise FormatProblem(f"{name} called with {len(args)} arguments")
        if not args:
            return ()
        source = args[0]
        if not isinstance(source, _COPYABLE):
            raise FormatProblem(f"{name} called on {describe(source)}")
        # Iterate a mapping through dict's own method: instance attributes
        # of a file-made object must never be called.
        items = list(dict.keys(source) if isinstance(source, dict) else source)
        self.limits.charge(56 + 8 * len(items))
        return items

    def _pairs(self, name: str, args: tuple):
        source = args[0] if args else ()
        if isinstance(source, dict):
            pairs = list(dict.items(source))
        else:
            pairs = self._source(name, args)
            if not all(type(pair) in (tuple, list) and len(pair) == 2 for pair in pairs):
                raise FormatProblem(f"{name} called on something other than key/value pairs")
        self.limits.check_keys(pair[0] for pair in pairs)
        self.limits.charge(104 + 64 * len(pairs))
        return pairs

    def list(self, *args):
        return list(self._source("builtins.list", args))

    def tuple(self, *args):
        return self.limits.new_tuple(self._source("builtins.tuple", args))

    def set(self, *args):
        items = self._source("builtins.set", args)
        self.limits.check_keys(items)
        self.limits.charge(232 + 64 * len(items))
        return set(items)

    def frozenset(self, *args):
        items = self._source("builtins.frozenset", args)
        self.limits.check_keys(items)
        self.limits.charge(232 + 64 * len(items))
        return frozenset(items)

    def dict(self, *args):
        return dict(self._pairs("builtins.dict", args))

    def ordered_dict(self, *args):
        return OrderedDict(self._pairs("collections.OrderedDict", args))

    def encode(self, text, encoding="utf-8", errors="strict"):
        # Protocol 2 pickles bytes objects as _codecs.encode(str, "latin1").
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise FormatProblem("_codecs.encode is only allowed to rebuild latin-1 bytes")
        self.limits.charge(40 + len(text))
        return text.encode("latin-1")


def _reconstructor(cls, base, state):
    # copy_reg._reconstructor is how protocol 0/1 pickles allocate an
    # object of a class; for a placeholder class that is just an instance.
    if not is_placeholder_class(cls):
        raise FormatProblem(f"copyreg._reconstructor used on {describe(cls)}")
    instance = cls.__new__(cls)
    if state is not None:
        instance.inert_args = (state,)
    return instance


def _identity_first(value, *rest):
    return value


def _same_list(data):
    return data


_TENSOR_REBUILDS = {
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch._utils", "_rebuild_device_tensor_from_cpu_tensor"): (
        _rebuild_device_tensor_from_cpu_tensor
    ),
}

_OTHER_FUNCTIONS = {
    ("torch._tensor", "_rebuild_from_type"): _rebuild_from_type,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
    ("copyreg", "_reconstructor"): _reconstructor,
    # TorchScript wraps containers in type tags and typed-list builders;
    # all of them return their data unchanged.
    ("torch.jit._pickle", "restore_type_tag"): _identity_first,
    ("torch.jit._pickle", "build_intlist"): _same_list,
    ("torch.jit._pickle", "build_tensorlist"): _same_list,
    ("torch.jit._pickle", "build_doublelist"): _same_list,
    ("torch.jit._pickle", "build_boollist"): _same_list,
}

_CONSTRUCTOR_METHODS = {
    "builtins": {
        "list": "list",
        "tuple": "tuple",
        "set": "set",
        "frozenset": "frozenset",
        "dict": "dict",
    },
    "collections": {"OrderedDict": "ordered_dict"},
    "torch": {"Size": "tuple"},
    "_codecs": {"encode": "encode"},
}


# What a new placeholder class costs (a type object and its dicts).
_PLACEHOLDER_CLASS_BYTES = 2048


class SafeGlobals:
    """Resolves the (module, name) pairs one pickle asks for."""

    def __init__(self, limits: UnpickleLimits):
        self._limits = limits
        self._constructors = _Constructors(limits)
        self._resolved: dict[tuple[str, str], object] = {}
        self.placeholder_names: set[str] = set()

    def resolve(self, module: str, name: str):
        key = (module, name)
        if key not in self._resolved:
            self._resolved[key] = self._lookup(module, name)
        return self._resolved[key]

    def _lookup(self, module: str, name: str):
        qualified = f"{module}.{name}"
        if (module, name) in _TENSOR_REBUILDS:
            return SafeCallable(qualified, _TENSOR_REBUILDS[(module, name)], rebuilds_tensor=True)
        if (module, name) in _OTHER_FUNCTIONS:
            return SafeCallable(qualified, _OTHER_FUNCTIONS[(module, name)])
        method = _CONSTRUCTOR_METHODS.get(module, {}).get(name)
        if method is not None:
            return SafeCallable(qualified, getattr(self._constructors, method))
        if (module, name) in STORAGE_TYPES:
            return STORAGE_TYPES[(module, name)]
        if module == "torch" and name in DTYPES_BY_NAME:
            return DTYPES_BY_NAME[name]
        self._limits.charge(_PLACEHOLDER_CLASS_BYTES + len(module) + len(name))
        placeholder = make_placeholder_class(module, name)
        self.placeholder_names.add(placeholder.inert_global)
        return placeholder
