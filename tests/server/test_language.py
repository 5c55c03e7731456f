"""The pages and the API in the client's language, through a real HTTP client (requests)
against the app under waitress: Chinese by default, English with ``Accept-Language: en`` or
``?lang=en`` (kept in a cookie), ``<html lang>`` to match, problem+json details in either."""

from __future__ import annotations

import re
from html import unescape

import pytest
import requests
import yaml
from srvtest import csrf_of, publish, shipped_doc

SID = "bailian-township"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
EN = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture
def database(sqlite_database):
    """The language is chosen per request, whatever the database: SQLite is enough here."""
    return sqlite_database


def text_of(html: str) -> str:
    """What a page shows: tags, scripts and styles removed; attributes a reader meets
    (title — the form fields' help —, aria-label, placeholder, data-check-failed) kept."""
    shown = " ".join(re.findall(r'(?:title|aria-label|placeholder|data-check-failed)="([^"]*)"',
                                html))
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return unescape(body + " " + shown)


def chinese_in(html: str) -> list[str]:
    """The Chinese on an English page, but for the link back to Chinese (named in itself)."""
    return [w for w in CJK.findall(text_of(html)) if w != "中文"]


def signed_in(url: str, token: str, **headers: str) -> requests.Session:
    s = requests.Session()
    s.headers.update(headers)
    page = s.get(f"{url}/login")
    r = s.post(f"{url}/login", data={"token": token, "next": "/",
                                     "csrf_token": csrf_of(page.text)}, allow_redirects=False)
    assert r.status_code == 302, r.text
    return s


def test_pages_are_chinese_by_default_and_english_on_request(live_server):
    url = live_server.url
    zh = requests.get(f"{url}/login")
    assert zh.status_code == 200 and '<html lang="zh-CN">' in zh.text
    assert "<h1>登录</h1>" in zh.text and "输入管理员发给您的访问令牌（以 xlb_ 开头）。" in zh.text
    assert '<a href="/login?lang=en" hreflang="en" lang="en">English</a>' in zh.text
    assert "Sign in" not in zh.text
    assert "Accept-Language" in zh.headers["Vary"]

    en = requests.get(f"{url}/login", headers=EN)
    assert '<html lang="en">' in en.text and "<h1>Sign in</h1>" in en.text
    assert "Enter the access token your administrator gave you (it starts with xlb_)." in en.text
    assert '<a href="/login?lang=zh" hreflang="zh" lang="zh">中文</a>' in en.text
    assert chinese_in(en.text) == []

    # a Chinese browser, one that prefers Chinese over English, and a language we do not
    # speak all get Chinese
    for header in ("zh-CN,zh;q=0.9", "zh-TW", "zh;q=0.9, en;q=0.5", "fr-FR,fr;q=0.9", ""):
        r = requests.get(f"{url}/login", headers={"Accept-Language": header})
        assert '<html lang="zh-CN">' in r.text and "<h1>登录</h1>" in r.text, header
    r = requests.get(f"{url}/login", headers={"Accept-Language": "fr;q=0.9, en;q=0.8"})
    assert "<h1>Sign in</h1>" in r.text


def test_lang_parameter_is_kept_in_a_cookie(live_server):
    url = live_server.url
    s = requests.Session()
    s.headers["Accept-Language"] = "zh-CN"
    r = s.get(f"{url}/login?lang=en")
    assert '<html lang="en">' in r.text and s.cookies.get("xlbridge_lang") == "en"
    # the choice holds on the next pages, over the browser's header …
    assert "<h1>Sign in</h1>" in s.get(f"{url}/login").text
    # … the sign-in error is in it, and the switch goes back
    r = s.post(f"{url}/login", data={"token": "xlb_wrong", "csrf_token": csrf_of(r.text)})
    assert "This token is unknown or has been revoked." in r.text
    r = s.get(f"{url}/login?lang=zh")
    assert "<h1>登录</h1>" in r.text and s.cookies.get("xlbridge_lang") == "zh"
    assert "<h1>登录</h1>" in s.get(f"{url}/login", headers=EN).text
    # a language we do not speak changes nothing
    assert "<h1>登录</h1>" in s.get(f"{url}/login?lang=fr").text


