"""Shared fixtures: build schemes from YAML snippets, find the shipped schemes."""

from __future__ import annotations

import textwrap
from pathlib import Path

from xlbridge.engine import compile_scheme
from xlbridge.scheme.load import parse_scheme

REPO = Path(__file__).resolve().parents[1]
SCHEMES = REPO / "workbooks" / "schemes"

HEADER = """\
id: t-scheme
version: 1
title: 测试方案
unit: 单位
max_score: {max_score}
"""


def scheme_text(body: str, header: bool = True, max_score: int = 100) -> str:
    body = textwrap.dedent(body)
    return (HEADER.format(max_score=max_score) + body) if header else body


def compiled(body: str, header: bool = True, max_score: int = 100):
    """Compile a scheme from a YAML snippet (the header fields are added unless header=False)."""
    return compile_scheme(parse_scheme(scheme_text(body, header, max_score), "test.yaml"))
