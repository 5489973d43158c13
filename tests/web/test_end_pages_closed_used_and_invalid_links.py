"""The end states, in Korean and in English: a closed wave (when the form opens, and 410 on a
submission after it closed), a link already used (409 invitation_used), a link that is not
valid (401, and no token at all on an invitation wave), and an unknown survey. A survey that
could not be loaded says so in the live region and offers to try again. (And the harness's
Content-Security-Policy listener is shown to catch a violation.)"""
import json
import sys
import uuid

from webharness import FULL_ANSWERS, FORM_READY, check, fill, https_request, open_form, run, stored_form


def end_page(b, kind, ko, en):
    b.wait_for("document.querySelector('#end[data-end=%s]')" % kind, "the %s page" % kind)
    check(b.js("document.querySelector('#end-title').textContent") == ko,
          "the %s page says: %s" % (kind, ko))
    b.click("#lang-switch")
    b.wait_for("document.documentElement.lang === 'en'", "English")
    check(b.js("document.querySelector('#end-title').textContent") == en,
          "in English: %s" % en)
    b.click("#lang-switch")
    b.wait_for("document.documentElement.lang === 'ko'", "Korean again")


def test(env):
    env.wave("kr-2025")
    env.wave("kr-old", status="closed")
    tokens = env.invite("kr-2025", 3)
    d = env.start_surveyd()
    b = env.start_browser("ko-KR")

    open_form(b, d, "kr-old", "AAAAAAAAAAAAAAAAAAAAAAAA")
    end_page(b, "closed", "이 설문은 마감되었습니다", "This survey is closed")

    # Used: the link's answers already came from elsewhere.
    body = json.dumps({"submission_id": str(uuid.uuid4()), "token": tokens[0],
                       "answers": stored_form(FULL_ANSWERS)})
    status, _, _ = https_request(d.port, "POST", "/v1/waves/kr-2025/responses", body,
                                 {"Content-Type": "application/json"})
    check(status == 201, "the first use of the link is stored")
    open_form(b, d, "kr-2025", tokens[0])
    fill(b, FULL_ANSWERS)
    end_page(b, "used", "이미 사용된 링크입니다", "This link was already used")

    open_form(b, d, "kr-2025", "bogus-token-0123456789abcdef")
    fill(b, FULL_ANSWERS)
    end_page(b, "invalid", "유효하지 않은 링크입니다", "This link is not valid")

    open_form(b, d, "kr-2025")
    end_page(b, "invalid", "유효하지 않은 링크입니다", "This link is not valid")

    # The questionnaire does not arrive: announced, not left busy; "try again" loads it.
    b.page("Fetch.enable", {"patterns": [{"urlPattern": "*/questionnaire", "requestStage": "Request"}]})
    open_form(b, d, "kr-2025", tokens[1])
    paused = b.wait_event("Fetch.requestPaused")
    b.page("Fetch.failRequest", {"requestId": paused["requestId"], "errorReason": "ConnectionRefused"})
    b.page("Fetch.disable")
    b.wait_for("document.querySelector('#reload')", "the load failure")
    check(b.js("document.querySelector('#status').textContent") ==
          "설문을 불러오지 못했습니다. 연결을 확인한 뒤 다시 시도해 주십시오.",
          "the failure is announced in the live region")
    check(b.js("document.querySelector('#app').getAttribute('aria-busy')") == "false",
          "the page is no longer marked busy")
    b.click("#reload")
    b.wait_for(FORM_READY, "the form after trying again")
    check(b.js("document.querySelector('#status').textContent") == "", "the message is gone")

    open_form(b, d, "no-such-wave", tokens[1])
    b.wait_for("document.querySelector('#end[data-end=not_found]')", "the not-found page")
    check(b.js("document.querySelector('#end-title').textContent") == "설문을 찾을 수 없습니다",
          "an unknown survey says so")

    # Closed while the respondent was answering: the submission gets 410.
    open_form(b, d, "kr-2025", tokens[2])
    fill(b, FULL_ANSWERS, submit=False)
    env.admin_cli("wave", "close", "kr-2025")
    b.click("#next")
    end_page(b, "closed", "이 설문은 마감되었습니다", "This survey is closed")
    check(len(env.responses("kr-2025")) == 1, "only the first use was stored")
    check("finance" not in b.js("JSON.stringify(Object.values(localStorage))"),
          "no answer is kept on the device for links that can no longer be used")

    # The harness notices a violation of the policy (an inline style here), so that its
    # "no violation" check at the end of every test means something.
    b.js("document.head.appendChild(Object.assign(document.createElement('style'), {textContent: 'p {}'}))")
    v = b.wait_event("Runtime.bindingCalled", lambda p: p.get("name") == b.CSP_BINDING)
    check("style-src" in json.loads(v["payload"])["directive"],
          "an inline style is reported as a violation: %s" % v["payload"])


sys.exit(run(test))
