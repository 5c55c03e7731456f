"""What the server does with schemes, independent of HTTP: drafts, validation, publishing,
deprecation, listing. The API blueprint (``server/api.py``) is a thin face over these.

Rules:

* A scheme id has at most **one open draft**. Creating it needs no precondition (or
  ``If-None-Match: *``); replacing or discarding it needs ``If-Match`` with the draft's ETag,
  so two editors never overwrite each other (the loser gets 412 and re-reads).
* The document's ``version`` is the server's: a draft carries the number it would be published
  as, and publishing sets it to the next whole number.
* Publishing validates the draft with the core's checks: errors refuse it (422, every issue
  with its path), warnings are returned and do not block. The published document is the
  validated model dumped as JSON (``model_dump(mode="json", exclude_none=True)``) — the exact
  bytes every client downloads, forever: there is no operation that changes or deletes a
  published version, and the database refuses it too (a trigger).
* A deprecated scheme stays readable (workbooks pinned to it keep computing) but takes no new
  drafts or versions until an admin lifts the deprecation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.datastructures import ETags

from server.audit import record
from server.auth import Actor
from server.cache import Published, PublishedCache, from_row
from server.db import begin_write
from server.models import AuditRow, DraftRow, SchemeRow, VersionRow, utcnow
from server.problems import (
    Conflict,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Problem,
)
from xlbridge.scheme.issues import Issue, SchemeInvalid
from xlbridge.scheme.load import SchemeSource, scheme_from_data
from xlbridge.scheme.model import Scheme
from xlbridge.scheme.types import SCHEME_ID_PATTERN
from xlbridge.scheme.validate import validate

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- documents


def published_bytes(scheme: Scheme) -> bytes:
    """The canonical published form: the model as JSON, UTF-8, keys in model order."""
    doc = scheme.model_dump(mode="json", exclude_none=True)
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:40]


def new_draft_etag() -> str:
    return "draft-" + secrets.token_hex(16)


def valid_scheme_id(scheme_id: str) -> bool:
    return len(scheme_id) <= 100 and bool(SCHEME_ID_PATTERN.match(scheme_id))


def check_document(doc: Any, scheme_id: str | None = None, version: int | None = None,
                   previous: Scheme | None = None, source: SchemeSource | None = None
                   ) -> tuple[Scheme | None, list[Issue]]:
    """Structural and semantic validation: the scheme (if it parsed) and every issue.

    ``scheme_id``/``version``, when given, are what the document must say (the id) and what
    the server sets (the version) before checking; ``previous`` is the published version a
    draft would replace (see :func:`xlbridge.scheme.validate.validate`); ``source`` where the
    document's keys were written (a YAML text's lines), for messages.
    """
    if not isinstance(doc, dict):
        return None, [Issue("error", "", "a scheme must be a JSON object (id, version, title, "
                                         "…)", "not_mapping")]
    doc = dict(doc)
    issues: list[Issue] = []
    if version is not None:
        doc["version"] = version
    if scheme_id is not None and doc.get("id") != scheme_id:
        issues.append(Issue("error", "id", f"the id must be '{scheme_id}', the scheme this "
                                           f"draft belongs to; got {doc.get('id')!r}",
                            "id_mismatch"))
    source = source or SchemeSource("<document>")
    try:
        scheme = scheme_from_data(doc, source)
    except SchemeInvalid as exc:
        return None, issues + exc.report.issues
    except (RecursionError, ValueError, TypeError, ArithmeticError) as exc:
        return None, [*issues, Issue("error", "", f"cannot read the document: {exc}", "unreadable")]
    try:
        report = validate(scheme, source, previous)
    except Exception as exc:  # a validator bug must not become a 500 for the editor
        log.exception("validator failed on %s", scheme.id)
        return None, [*issues, Issue("error", "", "the validator failed on this document "
                                     f"({type(exc).__name__}); report it", "internal")]
    issues += report.issues
    return (scheme if not any(i.severity == "error" for i in issues) else None), issues


def report_dict(issues: list[Issue]) -> dict[str, Any]:
    from server.problems import issue_dict

    errors = [issue_dict(i) for i in issues if i.severity == "error"]
    warnings = [issue_dict(i) for i in issues if i.severity != "error"]
    return {"ok": not errors, "errors": errors, "warnings": warnings}


# --------------------------------------------------------------------------- reading


def scheme_row(db: Session, scheme_id: str) -> SchemeRow:
    row = db.get(SchemeRow, scheme_id) if valid_scheme_id(scheme_id) else None
    if row is None:
        raise NotFound(f"no scheme '{scheme_id}'")
    return row


def summary(row: SchemeRow, published_at=None, has_draft: bool | None = None) -> dict:
    out: dict[str, Any] = {
        "id": row.id, "title": row.title, "latest_version": row.latest_version,
        "published_at": published_at.isoformat() if published_at else None,
        "deprecated": row.deprecated_at is not None,
        "deprecated_at": row.deprecated_at.isoformat() if row.deprecated_at else None,
        "deprecation_note": row.deprecation_note,
    }
    if has_draft is not None:
        out["has_draft"] = has_draft
    return out


def summary_with_date(db: Session, row: SchemeRow) -> dict:
    """:func:`summary` with the latest version's publication date, as the list shows it."""
    published_at = db.scalar(select(VersionRow.published_at).where(
        VersionRow.scheme_id == row.id, VersionRow.version == row.latest_version)) \
        if row.latest_version is not None else None
    return summary(row, published_at)


