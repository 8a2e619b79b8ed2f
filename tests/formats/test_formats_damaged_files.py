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


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes(tmp_path, seed):
    noise = random.Random(seed).randbytes(random.Random(seed).randint(1, 4096))
    (tmp_path / "noise.pt").write_bytes(noise)
    expect_error(tmp_path / "noise.pt")


@pytest.mark.parametrize("magic", [b"PK\x03\x04", b"\x80\x02\x8a\x0a", b"\x10\x00\x00\x00\x00\x00\x00\x00{"])
def test_format_magic_followed_by_noise(tmp_path, magic):
    (tmp_path / "noise.pt").write_bytes(magic + random.Random(0).randbytes(300))
    expect_error(tmp_path / "noise.pt")


def test_old_tar_format_is_named(tmp_path):
    header = bytearray(512)
    header[257:262] = b"ustar"
    (tmp_path / "old.pt").write_bytes(bytes(header))
    expect_error(tmp_path / "old.pt", "tar-based")


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_truncated_at_every_byte(tmp_path, legacy):
    path = tmp_path / "full.pt"
    torch.save({"w": torch.arange(4.0), "v": torch.ones(3).half()}, path,
               _use_new_zipfile_serialization=not legacy)
    data = path.read_bytes()
    cut_path = tmp_path / "cut.pt"
    for cut in range(1, len(data)):
        cut_path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError):
            read_checkpoint(cut_path)


def test_record_outside_the_prefix(tmp_path):
    records = good_zip_records(tmp_path)
    records["elsewhere/data/0"] = b"\x00" * 24
    write_zip(tmp_path / "outside.pt", list(records.items()))
    expect_error(tmp_path / "outside.pt", "outside the archive folder")


def test_record_without_folder(tmp_path):
    records = good_zip_records(tmp_path)
    records["loose_file"] = b"hello"
    write_zip(tmp_path / "loose.pt", list(records.items()))
    expect_error(tmp_path / "loose.pt", "outside the archive folder")


def test_two_data_pickles(tmp_path):
    records = good_zip_records(tmp_path)
    records["second/data.pkl"] = next(v for k, v in records.items() if k.endswith("/data.pkl"))
    write_zip(tmp_path / "two.pt", list(records.items()))
    expect_error(tmp_path / "two.pt", "several data.pkl")


def test_no_data_pickle(tmp_path):
    write_zip(tmp_path / "plain.zip", [("folder/readme.txt", b"hi")])
    expect_error(tmp_path / "plain.zip", "no <folder>/data.pkl")


def test_duplicate_record(tmp_path):
    records = list(good_zip_records(tmp_path).items())
    storage = next(item for item in records if "/data/" in item[0])
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_zip(tmp_path / "dup.pt", records + [storage])
    expect_error(tmp_path / "dup.pt", "appears twice")


@pytest.mark.parametrize("which", ["data/0", "data.pkl"])
def test_compressed_record_we_must_read(tmp_path, which):
    records = good_zip_records(tmp_path)
    prefix = next(iter(records)).split("/")[0]
    write_zip(tmp_path / "deflated.pt", list(records.items()), compressed={f"{prefix}/{which}"})
    expect_error(tmp_path / "deflated.pt", "compressed")


def test_missing_storage_record(tmp_path):
    records = {k: v for k, v in good_zip_records(tmp_path).items() if "/data/" not in k}
    write_zip(tmp_path / "nostorage.pt", list(records.items()))
    expect_error(tmp_path / "nostorage.pt", "missing")


def test_storage_record_shorter_than_declared(tmp_path):
    root = ordered(w=tensor(Storage("0", 6), 0, (6,), (1,)))
    path = write_torch_zip(tmp_path / "short.pt", dumps(root), {"0": float_bytes([1.0] * 5)})
    expect_error(path, "holds only 20 bytes")


@pytest.mark.parametrize(
    "fields, pattern",
    [
        ({"compress_size": 2**31, "file_size": 2**31}, "past the end"),
        ({"header_offset": 2**31}, "outside the file|damaged"),
        ({"compress_size": 10, "file_size": 24}, "inconsistent sizes"),
    ],
)
def test_central_directory_lies(tmp_path, fields, pattern):
    torch.save({"w": torch.arange(6.0)}, tmp_path / "good.pt")
    name = next(n for n in zip_records(tmp_path / "good.pt") if n.endswith("/data/0"))
    patch_central_directory(tmp_path / "good.pt", name, **fields)
    expect_error(tmp_path / "good.pt", pattern)


