"""Qt .rcc reader: synthetic bundles written here (independently of the reader) and read back."""
from __future__ import annotations

import glob
import struct
import warnings
import zlib

import pytest

from toklip.data.rcc import FLAG_COMPRESSED_ZSTD, RccError, RccReader

from helpers import skip_unless_ci


def qt_hash(name: str) -> int:
    """Qt's ELF-style hash over UTF-16 units; rcc sorts directory children by it."""
    h = 0
    units = struct.unpack(f">{len(name)}H", name.encode("utf-16-be"))
    for u in units:
        h = ((h << 4) + u) & 0xFFFFFFFF
        g = h & 0xF0000000
        h ^= g >> 23
        h &= ~g & 0xFFFFFFFF
    return h


def write_rcc(files: dict[str, tuple[int, bytes]], version: int) -> bytes:
    """Minimal rcc writer. ``files`` maps path -> (flags, already-encoded payload)."""
    root: dict = {}
    for path, item in files.items():
        node = root
        *dirs, leaf = path.split("/")
        for d in dirs:
            node = node.setdefault(d, {})
        node[leaf] = item

    names, name_off = bytearray(), {}
    data = bytearray()
    records: list[bytes] = [b""]
    tail = b"" if version == 1 else struct.pack(">Q", 1700000000000)  # v2+: last-modified ms

    def intern(name: str) -> int:
        if name not in name_off:
            name_off[name] = len(names)
            names.extend(struct.pack(">HI", len(name), qt_hash(name)) + name.encode("utf-16-be"))
        return name_off[name]

    queue = [(0, "", root)]  # breadth-first: each directory's children are contiguous
    while queue:
        idx, name, node = queue.pop(0)
        noff = intern(name) if idx else 0
        if isinstance(node, dict):
            kids = sorted(node.items(), key=lambda kv: qt_hash(kv[0]))
            first = len(records)
            for kname, kid in kids:
                records.append(b"")
                queue.append((len(records) - 1, kname, kid))
            records[idx] = struct.pack(">IHII", noff, 0x02, len(kids), first) + tail
        else:
            flags, payload = node
            records[idx] = struct.pack(">IHHHI", noff, flags, 0, 1, len(data)) + tail
            data.extend(struct.pack(">I", len(payload)) + payload)

    header_len = 24 if version >= 3 else 20
    data_off = header_len
    names_off = data_off + len(data)
    tree_off = names_off + len(names)
    header = b"qres" + struct.pack(">IIII", version, tree_off, data_off, names_off)
    if version >= 3:
        header += struct.pack(">I", 1)
    return header + bytes(data) + bytes(names) + b"".join(records)


def zlib_entry(raw: bytes) -> tuple[int, bytes]:
    return 1, struct.pack(">I", len(raw)) + zlib.compress(raw)


CONTENT = {
    "gcompris/src/activities/demo/resource/cat.webp": b"RIFF-not-really-webp" * 10,
    "gcompris/src/activities/demo/Board.qml": 'import QtQuick 2.12\n"title": qsTr("Cat")\n'.encode(),
    "gcompris/src/activities/demo/resource/sub/deep.json": b'{"a": 1}',
    "top.txt": "h\u00e9llo \u2603".encode(),
}


@pytest.mark.parametrize("version", [1, 2, 3])
@pytest.mark.parametrize("compress", [False, True])
def test_roundtrip(version: int, compress: bool) -> None:
    files = {p: zlib_entry(b) if compress else (0, b) for p, b in CONTENT.items()}
    reader = RccReader(write_rcc(files, version))
    assert reader.version == version
    assert reader.node_size == (14 if version == 1 else 22)
    assert reader.names() == sorted(CONTENT)  # sorted by path, not by tree (hash) order
    for path, raw in CONTENT.items():
        assert reader.read(path) == raw
    got = dict(reader.iter_files((".qml", ".json")))
    assert set(got) == {p for p in CONTENT if p.endswith((".qml", ".json"))}
    assert all(e.compression == ("zlib" if compress else "none") for e in reader.entries())


def test_unicode_names_and_file_path(tmp_path) -> None:
    files = {"d\u00e9j\u00e0/\u65e5\u672c.png": (0, b"x")}
    path = tmp_path / "u.rcc"
    path.write_bytes(write_rcc(files, 3))
    reader = RccReader(path)
    assert reader.names() == ["d\u00e9j\u00e0/\u65e5\u672c.png"]
    assert reader.read("d\u00e9j\u00e0/\u65e5\u672c.png") == b"x"


def test_zstd_without_module_warns_and_skips() -> None:
    try:
        import zstandard  # noqa: F401
        pytest.skip("python 'zstandard' is installed; the skip path cannot be exercised")
    except ImportError:
        pass
    reader = RccReader(write_rcc({"a.bin": (FLAG_COMPRESSED_ZSTD, b"\x28\xb5\x2f\xfd junk")}, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert reader.read("a.bin") is None
        assert list(reader.iter_files()) == []
    assert any("zstd" in str(w.message) for w in caught)


def test_bad_input() -> None:
    with pytest.raises(RccError):
        RccReader(b"nope" + b"\0" * 40)
    with pytest.raises(RccError):
        RccReader(b"qres" + struct.pack(">IIII", 9, 0, 0, 0) + b"\0" * 8)
    reader = RccReader(write_rcc({"a": zlib_entry(b"abc")}, 3))
    with pytest.raises(KeyError):
        reader.read("missing")


def test_zlib_size_mismatch_detected() -> None:
    payload = struct.pack(">I", 99) + zlib.compress(b"abc")
    reader = RccReader(write_rcc({"a": (1, payload)}, 2))
    with pytest.raises(RccError):
        reader.read("a")


GCOMPRIS = sorted(glob.glob("/usr/share/gcompris-qt/rcc/explore_farm_animals.rcc"))


def test_real_gcompris_bundle() -> None:
    if not GCOMPRIS:
        skip_unless_ci("gcompris-qt-data not installed (no explore_farm_animals.rcc; scripts/setup.sh installs it)")
    reader = RccReader(GCOMPRIS[0])
    assert reader.version in (1, 2, 3)
    names = reader.names()
    assert any(n.endswith("/horse.webp") for n in names)
    board = next(n for n in names if n.endswith("board1.qml"))
    assert b"qsTr(" in reader.read(board)
    assert not reader.overall_flags & FLAG_COMPRESSED_ZSTD  # Debian 12's bundles use zlib only
