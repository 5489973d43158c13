#!/usr/bin/env bash
# The surveyd benchmark. Not a test: run by hand, read the figures.
#
#   bash tests/bench/run.sh            # DURATION=15 s per measured run
#
# What it does, all on this machine, loopback / Unix sockets only, every step bounded in time:
#   1. builds Release (build/bench: surveyd, survey-admin) and tests/bench/idle_conns.c;
#   2. starts a private, durable PostgreSQL 15 cluster in a temporary folder (fsync,
#      synchronous_commit, full_page_writes at their defaults: on), migrates it, creates the
#      daemon's login role (IN ROLE survey_daemon) and an open-access wave of the bundled
#      questionnaire;
#   3. makes a self-signed P-256 certificate;
#   4. runs, one after another, with the same wrk settings after a short warm-up each:
#        (a) surveyd as built, --threads 2 --rate-limit 0
#        (b) the same with --batch-max 1 (no group commit)
#        (c) nginx answering `return 201` on the same certificate (a reference for TLS+HTTP)
#      and records requests/s, p50/p99, CPU of the server and of PostgreSQL per 1,000
#      submissions, and the rows stored (which must equal the 2xx answers);
#   5. opens IDLE_CONNS (10,000) idle TLS connections (tests/bench/idle_conns.c) to a fresh
#      surveyd and measures its memory per connection (RSS and smaps_rollup deltas / N), and
#      the same for nginx's workers as a reference (the same OpenSSL);
#   6. extras, not part of the figures above: (PROFILE=1, the default when perf works) a perf
#      profile of a batched run; (SQL_PROBE=1) pgbench on survey.submit_responses with batches
#      of 1, 16 and 256 items, to show what the database spends per item;
#   7. prints a summary and writes it to build/bench/results.md (logs in build/bench/logs/).
#
# Knobs (environment): DURATION (15), WARMUP (3), CONNS (64), WRK_THREADS (2), SURVEYD_THREADS
# (2), IDLE_CONNS (10000), PROFILE (1), SQL_PROBE (1), BENCH_TIMEOUT (1800 s for the whole script),
# PG_BINDIR (/usr/lib/postgresql/15/bin), SKIP_NGINX (0), SKIP_IDLE (0).
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD

DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-2}
SURVEYD_THREADS=${SURVEYD_THREADS:-2}
IDLE_CONNS=${IDLE_CONNS:-10000}
PROFILE=${PROFILE:-1}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
SKIP_NGINX=${SKIP_NGINX:-0}
SKIP_IDLE=${SKIP_IDLE:-0}

out=$top/build/bench
logs=$out/logs
surveyd=$out/daemon/surveyd
admin=$out/admin-cli/survey-admin
idle_bin=$out/idle_conns
lua=$top/tests/bench/submit.lua
wave=bench
hz=$(getconf CLK_TCK)

say() { printf '== %s\n' "$*" >&2; }
die() {
    echo "run.sh: $*" >&2
    exit 1
}

# ---- processes we start, and how they are stopped ------------------------------------------
tmp=""
pgdata=""
pids=()     # background processes of ours, stopped by pid on exit
watchdog=""

