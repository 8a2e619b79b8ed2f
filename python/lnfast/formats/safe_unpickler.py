"""An unpickler that never imports or runs anything the file names.

This is a security boundary. pickle.Unpickler resolves every global through
find_class; ours answers only from SafeGlobals (our own tensor-rebuild and
container implementations) and otherwise hands back an inert placeholder
class. Persistent ids - torch's references to tensor storages - are passed
to a reader-specific loader, and nothing else is accepted.

Use unpickle_region(): it runs scan_pickle over the bytes first, which
proves every length and memo index in the stream is sane before the C
unpickler trusts them.
"""

from __future__ import annotations

import _compat_pickle
import io
import pickle
from dataclasses import dataclass
from typing import Callable

from .inert import describe
from .limits import copy_budget
from .pickle_scan import scan_pickle
from .problem import FormatProblem, clipped, shown
from .safe_globals import SafeGlobals

StorageLoader = Callable[[tuple], object]

class SafeUnpickler(pickle.Unpickler):
    """Unpickle `data` (already checked by scan_pickle) without side effects.

    load_storage receives the fields after "storage" in a ('storage', ...)
    persistent id; None means this pickle may not reference storages.
    allow_module_ids accepts the legacy format's ('module', cls, file,
    source) ids, which describe a pickled nn.Module class; the class itself
    is already a placeholder, so the id simply resolves to it.
    """

    def __init__(
        self,
        data: bytes,
        what: str,
        load_storage: StorageLoader | None = None,
        allow_module_ids: bool = False,
    ):
        super().__init__(io.BytesIO(data), encoding="utf-8")
        self.what = what
        self._load_storage = load_storage
        self._allow_module_ids = allow_module_ids
        self.globals = SafeGlobals(copy_budget(len(data)))

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

    def load(self):
        try:
            return super().load()
        except FormatProblem:
            raise
        except Exception as error:  # the C unpickler reports bad data many ways
            raise FormatProblem(
                f"{self.what} could not be unpickled: "
                f"{type(error).__name__}: {clipped(str(error))}"
            ) from None

    @property
    def placeholder_names(self) -> set[str]:
        return self.globals.placeholder_names


@dataclass
class Unpickled:
    value: object
    # Dotted names of the globals that became inert placeholders.
    placeholder_names: set[str]
    # Offset just after the pickle's STOP opcode.
    end: int


def unpickle_region(
    buffer,
    start: int,
    end: int,
    what: str,
    load_storage: StorageLoader | None = None,
    allow_module_ids: bool = False,
) -> Unpickled:
    """Check and unpickle the pickle that begins at buffer[start] (within end)."""
    stop = scan_pickle(buffer, start, end, what)
    unpickler = SafeUnpickler(bytes(buffer[start:stop]), what, load_storage, allow_module_ids)
    value = unpickler.load()
    return Unpickled(value, unpickler.placeholder_names, stop)
