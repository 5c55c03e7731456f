"""The Excel add-in ``xlbridge.xlam``: package (:mod:`.package`), the xlwings registrations
of the PERF_* functions (:mod:`.registry`) and installation on a Windows PC (:mod:`.install`).
The add-in's sources are ``customUI14.xml`` (the ribbon) and ``vba/*.bas`` beside this file."""