stop_pid() { # PID [seconds]: TERM, wait, then KILL
    local pid=$1 t=${2:-30} i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < t * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "run.sh: pid $pid did not stop in ${t}s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# initdb and postgres refuse root: as root, the cluster runs as "postgres".
runuser_bin=$(command -v runuser || echo /usr/sbin/runuser)
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then "$runuser_bin" -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    local p
    for p in "${pids[@]}"; do
        stop_pid "$p" 10
    done
    if [[ -n $pgdata && -f $pgdata/postmaster.pid ]]; then
        as_pg "$PG_BINDIR/pg_ctl" -D "$pgdata" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            as_pg "$PG_BINDIR/pg_ctl" -D "$pgdata" -m immediate -w -t 30 stop >/dev/null 2>&1
    fi
    if [[ -n $tmp && -d $tmp ]]; then
        mkdir -p "$logs"
        cp -f "$tmp"/*.log "$logs/" 2>/dev/null
        cp -f "$tmp/pg/server.log" "$logs/postgres.log" 2>/dev/null
        cp -f "$tmp/nginx/error.log" "$logs/nginx-error.log" 2>/dev/null
        rm -rf "$tmp"
    fi
    if [[ -n $watchdog ]]; then
        kill "$watchdog" 2>/dev/null
        wait "$watchdog" 2>/dev/null
    fi
    exit $rc
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

# The whole run is bounded: past BENCH_TIMEOUT the watchdog interrupts us (and cleanup runs).
# (It sleeps a second at a time, so that stopping it leaves no sleeper behind.)
main_pid=$$
(
    for ((w = 0; w < BENCH_TIMEOUT; w++)); do
        sleep 1
        kill -0 "$main_pid" 2>/dev/null || exit 0
    done
    echo "run.sh: BENCH_TIMEOUT (${BENCH_TIMEOUT}s) reached" >&2
    kill -TERM "$main_pid"
) &
watchdog=$!

# ---- tools ------------------------------------------------------------------------------------
for t in wrk openssl cc curl psql cmake ss; do
    command -v "$t" >/dev/null || die "$t is missing (scripts/deps.sh installs the build tools)"
done
[[ -x $PG_BINDIR/initdb ]] || die "no PostgreSQL server binaries in $PG_BINDIR (set PG_BINDIR)"
nginx_bin=$(command -v nginx || true)
[[ -n $nginx_bin ]] || nginx_bin=$( [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx || true)
if [[ $SKIP_NGINX != 1 && -z $nginx_bin ]]; then
    if [[ $(id -u) -eq 0 ]]; then
        say "installing nginx-light (reference server)"
        export DEBIAN_FRONTEND=noninteractive
        timeout 300 apt-get install -y -q nginx-light >/dev/null 2>&1 ||
            { timeout 300 apt-get update -q >/dev/null 2>&1 &&
                timeout 300 apt-get install -y -q nginx-light >/dev/null 2>&1; } ||
            echo "run.sh: could not install nginx-light; skipping (c)" >&2
        nginx_bin=$( [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx || true)
    else
        echo "run.sh: nginx is not installed and we are not root; skipping (c)" >&2
    fi
fi
[[ -n $nginx_bin ]] || SKIP_NGINX=1

# Descriptors: 10,000 idle connections on each side, plus the rest.
want_fds=$((IDLE_CONNS * 2 + 4096))
ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < IDLE_CONNS + 1024)); then
    echo "run.sh: ulimit -n is $(ulimit -n); IDLE_CONNS lowered to $(($(ulimit -n) - 1024))" >&2
    IDLE_CONNS=$(($(ulimit -n) - 1024))
fi

# ---- 1. build ---------------------------------------------------------------------------------
say "build (Release, build/bench)"
mkdir -p "$out" "$logs"
rm -f "$logs"/*
timeout 600 cmake -S "$top" -B "$out" -DCMAKE_BUILD_TYPE=Release >"$logs/cmake.log" 2>&1 ||
    { tail -n 30 "$logs/cmake.log" >&2; die "cmake configure failed"; }
timeout 900 cmake --build "$out" -j "$(nproc)" --target surveyd survey-admin >>"$logs/cmake.log" 2>&1 ||
    { tail -n 30 "$logs/cmake.log" >&2; die "build failed"; }
timeout 120 cc -O2 -Wall -Wextra -o "$idle_bin" "$top/tests/bench/idle_conns.c" -lssl -lcrypto ||
    die "could not build idle_conns"

# ---- 2. PostgreSQL ----------------------------------------------------------------------------
tmp=$(mktemp -d /tmp/surveyd-bench.XXXXXX)
chmod 0755 "$tmp"
mkdir -p "$tmp/pg/run"
pgdata=$tmp/pg/data
sock=$tmp/pg/run
pgport=5432 # Unix socket only, in a private folder: the number cannot clash
[[ $(id -u) -ne 0 ]] || chown -R postgres: "$tmp/pg"
say "PostgreSQL 15 cluster in $tmp/pg (durable: fsync, synchronous_commit, full_page_writes on)"
as_pg "$PG_BINDIR/initdb" -D "$pgdata" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >"$tmp/initdb.log" 2>&1 || { tail -n 20 "$tmp/initdb.log" >&2; die "initdb failed"; }
cat >>"$pgdata/postgresql.conf" <<EOF

# tests/bench/run.sh: a private cluster, Unix socket only. Durability settings stay at their
# defaults (fsync, synchronous_commit, full_page_writes: on); only memory and WAL size raised.
listen_addresses = ''
unix_socket_directories = '$sock'
port = $pgport
shared_buffers = 1GB
max_wal_size = 8GB
log_checkpoints = on
log_autovacuum_min_duration = 0
EOF
as_pg "$PG_BINDIR/pg_ctl" -D "$pgdata" -l "$tmp/pg/server.log" -w -t 60 start >/dev/null ||
    { tail -n 20 "$tmp/pg/server.log" >&2; die "PostgreSQL did not start"; }
pg_super="host=$sock port=$pgport user=postgres dbname=postgres"
psql_q() { timeout 60 psql -X -q -v ON_ERROR_STOP=1 -tA "$@"; }
durability=$(psql_q -d "$pg_super" -F ' ' -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name)
    FROM pg_settings WHERE name IN ('fsync','synchronous_commit','full_page_writes','wal_sync_method','shared_buffers','max_wal_size')")
pg_version=$(psql_q -d "$pg_super" -c "SHOW server_version")
case $durability in
*fsync=on*full_page_writes=on*synchronous_commit=on*) ;;
*) die "the cluster is not durable: $durability" ;;
esac
psql_q -d "$pg_super" -c "CREATE ROLE bench_owner LOGIN CREATEROLE" \
    -c "CREATE DATABASE survey OWNER bench_owner" >/dev/null
db_owner="host=$sock port=$pgport user=bench_owner dbname=survey"
db_daemon="host=$sock port=$pgport user=bench_surveyd dbname=survey"
db_super="host=$sock port=$pgport user=postgres dbname=survey"
timeout 120 "$admin" migrate --db "$db_owner" >"$tmp/admin.log" 2>&1 ||
    { cat "$tmp/admin.log" >&2; die "survey-admin migrate failed"; }
psql_q -d "$db_super" -c "CREATE ROLE bench_surveyd LOGIN IN ROLE survey_daemon" >/dev/null
timeout 60 "$admin" wave create "$wave" --db "$db_owner" --access open \
    --questionnaire "$top/questionnaire/definitions/genai-adoption-2025.json" >>"$tmp/admin.log" 2>&1 &&
    timeout 60 "$admin" wave open "$wave" --db "$db_owner" >>"$tmp/admin.log" 2>&1 ||
    { cat "$tmp/admin.log" >&2; die "could not create and open the wave"; }
pm_pid=$(head -n 1 "$pgdata/postmaster.pid")
schema=$(psql_q -d "$db_super" -c "SELECT string_agg(name, ', ' ORDER BY version)
    FROM public.schema_migrations" 2>/dev/null || echo '?')

# ---- 3. certificate ---------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1 || die "openssl req failed"
chmod 0644 "$tmp/key.pem" # nginx's master reads it as root anyway; the folder is private

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=""
for p in $(seq 18443 18543); do
    if ! port_busy "$p"; then
        port=$p
        break
    fi
done
[[ -n $port ]] || die "no free port in 18443..18543"
url=https://127.0.0.1:$port/v1/waves/$wave/responses

# ---- measuring helpers ------------------------------------------------------------------------
# Fields of /proc/PID/stat after "(comm) ": 1 state, 2 ppid, 12 utime, 13 stime, 14 cutime,
# 15 cstime (clock ticks).
stat_rest() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    echo "${s##*) }"
}
proc_ticks() { # utime+stime of one process (all its threads)
    local -a f
    read -r -a f <<<"$(stat_rest "$1")" || { echo 0; return; }
    echo $((f[11] + f[12]))
}
tree_ticks() { # a parent (with its reaped children) and its live children
    local root=$1 total=0 d
    local -a f
    read -r -a f <<<"$(stat_rest "$root")" || { echo 0; return; }
    total=$((f[11] + f[12] + f[13] + f[14]))
    for d in /proc/[0-9]*; do
        read -r -a f <<<"$(stat_rest "${d#/proc/}" 2>/dev/null)" 2>/dev/null || continue
        [[ ${#f[@]} -gt 14 && ${f[1]} == "$root" ]] && total=$((total + f[11] + f[12]))
    done
    echo "$total"
}
machine_ticks() { # "busy total" from /proc/stat
    local -a cpu
    read -r -a cpu < <(head -n 1 /proc/stat)
    local total=0 i
    for ((i = 1; i < ${#cpu[@]} && i <= 8; i++)); do total=$((total + cpu[i])); done
    echo "$((total - cpu[4] - cpu[5])) $total"
}
secs() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'; }
rows() { psql_q -d "$db_super" -c "SELECT count(*) FROM survey.responses WHERE wave_id = '$wave'"; }
metric() { # NAME (a full series name, labels included) from /metrics
    curl -sk --max-time 5 "https://127.0.0.1:$port/metrics" |
        awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}
wait_ready() { # PID LOG
    local i
    for ((i = 0; i < 150; i++)); do
        kill -0 "$1" 2>/dev/null || { tail -n 20 "$2" >&2; die "the server exited at start"; }
        curl -sfk --max-time 2 "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    tail -n 20 "$2" >&2
    die "the server did not become ready in 15 s"
}
wait_drained() { # surveyd: nothing queued or in flight (bounded)
    local i
    for ((i = 0; i < 100; i++)); do
        [[ $(metric surveyd_queue_depth) == 0 ]] && return 0
        sleep 0.1
    done
    echo "run.sh: surveyd's queue did not drain in 10 s" >&2
}
# "XmY.YYYs" -> seconds
tsec() { awk -v t="$1" 'BEGIN { split(t, a, "m"); sub("s", "", a[2]); printf "%.2f", a[1] * 60 + a[2] }'; }
# wrk's latency "1.23ms" / "850.00us" / "1.02s" -> ms
to_ms() {
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0;
        else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

wrk_cmd_str="wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency --timeout 10s -s tests/bench/submit.lua $url -- RUNTAG"
# run_wrk NAME SECONDS TAG: output in $tmp/wrk-NAME.log, wrk's own CPU in $tmp/wrk-NAME.times
run_wrk() {
    local name=$1 d=$2 tag=$3
    (
        set +e
        timeout -k 5 $((d + 60)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"${d}s" --latency --timeout 10s \
            -s "$lua" "$url" -- "$tag" >"$tmp/wrk-$name.log" 2>&1
        echo "exit $?" >>"$tmp/wrk-$name.log"
        times >"$tmp/wrk-$name.times"
    )
}
runid=$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
seq_no=0
next_tag() { # sets $tag (not in a subshell: the sequence must advance)
    seq_no=$((seq_no + 1))
    tag=$(printf '%s%04x' "$runid" "$seq_no")
}

declare -A R # results: R[case.key]

# measure CASE SERVER_PID KIND(surveyd|nginx)
measure() {
    local c=$1 spid=$2 kind=$3 log
    say "($c) warm-up ${WARMUP}s"
    next_tag
    run_wrk "$c-warmup" "$WARMUP" "$tag"
    [[ $kind == surveyd ]] && wait_drained
    sleep 1
    local rows0=0 acc0=0 bs0=0 bc0=0 cs0=0 cc0=0 s0 p0=0 m0 rows1=0 acc1=0 bs1=0 bc1=0 cs1=0 cc1=0
    if [[ $kind == surveyd ]]; then
        rows0=$(rows)
        acc0=$(metric 'surveyd_submissions_total{outcome="accepted"}')
        bs0=$(metric surveyd_batch_size_sum)
        bc0=$(metric surveyd_batch_size_count)
        cs0=$(metric surveyd_commit_seconds_sum)
        cc0=$(metric surveyd_commit_seconds_count)
    fi
    next_tag
    R[$c.tag]=$tag
    if [[ $kind == surveyd ]]; then s0=$(proc_ticks "$spid"); else s0=$(tree_ticks "$spid"); fi
    p0=$(tree_ticks "$pm_pid")
    m0=$(machine_ticks)
    local log0
    log0=$(wc -l <"$tmp/pg/server.log")
    say "($c) wrk ${DURATION}s"
    run_wrk "$c" "$DURATION" "$tag"
    [[ $kind == surveyd ]] && wait_drained
    local s1 p1 m1
    if [[ $kind == surveyd ]]; then s1=$(proc_ticks "$spid"); else s1=$(tree_ticks "$spid"); fi
    p1=$(tree_ticks "$pm_pid")
    m1=$(machine_ticks)
    # Background work of the database during the run (it shares the two cores).
    R[$c.pg_bg]=$(tail -n +$((log0 + 1)) "$tmp/pg/server.log" | awk '
        /automatic vacuum/ { v++ } /automatic analyze/ { a++ } /checkpoint starting/ { c++ }
        END { printf "%d autovacuum, %d autoanalyze, %d checkpoints", v, a, c }')
    if [[ $kind == surveyd ]]; then
        rows1=$(rows)
        acc1=$(metric 'surveyd_submissions_total{outcome="accepted"}')
        bs1=$(metric surveyd_batch_size_sum)
        bc1=$(metric surveyd_batch_size_count)
        cs1=$(metric surveyd_commit_seconds_sum)
        cc1=$(metric surveyd_commit_seconds_count)
    fi
    log=$tmp/wrk-$c.log
    cat "$log" >&2
    R[$c.rps]=$(awk '/^Requests\/sec:/ { print $2 }' "$log")
    R[$c.p50]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$log")")
    R[$c.p99]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$log")")
    R[$c.dur]=$(awk '/requests in/ { v = $4; sub(",", "", v); print v + 0 }' "$log")
    local b
    b=$(grep '^bench:' "$log" || true)
    [[ -n $b ]] || die "wrk printed no bench: line for ($c); see $log"
    R[$c.bench]=${b#bench: }
    local k v
    for kv in ${b#bench: }; do
        k=${kv%%=*} v=${kv#*=}
        R[$c.$k]=$v
    done
    R[$c.errors]=$((R[$c.err_connect] + R[$c.err_read] + R[$c.err_write] + R[$c.err_timeout]))
    R[$c.ok_per_s]=$(awk -v n="${R[$c.2xx]}" -v d="${R[$c.dur]}" 'BEGIN { printf "%.0f", n / d }')
    R[$c.srv_cpu]=$(secs $((s1 - s0)))
    R[$c.pg_cpu]=$(secs $((p1 - p0)))
    read -r mb0 mt0 <<<"$m0"
    read -r mb1 mt1 <<<"$m1"
    R[$c.busy]=$(awk -v b=$((mb1 - mb0)) -v t=$((mt1 - mt0)) 'BEGIN { printf "%.0f", 100 * b / t }')
    R[$c.wall_cpu]=$(secs $(((mt1 - mt0) / $(nproc))))
    R[$c.wrk_cpu]=$(awk 'NR == 2 { print $1, $2 }' "$tmp/wrk-$c.times" |
        { read -r u s; awk -v u="$(tsec "$u")" -v s="$(tsec "$s")" 'BEGIN { printf "%.2f", u + s }'; })
    # Whatever else ran meanwhile (other processes, interrupts): the machine is shared.
    R[$c.other_cpu]=$(awk -v b="$(secs $((mb1 - mb0)))" -v s="${R[$c.srv_cpu]}" -v p="${R[$c.pg_cpu]}" \
        -v w="${R[$c.wrk_cpu]}" 'BEGIN { o = b - s - p - w; printf "%.2f", (o < 0 ? 0 : o) }')
    local k1000
    k1000=$(awk -v n="${R[$c.2xx]}" 'BEGIN { printf "%.6f", ((n > 0 ? n : 1) / 1000) }')
    R[$c.srv_per_k]=$(awk -v c="${R[$c.srv_cpu]}" -v k="$k1000" 'BEGIN { printf "%.3f", c / k }')
    R[$c.pg_per_k]=$(awk -v c="${R[$c.pg_cpu]}" -v k="$k1000" 'BEGIN { printf "%.3f", c / k }')
    R[$c.both_per_k]=$(awk -v a="${R[$c.srv_per_k]}" -v b="${R[$c.pg_per_k]}" 'BEGIN { printf "%.3f", a + b }')
    R[$c.wrk_per_k]=$(awk -v c="${R[$c.wrk_cpu]}" -v k="$k1000" 'BEGIN { printf "%.3f", c / k }')
    if [[ $kind == surveyd ]]; then
        R[$c.stored]=$((rows1 - rows0))
        R[$c.accepted]=$(awk -v a="$acc1" -v b="$acc0" 'BEGIN { printf "%d", a - b }')
        R[$c.unanswered]=$((R[$c.sent] - R[$c.answered]))
        R[$c.batch]=$(awk -v s="$bs1" -v s0="$bs0" -v n="$bc1" -v n0="$bc0" \
            'BEGIN { printf "%.1f", ((n - n0) > 0 ? (s - s0) / (n - n0) : 0) }')
        R[$c.commit_ms]=$(awk -v s="$cs1" -v s0="$cs0" -v n="$cc1" -v n0="$cc0" \
            'BEGIN { printf "%.2f", ((n - n0) > 0 ? 1000 * (s - s0) / (n - n0) : 0) }')
        R[$c.statements]=$(awk -v n="$bc1" -v n0="$bc0" 'BEGIN { printf "%d", n - n0 }')
        # Every 2xx is a stored row; a row may also belong to a request wrk sent but stopped
        # waiting for at the end (sent - answered); the daemon's own count must match exactly.
        if ((R[$c.stored] == R[$c.accepted] && R[$c.stored] >= R[$c.2xx] &&
            R[$c.stored] <= R[$c.2xx] + R[$c.unanswered])); then
            R[$c.rows_ok]=yes
        else
            R[$c.rows_ok]=NO
        fi
    fi
}

start_surveyd() { # NAME EXTRA-ARGS...: sets spid
    local name=$1
    shift
    local cmd=("$surveyd" --listen "127.0.0.1:$port" --cert "$tmp/cert.pem" --key "$tmp/key.pem"
        --db "$db_daemon" --threads "$SURVEYD_THREADS" --rate-limit 0 --log-level warning "$@")
    R[$name.cmd]="surveyd --listen 127.0.0.1:$port --cert cert.pem --key key.pem --db '$db_daemon' --threads $SURVEYD_THREADS --rate-limit 0 --log-level warning $*"
    "${cmd[@]}" >"$tmp/surveyd-$name.log" 2>&1 &
    spid=$!
    pids+=("$spid")
    wait_ready "$spid" "$tmp/surveyd-$name.log"
}

# ---- 4. throughput and latency ----------------------------------------------------------------
declare -a cases=()
spid=""
say "(a) surveyd as built"
start_surveyd a
measure a "$spid" surveyd
stop_pid "$spid" 40
cases+=(a)

say "(b) surveyd --batch-max 1"
start_surveyd b --batch-max 1
measure b "$spid" surveyd
stop_pid "$spid" 40
cases+=(b)

# nginx_start CONNECTIONS-PER-WORKER HEADER-TIMEOUT: sets spid (the master; workers are its children)
nginx_start() {
    mkdir -p "$tmp/nginx"
    cat >"$tmp/nginx/nginx.conf" <<NGINX
# Generated by tests/bench/run.sh: the same certificate and TLS policy as surveyd, a fixed 201.
daemon off;
worker_processes 2;
worker_rlimit_nofile $(ulimit -n);
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections $1; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    client_header_timeout $2;
    keepalive_timeout 60s;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$port ssl reuseport;
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ecdh_curve X25519:prime256v1:secp384r1;
        ssl_prefer_server_ciphers on;
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
        ssl_session_tickets off;
        ssl_session_cache off;
        location / {
            default_type "application/json; charset=utf-8";
            add_header Strict-Transport-Security "max-age=63072000" always;
            add_header X-Content-Type-Options nosniff always;
            add_header Cache-Control no-store always;
            return 201 '{"response_id":"00000000-0000-4000-8000-000000000000","submission_id":"00000000-0000-4000-8000-000000000000","received_at":"2025-01-01T00:00:00.000000Z"}';
        }
    }
}
NGINX
    timeout 10 "$nginx_bin" -t -q -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" ||
        die "nginx -t refused the generated configuration"
    "$nginx_bin" -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx.log" 2>&1 &
    spid=$!
    pids+=("$spid")
    local i
    for ((i = 0; i < 100; i++)); do
        curl -sk --max-time 2 -o /dev/null -X POST "https://127.0.0.1:$port/x" 2>/dev/null && return 0
        kill -0 "$spid" 2>/dev/null || die "nginx exited at start (see $tmp/nginx/error.log)"
        sleep 0.1
    done
    die "nginx did not answer in 10 s"
}

if [[ $SKIP_NGINX != 1 ]]; then
    say "(c) nginx return 201"
    nginx_start 4096 60s
    R[c.cmd]="nginx -c nginx.conf (worker_processes 2; listen 127.0.0.1:$port ssl reuseport; return 201 '<a receipt-sized JSON>'; access_log off; ssl_protocols TLSv1.2 TLSv1.3; same suites and groups; no tickets; keepalive_requests 100000000)"
    measure c "$spid" nginx
    stop_pid "$spid" 20
    cases+=(c)
fi

# ---- 5. memory per idle TLS connection ---------------------------------------------------------
mem() { # PID... -> "rss pss private_dirty anonymous" in kB, summed over the processes
    local p rss=0 pss=0 pd=0 an=0 a b c d
    for p in "$@"; do
        a=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status")
        read -r b c d < <(awk '/^Pss:/ { p = $2 } /^Private_Dirty:/ { x = $2 }
            /^Anonymous:/ { y = $2 } END { print p + 0, x + 0, y + 0 }' "/proc/$p/smaps_rollup")
        rss=$((rss + a)) pss=$((pss + b)) pd=$((pd + c)) an=$((an + d))
    done
    echo "$rss $pss $pd $an"
}
children() { # PID -> its live children
    local d
    local -a f
    for d in /proc/[0-9]*; do
        read -r -a f <<<"$(stat_rest "${d#/proc/}" 2>/dev/null)" 2>/dev/null || continue
        [[ ${#f[@]} -gt 2 && ${f[1]} == "$1" ]] && echo "${d#/proc/}"
    done
    return 0
}
# idle_measure NAME PID...: opens IDLE_CONNS idle TLS connections, measures PIDs' memory
idle_measure() {
    local name=$1 i n q k
    shift
    local procs=("$@")
    for i in 1 2 3 4 5; do # what a running server has done anyway: a few handshakes
        curl -sk --max-time 5 -o /dev/null "https://127.0.0.1:$port/healthz" || true
    done
    sleep 1
    local -a before after closed keys=(rss pss pd an)
    read -r -a before <<<"$(mem "${procs[@]}")"
    "$idle_bin" 127.0.0.1 "$port" "$IDLE_CONNS" --parallel 64 --timeout-s 180 --hold-s 600 \
        >"$tmp/idle_conns-$name.log" 2>&1 &
    local ipid=$! t0
    pids+=("$ipid")
    t0=$(date +%s)
    for ((i = 0; i < 2000; i++)); do
        grep -q '^ready' "$tmp/idle_conns-$name.log" && break
        kill -0 "$ipid" 2>/dev/null || { cat "$tmp/idle_conns-$name.log" >&2; die "idle_conns failed"; }
        sleep 0.1
    done
    grep -q '^ready' "$tmp/idle_conns-$name.log" || die "idle_conns did not get ready in 200 s"
    R[$name.open_s]=$(($(date +%s) - t0))
    # Wait until the server holds every connection and has read everything sent to it (the
    # client's last handshake flight): established, with an empty receive queue on each.
    for ((i = 0; i < 300; i++)); do
        read -r n q < <(ss -Htn state established "( sport = :$port )" |
            awk '{ n++; q += $1 } END { print n + 0, q + 0 }')
        ((n >= IDLE_CONNS && q == 0)) && break
        sleep 0.1
    done
    sleep 2
    read -r n q < <(ss -Htn state established "( sport = :$port )" |
        awk '{ n++; q += $1 } END { print n + 0, q + 0 }')
    R[$name.established]=$n
    read -r -a after <<<"$(mem "${procs[@]}")"
    if [[ $name == idle ]]; then
        R[idle.open_metric]=$(metric surveyd_open_connections)
    fi
    for k in 0 1 2 3; do
        R[$name.${keys[k]}.before]=${before[k]}
        R[$name.${keys[k]}.after]=${after[k]}
        R[$name.${keys[k]}.per]=$(awk -v d=$((after[k] - before[k])) -v n="$IDLE_CONNS" \
            'BEGIN { printf "%.0f", d * 1024 / n }')
    done
    stop_pid "$ipid" 30
    for ((i = 0; i < 100; i++)); do
        n=$(ss -Htn state established "( sport = :$port )" | wc -l)
        ((n == 0)) && break
        sleep 0.1
    done
    read -r -a closed <<<"$(mem "${procs[@]}")"
    R[$name.rss.closed]=${closed[0]}
}

idle_cases=()
if [[ $SKIP_IDLE != 1 ]]; then
    say "idle connections: $IDLE_CONNS to a fresh surveyd"
    start_surveyd idle --max-connections $((IDLE_CONNS * 2 + 1000)) --idle-timeout-ms 1800000 \
        --handshake-timeout-ms 60000
    R[idle.cmd]="${R[idle.cmd]}; then idle_conns 127.0.0.1 $port $IDLE_CONNS"
    idle_measure idle "$spid"
    stop_pid "$spid" 40
    idle_cases+=(idle)
    if [[ $SKIP_NGINX != 1 ]]; then
        say "idle connections: $IDLE_CONNS to nginx (reference: the same OpenSSL)"
        nginx_start $((IDLE_CONNS + 1024)) 600s
        R[nginx_idle.cmd]="nginx as in (c) with worker_connections $((IDLE_CONNS + 1024)), client_header_timeout 600s; then idle_conns 127.0.0.1 $port $IDLE_CONNS; memory of the 2 workers summed"
        mapfile -t workers < <(children "$spid")
        idle_measure nginx_idle "${workers[@]}"
        stop_pid "$spid" 20
        idle_cases+=(nginx_idle)
    fi
fi

# ---- 6. profile (extra run; not part of the figures above) -------------------------------------
profile_note=""
if [[ $PROFILE == 1 ]] && command -v perf >/dev/null &&
    timeout 20 perf record -q -a -o "$tmp/perf-probe.data" -- true >/dev/null 2>&1; then
    say "profile: perf record -a during a ${DURATION}s batched run"
    start_surveyd prof
    next_tag
    run_wrk prof-warmup "$WARMUP" "$tag"
    next_tag
    run_wrk prof "$DURATION" "$tag" &
    wpid=$!
    pids+=("$wpid")
    sleep 2
    pdur=$((DURATION > 8 ? DURATION - 4 : 4))
    timeout $((pdur + 30)) perf record -q -a -F 999 -o "$tmp/perf.data" -- sleep "$pdur" \
        >/dev/null 2>&1 || true
    wait "$wpid" || true
    stop_pid "$spid" 40
    # Percentages are of all samples (both CPUs, idle included as "swapper").
    timeout 120 perf report -i "$tmp/perf.data" --stdio --sort comm,dso --percent-limit 0.3 \
        >"$out/perf-by-process.txt" 2>/dev/null || true
    timeout 120 perf report -i "$tmp/perf.data" --stdio --comms surveyd --sort dso,sym \
        --percent-limit 0.1 >"$out/perf-surveyd.txt" 2>/dev/null || true
    timeout 120 perf report -i "$tmp/perf.data" --stdio --comms postgres --sort dso,sym \
        --percent-limit 0.2 >"$out/perf-postgres.txt" 2>/dev/null || true
    profile_note="\`perf record -a -F 999 -- sleep $pdur\` during an extra batched run: build/bench/perf-by-process.txt (CPU by process and library), perf-surveyd.txt, perf-postgres.txt (by symbol); percentages of all samples of both CPUs"
fi

# ---- 6b. what one batch costs the database (pgbench, extra; not part of the figures above) ----
SQL_PROBE=${SQL_PROBE:-1}
sql_probe=()
if [[ $SQL_PROBE == 1 && -x $PG_BINDIR/pgbench ]]; then
    say "database cost of survey.submit_responses per batch size (pgbench, 1 client)"
    answers='{"role":"c_level","industry":"finance","company_size":"small","region":"seoul","genai_stage":"production","use_cases":["analytics"],"budget_top_priority":"genai","caio":"appointed","change_mgmt":"in_place","training":"in_place","hiring_genai_2025":"yes","approach":["general_purpose"]}'
    for n in 1 16 256; do
        cat >"$tmp/probe-$n.sql" <<SQL
SELECT survey.submit_responses((SELECT jsonb_agg(jsonb_build_object('wave', '$wave', 'submission_id', gen_random_uuid()::text, 'token_sha256', NULL, 'screened_out', false, 'answers', '$answers'::jsonb)) FROM generate_series(1, $n)));
SQL
        for commit in on off; do
            tps=$(PGOPTIONS="-c synchronous_commit=$commit" timeout 60 "$PG_BINDIR/pgbench" -n -c 1 -T 4 \
                -f "$tmp/probe-$n.sql" -h "$sock" -p "$pgport" -U bench_surveyd survey 2>"$tmp/pgbench.log" |
                awk '/^tps/ { print $3 }')
            sql_probe+=("| $n | $commit | $(awk -v t="${tps:-0}" 'BEGIN { if (t > 0) printf "%.0f", 1e6 / t; else print "?" }') | $(awk -v t="${tps:-0}" -v n="$n" 'BEGIN { if (t > 0) printf "%.1f", 1e6 / (t * n); else print "?" }') | $(awk -v t="${tps:-0}" -v n="$n" 'BEGIN { printf "%.0f", t * n }') |")
        done
    done
fi

# ---- 7. summary -------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() { # OK-CONDITION-AS-AWK-EXPR
    awk "BEGIN { exit !($1) }" && echo "met" || echo "MISSED"
}
col() { # KEY: the value for every case, " | "-separated
    local c line=""
    for c in "${cases[@]}"; do line+=" ${R[$c.$1]:-—} |"; done
    echo "$line"
}
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
    echo "# surveyd benchmark results"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
    echo "- PostgreSQL $pg_version, private cluster, Unix socket: $durability"
    echo "- git: $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet 2>/dev/null && [[ -z $(git -C "$top" status --porcelain 2>/dev/null) ]] || echo ' (working tree modified)'); schema: $schema"
    echo "- load: \`$wrk_cmd_str\` after a ${WARMUP}s warm-up, each case on a fresh server; RUNTAG makes ids unique per run"
    echo
    echo "| | $( [[ ${#cases[@]} -ge 1 ]] && echo -n '(a) surveyd |')$( [[ ${#cases[@]} -ge 2 ]] && echo -n ' (b) surveyd --batch-max 1 |')$( [[ ${#cases[@]} -ge 3 ]] && echo -n ' (c) nginx return 201 |')"
    echo "|---|$(for c in "${cases[@]}"; do printf '%s' '---|'; done)"
    echo "| requests/s (wrk) |$(col rps)"
    echo "| 2xx answers/s |$(col ok_per_s)"
    echo "| latency p50 ms |$(col p50)"
    echo "| latency p99 ms |$(col p99)"
    echo "| 2xx / non-2xx / socket errors |$(for c in "${cases[@]}"; do echo -n " ${R[$c.2xx]} / ${R[$c.non2xx]} / ${R[$c.errors]} |"; done)"
    echo "| rows stored (count after − before) |$(col stored)"
    echo "| surveyd's own accepted count |$(col accepted)"
    echo "| stored = 2xx (+ ≤ unanswered at stop) |$(for c in "${cases[@]}"; do echo -n " ${R[$c.rows_ok]:-—}$( [[ -n ${R[$c.unanswered]:-} ]] && echo -n " (unanswered ${R[$c.unanswered]})") |"; done)"
    echo "| server CPU s (surveyd / nginx master+workers) |$(col srv_cpu)"
    echo "| PostgreSQL CPU s (postmaster and all backends) |$(col pg_cpu)"
    echo "| wrk CPU s |$(col wrk_cpu)"
    echo "| other CPU s (other processes, interrupts: noise) |$(col other_cpu)"
    echo "| machine busy % (both cores) |$(col busy)"
    echo "| **server CPU s per 1,000 2xx** |$(col srv_per_k)"
    echo "| PostgreSQL CPU s per 1,000 2xx |$(col pg_per_k)"
    echo "| server + PostgreSQL CPU s per 1,000 |$(col both_per_k)"
    echo "| wrk CPU s per 1,000 |$(col wrk_per_k)"
    echo "| statements (batches) |$(col statements)"
    echo "| mean batch size |$(col batch)"
    echo "| mean statement time ms (send → result, commit included) |$(col commit_ms)"
    echo "| PostgreSQL background work during the run |$(col pg_bg)"
    echo
    echo "Ratios:"
    echo
    echo "- (a)/(b) requests/s: **$(ratio "${R[a.rps]}" "${R[b.rps]}")**; (a)/(b) CPU per submission (surveyd + PostgreSQL): $(ratio "${R[a.both_per_k]}" "${R[b.both_per_k]}")"
    if [[ " ${cases[*]} " == *" c "* ]]; then
        echo "- (a)/(c) requests/s: **$(ratio "${R[a.rps]}" "${R[c.rps]}")**; (a)/(c) server CPU per request (surveyd / nginx): $(ratio "${R[a.srv_per_k]}" "${R[c.srv_per_k]}")"
    fi
    echo
    if [[ $SKIP_IDLE != 1 ]]; then
        echo "Idle TLS connections: $IDLE_CONNS opened by idle_conns (handshake completed, then silent); $(for x in "${idle_cases[@]}"; do echo -n "$x: opened in ${R[$x.open_s]} s, ${R[$x.established]} established at the server; "; done)surveyd_open_connections ${R[idle.open_metric]} (incl. the scrape)."
        echo
        echo "| memory, kB before → with $IDLE_CONNS idle: **bytes per connection** |$(for x in "${idle_cases[@]}"; do [[ $x == idle ]] && echo -n ' surveyd |' || echo -n ' nginx, 2 workers (reference) |'; done)"
        echo "|---|$(for x in "${idle_cases[@]}"; do printf '%s' '---|'; done)"
        for k in rss:RSS pss:Pss pd:Private_Dirty an:Anonymous; do
            echo "| ${k#*:} |$(for x in "${idle_cases[@]}"; do echo -n " ${R[$x.${k%%:*}.before]} → ${R[$x.${k%%:*}.after]}: **${R[$x.${k%%:*}.per]}** |"; done)"
        done
        echo "| RSS after the clients closed, kB |$(for x in "${idle_cases[@]}"; do echo -n " ${R[$x.rss.closed]} |"; done)"
        echo
    fi
    if ((${#sql_probe[@]} > 0)); then
        echo "Database cost of one \`SELECT survey.submit_responses(batch)\` (pgbench -c 1 -T 4, as the daemon's role, the batch built in SQL; \"off\" is synchronous_commit=off for this session only, i.e. the statement's work without the WAL flush wait):"
        echo
        echo "| items per batch | synchronous_commit | µs per statement | µs per item | items/s, one connection |"
        echo "|---|---|---|---|---|"
        printf '%s\n' "${sql_probe[@]}"
        echo
    fi
    echo "Targets:"
    echo
    echo "- ≥ 15,000 durable submissions/s at $CONNS connections: (a) ${R[a.ok_per_s]} 2xx/s — $(verdict "${R[a.ok_per_s]} >= 15000")"
    echo "- p99 ≤ 10 ms: (a) ${R[a.p99]} ms — $(verdict "${R[a.p99]} <= 10")"
    echo "- ≥ 2× unbatched: (a)/(b) $(ratio "${R[a.rps]}" "${R[b.rps]}") — $(verdict "$(ratio "${R[a.rps]}" "${R[b.rps]}") >= 2")"
    echo "- every 2xx stored, exactly once: (a) ${R[a.rows_ok]}, (b) ${R[b.rows_ok]}"
    [[ $SKIP_IDLE == 1 ]] ||
        echo "- ≤ 8 KB (8,192 bytes) user-space memory per idle TLS connection: ${R[idle.rss.per]} bytes (RSS), ${R[idle.pd.per]} (Private_Dirty) — $(verdict "${R[idle.rss.per]} <= 8192")"
    echo
    echo "Commands:"
    echo
    for c in "${cases[@]}"; do
        echo "- ($c) \`${R[$c.cmd]}\`; load \`$(sed "s/RUNTAG/${R[$c.tag]}/" <<<"$wrk_cmd_str")\`; CPU: utime+stime from /proc/PID/stat before/after (PostgreSQL: postmaster with reaped children + live backends)"
    done
    [[ $SKIP_IDLE == 1 ]] ||
        echo "- idle: \`${R[idle.cmd]}\`; memory from /proc/PID/status VmRSS and /proc/PID/smaps_rollup before and after, delta / $IDLE_CONNS$( [[ -n ${R[nginx_idle.cmd]:-} ]] && echo "; reference: ${R[nginx_idle.cmd]}")"
    [[ -z $profile_note ]] || echo "- profile: $profile_note"
    echo
    echo "wrk's own summary lines per case: $(for c in "${cases[@]}"; do echo -n "($c) ${R[$c.bench]}; "; done)"
} >"$out/results.md"
echo >&2
cat "$out/results.md"
