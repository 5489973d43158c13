#!/usr/bin/env python3
"""
Rate limit under a flood: four threads submit as fast as they can from 127.0.0.1 while a
respondent at 127.0.0.2 submits twice a second. The flood gets 429 rate_limited with a
Retry-After of whole seconds, nothing of what was refused is stored, and what it got through is
bounded by the configured rate and burst; the other address is served (201) every time.

usage: attack_rate_limit_flood.py SURVEYD (run through ctest: a fresh database in $DATABASE_URL)
"""

import json
import os
import sys
import threading
import time
import uuid

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
from opslib import check, log  # noqa: E402

WAVE = "flood"
PATH = "/v1/waves/%s/responses" % WAVE
RATE, BURST = 4, 8
FLOOD_S = 4.0
state = {}


def setup():
    state["work"] = opslib.Workdir("ops-flood-")
    state["db"] = opslib.Database(os.environ["SURVEY_TEST_DB"])
    state["db"].wave(WAVE)
    state["surveyd"] = opslib.start_surveyd(
        state, extra=["--rate-limit", str(RATE), "--rate-burst", str(BURST)])


def flood_is_limited_while_another_address_is_served():
    d, db, ctx = state["surveyd"], state["db"], state["ctx"]
    lock = threading.Lock()
    flood = {"sent": 0, "accepted": [], "limited": [], "other": [], "bad_retry_after": 0}
    probe = {"accepted": [], "other": []}
    stop = threading.Event()

    def flooder(n):
        for seq in range(1, 5001):
            if stop.is_set():
                return
            sid = str(uuid.UUID(int=(0xf100d << 108) | (n << 40) | seq, version=4))
            st, h, body = opslib.request(d.port, "POST", PATH, ctx=ctx, src="127.0.0.1",
                                         body=opslib.submission(sid, opslib.answers()))
            with lock:
                flood["sent"] += 1
                if st == 201:
                    flood["accepted"].append(sid)
                elif st == 429:
                    flood["limited"].append(sid)
                    ra = (h or {}).get("retry-after", "")
                    ptype = json.loads(body).get("type") if body else None
                    if not (ra.isdigit() and 1 <= int(ra) <= 60) or \
                            ptype != "/problems/rate_limited" or \
                            not (h or {}).get("content-type", "").startswith(
                                "application/problem+json"):
                        flood["bad_retry_after"] += 1
                else:
                    flood["other"].append(st)

    threads = [threading.Thread(target=flooder, args=(n,), daemon=True) for n in range(1, 5)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    # The respondent at the other address, paced at two submissions a second.
    seq = 0
    while time.monotonic() - t0 < FLOOD_S:
        seq += 1
        sid = str(uuid.UUID(int=(0x90b << 116) | seq, version=4))
        st, _, body = opslib.request(d.port, "POST", PATH, ctx=ctx, src="127.0.0.2",
                                     body=opslib.submission(sid, opslib.answers()))
        (probe["accepted"] if st == 201 else probe["other"]).append((sid, st))
        if st != 201:
            log("127.0.0.2 got %d: %r" % (st, body[:200]))
        time.sleep(0.5)  # the respondent's pace
    stop.set()
    for t in threads:
        t.join(timeout=60)
    elapsed = time.monotonic() - t0

    log("flood from 127.0.0.1 over %.1f s: sent %d, accepted %d, 429 %d, other %s; "
        "127.0.0.2: %d of %d accepted" % (elapsed, flood["sent"], len(flood["accepted"]),
                                          len(flood["limited"]), flood["other"],
                                          len(probe["accepted"]), seq))
    check(len(flood["limited"]) > flood["sent"] // 2, "most of the flood gets 429")
    check(flood["bad_retry_after"] == 0,
          "every 429 is a rate_limited problem with Retry-After in seconds (%d are not)"
          % flood["bad_retry_after"])
    check(not flood["other"], "the flood gets only 201 or 429 (%s)" % flood["other"][:5])
    # The bucket lets through the burst and the rate, whatever the worker split (+1 slack each).
    bound = BURST + RATE * elapsed + 2
    check(len(flood["accepted"]) <= bound,
          "the flood got %d through, at most %.0f" % (len(flood["accepted"]), bound))
    check(seq >= 6 and not probe["other"], "the other address is served every time (%s)"
          % probe["other"][:5])
    stored = set(opslib.psql(db.admin_db, "SELECT submission_id FROM survey.responses "
                             "WHERE wave_id = '%s'" % WAVE).splitlines())
    check(stored == set(flood["accepted"]) | set(s for s, _ in probe["accepted"]),
          "exactly the accepted submissions are stored (%d rows)" % len(stored))
    check(not stored & set(flood["limited"]), "nothing refused with 429 is stored")
    check(d.proc.poll() is None, "surveyd still runs")


def main():
    return opslib.run_cases([flood_is_limited_while_another_address_is_served],
                            setup=setup, teardown=lambda rc: opslib.stop_all(state, rc))


if __name__ == "__main__":
    sys.exit(main())
