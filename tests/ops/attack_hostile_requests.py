#!/usr/bin/env python3
"""
A corpus of hostile requests against surveyd with its default limits: broken JSON, deep
nesting, huge numbers, invalid UTF-8, NUL bytes, duplicate keys, 1 MB strings, SQL and script
injection strings in every field of the envelope and the answers, in the path and the headers,
and header floods. Each gets the right 4xx problem document (status, type, safety headers, no
echo of the hostile input); nothing is stored, except where the hostile string is a legitimate
answer (free text), which is stored byte for byte and harms nothing. The daemon never crashes,
keeps its own log format, holds no more descriptors afterwards than before, and exits 0 (under
ASan: without a leak report) on SIGTERM.

usage: attack_hostile_requests.py SURVEYD (run through ctest: a fresh database in $DATABASE_URL)
"""

import json
import os
import re
import socket
import ssl
import sys
import uuid

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
from opslib import check, log  # noqa: E402

WAVE = "hostile"
INVITE_WAVE = "hostile-invite"
PATH = "/v1/waves/%s/responses" % WAVE

INJECTIONS = [
    "'; DROP TABLE survey.responses; --",
    "\" OR \"1\"=\"1",
    "1); SELECT pg_sleep(10); --",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}}${7*7}",
    "${jndi:ldap://127.0.0.1/a}",
    "../../../../etc/passwd",
    "%00%0d%0aSet-Cookie: a=b",
    "\r\nX-Injected: 1",
]
state = {"n": 0, "expect_stored": {}}


def sid():
    state["n"] += 1
    return str(uuid.UUID(int=(0xbad << 116) | state["n"], version=4))


def exchange(raw, port=None, timeout=15):
    """Send raw bytes on a new TLS connection and read until the server closes: (status,
    headers dict, body bytes); status 0 when no HTTP answer came."""
    port = port or state["surveyd"].port
    data = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as tcp:
            with state["ctx"].wrap_socket(tcp, server_hostname="localhost") as s:
                s.sendall(raw)
                while True:
                    try:
                        b = s.recv(65536)
                    except (ssl.SSLError, ConnectionResetError):
                        break
                    if not b:
                        break
                    data += b
    except (OSError, ssl.SSLError) as e:
        log("exchange: %r" % e)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0]) if lines else None
    if m is None:
        return 0, {}, data
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", len(body)))
    return int(m.group(1)), headers, body[:n]


def post(body, path=PATH, content_type="application/json", extra_headers=b""):
    if isinstance(body, str):
        body = body.encode()
    raw = (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
           b"Content-Type: " + content_type.encode() + b"\r\nContent-Length: " +
           str(len(body)).encode() + b"\r\n" + extra_headers + b"\r\n" + body)
    return exchange(raw)


def expect(name, answer, status, ptype, hostile=None):
    """Check one answer: status, problem type, problem+json with the safety headers, and that
    none of the hostile bytes came back."""
    st, headers, body = answer
    ok = check(st == status, "%s: status %d (got %d)" % (name, status, st))
    if status >= 400:
        ctype = headers.get("content-type", "")
        ok &= check(ctype.startswith("application/problem+json"),
                    "%s: problem+json (got %r)" % (name, ctype))
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
            ok &= check(False, "%s: the body is JSON" % name)
        types = ptype if isinstance(ptype, tuple) else (ptype,)
        ok &= check(doc.get("type") in ["/problems/" + t for t in types],
                    "%s: type /problems/%s (got %r)" % (name, "|".join(types), doc.get("type")))
        ok &= check(doc.get("status") == status, "%s: the document's status" % name)
    for h in ("strict-transport-security", "x-content-type-options", "cache-control"):
        ok &= check(h in headers, "%s: header %s" % (name, h))
    for s in hostile or []:
        if len(s) >= 6:
            ok &= check(s.encode() not in body, "%s: the hostile input is not echoed" % name)
    if not ok:
        log("%s: answer %d %r" % (name, st, body[:400]))
    state.setdefault("cases", 0)
    state["cases"] += 1


def envelope(s=None, answers=None, **kw):
    doc = {"submission_id": s or sid(), "answers": answers or opslib.answers()}
    doc.update(kw)
    return json.dumps(doc)


def setup():
    state["work"] = opslib.Workdir("ops-hostile-")
    state["db"] = opslib.Database(os.environ["SURVEY_TEST_DB"])
    state["db"].wave(WAVE)
    state["db"].wave(INVITE_WAVE, access="invite")
    # The default limits (64 KiB bodies, 8 KiB heads), as deployed; no rate limit in the way.
    state["surveyd"] = opslib.start_surveyd(state, extra=["--rate-limit", "0"])
    state["fds_before"] = state["surveyd"].fds()


def broken_json_is_400_malformed_json():
    for i, body in enumerate(['{"submission_id": "', "{", "[]", "null", '"x"', "{}}", "{'a':1}",
                              '{"a":1,}', "", " ", "\ufeff{}", "{\"a\" 1}", "tru",
                              '{"submission_id":"%s","answers":{}} x' % sid()]):
        expect("broken json %d" % i, post(body), 400 if body.strip() else 400, "malformed_json")


def deep_nesting_is_refused():
    for depth in (33, 1000, 20000):
        body = '{"submission_id":"%s","answers":{"comments":%s1%s}}' % (sid(), "[" * depth,
                                                                       "]" * depth)
        if len(body) > 65536:
            expect("nesting %d" % depth, post(body), 413, "body_too_large")
        else:
            expect("nesting %d" % depth, post(body), 400, "malformed_json")
    # Objects, just inside the body limit.
    body = '{"submission_id":"%s","answers":%s1%s}' % (sid(), '{"a":' * 5000, "}" * 5000)
    expect("object nesting 5000", post(body), 400, "malformed_json")


def huge_numbers_are_refused():
    for n in ("1e999", "-1e999", "9" * 200, "1" + "0" * 130 + ".5"):
        body = envelope(answers=None).replace('"approach"', '"genai_budget_share":%s,"approach"'
                                              % n)
        expect("number %s" % n[:12], post(body), 400, "malformed_json")
    for n in ("1e308", "123456789012345678901234567890", "-5", "100.05", "0.123456"):
        body = envelope().replace('"approach"', '"genai_budget_share":%s,"approach"' % n)
        expect("out of range %s" % n[:12], post(body), 422, "validation_failed")
    # A number where a UUID or an option code belongs.
    expect("number as submission_id", post('{"submission_id":1e400,"answers":{}}'), 400,
           "malformed_json")
    expect("number as option", post(envelope(answers=opslib.answers(caio=1e300))), 422,
           "validation_failed")


def invalid_utf8_and_nul_bytes_are_refused():
    base = envelope(answers=opslib.answers(comments="MARK")).encode()
    for name, bad in (("lone continuation", b"\x80"), ("0xff", b"\xff\xfe"),
                      ("overlong slash", b"\xc0\xaf"), ("overlong NUL", b"\xc0\x80"),
                      ("encoded surrogate", b"\xed\xa0\x80"), ("beyond U+10FFFF", b"\xf4\x90\x80\x80"),
                      ("truncated", b"\xe2\x82"), ("raw NUL", b"\x00"), ("raw control", b"\x01"),
                      ("escaped NUL", b"\\u0000"), ("lone escaped surrogate", b"\\ud800"),
                      ("raw newline", b"\n")):
        expect("utf-8: %s" % name, post(base.replace(b"MARK", b"a" + bad + b"b")), 400,
               "malformed_json")
    expect("NUL after the document", post(base + b"\x00"), 400, "malformed_json")
    expect("NUL in a key", post(base.replace(b'"comments"', b'"comm\\u0000ents"')), 400,
           "malformed_json")
    # NUL in the request head is a framing error.
    raw = (b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: local\x00host\r\nConnection: close\r\n"
           b"Content-Length: 2\r\n\r\n{}")
    expect("NUL in a header", exchange(raw), 400, "malformed_request")


def duplicate_keys_are_refused():
    s = sid()
    expect("duplicate submission_id",
           post('{"submission_id":"%s","submission_id":"%s","answers":{}}' % (s, sid())), 400,
           "malformed_json")
    body = envelope().replace('"caio": "no"', '"caio": "no", "caio": "appointed"')
    check('"caio": "appointed"' in body, "the duplicate is in the body")
    expect("duplicate answer", post(body), 400, "malformed_json")
    body = envelope().replace('"answers": {', '"answers": {"role": "other", ')
    expect("duplicate first answer", post(body), 400, "malformed_json")


def megabyte_strings_are_refused():
    big = "x" * (1 << 20)
    expect("1 MB comment", post(envelope(answers=opslib.answers(comments=big))), 413,
           "body_too_large")
    expect("1 MB submission_id", post(envelope(s=big)), 413, "body_too_large")
    expect("1 MB key", post('{"%s":1}' % big), 413, "body_too_large")
    # Under the body limit, over the question's: the validator's 422.
    expect("60 KB comment", post(envelope(answers=opslib.answers(comments="y" * 60000))), 422,
           "validation_failed")
    expect("60 KB e-mail", post(envelope(answers=opslib.answers(contact_email="z" * 60000))),
           422, "validation_failed")
    # A 1 MB header: 431 long before the body.
    raw = (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"h" * (1 << 20) +
           b"\r\nConnection: close\r\n\r\n")
    expect("1 MB header", exchange(raw), 431, "headers_too_large")


