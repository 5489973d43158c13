"""
The high-availability benchmark (issue 8), run by tests/bench/ha_bench.sh: one pg_auto_failover
formation on loopback (deploy/ha/ha-local.sh --fast), surveyd on its multi-host connection
string, and

1. throughput with the synchronous standby against the same primary without it (its standby
   stopped: pg_auto_failover turns synchronous replication off, wait_primary), in one run,
   wrk and tests/bench/submit.lua as in run.sh, three pairs alternating so drift shows;
2. RUNS failovers, each a whole node SIGKILLed (pg_autoctl and postgres) under four retrying
   clients: time to promotion, the longest time without an acknowledgement, acknowledged
   against stored on the new primary (lost, duplicated); the old primary rejoins each time;
3. RUNS kills of the primary's postgres alone: its pg_autoctl restarts it or the monitor
   promotes the standby, whichever comes first; the same counts.

Usage: ha_bench.py SURVEYD [RUNS] [WRK_SECONDS]
"""

import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "ha"))
sys.path.insert(0, os.path.join(HERE, "..", "ops"))
import opslib  # noqa: E402
import ha_failover  # noqa: E402
from opslib import check, log, wait_for  # noqa: E402

SUBMIT_LUA = os.path.join(HERE, "submit.lua")


def wrk(s, wave, seconds, tag):
    url = "https://127.0.0.1:%d/v1/waves/%s/responses" % (s.surveyd.port, wave)
    r = subprocess.run(["wrk", "-t2", "-c64", "-d%ds" % seconds, "--latency", "--timeout", "10s",
                        "-s", SUBMIT_LUA, url, "--", tag], capture_output=True, text=True,
                       timeout=seconds + 120)
    m = re.search(r"^bench: .*\b2xx=(\d+)", r.stdout, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", r.stdout, re.M)
    if r.returncode != 0 or m is None:
        raise RuntimeError("wrk failed: %s %s" % (r.stdout[-800:], r.stderr[-800:]))
    return int(m.group(1)) / seconds, p99.group(1) if p99 else "?"


def sync_names(s, node):
    return opslib.psql(s.formation.node_conninfo(node), "SHOW synchronous_standby_names",
                       check_rc=False)


def new_wave(s, wave):
    """Create and open a wave, and wait until surveyd takes submissions for it: it learns of
    the opening by notification, and until then answers 404 or 409."""
    s.db.wave(wave)
    body = opslib.submission("b0000000-0000-4000-8000-%012x" % (hash(wave) % 2**48),
                             opslib.answers())
    check(wait_for(lambda: opslib.request(s.surveyd.port, "POST", "/v1/waves/%s/responses"
                                          % wave, body=body, ctx=s.ctx)[0] in (200, 201), 30),
          "surveyd takes submissions for %s" % wave)


def throughput(s, seconds, pairs):
    rows = []
    f = s.formation
    for i, with_standby in enumerate((True, False) * pairs):
        wave = "tput%d" % i
        new_wave(s, wave)
        primary = f.primary()
        standby = f.other(primary)
        if not with_standby:
            f.ctl("kill-node", standby)
            check(wait_for(lambda: sync_names(s, primary) == "", 60),
                  "synchronous replication is off without the standby")
        else:
            check(sync_names(s, primary).startswith("ANY 1"),
                  "synchronous replication is on (%r)" % sync_names(s, primary))
        tput, p99 = wrk(s, wave, seconds, "%08x%04x" % (int(time.time()) % 2**32, i))
        rows.append(("synchronous standby" if with_standby else "primary alone", tput, p99))
        log("throughput %s: %.0f acknowledged submissions/s, p99 %s" % (rows[-1][0], tput, p99))
        if not with_standby:
            f.ctl("start-node", standby)
            f.wait_healthy(120)
            check(wait_for(lambda: sync_names(s, primary).startswith("ANY 1"), 60),
                  "synchronous replication is back on")
    return rows


def one_failover(s, mode, n):
    wave = "%s%d" % (mode.replace("-", ""), n)
    new_wave(s, wave)
    fleet = opslib.Fleet(range(4), s.surveyd.port, wave, s.ctx, retry_window_s=90)
    tally = fleet.tally
    check(wait_for(lambda: len(tally.acked) >= 100, 60), "acknowledged before the failure")
    old = s.formation.primary()
    t0 = time.monotonic()
    check(s.formation.ctl(mode, old).returncode == 0, "%s %s" % (mode, old))
    # Wait until service is back: promotion of the other node, or (kill-postgres) either.
    n_before = len(tally.acked)
    check(wait_for(lambda: len(tally.acked) >= n_before + 100, 90), "acknowledged again")
    t_back = time.monotonic()
    new = s.formation.primary()
    fleet.stop(120)
    stored_rows = s.stored_on(new, wave)
    stored_rows.pop("b0000000-0000-4000-8000-%012x" % (hash(wave) % 2**48), None)  # the probe
    acked, stored, dup, lost = opslib.verify_tally(tally, stored_rows,
                                                   "%s run %d" % (mode, n))
    gap = ha_failover.max_gap(tally.ack_times, t0, t_back)
    promoted = new != old
    if promoted and mode == "kill-node":
        check(s.formation.ctl("start-node", old).returncode == 0, "start-node %s" % old)
    s.formation.wait_healthy(120)
    return {"mode": mode, "old": old, "new": new, "promoted": promoted, "gap": gap,
            "acked": acked, "stored": stored, "dup": dup, "lost": lost}


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    s = ha_failover.Setup("kill-node")
    try:
        tput = throughput(s, seconds, 3)
        results = [one_failover(s, "kill-node", n) for n in range(1, runs + 1)]
        results += [one_failover(s, "kill-postgres", n) for n in range(1, runs + 1)]
    finally:
        s.close()
    print("\n## Throughput (wrk -t2 -c64 -d%ds, submit.lua; surveyd --threads 2, durable), "
          "alternating\n" % seconds)
    print("| run | acknowledged submissions/s | p99 |\n|---|---|---|")
    for name, t, p99 in tput:
        print("| %s | %.0f | %s |" % (name, t, p99))
    sync = statistics.median(t for name, t, _ in tput if name.startswith("synchronous"))
    alone = statistics.median(t for name, t, _ in tput if name == "primary alone")
    print("\nmedians: %.0f/s with the synchronous standby, %.0f/s alone: %.0f%%\n"
          % (sync, alone, 100 * sync / alone))
    for mode in ("kill-node", "kill-postgres"):
        rs = [r for r in results if r["mode"] == mode]
        print("## %s (%d runs)\n" % (mode, len(rs)))
        print("| run | primary before -> after | time without service (s) | acknowledged | "
              "stored | lost | duplicated |\n|---|---|---|---|---|---|---|")
        for i, r in enumerate(rs, 1):
            print("| %d | %s -> %s | %.2f | %d | %d | %d | %d |" % (
                i, r["old"], r["new"], r["gap"], r["acked"], r["stored"], r["lost"], r["dup"]))
        print("\nmedian time without service: %.2f s; promoted %d of %d; lost %d; duplicated %d\n"
              % (statistics.median(r["gap"] for r in rs), sum(r["promoted"] for r in rs),
                 len(rs), sum(r["lost"] for r in rs), sum(r["dup"] for r in rs)))
    return 0 if opslib._failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