def list_schemes(db: Session, with_drafts: bool) -> list[dict[str, Any]]:
    """Every scheme with a published version (and, for editors, those with only a draft)."""
    q = (select(SchemeRow, VersionRow.published_at)
         .outerjoin(VersionRow, (VersionRow.scheme_id == SchemeRow.id)
                    & (VersionRow.version == SchemeRow.latest_version))
         .order_by(SchemeRow.id))
    drafts = set(db.scalars(select(DraftRow.scheme_id))) if with_drafts else set()
    out = []
    for row, published_at in db.execute(q):
        if row.latest_version is None and not with_drafts:
            continue
        out.append(summary(row, published_at, (row.id in drafts) if with_drafts else None))
    return out


def version_dict(v: VersionRow | Published) -> dict[str, Any]:
    return {"version": v.version, "title": v.title, "etag": v.etag,
            "published_at": v.published_at.isoformat(), "published_by": v.published_by,
            "note": v.note, "url": f"/api/schemes/{v.scheme_id}/versions/{v.version}"}


def history(db: Session, scheme_id: str) -> list[dict[str, Any]]:
    scheme_row(db, scheme_id)
    rows = db.execute(select(VersionRow.scheme_id, VersionRow.version, VersionRow.title,
                             VersionRow.etag, VersionRow.published_at,
                             VersionRow.published_by, VersionRow.note)
                      .where(VersionRow.scheme_id == scheme_id)
                      .order_by(VersionRow.version))
    return [version_dict(r) for r in rows]  # type: ignore[arg-type]


def latest_scheme(db: Session, scheme_id: str) -> Scheme | None:
    """The latest published version of a scheme as a model (None before the first)."""
    row = db.get(SchemeRow, scheme_id) if valid_scheme_id(scheme_id) else None
    if row is None or row.latest_version is None:
        return None
    version = db.get(VersionRow, (scheme_id, row.latest_version))
    assert version is not None
    return scheme_from_data(json.loads(version.body))


def draft_row(db: Session, scheme_id: str) -> DraftRow:
    row = db.get(DraftRow, scheme_id) if valid_scheme_id(scheme_id) else None
    if row is None:
        raise NotFound(f"scheme '{scheme_id}' has no draft")
    return row


def draft_meta(row: DraftRow) -> dict[str, Any]:
    return {"etag": row.etag, "base_version": row.base_version,
            "created_at": row.created_at.isoformat(), "created_by": row.created_by,
            "updated_at": row.updated_at.isoformat(), "updated_by": row.updated_by}


