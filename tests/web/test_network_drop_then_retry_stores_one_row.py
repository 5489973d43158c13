"""Never a duplicate, never a lost answer. (1) The server stores the submission but the browser
never sees the answer (the connection drops at the response): the page says so plainly, moves
focus to the retry button, and holds the answers exactly as sent (the form is read-only until
an answer is definite: an edit now would be a conflict with the stored row). The retry sends the
same body and is answered by the server's replay: one row, the original answers, the same
submission_id and receipt. Two submits in one task send one request. (2) The server is down when
the respondent submits: the request stays pending in the draft, and the page reloaded once the server is
back sends it again by itself: stored once. (3) A 503 with Retry-After is announced,
focus goes to "try again now", and it is retried automatically with the same body."""
import base64
import json
import sys

from webharness import FULL_ANSWERS, Surveyd, check, fill, open_form, run, stored_form

THANKS = "document.querySelector('#end[data-end=thanks]')"
RETRY_SHOWN = "document.querySelector('#retry')"


def draft_submission_id(b):
    return b.js("(() => { for (const v of Object.values(localStorage)) { const d = JSON.parse(v);"
                " if (d.submission_id) return d.submission_id; } return null; })()")


def posts(b):
    return [e["params"]["request"] for e in b.events if e.get("method") == "Network.requestWillBeSent"
            and e["params"]["request"]["method"] == "POST"]


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
    check(b.js("!document.querySelector('#next').disabled"), "the submit button is enabled")
    # Two submits in one task: the second arrives while the first is on its way (a double click
    # faster than any repaint, or Enter pressed twice).
    submits = b.js("""(() => { const f = document.querySelector('#form'); let n = 0;
        f.addEventListener('submit', () => n++);
        document.querySelector('#next').click(); f.requestSubmit(); return n; })()""")
    check(submits == 2, "two submit events reached the form in one task (%d)" % submits)
    paused = b.wait_event("Fetch.requestPaused")
    check(paused.get("responseStatusCode") == 201, "the server answered 201 (stored)")
    b.page("Fetch.failRequest", {"requestId": paused["requestId"], "errorReason": "ConnectionReset"})
    b.wait_for(RETRY_SHOWN, "the retry button after the dropped answer")
    status = b.js("document.querySelector('#status').textContent")
    check("연결이 끊겨" in status and "저장되어" in status,
          "the page says plainly that the answers were not confirmed and are kept: " + status)
    check(b.js("document.activeElement && document.activeElement.id") == "retry",
          "focus moves to the retry button")
    check(len(posts(b)) == 1, "the two submits sent one request (%d)" % len(posts(b)))
    check(len(env.responses("kr-2025")) == 1, "the server stored the submission once")
    sid = draft_submission_id(b)
    check(sid == env.responses("kr-2025")[0][0],
          "the draft keeps the submission_id that the server stored")

    # The respondent tries to change an answer: the form holds what was sent.
    check(b.js("[...document.querySelectorAll('#form input, #form textarea')].every(i => i.disabled)"),
          "every answer is read-only until the server's answer is known")
    before = b.js("document.querySelector('#q-comments').value")
    b.click("#q-comments")
    b.page("Input.insertText", {"text": " 수정"})
    check(b.js("document.querySelector('#q-comments').value") == before, "typing changes nothing")
    b.page("Fetch.disable")
    b.click("#retry")
    b.wait_for(THANKS, "the thank-you page after the retry")
    rows = env.responses("kr-2025")
    check(len(rows) == 1, "the retry stored no second row (%d)" % len(rows))
    check(rows[0][1] == stored_form(FULL_ANSWERS), "the row holds the original answers")
    bodies = [json.loads(p["postData"]) for p in posts(b)]
    check(len(bodies) == 2 and bodies[0] == bodies[1],
          "the retry sent exactly the body of the first request")
    receipt = env.sql("SELECT receipt_id FROM survey.responses WHERE submission_id = '%s'" % sid)[0][0]
    code = b.js("document.querySelector('#receipt').textContent")
    check(receipt.replace("-", "")[:16].upper() == code.replace("-", ""),
          "the replay's receipt is the stored row's")

    # (2) the server is down at submit time; the respondent reloads before it is back.
    open_form(b, d, "kr-2025", tokens[1])
    fill(b, FULL_ANSWERS, submit=False)
    port = d.port
    check(d.stop() == 0, "surveyd stopped cleanly (the server is down now)")
    env.daemons.remove(d)
    b.click("#next")
    b.wait_for(RETRY_SHOWN, "the retry button while the server is down")
    check(b.js("document.activeElement && document.activeElement.id") == "retry",
          "focus moves to the retry button")
    check(len(env.responses("kr-2025")) == 1, "nothing was stored while the server was down")
    sid = draft_submission_id(b)
    d2 = Surveyd(env, port=port)
    env.daemons.append(d2)
    # The respondent reloads once the server is back: the request still pending in the draft is
    # sent again by itself, and meanwhile the form shows the answers sent, read-only.
    b.page("Fetch.enable", {"patterns": [{"urlPattern": "*/responses", "requestStage": "Request"}]})
    b.reload()
    paused = b.wait_event("Fetch.requestPaused")
    check(json.loads(paused["request"]["postData"])["submission_id"] == sid,
          "after a reload the pending request is sent again, with its submission_id")
    b.wait_for("document.querySelector('#form')", "the reloaded form")
    check(b.js("document.querySelector('#question-role input[value=c_level]').checked") and
          b.js("[...document.querySelectorAll('#form input')].every(i => i.disabled)"),
          "the reloaded form shows the answers sent, read-only")
    b.page("Fetch.continueRequest", {"requestId": paused["requestId"]})
    b.page("Fetch.disable")
    b.wait_for(THANKS, "the thank-you page once the server is back")
    rows = env.responses("kr-2025")
    check(len(rows) == 2 and rows[1][0] == sid,
          "the second respondent's answers are stored once (%d)" % len(rows))

    # (3) 503 with Retry-After: told, then retried without a click, with the same body.
    open_form(b, d2, "kr-2025", tokens[2])
    fill(b, FULL_ANSWERS, submit=False)
    b.drop_events("Network.requestWillBeSent")
    b.page("Fetch.enable", {"patterns": [{"urlPattern": "*/responses", "requestStage": "Request"}]})
    b.click("#next")
    paused = b.wait_event("Fetch.requestPaused")
    first = json.loads(paused["request"]["postData"])
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
    check(b.js("document.activeElement && document.activeElement.id") == "retry",
          "focus moves to the 'try again now' button")
    b.wait_for(THANKS, "the automatic retry's thank-you page", 20)
    rows = env.responses("kr-2025")
    check(len(rows) == 3, "the automatic retry stored the third response once (%d)" % len(rows))
    bodies = [json.loads(p["postData"]) for p in posts(b)]
    check(len(bodies) == 2 and bodies[1] == first and rows[2][0] == first["submission_id"],
          "the automatic retry sent the same body with the same submission_id")


sys.exit(run(test))
