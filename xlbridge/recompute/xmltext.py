"""XML character data ⇄ str, as Excel writes it (entities and ``_xHHHH_`` escapes)."""

from __future__ import annotations

import re

from xlbridge.i18n import t as tr

__all__ = ["decode_text", "encode_text"]

_XESC_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def decode_text(raw: bytes) -> str:
    """XML character data → str (entities, and Excel's ``_xHHHH_`` escapes)."""
    s = raw.decode("utf-8")
    if "&" in s:
        if "&#" in s:
            parts = s.split("&#")
            out = [parts[0]]
            for part in parts[1:]:
                i = part.find(";")
                n = part[:i]
                try:
                    out.append(chr(int(n[1:], 16) if n[:1] in ("x", "X") else int(n)))
                except ValueError:
                    raise ValueError(tr("字符引用 &#{n}; 有误", n=n)) from None
                out.append(part[i + 1:])
            s = "".join(out)
        s = (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
             .replace("&apos;", "'").replace("&amp;", "&"))
    if "_x" in s:
        s = _XESC_RE.sub(lambda m: chr(int(m.group(1), 16)), s)
    return s


_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_NOT_XML = re.compile("[\x00-\x08\x0b-\x0d\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def encode_text(s: str) -> bytes:
    """str → XML character data as Excel writes it (control characters as ``_xHHHH_``)."""
    if "_x" in s:
        s = _XESC_RE.sub(lambda m: "_x005F" + m.group(0), s)
    if _NOT_XML.search(s):
        s = _NOT_XML.sub(lambda m: f"_x{ord(m.group(0)):04X}_", s)
    if "&" in s or "<" in s or ">" in s:
        s = s.translate(_ESCAPES)
    return s.encode("utf-8")


