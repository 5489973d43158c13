"""On an open wave (no invitation) one browser may serve several people, one after another. Each
response has a draft of its own, named by a random id in the address's fragment (#d=...): a
reload keeps the answers, while the plain link opened by the next person starts an empty form
and never shows the previous person's answers, e-mail address or thank-you page. "Start a new
response" (asked twice, so that a stray click loses nothing) leaves an empty form and removes
the previous answers from the device; so does the one on the thank-you page."""
import sys

from webharness import FORM_READY, FULL_ANSWERS, check, choose, fill, open_form, run

EMPTY = "document.querySelector('#question-role input:checked') === null"


def test(env):
    env.wave("open-2025", access="open")
    d = env.start_surveyd()
    b = env.start_browser("ko-KR")

    # The first person answers part of the form, e-mail included.
    open_form(b, d, "open-2025")
    b.wait_for(FORM_READY, "the form")
    first = b.js("location.hash")
    check(first.startswith("#d=") and len(first) >= 19, "the address names this response: " + first)
    fill(b, dict(FULL_ANSWERS, contact_email="first@example.com"), submit=False)
    b.reload()
    b.wait_for("document.querySelector('#form')", "the form after a reload")
    check(b.js("location.hash") == first and
          b.js("document.querySelector('#q-contact_email').value") == "first@example.com",
          "a reload keeps this response's answers")

    # The next person opens the survey's link.
    open_form(b, d, "open-2025")
    b.wait_for(FORM_READY, "the form for the next person")
    second = b.js("location.hash")
    check(second.startswith("#d=") and second != first, "a new response id: " + second)
    check(b.js(EMPTY) and b.js("document.querySelector('#q-contact_email').value") == "",
          "the next person starts with an empty form, without the previous e-mail address")

    # Start again on purpose: asked first, then done; the old answers leave the device.
    choose(b, "role", "head_of_it")
    b.click("#restart")
    b.wait_for("document.querySelector('#restart-confirm')", "the confirmation")
    check(b.js("document.querySelector('#question-role input[value=head_of_it]').checked"),
          "one press only asks; nothing is cleared yet")
    check(b.js("document.activeElement.id") == "restart-confirm", "focus is on the confirmation")
    b.click("#restart-cancel")
    check(b.js("!document.querySelector('#restart-confirm')") and
          b.js("document.querySelector('#question-role input[value=head_of_it]').checked"),
          "cancel keeps the answers")
    b.click("#restart")
    b.wait_for("document.querySelector('#restart-confirm')", "the confirmation again")
    b.drop_events("Page.loadEventFired")
    b.click("#restart-confirm")
    b.wait_event("Page.loadEventFired")
    b.wait_for(FORM_READY, "a new empty form")
    third = b.js("location.hash")
    check(third not in (first, second) and b.js(EMPTY), "a new empty response: " + third)
    check("head_of_it" not in b.js("JSON.stringify(Object.values(localStorage))"),
          "the discarded answers left the device")

    # The first person's own address still holds their answers; they submit. (about:blank
    # first: a change of fragment alone would not load the page again.)
    b.goto("about:blank")
    b.goto(d.url("/s/open-2025" + first))
    b.wait_for("document.querySelector('#form')", "the first person's form")
    check(b.js("document.querySelector('#q-contact_email').value") == "first@example.com",
          "the first person's address brings back their answers")
    b.click("#next")
    b.wait_for("document.querySelector('#end[data-end=thanks]')", "the thank-you page")
    rows = env.responses("open-2025")
    check(len(rows) == 1 and rows[0][1].get("contact_email") == "first@example.com",
          "the first person's response is stored")

    # The next person after them gets a form, not their thank-you page; the page's own
    # "start a new response" does the same.
    open_form(b, d, "open-2025")
    b.wait_for(FORM_READY, "an empty form after someone else's receipt")
    check(b.js(EMPTY), "the next person does not see the previous receipt")
    b.goto("about:blank")
    b.goto(d.url("/s/open-2025" + first))
    b.wait_for("document.querySelector('#end[data-end=thanks]')", "the receipt at its own address")
    b.drop_events("Page.loadEventFired")
    b.click("#new-response")
    b.wait_event("Page.loadEventFired")
    b.wait_for(FORM_READY, "a new form from the thank-you page")
    check(b.js(EMPTY) and b.js("location.hash") != first, "a new, empty response")
    check("first@example.com" not in b.js("JSON.stringify(Object.values(localStorage))"),
          "the e-mail address is nowhere in the browser's storage")


sys.exit(run(test))
