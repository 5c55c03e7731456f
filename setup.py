"""The compiled part of xlbridge: the worksheet scan's and the writer's splice's
fast paths (xlbridge/recompute/_speedups.c).

It is optional: where no C compiler is at hand (a Windows PC without Visual C++), the
package installs without it and the scan runs in Python, with the same results
(sheetxml.py). Everything else about the package is in pyproject.toml.
"""

import os

from setuptools import Extension, setup

# XLBRIDGE_PURE_WHEEL=1: a wheel without it, for every platform (the Excel add-in's bundle for
# Windows is built on another system: xlbridge addin bundle)
PURE = os.environ.get("XLBRIDGE_PURE_WHEEL") == "1"

setup(
    ext_modules=[] if PURE else [
        Extension("xlbridge.recompute._speedups", ["xlbridge/recompute/_speedups.c"],
                  optional=True),
    ],
)
