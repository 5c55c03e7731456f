"""Print, as JSON, the Basic libraries LibreOffice finds in documents (its own VBA import).

    /usr/bin/python3 tests/addin/lo_basic.py FILE.xlam [FILE …]

Run with the system Python that has Debian's ``python3-uno``. It starts ``soffice
--headless`` on a private profile, opens each file hidden with the Excel 2007 VBA filter and
prints ``{file: {"libraries": {library: {module: source}}}}`` — an independent reader of
the add-in's VBA project (LibreOffice's own MS-OVBA parser), used by test_addin_build.py.
"""

from __future__ import annotations

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
    files = [Path(a) for a in sys.argv[1:]]
    soffice = shutil.which("soffice") or "soffice"
    pipe = f"xlbridge_basic_{os.getpid()}"
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
             "--norestore", "--nologo", f"--accept=pipe,name={pipe};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        desktop = None
        try:
            local = uno.getComponentContext()
            resolver = local.ServiceManager.createInstanceWithContext(
                "com.sun.star.bridge.UnoUrlResolver", local)
            for _ in range(600):
                try:
                    ctx = resolver.resolve(
                        f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                    break
                except NoConnectException:
                    time.sleep(0.1)
            else:
                raise SystemExit("soffice did not start")
            desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop",
                                                                   ctx)
            out = {}
            for path in files:
                doc = desktop.loadComponentFromURL(
                    path.resolve().as_uri(), "_blank", 0,
                    (_prop("Hidden", True), _prop("FilterName", "Calc MS Excel 2007 VBA XML"),
                     _prop("MacroExecutionMode", 0)))
                if doc is None:
                    out[str(path)] = None
                    continue
                libraries = {}
                basic = doc.BasicLibraries
                for name in basic.ElementNames:
                    basic.loadLibrary(name)
                    lib = basic.getByName(name)
                    libraries[name] = {m: lib.getByName(m) for m in lib.ElementNames}
                sheets = [s.Name for s in doc.Sheets]
                out[str(path)] = {"libraries": libraries, "sheets": sheets}
                doc.close(True)
            print(json.dumps(out, ensure_ascii=False))
        finally:
            if desktop is not None:
                with contextlib.suppress(Exception):   # it may be gone already
                    desktop.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
