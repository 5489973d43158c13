"""Bad input gets a clear error and loses nothing. The form's own check refuses 12.34 for a
percentage with at most one decimal, at the field, with focus on it and nothing sent. A 422 from
the server (the request altered on its way, so that only the server sees the problem) is shown
at its field with the same message, on that question's page, with focus on it; the answers are
all still there, and the corrected form is stored with the same submission_id. The e-mail
check counts the local part in UTF-8 bytes as the server does, and answers too long for the
server's body limit (surveyd runs with --max-body-bytes 4096 here; the wave resource tells the
form) are refused at the longest text before anything is sent."""
import base64
import json
import sys

from webharness import (FULL_ANSWERS, FORM_READY, check, choose, fill, next_page, open_form, run,
                        visible_section)

MESSAGE = "소수점 이하 1자리까지 입력해 주십시오."
EMAIL_MESSAGE = "올바른 이메일 주소를 입력해 주십시오(예: name@example.com)."
TOO_LARGE = "답변이 너무 길어 보낼 수 없습니다. 이 답변을 줄여 주십시오."


def no_post(b):
    return not any(e.get("method") == "Network.requestWillBeSent" and e["params"]["request"]["method"] == "POST"
                   for e in b.events)


def test(env):
    env.wave("kr-2025")
    token = env.invite("kr-2025")[0]
    d = env.start_surveyd("--max-body-bytes", "4096")
    b = env.start_browser("ko-KR")
    open_form(b, d, "kr-2025", token)
    b.wait_for(FORM_READY, "the form")
    for q in ("role", "industry", "company_size", "region"):
        choose(b, q, FULL_ANSWERS[q])
    next_page(b)
    choose(b, "genai_stage", "production")
    choose(b, "use_cases", "analytics")
    next_page(b)

    # The client's own check.
    choose(b, "budget_top_priority", "genai")
    b.type_into("#q-genai_budget_share", "12.34")
    b.drop_events("Network.requestWillBeSent")
    b.click("#next")
    b.wait_for("document.querySelector('#e-genai_budget_share').textContent !== ''", "the field's error")
    check(b.js("document.querySelector('#e-genai_budget_share').textContent") == MESSAGE,
          "the form refuses 12.34 at the field: " + MESSAGE)
    check(b.js("document.activeElement.id") == "q-genai_budget_share", "focus is on the field")
    check(b.js("document.activeElement.getAttribute('aria-invalid')") == "true" and
          "e-genai_budget_share" in b.js("document.activeElement.getAttribute('aria-describedby')"),
          "the field is marked invalid and described by its error")
    check(b.js("document.querySelector('#summary a').textContent").endswith(MESSAGE),
          "the error summary links to the field")
    check(visible_section(b) == 2, "the form stays on the page")
    check(no_post(b), "nothing was sent")
    b.type_into("#q-genai_budget_share", "12.5")
    check(b.js("document.querySelector('#e-genai_budget_share').textContent") == "",
          "the error goes away once the answer is right")

    # The server's check: the request is altered in flight to carry 12.34.
    answers = dict(FULL_ANSWERS, genai_stage="production", use_cases=["analytics"])
    fill(b, answers, submit=False)

    # 30 Hangul syllables are 30 UTF-16 units but 90 UTF-8 bytes: more than the 64 of a local part.
    b.type_into("#q-contact_email", "가" * 30 + "@example.co.kr")
    b.drop_events("Network.requestWillBeSent")
    b.click("#next")
    b.wait_for("document.querySelector('#e-contact_email').textContent !== ''", "the e-mail's error")
    check(b.js("document.querySelector('#e-contact_email').textContent") == EMAIL_MESSAGE,
          "a local part of 90 bytes is refused at the field, as the server would")
    check(no_post(b), "by the form itself: nothing was sent")
    check(b.js("document.activeElement.id") == "q-contact_email", "focus is on the e-mail field")
    b.type_into("#q-contact_email", "가" * 21 + "@example.co.kr")
    check(b.js("document.querySelector('#e-contact_email').textContent") == "",
          "a local part of 63 bytes is accepted")
    answers["contact_email"] = "가" * 21 + "@example.co.kr"

    # Too long for the server's body limit, though within the question's 2,000 characters.
    b.type_into("#q-comments", "가나다라마바사아자차" * 150)
    b.click("#next")
    b.wait_for("document.querySelector('#e-comments').textContent !== ''", "the comments' error")
    check(b.js("document.querySelector('#e-comments').textContent") == TOO_LARGE,
          "answers over the server's body limit are refused at the longest text: " + TOO_LARGE)
    check(b.js("document.activeElement.id") == "q-comments", "focus is on that text")
    check(b.js("document.querySelector('#q-comments').value.length") == 1500, "the text is kept")
    check(no_post(b), "nothing was sent")
    b.type_into("#q-comments", answers["comments"])
    check(b.js("document.querySelector('#e-comments').textContent") == "",
          "the error goes away once the text is short enough")

    b.page("Fetch.enable", {"patterns": [{"urlPattern": "*/responses", "requestStage": "Request"}]})
    b.click("#next")
    paused = b.wait_event("Fetch.requestPaused")
    body = json.loads(paused["request"]["postData"])
    sid = body["submission_id"]
    body["answers"]["genai_budget_share"] = 12.34
    b.page("Fetch.continueRequest", {"requestId": paused["requestId"],
                                     "postData": base64.b64encode(json.dumps(body).encode()).decode()})
    resp = b.wait_event("Network.responseReceived", lambda p: p["response"]["url"].endswith("/responses"))
    check(resp["response"]["status"] == 422, "the server answered 422")
    b.page("Fetch.disable")
    b.wait_for("document.activeElement && document.activeElement.id === 'q-genai_budget_share'",
               "focus on the field the server named")
    check(visible_section(b) == 2, "the form went back to that question's page")
    check(b.js("document.querySelector('#e-genai_budget_share').textContent") == MESSAGE,
          "the server's error is shown at its field with the form's message")
    check(b.js("document.querySelector('#status').textContent") != "",
          "the problem is announced in the live region")
    check(len(env.responses("kr-2025")) == 0, "nothing was stored")
    check(b.js("document.querySelector('#q-genai_budget_share').value") == "12.5" and
          b.js("document.querySelector('#question-budget_top_priority input[value=genai]').checked"),
          "the answers on the page are intact")

    b.type_into("#q-genai_budget_share", "12.3")
    fill(b, {}, submit=True)
    b.wait_for("document.querySelector('#end[data-end=thanks]')", "the thank-you page")
    rows = env.responses("kr-2025")
    want = dict(answers, genai_budget_share=12.3)
    check(len(rows) == 1 and rows[0][1] == want, "the corrected answers are stored, all of them")
    check(rows[0][0] == sid, "with the same submission_id")


sys.exit(run(test))
