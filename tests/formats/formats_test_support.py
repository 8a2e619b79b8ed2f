"""Helpers for the checkpoint-format tests: writing torch-like files by hand.

Real files come from torch.save; hostile ones need exact control over every
global and number in the pickle, which a pure-Python pickler subclass gives:
GlobalRef objects are written as GLOBAL opcodes with any name we like, and
Storage objects become torch-style ('storage', ...) persistent ids.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import pickle
import struct
import subprocess
import sys
import textwrap
import zipfile
from collections import OrderedDict

from sanitizers import skip_address_limit_under_asan

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001


class GlobalRef:
    """Pickled as `GLOBAL module name`, whatever that names."""

    def __init__(self, module: str, name: str):
        self.module = module
        self.name = name

    def __call__(self, *args):  # the pickler insists reduce callables be callable
        raise AssertionError("never called")


class Call:
    """Pickled as REDUCE of `function` on `args` (function is usually a GlobalRef)."""

    def __init__(self, function, *args):
        self.function = function
        self.args = args

    def __reduce__(self):
        return (self.function, self.args)


class Storage:
    """Pickled as the persistent id ('storage', <type global>, key, 'cpu', numel[, view])."""

    def __init__(self, key, numel, type_name="FloatStorage", legacy=False, type_ref=None):
        self.key = key
        self.numel = numel
        self.type_ref = type_ref or GlobalRef("torch", type_name)
        self.legacy = legacy

    def persistent_id(self):
        fields = ("storage", self.type_ref, self.key, "cpu", self.numel)
        return fields + (None,) if self.legacy else fields


def tensor(storage, offset, size, stride, rebuild=None):
    """A torch-style tensor: _rebuild_tensor_v2(storage, offset, size, stride, ...)."""
    rebuild = rebuild or GlobalRef("torch._utils", "_rebuild_tensor_v2")
    hooks = Call(GlobalRef("collections", "OrderedDict"))
    return Call(rebuild, storage, offset, tuple(size), tuple(stride), False, hooks)


class _TorchLikePickler(pickle._Pickler):
    dispatch = pickle._Pickler.dispatch.copy()

    def _save_global_ref(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[GlobalRef] = _save_global_ref

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return obj.persistent_id()
        if isinstance(obj, RawPersistentId):
            return obj.value
        return None


class RawPersistentId:
    """Pickled as a persistent id with exactly this value."""

    def __init__(self, value):
        self.value = value


def dumps(obj, protocol=2) -> bytes:
    buffer = io.BytesIO()
    _TorchLikePickler(buffer, protocol=protocol).dump(obj)
    return buffer.getvalue()


def float_bytes(values) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def write_zip(path, records, compressed=()):
    """Write (name, bytes) records as a zip, stored unless the name is in `compressed`."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in records:
            method = zipfile.ZIP_DEFLATED if name in compressed else zipfile.ZIP_STORED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return path


def write_torch_zip(path, data_pkl: bytes, storages: dict, prefix="archive", extra=(), compressed=()):
    records = [(f"{prefix}/data.pkl", data_pkl)]
    records += [(f"{prefix}/data/{key}", data) for key, data in storages.items()]
    records += [(f"{prefix}/byteorder", b"little"), (f"{prefix}/version", b"3\n")]
    records += list(extra)
    return write_zip(path, records, {f"{prefix}/{name}" for name in compressed})


def write_torch_legacy(path, main_pkl: bytes, storages, keys=None, little_endian=True):
    """storages: list of (key, element count, raw bytes); keys defaults to their order."""
    sys_info = {
        "protocol_version": LEGACY_PROTOCOL_VERSION,
        "little_endian": little_endian,
        "type_sizes": {"short": 2, "int": 4, "long": 4},
    }
    parts = [
        pickle.dumps(LEGACY_MAGIC_NUMBER, protocol=2),
        pickle.dumps(LEGACY_PROTOCOL_VERSION, protocol=2),
        pickle.dumps(sys_info, protocol=2),
        main_pkl,
        pickle.dumps(keys if keys is not None else [key for key, _, _ in storages], protocol=2),
    ]
    for _, count, data in storages:
        parts.append(struct.pack("<q", count) + data)
    with open(path, "wb") as handle:
        handle.write(b"".join(parts))
    return path


def rewrite_zip(source, target, rename=lambda name: name, transform=lambda name, data: data):
    """Copy a zip record by record, optionally renaming or changing records."""
    with zipfile.ZipFile(source) as archive:
        records = [
            (rename(info.filename), transform(info.filename, archive.read(info.filename)))
            for info in archive.infolist()
        ]
    return write_zip(target, records)


def zip_records(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info.filename) for info in archive.infolist()}


def patch_central_directory(path, record_name: str, **fields):
    """Overwrite fields of one central-directory entry in place.

    fields: compress_size, file_size, header_offset (the 4-byte fields).
    """
    offsets = {"compress_size": 20, "file_size": 24, "header_offset": 42}
    path = pathlib.Path(path)
    data = bytearray(path.read_bytes())
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        name = bytes(data[position + 46 : position + 46 + name_length]).decode()
        if name == record_name:
            for field, value in fields.items():
                struct.pack_into("<I", data, position + offsets[field], value)
            path.write_bytes(bytes(data))
            return path
        position = data.find(b"PK\x01\x02", position + 4)
    raise AssertionError(f"{record_name} not in central directory")


def ordered(**items):
    return OrderedDict(items)


# --- reading in a child process ---------------------------------------------

_CHILD = r"""
import json, os, resource, sys
limit = int(os.environ["ISOLATED_MEMORY_LIMIT"])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.path.insert(0, os.environ["ISOLATED_LNFAST_PARENT"])
import lnfast
from lnfast.errors import CheckpointError
from lnfast.formats import read_checkpoint
mode, path = sys.argv[1], sys.argv[2]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
message = ""
try:
    if mode == "read":
        read_checkpoint(path)
    else:
        lnfast.load(path)
    outcome = "ok"
except CheckpointError as error:
    outcome, message = "CheckpointError", str(error)
except BaseException as error:
    outcome = type(error).__name__
peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
print(json.dumps({"outcome": outcome, "message": message, "peak": peak}))
"""


def _lnfast_parent() -> str:
    import lnfast

    return os.path.dirname(os.path.dirname(os.path.abspath(lnfast.__file__)))


def run_isolated(path, mode="read", timeout=10.0, memory=2 << 30) -> dict:
    """read_checkpoint (mode "read") or lnfast.load ("load") of `path` in a
    child process with an address-space limit: a crash or a hang becomes an
    outcome ("child died ...", "timeout ...") instead of taking the suite
    down. Returns outcome, message and peak RSS growth in bytes."""
    skip_address_limit_under_asan()
    env = dict(os.environ, ISOLATED_MEMORY_LIMIT=str(memory), ISOLATED_LNFAST_PARENT=_lnfast_parent())
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, mode, str(path)],
            capture_output=True, text=True, timeout=timeout, env=env,
        )
    except subprocess.TimeoutExpired:
        return {"outcome": f"timeout after {timeout} s"}
    if done.returncode != 0:
        return {"outcome": f"child died with code {done.returncode}", "stderr": done.stderr[-500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_script(code: str, timeout=10.0) -> subprocess.CompletedProcess:
    """Run Python `code` in a child process that imports this lnfast."""
    env = dict(os.environ, ISOLATED_LNFAST_PARENT=_lnfast_parent())
    prelude = "import os, sys\nsys.path.insert(0, os.environ['ISOLATED_LNFAST_PARENT'])\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )
