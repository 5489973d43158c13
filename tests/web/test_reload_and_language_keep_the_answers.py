"""Answers survive a reload and a closed tab: the draft in the browser's storage brings back
every answer and the page the respondent was on. An English browser gets the English form;
the switch changes the language without losing an answer, and the choice is remembered."""
import sys

from webharness import FORM_READY, check, choose, next_page, open_form, run, visible_section


def test(env):
    env.wave("kr-2025")
    token = env.invite("kr-2025")[0]
    d = env.start_surveyd()
    b = env.start_browser("en-US")
    url = open_form(b, d, "kr-2025", token)
    b.wait_for(FORM_READY, "the form")
    check(b.js("document.documentElement.lang") == "en", "an English browser gets English")
    check(b.js("document.querySelector('h1').textContent") == "Generative AI Adoption Index 2025",
          "the English title")
    check(b.js("document.querySelector('#lang-switch').textContent") == "한국어",
          "the switch offers Korean")
    choose(b, "role", "head_of_it")
    choose(b, "industry", "retail")
    b.click("#lang-switch")
    b.wait_for("document.documentElement.lang === 'ko'", "Korean")
    check(b.js("document.querySelector('#question-role legend').textContent").startswith("귀하의 직책"),
          "the questions are in Korean after the switch")
    check(b.js("document.querySelector('#question-role input[value=head_of_it]').checked") and
          b.js("document.querySelector('#question-industry input[value=retail]').checked"),
          "the answers given in English are kept")
    check(b.js("document.activeElement.id") == "lang-switch", "focus stays on the switch")
    choose(b, "company_size", "mid")
    choose(b, "region", "gyeonggi_incheon")
    next_page(b)
    choose(b, "genai_stage", "production")
    choose(b, "use_cases", "software_development")
    choose(b, "use_cases", "other")

    b.reload()
    b.wait_for("document.querySelector('#form')", "the form after a reload")
    check(visible_section(b) == 1, "the reload comes back to the second section")
    check(b.js("document.documentElement.lang") == "ko", "and to Korean, the language chosen")
    check(b.js("[...document.querySelectorAll('#question-use_cases input:checked')].map(i => i.value).join()")
          == "software_development,other", "the use cases are restored")
    check(b.js("document.querySelector('#question-genai_stage input[value=production]').checked"),
          "the stage is restored")

    # A closed tab: a new page opened on the same link.
    b.page("Page.close")
    b.new_tab()
    b.goto(url)
    b.wait_for("document.querySelector('#form')", "the form in a new tab")
    b.click("#back")
    b.wait_for("document.querySelector('#section-0:not([hidden])')", "the first section")
    check(b.js("document.querySelector('#question-region input[value=gyeonggi_incheon]').checked") and
          b.js("document.querySelector('#question-role input[value=head_of_it]').checked"),
          "the first section's answers are there in a new tab")
    check(b.js("document.activeElement.id") == "st-0", "Back moves focus to the section heading")
    check(len(env.responses("kr-2025")) == 0, "nothing was submitted meanwhile")


sys.exit(run(test))
