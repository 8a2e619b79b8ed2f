"""read_checkpoint: from a file path to named float32 arrays."""

from __future__ import annotations

import os

from ..errors import CheckpointError
from . import detect
from .checkpoint import Checkpoint
from .checkpoint_file import CheckpointFile
from .flatten import flatten
from .limits import Budget, read_budget
from .problem import FormatProblem
from .safetensors_file import read_safetensors_refs
from .tensor_data import read_tensors
from .tensor_rebuild import TensorRef
from .torch_legacy import read_torch_legacy
from .torch_zip import read_torch_zip


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a PyTorch (zip or legacy), TorchScript or safetensors checkpoint.

    The format is recognised from the file's content. Nothing named inside
    the file is imported or executed. Every failure - unreadable, damaged,
    unsupported or unsafe file, or one rewritten while it is read - raises
    CheckpointError naming the file.
    """
    path = os.fspath(path)
    try:
        with CheckpointFile(path) as file:
            try:
                checkpoint = _read(file)
            except FormatProblem:
                # A file truncated under us shows up as damage somewhere;
                # say what really happened.
                if file.has_changed():
                    raise file.changed_problem() from None
                raise
            # Rewritten while read, its tensors may mix old and new bytes.
            if file.has_changed():
                raise file.changed_problem()
            return checkpoint
    except FormatProblem as problem:
        raise CheckpointError(path, str(problem)) from None
    except OSError as error:
        raise CheckpointError(path, f"cannot read the file: {error.strerror or error}") from None


def _read(file: CheckpointFile) -> Checkpoint:
    if file.size == 0:
        raise FormatProblem("the file is empty")
    kind = detect.detect_format(file.read_at(0, detect.HEAD_BYTES))
    budget = read_budget(file.size)
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
    file: CheckpointFile,
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
