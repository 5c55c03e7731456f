"""Time LibreOffice's own recalculation of a workbook, inside LibreOffice (no start-up, no I/O).

    /usr/bin/python3 benchmarks/lo_calc.py FILE.xlsx [--repeat 7]

Run with the system Python that has Debian's ``python3-uno`` (``apt-get install
python3-uno``), not the project's virtualenv. It starts ``soffice --headless`` listening on a
pipe, loads FILE hidden, and times ``calculateAll()`` — every formula recomputed, the work
Calc does for a full recalculation — ``--repeat`` times; it prints one JSON line
``{"seconds": [...], "version": "...", "formulas": N}``. The benchmarks in this folder run
it as a subprocess to compare LibreOffice's calculation engine with xlbridge's on the same
sheet, free of the second or so that starting LibreOffice and converting files cost.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uno  # type: ignore[import-not-found]  # Debian's python3-uno
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]


def _prop(name: str, value: object) -> PropertyValue:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    soffice = shutil.which("soffice") or "soffice"
    pipe = f"xlbridge_bench_{os.getpid()}"
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
             "--norestore", "--nologo", f"--accept=pipe,name={pipe};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            local = uno.getComponentContext()
            resolver = local.ServiceManager.createInstanceWithContext(
                "com.sun.star.bridge.UnoUrlResolver", local)
            for _ in range(300):
                try:
                    ctx = resolver.resolve(
                        f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                    break
                except NoConnectException:
                    time.sleep(0.1)
            else:
                raise SystemExit("soffice did not start")
            smgr = ctx.ServiceManager
            desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
            provider = smgr.createInstanceWithContext(
                "com.sun.star.configuration.ConfigurationProvider", ctx)
            about = provider.createInstanceWithArguments(
                "com.sun.star.configuration.ConfigurationAccess",
                (_prop("nodepath", "/org.openoffice.Setup/Product"),))
            version = f"{about.ooName} {about.ooSetupVersionAboutBox}"
            doc = desktop.loadComponentFromURL(args.file.resolve().as_uri(), "_blank", 0,
                                               (_prop("Hidden", True),))
            formulas = 0
            for sheet in doc.Sheets:
                cells = sheet.queryContentCells(16)  # CellFlags.FORMULA
                formulas += sum((r.EndRow - r.StartRow + 1) * (r.EndColumn - r.StartColumn + 1)
                                for r in (cells.getRangeAddresses() if cells else []))
            seconds = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                doc.calculateAll()
                seconds.append(time.perf_counter() - start)
            doc.close(True)
        finally:
            with contextlib.suppress(Exception):  # it may be gone already
                desktop.terminate()  # type: ignore[possibly-undefined]
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(json.dumps({"seconds": seconds, "version": version, "formulas": formulas}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
