"""A browser that refuses storage (some private modes): the form says once, in a notice that
stays on every page and in both languages, that answers cannot be kept while the respondent
works, and it still works: the answers are submitted and stored."""
import json
import sys

from webharness import FORM_READY, FULL_ANSWERS, check, choose, fill, next_page, open_form, run, stored_form

NOTICE = "이 브라우저에서는 작성 중인 답변을 저장할 수 없습니다. 창을 닫기 전에 제출해 주십시오."
NOTICE_EN = "This browser cannot keep your answers while you work. Please submit before you close the window."
DENY = """Object.defineProperty(window, 'localStorage', {configurable: true, get: function () {
    throw new DOMException('storage is disabled', 'SecurityError'); }});"""


def notice(b, text):
    """The notice is shown (rendered text of the page, hidden elements excluded)."""
    return b.js("document.querySelector('main').innerText.includes(%s)" % json.dumps(text))


def test(env):
    env.wave("kr-2025")
    token = env.invite("kr-2025")[0]
    d = env.start_surveyd()
    b = env.start_browser("ko-KR")
    b.page("Page.addScriptToEvaluateOnNewDocument", {"source": DENY})
    open_form(b, d, "kr-2025", token)
    b.wait_for(FORM_READY, "the form")
    check(notice(b, NOTICE), "the first page says the answers cannot be kept")
    for q in ("role", "industry", "company_size", "region"):
        choose(b, q, FULL_ANSWERS[q])
    next_page(b)
    check(notice(b, NOTICE), "the notice is still there on the second page")
    b.click("#lang-switch")
    b.wait_for("document.documentElement.lang === 'en'", "English")
    check(notice(b, NOTICE_EN), "and in English after the switch")
    b.click("#lang-switch")
    b.wait_for("document.documentElement.lang === 'ko'", "Korean again")
    fill(b, FULL_ANSWERS)
    b.wait_for("document.querySelector('#end[data-end=thanks]')", "the thank-you page")
    rows = env.responses("kr-2025")
    check(len(rows) == 1 and rows[0][1] == stored_form(FULL_ANSWERS),
          "the answers are stored without the browser's storage")


sys.exit(run(test))
