"""Bad input gets a clear error and loses nothing. The form's own check refuses 12.34 for a
percentage with at most one decimal, at the field, with focus on it and nothing sent. A 422 from
the server (the request altered on its way, so that only the server sees the problem) is shown
at its field with the same message, on that question's page, with focus on it; the answers are
all still there, and the corrected form is stored with the same submission_id."""
import base64
import json
import sys

from webharness import (FULL_ANSWERS, FORM_READY, check, choose, fill, next_page, open_form, run,
                        visible_section)

MESSAGE = "소수점 이하 1자리까지 입력해 주십시오."


def test(env):
    env.wave("kr-2025")
    token = env.invite("kr-2025")[0]
    d = env.start_surveyd()
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
    check(not any(e.get("method") == "Network.requestWillBeSent" and e["params"]["request"]["method"] == "POST"
                  for e in b.events), "nothing was sent")
    b.type_into("#q-genai_budget_share", "12.5")
    check(b.js("document.querySelector('#e-genai_budget_share').textContent") == "",
          "the error goes away once the answer is right")

    # The server's check: the request is altered in flight to carry 12.34.
    answers = dict(FULL_ANSWERS, genai_stage="production", use_cases=["analytics"])
    fill(b, answers, submit=False)
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
