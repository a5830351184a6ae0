"""Minimal reader for Qt binary resource bundles (``.rcc``).

Written from the documented on-disk layout (Qt's ``rcc`` tool), not from Qt code:

header (big-endian)::

    "qres" | u32 version | u32 tree_offset | u32 data_offset | u32 names_offset
    [ | u32 overall_flags ]        # version >= 3 only

tree: fixed-size records, record 0 is the root directory::

    u32 name_offset | u16 flags | (dir)  u32 child_count | u32 first_child_index
                                  (file) u16 country | u16 language | u32 data_offset
    [ | u64 last_modified_ms ]     # version >= 2 only

names: ``u16 length | u32 hash | length * UTF-16BE code units``
data:  ``u32 size | size bytes``; zlib entries (flag 1) begin with a u32 big-endian
uncompressed size followed by the zlib stream; zstd entries (flag 4) are one zstd frame.
"""
from __future__ import annotations

import mmap
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

MAGIC = b"qres"
FLAG_COMPRESSED = 0x01
FLAG_DIRECTORY = 0x02
FLAG_COMPRESSED_ZSTD = 0x04


class RccError(ValueError):
    """Raised for files that are not (well-formed) rcc bundles."""


@dataclass(frozen=True)
class RccEntry:
    """One file inside a bundle; ``path`` uses '/' and has no leading ':'/'/'."""

    path: str
    flags: int
    country: int
    language: int
    data_offset: int  # absolute offset of the u32 size prefix

    @property
    def compression(self) -> str:
        if self.flags & FLAG_COMPRESSED_ZSTD:
            return "zstd"
        if self.flags & FLAG_COMPRESSED:
            return "zlib"
        return "none"


class RccReader:
    """Reads a whole bundle into memory (gcompris bundles are at most a few MiB)."""

    def __init__(self, source: str | Path | bytes) -> None:
        # mmap keeps memory flat when many bundles are indexed; slicing still yields bytes.
        self.buf: bytes | mmap.mmap
        if isinstance(source, bytes):
            self.buf = source
        else:
            if Path(source).stat().st_size < 24:
                raise RccError("not an rcc bundle (file too small)")
            with open(source, "rb") as fh:
                self.buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        if len(self.buf) < 20 or self.buf[:4] != MAGIC:
            raise RccError("not an rcc bundle (bad magic)")
        self.version, self.tree_off, self.data_off, self.names_off = struct.unpack_from(
            ">IIII", self.buf, 4
        )
        if self.version not in (1, 2, 3):
            raise RccError(f"unsupported rcc version {self.version}")
        self.overall_flags = struct.unpack_from(">I", self.buf, 20)[0] if self.version >= 3 else 0
        # v2 added an 8-byte last-modified timestamp to every tree record.
        self.node_size = 14 if self.version == 1 else 22
        for off in (self.tree_off, self.data_off, self.names_off):
            if off > len(self.buf):
                raise RccError("section offset beyond end of file")
        self._entries: list[RccEntry] | None = None

    def _name(self, name_offset: int) -> str:
        off = self.names_off + name_offset
        (length,) = struct.unpack_from(">H", self.buf, off)
        raw = self.buf[off + 6 : off + 6 + 2 * length]
        return raw.decode("utf-16-be")

    def _node(self, index: int) -> tuple[int, int, tuple[int, int, int]]:
        off = self.tree_off + index * self.node_size
        if off + 14 > len(self.buf):
            raise RccError(f"tree record {index} beyond end of file")
        name_off, flags = struct.unpack_from(">IH", self.buf, off)
        a, b, c = struct.unpack_from(">HHI", self.buf, off + 6)
        if flags & FLAG_DIRECTORY:
            count, first = struct.unpack_from(">II", self.buf, off + 6)
            return name_off, flags, (count, first, 0)
        return name_off, flags, (a, b, c)

    def _walk(self) -> Iterator[RccEntry]:
        # Iterative DFS with an explicit "seen" set so a corrupt tree cannot loop forever.
        stack: list[tuple[int, str]] = [(0, "")]
        seen: set[int] = set()
        while stack:
            index, prefix = stack.pop()
            if index in seen:
                raise RccError("cycle in rcc tree")
            seen.add(index)
            name_off, flags, info = self._node(index)
            name = "" if index == 0 else self._name(name_off)
            path = f"{prefix}/{name}" if prefix else name
            if flags & FLAG_DIRECTORY:
                count, first, _ = info
                for child in range(first, first + count):
                    stack.append((child, path))
            else:
                country, language, data_rel = info
                yield RccEntry(path, flags, country, language, self.data_off + data_rel)

    def entries(self) -> list[RccEntry]:
        """All file entries, sorted by path (tree order is by name hash, not stable to read)."""
        if self._entries is None:
            self._entries = sorted(self._walk(), key=lambda e: (e.path, e.language, e.country))
        return self._entries

    def names(self) -> list[str]:
        return [e.path for e in self.entries()]

    def read(self, entry: RccEntry | str) -> bytes | None:
        """Return the uncompressed bytes, or None (with a warning) for undecodable zstd."""
        if isinstance(entry, str):
            matches = [e for e in self.entries() if e.path == entry.lstrip(":/")]
            if not matches:
                raise KeyError(entry)
            entry = matches[0]
        (size,) = struct.unpack_from(">I", self.buf, entry.data_offset)
        start = entry.data_offset + 4
        payload = self.buf[start : start + size]
        if len(payload) != size:
            raise RccError(f"{entry.path}: data truncated")
        if entry.flags & FLAG_COMPRESSED_ZSTD:
            return _zstd_decompress(payload, entry.path)
        if entry.flags & FLAG_COMPRESSED:
            # qCompress format: u32 BE expected length, then a zlib stream.
            (expected,) = struct.unpack_from(">I", payload, 0)
            data = zlib.decompress(payload[4:])
            if len(data) != expected:
                raise RccError(f"{entry.path}: size mismatch after zlib")
            return data
        return payload

    def iter_files(self, suffixes: tuple[str, ...] | None = None) -> Iterator[tuple[str, bytes]]:
        """Yield (path, bytes) in sorted path order, optionally filtered by lower-case suffix."""
        for e in self.entries():
            if suffixes and not e.path.lower().endswith(suffixes):
                continue
            data = self.read(e)
            if data is not None:
                yield e.path, data


def _zstd_decompress(payload: bytes, path: str) -> bytes | None:
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        warnings.warn(f"rcc: skipping zstd entry {path} (python 'zstandard' not installed)")
        return None
    return zstandard.ZstdDecompressor().decompress(payload, max_output_size=1 << 28)
