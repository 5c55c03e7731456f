"""The editor in a real browser (Debian's Chromium through Playwright, i.e. the DevTools
protocol): an editor changes a weight, sees the message for a weight sum that is wrong, fixes
it, sees the preview change, saves and submits; an admin reviews and publishes; then the real
``xlbridge sync`` downloads the new version and ``xlbridge score`` computes with it.

Screenshots of every step go to the test's temporary folder (or ``XLBRIDGE_SCREENSHOTS``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from srvtest import SHIPPED, publish, shipped_doc

from xlbridge.csvio import read_records
from xlbridge.engine import compile_scheme, score_population
from xlbridge.scheme.load import scheme_from_data

SID = "meiling-street-quarterly"
RECORDS = SHIPPED / f"{SID}.records.csv"


@pytest.fixture
def database(sqlite_database):
    return sqlite_database


@pytest.fixture
def shots(tmp_path) -> Path:
    out = Path(os.environ.get("XLBRIDGE_SCREENSHOTS", tmp_path / "screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def _sign_in(browser, url: str, token: str, locale: str = "zh-CN"):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    page = context.new_page()
    page.goto(url + "/")
    page.fill("input[name=token]", token)
    page.click("form.login button[type=submit]")
    page.wait_for_url(url + "/")
    return context, page


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("xlbridge")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "xlbridge.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_edit_preview_submit_publish_sync_score(browser, live_server, client, auth, tokens,
                                                shots, tmp_path):
    publish(client, auth, shipped_doc(SID), note="首版")
    url = live_server.url

    # ------------------------------------------------------------------ the editor
    context, page = _sign_in(browser, url, tokens["editor"])
    page.click("text=梅岭街道机关事业单位工作人员季度绩效考核")
    page.wait_for_url(re.compile(f"/schemes/{SID}$"))
    page.click("#edit-actions button[type=submit]")  # 修改（从第 1 版新建草稿）
    page.wait_for_url(re.compile(f"/schemes/{SID}/draft$"))
    assert "将发布为第 2 版" in page.inner_text("h1")
    page.screenshot(path=str(shots / "01-editor.png"), full_page=False)

    weight = page.locator("input[name='f:parts[0].weight']")
    assert weight.input_value() == "60%"
    weight.fill("70%")
    message = page.locator("[id='msg:parts'] .msg.error")
    message.wait_for()
    assert "110%" in message.inner_text() and "100%" in message.inner_text()
    assert "有 1 个错误" in page.inner_text("#summary")
    assert "修正后才能预览" in page.inner_text("#preview")
    # the YAML view followed the form
    assert "weight: 70%" in page.input_value("#yaml")
    page.locator("#sec-parts").screenshot(path=str(shots / "02-weight-sum-error.png"))

    page.fill("input[name='f:parts[1].weight']", "30%")
    page.locator("#preview-summary").wait_for()
    assert page.locator("[id='msg:parts'] .msg").count() == 0
    assert "没有错误" in page.inner_text("#summary")
    # the description still says 60%/40%: the validator says it is stale
    assert "说明文字沿用第 1 版" in page.inner_text("#summary")
    preview = page.inner_text("#preview")
    assert "条结果改变" in preview and "meiling-street-quarterly@1" in preview
    first_change = page.locator("#changes tbody tr").first.inner_text()
    assert "王建国" in first_change and "86.9" in first_change and "89.7" in first_change
    page.locator("#preview").screenshot(path=str(shots / "03-preview.png"))

    page.fill("textarea[name='f:description']",
              "考评得分 = 工作考评 × 70% + 党政领导测评 × 30%（2024 年调整）。")
    page.wait_for_function("() => !document.querySelector('#summary').innerText"
                           ".includes('说明文字沿用')")
    page.click("#save")
    page.wait_for_url(re.compile(r"/draft\?saved=1$"))
    assert "草稿已保存" in page.inner_text("main")
    page.screenshot(path=str(shots / "04-saved.png"), full_page=False)

    page.click("text=提交审核")
    page.wait_for_url(re.compile(r"/draft/review$"))
    page.fill("textarea[name=note]", "工作考评权重改为70%，党政领导测评改为30%")
    page.click("#submit")
    page.wait_for_url(re.compile(r"/draft/review$"))
    assert "已提交审核" in page.inner_text("#decide")
    page.screenshot(path=str(shots / "05-submitted.png"), full_page=True)
    assert page.locator("#publish").count() == 0  # editors cannot publish
    context.close()

    # ------------------------------------------------------------------ the admin
    context, page = _sign_in(browser, url, tokens["admin"])
    assert "待审核" in page.inner_text("#draft-list")
    page.click("#draft-list >> text=审核与发布")
    page.wait_for_url(re.compile(r"/draft/review$"))
    changed = page.locator("#diff-rules tr.replace").all_inner_texts()
    assert any("60%" in row and "70%" in row for row in changed)
    assert page.input_value("textarea[name=note]") == "工作考评权重改为70%，党政领导测评改为30%"
    page.screenshot(path=str(shots / "06-review.png"), full_page=True)
    page.click("#publish")
    page.wait_for_url(re.compile(f"/schemes/{SID}/versions/2"))
    assert "已发布第 2 版" in page.inner_text("main")
    assert "工作考评（100分制）× 70%" in page.inner_text("#formula")
    assert "撰写于第 2 版" in page.inner_text("#author-note")
    page.screenshot(path=str(shots / "07-published.png"), full_page=True)
    context.close()

    audit = client.get(f"/api/audit?scheme={SID}", headers=auth("admin")).get_json()
    actions = [e["action"] for e in audit["entries"]]
    assert actions[:3] == ["scheme.publish", "draft.submit", "draft.update"]
    assert audit["entries"][0]["detail"]["note"] == "工作考评权重改为70%，党政领导测评改为30%"
    assert audit["entries"][0]["actor"] == "test-admin"

    # ------------------------------------------------------------------ an office syncs
    store = tmp_path / "store"
    env = {**os.environ, "XLBRIDGE_STORE": str(store), "XLBRIDGE_SCHEMES": ""}
    env.pop("XLBRIDGE_TOKEN", None)
    synced = _cli("sync", "--server", url, "--token", tokens["reader"], env=env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert f"{SID}@2" in synced.stdout + synced.stderr
    assert (store / SID / f"{SID}@2.json").is_file()

    scored = _cli("score", "--scheme", SID, "--input", str(RECORDS), "--json", env=env)
    assert scored.returncode == 0, scored.stderr
    out = json.loads(scored.stdout)
    assert out["scheme"] == f"{SID}@2"
    # exactly what the engine gives with the published document, record by record
    body = client.get(f"/api/schemes/{SID}/versions/2", headers=auth("reader")).data
    version2 = compile_scheme(scheme_from_data(json.loads(body)))
    assert version2.scheme.parts[0].weight * 100 == 70
    data = read_records(RECORDS, version2.inputs)
    engine = score_population(version2, data.rows, first_row=data.row_numbers)
    assert [(r["total"], r["grade"], r["payout"]) for r in out["records"]] == [
        (r.to_dict()["total"], r.grade, r.to_dict()["payout"]) for r in engine.records]
    wang = next(r for r in out["records"] if r["inputs"].get("name") == "王建国")
    assert wang["total"] == "89.7"


def test_the_editor_works_without_javascript(browser, live_server, client, auth, tokens,
                                             shots):
    publish(client, auth, shipped_doc(SID), note="首版")
    # a Chinese browser (Chromium's own locale is en-US, whose pages are now English)
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + f"/schemes/{SID}")
    page.fill("input[name=token]", tokens["editor"])
    page.click("form.login button[type=submit]")
    page.wait_for_url(re.compile(f"/schemes/{SID}$"))
    page.click("#edit-actions button[type=submit]")
    page.wait_for_url(re.compile("/draft$"))
    assert page.locator(".tabs").is_hidden() and page.locator("#yaml").is_visible()
    page.fill("input[name='f:parts[0].weight']", "70%")
    page.click("button[value=check]")  # the whole form is posted; nothing is stored
    assert "110%" in page.inner_text("[id='msg:parts']")
    assert "有未保存的修改" in page.inner_text("main")
    page.fill("input[name='f:parts[1].weight']", "30%")
    page.click("#save")
    page.wait_for_url(re.compile(r"/draft\?saved=1$"))
    assert "没有错误" in page.inner_text("#summary")
    assert "条结果改变" in page.inner_text("#preview")
    page.screenshot(path=str(shots / "08-without-javascript.png"), full_page=False)
    context.close()
    draft = client.get(f"/api/schemes/{SID}/draft", headers=auth("editor")).get_json()
    assert (draft["parts"][0]["weight"], draft["parts"][1]["weight"]) == ("70%", "30%")


def test_the_editor_in_english_and_the_language_switch(browser, live_server, client, auth,
                                                      tokens, shots):
    """A browser that asks for English gets the editor in English, its script's own message
    included (the page hands it the sentence); the switch goes to Chinese and stays there."""
    publish(client, auth, shipped_doc(SID), note="首版")
    url = live_server.url
    context, page = _sign_in(browser, url, tokens["editor"], locale="en-US")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("main h1").startswith("Drafts")
    page.goto(url + f"/schemes/{SID}")
    assert "Scoring rules" in page.inner_text("main")
    page.click("#edit-actions button[type=submit]")  # Change it (new draft from version 1)
    page.wait_for_url(re.compile(f"/schemes/{SID}/draft$"))
    assert "to be published as version 2" in page.inner_text("h1")
    page.fill("input[name='f:parts[0].weight']", "70%")
    message = page.locator("[id='msg:parts'] .msg.error")
    message.wait_for()
    assert message.inner_text().startswith("Error") and "110%" in message.inner_text()
    assert page.inner_text("#summary").startswith("1 error: fix before publishing")
    assert "The draft has errors; fix them to see a preview." in page.inner_text("#preview")
    page.screenshot(path=str(shots / "09-english-editor.png"), full_page=False)

    # signed out behind the page's back: the script's message is the page's English one
    context.clear_cookies()
    page.fill("input[name='f:parts[1].weight']", "30%")
    page.wait_for_function("() => document.querySelector('#summary').innerText"
                           ".includes('The check failed')")
    assert "The check failed (401): you may have been signed out." in page.inner_text("#summary")
    context.close()

    context, page = _sign_in(browser, url, tokens["editor"], locale="en-US")
    page.click("#language a")  # 中文
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.inner_text("main h1").startswith("草稿")
    page.goto(url + f"/schemes/{SID}/draft")  # the choice is kept over the browser's English
    assert "将发布为第 2 版" in page.inner_text("h1")
    page.screenshot(path=str(shots / "10-switched-to-chinese.png"), full_page=False)
    context.close()
