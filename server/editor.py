"""The scheme editor in the browser: drafts, live validation, a preview on real records,
review and publish. A blueprint over the same operations as the API (:mod:`server.schemes`).

* ``/drafts/new`` — start a draft from the latest published version, a shipped scheme, or
  an empty one (editor);
* ``/schemes/<id>/draft`` — edit it as a form generated from the scheme model
  (:mod:`server.form`) and as YAML text, validated on every change by the validator the CLI
  uses, messages beside the fields they name; save it (editor). ``…/draft/check`` answers the
  same as JSON for the page's script, storing nothing;
* ``/schemes/<id>/draft/preview`` — the scheme's example records, or an uploaded CSV/xlsx,
  scored with the draft and with the published version (:mod:`server.preview`);
* ``/schemes/<id>/draft/review`` — the diff against the published version; an editor submits
  the draft with a note, an admin publishes it (``…/submit``, ``…/publish``), ``…/discard``.

Every write carries the draft's ETag as the page read it: a save over someone else's newer
save is refused and shown as a conflict page that keeps both versions, never a lost edit.
Every form carries a CSRF token (Flask-WTF); the pages work without JavaScript, and
``static/editor.js`` only keeps the two views in step and shows messages as one types.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import ETags

from server import form as forms
from server import preview as previews
from server import render, schemes
from server.auth import authorize
from server.db import get_db
from server.models import DraftRow
from server.problems import Conflict, Invalid, NotFound, PreconditionFailed, Problem
from server.web import published_scheme, require_session
from server.yamltext import from_yaml, tidy, to_yaml
from xlbridge.engine import CompiledScheme, compile_scheme
from xlbridge.i18n import quoted, t
from xlbridge.scheme.issues import Issue, SchemeInvalid
from xlbridge.scheme.load import load_scheme_file
from xlbridge.scheme.model import Scheme
from xlbridge.store import REPO_SCHEMES

bp = Blueprint("editor", __name__, template_folder="templates")

bp.before_request(require_session)


@bp.before_request
def _editors_only() -> None:
    authorize("editor")


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"bar_width": previews.bar_width}


def _limit_writes() -> None:
    """Saves, submissions and publications count against the token's write budget, as the
    API's writes do; checking (which stores nothing) does not."""
    actor = g.actor
    wait = current_app.extensions["xlbridge_ratelimit"].take(f"token:{actor.token_id}:"
                                                             f"{actor.name}")
    if wait:
        seconds = 3600 if math.isinf(wait) else max(1, math.ceil(wait))
        raise Problem(t("保存过于频繁，请 {seconds} 秒后再试", seconds=seconds), status=429,
                      headers={"Retry-After": str(seconds)})


# --------------------------------------------------------------------------- state


@dataclass
class State:
    """What the editor shows: a document, its YAML text, and what the validator says."""

    scheme_id: str
    doc: dict
    yaml: str
    version: int
    issues: list[Issue] = field(default_factory=list)
    yaml_errors: list[Issue] = field(default_factory=list)  # the text is not YAML at all
    scheme: Scheme | None = None  # when it validates
    dirty: bool = False  # differs from the saved draft

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.yaml_errors + self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity != "error"]

    @property
    def by_line(self) -> list[Issue]:
        """The issues that name a line of the YAML text, in line order."""
        return sorted((i for i in self.issues if i.line), key=lambda i: i.line or 0)

    def form(self) -> forms.Form:
        return forms.build(self.doc)


def _next_version(scheme_id: str) -> int:
    row = get_db().get(schemes.SchemeRow, scheme_id)
    return ((row.latest_version if row else None) or 0) + 1


def _check(scheme_id: str, doc: dict, text: str | None = None, dirty: bool = False) -> State:
    """Validate ``doc`` as the draft of ``scheme_id`` (``text``: the YAML it was read from,
    whose lines the messages name; else the YAML written from it)."""
    version = _next_version(scheme_id)
    shown = text if text is not None else to_yaml(doc)
    try:
        _, source = from_yaml(shown)
    except SchemeInvalid:
        source = None
    parsed, issues = schemes.check_document(doc, scheme_id, version,
                                            schemes.latest_scheme(get_db(), scheme_id), source)
    return State(scheme_id, doc, shown, version, issues, [], parsed, dirty)


def _draft(scheme_id: str) -> DraftRow:
    return schemes.draft_row(get_db(), scheme_id)


def _stored_doc(row: DraftRow) -> dict:
    return json.loads(row.body)


