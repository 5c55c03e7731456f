"""VBA sources of the add-in (ASCII .bas files); a package so that they install as data."""
