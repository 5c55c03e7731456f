"""The audit log: every write — who, what, when, and the version (or draft ETag) before and
after — recorded in the same transaction as the write itself, readable by admins."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import AuditRow

if TYPE_CHECKING:
    from server.auth import Actor

ACTIONS = ("draft.create", "draft.update", "draft.delete", "draft.submit", "scheme.publish",
           "scheme.deprecate", "scheme.undeprecate", "token.create", "token.revoke")


def record(db: Session, actor: Actor, action: str, scheme_id: str | None = None,
           before: str | None = None, after: str | None = None,
           detail: dict[str, Any] | None = None) -> AuditRow:
    assert action in ACTIONS, action
    row = AuditRow(actor=actor.name, actor_token_id=actor.token_id, role=actor.role,
                   action=action, scheme_id=scheme_id, before=before, after=after,
                   detail=json.dumps(detail, ensure_ascii=False) if detail else None)
    db.add(row)
    return row


def entries(db: Session, scheme_id: str | None = None, before_id: int | None = None,
            limit: int = 100) -> list[AuditRow]:
    """Newest first; ``before_id`` pages back from an entry's id."""
    q = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if scheme_id is not None:
        q = q.where(AuditRow.scheme_id == scheme_id)
    if before_id is not None:
        q = q.where(AuditRow.id < before_id)
    return list(db.scalars(q))


def entry_dict(row: AuditRow) -> dict[str, Any]:
    return {"id": row.id, "at": row.at.isoformat(), "actor": row.actor,
            "actor_token_id": row.actor_token_id, "role": row.role, "action": row.action,
            "scheme_id": row.scheme_id, "before": row.before, "after": row.after,
            "detail": json.loads(row.detail) if row.detail else None}