def _posted(scheme_id: str, row: DraftRow | None) -> tuple[State, str]:
    """The editor's state as posted (not saved), and the action asked for."""
    action = request.form.get("action") or "check"
    source = request.form.get("source") or "form"
    if action in ("save-yaml", "check-yaml"):  # the YAML view's own buttons
        source, action = "yaml", action.split("-")[0]
    try:
        base = json.loads(request.form.get("doc") or "null")
    except ValueError:
        base = None
    if not isinstance(base, dict):
        base = _stored_doc(row) if row is not None else {}
    if source == "yaml":
        text = request.form.get("yaml", "").replace("\r\n", "\n")
        try:
            doc, _ = from_yaml(text)
        except SchemeInvalid as exc:
            state = _check(scheme_id, base, dirty=True)
            state.yaml, state.yaml_errors = text, exc.report.issues
            return state, action
        if not isinstance(doc, dict):
            state = _check(scheme_id, base, dirty=True)
            state.yaml = text
            message = t("YAML 的顶层须是键值对（id、title、parts …），而不是列表或单个值")
            state.yaml_errors = [Issue("error", "", message, "not_mapping", "YAML", 1)]
            return state, action
        if action.split(":")[0] in ("add", "del", "up"):
            return _check(scheme_id, forms.act(doc, action), dirty=True), action
        return _check(scheme_id, doc, text, dirty=True), action
    doc = forms.apply(base, request.form.to_dict(flat=False))
    if action.split(":")[0] in ("add", "del", "up"):
        doc = forms.act(doc, action)
    return _check(scheme_id, doc, dirty=True), action


# --------------------------------------------------------------------------- published side


@functools.lru_cache(maxsize=64)
def _compiled(scheme_id: str, version: int, etag: str) -> CompiledScheme:
    pub = published_scheme(scheme_id, version)
    return compile_scheme(pub[1])


def _published_compiled(scheme_id: str) -> CompiledScheme | None:
    cache = current_app.extensions["xlbridge_cache"]
    pointer = cache.latest(get_db, scheme_id)
    if pointer is None or pointer.version is None:
        return None
    pub = cache.version(get_db, scheme_id, pointer.version)
    return _compiled(scheme_id, pub.version, pub.etag) if pub else None


def _preview(state: State, table: previews.RecordTable | None) -> previews.Preview | None:
    if table is None or state.scheme is None:
        return None
    try:
        draft = compile_scheme(state.scheme)
    except SchemeInvalid:
        return None
    return previews.compare(table, draft, _published_compiled(state.scheme_id))


# --------------------------------------------------------------------------- pages


def _page(state: State, row: DraftRow | None, status: int = 200, **extra: Any) -> Response:
    form = state.form()
    table = previews.example_table(state.scheme_id)
    html = render_template(
        "editor.html", state=state, row=row, form=form, placed=forms.place(form, state.issues),
        preview=_preview(state, table), has_examples=table is not None, actor=g.actor,
        doc_json=json.dumps(state.doc, ensure_ascii=False),
        submitted=schemes.submission(get_db(), row) if row else None, **extra)
    return Response(html, status=status, mimetype="text/html")


@bp.get("/schemes/<scheme_id>/draft")
def edit(scheme_id: str) -> Response:
    row = _draft(scheme_id)
    state = _check(scheme_id, _stored_doc(row))
    return _page(state, row, saved=request.args.get("saved") == "1")


@bp.post("/schemes/<scheme_id>/draft")
def post_edit(scheme_id: str) -> Response:
    row = get_db().get(DraftRow, scheme_id) if schemes.valid_scheme_id(scheme_id) else None
    state, action = _posted(scheme_id, row)
    if action != "save":
        return _page(state, row)
    if state.yaml_errors:
        return _page(state, row, status=422)
    _limit_writes()
    etag = request.form.get("etag", "")
    try:
        schemes.save_draft(get_db(), g.actor, scheme_id, state.doc,
                           if_match=ETags([etag]) if etag else None)
    except PreconditionFailed:
        get_db().rollback()
        return _conflict(scheme_id, state)
    return redirect(url_for("editor.edit", scheme_id=scheme_id, saved=1), code=303)


def _conflict(scheme_id: str, state: State) -> Response:
    """Someone saved the draft (or published or discarded it) after this page read it: show
    both versions; nothing of the user's is lost."""
    current = get_db().get(DraftRow, scheme_id)
    theirs = to_yaml(_stored_doc(current)) if current else ""
    rows = render.side_by_side(theirs.splitlines(), state.yaml.splitlines())
    html = render_template("conflict.html", scheme_id=scheme_id, current=current, mine=state.yaml,
                           mine_doc=json.dumps(state.doc, ensure_ascii=False), rows=rows,
                           actor=g.actor)
    return Response(html, status=409, mimetype="text/html")


