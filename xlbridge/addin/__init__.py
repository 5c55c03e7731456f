"""The Excel add-in ``xlbridge.xlam``, one complete file built on any machine: the package
(:mod:`.package`), its source-only VBA project (:mod:`.ovba`, in a compound file written by
:mod:`.cfb`), the xlwings registrations of the PERF_* functions (:mod:`.registry`),
installing by copying into Excel's start-up folder (:mod:`.install`) and the offline
installer (:mod:`.bundle`). The add-in's own sources are ``customUI14.xml`` (the ribbon) and
``vba/`` beside this file."""
