#!/usr/bin/env python3
"""
Scale-out on the deploy/ configurations: two surveyd instances behind HAProxy
(deploy/haproxy/10-surveyd.cfg, TCP mode, health checks on /readyz over verified TLS), both
reaching PostgreSQL through PgBouncer (deploy/pgbouncer/pgbouncer.ini, SCRAM from an auth file).
Retrying clients submit through HAProxy; one instance is killed with SIGKILL mid-run. Every
acknowledged submission is stored once with its own answers, clients see only retryable errors
(no answer, 503) during the switch, HAProxy marks the dead instance DOWN within seconds, the
other one takes the whole load, and the dead one is UP again once restarted.

usage: lb_kill_one_of_two_surveyd.py SURVEYD (run through ctest: a fresh database in $DATABASE_URL)
"""

import os
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
from opslib import check, log  # noqa: E402

WAVE = "lb-open"
CONTROL_APP = "surveyd-control"
state = {}


def setup():
    work = opslib.Workdir("ops-lb-")
    state["work"] = work
    admin_db = os.environ["SURVEY_TEST_DB"]
    db = opslib.Database(admin_db)
    state["db"] = db
    db.wave(WAVE)
    # The daemon's role logs in to PgBouncer with SCRAM; PgBouncer has only its secret.
    password = "lb-" + os.urandom(12).hex()
    opslib.psql(admin_db, "SET password_encryption = 'scram-sha-256'; "
                "ALTER ROLE \"%s\" PASSWORD '%s'" % (db.role, password))
    secret = opslib.psql(admin_db, "SELECT rolpassword FROM pg_authid WHERE rolname = '%s'"
                         % db.role)
    check(secret.startswith("SCRAM-SHA-256$"), "the role's password is a SCRAM secret")
    bouncer = opslib.Pgbouncer(work.path, opslib.conninfo_get(admin_db, "host"),
                               int(opslib.conninfo_get(admin_db, "port")),
                               opslib.conninfo_get(admin_db, "dbname"), {db.role: secret})
    state["bouncer"] = bouncer
    if not opslib.wait_for(lambda: bouncer.proc.poll() is not None or bouncer.listening(), 15) \
            or bouncer.proc.poll() is not None:
        log(bouncer.log_text())
        raise RuntimeError("pgbouncer did not start")
    daemon_db = "host=127.0.0.1 port=%d dbname=survey user=%s password=%s" % (
        bouncer.port, db.role, password)
    # The control connection (LISTEN wave_changed) goes straight to PostgreSQL, as
    # deploy/systemd/surveyd.env shows; its application_name lets the test find it there.
    control_db = "host=%s port=%s dbname=%s user=%s password=%s application_name=%s" % (
        opslib.conninfo_get(admin_db, "host"), opslib.conninfo_get(admin_db, "port"),
        opslib.conninfo_get(admin_db, "dbname"), db.role, password, CONTROL_APP)

    ca, cert, key = opslib.make_ca(os.path.join(work.path, "tls"))
    ctx = opslib.client_context(ca)
    state["ctx"], state["ca"] = ctx, ca
    # Behind a TCP balancer every client has HAProxy's address: the per-address limit is
    # HAProxy's (deploy/haproxy/10-surveyd.cfg), not surveyd's.
    extra = ["--rate-limit", "0", "--retry-after-s", "1", "--control-db", control_db]
    s1 = opslib.Surveyd(work.path, cert, key, daemon_db, extra=extra, name="surveyd1")
    s2 = opslib.Surveyd(work.path, cert, key, daemon_db, extra=extra, name="surveyd2")
    state["s"] = [s1, s2]
    s1.start(ctx)
    s2.start(ctx)
    lb = opslib.Haproxy(work.path, ["127.0.0.1:%d" % s1.port, "127.0.0.1:%d" % s2.port], ca)
    state["lb"] = lb
    up = opslib.wait_for(lambda: lb.server_states() == {"surveyd1": "UP", "surveyd2": "UP"}, 20)
    if not up:
        with open(lb.logpath, errors="replace") as f:
            log(f.read())
        raise RuntimeError("HAProxy did not see both instances UP: %s" % lb.server_states())


def accepted(s):
    """Submissions one instance acknowledged, from /metrics: surveyd_submissions_total with
    outcome "accepted" (201) plus "replayed" (200)."""
    status, _, body = opslib.request(s.port, "GET", "/metrics", ctx=state["ctx"])
    if status != 200:
        log("/metrics of %s: %d" % (s.logpath, status))
        return -1
    n = 0
    for line in body.decode().splitlines():
        if line.startswith(('surveyd_submissions_total{outcome="accepted"}',
                            'surveyd_submissions_total{outcome="replayed"}')):
            n += int(float(line.split()[-1]))
    return n


