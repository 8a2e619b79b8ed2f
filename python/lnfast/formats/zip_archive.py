"""The record table of a PyTorch zip archive, checked before anything is read.

torch.save and torch.jit.save write a zip whose records all sit in one
top-level folder (named after the file, e.g. "mymodel/" - not necessarily
"archive/"). zipfile lists the records; their bytes are then read straight
from the file at their offsets, which is why only uncompressed records can
be read.
"""

from __future__ import annotations

import struct
import zipfile

from .checkpoint_file import CheckpointFile
from .problem import FormatProblem

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_UTF8_NAME_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1


class ZipArchive:
    """Validated records of a torch zip archive, addressed relative to its folder."""

    def __init__(self, file: CheckpointFile):
        self._file = file
        try:
            with zipfile.ZipFile(file.stream(0, file.size)) as archive:
                infos = archive.infolist()
        except Exception as error:  # zipfile reports damage with many types
            raise FormatProblem(f"damaged zip archive: {error}") from None
        self._records: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename in self._records:
                raise FormatProblem(f"zip record {info.filename!r} appears twice")
            self._records[info.filename] = info
        self.prefix = self._find_prefix()
        outside = [name for name in self._records if not name.startswith(self.prefix + "/")]
        if outside:
            raise FormatProblem(
                f"zip record {outside[0]!r} is outside the archive folder {self.prefix!r}"
            )

    def _find_prefix(self) -> str:
        folders = [
            name[: -len("/data.pkl")]
            for name in self._records
            if name.endswith("/data.pkl") and name.count("/") == 1
        ]
        if not folders:
            raise FormatProblem(
                "zip archive has no <folder>/data.pkl record; not a torch checkpoint"
            )
        if len(folders) > 1:
            raise FormatProblem(f"zip archive has several data.pkl folders: {sorted(folders)}")
        if not folders[0]:
            raise FormatProblem("zip archive's data.pkl sits in a folder with an empty name")
        return folders[0]

    def has(self, relative: str) -> bool:
        return f"{self.prefix}/{relative}" in self._records

    def names_under(self, relative_folder: str) -> list[str]:
        start = f"{self.prefix}/{relative_folder}/"
        return [name[len(start) :] for name in self._records if name.startswith(start)]

    def locate(self, relative: str) -> tuple[int, int]:
        """Return (offset, length) of a record's bytes in the file."""
        name = f"{self.prefix}/{relative}"
        info = self._records.get(name)
        if info is None:
            raise FormatProblem(f"zip record {name!r} is missing")
        if info.flag_bits & _ENCRYPTED_FLAG:
            raise FormatProblem(f"zip record {name!r} is encrypted")
        if info.compress_type != zipfile.ZIP_STORED:
            raise FormatProblem(
                f"zip record {name!r} is compressed (method {info.compress_type}); "
                "torch writes tensor data uncompressed and lnfast reads it in place"
            )
        if info.compress_size != info.file_size:
            raise FormatProblem(f"zip record {name!r} has inconsistent sizes")
        header_offset = info.header_offset
        file_size = self._file.size
        if header_offset < 0 or header_offset + _LOCAL_HEADER.size > file_size:
            raise FormatProblem(f"zip record {name!r} has a header outside the file")
        fields = _LOCAL_HEADER.unpack(
            self._file.read_at(header_offset, _LOCAL_HEADER.size)
        )
        signature, flags, name_length, extra_length = fields[0], fields[2], fields[9], fields[10]
        if signature != _LOCAL_SIGNATURE:
            raise FormatProblem(f"zip record {name!r} has a damaged local header")
        name_start = header_offset + _LOCAL_HEADER.size
        raw_name = self._file.read_at(name_start, name_length)
        encoding = "utf-8" if flags & _UTF8_NAME_FLAG else "cp437"
        if raw_name.decode(encoding, "replace") != info.orig_filename:
            raise FormatProblem(
                f"zip record {name!r} has a different name in its local header"
            )
        data_start = name_start + name_length + extra_length
        if data_start + info.file_size > file_size:
            raise FormatProblem(
                f"zip record {name!r} claims {info.file_size} bytes at offset {data_start}, "
                f"past the end of the {file_size}-byte file"
            )
        return data_start, info.file_size

    def read_small(self, relative: str, limit: int) -> bytes:
        """Read a short text record (byteorder, version), refusing long ones."""
        offset, length = self.locate(relative)
        if length > limit:
            raise FormatProblem(
                f"zip record {self.prefix}/{relative} is {length} bytes, expected a few"
            )
        return self._file.read_at(offset, length)
