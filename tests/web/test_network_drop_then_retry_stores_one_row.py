"""Never a duplicate, never a lost answer. (1) The server stores the submission but the browser
never sees the answer (the connection drops at the response): the page says so plainly, keeps
the answers, and the respondent's retry is answered by the server's replay: one row, the same
submission_id. A double click sends one request. (2) The server is down when the respondent
submits: after it is back, the retry stores the response once. (3) A 503 with Retry-After is
retried automatically after telling the respondent."""
import base64
import json
import sys

from webharness import FULL_ANSWERS, FORM_READY, Surveyd, check, fill, open_form, run

THANKS = "document.querySelector('#end[data-end=thanks]')"
RETRY_SHOWN = "document.querySelector('#retry')"


def draft_submission_id(b):
    return b.js("(() => { for (const v of Object.values(localStorage)) { const d = JSON.parse(v);"
                " if (d.submission_id) return d.submission_id; } return null; })()")


def test(env):
    env.wave("kr-2025")
    tokens = env.invite("kr-2025", 3)
    d = env.start_surveyd()
    b = env.start_browser("ko-KR")

    # (1) stored, answer lost on the way back.
    open_form(b, d, "kr-2025", tokens[0])
    fill(b, FULL_ANSWERS, submit=False)
    b.page("Fetch.enable", {"patterns": [{"urlPattern": "*/responses", "requestStage": "Response"}]})
    b.drop_events("Network.requestWillBeSent")
    b.click("#next")
    b.click("#next")  # a double click
    paused = b.wait_event("Fetch.requestPaused")
    check(paused.get("responseStatusCode") == 201, "the server answered 201 (stored)")
    b.page("Fetch.failRequest", {"requestId": paused["requestId"], "errorReason": "ConnectionReset"})
    b.wait_for(RETRY_SHOWN, "the retry button after the dropped answer")
    status = b.js("document.querySelector('#status').textContent")
    check("연결이 끊겨" in status and "저장되어" in status,
          "the page says plainly that the answers were not confirmed and are kept: " + status)
    posts = [e for e in b.events if e.get("method") == "Network.requestWillBeSent"
             and e["params"]["request"]["method"] == "POST"]
    check(len(posts) == 1, "the double click sent one request (%d)" % len(posts))
    check(len(env.responses("kr-2025")) == 1, "the server stored the submission once")
    sid = draft_submission_id(b)
    check(sid == env.responses("kr-2025")[0][0],
          "the draft keeps the submission_id that the server stored")
    b.page("Fetch.disable")
    b.click("#retry")
    b.wait_for(THANKS, "the thank-you page after the retry")
    rows = env.responses("kr-2025")
    check(len(rows) == 1, "the retry stored no second row (%d)" % len(rows))
    receipt = env.sql("SELECT receipt_id FROM survey.responses WHERE submission_id = '%s'" % sid)[0][0]
    code = b.js("document.querySelector('#receipt').textContent")
    check(receipt.replace("-", "")[:8].upper() == code.replace("-", ""),
          "the replay's receipt is the stored row's")

    # (2) the server is down at submit time.
    open_form(b, d, "kr-2025", tokens[1])
    fill(b, FULL_ANSWERS, submit=False)
    port = d.port
    check(d.stop() == 0, "surveyd stopped cleanly (the server is down now)")
    env.daemons.remove(d)
    b.click("#next")
    b.wait_for(RETRY_SHOWN, "the retry button while the server is down")
    check(len(env.responses("kr-2025")) == 1, "nothing was stored while the server was down")
    d2 = Surveyd(env, port=port)
    env.daemons.append(d2)
    b.click("#retry")
    b.wait_for(THANKS, "the thank-you page once the server is back")
    rows = env.responses("kr-2025")
    check(len(rows) == 2, "the retry stored the second respondent's answers once (%d)" % len(rows))

    # (3) 503 with Retry-After: told, then retried without a click.
    open_form(b, d2, "kr-2025", tokens[2])
    fill(b, FULL_ANSWERS, submit=False)
    b.page("Fetch.enable", {"patterns": [{"urlPattern": "*/responses", "requestStage": "Request"}]})
    b.click("#next")
    paused = b.wait_event("Fetch.requestPaused")
    problem = json.dumps({"type": "/problems/unavailable", "title": "The service is temporarily unavailable",
                          "status": 503, "detail": "try again"})
    b.page("Fetch.fulfillRequest", {
        "requestId": paused["requestId"], "responseCode": 503,
        "responseHeaders": [{"name": "Content-Type", "value": "application/problem+json"},
                            {"name": "Retry-After", "value": "1"}],
        "body": base64.b64encode(problem.encode()).decode()})
    b.page("Fetch.disable")
    b.wait_for("document.querySelector('#status').textContent.includes('서버가 잠시 바쁩니다')",
               "the busy message")
    b.wait_for(THANKS, "the automatic retry's thank-you page", 20)
    rows = env.responses("kr-2025")
    check(len(rows) == 3, "the automatic retry stored the third response once (%d)" % len(rows))


sys.exit(run(test))