def detail(db: Session, scheme_id: str, with_draft: bool) -> dict[str, Any]:
    row = scheme_row(db, scheme_id)
    versions = history(db, scheme_id)
    if row.latest_version is None and not with_draft:
        raise NotFound(f"scheme '{scheme_id}' has no published version")
    published_at = versions[-1]["published_at"] if versions else None
    out = summary(row)
    out["published_at"] = published_at
    out["versions"] = versions
    if with_draft:
        d = db.get(DraftRow, scheme_id)
        out["draft"] = draft_meta(d) if d else None
    return out


# --------------------------------------------------------------------------- drafts


@dataclass
class DraftResult:
    row: DraftRow
    created: bool
    issues: list[Issue]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.row.scheme_id, **draft_meta(self.row),
                "validation": report_dict(self.issues)}


def _matches(tags: ETags | None, etag: str) -> bool:
    return tags is not None and (tags.star_tag or tags.contains(etag))


def _preconditions_given(tags: ETags | None) -> bool:
    # weak tags count as given: If-Match compares strongly, so W/"…" never matches → 412
    return tags is not None and (tags.star_tag or bool(tags.as_set(include_weak=True)))


def save_draft(db: Session, actor: Actor, scheme_id: str, doc: Any,
               if_match: ETags | None = None, if_none_match: ETags | None = None,
               cache: PublishedCache | None = None) -> DraftResult:
    """Create the scheme's draft, or replace it when ``If-Match`` names its current ETag."""
    if not valid_scheme_id(scheme_id):
        raise Invalid(f"'{scheme_id}' is not a scheme id",
                      errors=[Issue("error", "id", "a scheme id is lowercase letters, digits "
                                                   "and dashes, e.g. 'county-dept-2016'",
                                    "bad_id")])
    if not isinstance(doc, dict):
        raise Invalid("a draft is a scheme document: a JSON object",
                      errors=[Issue("error", "", "expected a JSON object", "not_mapping")])
    begin_write(db)
    scheme = db.get(SchemeRow, scheme_id)
    if scheme is not None and scheme.deprecated_at is not None:
        raise Conflict(f"scheme '{scheme_id}' is deprecated; an admin must lift the "
                       "deprecation before it takes new drafts")
    base = scheme.latest_version if scheme else None
    doc = dict(doc)
    doc.setdefault("id", scheme_id)
    doc["version"] = (base or 0) + 1
    body = json.dumps(doc, ensure_ascii=False, indent=2)
    title = doc["title"] if isinstance(doc.get("title"), str) else scheme_id
    now = utcnow()
    existing = db.get(DraftRow, scheme_id) if scheme else None
    etag = new_draft_etag()
    if existing is None:
        if _preconditions_given(if_match):
            raise PreconditionFailed(f"scheme '{scheme_id}' has no draft to match If-Match; "
                                     "create one without If-Match")
        if scheme is None:
            scheme = SchemeRow(id=scheme_id, title=title, created_by=actor.name, created_at=now)
            db.add(scheme)
            db.flush()  # the draft's foreign key needs the scheme row first
        row = DraftRow(scheme_id=scheme_id, body=body, etag=etag, base_version=base,
                       created_at=now, created_by=actor.name, updated_at=now,
                       updated_by=actor.name)
        db.add(row)
        record(db, actor, "draft.create", scheme_id, before=None, after=etag,
               detail={"base_version": base})
        created = True
    else:
        if if_none_match is not None and if_none_match.star_tag:
            raise PreconditionFailed(f"scheme '{scheme_id}' already has a draft",
                                     current_etag=existing.etag)
        if not _preconditions_given(if_match):
            raise PreconditionRequired(
                f"scheme '{scheme_id}' already has a draft (by {existing.updated_by}); send "
                "If-Match with its ETag to replace it", current_etag=existing.etag)
        if not _matches(if_match, existing.etag):
            raise PreconditionFailed(
                f"the draft of '{scheme_id}' changed since you read it (last saved by "
                f"{existing.updated_by} at {existing.updated_at.isoformat()}); read it again "
                "and redo your change", current_etag=existing.etag)
        result = db.execute(update(DraftRow)
                            .where(DraftRow.scheme_id == scheme_id,
                                   DraftRow.etag == existing.etag)
                            .values(body=body, etag=etag, base_version=base, updated_at=now,
                                    updated_by=actor.name)
                            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise PreconditionFailed(f"the draft of '{scheme_id}' changed while you saved it")
        if scheme.latest_version is None:
            scheme.title = title
        record(db, actor, "draft.update", scheme_id, before=existing.etag, after=etag)
        created = False
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise PreconditionFailed(f"another editor created the draft of '{scheme_id}' at the "
                                 "same moment; read it and redo your change") from None
    row = db.get(DraftRow, scheme_id)
    db.refresh(row)
    _, issues = check_document(json.loads(row.body), scheme_id, doc["version"],
                               latest_scheme(db, scheme_id))
    return DraftResult(row, created, issues)


def delete_draft(db: Session, actor: Actor, scheme_id: str, if_match: ETags | None) -> None:
    begin_write(db)
    row = draft_row(db, scheme_id)
    if not _preconditions_given(if_match):
        raise PreconditionRequired("send If-Match with the draft's ETag to discard it",
                                   current_etag=row.etag)
    if not _matches(if_match, row.etag):
        raise PreconditionFailed("the draft changed since you read it",
                                 current_etag=row.etag)
    result = db.execute(delete(DraftRow).where(DraftRow.scheme_id == scheme_id,
                                               DraftRow.etag == row.etag)
                        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed("the draft changed while you discarded it")
    record(db, actor, "draft.delete", scheme_id, before=row.etag, after=None)
    scheme = db.get(SchemeRow, scheme_id)
    if scheme is not None and scheme.latest_version is None:
        db.delete(scheme)  # a scheme that was only ever a draft disappears with it
    db.commit()


def validate_draft(db: Session, scheme_id: str) -> list[Issue]:
    row = draft_row(db, scheme_id)
    scheme = db.get(SchemeRow, scheme_id)
    version = ((scheme.latest_version if scheme else None) or 0) + 1
    return check_document(json.loads(row.body), scheme_id, version,
                          latest_scheme(db, scheme_id))[1]


@dataclass
class Submission:
    """An editor's request that an admin publish the draft as it stood (its ETag)."""

    etag: str
    by: str
    at: Any
    note: str


def submit_draft(db: Session, actor: Actor, scheme_id: str, if_match: ETags | None,
                 note: str) -> Submission:
    """Mark the draft, exactly as it is now, as ready for an admin to review and publish.

    Kept in the audit log (``draft.submit``, before = the draft's ETag): a later save changes
    the ETag, and the submission no longer applies to the draft."""
    begin_write(db)
    draft = draft_row(db, scheme_id)
    if not _matches(if_match, draft.etag):
        raise PreconditionFailed("the draft changed since you read it; review it again",
                                 current_etag=draft.etag)
    row = record(db, actor, "draft.submit", scheme_id, before=draft.etag,
                 detail={"note": note})
    db.commit()
    return Submission(draft.etag, actor.name, row.at, note)


def submission(db: Session, draft: DraftRow) -> Submission | None:
    """The submission of the draft as it is now, if an editor submitted it."""
    row = db.scalar(select(AuditRow).where(AuditRow.scheme_id == draft.scheme_id,
                                           AuditRow.action == "draft.submit",
                                           AuditRow.before == draft.etag)
                    .order_by(AuditRow.id.desc()).limit(1))
    if row is None:
        return None
    note = (json.loads(row.detail) or {}).get("note", "") if row.detail else ""
    return Submission(draft.etag, row.actor, row.at, note)


# --------------------------------------------------------------------------- publishing


def publish_draft(db: Session, actor: Actor, scheme_id: str, if_match: ETags | None,
                  note: str | None, cache: PublishedCache) -> tuple[Published, list[Issue]]:
    """Publish the draft as the next version; returns it and the validation warnings."""
    begin_write(db)
    draft = draft_row(db, scheme_id)
    if _preconditions_given(if_match) and not _matches(if_match, draft.etag):
        raise PreconditionFailed("the draft changed since you reviewed it; review it again",
                                 current_etag=draft.etag)
    scheme = scheme_row(db, scheme_id)
    if scheme.deprecated_at is not None:
        raise Conflict(f"scheme '{scheme_id}' is deprecated; lift the deprecation first")
    previous = scheme.latest_version
    version = (previous or 0) + 1
    parsed, issues = check_document(json.loads(draft.body), scheme_id, version,
                                    latest_scheme(db, scheme_id))
    if parsed is None:
        n = sum(1 for i in issues if i.severity == "error")
        raise Invalid(f"the draft of '{scheme_id}' has {n} error{'s' if n != 1 else ''}; "
                      "fix them and publish again", errors=issues)
    body = published_bytes(parsed)
    row = VersionRow(scheme_id=scheme_id, version=version, title=parsed.title,
                     body=body.decode("utf-8"), etag=etag_of(body), published_at=utcnow(),
                     published_by=actor.name, note=note)
    db.add(row)
    result = db.execute(delete(DraftRow).where(DraftRow.scheme_id == scheme_id,
                                               DraftRow.etag == draft.etag)
                        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed("the draft changed while it was being published")
    scheme.latest_version = version
    scheme.title = parsed.title
    record(db, actor, "scheme.publish", scheme_id,
           before=str(previous) if previous else None, after=str(version),
           detail={"draft_etag": draft.etag, "etag": row.etag, "note": note,
                   "warnings": sum(1 for i in issues if i.severity != "error")})
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict(f"version {version} of '{scheme_id}' was published by someone else at "
                       "the same moment") from None
    cache.forget_latest(scheme_id)
    return from_row(row), [i for i in issues if i.severity != "error"]


def set_deprecated(db: Session, actor: Actor, scheme_id: str, deprecated: bool,
                   note: str | None, cache: PublishedCache) -> SchemeRow:
    begin_write(db)
    row = scheme_row(db, scheme_id)
    if row.latest_version is None:
        raise Conflict(f"scheme '{scheme_id}' has no published version to deprecate")
    if deprecated and row.deprecated_at is None:
        row.deprecated_at, row.deprecated_by, row.deprecation_note = utcnow(), actor.name, note
        record(db, actor, "scheme.deprecate", scheme_id, before=str(row.latest_version),
               after=str(row.latest_version), detail={"note": note} if note else None)
    elif not deprecated and row.deprecated_at is not None:
        row.deprecated_at = row.deprecated_by = row.deprecation_note = None
        record(db, actor, "scheme.undeprecate", scheme_id, before=str(row.latest_version),
               after=str(row.latest_version))
    db.commit()
    cache.forget_latest(scheme_id)
    return row


def import_scheme(db: Session, actor: Actor, scheme: Scheme, note: str | None,
                  cache: PublishedCache) -> Published | None:
    """Publish ``scheme`` through a draft unless its latest version already says the same.

    Used to seed a server from scheme files on its own machine (``xlbridge server
    import``) and by the benchmarks; returns None when nothing changed.
    """
    latest = db.get(SchemeRow, scheme.id)
    if latest is not None and latest.latest_version is not None:
        current = db.get(VersionRow, (scheme.id, latest.latest_version))
        assert current is not None
        same = scheme.model_copy(update={"version": latest.latest_version})
        if published_bytes(same) == current.body.encode("utf-8"):
            db.rollback()
            return None
    doc = scheme.model_dump(mode="json", exclude_none=True)
    existing = db.get(DraftRow, scheme.id)
    db.rollback()
    if existing is not None:
        raise Conflict(f"scheme '{scheme.id}' has an open draft (by {existing.updated_by}); "
                       "publish or discard it first")
    save_draft(db, actor, scheme.id, doc)
    pub, _ = publish_draft(db, actor, scheme.id, None, note, cache)
    return pub


__all__ = ["DraftResult", "Problem", "check_document", "delete_draft", "detail",
           "history", "import_scheme", "list_schemes", "publish_draft", "published_bytes",
           "save_draft", "set_deprecated", "validate_draft"]
