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
from xlbridge.i18n import quoted, t, tn
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


def id_rule() -> str:
    """What a scheme id is made of, for a message."""
    return t("方案编号由小写字母、数字和连字符组成，如 county-dept-2016")


def no_published(scheme_id: str) -> str:
    return t("方案“{id}”还没有已发布的版本", id=scheme_id)


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
        return None, [Issue("error", "", t("方案应为 JSON 对象（id、version、title …）"),
                            "not_mapping")]
    doc = dict(doc)
    issues: list[Issue] = []
    if version is not None:
        doc["version"] = version
    if scheme_id is not None and doc.get("id") != scheme_id:
        issues.append(Issue("error", "id", t("编号应为“{id}”（这份草稿所属的方案），"
                                             "实际为{got}", id=scheme_id,
                                             got=quoted(doc.get("id"))),
                            "id_mismatch"))
    source = source or SchemeSource("<document>")
    try:
        scheme = scheme_from_data(doc, source)
    except SchemeInvalid as exc:
        return None, issues + exc.report.issues
    except (RecursionError, ValueError, TypeError, ArithmeticError) as exc:
        return None, [*issues, Issue("error", "", t("读不出这份文档：{error}", error=exc),
                                     "unreadable")]
    try:
        report = validate(scheme, source, previous)
    except Exception as exc:  # a validator bug must not become a 500 for the editor
        log.exception("validator failed on %s", scheme.id)
        return None, [*issues, Issue("error", "", t("校验程序处理这份文档时出错（{error}）；"
                                                    "请报告这个问题", error=type(exc).__name__),
                                     "internal")]
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
        raise NotFound(t("没有方案“{id}”", id=scheme_id))
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
        raise NotFound(t("方案“{id}”没有草稿", id=scheme_id))
    return row


def draft_meta(row: DraftRow) -> dict[str, Any]:
    return {"etag": row.etag, "base_version": row.base_version,
            "created_at": row.created_at.isoformat(), "created_by": row.created_by,
            "updated_at": row.updated_at.isoformat(), "updated_by": row.updated_by}


