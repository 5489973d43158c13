#!/usr/bin/env python3
"""
kill -9 under load: retrying clients submit to surveyd (each retries an unanswered or 503
submission with the same submission_id) while the test SIGKILLs PostgreSQL (the postmaster and
every backend; it is then started again and recovers from its WAL) or surveyd (started again on
the same port) KILLS times. Afterwards the acknowledged submissions are counted against the
rows: lost 0, duplicated 0, every row with its own answers, only retryable errors seen, and
each recovery (kill to the next acknowledgement) within RECOVERY_MAX_S seconds.

usage: fault_kill9.py SURVEYD --target postgres|surveyd [--kills N] [--clients N]
The cluster is private to the test (tests/integration/pg_fixture.sh in a temporary directory,
with synchronous_commit and fsync on), so killing it touches no other test.
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
from opslib import check, log  # noqa: E402

RECOVERY_MAX_S = 15.0
WAVE = "fault-kill9"

parser = argparse.ArgumentParser()
parser.add_argument("surveyd")
parser.add_argument("--target", choices=("postgres", "surveyd"), required=True)
parser.add_argument("--kills", type=int, default=3)
parser.add_argument("--clients", type=int, default=6)
parser.add_argument("--acks-between", type=int, default=30,
                    help="acknowledgements to wait for between two kills")
args = parser.parse_args()
os.environ.setdefault("SURVEYD", args.surveyd)

state = {}


def setup():
    state["work"] = opslib.Workdir("ops-kill9-")
    cluster = state["cluster"] = opslib.Cluster(state["work"].path)
    opslib.psql(cluster.conninfo("postgres"), "CREATE DATABASE survey_fault")
    state["db"] = opslib.Database(cluster.conninfo("survey_fault"))
    state["db"].wave(WAVE)
    state["surveyd"] = opslib.start_surveyd(state,
                                            extra=["--rate-limit", "0", "--retry-after-s", "1"])


def acked_since(tally, t):
    with tally.lock:
        return any(a > t for a in tally.ack_times)


def kills_under_load_lose_nothing():
    if "surveyd" not in state:
        check(False, "set-up finished")
        return
    d, cluster, db, ctx = state["surveyd"], state["cluster"], state["db"], state["ctx"]
    fleet = opslib.Fleet(range(1, args.clients + 1), d.port, WAVE, ctx, retry_window_s=60)
    tally = fleet.tally
    recoveries = []
    try:
        for k in range(1, args.kills + 1):
            # Load first: the kill lands while submissions are in flight.
            want = fleet.acks() + args.acks_between
            if not check(opslib.wait_for(lambda: fleet.acks() >= want, 60),
                         "kill %d: %d acknowledgements before it" % (k, args.acks_between)):
                break
            t_kill = time.monotonic()
            if args.target == "postgres":
                check(cluster.kill9(), "kill %d: PostgreSQL is gone" % k)
                check(cluster.start(), "kill %d: PostgreSQL starts again" % k)
            else:
                d.kill9()
                d.start(ctx)
            t_up = time.monotonic()
            ok = opslib.wait_for(lambda: acked_since(tally, t_up), RECOVERY_MAX_S + 30)
            t_ack = min((a for a in tally.ack_times if a > t_up), default=None) if ok else None
            if t_ack is None:
                check(False, "kill %d: submissions are acknowledged again" % k)
                break
            recoveries.append((t_up - t_kill, t_ack - t_kill))
            log("kill %d: %s back after %.2f s, first acknowledgement %.2f s after the kill"
                % (k, args.target, t_up - t_kill, t_ack - t_kill))
            check(t_ack - t_kill <= RECOVERY_MAX_S,
                  "kill %d: recovered within %.0f s (%.2f s)" % (k, RECOVERY_MAX_S, t_ack - t_kill))
        want = fleet.acks() + args.acks_between
        check(opslib.wait_for(lambda: fleet.acks() >= want, 60), "load goes on after the kills")
    finally:
        fleet.stop(check_each=True)
    check(len(recoveries) == args.kills, "%d kills done (%d)" % (args.kills, len(recoveries)))
    stored = db.stored(WAVE)
    opslib.verify_tally(tally, stored, "kill -9 %s x%d" % (args.target, len(recoveries)))
    if recoveries:
        worst = max(r[1] for r in recoveries)
        mean = sum(r[1] for r in recoveries) / len(recoveries)
        log("recovery (kill to next acknowledgement): mean %.2f s, worst %.2f s over %d kills"
            % (mean, worst, len(recoveries)))
    # Killing PostgreSQL must not take the daemon down: it reconnects by itself.
    if args.target == "postgres":
        check(d.starts == 1 and d.proc.poll() is None, "the same surveyd process throughout")
    check(opslib.ready(d.port, ctx), "surveyd is ready at the end")


def main():
    return opslib.run_cases([kills_under_load_lose_nothing], setup=setup,
                            teardown=lambda rc: opslib.stop_all(state, rc, dump_lines=60,
                                                                check_if_failed=False))


if __name__ == "__main__":
    sys.exit(main())
