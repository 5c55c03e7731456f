"""One file per schema change; never edit a migration that has shipped, add a new one."""