def detail(db: Session, scheme_id: str, with_draft: bool) -> dict[str, Any]:
    row = scheme_row(db, scheme_id)
    versions = history(db, scheme_id)
    if row.latest_version is None and not with_draft:
        raise NotFound(no_published(scheme_id))
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
        raise Invalid(t("“{id}”不能作为方案编号", id=scheme_id),
                      errors=[Issue("error", "id", id_rule(), "bad_id")])
    if not isinstance(doc, dict):
        raise Invalid(t("草稿应为方案文档：一个 JSON 对象"),
                      errors=[Issue("error", "", t("应为 JSON 对象"), "not_mapping")])
    begin_write(db)
    scheme = db.get(SchemeRow, scheme_id)
    if scheme is not None and scheme.deprecated_at is not None:
        raise Conflict(t("方案“{id}”已停用；须由管理员恢复使用后才能新建草稿", id=scheme_id))
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
            raise PreconditionFailed(t("方案“{id}”没有可与 If-Match 比对的草稿；"
                                       "新建草稿时请不要发送 If-Match", id=scheme_id))
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
            raise PreconditionFailed(t("方案“{id}”已有草稿", id=scheme_id),
                                     current_etag=existing.etag)
        if not _preconditions_given(if_match):
            raise PreconditionRequired(
                t("方案“{id}”已有草稿（{by}）；要替换它，请用 If-Match 发送它的 ETag",
                  id=scheme_id, by=existing.updated_by), current_etag=existing.etag)
        if not _matches(if_match, existing.etag):
            raise PreconditionFailed(
                t("方案“{id}”的草稿在您读取之后被修改过（最后由 {by} 于 {at} 保存）；"
                  "请重新读取后再修改", id=scheme_id, by=existing.updated_by,
                  at=existing.updated_at.isoformat()), current_etag=existing.etag)
        result = db.execute(update(DraftRow)
                            .where(DraftRow.scheme_id == scheme_id,
                                   DraftRow.etag == existing.etag)
                            .values(body=body, etag=etag, base_version=base, updated_at=now,
                                    updated_by=actor.name)
                            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise PreconditionFailed(t("方案“{id}”的草稿在保存过程中被修改过", id=scheme_id))
        if scheme.latest_version is None:
            scheme.title = title
        record(db, actor, "draft.update", scheme_id, before=existing.etag, after=etag)
        created = False
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise PreconditionFailed(t("另一位编辑同时新建了方案“{id}”的草稿；请读取它后再修改",
                                   id=scheme_id)) from None
    row = db.get(DraftRow, scheme_id)
    db.refresh(row)
    _, issues = check_document(json.loads(row.body), scheme_id, doc["version"],
                               latest_scheme(db, scheme_id))
    return DraftResult(row, created, issues)


def delete_draft(db: Session, actor: Actor, scheme_id: str, if_match: ETags | None) -> None:
    begin_write(db)
    row = draft_row(db, scheme_id)
    if not _preconditions_given(if_match):
        raise PreconditionRequired(t("要放弃草稿，请用 If-Match 发送草稿的 ETag"),
                                   current_etag=row.etag)
    if not _matches(if_match, row.etag):
        raise PreconditionFailed(t("草稿在您读取之后被修改过"), current_etag=row.etag)
    result = db.execute(delete(DraftRow).where(DraftRow.scheme_id == scheme_id,
                                               DraftRow.etag == row.etag)
                        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed(t("草稿在放弃过程中被修改过"))
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
        raise PreconditionFailed(t("草稿在您读取之后被修改过；请重新审核"),
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
        raise PreconditionFailed(t("草稿在您审核之后被修改过；请重新审核"),
                                 current_etag=draft.etag)
    scheme = scheme_row(db, scheme_id)
    if scheme.deprecated_at is not None:
        raise Conflict(t("方案“{id}”已停用；请先恢复使用", id=scheme_id))
    previous = scheme.latest_version
    version = (previous or 0) + 1
    parsed, issues = check_document(json.loads(draft.body), scheme_id, version,
                                    latest_scheme(db, scheme_id))
    if parsed is None:
        n = sum(1 for i in issues if i.severity == "error")
        raise Invalid(tn("方案“{id}”的草稿有 {n} 个错误；请修正后再发布",
                         "方案“{id}”的草稿有 {n} 个错误；请修正后再发布", n, id=scheme_id),
                      errors=issues)
    body = published_bytes(parsed)
    row = VersionRow(scheme_id=scheme_id, version=version, title=parsed.title,
                     body=body.decode("utf-8"), etag=etag_of(body), published_at=utcnow(),
                     published_by=actor.name, note=note)
    db.add(row)
    result = db.execute(delete(DraftRow).where(DraftRow.scheme_id == scheme_id,
                                               DraftRow.etag == draft.etag)
                        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise PreconditionFailed(t("草稿在发布过程中被修改过"))
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
        raise Conflict(t("方案“{id}”的第 {version} 版同时被别人发布了", id=scheme_id,
                         version=version)) from None
    cache.forget_latest(scheme_id)
    return from_row(row), [i for i in issues if i.severity != "error"]


def set_deprecated(db: Session, actor: Actor, scheme_id: str, deprecated: bool,
                   note: str | None, cache: PublishedCache) -> SchemeRow:
    begin_write(db)
    row = scheme_row(db, scheme_id)
    if row.latest_version is None:
        raise Conflict(t("方案“{id}”没有已发布的版本，无法停用", id=scheme_id))
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
        raise Conflict(t("方案“{id}”有一份未完成的草稿（{by}）；请先发布或放弃它",
                         id=scheme.id, by=existing.updated_by))
    save_draft(db, actor, scheme.id, doc)
    pub, _ = publish_draft(db, actor, scheme.id, None, note, cache)
    return pub


__all__ = ["DraftResult", "Problem", "check_document", "delete_draft", "detail",
           "history", "import_scheme", "list_schemes", "publish_draft", "published_bytes",
           "save_draft", "set_deprecated", "validate_draft"]
