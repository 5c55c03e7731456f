"""Reading and writing source-only VBA projects ([MS-OVBA]), the ``xl/vbaProject.bin`` of an
add-in, without Excel.

A project is written the way xlwings ships its own add-ins: every module as source only
(``MODULEOFFSET`` 0, no compiled p-code), the ``_VBA_PROJECT`` stream with version 0xFFFF
(so Excel ignores any cache and compiles the source when it opens the file), no ``__SRP_``
streams. :func:`read` takes such a project apart (``olefile`` opens the compound file) and
:func:`write` puts one together (:mod:`xlbridge.addin.cfb`); :func:`compress` and
:func:`decompress` are the run-length/LZ77 scheme of [MS-OVBA] 2.4.1 that module sources
and the ``dir`` stream are stored in.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass, field, replace

from xlbridge.addin import cfb

# --------------------------------------------------------------------------- compression

_CHUNK = 4096
#: How many earlier places with the same 3 bytes a match is looked for at (the newest).
_CANDIDATES = 48


def _copy_token_bits(position: int) -> int:
    """Bits of a copy token's offset at ``position`` bytes into a chunk ([MS-OVBA] 2.4.1.3.19.1)."""
    return max((position - 1).bit_length(), 4)


def decompress(data: bytes) -> bytes:
    """A CompressedContainer's bytes, decompressed ([MS-OVBA] 2.4.1.3.1)."""
    if not data or data[0] != 0x01:
        raise ValueError("not an MS-OVBA compressed container (signature byte is not 0x01)")
    out = bytearray()
    pos = 1
    while pos < len(data):
        header = struct.unpack_from("<H", data, pos)[0]
        size = (header & 0x0FFF) + 3
        if (header >> 12) & 0b111 != 0b011:
            raise ValueError(f"bad chunk signature at byte {pos}")
        end = min(pos + size, len(data))
        pos += 2
        start = len(out)
        if not header & 0x8000:
            out += data[pos:pos + _CHUNK]
            pos += _CHUNK
            continue
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", data, pos)[0]
                pos += 2
                bits = _copy_token_bits(len(out) - start)
                length = (token & (0xFFFF >> bits)) + 3
                offset = (token >> (16 - bits)) + 1
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    """One chunk's tokens; matches are found through a table of 3-byte prefixes."""
    out = bytearray()
    seen: dict[bytes, list[int]] = {}
    pos = 0
    while pos < len(chunk):
        flags = 0
        tokens = bytearray()
        for bit in range(8):
            if pos >= len(chunk):
                break
            bits = _copy_token_bits(pos) if pos else 4
            max_length = (0xFFFF >> bits) + 3     # an offset (≤ pos) always fits in `bits`
            best_len = best_off = 0
            if pos:
                for cand in reversed(seen.get(chunk[pos:pos + 3], [])[-_CANDIDATES:]):
                    offset = pos - cand
                    length = 0
                    limit = min(max_length, len(chunk) - pos)
                    while length < limit and chunk[cand + length] == chunk[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_off = length, offset
                        if length == limit:
                            break
            step = best_len if best_len >= 3 else 1
            if best_len >= 3:
                flags |= 1 << bit
                tokens += struct.pack("<H", ((best_off - 1) << (16 - bits)) | (best_len - 3))
            else:
                tokens.append(chunk[pos])
            for i in range(pos, pos + step):
                seen.setdefault(chunk[i:i + 3], []).append(i)
            pos += step
        out.append(flags)
        out += tokens
    return bytes(out)


def compress(data: bytes) -> bytes:
    """``data`` as a CompressedContainer ([MS-OVBA] 2.4.1.3.6)."""
    out = bytearray(b"\x01")
    for i in range(0, max(len(data), 1), _CHUNK):
        chunk = data[i:i + _CHUNK]
        if not chunk:
            break
        packed = _compress_chunk(chunk)
        if len(packed) > _CHUNK:
            if len(chunk) < _CHUNK:  # a raw chunk is 4096 bytes: it cannot end a stream
                raise ValueError("incompressible data cannot end an MS-OVBA container")
            out += struct.pack("<H", 0x3000 | (_CHUNK - 1)) + chunk   # stored uncompressed
        else:
            out += struct.pack("<H", 0xB000 | (len(packed) + 2 - 3)) + packed
    return bytes(out)


# --------------------------------------------------------------------------- the project

STANDARD = "standard"     # a .bas module
CLASS = "class"           # a class module (.cls)
DOCUMENT = "document"     # ThisWorkbook, a sheet's module

#: _VBA_PROJECT as xlwings' add-ins carry it: reserved 0x61CC, version 0xFFFF, reserved 0x00,
#: two reserved bytes; no performance cache ([MS-OVBA] 2.3.4.1).
VBA_PROJECT_STREAM = bytes.fromhex("cc61ffff000100")


@dataclass(frozen=True)
class Module:
    name: str
    kind: str
    source: str                     # as the VBA editor exports it, with Attribute lines
    doc: str = ""                   # MODULEDOCSTRING


@dataclass
class Project:
    """A VBA project: the records that describe it, and its modules in declaration order."""

    name: str
    code_page: int
    info: list[tuple[int, bytes]]   # PROJECTINFORMATION + PROJECTREFERENCES records, as read
    project_lines: list[str]        # the PROJECT stream's ID=, HelpContextID= … lines
    host_extenders: list[str]       # its [Host Extender Info] section
    modules: list[Module] = field(default_factory=list)

    def module(self, name: str) -> Module:
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(name)

    def put(self, module: Module) -> None:
        """Replace the module of that name, or add it after the others."""
        for i, m in enumerate(self.modules):
            if m.name == module.name:
                self.modules[i] = module
                return
        self.modules.append(module)

    def drop(self, name: str) -> None:
        self.module(name)
        self.modules = [m for m in self.modules if m.name != name]


# dir stream record ids ([MS-OVBA] 2.3.4.2)
PROJECTNAME = 0x0004
PROJECTVERSION = 0x0009
PROJECTCODEPAGE = 0x0003
PROJECTMODULES = 0x000F
PROJECTCOOKIE = 0x0013
MODULENAME = 0x0019
MODULENAMEUNICODE = 0x0047
MODULESTREAMNAME = 0x001A
MODULESTREAMNAMEUNICODE = 0x0032
MODULEDOCSTRING = 0x001C
MODULEDOCSTRINGUNICODE = 0x0048
MODULEOFFSET = 0x0031
MODULEHELPCONTEXT = 0x001E
MODULECOOKIE = 0x002C
MODULETYPE_PROCEDURAL = 0x0021
MODULETYPE_OTHER = 0x0022
MODULEREADONLY = 0x0025
MODULEPRIVATE = 0x0028
MODULE_TERMINATOR = 0x002B
DIR_TERMINATOR = 0x0010


def records(data: bytes) -> list[tuple[int, bytes]]:
    """A decompressed dir stream as (id, payload) records, up to its terminator."""
    out = []
    pos = 0
    while pos + 6 <= len(data):
        rid, size = struct.unpack_from("<HI", data, pos)
        pos += 6
        if rid == PROJECTVERSION:   # its size field is Reserved (4); 6 bytes follow
            size = 6
        out.append((rid, bytes(data[pos:pos + size])))
        pos += size
        if rid == DIR_TERMINATOR:
            break
    return out


def _record(rid: int, payload: bytes) -> bytes:
    if rid == PROJECTVERSION:
        return struct.pack("<HI", rid, 4) + payload
    return struct.pack("<HI", rid, len(payload)) + payload


def read(data: bytes) -> Project:
    """Take a ``vbaProject.bin`` apart into a :class:`Project`."""
    import olefile

    ole = olefile.OleFileIO(io.BytesIO(data))
    try:
        recs = records(decompress(ole.openstream("VBA/dir").read()))
        first_module = next(i for i, (rid, _p) in enumerate(recs) if rid == PROJECTMODULES)
        info = recs[:first_module]
        code_page = struct.unpack("<H", dict(info)[PROJECTCODEPAGE])[0]
        enc = f"cp{code_page}"
        name = dict(info)[PROJECTNAME].decode(enc)
        text = ole.openstream("PROJECT").read().decode(enc)
        modules = []
        current: dict[int, bytes] = {}
        for rid, payload in recs[first_module + 2:]:
            if rid == MODULE_TERMINATOR:
                stream = current[MODULESTREAMNAME].decode(enc)
                offset = struct.unpack("<I", current[MODULEOFFSET])[0]
                raw = ole.openstream(f"VBA/{stream}").read()
                source = decompress(raw[offset:]).decode(enc)
                mname = current[MODULENAME].decode(enc)
                kind = STANDARD if MODULETYPE_PROCEDURAL in current else (
                    DOCUMENT if re.search(rf"^Document={re.escape(mname)}/", text, re.M)
                    else CLASS)
                modules.append(Module(mname, kind, source,
                                      current.get(MODULEDOCSTRING, b"").decode(enc)))
                current = {}
            else:
                current.setdefault(rid, payload)
    finally:
        ole.close()
    lines, extenders, section = [], [], ""
    for line in text.splitlines():
        if line.startswith("["):
            section = line
        elif not line.strip():
            continue
        elif section == "[Host Extender Info]":
            extenders.append(line)
        elif not section and not re.match(r"(Document|Module|Class|BaseClass|Package)=", line):
            lines.append(line)
    return Project(name, code_page, info, lines, extenders, modules)


def _encode(text: str, code_page: int, what: str) -> bytes:
    try:
        return text.encode(f"cp{code_page}")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} cannot be written in code page {code_page}: "
                         f"{text[exc.start:exc.end]!r}") from None


