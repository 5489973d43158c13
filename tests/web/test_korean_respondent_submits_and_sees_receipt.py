"""A respondent with a Korean browser fills in the bundled questionnaire with the mouse and the
keyboard's typing, submits, and sees the thank-you page with a receipt code; the database holds
exactly one row with exactly the answers chosen. Once done, the spent token leaves the address
bar (and the history entry), and the link opened again still shows the receipt. Both pages fit
a 360 px phone without horizontal scrolling; screenshots of them at 360 and 1280 px are kept as
artefacts."""
import json
import os
import sys

from webharness import (FULL_ANSWERS, FORM_READY, artifacts_dir, check, check_screenshot, fill,
                        open_form, run, stored_form)


def test(env):
    env.wave("kr-2025")
    token = env.invite("kr-2025")[0]
    d = env.start_surveyd()
    b = env.start_browser("ko-KR")
    open_form(b, d, "kr-2025", token)
    b.wait_for(FORM_READY, "the form's first section")
    check(b.js("document.documentElement.lang") == "ko", "the page is in Korean for a Korean browser")
    check(b.js("document.querySelector('h1').textContent") == "생성형 AI 도입 지수 2025",
          "the questionnaire's Korean title is the heading")
    check(b.js("document.querySelector('#progress-text').textContent").startswith("섹션 1/6"),
          "the progress says section 1 of 6")
    check(b.js("document.querySelector('#question-role legend').textContent").startswith("귀하의 직책"),
          "the first question is asked in Korean inside a fieldset legend")
    check(b.js("document.querySelector('#lang-switch').textContent") == "English",
          "an English switch is offered")

    out = artifacts_dir()
    w = b.layout_width(360)
    check(w <= 360, "the first page fits 360 px without horizontal scrolling (%d)" % w)
    for width in (360, 1280):
        data = b.screenshot(os.path.join(out, "first-page-%d.png" % width), width)
        check_screenshot(data, width, "first page at %d px" % width)

    fill(b, FULL_ANSWERS)
    b.wait_for("document.querySelector('#end[data-end=thanks]')", "the thank-you page", 20)
    code = b.js("document.querySelector('#receipt').textContent")
    check(b.js("document.querySelector('#end-title').textContent") == "감사합니다",
          "the thank-you page is in Korean")
    check(len(code) == 19 and [code[i] for i in (4, 9, 14)] == ["-"] * 3,
          "a receipt code of 16 hex digits in groups of four is shown: %s" % code)
    check(b.js("document.activeElement.id") == "end-title",
          "focus moves to the thank-you heading (announced to screen readers)")
    here = b.js("location.href")
    check(token not in here and "t=" not in b.js("location.search"),
          "the spent token is gone from the address bar: %s" % here)
    history = [e["url"] for e in b.page("Page.getNavigationHistory")["entries"]]
    check(not any(token in u for u in history), "and from the history: %s" % history)
    w = b.layout_width(360)
    check(w <= 360, "the thank-you page fits 360 px without horizontal scrolling (%d)" % w)
    for width in (360, 1280):
        data = b.screenshot(os.path.join(out, "thank-you-%d.png" % width), width)
        check_screenshot(data, width, "thank-you page at %d px" % width)

    rows = env.responses("kr-2025")
    check(len(rows) == 1, "exactly one response is stored (%d)" % len(rows))
    sid, answers, screened = rows[0]
    check(answers == stored_form(FULL_ANSWERS),
          "the stored answers are exactly the ones chosen: %s" % json.dumps(answers, ensure_ascii=False))
    check(not screened, "the response is not screened out")
    receipt = env.sql("SELECT receipt_id FROM survey.responses WHERE submission_id = '%s'" % sid)[0][0]
    check(receipt.replace("-", "")[:16].upper() == code.replace("-", ""),
          "the receipt code is the start of the stored receipt id")
    used = env.sql("SELECT count(*) FROM survey.invitations WHERE response_id IS NOT NULL")[0][0]
    check(used == "1", "the invitation is marked used")

    # Opening the link again shows the receipt, not an empty form; the answers left the device.
    b.reload()
    b.wait_for("document.querySelector('#end[data-end=thanks]')", "the thank-you page again")
    check(b.js("document.querySelector('#receipt').textContent") == code,
          "the link opened again shows the same receipt")
    check(token not in b.js("location.href"), "the reloaded address holds no token either")
    open_form(b, d, "kr-2025", token)
    b.wait_for("document.querySelector('#end[data-end=thanks]')", "the thank-you page from the link")
    check(b.js("document.querySelector('#receipt').textContent") == code,
          "the invitation link opened again shows the same receipt")
    draft = b.js("JSON.stringify(Object.values(localStorage))")
    check("appointed" not in draft and "finance" not in draft,
          "no answer is left in the browser's storage after the receipt")


sys.exit(run(test))
