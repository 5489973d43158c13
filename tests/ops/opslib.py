"""
The operations tests' harness (Python 3 standard library only): a private PostgreSQL cluster
that a test may kill, a migrated database with the daemon's login role, surveyd processes with
certificates from deploy/make-ca.sh, a verifying TLS client, and retrying clients that count
what was acknowledged. Every wait is on a condition with a deadline; every loop is bounded.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid

SOURCE_DIR = os.environ.get("SURVEY_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
QUESTIONNAIRE = os.path.join(SOURCE_DIR, "questionnaire/definitions/genai-adoption-2025.json")
PG_FIXTURE = os.path.join(SOURCE_DIR, "tests/integration/pg_fixture.sh")
MAKE_CA = os.path.join(SOURCE_DIR, "deploy/make-ca.sh")

# ---- checks ------------------------------------------------------------------------------

_failed = 0
_cases = [0, 0]  # passed, failed


def check(cond, what):
    """Record a failed check (printed with what) and go on; returns cond."""
    global _failed
    if not cond:
        _failed += 1
        print("check failed: %s" % what, file=sys.stderr, flush=True)
    return cond


def run_cases(cases, setup=None, teardown=None):
    """A test's whole run, its exit status returned (for sys.exit).

    setup(), when given, runs first; if it raises, "set-up failed" is logged and no case runs
    (the run fails, and no result line is printed). Then each case: it passes when it added no
    failed check and raised nothing; "N passed, N failed" is printed. teardown(rc), when
    given, runs last whatever happened, with the exit status so far, and returns the final one
    (it may fail a run that passed, e.g. on a daemon's exit status; see stop_all)."""
    rc = 1
    try:
        if setup is not None:
            setup()
        rc = _run_each(cases)
    except Exception as e:
        log("set-up failed: %r" % e)
    finally:
        if teardown is not None:
            rc = teardown(rc)
    return rc


def _run_each(cases):
    for fn in cases:
        before = _failed
        try:
            fn()
        except Exception as e:  # a broken case is a failed one, and the next still runs
            check(False, "%s raised %r" % (fn.__name__, e))
        if _failed == before:
            _cases[0] += 1
        else:
            _cases[1] += 1
            print("FAILED: %s" % fn.__name__, file=sys.stderr, flush=True)
    if _failed > 0 and _cases[1] == 0:
        # A check failed outside every case (set-up): the run fails all the same.
        _cases[1] += 1
        print("FAILED: checks outside the cases", file=sys.stderr, flush=True)
    print("%d passed, %d failed" % (_cases[0], _cases[1]), flush=True)
    return 0 if _cases[1] == 0 and _cases[0] > 0 else 1


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def wait_for(cond, timeout_s, interval_s=0.05):
    """Poll cond() until it is true or timeout_s runs out; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval_s)


def free_port(host="127.0.0.1"):
    """A TCP port that nothing listens on right now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# ---- PostgreSQL ---------------------------------------------------------------------------


def _as_postgres(argv):
    if os.getuid() == 0:
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return [runuser, "-u", "postgres", "--"] + argv
    return argv


def pg_bindir():
    d = os.environ.get("PG_BINDIR")
    if d:
        return d
    initdb = shutil.which("initdb")
    if initdb:
        d = os.path.dirname(os.path.realpath(initdb))
        if os.access(os.path.join(d, "pg_ctl"), os.X_OK):
            return d
    versions = sorted((int(v) for v in os.listdir("/usr/lib/postgresql") if v.isdigit()))
    return "/usr/lib/postgresql/%d/bin" % versions[-1]


class Cluster:
    """A private cluster (pg_fixture.sh in a directory of the test's own), durable as a
    production one is for a process crash: synchronous_commit on, fsync on."""

    def __init__(self, parent):
        self.link = os.path.join(parent, "pg")
        out = subprocess.run([PG_FIXTURE, "start", self.link], capture_output=True, text=True,
                             timeout=120)
        if out.returncode != 0:
            raise RuntimeError("pg_fixture.sh start failed: %s%s" % (out.stdout, out.stderr))
        self.dir = os.path.realpath(self.link)
        with open(os.path.join(self.dir, "env")) as f:
            self.port = int(f.read().split("PGPORT=")[1].split()[0])
        self.data = os.path.join(self.dir, "data")
        self.bindir = pg_bindir()
        self.started = True
        self.proc = None
        # Run the server as a child of ours (through runuser), not daemonised by pg_ctl: a
        # killed postmaster is then reaped at once, and a zombie left to an init that reaps
        # late would hold its pid in postmaster.pid and keep the next start from running.
        r = subprocess.run(_as_postgres([os.path.join(self.bindir, "pg_ctl"), "-D", self.data,
                                         "-m", "fast", "-w", "-t", "60", "stop"]),
                           capture_output=True, text=True, timeout=90)
        if r.returncode != 0 or not self.start():
            raise RuntimeError("could not restart the private cluster: %s" % r.stderr)
        # The fixture trades durability for speed; a crash test needs the real thing.
        psql(self.conninfo("postgres"), "ALTER SYSTEM SET synchronous_commit = on")
        psql(self.conninfo("postgres"), "ALTER SYSTEM SET fsync = on")
        psql(self.conninfo("postgres"), "SELECT pg_reload_conf()")
        check(wait_for(lambda: psql(self.conninfo("postgres"), "SHOW fsync") == "on", 10),
              "fsync is on in the private cluster")

    def conninfo(self, dbname):
        return "host=127.0.0.1 port=%d user=postgres dbname=%s" % (self.port, dbname)

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def kill9(self):
        """SIGKILL the postmaster and every process of the cluster, as a crash would; returns
        when none of them is left."""
        pid = self.postmaster_pid()
        if pid is None:
            return False
        pids = [pid] + children(pid)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        gone = wait_for(lambda: not any(alive(p) for p in pids), 30)
        check(gone, "every PostgreSQL process is gone after SIGKILL")
        if self.proc is not None:
            self.proc.wait(timeout=30)  # runuser, once its postmaster child is reaped
        return gone

    def start(self, timeout_s=60):
        """Start the server (crash recovery first, after a kill) and wait until it accepts
        connections."""
        logf = open(os.path.join(self.dir, "postgres.log"), "ab")
        self.proc = subprocess.Popen(_as_postgres([
            os.path.join(self.bindir, "postgres"), "-D", self.data, "-p", str(self.port)]),
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
        logf.close()
        isready = os.path.join(self.bindir, "pg_isready")
        ok = wait_for(lambda: self.proc.poll() is not None or subprocess.run(
            [isready, "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
            timeout=30).returncode == 0, timeout_s)
        if not ok or self.proc.poll() is not None:
            log("PostgreSQL did not start (see %s/postgres.log)" % self.dir)
            return False
        return True

    def stop(self):
        if self.started:
            subprocess.run([PG_FIXTURE, "stop", self.link], capture_output=True, timeout=120)
            if self.proc is not None:
                self.proc.wait(timeout=60)
            self.started = False


def children(pid):
    """Direct children of pid, from /proc."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def psql(conninfo, sql, check_rc=True):
    """Run sql with psql as the superuser; the output (unaligned, tuples only), stripped."""
    r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                        "-c", sql], capture_output=True, text=True, timeout=60)
    if check_rc and r.returncode != 0:
        raise RuntimeError("psql failed: %s" % r.stderr.strip())
    return r.stdout.strip()


def admin(conninfo, *args, timeout=120):
    """Run survey-admin with --db; the CompletedProcess."""
    exe = os.environ.get("SURVEY_ADMIN", "survey-admin")
    return subprocess.run([exe] + list(args) + ["--db", conninfo], capture_output=True,
                          text=True, timeout=timeout)


def stored_rows(conninfo, wave):
    """{submission_id: (rows, comments)} of the wave in the database of conninfo."""
    out = psql(conninfo,
               "SELECT submission_id, count(*) OVER (PARTITION BY submission_id), "
               "coalesce(answers->>'comments', '') FROM survey.responses "
               "WHERE wave_id = '%s'" % wave)
    rows = {}
    for line in out.splitlines():
        sid, n, comments = line.split("|", 2)
        rows[sid] = (int(n), comments)
    return rows


class Database:
    """A migrated database with a daemon login role of the test's own and open waves."""

    def __init__(self, conninfo):
        self.admin_db = conninfo
        r = admin(conninfo, "migrate")
        if r.returncode != 0:
            raise RuntimeError("survey-admin migrate failed: %s" % r.stderr)
        self.role = "ops%d_%s" % (os.getpid(), uuid.uuid4().hex[:8])
        psql(conninfo, 'CREATE ROLE "%s" LOGIN IN ROLE survey_daemon' % self.role)
        self.daemon_db = conninfo.replace("user=postgres", "user=%s" % self.role)

    def wave(self, wave, access="open", status="open"):
        r = admin(self.admin_db, "wave", "create", wave, "--questionnaire", QUESTIONNAIRE,
                  "--access", access)
        if r.returncode != 0:
            raise RuntimeError("wave create failed: %s" % r.stderr)
        if status != "draft":
            r = admin(self.admin_db, "wave", "open", wave)
            if r.returncode != 0:
                raise RuntimeError("wave open failed: %s" % r.stderr)

    def stored(self, wave):
        """{submission_id: (rows, comments)} of the wave, read as the superuser."""
        return stored_rows(self.admin_db, wave)

    def count(self, sql):
        return int(psql(self.admin_db, sql))

    def drop_role(self):
        psql(self.admin_db, 'DROP ROLE IF EXISTS "%s"' % self.role, check_rc=False)


# ---- certificates and surveyd ---------------------------------------------------------------


def make_ca(directory, *names):
    """deploy/make-ca.sh into directory: (ca.pem, fullchain.pem, server.key) paths."""
    r = subprocess.run(["bash", MAKE_CA, directory] + list(names), capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("make-ca.sh failed: %s" % r.stderr)
    return (os.path.join(directory, "ca.pem"), os.path.join(directory, "fullchain.pem"),
            os.path.join(directory, "server.key"))


class Surveyd:
    """One surveyd child with its log in a file; restartable on the same port."""

    def __init__(self, workdir, cert, key, db, port=None, extra=(), name="surveyd"):
        self.exe = os.environ.get("SURVEYD") or sys.argv[1]
        self.port = port or free_port()
        self.logpath = os.path.join(workdir, "%s.log" % name)
        self.argv = [self.exe, "--cert", cert, "--key", key, "--listen",
                     "127.0.0.1:%d" % self.port, "--db", db, "--threads", "2"] + list(extra)
        self.proc = None
        self.starts = 0

    def spawn(self):
        logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=logf,
                                     stderr=logf)
        logf.close()
        self.starts += 1
        return self

    def start(self, ctx, timeout_s=30):
        """Spawn and wait until /readyz answers 200 (the waves loaded, the database up)."""
        self.spawn()
        ok = wait_for(lambda: self.proc.poll() is not None or ready(self.port, ctx), timeout_s)
        if not ok or self.proc.poll() is not None:
            self.dump_log()
            raise RuntimeError("surveyd did not become ready on port %d" % self.port)
        return self

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout_s=30):
        """SIGTERM and wait: the exit status (None when it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def fds(self):
        """Open descriptors of the process now."""
        try:
            return len(os.listdir("/proc/%d/fd" % self.proc.pid))
        except OSError:
            return -1

    def log_text(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def dump_log(self, lines=60):
        text = self.log_text().splitlines()
        log("--- last %d lines of %s ---" % (lines, self.logpath))
        for line in text[-lines:]:
            log(line)


def client_context(ca):
    """A client context that verifies the server against ca, as a browser would."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def request(port, method, path, body=None, headers=None, ctx=None, src=None, timeout=10,
            host="127.0.0.1"):
    """One request on a new connection: (status, headers dict lower-cased, body bytes), or
    (0, None, exception text) when no complete answer came."""
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=timeout,
                                       source_address=(src, 0) if src else None)
    try:
        h = {"Connection": "close"}
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    except (OSError, http.client.HTTPException, ssl.SSLError) as e:
        return 0, None, repr(e)
    finally:
        conn.close()