@bp.post("/schemes/<scheme_id>/draft/check")
def check(scheme_id: str) -> Response:
    """The editor's state validated (and previewed on the examples), nothing stored: what
    the page's script shows as one types."""
    row = get_db().get(DraftRow, scheme_id) if schemes.valid_scheme_id(scheme_id) else None
    state, _ = _posted(scheme_id, row)
    form = state.form()
    placed = forms.place(form, state.issues)
    source = request.form.get("source") or "form"
    examples = previews.example_table(scheme_id)
    out: dict[str, Any] = {
        "errors": len(state.errors), "warnings": len(state.warnings),
        "slots": {slot: render_template("_messages.html", issues=issues)
                  for slot, issues in placed.items() if slot},
        "summary": render_template("_summary.html", state=state),
        "yaml_messages": render_template("_yaml_messages.html", state=state),
        "preview": render_template("_preview.html", preview=_preview(state, examples),
                                   has_examples=examples is not None, state=state),
        "doc": json.dumps(state.doc, ensure_ascii=False),
    }
    if source == "form":
        out["yaml"] = state.yaml
    if source == "yaml" and not state.yaml_errors:
        out["form"] = render_template("_form.html", form=form, placed=placed)
    return jsonify(out)


def kept_on_sign_out() -> Response:
    """A POST from the editor after the session ended: nothing is saved, and the page shows
    what was being edited so that it can be pasted back after signing in again."""
    text = request.form.get("yaml") or ""
    if request.form.get("source") != "yaml":
        try:
            doc = json.loads(request.form.get("doc") or "null")
            text = to_yaml(forms.apply(doc, request.form.to_dict(flat=False))) \
                if isinstance(doc, dict) else text
        except ValueError:
            pass
    html = render_template("kept.html", text=text, actor=None,
                           reason=t("登录已过期") if g.get("session_expired") else t("尚未登录"))
    return Response(html, status=401, mimetype="text/html")


# --------------------------------------------------------------------------- starting


def _shipped() -> list[tuple[str, str]]:
    """The schemes that ship with xlbridge (id, title)."""
    out = []
    for path in sorted(REPO_SCHEMES.glob("*.yaml")):
        try:
            scheme = load_scheme_file(path).scheme
        except SchemeInvalid:
            continue
        out.append((scheme.id, scheme.title))
    return out


def _empty(scheme_id: str) -> dict:
    return {"id": scheme_id, "version": 1, "title": t("新考核方案"), "unit": t("个人"),
            "period": "year", "max_score": 100,
            "parts": [{"id": "part1", "title": t("考核项目一"), "method": "direct",
                       "points": 100}],
            "tiers": [{"label": t("优秀"), "at_least": 90},
                      {"label": t("合格"), "at_least": 60, "below": 90},
                      {"label": t("不合格"), "below": 60}]}


def draft_document(scheme: Scheme) -> dict:
    """A scheme as a draft starts: its rules as written, without the defaults spelt out."""
    return tidy(scheme.model_dump(mode="json", exclude_defaults=True))


@bp.route("/drafts/new", methods=["GET", "POST"])
def new_draft() -> Response | str:
    db = get_db()
    published = [s for s in schemes.list_schemes(db, with_drafts=True)]
    error = None
    values = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        start = request.form.get("start", "published")
        scheme_id = (request.form.get("scheme_id") or "").strip()
        try:
            doc = _starting_document(start, scheme_id)
        except (ValueError, NotFound) as exc:
            error = str(exc)
        else:
            scheme_id = doc["id"]
            _limit_writes()
            try:
                schemes.save_draft(db, g.actor, scheme_id, doc,
                                   if_none_match=ETags(star_tag=True))
            except PreconditionFailed:
                db.rollback()
                error = t("这个方案已有草稿：请打开它继续编辑，或先放弃它。")
            except (Conflict, Invalid) as exc:
                db.rollback()
                error = exc.detail
            else:
                return redirect(url_for("editor.edit", scheme_id=scheme_id), code=303)
    return render_template("new_draft.html", published=published, shipped=_shipped(),
                           error=error, values=values, actor=g.actor)


def _starting_document(start: str, scheme_id: str) -> dict:
    if start == "published":
        scheme = schemes.latest_scheme(get_db(), scheme_id)
        if scheme is None:
            raise ValueError(schemes.no_published(scheme_id or t("（未选择）")))
        return draft_document(scheme)
    if start == "shipped":
        shipped_id = request.form.get("shipped", "")
        path = REPO_SCHEMES / f"{shipped_id}.yaml"
        if shipped_id not in dict(_shipped()) or not path.is_file():
            raise ValueError(t("没有随附的方案 {id}", id=shipped_id or t("（未选择）")))
        doc = draft_document(load_scheme_file(path).scheme)
        if scheme_id:
            doc["id"] = scheme_id
    elif start == "empty":
        doc = _empty(scheme_id)
    elif start == "document":  # an edit kept from a conflict: the draft it was for is gone
        try:
            doc = json.loads(request.form.get("doc") or "null")
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise ValueError(t("没有可用的方案内容"))
        doc["id"] = scheme_id or doc.get("id", "")
    else:
        raise ValueError(t("请选择草稿从哪里开始"))
    if not schemes.valid_scheme_id(str(doc.get("id", ""))):
        raise ValueError(t("{id}不能作为方案编号：{rule}", id=quoted(doc.get("id", "")),
                           rule=schemes.id_rule()))
    return doc


