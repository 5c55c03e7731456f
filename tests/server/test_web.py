"""The web pages: sign-in, the list, a scheme's versions and rules, the diff — as HTML from the
test client, and in headless Chromium (Playwright), with a pixel check of the tier bar."""

from __future__ import annotations

import io
import json
import os
import re
from html import unescape
from pathlib import Path

import pytest
from srvtest import csrf_of, form_post, publish, shipped_doc, sign_in

SID = "bailian-township"


@pytest.fixture
def database(sqlite_database):
    """The pages read through the same functions as the API: SQLite is enough here."""
    return sqlite_database


def revised(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    doc["title"] = "白莲镇政府绩效管理评估（修订）"
    doc["tiers"][0]["at_least"] = 92
    doc["tiers"][1]["below"] = 92
    doc["deductions"]["cap"] = 5
    return doc


@pytest.fixture
def two_versions(client, auth):
    publish(client, auth, shipped_doc(), note="首版")
    publish(client, auth, revised(shipped_doc()), note="优秀线提到 92 分")
    publish(client, auth, shipped_doc("meiling-street-quarterly"))


def login(client, token: str):
    return sign_in(client, token)


# --------------------------------------------------------------------------- HTML


def test_pages_need_a_token(client, tokens):
    r = client.get(f"/schemes/{SID}")
    assert r.status_code == 302 and "/login?next=" in r.headers["Location"]
    r = login(client, "xlb_wrong")
    assert r.status_code == 200 and "令牌无效" in r.get_data(as_text=True)
    r = login(client, tokens["reader"])
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    # the session keeps only the hash; signing out ends it
    form_post(client, "/logout", {})
    assert client.get("/").status_code == 302


def test_login_never_redirects_elsewhere(client, tokens):
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        csrf = csrf_of(client.get("/login").get_data(as_text=True))
        r = client.post("/login", data={"token": tokens["reader"], "next": target,
                                        "csrf_token": csrf})
        assert r.headers["Location"] == "/"


def test_list_page(client, auth, two_versions):
    html = client.get("/", headers=auth("reader")).get_data(as_text=True)
    assert "白莲镇政府绩效管理评估（修订）" in html and "第 2 版" in html
    assert "梅岭街道" in html and f'href="/schemes/{SID}"' in html


def test_scheme_page_shows_rules(client, auth, two_versions):
    html = client.get(f"/schemes/{SID}/versions/1", headers=auth("reader")).get_data(
        as_text=True)
    assert "这不是最新版本" in html
    assert re.search(r"指标考核.*?直接评分.*?80", html, re.S)
    bands = re.findall(r'class="band" data-label="([^"]+)" data-left="([\d.]+)" '
                       r'data-width="([\d.]+)"', html)
    assert bands == [("优", "90.0", "10.0"), ("良好", "85.0", "5.0"), ("一般", "75.0", "10.0"),
                     ("差", "0.0", "75.0")]
    assert "察访核验扣分（累计不超过 3 分）" in html
    assert "优秀线提到 92 分" in html  # the versions list with notes
    latest = client.get(f"/schemes/{SID}", headers=auth("reader")).get_data(as_text=True)
    assert 'data-label="优" data-left="92.0" data-width="8.0"' in latest
    assert "这不是最新版本" not in latest


def test_diff_page(client, auth, two_versions):
    html = client.get(f"/schemes/{SID}/diff?a=1&b=2", headers=auth("reader")).get_data(
        as_text=True)
    rows = re.findall(r'<tr class="(replace|delete|insert)">\s*<td class="no">\d*</td>'
                      r'<td class="l">([^<]*)</td>\s*<td class="no">\d*</td>'
                      r'<td class="r">([^<]*)</td>', html)
    rows = [(kind, unescape(left), unescape(right)) for kind, left, right in rows]
    assert ("replace", "  优：≥90", "  优：≥92") in rows
    assert any("累计不超过 3 分" in left and "累计不超过 5 分" in right for _, left, right in rows)
    assert any('"at_least": 90' in left and '"at_least": 92' in right
               for _, left, right in rows)


def test_unknown_pages_are_html_errors(client, auth, two_versions):
    r = client.get("/schemes/nope", headers=auth("reader"))
    assert r.status_code == 404 and r.mimetype == "text/html"
    r = client.get(f"/schemes/{SID}/diff?a=x", headers=auth("reader"))
    assert r.status_code == 400


# --------------------------------------------------------------------------- Chromium


@pytest.fixture
def page(browser, live_server, tokens, two_versions):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + f"/schemes/{SID}/versions/1")
    page.fill("input[name=token]", tokens["reader"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(f"/schemes/{SID}/versions/1$"))  # back where it started
    yield page
    context.close()


def _runs(row, colour: tuple[int, int, int], tol: int = 6) -> list[tuple[int, int]]:
    """Contiguous pixel runs of ``colour`` in a row of RGB pixels: [(start, length)]."""
    runs, start = [], None
    for x, px in enumerate([*row, (-99, -99, -99)]):
        hit = all(abs(a - b) <= tol for a, b in zip(px[:3], colour, strict=True))
        if hit and start is None:
            start = x
        elif not hit and start is not None:
            runs.append((start, x - start))
            start = None
    return runs


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_tier_bar_renders_bands_in_proportion(page, live_server, tmp_path):
    from PIL import Image

    page.goto(live_server.url + f"/schemes/{SID}/versions/1")
    bar = page.locator("#tier-bar")
    bar.wait_for()
    shot = Image.open(io.BytesIO(bar.screenshot())).convert("RGB")
    width, height = shot.size
    assert width > 300 and height >= 20
    row = [shot.getpixel((x, height // 2)) for x in range(width)]
    bands = page.eval_on_selector_all(
        "#tier-bar .band", "els => els.map(e => [e.dataset.label, e.dataset.colour])")
    # 差 <75, 一般 75–85, 良好 85–90, 优 ≥90 on a bar from 0 to 100
    expected = {"优": (90, 10), "良好": (85, 5), "一般": (75, 10), "差": (0, 75)}
    for label, colour in bands:
        runs = _runs(row, _rgb(colour))
        assert len(runs) == 1, (label, colour, runs)
        start, length = runs[0]
        left, share = expected[label]
        assert abs(start - width * left / 100) <= 2, (label, start)
        assert abs(length - width * share / 100) <= 2, (label, length)
    # every pixel of the bar belongs to a band: the tiers cover 0…100 without a gap
    covered = sum(length for _, c in bands for _, length in _runs(row, _rgb(c)))
    assert covered >= width - 2
    out = Path(os.environ.get("XLBRIDGE_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "scheme-page.png"), full_page=True)
    shot.save(out / "tier-bar.png")


def test_browser_walks_list_scheme_and_diff(page, live_server, tmp_path):
    page.goto(live_server.url + "/")
    assert page.locator("#scheme-list").is_visible()
    page.click("text=白莲镇政府绩效管理评估（修订）")
    page.wait_for_url(re.compile(f"/schemes/{SID}$"))
    assert page.locator("#parts tbody tr").count() == 2
    assert page.locator("#versions li").count() == 2
    page.select_option("select[name=a]", "1")
    page.select_option("select[name=b]", "2")
    page.click("form.diffpick button")
    page.wait_for_url(re.compile(r"/diff\?a=1&b=2"))
    changed = page.locator("#diff-rules tr.replace")
    assert changed.count() >= 2 and changed.first.is_visible()
    left = page.locator("#diff-rules tr.replace td.l").all_inner_texts()
    right = page.locator("#diff-rules tr.replace td.r").all_inner_texts()
    assert any("≥90" in t for t in left) and any("≥92" in t for t in right)
    out = Path(os.environ.get("XLBRIDGE_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "diff-page.png"), full_page=True)


def test_the_first_page_after_a_start_without_a_secret_key_works(database):
    """No SECRET_KEY configured: the key is made and kept in the database before the first
    request's session is opened, so even the very first sign-in page can keep its CSRF token
    (it answered 500 before), and a second app on the same database signs the same way."""
    from tests.server.srvtest import make_app

    app = make_app(database, SECRET_KEY=None)
    r = app.test_client().get("/login")
    assert r.status_code == 200 and b"csrf_token" in r.data
    other = make_app(database, SECRET_KEY=None)
    other.test_client().get("/login")
    assert other.secret_key == app.secret_key
    for a in (app, other):
        a.extensions["xlbridge_engine"].dispose()