def test_scheme_pages_in_each_language(live_server, client, auth, tokens):
    publish(client, auth, shipped_doc(), note="首版")
    url = live_server.url
    zh = signed_in(url, tokens["admin"])
    page = zh.get(f"{url}/schemes/{SID}").text
    for heading in ("计分规则", "考核内容与权重", "等次", "版本"):
        assert f"<h2>{heading}</h2>" in page
    assert "<dt>考核对象</dt><dd>" in page and "Scoring rules" not in page
    index = zh.get(f"{url}/").text
    assert "<h1>已发布的考核方案</h1>" in index and "<th>最新版本</th>" in index

    en = signed_in(url, tokens["admin"], **EN)
    page = en.get(f"{url}/schemes/{SID}").text
    for heading in ("<h2>Scoring rules</h2>", "<h2>Items and weights</h2>",
                    "<h2>Grade</h2>", "<h2>Versions</h2>"):
        assert heading in page
    assert "<dt>Appraised</dt><dd>" in page and "<dt>Period</dt><dd>yearly</dd>" in page
    assert "<th>Scoring method</th>" in page and "计分规则" not in page
    index = en.get(f"{url}/").text
    assert "<h1>Published appraisal schemes</h1>" in index and "<th>Latest version</th>" in index
    assert "<h1>Drafts</h1>" in index and "<p>No open drafts.</p>" in index
    assert "已发布的考核方案" not in index


def test_an_english_draft_shows_no_chinese_at_all(live_server, client, auth, tokens):
    """A draft started empty from an English page is English throughout (its title and
    tiers come from the catalogue too): every text of the editor, preview, review, scheme,
    diff and conflict pages is English; the only Chinese is the link back to Chinese."""
    url = live_server.url
    en = signed_in(url, tokens["admin"], **EN)
    page = en.get(f"{url}/drafts/new")
    # (the shipped schemes offered are Chinese: their titles are data, not the page's)
    form = re.sub(r"<select.*?</select>", "", page.text, flags=re.S)
    assert chinese_in(form) == [], chinese_in(form)
    r = en.post(f"{url}/drafts/new", data={"start": "empty", "scheme_id": "english-test",
                                           "csrf_token": csrf_of(page.text)})
    assert r.status_code == 200 and r.url.endswith("/schemes/english-test/draft"), r.text
    editor = r.text
    assert "<h1>Edit draft: New appraisal scheme" in editor
    assert 'data-check-failed="The check failed ({status}): you may have been signed out.' \
        in editor
    assert chinese_in(editor) == [], chinese_in(editor)
    for path in ("draft/preview", "draft/review"):
        r = en.get(f"{url}/schemes/english-test/{path}")
        assert r.status_code == 200 and chinese_in(r.text) == [], (path, chinese_in(r.text))

    # points that add up to more than the maximum: the validator says so in English
    first = client.get("/api/schemes/english-test/draft", headers=auth("editor")).get_json()
    wrong = {**first, "parts": [*first["parts"], {"id": "part2", "title": "Item 2",
                                                  "method": "direct", "points": 10}]}
    r = en.post(f"{url}/schemes/english-test/draft/check",
                data={"csrf_token": csrf_of(editor), "source": "yaml", "action": "check",
                      "yaml": yaml.safe_dump(wrong, allow_unicode=True)})
    answer = r.json()
    assert answer["errors"] >= 1 and "error" in answer["summary"], answer["summary"]
    assert chinese_in(answer["summary"]) == [] and chinese_in(answer["preview"]) == []
    assert all(chinese_in(html) == [] for html in answer["slots"].values()), answer["slots"]

    publish(client, auth, first)
    second = {**first, "tiers": [dict(t) for t in first["tiers"]]}
    second["tiers"][0]["at_least"] = 95
    second["tiers"][1]["below"] = 95
    publish(client, auth, second)
    for path in ("", "/versions/1", "/diff?a=1&b=2"):
        r = en.get(f"{url}/schemes/english-test{path}")
        assert r.status_code == 200 and chinese_in(r.text) == [], (path, chinese_in(r.text))

    # the same pages in Chinese say it in Chinese
    zh = signed_in(url, tokens["admin"])
    r = zh.get(f"{url}/schemes/english-test/diff?a=1&b=2")
    assert "<h2>规则</h2>" in r.text and "<h2>Rules</h2>" not in r.text