def ready(port, ctx):
    return request(port, "GET", "/readyz", ctx=ctx, timeout=2)[0] == 200


def metric(port, ctx, name, src=None, timeout=5):
    """The value of one sample line of /metrics (name with its labels), or None."""
    status, _, body = request(port, "GET", "/metrics", ctx=ctx, src=src, timeout=timeout)
    if status != 200:
        return None
    m = re.search(r"^%s (\d+)$" % re.escape(name), body.decode(), re.M)
    return int(m.group(1)) if m else None


ANSWERS = {"role": "c_level", "industry": "finance", "company_size": "small", "region": "seoul",
           "genai_stage": "production", "use_cases": ["analytics"],
           "budget_top_priority": "genai", "caio": "no", "change_mgmt": "in_place",
           "training": "in_place", "hiring_genai_2025": "yes", "approach": ["general_purpose"]}


def answers(**extra):
    """A complete, valid answers object for the bundled questionnaire, with extra members."""
    a = dict(ANSWERS)
    a.update(extra)
    return a


def submission(sid, ans, token=None):
    doc = {"submission_id": sid, "answers": ans}
    if token is not None:
        doc["token"] = token
    return json.dumps(doc)


# ---- retrying clients -------------------------------------------------------------------------


class Tally:
    """What a fleet of retrying clients saw: acknowledged ids (with the comment each carried),
    every status by count, and attempts that got no answer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}  # submission_id -> comment
        self.created = 0
        self.replayed = 0
        self.statuses = {}
        self.no_answer = 0
        self.unexpected = []  # (sid, status, body) of non-retryable, non-success answers
        self.gave_up = []  # ids never acknowledged before the deadline
        self.ack_times = []  # monotonic time of each acknowledgement

    def note(self, status):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def summary(self):
        return ("acknowledged %d (201: %d, 200 replays: %d), no answer %d, statuses %s, "
                "unexpected %d, gave up %d" % (len(self.acked), self.created, self.replayed,
                                               self.no_answer, dict(sorted(self.statuses.items())),
                                               len(self.unexpected), len(self.gave_up)))


RETRYABLE = (0, 503)


class RetryingClient(threading.Thread):
    """Submits new submissions one after the other until stop is set (or max_new are sent);
    each is retried with the same submission_id after no answer or 503 until it is
    acknowledged (201, or 200 for a replay) or retry_deadline passes after stop. Honours
    Retry-After up to max_backoff_s."""

    def __init__(self, n, port, wave, ctx, tally, stop, max_new=100000, retry_window_s=60,
                 max_backoff_s=1.0, src=None):
        super().__init__(daemon=True)
        self.n, self.port, self.wave, self.ctx = n, port, wave, ctx
        self.tally, self.stop, self.max_new = tally, stop, max_new
        self.retry_window_s, self.max_backoff_s, self.src = retry_window_s, max_backoff_s, src
        self.path = "/v1/waves/%s/responses" % wave

    def one(self, seq):
        sid = str(uuid.UUID(int=(0xa11 << 116) | (self.n << 48) | seq, version=4))
        comment = "client %d submission %d" % (self.n, seq)
        body = submission(sid, answers(comments=comment))
        backoff = 0.05
        giveup_at = None
        while True:
            status, headers, data = request(self.port, "POST", self.path, body=body, ctx=self.ctx,
                                            src=self.src, timeout=15)
            self.tally.note(status)
            if status in (200, 201):
                try:
                    receipt = json.loads(data)
                    check(receipt.get("submission_id") == sid, "the receipt names %s" % sid)
                except ValueError:
                    check(False, "a receipt is JSON")
                with self.tally.lock:
                    self.tally.acked[sid] = comment
                    self.tally.ack_times.append(time.monotonic())
                    if status == 201:
                        self.tally.created += 1
                    else:
                        self.tally.replayed += 1
                return
            if status not in RETRYABLE:
                with self.tally.lock:
                    self.tally.unexpected.append((sid, status, data[:300]))
                return
            if status == 0:
                with self.tally.lock:
                    self.tally.no_answer += 1
            elif "retry-after" not in headers:
                # A 503 must say when to come back (RFC 9110 §10.2.3; DESIGN.md).
                with self.tally.lock:
                    self.tally.unexpected.append((sid, status, b"503 without Retry-After"))
                return
            if self.stop.is_set():
                giveup_at = giveup_at or time.monotonic() + self.retry_window_s
                if time.monotonic() >= giveup_at:
                    with self.tally.lock:
                        self.tally.gave_up.append(sid)
                    return
            wait = backoff
            if headers and "retry-after" in headers:
                try:
                    wait = min(float(headers["retry-after"]), self.max_backoff_s)
                except ValueError:
                    check(False, "Retry-After is a number of seconds")
            backoff = min(backoff * 2, self.max_backoff_s)
            # A client's backoff between attempts (as a browser's retry would wait), not a
            # synchronisation of the test.
            time.sleep(wait)

    def run(self):
        for seq in range(1, self.max_new + 1):
            if self.stop.is_set():
                break
            self.one(seq)


class Fleet:
    """RetryingClients numbered ids, all on one Tally (fleet.tally) and one stop event, started
    at once."""

    def __init__(self, ids, port, wave, ctx, retry_window_s=60):
        self.tally = Tally()
        self.stopping = threading.Event()
        self.clients = [RetryingClient(n, port, wave, ctx, self.tally, self.stopping,
                                       retry_window_s=retry_window_s) for n in ids]
        for c in self.clients:
            c.start()

    def acks(self):
        """How many submissions were acknowledged so far."""
        with self.tally.lock:
            return len(self.tally.acked)

    def stop(self, timeout_s=120, check_each=False):
        """No new submissions; wait up to timeout_s for each client in turn (what it still
        retries ends within its retry window), with check_each a check that it finished."""
        self.stopping.set()
        for c in self.clients:
            c.join(timeout=timeout_s)
            if check_each:
                check(not c.is_alive(), "client %d finished" % c.n)


def verify_tally(tally, stored, label):
    """The audit: every acknowledged submission stored exactly once with its own answers, no
    duplicates, nothing unexpected. Prints the figures; returns (acked, stored, dup, lost)."""
    acked = tally.acked
    lost = [sid for sid in acked if sid not in stored]
    dup = [sid for sid, (n, _) in stored.items() if n != 1]
    wrong = [sid for sid in acked if sid in stored and stored[sid][1] != acked[sid]]
    extra = [sid for sid in stored if sid not in acked]
    log("%s: %s" % (label, tally.summary()))
    log("%s: acknowledged %d, stored %d rows of %d ids, duplicated %d, lost %d, "
        "stored but never acknowledged %d (the client gave up on %d)" % (
            label, len(acked), sum(n for n, _ in stored.values()), len(stored), len(dup),
            len(lost), len(extra), len(tally.gave_up)))
    check(not lost, "%s: no acknowledged submission is lost (lost: %s)" % (label, lost[:5]))
    check(not dup, "%s: no submission is stored twice (%s)" % (label, dup[:5]))
    check(not wrong, "%s: every stored row carries its own answers (%s)" % (label, wrong[:5]))
    check(not tally.unexpected,
          "%s: clients see only 201/200 or retryable answers (%s)" % (label, tally.unexpected[:3]))
    check(not tally.gave_up, "%s: every submission is acknowledged in the end (%d not)" % (
        label, len(tally.gave_up)))
    # Stored rows that were never acknowledged can only be ones the client gave up on.
    check(all(sid in tally.gave_up for sid in extra),
          "%s: nothing is stored that no client sent" % label)
    return len(acked), sum(n for n, _ in stored.values()), len(dup), len(lost)


class Workdir:
    """A temporary directory that postgres can enter, removed at exit unless the test failed."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, 0o755)

    def remove(self):
        if _failed == 0:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            log("kept %s for inspection" % self.path)


