#!/usr/bin/env python3
"""
Backup and restore, as docs/operations.md tells an operator to do it: responses go in through
surveyd, the wave is closed and indexed; then pg_dumpall --roles-only and pg_dump -Fc of the
database, restored (psql, pg_restore --exit-on-error) into a fresh cluster of its own. The
restored database holds the same rows (same digest of every table), reprints the recorded index
run byte for byte (index --run), computes an identical new index (json, table and csv, weighted
and not). pg_basebackup of that cluster (WAL streamed), started as a cluster of its own, holds the
same rows and gives the same index. A surveyd started on the restored database answers 410 for
the closed wave, and stores then replays (201, 200 with the same receipt) in a new one.

usage: backup_restore_round_trip.py SURVEYD (run through ctest: a fresh database in $DATABASE_URL)
"""

import json
import os
import random
import subprocess
import sys
import uuid

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import opslib  # noqa: E402
from opslib import check, log  # noqa: E402

WAVE = "backup"
MARGINS = os.path.join(opslib.SOURCE_DIR, "deploy/margins-kr-2025.json")
TABLES = ("questionnaires", "waves", "invitations", "responses", "index_runs", "audit_log")
state = {}


def digest(conninfo):
    """md5 of every survey table's rows in key order, per table."""
    out = {}
    for t in TABLES:
        out[t] = opslib.psql(conninfo, "SELECT count(*) || ' ' || coalesce(md5(string_agg("
                             "t::text, E'\\n' ORDER BY t.id)), '') FROM survey.%s t" % t
                             if t != "invitations" else
                             "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\\n' "
                             "ORDER BY t.token_sha256)), '') FROM survey.invitations t")
    return out


def random_answers(rng, n):
    stage = rng.choice(["none", "exploring", "experimenting", "production"])
    a = {"role": rng.choice(["c_level", "vp_director", "head_of_it"] * 8 + ["other"]),
         "industry": rng.choice(["finance", "ict", "manufacturing", "retail", "other"]),
         "company_size": rng.choice(["small", "mid", "large"]),
         "region": rng.choice(["seoul", "gyeonggi_incheon", "other"]), "genai_stage": stage,
         "budget_top_priority": rng.choice(["genai", "security", "compute", "other"]),
         "caio": rng.choice(["appointed", "planned", "no"]),
         "change_mgmt": rng.choice(["in_place", "planned_2025", "no_plan"]),
         "training": rng.choice(["in_place", "planned_2025", "no_plan"]),
         "hiring_genai_2025": rng.choice(["yes", "no", "unsure"]),
         "approach": rng.sample(["general_purpose", "custom_on_pretrained",
                                 "fine_tune_own_data", "build_from_scratch"], rng.randint(1, 3)),
         "comments": "respondent %d, 한국어 주석" % n}
    if stage in ("experimenting", "production"):
        a["use_cases"] = rng.sample(["customer_service", "software_development",
                                     "document_processing", "marketing", "analytics"], 2)
    if n % 3 == 0:
        a["genai_budget_share"] = round(rng.uniform(0, 100), 1)
    if a["role"] == "other":
        return {"role": "other"}  # screened out: nothing else is asked
    return a


def index(conninfo, *extra):
    r = opslib.admin(conninfo, "index", WAVE, *extra)
    check(r.returncode == 0, "index %s: %s" % (" ".join(extra), r.stderr.strip()))
    return r.stdout