def injection_strings_in_every_field():
    for i, s in enumerate(INJECTIONS):
        tag = "injection %d" % i
        expect(tag + " as submission_id", post(envelope(s=s)), 422, "validation_failed", [s])
        for q in ("role", "industry", "company_size", "region", "genai_stage",
                  "budget_top_priority", "caio", "change_mgmt", "training", "hiring_genai_2025"):
            expect("%s in %s" % (tag, q), post(envelope(answers=opslib.answers(**{q: s}))), 422,
                   "validation_failed", [s])
        for q in ("use_cases", "approach"):
            expect("%s in %s" % (tag, q), post(envelope(answers=opslib.answers(**{q: [s]}))),
                   422, "validation_failed", [s])
        expect(tag + " as e-mail", post(envelope(answers=opslib.answers(contact_email=s))), 422,
               "validation_failed", [s])
        expect(tag + " as number", post(envelope(answers=opslib.answers(genai_budget_share=s))),
               422, "validation_failed", [s])
        a = opslib.answers()
        a[s] = "x"
        expect(tag + " as a question id", post(envelope(answers=a)), 422, "validation_failed",
               [s])
        expect(tag + " as an envelope member", post(json.dumps(
            {"submission_id": sid(), "answers": opslib.answers(), s: 1})), 422,
            "validation_failed", [s])
        expect(tag + " as an invitation token",
               post(envelope(token=s), path="/v1/waves/%s/responses" % INVITE_WAVE), 401,
               "invitation_invalid", [s])
        quoted = "".join("%%%02X" % b for b in s.encode())
        # Not a wave id at all: no route matches (not_found), or no such wave.
        expect(tag + " in the path", post(envelope(), path="/v1/waves/%s/responses" % quoted),
               404, ("not_found", "wave_not_found"), [s])
        expect(tag + " in Content-Type", post(envelope(), content_type="application/" + s.replace(
            "\r\n", " ")), 415, "unsupported_media_type", [s])
        # Free text takes any string: stored as data, verbatim, and nothing else happens.
        s_id = sid()
        expect(tag + " as a comment", post(envelope(s=s_id, answers=opslib.answers(comments=s))),
               201, None, [s])
        state["expect_stored"][s_id] = s


def header_floods_are_431():
    many = b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 60) for i in range(200))
    raw = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + many + b"Connection: close\r\n\r\n"
    expect("200 headers of 70 bytes", exchange(raw), 431, "headers_too_large")
    tiny = b"".join(b"a:%d\r\n" % i for i in range(20000))
    raw = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + tiny + b"\r\n"
    expect("20,000 tiny headers", exchange(raw), 431, "headers_too_large")
    raw = b"GET /" + b"a" * 4000 + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    expect("4 KB request target", exchange(raw), 414, "uri_too_long")
    # A request line longer than the whole head may be is cut off as the head is: 431.
    raw = b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    expect("20 KB request target", exchange(raw), 431, "headers_too_large")
    cookie = b"Cookie: " + b"c=1; " * 3000 + b"\r\n"
    raw = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + cookie + b"Connection: close\r\n\r\n"
    expect("15 KB cookie", exchange(raw), 431, "headers_too_large")
    raw = b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"
    expect("two Host headers", exchange(raw), 400, "malformed_request")


def nothing_is_stored_but_the_free_text():
    d, db = state["surveyd"], state["db"]
    rows = opslib.psql(db.admin_db, "SELECT submission_id FROM survey.responses")
    stored = set(rows.splitlines())
    check(set(stored) == set(state["expect_stored"]),
          "exactly the %d free-text submissions are stored (%d rows)" % (
              len(state["expect_stored"]), len(stored)))
    for s_id, s in state["expect_stored"].items():
        got = opslib.psql(db.admin_db, "SELECT encode(convert_to(answers->>'comments', 'UTF8'), "
                          "'hex') FROM survey.responses WHERE submission_id = '%s'" % s_id)
        check(got == s.encode().hex(), "the comment %r is stored byte for byte" % s)
    check(db.count("SELECT count(*) FROM survey.waves") == 2, "the waves are intact")
    # The process and its log.
    check(d.proc.poll() is None, "surveyd is still running")
    text = d.log_text()
    foreign = [line for line in text.splitlines()
               if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warning|error) "
                               r"\[[a-z0-9]+\] [^\x00-\x1f]*$", line)]
    check(not foreign, "only surveyd's own log lines (%r)" % foreign[:3])
    for s in INJECTIONS:
        check(s not in text, "the log holds no hostile input verbatim (%r)" % s)
    # No descriptor is held once every connection is closed.
    before = state["fds_before"]
    check(opslib.wait_for(lambda: d.fds() <= before, 10),
          "descriptors back to %d (now %d)" % (before, d.fds()))
    status, _, _ = opslib.request(d.port, "GET", "/readyz", ctx=state["ctx"])
    check(status == 200, "still ready")
    log("%d hostile requests answered" % state.get("cases", 0))


def main():
    return opslib.run_cases([broken_json_is_400_malformed_json, deep_nesting_is_refused,
                             huge_numbers_are_refused, invalid_utf8_and_nul_bytes_are_refused,
                             duplicate_keys_are_refused, megabyte_strings_are_refused,
                             injection_strings_in_every_field, header_floods_are_431,
                             nothing_is_stored_but_the_free_text],
                            setup=setup, teardown=lambda rc: opslib.stop_all(
                                state, rc, what="surveyd exits 0 on SIGTERM, no leak report",
                                dump_lines=40))


if __name__ == "__main__":
    sys.exit(main())