def test_api_errors_in_the_requests_language(live_server, tokens):
    url = live_server.url
    reader = {"Authorization": f"Bearer {tokens['reader']}"}
    r = requests.get(f"{url}/api/schemes/nope/latest", headers=reader)
    p = r.json()
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/problem+json"
    assert p["detail"] == "方案“nope”还没有已发布的版本" and p["title"] == "找不到"
    assert p["type"].endswith("/not-found")  # an identifier: the same in every language
    assert "Accept-Language" in r.headers["Vary"]
    r = requests.get(f"{url}/api/schemes/nope/latest", headers={**reader, **EN})
    p = r.json()
    assert p["detail"] == "scheme 'nope' has no published version" and p["title"] == "Not Found"
    assert p["type"].endswith("/not-found")

    # no token; a role too low; a route that does not exist; a body that is not JSON
    r = requests.get(f"{url}/api/schemes")
    assert r.status_code == 401 and r.json()["detail"] == \
        "请在请求头中发送 `Authorization: Bearer <令牌>`" and r.json()["title"] == "需要令牌"
    r = requests.get(f"{url}/api/schemes", headers=EN)
    assert r.json()["detail"] == "send `Authorization: Bearer <token>`"
    r = requests.get(f"{url}/api/tokens", headers=reader)
    assert r.status_code == 403 and r.json()["detail"] == \
        "这需要管理员（admin）角色；令牌“test-reader”是读者（reader）"
    r = requests.get(f"{url}/api/tokens", headers={**reader, **EN})
    assert r.json()["detail"] == "this needs the admin role; the token 'test-reader' is a reader"
    r = requests.get(f"{url}/api/nowhere", headers=reader)
    assert r.status_code == 404 and r.json()["detail"] == "这个地址上没有内容：/api/nowhere"
    r = requests.delete(f"{url}/api/schemes", headers={**reader, **EN})
    assert r.status_code == 405
    assert r.json()["detail"].startswith("/api/schemes does not accept DELETE; allowed:")
    r = requests.post(f"{url}/api/validate", data=b"{", headers={
        **reader, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["detail"].startswith("请求体不是有效的 JSON：")
    r = requests.post(f"{url}/api/validate", data=b"{", headers={
        **reader, **EN, "Content-Type": "application/json"})
    assert r.json()["detail"].startswith("the body is not valid JSON: ")
    # ?lang=en works for API clients too
    r = requests.get(f"{url}/api/schemes/nope/latest?lang=en", headers=reader)
    assert r.json()["detail"] == "scheme 'nope' has no published version"


def test_error_pages_in_each_language(live_server, tokens):
    url = live_server.url
    zh = signed_in(url, tokens["reader"])
    r = zh.get(f"{url}/schemes/nope")
    assert r.status_code == 404 and "<h1>404 找不到</h1>" in r.text and "没有方案 nope" in r.text
    en = signed_in(url, tokens["reader"], **EN)
    r = en.get(f"{url}/schemes/nope")
    assert r.status_code == 404 and "<h1>404 Not Found</h1>" in r.text
    assert "no scheme nope" in r.text and chinese_in(r.text) == []
    # a form that expired (no CSRF token): the page says so in the page's language
    r = requests.post(f"{url}/login", data={"token": "x"}, headers=EN)
    assert r.status_code == 400 and "Form expired" in r.text and chinese_in(r.text) == []
