"""Damaged or malformed containers: zip structure, legacy framing, truncation, noise."""

import os
import pickle
import random
import zipfile

import pytest
import torch

from formats_test_support import (
    Storage,
    dumps,
    float_bytes,
    ordered,
    patch_central_directory,
    run_isolated,
    run_script,
    tensor,
    write_torch_legacy,
    write_torch_zip,
    write_zip,
    zip_records,
)
from lnfast.errors import CheckpointError
from lnfast.formats import read_checkpoint


def good_zip_records(tmp_path):
    torch.save({"w": torch.arange(6.0)}, tmp_path / "good.pt")
    return zip_records(tmp_path / "good.pt")


def expect_error(path, pattern=None):
    with pytest.raises(CheckpointError, match=pattern) as caught:
        read_checkpoint(path)
    assert str(path) in str(caught.value)
    return caught.value


def test_empty_file(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    expect_error(tmp_path / "empty.pt", "empty")


def test_directory_instead_of_file(tmp_path):
    expect_error(tmp_path, "cannot read")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    # open() of a FIFO blocks until a writer comes: lnfast.load hung for
    # ever. In a child process, so a regression fails by its timeout.
    os.mkfifo(tmp_path / "pipe.pt")
    outcome = run_isolated(tmp_path / "pipe.pt", mode="load", timeout=20)
    assert outcome["outcome"] == "CheckpointError", outcome
    assert "FIFO" in outcome["message"] and "not a regular file" in outcome["message"]


def _write_truncated_target(tmp_path, file_format):
    generator = torch.Generator().manual_seed(0)
    state = {"w": torch.randn(256, 256, generator=generator), "v": torch.randn(300, generator=generator).half()}
    path = tmp_path / f"rewritten.{file_format}"
    if file_format == "safetensors":
        from safetensors.torch import save_file

        save_file(state, path)
    else:
        torch.save(state, path, _use_new_zipfile_serialization=file_format == "zip")
    return path


@pytest.mark.parametrize("file_format", ["zip", "legacy", "safetensors"])
@pytest.mark.parametrize("new_size", [0, 70_000])
def test_a_file_truncated_while_it_is_read_is_an_error_not_a_signal(tmp_path, file_format, new_size):
    # torch.save rewrites a file in place: open(path, "wb") truncates it
    # first. Tensors served from a memory map then die with SIGBUS; here
    # the file is cut right after its structure was read and before any
    # tensor bytes are, in a child process that reports how it ended.
    path = _write_truncated_target(tmp_path, file_format)
    done = run_script(f"""
        import lnfast.formats.reader as reader
        from lnfast.errors import CheckpointError
        original = reader._materialize_all

        def truncate_first(*args, **kwargs):
            os.truncate({str(path)!r}, {new_size})
            return original(*args, **kwargs)

        reader._materialize_all = truncate_first
        try:
            reader.read_checkpoint({str(path)!r})
            print("read")
        except CheckpointError as error:
            print(error)
    """, timeout=30)
    assert done.returncode == 0, f"the reader died with code {done.returncode}: {done.stderr[-300:]}"
    assert "changed while it was being read" in done.stdout, done.stdout


def test_a_file_rewritten_to_its_own_size_while_it_is_read_is_an_error(tmp_path, monkeypatch):
    # Same size, other bytes: the tensors could mix old and new contents.
    import lnfast.formats.reader as reader

    path = _write_truncated_target(tmp_path, "zip")
    original = reader._materialize_all

    def rewrite_first(*args, **kwargs):
        stat = path.stat()
        path.write_bytes(path.read_bytes())
        # A coarse clock may not move the mtime by itself.
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        return original(*args, **kwargs)

    monkeypatch.setattr(reader, "_materialize_all", rewrite_first)
    expect_error(path, "changed while it was being read")
