"""Hostile inputs, built from scratch, and a way to run xlbridge on them measured.

Used by the tests (each asserts the outcome: a clear error naming the file, bounded time and
memory, nothing overwritten or stored) and by ``benchmarks/reliability.py``, which prints the
hostile-input table of ``docs/reliability.md`` from the same builders.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCHEMES = REPO / "workbooks" / "schemes"
MEILING_RECORDS = SCHEMES / "meiling-street-quarterly.records.csv"

SCHEME_HEAD = """\
id: {id}
version: 1
title: 测试方案
unit: 单位
max_score: {max_score}
"""
SCHEME_BODY = """\
parts:
  - {id: a, title: 工作, weight: 60%, method: direct}
  - {id: b, title: 测评, weight: 40%, method: direct}
tiers:
  - {label: 优, at_least: 90}
  - {label: 良, at_least: 60, below: 90}
  - {label: 差, below: 60}
"""


def scheme_yaml(scheme_id: str = "hostile", max_score: str = "100", body: str = SCHEME_BODY
                ) -> str:
    return SCHEME_HEAD.format(id=scheme_id, max_score=max_score) + body


# --------------------------------------------------------------------------- schemes


def yaml_alias_bomb(levels: int = 9) -> str:
    """Billion laughs with YAML anchors: 9 levels of 9 aliases → 9⁹ strings if expanded."""
    lines = [scheme_yaml("alias-bomb").rstrip("\n"), 'l0: &l0 ["lol","lol","lol","lol","lol",'
                                                  '"lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def json_nested(depth: int = 100_000) -> str:
    return '{"id": "deep", "parts": ' + "[" * depth + "]" * depth + "}"


def yaml_nested(depth: int = 990) -> str:
    return scheme_yaml("deep") + "note: " + "[" * depth + "]" * depth + "\n"


def scheme_max_score(value: str) -> str:
    return scheme_yaml("big-max", max_score=value)


def scheme_tier_bound(bound: str) -> str:
    return scheme_yaml("inf-tier", body=SCHEME_BODY.replace("at_least: 90", f"at_least: {bound}"))


def scheme_weights(a: str, b: str) -> str:
    return scheme_yaml("bad-weights", body=SCHEME_BODY.replace("weight: 60%", f"weight: {a}")
                       .replace("weight: 40%", f"weight: {b}"))


# --------------------------------------------------------------------------- running


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    timed_out: bool = False

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


#: Runs the measured command as its own child and writes the child's peak resident memory
#: (KB) to a file: ru_maxrss of a child forked straight from a big process (pytest) would
#: count the pages it shared with that parent before exec.
_LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_pid, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def run_measured(args: list[str], *, timeout: float = 60, env: dict[str, str] | None = None,
                 cwd: str | os.PathLike[str] | None = None) -> Measured:
    """Run a command; its wall time and peak resident memory (``ru_maxrss`` of that one
    process, through a small launcher). A command still running at ``timeout`` is killed."""
    import signal
    import tempfile

    full_env = {**os.environ, **(env or {})}
    fd, peak_file = tempfile.mkstemp(suffix=".peak")
    os.close(fd)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, peak_file, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=full_env, cwd=cwd or REPO,
                            start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    seconds = time.perf_counter() - start
    try:
        peak_kb = int(Path(peak_file).read_text() or 0)
    except (OSError, ValueError):
        peak_kb = 0
    finally:
        Path(peak_file).unlink(missing_ok=True)
    code = proc.returncode
    return Measured(code - 256 if code > 127 else code, out.decode("utf-8", "replace"),
                    err.decode("utf-8", "replace"), seconds, peak_kb / 1024, timed_out)


def xlbridge(*args: str, **kw) -> Measured:
    """``xlbridge ARGS`` in a fresh process (the installed entry point's code)."""
    return run_measured([sys.executable, "-m", "xlbridge.cli", *args], **kw)


# --------------------------------------------------------------------------- servers


class HostileServer:
    """A scheme server that misbehaves on purpose, on a free loopback port (``.url``).

    ``routes`` maps a path to ``(status, headers, body)`` or to a function of the request
    handler that writes the answer itself (to trickle it, or never finish). Requests are
    counted per path in ``.hits``."""

    def __init__(self, routes: dict[str, object]):
        import http.server

        self.routes = routes
        self.hits: dict[str, int] = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                outer.hits[path] = outer.hits.get(path, 0) + 1
                route = outer.routes.get(path)
                if route is None:
                    route = (404, {"Content-Type": "application/problem+json"},
                             b'{"title": "Not Found", "status": 404, "detail": "no"}')
                if callable(route):
                    route(self)
                    return
                status, headers, body = route  # type: ignore[misc]
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def listing(*items: dict) -> tuple[int, dict, bytes]:
    import json

    return 200, {"Content-Type": "application/json"}, json.dumps(
        {"schemes": list(items)}).encode()


def document(doc: dict | bytes, version: int | str, etag: str = '"e1"') -> tuple:
    import json

    body = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
    return 200, {"Content-Type": "application/json", "X-Scheme-Version": str(version),
                 "ETag": etag}, body


def trickle(every: float, body: bytes = b'{"schemes": []}' + b" " * 10_000,
            headers_too: bool = False):
    """An answer sent one byte every ``every`` seconds (headers too, if asked)."""

    def answer(handler) -> None:
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        data = head + body if headers_too else body
        if not headers_too:
            handler.wfile.write(head)
            handler.wfile.flush()
        try:
            for i in range(len(data)):
                handler.wfile.write(data[i:i + 1])
                handler.wfile.flush()
                time.sleep(every)
        except OSError:
            pass  # the client hung up: that is the point

    return answer


def huge(megabytes: int):
    """A 200 answer of ``megabytes`` MB of JSON-looking bytes, streamed."""

    def answer(handler) -> None:
        size = megabytes << 20
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        chunk = b" " * (1 << 20)
        try:
            for _ in range(megabytes):
                handler.wfile.write(chunk)
        except OSError:
            pass

    return answer


def huge_chunked(megabytes: int):
    """The same without Content-Length (chunked), so only counting can stop it."""

    def answer(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b" " * (1 << 20)
        try:
            for _ in range(megabytes):
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    return answer


# --------------------------------------------------------------------------- workbooks

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _deflate(data: bytes, level: int = 6) -> bytes:
    import zlib

    co = zlib.compressobj(level, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush()


def _deflate_repeated(head: bytes, block: bytes, times: int, tail: bytes
                      ) -> tuple[bytes, int, int]:
    """``head + block × times + tail`` deflated without deflating it all: each piece ends on
    a full flush, so the block's compressed bytes repeat. Returns (raw, CRC, size)."""
    import zlib

    def piece(data: bytes) -> bytes:
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        return co.compress(data) + co.flush(zlib.Z_FULL_FLUSH)

    crc = zlib.crc32(head)
    block_raw = piece(block)
    for _ in range(times):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    raw = piece(head) + block_raw * times + piece(tail) + end
    return raw, crc & 0xFFFFFFFF, len(head) + len(block) * times + len(tail)


def write_workbook(path: Path, sheets: list[bytes | tuple[bytes, int, int]], *,
                   declared: dict[int, int] | None = None) -> Path:
    """A minimal .xlsx with these sheets, written member by member: each sheet is its XML, or
    (deflated bytes, CRC, size) made beforehand. ``declared`` lies in the zip directory:
    sheet index → the uncompressed size it claims."""
    import zipfile
    import zlib

    from xlbridge.recompute.package import ZipWriter

    names = "".join(f'<sheet name="S{i + 1}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                    for i in range(len(sheets)))
    rels = "".join(f'<Relationship Id="rId{i + 1}" Type="{REL}/worksheet" '
                   f'Target="worksheets/sheet{i + 1}.xml"/>' for i in range(len(sheets)))
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="'
                        'application/vnd.openxmlformats-officedocument.spreadsheetml.'
                        'worksheet+xml"/>' for i in range(len(sheets)))
    parts: list[tuple[str, bytes]] = [
        ("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="'
            'application/vnd.openxmlformats-package.relationships+xml"/><Default Extension='
            '"xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
            f'main+xml"/>{overrides}</Types>').encode()),
        ("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>').encode()),
        ("xl/workbook.xml", (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" '
                             f'xmlns:r="{REL}"><sheets>{names}</sheets></workbook>').encode()),
        ("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            f'openxmlformats.org/package/2006/relationships">{rels}</Relationships>').encode()),
    ]
    with open(path, "wb") as fh:
        zw = ZipWriter(fh)
        for name, data in parts:
            info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zw.add_data(info, data)
        for i, sheet in enumerate(sheets):
            if isinstance(sheet, bytes):
                sheet = (_deflate(sheet), zlib.crc32(sheet) & 0xFFFFFFFF, len(sheet))
            raw, crc, size = sheet
            info = zipfile.ZipInfo(f"xl/worksheets/sheet{i + 1}.xml", (2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.CRC, info.file_size = crc, (declared or {}).get(i, size)
            info.compress_size = len(raw)
            zw.add_raw(info, raw)
        zw.close()
    return path


_HEAD = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>'.encode()
_TAIL = b"</sheetData></worksheet>"
#: one row of ten number cells, without the optional r="" attributes (so rows repeat exactly)
_ROW = b"<row>" + b"<c><v>1</v></c>" * 10 + b"</row>"


def sheet_xml(rows: int) -> bytes:
    """A plain sheet of ``rows`` rows of 10 numbers and a SUM below them."""
    total = f'<row r="{rows + 1}"><c r="A{rows + 1}"><f>SUM(A1:A{rows})</f></c></row>'
    return _HEAD + _ROW * rows + total.encode() + _TAIL


def repeated_sheet(size: int) -> tuple[bytes, int, int]:
    """A sheet of about ``size`` bytes — one cell of text, the letter A repeated — deflated
    at about 1000:1 (the best deflate does), without deflating it all."""
    head = _HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
    tail = b"</t></is></c></row>" + _TAIL
    block = b"A" * min(size, 1 << 20)
    return _deflate_repeated(head, block, size // len(block), tail)


def zip_liar(path: Path, inflated_mb: int = 1500) -> Path:
    """One sheet whose zip directory says 10 KB while it inflates to ``inflated_mb`` MB (the
    file is ≈ 1.5 MB): such a file cost 2.15 GB of memory before it was refused."""
    return write_workbook(path, [repeated_sheet(inflated_mb << 20)], declared={0: 10_000})


def many_sheets(path: Path, sheets: int = 250, sheet_bytes: int = 4_000_000) -> Path:
    """``sheets`` sheets of 4 MB each, all alike, each just under the size above which one
    member's ratio is checked (the file is ≈ 1 MB): these were recomputed as ok at 1.06 GB of
    memory."""
    one = repeated_sheet(sheet_bytes - 200)
    return write_workbook(path, [one] * sheets)


def big_sheets(path: Path, sheets: int, rows: int) -> Path:
    """An honest workbook of ``sheets`` sheets of ``rows`` rows each (for the read cap)."""
    return write_workbook(path, [sheet_xml(rows)] * sheets)


def slow_workbook(path: Path, rows: int = 40_000) -> Path:
    """An honest workbook that takes seconds: ``rows`` rows of ROUND, RANK over the column
    and IF&TEXT (40,000 rows take 1.5–4.5 s on the reference machine, by its load)."""
    body = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r % 97}</v></c><c r="B{r}"><f>ROUND(A{r}*0.5+1,1)</f>'
        f'</c><c r="C{r}"><f>RANK(B{r},$B$1:$B${rows})</f></c><c r="D{r}"><f>IF(C{r}&lt;10,'
        f'"优","良")&amp;TEXT(B{r},"0.0")</f></c></row>' for r in range(1, rows + 1))
    return write_workbook(path, [_HEAD + body.encode() + _TAIL])


def small_workbook(path: Path) -> Path:
    """Three numbers and a SUM without a stored value: recomputing it changes the file."""
    return write_workbook(path, [_HEAD + b'<row r="1"><c r="A1"><v>2</v></c><c r="B1"><v>3'
                                 b'</v></c><c r="C1"><f>A1*B1+1</f></c></row>' + _TAIL])