def test_local_header_name_mismatch(tmp_path):
    torch.save({"w": torch.arange(6.0)}, tmp_path / "good.pt")
    data = bytearray((tmp_path / "good.pt").read_bytes())
    position = data.find(b"good/data/0")  # first hit: the local header's copy
    data[position : position + 11] = b"good/data/9"
    (tmp_path / "good.pt").write_bytes(bytes(data))
    expect_error(tmp_path / "good.pt", "different name")


@pytest.mark.parametrize("order, pattern", [(b"middle", "byteorder"), (b"x" * 100, "expected a few")])
def test_bad_byteorder_record(tmp_path, order, pattern):
    records = good_zip_records(tmp_path)
    name = next(k for k in records if k.endswith("/byteorder"))
    records[name] = order
    write_zip(tmp_path / "order.pt", list(records.items()))
    expect_error(tmp_path / "order.pt", pattern)


def test_encrypted_flag(tmp_path):
    torch.save({"w": torch.arange(6.0)}, tmp_path / "good.pt")
    data = bytearray((tmp_path / "good.pt").read_bytes())
    position = data.find(b"PK\x01\x02")
    while position >= 0:  # set the encryption bit on every central entry
        data[position + 8] |= 1
        position = data.find(b"PK\x01\x02", position + 4)
    (tmp_path / "good.pt").write_bytes(bytes(data))
    expect_error(tmp_path / "good.pt")


# --- legacy framing --------------------------------------------------------

LEGACY_ROOT = ordered(w=tensor(Storage("0", 6, legacy=True), 0, (6,), (1,)))
SIX_FLOATS = float_bytes([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])


def test_legacy_storages_are_little_endian_whatever_sys_info_says(tmp_path):
    # torch writes legacy storages little-endian on every host and ignores
    # sys_info when loading; so must we.
    path = write_torch_legacy(
        tmp_path / "from_big_host.pt", dumps(LEGACY_ROOT), [("0", 6, SIX_FLOATS)], little_endian=False
    )
    checkpoint = read_checkpoint(path)
    assert checkpoint.tensors["w"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert checkpoint.extras["byteorder"] == "little"


def test_legacy_unknown_storage_key(tmp_path):
    path = write_torch_legacy(
        tmp_path / "k.pt", dumps(LEGACY_ROOT), [("0", 6, SIX_FLOATS), ("7", 1, b"\x00" * 4)]
    )
    expect_error(path, "no tensor refers to it")


def test_legacy_duplicate_storage_key(tmp_path):
    path = write_torch_legacy(
        tmp_path / "k.pt", dumps(LEGACY_ROOT), [("0", 6, SIX_FLOATS), ("0", 6, SIX_FLOATS)]
    )
    expect_error(path, "listed twice")


def test_legacy_storage_never_written(tmp_path):
    path = write_torch_legacy(tmp_path / "k.pt", dumps(LEGACY_ROOT), [], keys=[])
    expect_error(path, "has no data")


def test_legacy_key_list_is_not_strings(tmp_path):
    path = write_torch_legacy(tmp_path / "k.pt", dumps(LEGACY_ROOT), [], keys=[1, 2])
    expect_error(path, "key list")


@pytest.mark.parametrize("part, pattern", [(0, "magic number"), (1, "protocol version")])
def test_legacy_wrong_header(tmp_path, part, pattern):
    path = write_torch_legacy(tmp_path / "h.pt", dumps(LEGACY_ROOT), [("0", 6, SIX_FLOATS)])
    data = path.read_bytes()
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    version = pickle.dumps(1001, protocol=2)
    if part == 0:
        data = data.replace(magic, magic[:-2] + bytes([magic[-2] ^ 1]) + b".", 1)
    else:
        data = data.replace(version, pickle.dumps(999, protocol=2), 1)
    path.write_bytes(data)
    expect_error(path, pattern if part else "not a recognised checkpoint")


def test_zip_reader_does_not_follow_zipfile_bombs(tmp_path):
    """A data.pkl deflated from a huge run would balloon; compressed records are refused."""
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("bomb/data.pkl", b"\x00" * (16 << 20), compress_type=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 100_000
    expect_error(path, "compressed")
