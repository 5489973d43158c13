"""Skip logic applied live: use_cases appears only while genai_stage is experimenting or
production; while hidden its answer is kept (a stray click loses nothing) but never sent.
Screen-out: role = other hides everything after it, and passing through it (an arrow key on the
radio group) and back keeps every later answer; submitted there, the form ends politely with
the rule's own message, and a screened-out response holding only the role is stored."""
import sys

from webharness import FULL_ANSWERS, FORM_READY, check, choose, fill, next_page, open_form, run

SHOWN = "!document.querySelector('#question-use_cases').hidden"


def test(env):
    env.wave("kr-2025")
    tokens = env.invite("kr-2025", 2)
    d = env.start_surveyd()
    b = env.start_browser("ko-KR")

    open_form(b, d, "kr-2025", tokens[0])
    b.wait_for(FORM_READY, "the form")
    for q in ("role", "industry", "company_size", "region"):
        choose(b, q, FULL_ANSWERS[q])
    next_page(b)
    check(not b.js(SHOWN), "use_cases is hidden while genai_stage is unanswered")
    for stage, shown in (("none", False), ("exploring", False), ("experimenting", True),
                         ("production", True)):
        choose(b, "genai_stage", stage)
        check(b.js(SHOWN) == shown, "use_cases is %s when genai_stage is %s" % (
            "shown" if shown else "hidden", stage))
    choose(b, "use_cases", "marketing")
    check(b.js("document.querySelector('#question-use_cases input[value=marketing]').checked"),
          "a use case is chosen while the question is shown")
    choose(b, "genai_stage", "exploring")
    check(not b.js(SHOWN), "use_cases hides again when genai_stage becomes exploring")
    check("marketing" in b.js("JSON.stringify(Object.values(localStorage))"),
          "the hidden answer is kept in the draft (a stray click loses nothing)")
    choose(b, "genai_stage", "experimenting")
    check(b.js("document.querySelector('#question-use_cases input[value=marketing]').checked"),
          "shown again, use_cases still holds the answer given before")
    choose(b, "genai_stage", "exploring")
    answers = dict(FULL_ANSWERS, genai_stage="exploring")
    del answers["use_cases"]
    fill(b, answers)
    b.wait_for("document.querySelector('#end[data-end=thanks]')", "the thank-you page")
    rows = env.responses("kr-2025")
    check(len(rows) == 1, "one response stored")
    check("use_cases" not in rows[0][1] and rows[0][1]["genai_stage"] == "exploring",
          "the hidden question's answer was not sent")

    # Screen-out, on the second invitation (a draft of its own).
    open_form(b, d, "kr-2025", tokens[1])
    b.wait_for(FORM_READY, "the form for the second invitation")
    check(b.js("document.querySelector('#question-role input:checked') === null"),
          "the second link starts with an empty form")
    for q in ("role", "industry", "company_size", "region"):
        choose(b, q, FULL_ANSWERS[q])
    next_page(b)
    choose(b, "genai_stage", "production")
    choose(b, "use_cases", "analytics")
    b.click("#back")
    b.wait_for(FORM_READY, "the first section again")
    # The arrow keys pass through every option of a radio group: head_of_it -> other -> c_level.
    choose(b, "role", "head_of_it")
    b.key("ArrowDown")
    check(b.js("document.querySelector('#question-role input[value=other]').checked"),
          "the arrow key chose other, the screen-out option")
    check(b.js("['industry', 'company_size', 'region'].every(q => document.querySelector('#question-' + q).hidden)"),
          "role = other hides the rest of the form")
    b.key("ArrowDown")
    check(b.js("document.querySelector('#question-role input[value=c_level]').checked"),
          "the next arrow key chose c_level")
    check(b.js("['industry', 'company_size', 'region'].every(q => document.querySelector("
               "'#question-' + q + ' input:checked'))"),
          "passing through other kept the answers after it on this page")
    next_page(b)
    check(b.js("document.querySelector('#question-genai_stage input[value=production]').checked") and
          b.js("document.querySelector('#question-use_cases input[value=analytics]').checked"),
          "and on the next page")
    b.click("#back")
    b.wait_for(FORM_READY, "the first section once more")
    choose(b, "role", "other")
    check(b.js("['industry', 'company_size', 'region'].every(q => document.querySelector('#question-' + q).hidden)"),
          "role = other hides the rest of the form")
    check(b.js("document.querySelector('#next').textContent") == "제출",
          "the button says submit: the form ends here")
    check(b.js("document.querySelector('#progress-text').textContent").startswith("섹션 1/1"),
          "the progress says this is the last section")
    b.click("#next")
    b.wait_for("document.querySelector('#end[data-end=screened]')", "the screened-out end page")
    check(b.js("document.querySelector('#end-text').textContent").startswith("시간을 내어 주셔서 감사합니다"),
          "the end page shows the rule's Korean message")
    check(b.js("document.querySelector('#end-title').textContent") == "참여해 주셔서 감사합니다",
          "the end page thanks the respondent")
    rows = env.responses("kr-2025")
    check(len(rows) == 2, "a second response is stored")
    check(rows[1][1] == {"role": "other"} and rows[1][2],
          "it is screened out and holds only the role, none of the hidden answers: %s" % rows[1][1])
    check("analytics" not in b.js("JSON.stringify(Object.values(localStorage))"),
          "the hidden answers left the browser's storage with the receipt")


sys.exit(run(test))