def dir_stream(project: Project) -> bytes:
    """The decompressed dir stream of ``project`` ([MS-OVBA] 2.3.4.2)."""
    cp = project.code_page
    out = bytearray()
    for rid, payload in project.info:
        if rid == PROJECTNAME:
            payload = _encode(project.name, cp, "the project name")
        out += _record(rid, payload)
    out += _record(PROJECTMODULES, struct.pack("<H", len(project.modules)))
    out += _record(PROJECTCOOKIE, b"\xff\xff")
    for m in project.modules:
        name = _encode(m.name, cp, f"module name {m.name}")
        doc = _encode(m.doc, cp, f"the description of module {m.name}")
        for rid, payload in (
                (MODULENAME, name), (MODULENAMEUNICODE, m.name.encode("utf-16-le")),
                (MODULESTREAMNAME, name), (MODULESTREAMNAMEUNICODE, m.name.encode("utf-16-le")),
                (MODULEDOCSTRING, doc), (MODULEDOCSTRINGUNICODE, m.doc.encode("utf-16-le")),
                (MODULEOFFSET, struct.pack("<I", 0)), (MODULEHELPCONTEXT, struct.pack("<I", 0)),
                (MODULECOOKIE, b"\xff\xff"),
                (MODULETYPE_PROCEDURAL if m.kind == STANDARD else MODULETYPE_OTHER, b""),
                (MODULE_TERMINATOR, b"")):
            out += _record(rid, payload)
    out += _record(DIR_TERMINATOR, b"")
    return bytes(out)


