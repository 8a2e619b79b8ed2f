"""read_checkpoint: from a file path to named float32 arrays."""

from __future__ import annotations

import os

from ..errors import CheckpointError
from . import detect
from .checkpoint import Checkpoint
from .flatten import flatten
from .limits import Budget, read_budget
from .mapped_file import MappedFile
from .problem import FormatProblem
from .safetensors_file import read_safetensors_refs
from .tensor_rebuild import TensorRef, materialize
from .torch_legacy import read_torch_legacy
from .torch_zip import read_torch_zip


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a PyTorch (zip or legacy), TorchScript or safetensors checkpoint.

    The format is recognised from the file's content. Nothing named inside
    the file is imported or executed. Every failure - unreadable, damaged,
    unsupported or unsafe file - raises CheckpointError naming the file.
    """
    path = os.fspath(path)
    try:
        return _read(path)
    except FormatProblem as problem:
        raise CheckpointError(path, str(problem)) from None
    except OSError as error:
        raise CheckpointError(path, f"cannot read the file: {error.strerror or error}") from None


def _read(path: str) -> Checkpoint:
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(detect.HEAD_BYTES)
    if size == 0:
        raise FormatProblem("the file is empty")
    kind = detect.detect_format(head)
    with MappedFile(path) as mapped:
        budget = read_budget(mapped.size)
        if kind == detect.SAFETENSORS:
            refs, skipped, metadata = read_safetensors_refs(mapped)
            extras = {"metadata": metadata, "placeholders": [], "aliases": {}}
            return _materialize_all(path, detect.SAFETENSORS, refs, skipped, extras, budget)
        if kind == detect.ZIP:
            contents = read_torch_zip(mapped, budget)
        else:
            contents = read_torch_legacy(mapped, budget)
        flattened = flatten(contents.roots, budget)
        extras = dict(contents.extras)
        extras["placeholders"] = sorted(contents.placeholder_names)
        extras["aliases"] = flattened.aliases
        format_name = contents.format
        # Only the tensor references are needed now; let the rest of the
        # unpickled objects go before the tensors are copied out.
        del contents
        return _materialize_all(path, format_name, flattened.tensors, {}, extras, budget)


def _materialize_all(
    path: str,
    format_name: str,
    refs: dict[str, TensorRef],
    skipped: dict[str, str],
    extras: dict,
    budget: Budget,
) -> Checkpoint:
    """Copy every float tensor out of the mapped file (before it is closed)."""
    tensors = {}
    dtypes = {}
    skipped = dict(skipped)
    for name, ref in refs.items():
        array = materialize(ref, budget)
        if array is None:
            skipped[name] = ref.dtype.name
        else:
            tensors[name] = array
            dtypes[name] = ref.dtype.name
    if not tensors:
        placeholders = extras.get("placeholders") or []
        hint = f"; it names inert globals: {', '.join(placeholders[:5])}" if placeholders else ""
        raise FormatProblem(f"the file holds no floating-point tensors{hint}")
    extras["skipped_tensors"] = skipped
    return Checkpoint(path=path, format=format_name, tensors=tensors, dtypes=dtypes, extras=extras)