def setup():
    state["work"] = opslib.Workdir("ops-backup-")
    db = state["db"] = opslib.Database(os.environ["SURVEY_TEST_DB"])
    r = opslib.admin(db.admin_db, "wave", "create", WAVE, "--questionnaire", opslib.QUESTIONNAIRE,
                     "--access", "open", "--margins", MARGINS)
    check(r.returncode == 0, "wave create: %s" % r.stderr)
    check(opslib.admin(db.admin_db, "wave", "open", WAVE).returncode == 0, "wave open")
    # Not state["surveyd"]: this one is stopped before the cases, its exit status checked here.
    d = opslib.start_surveyd(state, extra=["--rate-limit", "0"])
    rng = random.Random(7)
    receipts = {}
    for n in range(1, 121):
        sid = str(uuid.UUID(int=(0xbac << 116) | n, version=4))
        st, _, body = opslib.request(d.port, "POST", "/v1/waves/%s/responses" % WAVE,
                                     body=opslib.submission(sid, random_answers(rng, n)),
                                     ctx=state["ctx"])
        check(st == 201, "submission %d stored (%d %r)" % (n, st, body[:300]))
        if st == 201:
            receipts[sid] = json.loads(body)
    state["receipts"] = receipts
    check(d.stop() == 0, "surveyd exits 0")
    check(opslib.admin(db.admin_db, "wave", "close", WAVE).returncode == 0, "wave close")