@bp.post("/schemes/<scheme_id>/draft/discard")
def discard(scheme_id: str) -> Response:
    _limit_writes()
    try:
        schemes.delete_draft(get_db(), g.actor, scheme_id,
                             ETags([request.form.get("etag", "")]))
    except PreconditionFailed:
        get_db().rollback()
        raise PreconditionFailed(t("草稿在您打开之后被别人修改过，没有放弃；"
                                   "请重新打开草稿查看")) from None
    return redirect(url_for("web.index"), code=303)


# --------------------------------------------------------------------------- preview


@bp.route("/schemes/<scheme_id>/draft/preview", methods=["GET", "POST"])
def preview_page(scheme_id: str) -> str:
    row = _draft(scheme_id)
    state = _check(scheme_id, _stored_doc(row))
    table, error = previews.example_table(scheme_id), None
    upload = request.files.get("records") if request.method == "POST" else None
    if upload is not None and upload.filename:
        try:
            table = previews.read_table(upload.read(), upload.filename)
        except previews.TableError as exc:
            error = str(exc)
    elif request.method == "POST":
        error = t("请选择一个 CSV 或 .xlsx 文件")
    result = _preview(state, table) if error is None else None
    return render_template("preview.html", state=state, row=row, preview=result, error=error,
                           has_examples=previews.example_table(scheme_id) is not None,
                           actor=g.actor)


# --------------------------------------------------------------------------- review


def _review(scheme_id: str, note_error: str | None = None, status: int = 200) -> Response:
    db = get_db()
    row = _draft(scheme_id)
    state = _check(scheme_id, _stored_doc(row))
    published = schemes.latest_scheme(db, scheme_id)
    rules = document = None
    if published is not None:
        # both as a draft starts (defaults left out), so that only real changes show
        left = draft_document(published.model_copy(update={"version": state.version}))
        right = draft_document(state.scheme) if state.scheme is not None else state.doc
        document = render.side_by_side(*(render.document_lines(json.dumps(d).encode())
                                         for d in (left, right)), 3)
        if state.scheme is not None:
            rules = render.side_by_side(render.rules_lines(published),
                                        render.rules_lines(state.scheme), 3)
    html = render_template("review.html", state=state, row=row, published=published,
                           rules=rules, document=document, note_error=note_error,
                           submitted=schemes.submission(db, row),
                           note=request.form.get("note", ""), actor=g.actor)
    return Response(html, status=status, mimetype="text/html")


@bp.get("/schemes/<scheme_id>/draft/review")
def review(scheme_id: str) -> Response:
    return _review(scheme_id)


def _note() -> str | None:
    note = (request.form.get("note") or "").strip()
    return note or None


@bp.post("/schemes/<scheme_id>/draft/submit")
def submit(scheme_id: str) -> Response:
    note = _note()
    if note is None:
        return _review(scheme_id, t("请写明这次修改了什么（审核说明必填）"), 422)
    if _check(scheme_id, _stored_doc(_draft(scheme_id))).errors:
        return _review(scheme_id, t("草稿有错误，修正后才能提交审核"), 422)
    _limit_writes()
    try:
        schemes.submit_draft(get_db(), g.actor, scheme_id,
                             ETags([request.form.get("etag", "")]), note)
    except PreconditionFailed:
        get_db().rollback()
        return _review(scheme_id, t("草稿在您打开审核页之后又被修改过：请看下面的最新内容后"
                                    "再提交"), 409)
    return redirect(url_for("editor.review", scheme_id=scheme_id), code=303)


@bp.post("/schemes/<scheme_id>/draft/publish")
def publish(scheme_id: str) -> Response:
    authorize("admin")
    note = _note()
    if note is None:
        return _review(scheme_id, t("请填写发布说明（必填）：它会记入版本历史和审计日志"), 422)
    _limit_writes()
    db = get_db()
    try:
        pub, _ = schemes.publish_draft(db, g.actor, scheme_id,
                                       ETags([request.form.get("etag", "")]), note,
                                       current_app.extensions["xlbridge_cache"])
    except PreconditionFailed:
        db.rollback()
        return _review(scheme_id, t("草稿在您审核之后又被修改过，没有发布：请查看下面的最新内容，"
                                    "确认后再发布"), 409)
    except Invalid:
        db.rollback()
        return _review(scheme_id, t("草稿有错误，不能发布：请先修正下面列出的错误"), 422)
    return redirect(url_for("web.scheme_page", scheme_id=scheme_id, version=pub.version,
                            published=1), code=303)