# ---- set-up and teardown of a test's state ---------------------------------------------------


def start_surveyd(state, extra=()):
    """The usual daemon of a test, on what set-up put in state ("work", a Workdir, and "db", a
    Database): a CA and certificate from deploy/make-ca.sh in work/tls (state["ca"],
    state["cert"], state["key"]), a client context that trusts it (state["ctx"]), and surveyd
    with extra arguments on the daemon's role, started and ready: returned."""
    work = state["work"].path
    state["ca"], state["cert"], state["key"] = make_ca(os.path.join(work, "tls"))
    state["ctx"] = client_context(state["ca"])
    d = Surveyd(work, state["cert"], state["key"], state["db"].daemon_db, extra=extra)
    return d.start(state["ctx"])


def stop_surveyd(d, rc, what="surveyd exits 0 on SIGTERM", dump_lines=30, check_if_failed=True):
    """The end of a test's surveyd (nothing when d is None or never spawned): SIGTERM, the exit
    status checked with what (a non-zero one, e.g. ASan's leak report, fails the run; only when
    the run passed so far unless check_if_failed), and the last dump_lines of its log shown when
    the run failed. Returns the exit status of the run."""
    if d is None or d.proc is None:
        return rc
    status = d.stop()
    if (check_if_failed or rc == 0) and not check(status == 0, "%s (%r)" % (what, status)):
        rc = 1
    if rc != 0:
        d.dump_log(dump_lines)
    return rc


