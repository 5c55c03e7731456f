"""The MS-OVBA and compound-file writers (xlbridge/addin/ovba.py, cfb.py) against readers we
did not write: oletools' decompressor and olefile."""

from __future__ import annotations

import io
import os
import zipfile

import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import decompress_stream

from xlbridge.addin import cfb, ovba, package

RED, BLACK = 0, 1   # [MS-CFB] 2.6.1 colour flag

SAMPLES = [b"", b"a", b"abc" * 2000, b"#aaabbbccc" * 500, bytes(range(256)) * 40,
           os.urandom(4096), os.urandom(4096) + b"x" * 5000, b"\r\n".join([b"Dim x"] * 3000)]


@pytest.mark.parametrize("data", SAMPLES, ids=lambda d: f"{len(d)}B")
def test_compress_round_trips_through_oletools(data):
    packed = ovba.compress(data)
    assert bytes(decompress_stream(bytearray(packed))) == data
    assert ovba.decompress(packed) == data


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([b"Sub ", b"End Sub\r\n", b"x", b"    ", b"\x00", b"A" * 40,
                                 b"If x Then\r\n"]), max_size=600)
       | st.binary(max_size=9000))
def test_compress_any_text_round_trips(parts):
    data = b"".join(parts) if isinstance(parts, list) else parts
    try:
        packed = ovba.compress(data)
    except ValueError:   # an incompressible last chunk: never VBA source
        assert len(data) % 4096 and len(set(data)) > 200
        return
    assert bytes(decompress_stream(bytearray(packed))) == data


def test_source_compresses_well():
    source = package.xlwings_module().encode("cp1252")
    assert len(ovba.compress(source)) < len(source) * 0.5


def test_decompress_reads_xlwings_streams_as_oletools_does():
    with zipfile.ZipFile(package.xlwings_addin_path()) as z:
        ole = olefile.OleFileIO(io.BytesIO(z.read("xl/vbaProject.bin")))
    raw = ole.openstream("VBA/dir").read()
    assert ovba.decompress(raw) == bytes(decompress_stream(bytearray(raw)))
    ole.close()


def test_decompress_refuses_what_is_not_a_container():
    with pytest.raises(ValueError, match="signature"):
        ovba.decompress(b"\x02abc")


# --------------------------------------------------------------------------- compound files


def _read(data: bytes) -> olefile.OleFileIO:
    return olefile.OleFileIO(io.BytesIO(data))


@pytest.mark.parametrize("size", [0, 1, 63, 64, 4095, 4096, 4097, 70_000])
def test_streams_of_every_size_around_the_cutoffs(size):
    data = bytes(i % 251 for i in range(size))
    ole = _read(cfb.write({"S": data, "D": {"T": data[::-1], "U": b"u"}}))
    assert ole.openstream("S").read() == data
    assert ole.openstream("D/T").read() == data[::-1]
    assert ole.openstream("D/U").read() == b"u"
    assert ole.get_size("S") == size
    ole.close()


def _colour_and_order(ole, sid, keys):
    """Black height of the sibling tree at ``sid``; asserts BST order and no red-red."""
    if sid == olefile.NOSTREAM:
        return 1
    entry = ole.direntries[sid]
    for side in (entry.sid_left, entry.sid_right):
        if side != olefile.NOSTREAM and entry.color == RED:
            assert ole.direntries[side].color == BLACK, "red node with a red child"
    if entry.sid_left != olefile.NOSTREAM:
        assert keys(ole.direntries[entry.sid_left].name) < keys(entry.name)
    if entry.sid_right != olefile.NOSTREAM:
        assert keys(ole.direntries[entry.sid_right].name) > keys(entry.name)
    left = _colour_and_order(ole, entry.sid_left, keys)
    right = _colour_and_order(ole, entry.sid_right, keys)
    assert left == right, "unequal black heights"
    return left + (entry.color == BLACK)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 8, 20, 33])
def test_sibling_trees_are_red_black_trees_in_cfb_order(count):
    names = [f"m{'x' * (i % 5)}{i}" for i in range(count)]
    ole = _read(cfb.write({"VBA": {n: n.encode() for n in names}}))
    vba = ole.direntries[ole.root.sid_child]
    assert vba.name == "VBA"
    assert ole.direntries[vba.sid_child].color == BLACK
    _colour_and_order(ole, vba.sid_child, lambda n: (len(n), n.upper()))
    assert sorted(ole.listdir()) == sorted(["VBA", n] for n in names)
    ole.close()


def test_bad_names_are_refused():
    with pytest.raises(ValueError):
        cfb.write({"a/b": b""})
    with pytest.raises(ValueError):
        cfb.write({"VBA": {"x": b"", "X": b""}})


def test_a_project_round_trips():
    project = package.vba_project()
    again = ovba.read(ovba.write(project))
    assert again.name == project.name == "xlbridge"
    assert dict(again.info)[ovba.PROJECTNAME] == b"xlbridge"
    assert [r for r in again.info if r[0] != ovba.PROJECTNAME] == \
        [r for r in project.info if r[0] != ovba.PROJECTNAME]
    assert again.modules == [ovba.Module(m.name, m.kind,
                                         ovba.module_source_bytes(m, 1252).decode("cp1252"),
                                         m.doc) for m in project.modules]


def test_non_ascii_source_is_refused_with_the_module_named():
    project = package.vba_project()
    project.put(ovba.Module("bad", ovba.STANDARD, 'Attribute VB_Name = "bad"\nx = "考核"\n'))
    with pytest.raises(ValueError, match="bad"):
        ovba.write(project)
