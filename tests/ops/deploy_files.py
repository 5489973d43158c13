#!/usr/bin/env python3
"""
The deploy/ files do what they say. In a private cluster set up with deploy/postgres
(postgresql.conf's durability, SCRAM and TLS settings, pg_hba.conf with the addresses moved to
loopback, roles.sql run as the superuser over the local socket): migrations run as
survey_owner, waves are made by analyst, and surveyd, configured by nothing but
deploy/systemd/surveyd.env (paths, port and credentials replaced), stores a submission over a
verified TLS database connection. Refused: a wrong password, a connection without TLS, an MD5
password, the superuser over TCP, surveyd reading responses. The unit passes systemd-analyze
verify and scores as well exposed as its hardening says; the env file names every surveyd
option and nothing else; HAProxy accepts its configuration.

usage: deploy_files.py SURVEYD
"""

import os
import re
import shutil
import subprocess
import sys
import uuid

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
from opslib import check, log  # noqa: E402

DEPLOY = os.path.join(opslib.SOURCE_DIR, "deploy")
SURVEYD = os.environ.get("SURVEYD") or sys.argv[1]
state = {}
PASSWORDS = {r: "%s-%s" % (r, uuid.uuid4().hex) for r in ("owner", "surveyd", "analyst")}


def conninfo(user, password, ssl=True):
    c = state["cluster"]
    s = "host=127.0.0.1 port=%d dbname=survey user=%s password=%s connect_timeout=5" % (
        c.port, user, password)
    if ssl:
        s += " sslmode=verify-full sslrootcert=%s" % state["ca"]
    else:
        s += " sslmode=disable"
    return s


