"""A respondent who uses only the keyboard (Tab, arrows, Space, Enter and typing) completes the
form: every control is reachable in order, every focused control shows a visible focus ring,
and the stored answers are the ones chosen."""
import sys

from webharness import FORM_READY, TestFailure, check, open_form, run, stored_form

# The page on show ("" while none is), read in one evaluation.
VISIBLE_SECTION = ("(s => s ? s.dataset.section : '')("
                   "document.querySelector('section[data-section]:not([hidden])'))")

ANSWERS = {
    "role": "vp_director",
    "industry": "manufacturing",
    "company_size": "small",
    "region": "other",
    "genai_stage": "production",
    "use_cases": ["document_processing"],
    "budget_top_priority": "security",
    "genai_budget_share": "7",
    "caio": "planned",
    "change_mgmt": "in_place",
    "training": "no_plan",
    "hiring_genai_2025": "unsure",
    "approach": ["undecided"],
    "contact_email": "cio@example.co.kr",
}

FOCUS = """(() => { const e = document.activeElement; if (!e) return null;
  const s = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), type: e.type || '', name: e.name || '', id: e.id,
          value: e.value === undefined ? '' : String(e.value), checked: !!e.checked,
          ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; })()"""


def test(env):
    env.wave("kr-2025")
    token = env.invite("kr-2025")[0]
    d = env.start_surveyd()
    b = env.start_browser("ko-KR")
    open_form(b, d, "kr-2025", token)
    b.wait_for(FORM_READY, "the form")
    unringed, ringed, presses, typed = [], 0, 0, set()
    while not b.js("!!document.querySelector('#end')"):
        presses += 1
        if presses > 400:
            raise TestFailure("the form was not completed within 400 key presses")
        f = b.js(FOCUS) or {}
        control = f.get("tag") in ("input", "textarea", "button", "a")
        if control and not f["ring"]:
            unringed.append(f.get("id"))
        elif control:
            ringed += 1
        want = ANSWERS.get(f.get("name"))
        if f.get("type") == "radio" and want is not None:
            if f["value"] != want:
                b.key("ArrowDown")  # moves to the next option and chooses it
            elif not f["checked"]:
                b.key(" ")
            else:
                b.key("Tab")
        elif f.get("type") == "checkbox" and want is not None:
            if (f["value"] in want) != f["checked"]:
                b.key(" ")
            b.key("Tab")
        elif f.get("tag") in ("input", "textarea") and want is not None and f["name"] not in typed:
            b.page("Input.insertText", {"text": want})
            typed.add(f["name"])
            b.key("Tab")
        elif f.get("id") == "next":
            section = b.js(VISIBLE_SECTION)
            b.key("Enter")
            # The next page, the end page, or the form's refusal. Not the status line: it
            # also says "submitting" while the last page is on its way, before the end page.
            b.wait_for("document.querySelector('#end') || "
                       "document.querySelector('#summary:not([hidden])') || "
                       "(s => s && s.dataset.section !== '%s')("
                       "document.querySelector('section[data-section]:not([hidden])'))" % section,
                       "the next page after Enter")
            if b.js("!!document.querySelector('#summary:not([hidden])')"):
                raise TestFailure("the form refused a page: " + b.js("document.querySelector('#summary').textContent"))
        else:
            b.key("Tab")
    b.wait_for("document.querySelector('#end[data-end=thanks]')", "the thank-you page")
    check(b.mouse_events == 0 and presses < 400,
          "the form was completed with %d key presses and %d mouse events" % (presses, b.mouse_events))
    check(ringed > 30 and not unringed,
          "every focused control showed a focus ring (%d seen; missing on: %s)" % (ringed, unringed))
    rows = env.responses("kr-2025")
    check(len(rows) == 1 and rows[0][1] == stored_form(dict(ANSWERS, genai_budget_share="7")),
          "the stored answers are the ones chosen by keyboard: %s" % (rows[0][1] if rows else None))


sys.exit(run(test))