def dump_restore_gives_the_same_index():
    db, work = state["db"], state["work"]
    before = {"json": index(db.admin_db, "--format", "json"),
              "raked": index(db.admin_db, "--format", "json", "--weights", "rake",
                             "--by", "industry,company_size"),
              "table": index(db.admin_db, "--format", "table", "--by", "industry"),
              "csv": index(db.admin_db, "--format", "csv", "--weights", "rake")}
    run_id = opslib.psql(db.admin_db, "SELECT max(id) FROM survey.index_runs")
    reprint_before = index(db.admin_db, "--run", run_id, "--format", "json")
    digest_before = digest(db.admin_db)

    # The backup, as the operator runs it.
    roles = os.path.join(work.path, "roles.sql")
    dump = os.path.join(work.path, "survey.dump")
    with open(roles, "w") as f:
        r = subprocess.run(["pg_dumpall", "--roles-only", "-d", db.admin_db], stdout=f,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    check(r.returncode == 0, "pg_dumpall --roles-only: %s" % r.stderr)
    r = subprocess.run(["pg_dump", "-Fc", "-f", dump, "-d", db.admin_db], capture_output=True,
                       text=True, timeout=300)
    check(r.returncode == 0, "pg_dump -Fc: %s" % r.stderr)

    # The restore, into a cluster that never saw this database.
    cluster = opslib.Cluster(work.path)
    state["cluster"] = cluster
    # Roles first (the cluster's own superuser already exists: that one line fails, by design).
    r = subprocess.run(["psql", "-X", "-q", "-d", cluster.conninfo("postgres"), "-f", roles],
                       capture_output=True, text=True, timeout=120)
    check("survey_daemon" in opslib.psql(cluster.conninfo("postgres"),
                                         "SELECT string_agg(rolname, ',') FROM pg_roles"),
          "the group roles are restored")
    opslib.psql(cluster.conninfo("postgres"), "CREATE DATABASE survey_restored")
    restored = cluster.conninfo("survey_restored")
    r = subprocess.run(["pg_restore", "--exit-on-error", "-d", restored, dump],
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "pg_restore --exit-on-error: %s" % r.stderr)

    check(digest(restored) == digest_before, "every table's rows are identical after restore")
    check(opslib.admin(restored, "migrate").returncode == 0, "migrate on the restored copy")
    check(index(restored, "--run", run_id, "--format", "json") == reprint_before,
          "the recorded run reprints byte for byte")
    after = {"json": index(restored, "--format", "json"),
             "raked": index(restored, "--format", "json", "--weights", "rake",
                            "--by", "industry,company_size"),
             "table": index(restored, "--format", "table", "--by", "industry"),
             "csv": index(restored, "--format", "csv", "--weights", "rake")}
    for k in before:
        check(after[k] == before[k] and before[k], "index %s identical after restore" % k)
    state["digest"], state["index_json"] = digest_before, before["json"]
    state["restored"] = restored
    doc = json.loads(after["json"] or "{}")
    log("restored: %s rows; index n=%s, composite %.3f; %d bytes of dump" % (
        digest_before["responses"].split()[0], doc.get("n"),
        (doc.get("composite") or {}).get("estimate", float("nan")), os.path.getsize(dump)))
    check(doc.get("n", 0) > 90, "the index counts the eligible responses (%s)" % doc.get("n"))
    state["restored"] = restored


def base_backup_starts_as_the_same_database():
    """pg_basebackup of the restored cluster (WAL streamed with it), started as a cluster of its
    own: the same rows, the same index."""
    if "restored" not in state:
        check(False, "restored")
        return
    cluster = state["cluster"]
    base = os.path.join(cluster.dir, "base")
    port = opslib.free_port()
    # The restored database as it is now (the index runs above were recorded in it too).
    at_backup = digest(state["restored"])
    r = subprocess.run(opslib._as_postgres([
        os.path.join(cluster.bindir, "pg_basebackup"), "-h", "127.0.0.1", "-p", str(cluster.port),
        "-U", "postgres", "-D", base, "-X", "stream", "-c", "fast", "--no-sync"]),
        capture_output=True, text=True, timeout=300)
    if not check(r.returncode == 0, "pg_basebackup: %s" % r.stderr):
        return
    logf = open(os.path.join(cluster.dir, "base.log"), "ab")
    proc = subprocess.Popen(opslib._as_postgres([
        os.path.join(cluster.bindir, "postgres"), "-D", base, "-p", str(port)]),
        stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
    logf.close()
    copy = "host=127.0.0.1 port=%d user=postgres dbname=survey_restored" % port
    try:
        up = opslib.wait_for(lambda: proc.poll() is not None or subprocess.run(
            ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode == 0, 60)
        if not check(up and proc.poll() is None, "the base backup starts as a cluster"):
            return
        check(digest(copy) == at_backup, "every table's rows are identical in the copy")
        check(at_backup["responses"] == state["digest"]["responses"], "the same responses")
        check(index(copy, "--format", "json") == state["index_json"],
              "the index computed on the copy is identical")
    finally:
        if proc.poll() is None:
            proc.terminate()  # SIGTERM: smart shutdown, as pg_ctl stop -m smart
            proc.wait(timeout=60)


def surveyd_runs_on_the_restored_database():
    if "restored" not in state:
        check(False, "restored")
        return
    restored, cluster = state["restored"], state["cluster"]
    db2 = opslib.Database(restored)
    # Still closed after restore: submissions are refused, the receipts replay is the database's.
    d = opslib.Surveyd(state["work"].path, state["cert"], state["key"], db2.daemon_db,
                       name="surveyd-restored")
    d.start(state["ctx"])
    sid = next(iter(state["receipts"]))
    st, _, _ = opslib.request(d.port, "POST", "/v1/waves/%s/responses" % WAVE, ctx=state["ctx"],
                              body=opslib.submission(sid, opslib.answers()))
    check(st == 410, "the restored wave is still closed (%d)" % st)
    opslib.psql(restored, "INSERT INTO survey.waves (id, questionnaire_id, status, access) "
                "SELECT 'backup-2', questionnaire_id, 'draft', 'open' FROM survey.waves "
                "WHERE id = '%s'" % WAVE)
    check(opslib.admin(restored, "wave", "open", "backup-2").returncode == 0, "a new wave opens")
    check(opslib.wait_for(lambda: opslib.request(
        d.port, "GET", "/v1/waves/backup-2/questionnaire", ctx=state["ctx"])[0] == 200, 10),
        "surveyd sees the new wave")
    body = opslib.submission(str(uuid.uuid4()), opslib.answers())
    st1, _, r1 = opslib.request(d.port, "POST", "/v1/waves/backup-2/responses", body=body,
                                ctx=state["ctx"])
    st2, _, r2 = opslib.request(d.port, "POST", "/v1/waves/backup-2/responses", body=body,
                                ctx=state["ctx"])
    check(st1 == 201 and st2 == 200 and r1 == r2, "stored once, then replayed (%d, %d)"
          % (st1, st2))
    check(d.stop() == 0, "surveyd on the restored database exits 0")


def main():
    return opslib.run_cases([dump_restore_gives_the_same_index,
                             base_backup_starts_as_the_same_database,
                             surveyd_runs_on_the_restored_database],
                            setup=setup, teardown=lambda rc: opslib.stop_all(state, rc))


if __name__ == "__main__":
    sys.exit(main())