def login(conn):
    """psql's verdict on a login: (returncode, stderr)."""
    r = subprocess.run(["psql", "-X", "-At", "-d", conn, "-c", "SELECT current_user"],
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stderr.strip()


def env_file(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                out[k] = v
    return out


def setup():
    work = opslib.Workdir("ops-deploy-")
    state["work"] = work
    cluster = opslib.Cluster(work.path)
    state["cluster"] = cluster
    ca, _, _ = opslib.make_ca(os.path.join(work.path, "tls"))
    state["ca"] = ca
    # The database server's own certificate, readable by postgres only.
    pgtls = os.path.join(cluster.dir, "tls")
    os.makedirs(pgtls)
    for f in ("server.pem", "server.key"):
        shutil.copy(os.path.join(work.path, "tls", f), pgtls)
    if os.getuid() == 0:
        subprocess.run(["chown", "-R", "postgres:", pgtls], check=True)
    os.chmod(os.path.join(pgtls, "server.key"), 0o600)

    # postgresql.conf from deploy/, but for what is about this machine's paths and archives.
    admin = cluster.conninfo("postgres")
    with open(os.path.join(DEPLOY, "postgres/postgresql.conf")) as f:
        for line in f:
            m = re.match(r"^(\w+)\s*=\s*(.+?)\s*$", line)
            if not m or m.group(1).startswith(("archive_", "max_", "wal_level")):
                continue
            k, v = m.group(1), m.group(2).strip("'")
            if k == "ssl_cert_file":
                v = os.path.join(pgtls, "server.pem")
            elif k == "ssl_key_file":
                v = os.path.join(pgtls, "server.key")
            opslib.psql(admin, "ALTER SYSTEM SET %s = '%s'" % (k, v))
    # pg_hba.conf from deploy/, every address moved to loopback.
    with open(os.path.join(DEPLOY, "postgres/pg_hba.conf")) as f:
        hba = re.sub(r"\b(192\.0\.2\.0/24|198\.51\.100\.\d+/32|203\.0\.113\.\d+/32)\b",
                     "127.0.0.1/32", f.read())
    with open(os.path.join(cluster.data, "pg_hba.conf"), "w") as f:
        f.write(hba)
    opslib.psql(admin, "SELECT pg_reload_conf()")

    # roles.sql as the superuser, over the local socket (peer).
    psql_local = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", cluster.dir, "-p",
                  str(cluster.port), "-U", "postgres", "-d", "postgres"]
    argv = psql_local + ["-v", "owner_password=" + PASSWORDS["owner"],
                         "-v", "surveyd_password=" + PASSWORDS["surveyd"],
                         "-v", "analyst_password=" + PASSWORDS["analyst"],
                         "-f", "-"]
    # The file goes in on standard input and the command runs from "/": as `postgres`, psql
    # may not be able to enter a checkout that lives in a private directory (a CI's mktemp).
    with open(os.path.join(DEPLOY, "postgres/roles.sql")) as f:
        r = subprocess.run(opslib._as_postgres(argv), stdin=f, capture_output=True, text=True,
                           timeout=60, cwd="/")
    if r.returncode != 0:
        raise RuntimeError("roles.sql failed: %s" % r.stderr)
    state["psql_local"] = psql_local


def roles_and_hba_let_each_role_do_its_job_only():
    owner = conninfo("survey_owner", PASSWORDS["owner"])
    analyst = conninfo("analyst", PASSWORDS["analyst"])
    r = opslib.admin(owner, "migrate")
    check(r.returncode == 0, "migrate as survey_owner over TLS with SCRAM: %s" % r.stderr)
    with open(os.path.join(DEPLOY, "postgres/after-first-migrate.sql")) as f:
        r = subprocess.run(opslib._as_postgres(state["psql_local"] + ["-f", "-"]), stdin=f,
                           capture_output=True, text=True, timeout=30, cwd="/")
    check(r.returncode == 0, "after-first-migrate.sql: %s" % r.stderr)
    r = opslib.admin(owner, "migrate")
    check(r.returncode == 0, "migrate again (nothing to do) without CREATEROLE: %s" % r.stderr)
    r = opslib.admin(analyst, "wave", "create", "deploy", "--questionnaire",
                     opslib.QUESTIONNAIRE, "--access", "open")
    check(r.returncode == 0, "wave create as analyst: %s" % r.stderr)
    check(opslib.admin(analyst, "wave", "open", "deploy").returncode == 0, "wave open as analyst")

    rc, err = login(conninfo("surveyd", PASSWORDS["surveyd"]))
    check(rc == 0, "surveyd logs in with SCRAM over verified TLS (%s)" % err)
    rc, err = login(conninfo("surveyd", "wrong"))
    check(rc != 0 and "password authentication failed" in err, "a wrong password is refused")
    rc, err = login(conninfo("surveyd", PASSWORDS["surveyd"], ssl=False))
    check(rc != 0 and "pg_hba.conf" in err, "a connection without TLS is refused (%s)" % err)
    rc, err = login("host=127.0.0.1 port=%d dbname=postgres user=postgres sslmode=require "
                    "connect_timeout=5" % state["cluster"].port)
    check(rc != 0, "the superuser cannot log in over TCP (%s)" % err)
    # An MD5 password cannot pass scram-sha-256.
    r = subprocess.run(opslib._as_postgres(state["psql_local"] + [
        "-d", "survey", "-c", "SET password_encryption = 'md5'; "
        "CREATE ROLE md5_user LOGIN IN ROLE survey_admin PASSWORD 'md5-secret'"]),
        capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "an md5 role is made for the check: %s" % r.stderr)
    rc, err = login(conninfo("md5_user", "md5-secret"))
    check(rc != 0, "a role with an MD5 password is refused (%s)" % err)
    r = subprocess.run(["psql", "-X", "-At", "-d", conninfo("surveyd", PASSWORDS["surveyd"]),
                        "-c", "SELECT count(*) FROM survey.responses"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "permission denied" in r.stderr,
          "surveyd cannot read responses (%s)" % r.stderr.strip())


def surveyd_runs_from_the_env_file_alone():
    env = env_file(os.path.join(DEPLOY, "systemd/surveyd.env"))
    help_text = subprocess.run([SURVEYD, "--help"], capture_output=True, text=True).stdout + \
        subprocess.run([SURVEYD, "--help"], capture_output=True, text=True).stderr
    known = set(re.findall(r"\bSURVEYD_[A-Z_]+\b", help_text))
    check(len(known) > 10, "surveyd --help lists its variables")
    with open(os.path.join(DEPLOY, "systemd/surveyd.env")) as f:
        named = set(env) | set(re.findall(r"^#(SURVEYD_[A-Z_]+)=", f.read(), re.M))
    check(named == known, "the env file names every option (set, or shown commented out) and "
          "nothing else (missing %s, unknown %s)" % (sorted(known - named), sorted(named - known)))
    work = state["work"].path
    port = opslib.free_port()
    env.update({"SURVEYD_LISTEN": "127.0.0.1:%d" % port,
                "SURVEYD_CERT": os.path.join(work, "tls/fullchain.pem"),
                "SURVEYD_KEY": os.path.join(work, "tls/server.key"),
                "SURVEYD_DB": conninfo("surveyd", PASSWORDS["surveyd"]) +
                " target_session_attrs=read-write application_name=surveyd",
                "SURVEYD_THREADS": "2"})
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SURVEYD_", "PG"))}
    full.update(env)
    logpath = os.path.join(work, "surveyd-env.log")
    with open(logpath, "wb") as logf:
        proc = subprocess.Popen([SURVEYD], env=full, stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=logf)
    ctx = opslib.client_context(os.path.join(work, "tls/ca.pem"))
    try:
        up = opslib.wait_for(lambda: proc.poll() is not None or opslib.ready(port, ctx), 30)
        check(up and proc.poll() is None, "surveyd is ready with the env file's settings")
        sid = str(uuid.uuid4())
        st, _, _ = opslib.request(port, "POST", "/v1/waves/deploy/responses", ctx=ctx,
                                  body=opslib.submission(sid, opslib.answers()))
        check(st == 201, "a submission is stored (%d)" % st)
        n = opslib.psql(conninfo("analyst", PASSWORDS["analyst"]),
                        "SELECT count(*) FROM survey.responses WHERE submission_id = '%s'" % sid)
        check(n == "1", "the analyst sees the stored row")
    finally:
        proc.terminate()
        check(proc.wait(timeout=45) == 0, "surveyd exits 0 on SIGTERM")
        if opslib._failed:
            with open(logpath, errors="replace") as f:
                log(f.read()[-3000:])


def systemd_unit_verifies_and_is_hardened():
    analyze = shutil.which("systemd-analyze")
    if not check(analyze is not None, "systemd-analyze is installed (package systemd)"):
        return
    work = state["work"].path
    unit_dir = os.path.join(work, "units")
    os.makedirs(unit_dir)
    with open(os.path.join(DEPLOY, "systemd/surveyd.service")) as f:
        unit = f.read()
    check("ExecStart=/usr/local/bin/surveyd" in unit, "the unit runs /usr/local/bin/surveyd")
    # The same unit, pointing at the built daemon and a copy of the env file.
    unit = unit.replace("/usr/local/bin/surveyd", SURVEYD).replace(
        "/etc/surveyd/surveyd.env", os.path.join(DEPLOY, "systemd/surveyd.env"))
    path = os.path.join(unit_dir, "surveyd.service")
    with open(path, "w") as f:
        f.write(unit)
    r = subprocess.run([analyze, "verify", path], capture_output=True, text=True, timeout=60)
    problems = [line for line in (r.stdout + r.stderr).splitlines()
                if "surveyd.service" in line]
    check(r.returncode == 0 and not problems, "systemd-analyze verify: %s" % problems)
    for key in ("User=surveyd", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "LimitNOFILE=65536",
                "EnvironmentFile=", "StandardError=journal"):
        check(re.search(r"^%s" % re.escape(key), unit, re.M), "the unit sets %s" % key)
    r = subprocess.run([analyze, "security", "--offline=yes", path], capture_output=True,
                       text=True, timeout=60)
    m = re.search(r"Overall exposure level for surveyd.service: ([0-9.]+)", r.stdout + r.stderr)
    check(m is not None, "systemd-analyze security rates the unit")
    if m:
        log("systemd-analyze security: exposure %s (0 best, 10 worst)" % m.group(1))
        check(float(m.group(1)) <= 2.0, "exposure at most 2.0 (%s)" % m.group(1))
    # The env file names the limit the unit sets.
    env = env_file(os.path.join(DEPLOY, "systemd/surveyd.env"))
    check(int(env["SURVEYD_MAX_CONNECTIONS"]) + 64 <= 65536,
          "max connections fit in LimitNOFILE")


def haproxy_accepts_its_configuration():
    env = dict(os.environ)
    env.update(env_file(os.path.join(DEPLOY, "haproxy/haproxy.env")))
    env["SURVEY_LB_CA_FILE"] = state["ca"]
    r = subprocess.run(["haproxy", "-c", "-f", os.path.join(DEPLOY, "haproxy/00-global.cfg"),
                        "-f", os.path.join(DEPLOY, "haproxy/10-surveyd.cfg")], env=env,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and "Configuration file is valid" in r.stdout + r.stderr,
          "haproxy -c: %s" % (r.stdout + r.stderr).strip()[-600:])
    warnings = [line for line in (r.stdout + r.stderr).splitlines() if "WARNING" in line]
    check(not warnings, "haproxy -c without warnings (%s)" % warnings)


def main():
    return opslib.run_cases([roles_and_hba_let_each_role_do_its_job_only,
                             surveyd_runs_from_the_env_file_alone,
                             systemd_unit_verifies_and_is_hardened,
                             haproxy_accepts_its_configuration],
                            setup=setup, teardown=lambda rc: opslib.stop_all(state, rc))


if __name__ == "__main__":
    sys.exit(main())
