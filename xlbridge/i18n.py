"""Messages in the clerk's language: one gettext catalogue, Chinese first, English selectable.

Every message a user sees is written in the code as a plain Chinese sentence — the message
id *is* the Chinese text — wrapped in :func:`t` (or :func:`tn` where English needs a plural)::

    from xlbridge.i18n import t
    raise Fail(t("找不到方案“{ref}”", ref=ref))

Chinese needs no catalogue; English comes from ``xlbridge/locale/en/LC_MESSAGES/xlbridge.po``,
a standard gettext catalogue read with Babel when English is first asked for (no compiled
``.mo`` is needed, so an editable install, a wheel and CI all work without a build step).
:func:`N_` marks a text for the catalogue without translating it yet (click help texts, which
are translated when help is shown).

The language is, in order: :func:`use_language` / :func:`set_language` (``--lang``), the
``XLBRIDGE_LANG`` variable, then the locale variables ``LANGUAGE``, ``LC_ALL``,
``LC_MESSAGES``, ``LANG`` (the first that is set): English if it starts with ``en``, else
Chinese (``C``, ``POSIX``, ``zh_CN.GBK``…). Within a web request or a thread,
``with use_language("en"):`` changes it for that context only.

Developers: after adding or changing messages, run ``python -m xlbridge.i18n update`` — it
extracts every ``t``/``tn``/``N_`` message id from the package with Babel and updates the
English catalogue (new ids get an empty translation to fill in, removed ids are dropped);
``tests/test_i18n.py`` fails until every id has its English text.
"""

from __future__ import annotations

import contextlib
import gettext as _gettext
import io
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

