"""
High availability end to end (issue 8): a pg_auto_failover monitor and two PostgreSQL nodes
(deploy/ha/ha-local.sh, a primary with a synchronous standby), surveyd given the formation's
multi-host connection string, and retrying clients (tests/ops/opslib.py) that submit all along.

Cases, in order, on one formation and one failover (docs/ha.md lists what each asserts):
- a whole node lost (its pg_autoctl and postgres SIGKILLed): /readyz is 503 until the standby is
  promoted, surveyd follows by itself, and every acknowledged submission is on the new primary
  exactly once; meanwhile another wave is closed through the multi-host URI;
- the old primary rejoins as a standby and holds the same rows;
- the wave closed during the failover is closed on every node, and surveyd answers 410;
- a surveyd given only the standby is never ready and counts the standby it refused;
- a surveyd whose first host is silent (handshake, then nothing) is ready past it;
- survey-admin's standby check refuses a standby that has not replayed a close, and accepts it
  once it has; export and a recorded index run read from the standby match the primary's;
- surveyd exits 0 on SIGTERM.

Usage: ha_failover.py SURVEYD [--mode kill-node|kill-postgres]
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ops"))
import opslib  # noqa: E402
from opslib import check, log, metric, wait_for  # noqa: E402

HA_LOCAL = os.path.join(opslib.SOURCE_DIR, "deploy/ha/ha-local.sh")
WAVE = "ha"
CLOSE_WAVE = "ha_closed_in_failover"


class Formation:
    """The formation of ha-local.sh in workdir/ha: its connection strings and node operations."""

    def __init__(self, workdir, fast=True):
        self.dir = os.path.join(workdir, "ha")
        r = subprocess.run(["bash", HA_LOCAL, "start", self.dir] + (["--fast"] if fast else []),
                           capture_output=True, text=True, timeout=240)
        if r.returncode != 0:
            raise RuntimeError("ha-local.sh start failed: %s" % r.stderr[-2000:])
        self.env = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                self.env[k] = v.strip("'")
        self.ports = {"node1": int(self.env["HA_NODE1_PORT"]),
                      "node2": int(self.env["HA_NODE2_PORT"])}
        # The URI form as pg_autoctl prints it, for survey-admin; the keyword form for surveyd.
        self.uri = self.env["HA_URI"]
        self.conninfo = ("host=127.0.0.1,127.0.0.1 port=%d,%d dbname=survey user=postgres "
                         "target_session_attrs=read-write sslmode=disable" %
                         (self.ports["node1"], self.ports["node2"]))

    def ctl(self, *args, timeout=120):
        return subprocess.run(["bash", HA_LOCAL, args[0], self.dir] + list(args[1:]),
                              capture_output=True, text=True, timeout=timeout)

    def primary(self):
        return self.ctl("primary").stdout.strip()

    def node_conninfo(self, node):
        return "host=127.0.0.1 port=%d dbname=survey user=postgres" % self.ports[node]

    def other(self, node):
        return "node2" if node == "node1" else "node1"

    def wait_healthy(self, timeout_s=90):
        r = self.ctl("wait-healthy", str(timeout_s), timeout=timeout_s + 30)
        return check(r.returncode == 0, "the formation has a primary and a secondary again (%s)"
                     % r.stderr.strip()[-500:])

    def state(self):
        return self.ctl("state").stdout

    def stop(self):
        r = self.ctl("stop", timeout=180)
        if r.returncode != 0:
            log("ha-local.sh stop: %s" % r.stderr)


def max_gap(times, start, end):
    """The longest stretch in [start, end] without an acknowledgement, in seconds."""
    points = [start] + sorted(t for t in times if start <= t <= end) + [end]
    return max(b - a for a, b in zip(points, points[1:]))


class Setup:
    """The formation, a migrated database with the wave open, and surveyd. Whatever was started
    is stopped by close(), also after a failed set-up."""

    def __init__(self, mode):
        self.mode = mode
        self.work = opslib.Workdir("survey-ha-")
        self.formation = self.surveyd = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        self.formation = Formation(self.work.path)
        self.db = opslib.Database(self.formation.conninfo)
        self.db.wave(WAVE)
        self.db.wave(CLOSE_WAVE)
        self.ca, cert, key = opslib.make_ca(os.path.join(self.work.path, "tls"))
        self.ctx = opslib.client_context(self.ca)
        self.surveyd = opslib.Surveyd(self.work.path, cert, key, self.db.daemon_db,
                                      extra=["--rate-limit", "0", "--retry-after-s", "1",
                                             "--db-connect-timeout-ms", "3000"])
        self.surveyd.start(self.ctx)

    def stored_on(self, node, wave=WAVE):
        """{submission_id: (rows, comments)} of the wave as node has it."""
        return opslib.stored_rows(self.formation.node_conninfo(node), wave)

    def close(self):
        if self.surveyd is not None and self.surveyd.proc is not None:
            self.surveyd.stop()
        if self.formation is not None:
            self.formation.stop()
        self.work.remove()


def lose_primary(s, mode):
    """Take the primary away as mode says; the node that was primary."""
    old = s.formation.primary()
    check(old in ("node1", "node2"), "a primary before the failure (%r)" % old)
    r = s.formation.ctl(mode, old)
    check(r.returncode == 0, "%s %s: %s" % (mode, old, r.stderr.strip()))
    return old


def case_failover_loses_no_acknowledged_submission(s, result):
    fleet = opslib.Fleet(range(4), s.surveyd.port, WAVE, s.ctx, retry_window_s=90)
    tally = fleet.tally
    check(wait_for(lambda: len(tally.acked) >= 100, 60), "clients are acknowledged before")
    failovers_before = metric(s.surveyd.port, s.ctx, "surveyd_db_failovers_total")
    t_fail = time.monotonic()
    old = lose_primary(s, s.mode)
    new = s.formation.other(old)
    # Meanwhile an administrator closes another wave through the multi-host URI: the attempts
    # fail until there is a primary again, and the one that succeeds runs while surveyd's
    # control connection (whose LISTEN was on the lost server) may still be reconnecting.
    closer = threading.Thread(target=close_during_failover, args=(s, result), daemon=True)
    closer.start()
    check(wait_for(lambda: not opslib.ready(s.surveyd.port, s.ctx), 10),
          "/readyz is 503 while no writable primary is reachable")
    if s.mode == "kill-node":
        promoted = wait_for(lambda: s.formation.primary() == new, 60)
        check(promoted, "pg_auto_failover promotes %s within 60 s:\n%s" % (
            new, s.formation.state()))
    else:
        # Its pg_autoctl restarts a postgres killed alone; the monitor promotes the standby
        # only when that takes longer than the standby's promotion. Either may come first.
        wait_for(lambda: s.formation.primary() != old or
                 opslib.psql(s.formation.node_conninfo(old), "SELECT 1", check_rc=False) == "1",
                 60)
        check(wait_for(lambda: s.formation.primary() in ("node1", "node2"), 60),
              "a primary again within 60 s:\n%s" % s.formation.state())
        new = s.formation.primary()
    t_promoted = time.monotonic()
    result["promoted"] = new != old
    n_at_promotion = len(tally.acked)
    check(wait_for(lambda: len(tally.acked) >= n_at_promotion + 100, 60),
          "clients are acknowledged again after the promotion (%d -> %d)" % (
              n_at_promotion, len(tally.acked)))
    t_end = time.monotonic()
    fleet.stop(120)
    check(not any(c.is_alive() for c in fleet.clients), "every client finished")
    result["acked"], result["stored"], result["dup"], result["lost"] = opslib.verify_tally(
        tally, s.stored_on(new), "failover (%s)" % s.mode)
    gap = max_gap(tally.ack_times, t_fail, t_end)
    result["gap_s"] = gap
    result["promote_s"] = t_promoted - t_fail
    log("failover (%s): %s promoted %.1f s after the loss; longest time without an "
        "acknowledgement %.2f s" % (s.mode, new, t_promoted - t_fail, gap))
    check(metric(s.surveyd.port, s.ctx, "surveyd_db_failovers_total") ==
          (failovers_before or 0) + (1 if new != old else 0), "/metrics counts the failover")
    reconnects = metric(s.surveyd.port, s.ctx, 'surveyd_db_reconnects_total{connection="worker"}')
    check(reconnects is not None and reconnects >= 2,
          "/metrics counts the workers' reconnects (%r)" % reconnects)
    check(opslib.ready(s.surveyd.port, s.ctx), "/readyz is 200 on the new primary")
    result["old"] = old
    closer.join(100)


def close_during_failover(s, result):
    closed = None

    def try_close():
        nonlocal closed
        closed = opslib.admin(s.formation.uri, "wave", "close", CLOSE_WAVE, timeout=30)
        return closed.returncode == 0

    result["closed"] = wait_for(try_close, 90, interval_s=0.2)
    result["close_error"] = closed.stderr.strip() if closed else ""


def case_old_primary_rejoins_as_standby(s, result):
    old = result.get("old")
    if not check(old is not None, "the primary was lost first"):
        return
    if not result.get("promoted"):
        log("%s was restarted in place: no old primary to rejoin" % old)
        s.formation.wait_healthy()
        return
    if s.mode == "kill-node":
        r = s.formation.ctl("start-node", old)
        check(r.returncode == 0, "start-node %s: %s" % (old, r.stderr.strip()))
    s.formation.wait_healthy()
    check(s.formation.primary() == s.formation.other(old), "the new primary stays primary")
    standby = opslib.psql(s.formation.node_conninfo(old), "SELECT pg_is_in_recovery()")
    check(standby == "t", "%s is a standby now" % old)
    primary_rows = s.stored_on(s.formation.other(old))
    check(wait_for(lambda: s.stored_on(old) == primary_rows, 30),
          "the rejoined standby holds the primary's rows")


def case_wave_closed_during_failover_stays_closed(s, result):
    check(result.get("closed"), "survey-admin wave close succeeds once there is a primary "
          "again (%s)" % result.get("close_error"))
    body = opslib.submission("a1100000-0000-4000-8000-00000000c105", opslib.answers())
    path = "/v1/waves/%s/responses" % CLOSE_WAVE
    status = opslib.request(s.surveyd.port, "POST", path, body=body, ctx=s.ctx)[0]
    check(status == 410, "a submission after the close gets 410 (%r)" % status)
    # The old primary has rejoined (previous case): the close is on every node.
    for node in ("node1", "node2"):
        st = opslib.psql(s.formation.node_conninfo(node),
                         "SELECT status FROM survey.waves WHERE id = '%s'" % CLOSE_WAVE)
        check(st == "closed", "the wave is closed on %s (%r)" % (node, st))
    stored = opslib.psql(s.formation.primary() and s.formation.node_conninfo(
        s.formation.primary()), "SELECT count(*) FROM survey.responses WHERE wave_id = '%s'"
        % CLOSE_WAVE)
    check(stored == "0", "nothing was stored in the closed wave (%r)" % stored)
    # surveyd re-read the wave state when its control connection came back: the close is in
    # its snapshot, not only enforced by the database (no statement is needed for the 410).
    log_text = s.surveyd.log_text()
    check(log_text.count("waves loaded") >= 2, "surveyd reloaded the waves after reconnecting")


def case_surveyd_on_a_standby_alone_is_not_ready(s, result):
    standby = s.formation.other(s.formation.primary())
    only_standby = s.formation.node_conninfo(standby).replace(
        "user=postgres", "user=%s" % s.db.role)
    d = opslib.Surveyd(s.work.path, s.surveyd.argv[2], s.surveyd.argv[4], only_standby,
                       name="surveyd-standby")
    d.spawn()
    try:
        refused = wait_for(lambda: (metric(d.port, s.ctx, "surveyd_db_standby_refused_total")
                                    or 0) >= 2, 20)
        check(refused, "the standby is refused, again and again")
        check(not opslib.ready(d.port, s.ctx), "/readyz is 503 with only a standby to reach")
        status = opslib.request(d.port, "POST", "/v1/waves/%s/responses" % WAVE,
                                body=opslib.submission("a1100000-0000-4000-8000-0000000005b1",
                                                       opslib.answers()), ctx=s.ctx)[0]
        check(status == 503, "a submission gets 503, not an error from the standby (%r)" % status)
    finally:
        check(d.stop() == 0, "that surveyd exits 0")


def case_surveyd_passes_over_a_silent_host(s, result):
    # A machine that vanished answers nothing, not even a RST: here a socket that completes the
    # TCP handshake (the kernel does) and never speaks. It is first in the host list; surveyd
    # must give it up after --db-connect-timeout-ms and try the others first from then on.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    conninfo = ("host=127.0.0.1,127.0.0.1,127.0.0.1 port=%d,%d,%d dbname=survey user=%s "
                "target_session_attrs=read-write sslmode=disable" % (
                    silent.getsockname()[1], s.formation.ports["node1"],
                    s.formation.ports["node2"], s.db.role))
    d = opslib.Surveyd(s.work.path, s.surveyd.argv[2], s.surveyd.argv[4], conninfo,
                       extra=["--db-connect-timeout-ms", "1000"], name="surveyd-silent")
    d.spawn()
    try:
        t0 = time.monotonic()
        ok = wait_for(lambda: opslib.ready(d.port, s.ctx), 20)
        check(ok, "surveyd becomes ready past a silent first host")
        log("ready past a silent host after %.1f s" % (time.monotonic() - t0))
        check("connect timed out" in d.log_text(), "the silent host's attempt timed out")
    finally:
        check(d.stop() == 0, "that surveyd exits 0")
        silent.close()


def case_standby_reads_need_the_close_replayed(s, result):
    tool = os.environ.get("HA_REQUIRE_CLOSE")
    if not check(tool is not None, "HA_REQUIRE_CLOSE is set (run through ctest)"):
        return
    primary = s.formation.primary()
    standby = s.formation.other(primary)
    pconn, sconn = (s.formation.node_conninfo(primary), s.formation.node_conninfo(standby))

    def require(conninfo, wave):
        return subprocess.run([tool, conninfo, wave], capture_output=True, text=True, timeout=30)

    check(require(sconn, CLOSE_WAVE).returncode == 0,
          "a standby that has replayed the close is read")
    r = require(sconn, WAVE)
    check(r.returncode == 1, "an open wave is refused on a standby (%s)" % r.stderr.strip())
    # A close the standby has received (synchronous commit) but not replayed: replay paused.
    s.db.wave("ha_lag")
    check(wait_for(lambda: opslib.psql(sconn, "SELECT status FROM survey.waves "
                                       "WHERE id = 'ha_lag'") == "open", 30),
          "the standby sees the wave open")
    opslib.psql(sconn, "SELECT pg_wal_replay_pause()")
    try:
        r = opslib.admin(s.formation.uri, "wave", "close", "ha_lag")
        check(r.returncode == 0, "the wave closes on the primary (%s)" % r.stderr.strip())
        r = require(sconn, "ha_lag")
        check(r.returncode == 1, "a standby that has not replayed the close is refused")
        check('wave "ha_lag" is open on this standby' in r.stderr,
              "with a reason that says so (%r)" % r.stderr.strip())
        check(require(pconn, "ha_lag").returncode == 0, "the primary is read")
    finally:
        opslib.psql(sconn, "SELECT pg_wal_replay_resume()")
    check(wait_for(lambda: require(sconn, "ha_lag").returncode == 0, 30),
          "once the close is replayed the standby is read")
    r = opslib.admin(s.formation.uri, "wave", "close", WAVE)
    check(r.returncode == 0, "the clients' wave closes (%s)" % r.stderr.strip())
    check(wait_for(lambda: require(sconn, WAVE).returncode == 0, 30),
          "the standby is read once it has replayed that close")
    # The same data from either node. The export draws its row order afresh each time and
    # stamps its own time, by design; with one pseudonym key the rows, sorted, and the codebook
    # less that stamp are the same bytes.
    key = os.path.join(s.work.path, "export.key")
    with open(key, "w") as f:
        f.write("0123456789abcdef0123456789abcdef\n")
    files = {}
    for side, conninfo in (("primary", pconn), ("standby", sconn)):
        out = os.path.join(s.work.path, "export-%s.csv" % side)
        r = opslib.admin(conninfo, "export", WAVE, "--format", "csv", "--key-file", key,
                         "--out", out)
        check(r.returncode == 0, "export runs on the %s (%s)" % (side, r.stderr.strip()))
        if r.returncode == 0:
            with open(out, "rb") as f:
                lines = f.read().split(b"\n")
            with open(out + ".codebook.json", "rb") as f:
                codebook = re.sub(rb'"created_at":\s*"[^"]*"', b"", f.read())
            files[side] = (lines[0], sorted(lines[1:]), codebook)
    if len(files) == 2:
        check(len(files["primary"][1]) > 200 and files["primary"] == files["standby"],
              "the standby's export is the primary's (header, rows, codebook)")
    r = opslib.admin(pconn, "index", WAVE, "--format", "json")
    m = re.search(r"index run (\S+) recorded", r.stderr)
    check(r.returncode == 0 and m is not None, "index runs on the primary (%s)" % r.stderr)
    if m:
        run_id = m.group(1)
        check(wait_for(lambda: opslib.admin(sconn, "index", WAVE, "--run", run_id, "--format",
                                            "json").returncode == 0, 30),
              "the run is on the standby")
        a = opslib.admin(pconn, "index", WAVE, "--run", run_id, "--format", "json").stdout
        b = opslib.admin(sconn, "index", WAVE, "--run", run_id, "--format", "json").stdout
        check(len(a) > 1000 and a == b, "the standby prints the run as the primary does")
    # The index computed afresh on the standby (not recorded there: nothing can be written) is
    # the document the primary computes and records.
    for fmt in ("json", "csv"):
        rp = opslib.admin(pconn, "index", WAVE, "--format", fmt)
        rs = opslib.admin(sconn, "index", WAVE, "--format", fmt)
        check(rp.returncode == 0 and rs.returncode == 0,
              "index --format %s runs on both (%s / %s)" % (fmt, rp.stderr.strip(),
                                                            rs.stderr.strip()))
        check(len(rp.stdout) > 500 and rp.stdout == rs.stdout,
              "index --format %s computed on the standby is the primary's, byte for byte" % fmt)
        check("not recorded" in rs.stderr, "the standby says the run was not recorded")


def case_surveyd_stops_cleanly(s, result):
    # Under ASan a leak or an error shows as a non-zero exit status here.
    rc = s.surveyd.stop()
    check(rc == 0, "surveyd exits 0 on SIGTERM after the failovers (%r)" % rc)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    mode = "kill-node"
    if "--mode" in sys.argv:
        mode = sys.argv[sys.argv.index("--mode") + 1]
    if mode not in ("kill-node", "kill-postgres"):
        print("ha_failover.py: --mode must be kill-node or kill-postgres", file=sys.stderr)
        return 2
    state = {}  # "s": the Setup, once it is up
    result = {}

    def give_up():
        # The whole run is bounded: a hung step fails the test instead of holding ctest, and
        # the servers it started are stopped all the same.
        log("ha_failover.py: no end after 280 s; stopping")
        if state.get("s") is not None:
            state["s"].close()
        print("0 passed, 1 failed", flush=True)
        os._exit(3)

    watchdog = threading.Timer(280, give_up)
    watchdog.daemon = True
    watchdog.start()

    def setup():
        state["s"] = Setup(mode)

    def teardown(rc):
        watchdog.cancel()
        s = state.get("s")
        if s is None:
            print("0 passed, 1 failed")  # the set-up failed: no case ran
            return rc
        if rc != 0 and s.surveyd is not None and s.surveyd.proc is not None:
            s.surveyd.dump_log(80)
        s.close()
        return rc

    def named(fn):
        def case():
            fn(state["s"], result)
        case.__name__ = fn.__name__[len("case_"):]
        return case

    return opslib.run_cases([named(case_failover_loses_no_acknowledged_submission),
                             named(case_old_primary_rejoins_as_standby),
                             named(case_wave_closed_during_failover_stays_closed),
                             named(case_surveyd_on_a_standby_alone_is_not_ready),
                             named(case_surveyd_passes_over_a_silent_host),
                             named(case_standby_reads_need_the_close_replayed),
                             named(case_surveyd_stops_cleanly)],
                            setup=setup, teardown=teardown)


if __name__ == "__main__":
    sys.exit(main())