def stop_all(state, rc, **surveyd_opts):
    """A teardown for run_cases over a test's state dict: stops what its set-up put there, in
    this order: state["surveyd"] (stop_surveyd, with surveyd_opts), the daemon's database role
    of state["db"], the private cluster state["cluster"], the work directory state["work"]
    (kept when a check failed). Returns the exit status of the run."""
    rc = stop_surveyd(state.get("surveyd"), rc, **surveyd_opts)
    if "db" in state:
        state["db"].drop_role()
    if "cluster" in state:
        state["cluster"].stop()
    if "work" in state:
        state["work"].remove()
    return rc


# ---- HAProxy and PgBouncer, on the deploy/ configurations ---------------------------------------


def terminate(proc, timeout_s=20):
    """SIGTERM proc if it still runs and wait for it; SIGKILL after timeout_s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Haproxy:
    """HAProxy in the foreground on deploy/haproxy/10-surveyd.cfg, with a test global section
    (no chroot, no user switch, a stats socket in workdir) and the environment it reads."""

    def __init__(self, workdir, servers, ca_file, server_name="localhost", name="haproxy",
                 conn_rate_10s=100000, conn_per_source=1000):
        self.port = free_port()
        self.sock = os.path.join(workdir, "%s.sock" % name)
        self.logpath = os.path.join(workdir, "%s.log" % name)
        glob = os.path.join(workdir, "%s-global.cfg" % name)
        with open(glob, "w") as f:
            f.write("global\n    maxconn 4000\n    stats socket %s mode 600 level admin\n"
                    "    ssl-default-server-options ssl-min-ver TLSv1.2\n" % self.sock)
        self.env = dict(os.environ)
        self.env.update({"SURVEY_LB_BIND": "127.0.0.1:%d" % self.port,
                         "SURVEY_LB_SERVER_NAME": server_name, "SURVEY_LB_CA_FILE": ca_file,
                         "SURVEY_LB_CONN_RATE_10S": str(conn_rate_10s),
                         "SURVEY_LB_CONN_PER_SOURCE": str(conn_per_source)})
        for i, s in enumerate(servers, 1):
            self.env["SURVEYD%d" % i] = s
        self.argv = ["haproxy", "-db", "-f", glob, "-f",
                     os.path.join(SOURCE_DIR, "deploy/haproxy/10-surveyd.cfg")]
        logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf)
        logf.close()

    def command(self, cmd):
        """A command on the stats socket: its answer ("" when the socket is not there yet)."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(5)
                s.connect(self.sock)
                s.sendall(cmd.encode() + b"\n")
                chunks = []
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    chunks.append(b)
                return b"".join(chunks).decode(errors="replace")
        except OSError:
            return ""

    def server_states(self):
        """{server name: "UP" | "DOWN" | ...} of backend surveyd, from "show stat"."""
        states = {}
        for line in self.command("show stat").splitlines():
            f = line.split(",")
            if len(f) > 17 and f[0] == "surveyd" and f[1] not in ("BACKEND", "FRONTEND"):
                states[f[1]] = f[17]
        return states

    def stop(self):
        terminate(self.proc)


