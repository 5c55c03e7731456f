"""Finding schemes by id or ``id@version``, and keeping compiled ones in memory.

Schemes come from folders of YAML/JSON files: the ones given on the command line or in
``XLBRIDGE_SCHEMES`` (``os.pathsep``-separated), the per-user store that ``xlbridge sync``
fills, and the schemes shipped in ``workbooks/schemes``. A reference without a version means
the newest version found; ``id@version`` always means exactly that version (a workbook from
2016 keeps computing with the 2016 scheme).

Compiled schemes are cached per process: a sheet with 3,000 × 3 worksheet-function calls
reads and validates each scheme once. The cache notices when a folder changes (file added,
removed or rewritten) by comparing a cheap fingerprint of file names, sizes and mtimes, checked
at most every ``recheck_seconds``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from xlbridge.engine.compiled import CompiledScheme, compile_scheme
from xlbridge.engine.values import normalize_text
from xlbridge.i18n import t
from xlbridge.scheme.issues import Issue, Report, SchemeInvalid
from xlbridge.scheme.load import SCHEME_SUFFIXES, LoadedScheme, load_scheme_file

REPO_SCHEMES = Path(__file__).resolve().parent.parent / "workbooks" / "schemes"


def user_store_dir() -> Path:
    """The per-user folder that ``xlbridge sync`` writes (overridable for tests)."""
    override = os.environ.get("XLBRIDGE_STORE")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("xlbridge", appauthor=False)) / "schemes"


def default_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("XLBRIDGE_SCHEMES", "").split(os.pathsep) if p]
    dirs.append(user_store_dir())
    if REPO_SCHEMES.is_dir():
        dirs.append(REPO_SCHEMES)
    return dirs


class SchemeNotFound(LookupError):
    """No scheme answers to a name; ``suggestions`` are the nearest ones (best first)."""

    def __init__(self, ref: str, known: Iterable[str], dirs: Sequence[Path],
                 suggestions: Sequence[str] = (), ambiguous: bool = False):
        self.ref = ref
        self.suggestions = list(suggestions)
        names = t("、").join(sorted(known)) or t("（无）")
        where = t("、").join(str(d) for d in dirs) or t("（无目录）")
        if ambiguous:
            text = t("“{ref}”同时符合多个方案：{matches}；请写出方案编号或更完整的名称",
                     ref=ref, matches=t("、").join(self.suggestions))
        elif self.suggestions:
            text = t("找不到方案“{ref}”；是不是：{near}？（已查找：{where}）", ref=ref,
                     near=t("、").join(self.suggestions), where=where)
        else:
            text = t("找不到方案“{ref}”（已查找：{where}）；现有方案：{names}", ref=ref,
                     where=where, names=names)
        super().__init__(text)


@dataclass(frozen=True)
class StoreEntry:
    id: str
    version: int
    title: str
    path: Path
    loaded: LoadedScheme

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


def parse_ref(ref: str) -> tuple[str, int | None]:
    """'county-dept-2016@2' → ('county-dept-2016', 2); 'x' → ('x', None)."""
    if "@" in ref:
        scheme_id, _, version = ref.rpartition("@")
        if not version.isdigit():
            raise ValueError(t("“{ref}”：@ 后面的版本号应为整数", ref=ref))
        return scheme_id, int(version)
    return ref, None


class SchemeStore:
    """Schemes from folders, indexed by id and version, compiled on first use."""

    def __init__(self, dirs: Sequence[str | Path] | None = None, recheck_seconds: float = 1.0):
        self.dirs = [Path(d) for d in dirs] if dirs is not None else default_dirs()
        self.recheck_seconds = recheck_seconds
        self._lock = threading.RLock()
        self._fingerprint: tuple | None = None
        self._checked_at = 0.0
        self._entries: dict[str, dict[int, StoreEntry]] = {}
        self._invalid: dict[Path, SchemeInvalid] = {}
        self._compiled: dict[tuple[str, int], CompiledScheme] = {}
        self._failed: dict[tuple[str, int], SchemeInvalid] = {}  # versions that fail validation
        self._by_path: dict[tuple[Path, int, int], CompiledScheme] = {}
        #: bumped whenever the folders change; callers may key their own caches on it
        self.generation = 0

    # ------------------------------------------------------------------ index

    def _files(self) -> list[Path]:
        files = []
        for d in self.dirs:
            if d.is_dir():
                # dot-files and dot-folders are bookkeeping (the sync's state, its quarantine
                # of documents that failed validation, temporary files), never schemes
                files.extend(p for p in sorted(d.rglob("*"))
                             if p.suffix.lower() in SCHEME_SUFFIXES and p.is_file()
                             and not any(part.startswith(".")
                                         for part in p.relative_to(d).parts))
        return files

    def _current_fingerprint(self, files: list[Path]) -> tuple:
        out = []
        for p in files:
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((str(p), st.st_size, st.st_mtime_ns))
        return tuple(out)

    def refresh(self, force: bool = False) -> None:
        """Re-read the folders if they changed (cheap when they did not)."""
        with self._lock:
            now = time.monotonic()
            if not force and self._fingerprint is not None and \
                    now - self._checked_at < self.recheck_seconds:
                return
            self._checked_at = now
            files = self._files()
            fingerprint = self._current_fingerprint(files)
            if fingerprint == self._fingerprint and not force:
                return
            entries: dict[str, dict[int, StoreEntry]] = {}
            invalid: dict[Path, SchemeInvalid] = {}
            for path in files:
                try:
                    loaded = load_scheme_file(path)
                except SchemeInvalid as exc:
                    invalid[path] = exc
                    continue
                s = loaded.scheme
                versions = entries.setdefault(s.id, {})
                # An earlier folder wins: a synced or explicitly given scheme shadows the
                # shipped copy of the same id@version.
                versions.setdefault(s.version, StoreEntry(s.id, s.version, s.title, path,
                                                          loaded))
            self._entries, self._invalid = entries, invalid
            self._compiled.clear()
            self._failed.clear()
            self._fingerprint = fingerprint
            self.generation += 1

    # ------------------------------------------------------------------ look-ups

    def entries(self) -> list[StoreEntry]:
        self.refresh()
        return [e for versions in self._entries.values() for _, e in sorted(versions.items())]

    def invalid_files(self) -> dict[Path, SchemeInvalid]:
        self.refresh()
        return dict(self._invalid)

    def entry(self, ref: str) -> StoreEntry:
        """The entry of ``id@version``, or for a plain ``id`` its newest *valid* version: a
        version that fails validation (a file dropped into a folder, synced by an older
        xlbridge) never becomes what unversioned references compute with."""
        self.refresh()
        scheme_id, version = parse_ref(ref)
        if scheme_id not in self._entries:
            scheme_id = self.resolve_name(scheme_id)
        versions = self._entries[scheme_id]
        if version is None:
            return self._newest_valid(versions)
        if version not in versions:
            known = [f"{scheme_id}@{v}" for v in sorted(versions)]
            raise SchemeNotFound(ref, known, self.dirs)
        return versions[version]

    def _newest_valid(self, versions: dict[int, StoreEntry]) -> StoreEntry:
        with self._lock:
            for v in sorted(versions, reverse=True):
                entry = versions[v]
                key = (entry.id, v)
                if key in self._compiled:
                    return entry
                if key in self._failed:
                    continue
                try:
                    self._compiled[key] = compile_scheme(entry.loaded)
                except SchemeInvalid as exc:
                    self._failed[key] = exc
                    continue
                return entry
        return versions[max(versions)]  # none is valid: the newest, to report its errors

    def resolve_name(self, name: str) -> str:
        """The id of the scheme a clerk means by ``name``: an id, the Chinese title, or a part
        of the title that only one scheme's title contains (``梅岭`` → the 梅岭街道 scheme).
        Raises SchemeNotFound with the nearest names, or the schemes a part matches."""
        self.refresh()
        if name in self._entries:
            return name
        key = normalize_text(name).casefold()
        titles: dict[str, set[str]] = {}        # normalized title → ids (any version)
        for scheme_id, versions in self._entries.items():
            for e in versions.values():
                titles.setdefault(normalize_text(e.title).casefold(), set()).add(scheme_id)
        ids = {i.casefold(): i for i in self._entries}
        if key in ids:
            return ids[key]
        exact = titles.get(key, set())
        if len(exact) == 1:
            return next(iter(exact))
        partial = exact or {i for title, found in titles.items() if key and key in title
                            for i in found} | {i for low, i in ids.items() if key and key in low}
        if len(partial) == 1:
            return next(iter(partial))
        if partial:
            raise SchemeNotFound(name, self._entries, self.dirs,
                                 [t("{id}（{title}）", id=i, title=self._newest_title(i))
                                  for i in sorted(partial)],
                                 ambiguous=True)
        raise SchemeNotFound(name, self._entries, self.dirs, self._nearest(name))

    def _newest_title(self, scheme_id: str) -> str:
        versions = self._entries[scheme_id]
        return versions[max(versions)].title

    def _nearest(self, name: str, n: int = 3) -> list[str]:
        """Up to ``n`` schemes whose id or title is closest to ``name`` (difflib)."""
        import difflib

        key = normalize_text(name).casefold()

        def closeness(text: str) -> float:
            # the best match of the name against the text or any stretch of it as long: a
            # misspelt part of a title (白连镇) is near its title (白莲镇政府绩效管理评估)
            # and a name most of whose characters the text has in order (梅岭街到季度考核)
            size = len(key)
            windows = [text] + [text[i:i + size] for i in range(max(0, len(text) - size) + 1)]
            near = max(difflib.SequenceMatcher(None, key, w).ratio() for w in windows)
            blocks = difflib.SequenceMatcher(None, key, text).get_matching_blocks()
            covered = sum(b.size for b in blocks) / size if size >= 3 and not key.isascii() \
                else 0.0                   # (Latin letters are found in order too easily)
            return max(near, covered)

        scored = []
        for scheme_id in self._entries:
            title = self._newest_title(scheme_id)
            best = max(closeness(scheme_id.casefold()),
                       closeness(normalize_text(title).casefold()))
            if best >= 0.6:
                scored.append((-best, scheme_id, t("{id}（{title}）", id=scheme_id, title=title)))
        return [label for _score, _id, label in sorted(scored)[:n]]

    def get(self, ref: str) -> CompiledScheme:
        """A compiled scheme by id, id@version, Chinese title (or a unique part of it) or
        file path. Raises SchemeInvalid/NotFound."""
        if _looks_like_path(ref):
            return self.compile_file(Path(ref))
        self.refresh()
        scheme_id, version = parse_ref(ref)
        if scheme_id not in self._entries:
            scheme_id = self.resolve_name(scheme_id)
            ref = scheme_id if version is None else f"{scheme_id}@{version}"
        key_version = version
        if key_version is None:
            key_version = self.entry(ref).version
        key = (scheme_id, key_version)
        with self._lock:
            cached = self._compiled.get(key)
            if cached is not None:
                return cached
            failed = self._failed.get(key)
            if failed is not None:
                raise failed
            entry = self.entry(f"{scheme_id}@{key_version}")
            try:
                compiled = compile_scheme(entry.loaded)
            except SchemeInvalid as exc:
                self._failed[key] = exc
                raise
            self._compiled[key] = compiled
            return compiled

    def compile_file(self, path: Path) -> CompiledScheme:
        try:
            st = path.stat()
        except OSError as exc:
            raise SchemeInvalid(Report([Issue("error", "", t("无法读取文件：{reason}",
                                                             reason=exc.strerror or exc),
                                              "io", str(path))]),
                                str(path)) from None
        key = (path.resolve(), st.st_size, st.st_mtime_ns)
        with self._lock:
            cached = self._by_path.get(key)
            if cached is None:
                cached = compile_scheme(load_scheme_file(path))
                self._by_path[key] = cached
            return cached


def _looks_like_path(ref: str) -> bool:
    return ref.lower().endswith(SCHEME_SUFFIXES) or os.sep in ref or "/" in ref


_default: SchemeStore | None = None
_default_lock = threading.Lock()


def default_store() -> SchemeStore:
    """The process-wide store used by the worksheet functions and the CLI."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SchemeStore()
        return _default


@contextmanager
def using_store(store: SchemeStore) -> Iterator[SchemeStore]:
    """Make ``store`` the process-wide store for the duration of a ``with`` block."""
    global _default
    with _default_lock:
        previous, _default = _default, store
    try:
        yield store
    finally:
        with _default_lock:
            _default = previous


def reset_default_store(dirs: Sequence[str | Path] | None = None) -> SchemeStore:
    """Replace the process-wide store (tests, or after `xlbridge sync`)."""
    global _default
    with _default_lock:
        _default = SchemeStore(dirs)
        return _default
