"""The editor's pages through the test client, on SQLite and PostgreSQL: roles, CSRF, drafts
from each start, saving from the form and from YAML, conflicts that lose nothing, checking,
preview uploads, submission, publication with a required note, expired sessions."""

from __future__ import annotations

import io
import json
import re
import time
from html import unescape

import pytest
from srvtest import SHIPPED, csrf_of, form_post, make_app, publish, shipped_doc, sign_in

SID = "meiling-street-quarterly"
DRAFT = f"/schemes/{SID}/draft"


def browser(app, token: str):
    """A test client signed in on the pages, like a browser."""
    c = app.test_client()
    assert sign_in(c, token).status_code == 302
    return c


@pytest.fixture
def published(client, auth):
    publish(client, auth, shipped_doc(SID), note="首版")


@pytest.fixture
def editor(app, tokens, published):
    return browser(app, tokens["editor"])


@pytest.fixture
def admin(app, tokens, published):
    return browser(app, tokens["admin"])


def start(c, **data):
    return form_post(c, "/drafts/new", {"start": "published", "scheme_id": SID, **data})


def page_form(html: str) -> dict[str, list[str]]:
    """The editor form's fields as a browser would post them, unchanged."""
    out: dict[str, list[str]] = {}

    def attr(tag: str, name: str) -> str | None:
        m = re.search(rf'\b{name}="([^"]*)"', tag)
        return unescape(m.group(1)) if m else None

    for tag in re.findall(r"<input\b[^>]*>", html):
        kind, name = attr(tag, "type"), attr(tag, "name")
        if name is None or kind in ("radio", "file") or (kind == "checkbox"
                                                        and "checked" not in tag):
            continue
        out.setdefault(name, []).append(attr(tag, "value") or "")
    for m in re.finditer(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', m.group(2))
        out[unescape(m.group(1))] = [unescape(chosen.group(1)) if chosen else ""]
    for m in re.finditer(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        out[unescape(m.group(1))] = [unescape(m.group(2))]
    return out


def edit(c, changes: dict[str, str], action: str = "save", source: str = "form"):
    html = c.get(DRAFT).get_data(as_text=True)
    data = page_form(html)
    data.update({k: [v] for k, v in changes.items()})
    data["action"], data["source"] = [action], [source]
    return c.post(DRAFT, data=data), html


def draft_doc(client, auth) -> dict:
    return client.get(f"/api/schemes/{SID}/draft", headers=auth("editor")).get_json()


# --------------------------------------------------------------------------- access


def test_roles_are_the_apis(app, client, tokens, published):
    reader = browser(app, tokens["reader"])
    assert reader.get("/drafts/new").status_code == 403
    assert reader.get(DRAFT).status_code == 403
    assert "新建草稿" not in reader.get("/").get_data(as_text=True)
    editor = browser(app, tokens["editor"])
    assert start(editor).status_code == 303
    # an editor reviews and submits, but the publish route is an admin's
    r = form_post(editor, f"{DRAFT}/publish", {"note": "x", "etag": "whatever"}, page=DRAFT)
    assert r.status_code == 403
    assert 'id="publish"' not in editor.get(f"{DRAFT}/review").get_data(as_text=True)
    anonymous = app.test_client()
    r = anonymous.get(DRAFT)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_every_form_needs_its_csrf_token(editor, client, auth):
    assert start(editor).status_code == 303
    before = draft_doc(client, auth)
    data = page_form(editor.get(DRAFT).get_data(as_text=True))
    data["f:parts[0].weight"], data["action"] = ["70%"], ["save"]
    data.pop("csrf_token")
    r = editor.post(DRAFT, data=data)
    assert r.status_code == 401 and "没有保存" in r.get_data(as_text=True)
    assert "weight: 70%" in unescape(r.get_data(as_text=True))  # the edit is on the page
    assert draft_doc(client, auth) == before
    for url in ("/drafts/new", f"{DRAFT}/discard", f"{DRAFT}/submit"):
        assert editor.post(url, data={"note": "x"}).status_code in (400, 401)
    r = editor.post("/logout")
    assert r.status_code == 400 and "表单已失效" in r.get_data(as_text=True)


# --------------------------------------------------------------------------- starting


def test_drafts_start_from_published_shipped_or_empty(editor, client, auth):
    r = start(editor)
    assert r.status_code == 303 and r.headers["Location"].endswith(DRAFT)
    doc = draft_doc(client, auth)
    assert doc["version"] == 2 and doc["parts"][0]["weight"] == "60%"
    again = start(editor).get_data(as_text=True)
    assert "已有草稿" in again
    r = form_post(editor, "/drafts/new", {"start": "shipped", "shipped": "bailian-township",
                                          "scheme_id": "bailian-2025"})
    assert r.status_code == 303
    shipped = client.get("/api/schemes/bailian-2025/draft", headers=auth("editor")).get_json()
    assert shipped["id"] == "bailian-2025" and shipped["title"].startswith("白莲镇")
    r = form_post(editor, "/drafts/new", {"start": "empty", "scheme_id": "new-office"})
    assert r.status_code == 303
    html = editor.get("/schemes/new-office/draft").get_data(as_text=True)
    assert "没有错误" in html and "将发布为第 1 版" in html
    bad = form_post(editor, "/drafts/new", {"start": "empty", "scheme_id": "新方案"})
    assert "不能作为方案编号" in bad.get_data(as_text=True)
    listing = editor.get("/").get_data(as_text=True)
    assert 'id="draft-list"' in listing and "new-office" in listing


# --------------------------------------------------------------------------- editing


def test_form_edits_are_validated_beside_the_field_and_saved(editor, client, auth):
    start(editor)
    r, _ = edit(editor, {"f:parts[0].weight": "70%"}, action="check")
    html = r.get_data(as_text=True)
    slot = re.search(r'<div class="msgs" id="msg:parts">(.*?)</div>', html, re.S).group(1)
    assert "110%" in slot and "error" in slot
    assert "有 1 个错误" in html and "有未保存的修改" in html
    assert "weight: 70%" in unescape(html)  # the YAML view shows the same document
    assert draft_doc(client, auth)["parts"][0]["weight"] == "60%"  # a check stores nothing
    # an invalid draft may still be saved (a draft is work in progress) …
    r, _ = edit(editor, {"f:parts[0].weight": "70%", "f:parts[1].weight": "30%"})
    assert r.status_code == 303 and r.headers["Location"].endswith("?saved=1")
    doc = draft_doc(client, auth)
    assert (doc["parts"][0]["weight"], doc["parts"][1]["weight"]) == ("70%", "30%")
    page = editor.get(DRAFT).get_data(as_text=True)
    assert "没有错误" in page and "说明文字沿用第 1 版" in page  # the stale note warning


def test_yaml_edits_and_yaml_that_does_not_parse(editor, client, auth):
    start(editor)
    html = editor.get(DRAFT).get_data(as_text=True)
    text = unescape(re.search(r'<textarea name="yaml"[^>]*>(.*?)</textarea>', html,
                              re.S).group(1))
    r, _ = edit(editor, {"yaml": text.replace("title: 考勤", "title: 考勤纪律")},
                action="save-yaml")
    assert r.status_code == 303
    assert "考勤纪律" in json.dumps(draft_doc(client, auth), ensure_ascii=False)
    broken = text.replace("unit: 个人", "unit: [个人")
    r, _ = edit(editor, {"yaml": broken}, action="save-yaml")
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "YAML 读不出来" in body and "第 " in body
    assert "unit: [个人" in unescape(body)  # the text is kept as typed
    assert "考勤纪律" in json.dumps(draft_doc(client, auth), ensure_ascii=False)
    # a message from the YAML names its line
    r, _ = edit(editor, {"yaml": text.replace("weight: 40%", "weight: 50%")},
                action="check-yaml")
    assert re.search(r"<b>第 \d+ 行</b> <code>parts</code>", r.get_data(as_text=True))


def test_row_actions_without_javascript(editor):
    start(editor)
    r, _ = edit(editor, {}, action="add:tiers")
    html = r.get_data(as_text=True)
    assert 'name="f:tiers[4].label" value="新等次"' in html and "有未保存的修改" in html


def test_check_answers_json_for_the_script(editor):
    start(editor)
    html = editor.get(DRAFT).get_data(as_text=True)
    data = page_form(html)
    data["f:parts[0].weight"] = ["70%"]
    r = editor.post(f"{DRAFT}/check", data=data)
    out = r.get_json()
    assert out["errors"] == 1 and "110%" in out["slots"]["parts"]
    assert "weight: 70%" in out["yaml"] and "form" not in out
    data["source"], data["yaml"] = ["yaml"], [out["yaml"].replace("weight: 40%",
                                                                   "weight: 30%")]
    out = editor.post(f"{DRAFT}/check", data=data).get_json()
    assert out["errors"] == 0 and 'value="30%"' in out["form"]
    assert "条结果改变" in out["preview"]
    assert json.loads(out["doc"])["parts"][1]["weight"] == "30%"


def test_two_editors_never_lose_an_edit(app, tokens, editor, client, auth):
    start(editor)
    other = browser(app, tokens["editor"])
    mine_page = editor.get(DRAFT).get_data(as_text=True)
    r, _ = edit(other, {"f:title": "他人的标题"})
    assert r.status_code == 303
    data = page_form(mine_page)  # the first editor still has the page from before
    data.update({"f:unit": ["科室"], "action": ["save"], "source": ["form"]})
    r = editor.post(DRAFT, data=data)
    body = unescape(r.get_data(as_text=True))
    assert r.status_code == 409 and "没有保存" in body and "test-editor" in body
    assert "unit: 科室" in body and "他人的标题" in body  # both versions are on the page
    assert draft_doc(client, auth)["title"] == "他人的标题"  # theirs was not overwritten
    # after reading the differences, keep mine on purpose: the form carries the new ETag
    etag = re.search(r'name="etag" value="([^"]+)"', body).group(1)
    mine = re.search(r'<textarea name="yaml"[^>]*>(.*?)</textarea>', body, re.S).group(1)
    r = editor.post(DRAFT, data={"csrf_token": csrf_of(body), "etag": etag, "source": "yaml",
                                 "yaml": mine, "action": "save"})
    assert r.status_code == 303 and draft_doc(client, auth)["unit"] == "科室"


def test_a_draft_published_while_editing_keeps_the_edit(editor, admin, client, auth):
    start(editor)
    page = editor.get(DRAFT).get_data(as_text=True)
    review = admin.get(f"{DRAFT}/review").get_data(as_text=True)
    etag = re.search(r'name="etag" value="([^"]+)"', review).group(1)
    r = form_post(admin, f"{DRAFT}/publish", {"etag": etag, "note": "原样发布"},
                  page=f"{DRAFT}/review")
    assert r.status_code == 303
    data = page_form(page)
    data.update({"f:unit": ["科室"], "action": ["save"], "source": ["form"]})
    raw = editor.post(DRAFT, data=data).get_data(as_text=True)
    body = unescape(raw)
    assert "已被发布或放弃" in body and "unit: 科室" in body
    doc = unescape(re.search(r'name="doc" value="([^"]+)"', raw).group(1))
    r = form_post(editor, "/drafts/new", {"start": "document", "scheme_id": SID, "doc": doc})
    assert r.status_code == 303
    assert draft_doc(client, auth)["unit"] == "科室"
    assert draft_doc(client, auth)["version"] == 3


# --------------------------------------------------------------------------- preview


def test_preview_of_uploaded_records(editor):
    start(editor)
    edit(editor, {"f:parts[0].weight": "70%", "f:parts[1].weight": "30%"})
    page = editor.get(f"{DRAFT}/preview").get_data(as_text=True)
    assert "meiling-street-quarterly.records.csv" in page and "条结果改变" in page
    csv_bytes = (SHIPPED / f"{SID}.records.csv").read_text(encoding="utf-8-sig") \
        .encode("gb18030")
    r = form_post(editor, f"{DRAFT}/preview",
                  {"records": (io.BytesIO(csv_bytes), "本单位.csv")}, page=f"{DRAFT}/preview",
                  content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert "预览：本单位.csv" in html and "王建国" in html and "89.7" in html
    r = form_post(editor, f"{DRAFT}/preview", {"records": (io.BytesIO(b"\xd0\xcf"), "a.xls")},
                  page=f"{DRAFT}/preview", content_type="multipart/form-data")
    assert "另存为 .xlsx" in r.get_data(as_text=True)


# --------------------------------------------------------------------------- publishing


def test_submit_then_publish_with_a_required_note(editor, admin, client, auth):
    start(editor)
    edit(editor, {"f:parts[0].weight": "70%", "f:parts[1].weight": "30%",
                  "f:description": "考评得分 = 工作考评 × 70% + 党政领导测评 × 30%。"})
    review = editor.get(f"{DRAFT}/review").get_data(as_text=True)
    etag = re.search(r'name="etag" value="([^"]+)"', review).group(1)
    r = form_post(editor, f"{DRAFT}/submit", {"etag": etag, "note": "  "},
                  page=f"{DRAFT}/review")
    assert r.status_code == 422 and "必填" in r.get_data(as_text=True)
    r = form_post(editor, f"{DRAFT}/submit", {"etag": etag, "note": "权重改为70/30"},
                  page=f"{DRAFT}/review")
    assert r.status_code == 303
    listing = admin.get("/").get_data(as_text=True)
    assert "待审核（test-editor）" in listing
    review = admin.get(f"{DRAFT}/review").get_data(as_text=True)
    assert "权重改为70/30</textarea>" in review  # the submission's note, ready to use
    r = form_post(admin, f"{DRAFT}/publish", {"etag": etag, "note": ""},
                  page=f"{DRAFT}/review")
    assert r.status_code == 422 and "发布说明" in r.get_data(as_text=True)
    r = form_post(admin, f"{DRAFT}/publish", {"etag": "draft-stale", "note": "x"},
                  page=f"{DRAFT}/review")
    assert r.status_code == 409 and "没有发布" in r.get_data(as_text=True)
    r = form_post(admin, f"{DRAFT}/publish", {"etag": etag, "note": "权重改为70/30"},
                  page=f"{DRAFT}/review")
    assert r.status_code == 303 and r.headers["Location"].endswith("/versions/2?published=1")
    v2 = client.get(f"/api/schemes/{SID}/versions/2", headers=auth("reader"))
    assert v2.status_code == 200 and v2.get_json()["parts"][0]["weight"] == "70%"
    history = client.get(f"/api/schemes/{SID}/versions", headers=auth("reader")).get_json()
    assert history["versions"][-1]["note"] == "权重改为70/30"
    assert history["versions"][-1]["published_by"] == "test-admin"
    entries = client.get(f"/api/audit?scheme={SID}", headers=auth("admin")).get_json()
    assert [e["action"] for e in entries["entries"][:2]] == ["scheme.publish", "draft.submit"]
    assert client.get(f"/api/schemes/{SID}/draft", headers=auth("editor")).status_code == 404


def test_an_invalid_draft_cannot_be_published(editor, admin):
    start(editor)
    edit(editor, {"f:parts[0].weight": "70%"})
    review = admin.get(f"{DRAFT}/review").get_data(as_text=True)
    assert 'id="publish" disabled' in review
    etag = re.search(r'name="etag" value="([^"]+)"', review).group(1)
    r = form_post(admin, f"{DRAFT}/publish", {"etag": etag, "note": "x"},
                  page=f"{DRAFT}/review")
    assert r.status_code == 422 and "不能发布" in r.get_data(as_text=True)


def test_discard(editor, client, auth):
    start(editor)
    page = editor.get(DRAFT).get_data(as_text=True)
    etag = re.search(r'name="etag" value="([^"]+)"', page).group(1)
    r = form_post(editor, f"{DRAFT}/discard", {"etag": etag}, page=DRAFT)
    assert r.status_code == 303
    assert client.get(f"/api/schemes/{SID}/draft", headers=auth("editor")).status_code == 404


# --------------------------------------------------------------------------- the scheme page


def test_scheme_page_generates_the_rules_and_dates_the_note(client, auth, app, tokens):
    publish(client, auth, shipped_doc(SID), note="首版")
    doc = shipped_doc(SID)
    doc["parts"][0]["weight"], doc["parts"][1]["weight"] = "70%", "30%"
    publish(client, auth, doc, note="权重调整")  # the API keeps the old description
    reader = browser(app, tokens["reader"])
    html = reader.get(f"/schemes/{SID}").get_data(as_text=True)
    formula = re.search(r'<ul class="formula" id="formula">(.*?)</ul>', html, re.S).group(1)
    assert "工作考评（100分制）× 70%" in formula and "党政领导测评（100分制）× 30%" in formula
    note = re.search(r'<aside class="authornote stale" id="author-note">(.*?)</aside>', html,
                     re.S).group(1)
    assert "撰写于第 1 版" in note and "此后权重已改变" in note
    # labels, not ids
    assert "考核类别" in html and "分组</dt><dd>category" not in html
    assert "适用：承担科室工作" in html and "has_office" not in html
    assert "当季新录用或新调入 且 当季在岗工作日 &lt; 20" in html
    first = reader.get(f"/schemes/{SID}/versions/1").get_data(as_text=True)
    assert "撰写于第 1 版" in first and "authornote stale" not in first


# --------------------------------------------------------------------------- sessions


def test_sessions_expire_and_an_edit_posted_after_is_kept(database, tokens, client, auth,
                                                         published):
    app = make_app(database, SESSION_MAX_HOURS=1)
    c = app.test_client()
    sign_in(c, tokens["editor"])
    start(c)
    page = c.get(DRAFT).get_data(as_text=True)
    with c.session_transaction() as s:
        s["signed_in_at"] = time.time() - 2 * 3600
    r = c.get(DRAFT)
    assert r.status_code == 302 and "expired=1" in r.headers["Location"]
    assert "登录已过期" in c.get(r.headers["Location"]).get_data(as_text=True)
    sign_in(c, tokens["editor"])
    with c.session_transaction() as s:
        s["signed_in_at"] = time.time() - 2 * 3600
    data = page_form(page)
    data.update({"f:unit": ["科室"], "action": ["save"]})
    r = c.post(DRAFT, data=data)
    body = unescape(r.get_data(as_text=True))
    assert r.status_code == 401 and "登录已过期" in body and "unit: 科室" in body
    assert draft_doc(client, auth)["unit"] == "个人"
    app.extensions["xlbridge_engine"].dispose()


def test_an_idle_session_ends(database, tokens, published):
    app = make_app(database, SESSION_IDLE_MINUTES=1 / 60)  # one second
    c = app.test_client()
    sign_in(c, tokens["editor"])
    assert c.get("/").status_code == 200  # each request re-signs the cookie …
    time.sleep(2.1)
    r = c.get("/")  # … and one that comes too late is refused
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    app.extensions["xlbridge_engine"].dispose()