class Pgbouncer:
    """PgBouncer on deploy/pgbouncer/pgbouncer.ini, with the addresses, paths, TLS to the
    server and the [databases] line replaced for a loopback test cluster; it runs as postgres
    (it refuses root) and authenticates users from an auth file of SCRAM secrets."""

    def __init__(self, workdir, pg_host, pg_port, dbname, users):
        import configparser
        self.port = free_port()
        self.dir = os.path.join(workdir, "pgbouncer")
        os.makedirs(self.dir, exist_ok=True)
        cp = configparser.ConfigParser(comment_prefixes=(";",), inline_comment_prefixes=None,
                                       interpolation=None)
        cp.optionxform = str
        cp.read(os.path.join(SOURCE_DIR, "deploy/pgbouncer/pgbouncer.ini"))
        cp["databases"] = {"survey": "host=%s port=%d dbname=%s" % (pg_host, pg_port, dbname)}
        pb = cp["pgbouncer"]
        pb["listen_addr"] = "127.0.0.1"
        pb["listen_port"] = str(self.port)
        pb["unix_socket_dir"] = ""
        pb["pidfile"] = os.path.join(self.dir, "pgbouncer.pid")
        pb["logfile"] = os.path.join(self.dir, "pgbouncer.log")
        pb["auth_file"] = os.path.join(self.dir, "userlist.txt")
        pb["server_tls_sslmode"] = "disable"  # loopback test cluster without TLS
        with open(pb["auth_file"], "w") as f:
            for user, secret in users.items():
                f.write('"%s" "%s"\n' % (user, secret))
        self.ini = os.path.join(self.dir, "pgbouncer.ini")
        with open(self.ini, "w") as f:
            cp.write(f)
        if os.getuid() == 0:
            subprocess.run(["chown", "-R", "postgres:", self.dir], check=True)
        argv = ["pgbouncer", self.ini] + (["-u", "postgres"] if os.getuid() == 0 else [])
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def listening(self):
        with socket.socket() as s:
            s.settimeout(1)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "pgbouncer.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        terminate(self.proc)


def conninfo_get(conninfo, key):
    for part in conninfo.split():
        if part.startswith(key + "="):
            return part.split("=", 1)[1]
    return None