#: The languages xlbridge speaks; the first is the default and the language of message ids.
LANGUAGES = ("zh", "en")
DEFAULT = LANGUAGES[0]
DOMAIN = "xlbridge"
#: click's own texts (usage errors, ``[required]``): English ids, translated into Chinese in
#: ``locale/zh/LC_MESSAGES/click.po`` (see :func:`click_gettext`).
CLICK_DOMAIN = "click"
#: Texts click translates from a value rather than a literal (an option's ``required``, the
#: names of its parameter types in "'x' is not a valid integer"): in the catalogue too.
CLICK_VALUES = ("required", "text", "choice", "datetime", "integer", "integer range",
                "float", "float range", "boolean", "uuid", "filename", "File", "Directory",
                "Path")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: The functions whose first argument is a message id (Babel's extraction keywords);
#: ``tr`` is ``t`` where ``t`` names a trace; ``tp``/``NP_`` take a context first (a word
#: whose English differs by place).
KEYWORDS = {"t": None, "tr": None, "tn": (1, 2), "N_": None, "tp": ((1, "c"), 2),
            "NP_": ((1, "c"), 2)}

_chosen: ContextVar[str | None] = ContextVar("xlbridge_language", default=None)
_process_choice: str | None = None
_from_env: str | None = None     # the environment's choice, read once (set_language resets it)
_catalogues: dict[tuple[str, str], _gettext.NullTranslations] = {}
_lock = threading.Lock()


class UnknownLanguage(ValueError):
    def __init__(self, name: str):
        super().__init__(t("不支持的语言“{name}”；可选：{choices}", name=name,
                           choices=t("、").join(LANGUAGES)))


def normalize(name: str | None) -> str | None:
    """``zh_CN.UTF-8`` → ``zh``, ``en-GB`` → ``en``, ``C``/``POSIX`` → ``zh``; None if blank."""
    if not name or not name.strip():
        return None
    code = re.split(r"[_.@:-]", name.strip().lower(), maxsplit=1)[0]
    if code in LANGUAGES:
        return code
    if code in ("c", "posix"):
        return DEFAULT
    return None


def language_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for (see the module docstring)."""
    env = os.environ if environ is None else environ
    explicit = env.get("XLBRIDGE_LANG", "")
    if explicit.strip():
        lang = normalize(explicit)
        if lang is None:
            raise UnknownLanguage(explicit)
        return lang
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value.strip():
            # LANGUAGE may list several (en:zh); the first one we speak wins
            for part in value.split(":"):
                lang = normalize(part)
                if lang is not None:
                    return lang
            return DEFAULT
    return DEFAULT


def current_language() -> str:
    global _from_env
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    if _process_choice is not None:
        return _process_choice
    if _from_env is None:
        try:
            _from_env = language_from_env()
        except UnknownLanguage:
            _from_env = DEFAULT
    return _from_env


def set_language(name: str | None) -> str:
    """Choose the language for the whole process (``--lang``); None goes back to the
    environment's (read again). Returns the language now in force."""
    global _process_choice, _from_env
    if name is None:
        _process_choice = _from_env = None
    else:
        lang = normalize(name)
        if lang is None:
            raise UnknownLanguage(name)
        _process_choice = lang
    return current_language()


@contextlib.contextmanager
def use_language(name: str) -> Iterator[str]:
    """Speak ``name`` inside a ``with`` block (this thread or task only)."""
    lang = normalize(name)
    if lang is None:
        raise UnknownLanguage(name)
    token = _chosen.set(lang)
    try:
        yield lang
    finally:
        _chosen.reset(token)


def catalogue_path(lang: str, domain: str = DOMAIN) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def _catalogue(lang: str, domain: str = DOMAIN) -> _gettext.NullTranslations:
    with _lock:
        cached = _catalogues.get((lang, domain))
        if cached is not None:
            return cached
        path = catalogue_path(lang, domain)
        if not path.exists():
            translations = _gettext.NullTranslations()
        else:
            # Babel reads the .po and writes the .mo in memory; gettext reads that: the
            # standard machinery without a build step
            from babel.messages.mofile import write_mo
            from babel.messages.pofile import read_po

            with path.open("rb") as fh:
                catalog = read_po(fh, locale=lang, domain=domain)
            buf = io.BytesIO()
            write_mo(buf, catalog, use_fuzzy=False)
            buf.seek(0)
            translations = _gettext.GNUTranslations(buf)
        _catalogues[(lang, domain)] = translations
        return translations


def gettext(message: str, lang: str | None = None) -> str:
    """The text of ``message`` in ``lang`` (default: the current language)."""
    lang = lang or current_language()
    if lang == DEFAULT:
        return message
    return _catalogue(lang).gettext(message)


def t(message: str, /, **values: Any) -> str:
    """Translate ``message`` and fill its ``{placeholders}`` from ``values``."""
    text = gettext(message)
    return text.format(**values) if values else text


def tn(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """Like :func:`t` for a message that depends on a count ``n`` (English has plurals;
    ``{n}`` is filled in)."""
    lang = current_language()
    text = (singular if n == 1 else plural) if lang == DEFAULT else \
        _catalogue(lang).ngettext(singular, plural, n)
    return text.format(n=n, **values)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; translate it later with :func:`gettext`."""
    return message


def tp(context: str, message: str, /, **values: Any) -> str:
    """Like :func:`t` for a message whose English depends on where it is shown (gettext's
    ``pgettext``; the context is a literal, for the extractor): ``tp("web", "等次")`` is a
    web page's column header "Grade", where the CLI's table says "grade"."""
    text = message if current_language() == DEFAULT else \
        _catalogue(current_language()).pgettext(context, message)
    return text.format(**values) if values else text


def NP_(context: str, message: str) -> str:
    """Mark ``message`` for the catalogue under ``context``; translate it with :func:`tp`."""
    return message


class _ClickText(str):
    """A click text in the current language that stays translatable: click fills it in
    (``format``, ``%``) sometimes long after it asked for it (a version message made at
    import), so filling it in translates it again, and translates the values click fills in
    (``{number_type}`` is ``integer``, ``{name}`` is ``File``)."""

    msgid: str
    plural: tuple[str, int] | None

    def __new__(cls, msgid: str, plural: tuple[str, int] | None = None) -> _ClickText:
        self = super().__new__(cls, _click_text(msgid, plural))
        self.msgid, self.plural = msgid, plural
        return self

    def format(self, *args: Any, **values: Any) -> str:
        values = {k: _click_text(v) if isinstance(v, str) and v in CLICK_VALUES else v
                  for k, v in values.items()}
        if self.msgid == "Error: {message}" and current_language() != "en" and \
                str(values.get("message", "")).endswith("."):
            # click ends its sentences with an ASCII full stop, outside the texts it translates
            values["message"] = values["message"][:-1] + "。"
        return _click_text(self.msgid, self.plural).format(*args, **values)

    def __mod__(self, values: Any) -> str:
        return _click_text(self.msgid, self.plural) % values


def _click_text(msgid: str, plural: tuple[str, int] | None = None) -> str:
    if plural is None:
        return msgid if current_language() == "en" else \
            _catalogue(DEFAULT, CLICK_DOMAIN).gettext(msgid)
    other, n = plural
    if current_language() == "en":
        return msgid if n == 1 else other
    return _catalogue(DEFAULT, CLICK_DOMAIN).ngettext(msgid, other, n)


def click_gettext(message: str) -> str:
    """click's ``gettext``: its English texts, in Chinese unless English is chosen."""
    return _ClickText(message)


def click_ngettext(singular: str, plural: str, n: int) -> str:
    return _ClickText(singular, (plural, n))


def route_click() -> None:
    """Send click's own texts through :func:`click_gettext`. click marks them with the
    ``gettext`` module's functions, imported by name into each of its modules; those names
    are pointed here. Names click translates once, when a parameter is made (a path's
    ``file``), are left English there and translated where they are shown."""
    import importlib

    def made_once(message: str) -> str:
        return message if message in ("file", "directory", "path") else click_gettext(message)

    for name in ("core", "decorators", "exceptions", "formatting", "parser", "termui",
                 "types", "utils", "shell_completion", "_termui_impl"):
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = made_once if name == "types" else click_gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = click_ngettext  # type: ignore[attr-defined]


def quoted(text: Any) -> str:
    """A value quoted for a sentence in the current language: “二十” (both use CJK quotes,
    which also show a leading or trailing space)."""
    return f"“{text}”"


# --------------------------------------------------------------------------- maintenance


#: The server's page templates call the catalogue as Jinja's i18n extension names it
#: (:mod:`server.language` installs ``t``/``tn`` under these names).
TEMPLATE_KEYWORDS = {**KEYWORDS, "_": None, "gettext": None, "ngettext": (1, 2),
                     "pgettext": ((1, "c"), 2)}


def extract(root: Path | None = None) -> Any:
    """Every message id in the source of the package and of the scheme server (Python, and
    the HTML templates through Jinja's Babel extractor): a Babel catalogue, ids only."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    here = Path(__file__).resolve().parent
    root = root or here
    trees = [root] + [d for d in (here.parent / "server",) if root == here and d.is_dir()]
    catalog = Catalog(domain=DOMAIN, project="xlbridge", charset="utf-8")
    ours: dict[Path, bool] = {}
    for tree in trees:
        for method, keywords in (("python", KEYWORDS), ("jinja2", TEMPLATE_KEYWORDS)):
            pattern = "**.py" if method == "python" else "**.html"
            for filename, lineno, message, comments, context in extract_from_dir(
                    str(tree), method_map=[(pattern, method)],
                    options_map={"**.html": {"trimmed": "false"}}, keywords=keywords,
                    comment_tags=("i18n:",), strip_comment_tags=True):
                path = tree / filename
                if path not in ours:
                    ours[path] = _uses_catalogue(path)
                if ours[path]:
                    catalog.add(message, None, [(f"{tree.name}/{filename}", lineno)],
                                auto_comments=comments, context=context)
    return catalog


def _uses_catalogue(path: Path) -> bool:
    """A module that imports this one, or a page template rendered with ``t`` (elsewhere,
    ``t(…)`` is some other function: a tokenizer's, a trace's)."""
    text = path.read_text(encoding="utf-8")
    return path.suffix == ".html" or path.name == "i18n.py" or "xlbridge.i18n" in text


def update(lang: str = "en") -> tuple[list[str], list[str]]:
    """Bring ``lang``'s catalogue in line with the source: (new ids, removed ids)."""
    from babel.messages.pofile import read_po, write_po

    template = extract()
    path = catalogue_path(lang)
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang, domain=DOMAIN)
    else:
        from babel.messages.catalog import Catalog

        catalog = Catalog(locale=lang, domain=DOMAIN, project="xlbridge")
    def ids() -> set[str]:
        # a message under a context (tp) is listed as context|id
        return {(f"{m.context}|" if m.context else "") +
                (m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}

    before = ids()
    created = catalog.creation_date
    catalog.update(template, no_fuzzy_matching=True)
    catalog.creation_date = created    # an unchanged catalogue stays byte for byte the same
    catalog.obsolete.clear()
    catalog.fuzzy = False
    catalog.project, catalog.version = "xlbridge", "1"
    catalog.last_translator = catalog.language_team = "xlbridge"
    catalog.msgid_bugs_address = ""
    after = ids()
    path.parent.mkdir(parents=True, exist_ok=True)
    from xlbridge.atomic import write_atomic

    # no line numbers: a message moving down a file is not a change of the catalogue
    write_atomic(path, lambda fh: write_po(fh, catalog, width=96, sort_output=False,
                                           include_previous=False, include_lineno=False))
    return sorted(after - before), sorted(before - after)


def extract_click() -> Any:
    """Every text of the installed click that it shows through ``gettext`` (English ids)."""
    import click
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(domain=CLICK_DOMAIN, project="click", charset="utf-8")
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(Path(click.__file__).parent), method_map=[("**.py", "python")],
            keywords={"_": None, "ngettext": (1, 2)}):
        catalog.add(message, None, [(f"click/{filename}", lineno)])
    for message in CLICK_VALUES:
        catalog.add(message, None, [("xlbridge/i18n.py", 0)])
    return catalog


def update_click() -> list[str]:
    """Add the texts of the installed click to the Chinese catalogue of click's texts (new
    ones with an empty translation; texts of other click versions are kept)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    from xlbridge.atomic import write_atomic

    path = catalogue_path(DEFAULT, CLICK_DOMAIN)
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=DEFAULT, domain=CLICK_DOMAIN)
    else:
        catalog = Catalog(locale=DEFAULT, domain=CLICK_DOMAIN, project="xlbridge")
    catalog.fuzzy = False
    added = []
    for message in extract_click():
        if message.id and message.id not in catalog:
            catalog.add(message.id, ("", "") if isinstance(message.id, tuple) else "")
            added.append(message.id if isinstance(message.id, str) else message.id[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda fh: write_po(fh, catalog, width=96, sort_output=True,
                                           include_previous=False, omit_header=False,
                                           include_lineno=False, no_location=True))
    return added


if __name__ == "__main__":  # pragma: no cover - a developer's tool
    import sys

    if sys.argv[1:] != ["update"]:
        raise SystemExit("usage: python -m xlbridge.i18n update")
    added, removed = update()
    for m in added:
        print(f"+ {m}")
    for m in removed:
        print(f"- {m}")
    print(f"{catalogue_path('en')}: {len(added)} new, {len(removed)} removed")
    new_click = update_click()
    for m in new_click:
        print(f"+ {m}")
    print(f"{catalogue_path(DEFAULT, CLICK_DOMAIN)}: {len(new_click)} new texts of click")
