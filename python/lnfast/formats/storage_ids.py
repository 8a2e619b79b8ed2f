"""Parsing the fields of torch's ('storage', ...) persistent ids."""

from __future__ import annotations

from .inert import describe
from .limits import MAX_INDEX_VALUE
from .problem import FormatProblem, shown
from .torch_types import StorageType

MAX_STORAGE_KEY_LENGTH = 256


def parse_storage_id(fields: tuple, field_count: int) -> tuple[StorageType, str, int]:
    """(storage type, key, element count) of the fields after "storage" in
    a ('storage', type, key, location, numel, ...) persistent id, which
    must have `field_count` fields in all."""
    if len(fields) != field_count - 1:
        raise FormatProblem(
            f"a storage id has {len(fields) + 1} fields, expected {field_count}"
        )
    return storage_type_of(fields[0]), storage_key_of(fields[1]), element_count_of(fields[3])


def storage_type_of(value) -> StorageType:
    if not isinstance(value, StorageType):
        raise FormatProblem(f"a storage's type is {describe(value)}, not a torch storage class")
    return value


def storage_key_of(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str) or not value or len(value) > MAX_STORAGE_KEY_LENGTH:
        raise FormatProblem(f"a storage key is {describe(value)}, not a short string")
    return value


def element_count_of(value, what: str = "storage size") -> int:
    if type(value) is not int or value < 0 or value >= MAX_INDEX_VALUE:
        text = shown(value) if type(value) is int else describe(value)
        raise FormatProblem(f"{what} {text} is not a valid element count")
    return value
