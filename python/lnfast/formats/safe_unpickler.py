"""An unpickler that never imports or runs anything the file names.

This is a security boundary. Every global goes through find_class, which
answers only from SafeGlobals (our own tensor-rebuild and container
implementations) and otherwise hands back an inert placeholder class.
Persistent ids - torch's references to tensor storages - go to a
reader-specific loader, and nothing else is accepted.

It is built on pickle's pure-Python unpickler, not the C one, on purpose:
 - memory safety: while this reader still used the C unpickler, fuzzing
   with mutated checkpoints crashed CPython 3.11 twice (a segfault during
   garbage collection, cause not pinned down). C code parsing hostile
   bytes can corrupt memory; Python code can only raise;
 - control: the opcodes that allocate, hash or call are replaced below by
   versions that charge UnpickleLimits first, and those that could bypass
   find_class (EXT*) or write into objects (BUILD) are narrowed.
It takes about three times as long as the C unpickler: well under a second
for a checkpoint with ten thousand tensors.
"""

from __future__ import annotations

import _compat_pickle
import pickle
import struct
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from .checkpoint_file import CheckpointFile
from .inert import InertObject, describe, is_placeholder_class
from .limits import Budget
from .problem import FormatProblem, clipped, shown
from .safe_globals import SafeGlobals
from .unpickle_limits import UnpickleLimits

StorageLoader = Callable[[tuple], object]

# What each opcode may allocate beyond its own bytes, in bytes: the new
# object plus its slot on the stack. Estimates err high; counts of items
# are charged separately where an opcode takes a variable number of them.
_OPCODE_BYTES = {
    pickle.EMPTY_LIST: 64,
    pickle.EMPTY_DICT: 72,
    pickle.EMPTY_SET: 232,
    pickle.MARK: 64,
    pickle.BININT: 40,
    pickle.BININT2: 40,
    pickle.INT: 40,
    pickle.LONG: 40,
    pickle.LONG1: 40,
    pickle.LONG4: 40,
    pickle.BINFLOAT: 32,
    pickle.FLOAT: 32,
    pickle.SHORT_BINUNICODE: 64,
    pickle.BINUNICODE: 64,
    pickle.BINUNICODE8: 64,
    pickle.UNICODE: 64,
    pickle.STRING: 64,
    pickle.BINSTRING: 64,
    pickle.SHORT_BINSTRING: 64,
    pickle.SHORT_BINBYTES: 64,
    pickle.BINBYTES: 64,
    pickle.BINBYTES8: 64,
    pickle.BINPUT: 112,
    pickle.LONG_BINPUT: 112,
    pickle.PUT: 112,
    pickle.MEMOIZE: 112,
    pickle.BINPERSID: 160,
    pickle.PERSID: 160,
    pickle.GLOBAL: 64,
    pickle.STACK_GLOBAL: 64,
}
_STACK_SLOT_BYTES = 8
# Opcodes that only push a reference still grow the stack.
for _opcode in (
    pickle.NONE, pickle.NEWTRUE, pickle.NEWFALSE, pickle.EMPTY_TUPLE, pickle.BININT1,
    pickle.DUP, pickle.GET, pickle.BINGET, pickle.LONG_BINGET,
):
    _OPCODE_BYTES[_opcode] = _STACK_SLOT_BYTES
del _opcode
# An object built by a call or NEWOBJ: an inert placeholder, an OrderedDict,
# a tensor reference.
_OBJECT_BYTES = 256
# Protocol-0 PUT takes any decimal number; real writers number memo slots
# from 0, and the binary PUTs cannot exceed 2**32 either.
_MEMO_INDEX_LIMIT = 1 << 32


def _charged(handler, nbytes: int):
    def charge_then_load(self):
        self.limits.charge(nbytes)
        handler(self)

    return charge_then_load


