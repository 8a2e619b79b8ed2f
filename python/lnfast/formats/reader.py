"""read_checkpoint: from a path, bytes or a file object to named float32 arrays."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import BinaryIO, Iterator, Union

from ..errors import CheckpointError
from . import detect
from .checkpoint import Checkpoint
from .checkpoint_file import CheckpointFile
from .flatten import flatten
from .limits import Budget, read_budget
from .memory_source import MemorySource, read_file_object
from .nemo_archive import WEIGHTS_MEMBER, read_nemo_weights
from .problem import FormatProblem
from .safetensors_file import read_safetensors_refs
from .tensor_data import read_tensors
from .tensor_rebuild import TensorRef
from .torch_legacy import read_torch_legacy
from .torch_zip import read_torch_zip


Source = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO]


def read_checkpoint(source: Source) -> Checkpoint:
    """Read a PyTorch (zip or legacy), TorchScript, safetensors or NeMo
    .nemo checkpoint.

    source: a path; bytes (or a bytearray / memoryview); or a binary file
    object (anything with ``read``, seekable or not, read from where it
    stands). The format is recognised from the content. Nothing named
    inside is imported or executed, nothing is written to disk, and the
    same size-bound limits apply to bytes in memory as to a file. Every
    failure - unreadable, damaged, unsupported or unsafe content, or a file
    rewritten while it is read - raises CheckpointError naming the source.
    The arrays are the caller's own copies.
    """
    name = source_name(source)
    with _as_checkpoint_error(name):
        with _open(source, name, map_storages=False) as file:
            return _read_unchanged(file)


@contextmanager
def mapped_checkpoint(source: Source) -> Iterator[Checkpoint]:
    """``with mapped_checkpoint(path) as checkpoint:`` read_checkpoint for a
    caller done with the tensors when the block ends (lnfast.load packs
    them): a file's float32 tensors are read-only views of its guarded
    mapping instead of copies, so the packer reads the page cache in place.
    A file cut short or rewritten before the block ends raises
    CheckpointError on leaving it (a truncation reads as zeros meanwhile,
    never SIGBUS), also in place of an error the torn contents caused.
    Views kept past the block keep the mapping, guarded, but nothing checks
    them any more: copy what must outlive it."""
    name = source_name(source)
    with _as_checkpoint_error(name):
        file = _open(source, name, map_storages=True)
    with file:
        with _as_checkpoint_error(name):
            checkpoint = _read_unchanged(file)
        try:
            yield checkpoint
        except (CheckpointError, ValueError):
            if file.has_changed():
                raise CheckpointError(name, str(file.changed_problem())) from None
            raise
        if file.has_changed():
            raise CheckpointError(name, str(file.changed_problem()))


@contextmanager
def _as_checkpoint_error(name: str) -> Iterator[None]:
    try:
        yield
    except FormatProblem as problem:
        raise CheckpointError(name, str(problem)) from None
    except OSError as error:
        raise CheckpointError(name, f"cannot read the file: {error.strerror or error}") from None


def _read_unchanged(file) -> Checkpoint:
    try:
        checkpoint = _read(file, nested=False)
    except FormatProblem:
        # A file truncated under us shows up as damage somewhere; say
        # what really happened.
        if file.has_changed():
            raise file.changed_problem() from None
        raise
    # Rewritten while read, its tensors may mix old and new bytes.
    if file.has_changed():
        raise file.changed_problem()
    return checkpoint


def source_name(source: Source) -> str:
    """How messages name the source: its path, "<bytes>" or the file
    object's name; a TypeError for anything else."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    if callable(getattr(source, "read", None)):
        name = getattr(source, "name", None)
        return name if isinstance(name, str) else f"<{type(source).__name__}>"
    raise TypeError("a checkpoint source must be a path, bytes or a binary file object, "
                    f"got {type(source).__name__}")


def _open(source: Source, name: str, map_storages: bool):
    if isinstance(source, (str, os.PathLike)):
        return CheckpointFile(name, map_storages)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return MemorySource(memoryview(source).cast("B"), name)
    return MemorySource(read_file_object(source, f"the file object {name}"), name)


def _read(file, nested: bool) -> Checkpoint:
    if file.size == 0:
        raise FormatProblem("the file is empty")
    kind = detect.detect_format(file.read_at(0, detect.HEAD_BYTES))
    if kind == detect.LNFAST:
        raise FormatProblem("an lnfast model file (.lnfast): it holds a packed model, not "
                            "tensors; lnfast.load(path) maps it from its path, and "
                            "`lnfast inspect` describes it")
    budget = read_budget(file.size)
    if kind == detect.NEMO:
        if nested:
            raise FormatProblem(f"the .nemo archive's {WEIGHTS_MEMBER} is itself a tar archive")
        inner = MemorySource(read_nemo_weights(file), f"{file.path}:{WEIGHTS_MEMBER}")
        checkpoint = _read(inner, nested=True)
        checkpoint.extras["nemo_weights_format"] = checkpoint.format
        checkpoint.path, checkpoint.format = file.path, detect.NEMO
        return checkpoint
    if kind == detect.SAFETENSORS:
        refs, skipped, metadata = read_safetensors_refs(file)
        extras = {"metadata": metadata, "placeholders": [], "aliases": {}}
        return _materialize_all(file, detect.SAFETENSORS, refs, skipped, extras, budget)
    if kind == detect.ZIP:
        contents = read_torch_zip(file, budget)
    else:
        contents = read_torch_legacy(file, budget)
    flattened = flatten(contents.roots, budget)
    extras = dict(contents.extras)
    extras["placeholders"] = sorted(contents.placeholder_names)
    extras["aliases"] = flattened.aliases
    format_name = contents.format
    # Only the tensor references are needed now; let the rest of the
    # unpickled objects go before the tensors are copied out.
    del contents
    return _materialize_all(file, format_name, flattened.tensors, {}, extras, budget)


def _materialize_all(
    file,
    format_name: str,
    refs: dict[str, TensorRef],
    skipped: dict[str, str],
    extras: dict,
    budget: Budget,
) -> Checkpoint:
    """Copy every float tensor out of the file."""
    tensors, not_float = read_tensors(file, refs, budget)
    dtypes = {name: refs[name].dtype.name for name in tensors}
    if not tensors:
        placeholders = extras.get("placeholders") or []
        hint = f"; it names inert globals: {', '.join(placeholders[:5])}" if placeholders else ""
        raise FormatProblem(f"the file holds no floating-point tensors{hint}")
    extras["skipped_tensors"] = {**skipped, **not_float}
    return Checkpoint(path=file.path, format=format_name, tensors=tensors, dtypes=dtypes, extras=extras)