def project_stream(project: Project) -> bytes:
    """The PROJECT stream: module declarations, project properties, workspace ([MS-OVBA] 2.3.1)."""
    decl = {DOCUMENT: "Document={}/&H00000000", CLASS: "Class={}", STANDARD: "Module={}"}
    lines = []
    for line in project.project_lines:
        if line.startswith("ID="):
            lines.append(line)
            lines += [decl[m.kind].format(m.name) for m in project.modules]
        elif line.startswith("Name="):
            lines.append(f'Name="{project.name}"')
        else:
            lines.append(line)
    lines += ["", "[Host Extender Info]", *project.host_extenders, "", "[Workspace]"]
    lines += [f"{m.name}=0, 0, 0, 0, C" for m in project.modules]
    return _encode("\r\n".join(lines) + "\r\n", project.code_page, "the PROJECT stream")


def projectwm_stream(project: Project) -> bytes:
    """PROJECTwm: every module name in the code page and in UTF-16 ([MS-OVBA] 2.3.3)."""
    out = bytearray()
    for m in project.modules:
        out += _encode(m.name, project.code_page, m.name) + b"\0"
        out += m.name.encode("utf-16-le") + b"\0\0"
    return bytes(out + b"\0\0")


def module_source_bytes(module: Module, code_page: int) -> bytes:
    """A module's source as stored: CRLF line ends, in the project's code page."""
    text = module.source.replace("\r\n", "\n").replace("\n", "\r\n")
    return _encode(text, code_page, f"VBA module {module.name}")


def write(project: Project) -> bytes:
    """``project`` as a ``vbaProject.bin``: source-only modules, version 0xFFFF."""
    names = [m.name.upper() for m in project.modules]
    if len(names) != len(set(names)):
        raise ValueError("two VBA modules have the same name")
    vba: dict[str, bytes] = {"_VBA_PROJECT": VBA_PROJECT_STREAM,
                             "dir": compress(dir_stream(project))}
    for m in project.modules:
        vba[m.name] = compress(module_source_bytes(m, project.code_page))
    return cfb.write({"PROJECT": project_stream(project),
                      "PROJECTwm": projectwm_stream(project), "VBA": vba})


def renamed(project: Project, name: str) -> Project:
    """A copy of ``project`` under another name (PROJECTNAME and ``Name=``)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,127}", name):
        raise ValueError(f"invalid VBA project name {name!r}")
    return replace(project, name=name, modules=list(project.modules))