class SafeUnpickler(pickle._Unpickler):
    """Unpickle from a bounded stream (checkpoint_file.RegionReader) without side effects.

    load_storage receives the fields after "storage" in a ('storage', ...)
    persistent id; None means this pickle may not reference storages.
    allow_module_ids accepts the legacy format's ('module', cls, file,
    source) ids, which describe a pickled nn.Module class; the class itself
    is already a placeholder, so the id simply resolves to it.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(
        self,
        stream,
        what: str,
        budget: Budget,
        load_storage: StorageLoader | None = None,
        allow_module_ids: bool = False,
    ):
        super().__init__(stream, encoding="utf-8")
        self.what = what
        self.limits = UnpickleLimits(budget)
        self.globals = SafeGlobals(self.limits)
        self._load_storage = load_storage
        self._allow_module_ids = allow_module_ids

    # --- names and persistent ids -------------------------------------

    def find_class(self, module, name):
        if not isinstance(module, str) or not isinstance(name, str):
            raise FormatProblem(f"{self.what} names a global that is not a string")
        # Protocol 2 writes Python 2 names (__builtin__.eval, copy_reg...);
        # translate them as pickle itself would, so allow-listing and
        # reports use one spelling. This is a table lookup, not an import.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        return self.globals.resolve(module, name)

    def persistent_load(self, pid):
        kind = pid[0] if isinstance(pid, tuple) and pid else None
        if isinstance(kind, bytes):
            kind = kind.decode("ascii", "replace")
        if kind == "storage" and self._load_storage is not None:
            return self._load_storage(pid[1:])
        if kind == "module" and self._allow_module_ids and len(pid) >= 2:
            return pid[1]
        text = shown(kind) if isinstance(kind, str) else describe(pid)
        raise FormatProblem(
            f"{self.what} has a persistent id that is not a storage reference: {text}"
        )

    # --- opcodes replaced ------------------------------------------------

    def _refuse_extension(self):
        # EXT opcodes look names up in copyreg's process-wide registry and
        # cache, which can hold real objects and would keep our
        # placeholders. torch never writes them.
        raise FormatProblem(f"{self.what} uses a copyreg extension code; not a torch pickle")

    def _load_bytearray8(self):
        # The stock handler allocates the declared length before reading.
        (length,) = struct.unpack("<Q", self.read(8))
        data = self.read(length)
        if len(data) != length:
            raise FormatProblem(f"{self.what}: BYTEARRAY8 runs past the end of the data")
        self.limits.charge(64 + length)
        self.append(bytearray(data))

    def _load_put(self):
        index = int(self.readline()[:-1])
        if not 0 <= index < _MEMO_INDEX_LIMIT:
            raise FormatProblem(f"{self.what}: memo index {shown(index)} is out of range")
        self.limits.charge(_OPCODE_BYTES[pickle.PUT])
        self.memo[index] = self.stack[-1]

    def _load_tuple(self):
        items = self.pop_mark()  # before self.append: it rebinds append
        self.append(self.limits.new_tuple(items))

    def _load_tuple1(self):
        self.stack[-1] = self.limits.new_tuple(self.stack[-1:])

    def _load_tuple2(self):
        self.stack[-2:] = [self.limits.new_tuple(self.stack[-2:])]

    def _load_tuple3(self):
        self.stack[-3:] = [self.limits.new_tuple(self.stack[-3:])]

    def _load_list(self):
        items = self.pop_mark()
        self.limits.charge(64 + 8 * len(items))
        self.append(items)

    def _load_dict(self):
        items = self.pop_mark()
        self.limits.check_keys(items[0::2])
        self.limits.charge(72 + 64 * len(items))
        self.append({items[i]: items[i + 1] for i in range(0, len(items) - 1, 2)})

    def _load_frozenset(self):
        items = self.pop_mark()
        self.limits.check_keys(items)
        self.limits.charge(232 + 64 * len(items))
        self.append(frozenset(items))

    def _set_items(self, target, items):
        if len(items) % 2:
            raise FormatProblem(f"{self.what}: SETITEMS with an odd number of items")
        if isinstance(target, dict):
            self.limits.check_keys(items[0::2], target)
        self.limits.charge(64 * len(items))
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def _load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._set_items(self.stack[-1], [key, value])

    def _load_setitems(self):
        items = self.pop_mark()
        self._set_items(self.stack[-1], items)

    def _load_additems(self):
        items = self.pop_mark()
        target = self.stack[-1]
        self.limits.charge(64 * len(items))
        if type(target) is set:
            self.limits.check_keys(items, target)
            target.update(items)
        elif isinstance(target, InertObject):
            target.extend(items)
        else:
            raise FormatProblem(f"{self.what}: ADDITEMS on {describe(target)}")

    def _load_appends(self):
        items = self.pop_mark()
        target = self.stack[-1]
        # Lists over-allocate by up to an eighth as they grow.
        self.limits.charge(10 * len(items))
        if type(target) is list:
            target.extend(items)
        elif isinstance(target, InertObject):
            target.extend(items)
        else:
            raise FormatProblem(f"{self.what}: APPENDS on {describe(target)}")

    def _load_append(self):
        item = self.stack.pop()
        target = self.stack[-1]
        self.limits.charge(_STACK_SLOT_BYTES)
        if type(target) is list or isinstance(target, InertObject):
            target.append(item)
        else:
            raise FormatProblem(f"{self.what}: APPEND on {describe(target)}")

    def _load_reduce(self):
        args = self.stack.pop()
        function = self.stack[-1]
        if type(args) is not tuple:
            raise FormatProblem(f"{self.what}: REDUCE arguments are {describe(args)}")
        self.limits.charge(_OBJECT_BYTES + 8 * len(args))
        self.stack[-1] = function(*args)

    def _load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._allocate(cls, args, {}))

    def _load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        if type(kwargs) is not dict or not all(type(key) is str for key in kwargs):
            raise FormatProblem(f"{self.what}: NEWOBJ_EX keywords are not a str-keyed dict")
        self.append(self._allocate(cls, args, kwargs))

    def _allocate(self, cls, args, kwargs):
        # Only placeholder classes are ever allocated; our own types are not
        # meant to be created without their constructors' checks.
        if not is_placeholder_class(cls):
            raise FormatProblem(f"{self.what}: NEWOBJ of {describe(cls)}")
        if type(args) is not tuple:
            raise FormatProblem(f"{self.what}: NEWOBJ arguments are {describe(args)}")
        self.limits.charge(_OBJECT_BYTES + 8 * (len(args) + len(kwargs)))
        return cls.__new__(cls, *args, **kwargs)

    def _load_build(self):
        state = self.stack.pop()
        target = self.stack[-1]
        # The method is looked up on the type: an attribute the file planted
        # on an instance must never be what gets called.
        setstate = getattr(type(target), "__setstate__", None)
        if setstate is not None and not isinstance(target, type):
            self.limits.charge(_STACK_SLOT_BYTES)
            setstate(target, state)
        elif type(target) is OrderedDict:
            # torch gives state-dict OrderedDicts a _metadata attribute this
            # way; it means nothing to us and is dropped, so no attribute of
            # a file-made dict can ever shadow one of its methods.
            self.limits.charge(_STACK_SLOT_BYTES)
        else:
            raise FormatProblem(f"{self.what}: BUILD on {describe(target)}")

    # Opcodes kept from pickle are only charged for what they allocate.
    for _opcode, _nbytes in _OPCODE_BYTES.items():
        dispatch[_opcode[0]] = _charged(dispatch[_opcode[0]], _nbytes)

    for _opcode, _handler in {
        pickle.APPEND: _load_append,
        pickle.EXT1: _refuse_extension,
        pickle.EXT2: _refuse_extension,
        pickle.EXT4: _refuse_extension,
        pickle.BYTEARRAY8: _load_bytearray8,
        pickle.PUT: _load_put,
        pickle.TUPLE: _load_tuple,
        pickle.TUPLE1: _load_tuple1,
        pickle.TUPLE2: _load_tuple2,
        pickle.TUPLE3: _load_tuple3,
        pickle.LIST: _load_list,
        pickle.DICT: _load_dict,
        pickle.FROZENSET: _load_frozenset,
        pickle.SETITEM: _load_setitem,
        pickle.SETITEMS: _load_setitems,
        pickle.ADDITEMS: _load_additems,
        pickle.APPENDS: _load_appends,
        pickle.REDUCE: _load_reduce,
        pickle.NEWOBJ: _load_newobj,
        pickle.NEWOBJ_EX: _load_newobj_ex,
        pickle.BUILD: _load_build,
    }.items():
        dispatch[_opcode[0]] = _handler
    del _opcode, _handler, _nbytes

    def load(self):
        try:
            with warnings.catch_warnings():
                # Decoding a protocol-0 string with an invalid escape only
                # warns; no real pickler writes one, so it is malformed data.
                warnings.simplefilter("error")
                return super().load()
        except FormatProblem:
            raise
        except Exception as error:  # malformed data surfaces as many types
            detail = clipped(str(error)) or "the data ends before the pickle does"
            raise FormatProblem(
                f"{self.what} could not be unpickled: {type(error).__name__}: {detail}"
            ) from None

    @property
    def placeholder_names(self) -> set[str]:
        return self.globals.placeholder_names


@dataclass
class Unpickled:
    value: object
    # Printable dotted names of the globals that became inert placeholders.
    placeholder_names: set[str]
    # Offset just after the pickle's STOP opcode.
    end: int


def unpickle_region(
    file: CheckpointFile,
    start: int,
    end: int,
    what: str,
    budget: Budget,
    load_storage: StorageLoader | None = None,
    allow_module_ids: bool = False,
) -> Unpickled:
    """Unpickle the pickle that begins at byte `start` and must end by `end`.

    The file is streamed, so a pickle followed by gigabytes of legacy
    storage data is not copied.
    """
    stream = file.stream(start, end)
    unpickler = SafeUnpickler(stream, what, budget, load_storage, allow_module_ids)
    value = unpickler.load()
    stop = stream.tell()
    if stop > end:
        raise FormatProblem(f"{what} runs past the end of its record")
    return Unpickled(value, unpickler.placeholder_names, stop)