def each_instance_listens_on_a_direct_connection():
    if "lb" not in state:
        check(False, "set-up finished")
        return
    # Through PgBouncer every server connection is PgBouncer's; a direct one keeps the
    # application_name the daemon gave. One per instance, each having run LISTEN.
    rows = opslib.psql(os.environ["SURVEY_TEST_DB"],
                       "SELECT count(*), count(*) FILTER (WHERE query LIKE 'LISTEN%%' OR "
                       "query LIKE '%%survey.waves%%') FROM pg_stat_activity "
                       "WHERE application_name = '%s'" % CONTROL_APP)
    check(rows.split("|")[0] == "2",
          "each surveyd holds one direct control connection to PostgreSQL (%s)" % rows)


def killing_one_instance_loses_nothing():
    if "lb" not in state:
        check(False, "set-up finished")
        return
    lb, (s1, s2), db, ctx = state["lb"], state["s"], state["db"], state["ctx"]
    fleet = opslib.Fleet(range(1, 9), lb.port, WAVE, ctx, retry_window_s=60)
    try:
        check(opslib.wait_for(lambda: fleet.acks() >= 80, 60),
              "80 acknowledgements through HAProxy")
        # leastconn spreads the load: both instances took submissions before the kill.
        a1, a2 = accepted(s1), accepted(s2)
        log("before the kill: surveyd1 acknowledged %d, surveyd2 acknowledged %d" % (a1, a2))
        check(a1 > 0 and a2 > 0, "both instances served submissions (%d, %d)" % (a1, a2))

        t_kill = time.monotonic()
        s1.kill9()
        down = opslib.wait_for(lambda: lb.server_states().get("surveyd1") == "DOWN", 10)
        t_down = time.monotonic() - t_kill
        check(down, "HAProxy marks the killed instance DOWN (%s)" % lb.server_states())
        log("surveyd1 killed; HAProxy marked it DOWN after %.2f s" % t_down)
        before = fleet.acks()
        a2_before = accepted(s2)
        check(opslib.wait_for(lambda: fleet.acks() >= before + 80, 60),
              "80 more acknowledgements with one instance left")
        check(accepted(s2) >= a2_before + 80, "the surviving instance took the load")

        # Back in: restarted on its port, UP after its checks pass.
        s1.start(ctx)
        up = opslib.wait_for(lambda: lb.server_states().get("surveyd1") == "UP", 15)
        check(up, "the restarted instance is UP again (%s)" % lb.server_states())
        a1_before = accepted(s1)
        before = fleet.acks()
        check(opslib.wait_for(lambda: fleet.acks() >= before + 80 and accepted(s1) > a1_before,
                              60), "the restarted instance serves again")
    finally:
        fleet.stop(check_each=True)
    opslib.verify_tally(fleet.tally, db.stored(WAVE), "two surveyd behind HAProxy, one killed")


def haproxy_limits_new_connections_per_source():
    """The per-client limit at the door: with 5 new connections per 10 s per source, the sixth
    from 127.0.0.1 is refused before TLS while 127.0.0.2 is still served."""
    if "lb" not in state:
        check(False, "set-up finished")
        return
    s1, s2 = state["s"]
    lb = opslib.Haproxy(state["work"].path, ["127.0.0.1:%d" % s1.port, "127.0.0.1:%d" % s2.port],
                        state["ca"], name="haproxy-limited", conn_rate_10s=5)
    state["lb2"] = lb
    check(opslib.wait_for(lambda: lb.server_states() == {"surveyd1": "UP", "surveyd2": "UP"},
                          20), "the limited HAProxy sees both instances UP")
    first = [opslib.request(lb.port, "GET", "/healthz", ctx=state["ctx"], src="127.0.0.1")[0]
             for _ in range(5)]
    check(first == [200] * 5, "five connections from 127.0.0.1 are served (%s)" % first)
    later = [opslib.request(lb.port, "GET", "/healthz", ctx=state["ctx"], src="127.0.0.1")[0]
             for _ in range(3)]
    check(later == [0] * 3, "the next ones from 127.0.0.1 are refused (%s)" % later)
    other = opslib.request(lb.port, "GET", "/healthz", ctx=state["ctx"], src="127.0.0.2")[0]
    check(other == 200, "127.0.0.2 is still served (%d)" % other)
    lb.stop()


def teardown(rc):
    for k in ("lb", "lb2"):
        if state.get(k) is not None:
            state[k].stop()
    for s in state.get("s", []):
        rc = opslib.stop_surveyd(s, rc, what="%s exits 0 on SIGTERM" % s.logpath)
    if "bouncer" in state:
        if rc != 0:
            log(state["bouncer"].log_text()[-3000:])
        state["bouncer"].stop()
    return opslib.stop_all(state, rc)  # the role and the work directory


def main():
    return opslib.run_cases([each_instance_listens_on_a_direct_connection,
                             killing_one_instance_loses_nothing,
                             haproxy_limits_new_connections_per_source],
                            setup=setup, teardown=teardown)


if __name__ == "__main__":
    sys.exit(main())
