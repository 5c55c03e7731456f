"""A writer of Compound File Binary files ([MS-CFB]), the container of ``vbaProject.bin``.

Only what a VBA project needs: version 3 (512-byte sectors), storages and streams given as a
tree of names, streams under 4096 bytes in the mini stream (as [MS-CFB] 2.6.3 requires), no
DIFAT sectors (up to 109 FAT sectors, ≈7 MB), no timestamps, so the same input always gives
the same bytes. Reading is left to ``olefile``, which the tests also use to read the output
back (a reader we did not write).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
_MAX_HEADER_FAT = 109

#: A storage's contents: name → bytes (a stream) or a nested mapping (a storage).
Tree = Mapping[str, "bytes | Tree"]


@dataclass
class _Entry:
    name: str
    kind: int                      # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: list[int] = field(default_factory=list)
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    black: bool = True
    start: int = ENDOFCHAIN
    size: int = 0


def _key(name: str) -> tuple[int, str]:
    """[MS-CFB] 2.6.4: shorter names first, then by upper-case code points."""
    return len(name.encode("utf-16-le")), name.upper()


def _tree(entries: list[_Entry], ids: list[int]) -> int:
    """Link ``ids`` (siblings) as a balanced red-black tree; returns the root's id.

    A middle split puts every leaf at the deepest level or one above it; colouring the
    nodes of the deepest level red (unless that level is full) keeps the same number of
    black nodes on every path, which is what [MS-CFB] 2.6.4 asks of the sibling tree."""
    ordered = sorted(ids, key=lambda i: _key(entries[i].name))
    depth: dict[int, int] = {}

    def build(lo: int, hi: int, level: int) -> int:
        if lo >= hi:
            return NOSTREAM
        mid = (lo + hi) // 2
        node = ordered[mid]
        depth[node] = level
        entries[node].left = build(lo, mid, level + 1)
        entries[node].right = build(mid + 1, hi, level + 1)
        return node

    root = build(0, len(ordered), 0)
    if ordered:
        deepest = max(depth.values())
        if len(ordered) != 2 ** (deepest + 1) - 1:
            for node, level in depth.items():
                entries[node].black = level != deepest
    return root


def _flatten(tree: Tree) -> list[_Entry]:
    entries = [_Entry("Root Entry", 5)]

    def add(parent: int, contents: Tree) -> None:
        for name, value in contents.items():
            if len(name) > 31 or any(c in name for c in "/\\:!"):
                raise ValueError(f"invalid compound file entry name {name!r}")
            index = len(entries)
            if isinstance(value, bytes | bytearray):
                entries.append(_Entry(name, 2, bytes(value), size=len(value)))
            else:
                entries.append(_Entry(name, 1, start=0))
                add(index, value)
            entries[parent].children.append(index)

    add(0, tree)
    for entry in entries:
        names = [entries[c].name.upper() for c in entry.children]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate names in storage {entry.name!r}")
        entry.child = _tree(entries, entry.children)
    return entries


def _sectors(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size].ljust(size, b"\0") for i in range(0, len(data), size)]


def _chain(fat: list[int], start: int, count: int) -> None:
    for i in range(count):
        fat[start + i] = start + i + 1 if i + 1 < count else ENDOFCHAIN


def write(tree: Tree) -> bytes:
    """The compound file holding ``tree`` (``{"PROJECT": b"…", "VBA": {"dir": b"…"}}``)."""
    entries = _flatten(tree)
    big = [e for e in entries if e.kind == 2 and e.size >= MINI_CUTOFF]
    small = [e for e in entries if e.kind == 2 and 0 < e.size < MINI_CUTOFF]

    # the mini stream: small streams in 64-byte mini sectors, chained in the mini FAT
    mini_fat: list[int] = []
    mini_stream = bytearray()
    for e in small:
        e.start = len(mini_fat)
        chunks = _sectors(e.data, MINI_SECTOR)
        mini_fat.extend(range(e.start + 1, e.start + len(chunks)))
        mini_fat.append(ENDOFCHAIN)
        mini_stream += b"".join(chunks)
    root = entries[0]
    root.data, root.size = bytes(mini_stream), len(mini_stream)

    # sector layout: big streams, the mini stream, the mini FAT, the directory, the FAT
    body: list[bytes] = []
    fat: list[int] = []

    def place(data: bytes) -> tuple[int, int]:
        chunks = _sectors(data, SECTOR)
        start = len(body)
        body.extend(chunks)
        fat.extend([0] * len(chunks))
        _chain(fat, start, len(chunks))
        return (start if chunks else ENDOFCHAIN), len(chunks)

    for e in big:
        e.start, _n = place(e.data)
    root.start, _n = place(root.data)
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    mini_fat_bytes += b"\xff" * (-len(mini_fat_bytes) % SECTOR)
    mini_fat_start, mini_fat_count = place(mini_fat_bytes) if mini_fat else (ENDOFCHAIN, 0)
    directory = b"".join(_dir_entry(e) for e in entries)
    directory += _free_entry() * (-len(entries) % (SECTOR // 128))
    dir_start, _n = place(directory)

    fat_count = 1
    while (len(body) + fat_count) * 4 > fat_count * SECTOR:
        fat_count += 1
    if fat_count > _MAX_HEADER_FAT:
        raise ValueError("compound file too large for a FAT without DIFAT sectors")
    fat_start = len(body)
    fat.extend([FATSECT] * fat_count)
    fat.extend([FREESECT] * (fat_count * SECTOR // 4 - len(fat)))
    body.extend(_sectors(struct.pack(f"<{len(fat)}I", *fat), SECTOR))

    difat = list(range(fat_start, fat_start + fat_count))
    difat += [FREESECT] * (_MAX_HEADER_FAT - len(difat))
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x003E, 0x0003, 0xFFFE, 9, 6,
        b"\0" * 6, 0, fat_count, dir_start, 0, MINI_CUTOFF, mini_fat_start, mini_fat_count,
        ENDOFCHAIN, 0) + struct.pack(f"<{_MAX_HEADER_FAT}I", *difat)
    assert len(header) == SECTOR
    return header + b"".join(body)


def _dir_entry(e: _Entry) -> bytes:
    name = e.name.encode("utf-16-le") + b"\0\0"
    return struct.pack("<64sHBBIII16sIQQIQ", name, len(name), e.kind, 1 if e.black else 0,
                       e.left, e.right, e.child, b"\0" * 16, 0, 0, 0,
                       e.start if e.kind != 1 else 0, e.size)


def _free_entry() -> bytes:
    return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM,
                       b"\0" * 16, 0, 0, 0, 0, 0)
