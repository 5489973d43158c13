#!/usr/bin/env python3
"""
Slow clients with slowhttptest (Debian): a slowloris (heads sent a line at a time) and then a
slow body (R-U-Dead-Yet), each holding CONNS connections against surveyd, then a slowloris with
more connections than surveyd's cap, while a probe client submits once a second from another
address. The attack really holds connections (surveyd's
own gauge shows them), every probe submission is acknowledged within PROBE_TIMEOUT_S, the
daemon's descriptors stay under its --max-connections cap plus its fixed ones, slow clients are
cut off by the head and body deadlines, and afterwards the descriptors come back down.

usage: attack_slow_clients.py SURVEYD (run through ctest: a fresh database in $DATABASE_URL)
"""

import os
import re
import shutil
import subprocess
import sys
import time
import uuid

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
from opslib import check, log  # noqa: E402

WAVE = "slow"
PATH = "/v1/waves/%s/responses" % WAVE
# tests/bench/soak_slow_clients.sh runs the same with more connections for longer.
CONNS = int(os.environ.get("OPS_SLOW_CONNS", "400"))
MAX_CONNECTIONS = int(os.environ.get("OPS_SLOW_MAX_CONNECTIONS", "600"))
# Descriptors that are not client connections: listeners, event loops, database connections,
# log and standard streams, libraries' own.
FIXED_FDS = 64
ATTACK_S = int(os.environ.get("OPS_SLOW_ATTACK_S", "10"))
# surveyd's head and body deadlines for the test: short, so the attack's leftovers go quickly.
DEADLINE_MS = int(os.environ.get("OPS_SLOW_DEADLINE_MS", "4000"))
PROBE_TIMEOUT_S = 5
state = {"probe_seq": 0}


def setup():
    state["work"] = opslib.Workdir("ops-slow-")
    state["db"] = opslib.Database(os.environ["SURVEY_TEST_DB"])
    state["db"].wave(WAVE)
    state["surveyd"] = opslib.start_surveyd(
        state, extra=["--max-connections", str(MAX_CONNECTIONS), "--rate-limit", "0",
                      "--header-timeout-ms", str(DEADLINE_MS),
                      "--body-timeout-ms", str(DEADLINE_MS)])
    state["fds_before"] = state["surveyd"].fds()


def open_connections(d):
    n = opslib.metric(d.port, state["ctx"], "surveyd_open_connections", src="127.0.0.3",
                      timeout=10)
    return -1 if n is None else n


def attack(mode, conns):
    """Run slowhttptest in mode ("-H" slowloris, "-B" slow body) while probing; returns
    (probe results, max descriptors, max open connections seen, slowhttptest's output)."""
    d, ctx = state["surveyd"], state["ctx"]
    url = "https://127.0.0.1:%d%s" % (d.port, PATH)
    rate = max(200, conns // 2)  # every connection open well within the head deadline
    argv = ["slowhttptest", mode, "-c", str(conns), "-r", str(rate), "-i", "2", "-x", "24",
            "-l", str(ATTACK_S), "-p", "3", "-t", "POST", "-u", url]
    if mode == "-B":
        argv += ["-s", "8192"]
    out_path = os.path.join(state["work"].path, "slowhttptest%s.out" % mode)
    out = open(out_path, "wb")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    out.close()
    # Beyond the cap a new connection waits in the kernel's backlog until a deadline frees a
    # slot: the probe then waits up to the head deadline (4 s) and a margin.
    probe_timeout_s = PROBE_TIMEOUT_S if conns < MAX_CONNECTIONS else \
        PROBE_TIMEOUT_S + DEADLINE_MS / 1000.0 + 1
    probes, max_fds, max_open = [], 0, 0
    t0 = time.monotonic()
    # One probe submission a second for the attack's length (and the tool's wind-down).
    # slowhttptest ends early when surveyd's deadlines have closed all its connections.
    while time.monotonic() - t0 < ATTACK_S + 2 and proc.poll() is None or len(probes) < 5:
        state["probe_seq"] += 1
        sid = str(uuid.UUID(int=(0x510 << 116) | state["probe_seq"], version=4))
        t = time.monotonic()
        st, _, _ = opslib.request(d.port, "POST", PATH, ctx=ctx, src="127.0.0.2",
                                  body=opslib.submission(sid, opslib.answers()),
                                  timeout=probe_timeout_s)
        probes.append((sid, st, time.monotonic() - t))
        max_fds = max(max_fds, d.fds())
        max_open = max(max_open, open_connections(d))
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t)))  # the probe's pace
        if time.monotonic() - t0 > ATTACK_S + 30:
            break
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        check(False, "slowhttptest %s ends by itself" % mode)
    with open(out_path, errors="replace") as f:
        text = f.read()
    return probes, max_fds, max_open, text


def check_attack(mode, name, conns=CONNS):
    d = state["surveyd"]
    probes, max_fds, max_open, text = attack(mode, conns)
    ok = [p for p in probes if p[1] == 201]
    worst = max((p[2] for p in probes), default=0)
    log("%s: %d connections asked for; surveyd held up to %d open connections and %d "
        "descriptors; probe %d of %d acknowledged, slowest %.2f s"
        % (name, conns, max_open, max_fds, len(ok), len(probes), worst))
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    tail = [" ".join(line.split()) for line in text.splitlines()
            if "closed" in line or "connected" in line]
    log("%s: slowhttptest's last count: %s" % (name, " / ".join(tail[-2:]) if tail else "none"))
    check(max_open >= min(conns, MAX_CONNECTIONS) // 2,
          "%s: the attack held connections open (%d)" % (name, max_open))
    check(len(probes) >= 5 and len(ok) == len(probes),
          "%s: every probe submission is acknowledged (%s)" % (
              name, [p[1] for p in probes if p[1] != 201]))
    check(max_fds <= MAX_CONNECTIONS + FIXED_FDS,
          "%s: descriptors stay under the cap (%d)" % (name, max_fds))
    stored = set(opslib.psql(state["db"].admin_db, "SELECT submission_id FROM survey.responses")
                 .splitlines())
    check(all(p[0] in stored for p in ok), "%s: every acknowledged probe is stored" % name)
    # The deadlines cut what the attack left behind.
    before = state["fds_before"]
    check(opslib.wait_for(lambda: d.fds() <= before + 2, 15 + 2 * DEADLINE_MS / 1000.0),
          "%s: descriptors come back down to %d (now %d)" % (name, before, d.fds()))
    check(d.proc.poll() is None, "%s: surveyd still runs" % name)


def slowloris_does_not_starve_the_probe():
    check_attack("-H", "slowloris")


def slow_body_does_not_starve_the_probe():
    check_attack("-B", "slow body")


def slowloris_beyond_the_cap_delays_but_does_not_lock_out_the_probe():
    check_attack("-H", "slowloris beyond the cap", conns=MAX_CONNECTIONS + 400)


def main():
    if shutil.which("slowhttptest") is None:
        log("slowhttptest is missing (apt-get install slowhttptest)")
        return 1
    return opslib.run_cases([slowloris_does_not_starve_the_probe,
                             slow_body_does_not_starve_the_probe,
                             slowloris_beyond_the_cap_delays_but_does_not_lock_out_the_probe],
                            setup=setup, teardown=lambda rc: opslib.stop_all(state, rc))


if __name__ == "__main__":
    sys.exit(main())
