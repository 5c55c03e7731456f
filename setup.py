"""The compiled part of xlbridge: the worksheet scan's and the writer's splice's
fast paths (xlbridge/recompute/_speedups.c).

It is optional: where no C compiler is at hand (a Windows PC without Visual C++), the
package installs without it and the scan runs in Python, with the same results
(sheetxml.py). Everything else about the package is in pyproject.toml.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("xlbridge.recompute._speedups", ["xlbridge/recompute/_speedups.c"],
                  optional=True),
    ],
)
