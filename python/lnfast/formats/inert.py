"""Inert placeholders for every pickle global we do not explicitly allow.

When a pickle names `os.system`, `argparse.Namespace` or `__torch__.MyNet`,
the unpickler gets a fresh subclass of InertObject instead of the real
thing. Whatever the pickle then does with it - call it (REDUCE), construct
it (NEWOBJ), set its state (BUILD), append or assign items - is only
recorded. Nothing named by the file is ever imported or run.

The recorded state is what makes TorchScript archives and pickled
nn.Modules readable: their parameters live in the state dicts of objects of
classes we must not import.
"""

from __future__ import annotations

from .problem import clipped


class InertObject:
    """An object of a class named by the file, reduced to a record."""

    # Slots keep each placeholder small: a pickle can make one per opcode.
    __slots__ = ("inert_args", "inert_kwargs", "inert_called", "inert_state", "inert_items")
    # Printable dotted name of the global this class stands for; per subclass.
    inert_global = "?"

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self.inert_args = args
        self.inert_kwargs = kwargs
        # True when the pickle *called* the global (REDUCE) instead of just
        # allocating an instance of it (NEWOBJ); only used to word messages.
        self.inert_called = False
        self.inert_state = None
        self.inert_items = []
        return self

    def __init__(self, *args, **kwargs):
        # Only reached through cls(*args), i.e. a call; NEWOBJ uses __new__.
        self.inert_called = True

    def __setstate__(self, state):
        self.inert_state = state

    # Subclasses of list/dict/set in the file are filled through these.
    def append(self, item):
        self.inert_items.append(item)

    def extend(self, items):
        self.inert_items.extend(items)

    def add(self, item):
        self.inert_items.append(item)

    def __setitem__(self, key, value):
        self.inert_items.append((key, value))

    def __repr__(self):
        kind = "call" if self.inert_called else "instance"
        return f"<inert {kind} of {self.inert_global}>"


# Global names are file data: they reach error messages and extras, so they
# are stored escaped and cut to a printable length.
PLACEHOLDER_NAME_LIMIT = 200


def placeholder_name(module: str, name: str) -> str:
    return clipped(f"{module}.{name}", PLACEHOLDER_NAME_LIMIT)


def make_placeholder_class(module: str, name: str) -> type:
    # The class name is cosmetic; the real (possibly odd) name stays data.
    safe_name = "".join(ch if ch.isalnum() else "_" for ch in name[:64]) or "_"
    attributes = {"__slots__": (), "inert_global": placeholder_name(module, name)}
    return type(f"Inert_{safe_name}", (InertObject,), attributes)


def is_placeholder_class(obj) -> bool:
    return isinstance(obj, type) and issubclass(obj, InertObject)


def describe(obj) -> str:
    """How to name an object in an error message."""
    if isinstance(obj, InertObject):
        how = "a call to" if obj.inert_called else "an object of"
        return f"{how} {obj.inert_global}"
    if is_placeholder_class(obj):
        return f"the global {obj.inert_global}"
    kind = type(obj).__name__
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"
