#!/usr/bin/env bash
# A pg_auto_failover formation on one machine, for tests and demonstrations: a monitor and two
# PostgreSQL 15 data nodes (a primary and its synchronous standby), each with its own data
# directory and loopback port, run as `postgres` when we are root. The same pg_autoctl commands
# build it on real hosts (README.md beside this file); only the ports and the folder differ.
#
#   ha-local.sh start DIR [--port BASE] [--fast]   monitor on BASE, node1 BASE+1, node2 BASE+2
#   ha-local.sh stop DIR                           stop every pg_autoctl of DIR, remove DIR
#   ha-local.sh state DIR                          the monitor's view of the nodes
#   ha-local.sh primary DIR                        the node taking writes now (primary or
#                                                  wait_primary), or nothing
#   ha-local.sh wait-healthy DIR SECONDS           until one primary and one secondary
#   ha-local.sh kill-postgres DIR NODE             SIGKILL the node's postmaster
#   ha-local.sh kill-node DIR NODE                 SIGKILL the node's pg_autoctl and postgres
#   ha-local.sh start-node DIR NODE                run the node's pg_autoctl again
#
# start writes DIR/env (sourceable): HA_MONITOR_URI, HA_URI (the formation's multi-host URI,
# target_session_attrs=read-write), HA_NODE1_PORT, HA_NODE2_PORT, HA_MONITOR_PORT. --fast lowers
# the monitor's health-check timers and the keepers' network-partition timeout so that a lost node
# is failed over in seconds (for tests on one machine; see docs/ha.md for the trade-off).
set -euo pipefail

prog=ha-local.sh
bindir=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
# Below Linux's ephemeral range (32768-60999 by default): a port checked free here cannot be
# taken meanwhile by some other process's outgoing connection or bind to port 0, as happened
# when this range sat inside it (node2 failed to bind a port that had been free a moment before).
port_first=${SURVEY_HA_PORT_FIRST:-27000}
port_count=${SURVEY_HA_PORT_COUNT:-900}

die() {
    echo "$prog: $*" >&2
    exit 1
}

usage() {
    sed -n '8,15p' "$0" | sed 's/^# *//' >&2
    exit 2
}

# shellcheck source=../../scripts/pglib.sh
source "$(dirname "$0")/../../scripts/pglib.sh"

# Run a command as the formation's owner, with pg_autoctl's files (configuration, state, pid
# files) kept inside DIR rather than in the owner's home, so that formations never meet.
as_owner() {
    local envs=(env "XDG_CONFIG_HOME=$dir/xdg/config" "XDG_DATA_HOME=$dir/xdg/data"
        "XDG_RUNTIME_DIR=$dir/xdg/run" "PATH=$bindir:$PATH")
    if [[ $(id -u) -eq 0 ]]; then
        "$runuser" -u postgres -- "${envs[@]}" "$@"
    else
        "${envs[@]}" "$@"
    fi
}

autoctl() {
    as_owner pg_autoctl "$@"
}

# Three consecutive free ports from BASE, or a search from a per-process offset.
pick_ports() {
    local i base offset=$((($$ * 3) % port_count))
    for ((i = 0; i < port_count; i += 3)); do
        base=$((port_first + (offset + i) % port_count))
        if ! pg_port_busy "$base" && ! pg_port_busy $((base + 1)) && ! pg_port_busy $((base + 2)); then
            echo "$base"
            return
        fi
    done
    die "no three free TCP ports in $port_first..$((port_first + port_count - 1))"
}

monitor_sql() {
    # shellcheck disable=SC1091
    source "$dir/env"
    psql -X -q -At -v ON_ERROR_STOP=1 "$HA_MONITOR_URI" -c "$1"
}

# Start a node's (or the monitor's) pg_autoctl in the background, in a session of its own, so
# that kill-node can take the whole process group at once.
run_service() {
    local name=$1
    as_owner setsid pg_autoctl run --pgdata "$dir/$name" >>"$dir/$name.log" 2>&1 </dev/null &
    disown
}

# The pid of a service's pg_autoctl, from the pid file it keeps.
service_pid() {
    local file
    file=$(autoctl show file --pid --pgdata "$dir/$1" 2>/dev/null) || return 1
    [[ -f $file ]] || return 1
    head -n 1 "$file"
}

# wait_ready PORT SECONDS NAME: until the server of NAME answers; its log when it does not.
wait_ready() {
    local port=$1 secs=$2 name=$3 deadline=$((SECONDS + $2))
    while ! "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; do
        if ((SECONDS >= deadline)); then
            tail -n 30 "$dir/$name.log" >&2
            die "nothing answers on 127.0.0.1:$port after ${secs}s ($name)"
        fi
        sleep 0.1
    done
}

# "NAME REPORTED ASSIGNED" per node, from the monitor.
node_states() {
    monitor_sql "SELECT nodename || ' ' || reportedstate || ' ' || goalstate
                 FROM pgautofailover.node ORDER BY nodeid"
}

cmd_wait_healthy() {
    local secs=$1 deadline=$((SECONDS + $1)) states
    while true; do
        states=$(node_states 2>/dev/null || true)
        if [[ $(grep -c '^[a-z0-9]* primary primary$' <<<"$states") -eq 1 &&
            $(grep -c '^[a-z0-9]* secondary secondary$' <<<"$states") -eq 1 ]]; then
            return 0
        fi
        if ((SECONDS >= deadline)); then
            echo "$states" >&2
            die "the formation has no primary with a secondary after ${secs}s"
        fi
        sleep 0.2
    done
}

cmd_primary() {
    # wait_primary: a primary whose standby is away, taking writes alone until it is back.
    node_states | awk '$2 == $3 && ($2 == "primary" || $2 == "wait_primary") { print $1; exit }'
}

cmd_start() {
    local base="" fast=0
    while [[ $# -gt 0 ]]; do
        case $1 in
        --port)
            base=${2:?--port needs a number}
            shift 2
            ;;
        --fast)
            fast=1
            shift
            ;;
        *) usage ;;
        esac
    done
    command -v pg_autoctl >/dev/null || die "pg_autoctl is missing (apt-get install postgresql-15-auto-failover)"
    [[ -x $bindir/pg_ctl ]] || die "$bindir/pg_ctl is missing (set PG_BINDIR)"
    [[ -e $dir ]] && die "$dir exists: stop that formation first, or pick another folder"
    [[ -n $base ]] || base=$(pick_ports)
    local mport=$base p1=$((base + 1)) p2=$((base + 2))

    # A folder postgres cannot enter (a clone in a private directory): the formation lives in
    # /tmp, linked from DIR.
    dir=$(pg_owner_dir "$dir" survey-ha)
    # A start that fails half-way stops what it started (and removes the folder): nothing of a
    # failed formation is left running.
    trap 'echo "$prog: start failed; stopping what was started" >&2; cmd_stop' EXIT
    as_owner mkdir -p "$dir/xdg/config" "$dir/xdg/data" "$dir/xdg/run"
    as_owner chmod 700 "$dir/xdg/run"

    # The monitor. --auth trust and --no-ssl: loopback only, for tests; real hosts use
    # scram-sha-256 and TLS (README.md).
    autoctl create monitor --pgdata "$dir/monitor" --pgport "$mport" --hostname 127.0.0.1 \
        --auth trust --no-ssl --pgctl "$bindir/pg_ctl" >"$dir/monitor.log" 2>&1 ||
        {
            tail -n 20 "$dir/monitor.log" >&2
            die "could not create the monitor"
        }
    # Appended after pg_auto_failover's own include, so these win.
    as_owner sh -c "printf '%s\n' \"listen_addresses = '127.0.0.1'\" >>'$dir/monitor/postgresql.conf'"
    run_service monitor
    wait_ready "$mport" 60 monitor
    local monitor_uri="postgres://autoctl_node@127.0.0.1:$mport/pg_auto_failover?sslmode=disable"
    cat >"$dir/env" <<EOF
HA_MONITOR_PORT=$mport
HA_NODE1_PORT=$p1
HA_NODE2_PORT=$p2
HA_MONITOR_URI='$monitor_uri'
EOF
    if [[ $fast -eq 1 ]]; then
        # Failover in seconds on one machine. primary_demote_timeout stays above the keepers'
        # network_partition_timeout (set to 3 s below): a primary cut off from the monitor stops
        # taking writes before its standby may be promoted, so there is never a second primary.
        psql -X -q -v ON_ERROR_STOP=1 "postgres://postgres@127.0.0.1:$mport/pg_auto_failover" \
            -c "ALTER SYSTEM SET pgautofailover.health_check_period = 1000" \
            -c "ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000" \
            -c "ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500" \
            -c "ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1" \
            -c "ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 4000" \
            -c "ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 6000" \
            -c "SELECT pg_reload_conf()" >/dev/null
    fi

    # The data nodes: node1 is initialised and becomes the primary; node2 is cloned from it
    # (pg_basebackup) by its own pg_autoctl and becomes the synchronous standby.
    local n port
    for n in 1 2; do
        port=$((base + n))
        autoctl create postgres --pgdata "$dir/node$n" --pgport "$port" --pghost 127.0.0.1 \
            --listen 127.0.0.1 --hostname 127.0.0.1 --name "node$n" --dbname survey \
            --username postgres --auth trust --no-ssl --pgctl "$bindir/pg_ctl" \
            --monitor "$monitor_uri" >"$dir/node$n.log" 2>&1 ||
            {
                tail -n 20 "$dir/node$n.log" >&2
                die "could not create node$n"
            }
        if [[ $fast -eq 1 ]]; then
            autoctl config set --pgdata "$dir/node$n" timeout.network_partition_timeout 3 \
                >/dev/null
        fi
        if [[ $n -eq 1 ]]; then
            # pg_auto_failover sizes memory for a machine of its own; several clusters share
            # this one. node2 copies this file with the base backup.
            as_owner sh -c "cat >>'$dir/node1/postgresql.conf'" <<EOF

# Written by $prog: several servers share one machine.
shared_buffers = '128MB'
effective_cache_size = '1GB'
maintenance_work_mem = '64MB'
wal_keep_size = '1GB'
EOF
        fi
        run_service "node$n"
        if [[ $n -eq 1 ]]; then
            wait_ready "$port" 60 "node$n"
        fi
    done
    cat >>"$dir/env" <<EOF
HA_URI='postgres://postgres@127.0.0.1:$p1,127.0.0.1:$p2/survey?target_session_attrs=read-write&sslmode=disable'
EOF
    cmd_wait_healthy 120
    trap - EXIT
    echo "$prog: monitor on 127.0.0.1:$mport, node1 on :$p1, node2 on :$p2 (in $dir)"
}

cmd_stop() {
    local name pid
    [[ -d $dir/xdg ]] || die "$dir holds no formation"
    for name in node1 node2 monitor; do
        if [[ -d $dir/$name ]]; then
            autoctl stop --pgdata "$dir/$name" >/dev/null 2>&1 || true
        fi
    done
    # pg_autoctl stop returns once the signal is sent: wait for each server to be gone.
    local deadline=$((SECONDS + 60))
    for name in node1 node2 monitor; do
        while [[ -f $dir/$name/postmaster.pid ]] &&
            kill -0 "$(head -n 1 "$dir/$name/postmaster.pid")" 2>/dev/null; do
            if ((SECONDS >= deadline)); then
                pid=$(head -n 1 "$dir/$name/postmaster.pid")
                kill -9 "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.1
        done
        pid=$(service_pid "$name" 2>/dev/null || true)
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
        fi
    done
    if [[ -L $dir ]]; then
        rm -rf "$(readlink -f "$dir")"
        rm -f "$dir"
    else
        rm -rf "$dir"
    fi
}

cmd_kill_postgres() {
    local node=$1
    [[ -f $dir/$node/postmaster.pid ]] || die "$node has no running postgres"
    kill -9 "$(head -n 1 "$dir/$node/postmaster.pid")"
}

cmd_kill_node() {
    local node=$1 pid pm=""
    pid=$(service_pid "$node") || die "$node has no running pg_autoctl"
    [[ -f $dir/$node/postmaster.pid ]] && pm=$(head -n 1 "$dir/$node/postmaster.pid")
    # The whole process group: pg_autoctl, its services and the postmaster die together, as
    # when the machine goes away. Backends that outlive the postmaster go with it too.
    if [[ -n $pm ]]; then
        pkill -9 -P "$pm" 2>/dev/null || true
    fi
    kill -9 -- "-$pid"
    if [[ -n $pm ]]; then
        kill -9 "$pm" 2>/dev/null || true
    fi
}

cmd_start_node() {
    local node=$1 pid
    pid=$(service_pid "$node" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        die "$node is running already"
    fi
    run_service "$node"
}

[[ $# -ge 2 ]] || usage
runuser=""
if [[ $(id -u) -eq 0 ]]; then
    runuser=$(pg_runuser_bin)
fi
cmd=$1
dir=$2
shift 2
[[ -n $dir && $dir != / ]] || die "refusing to use \"$dir\" as the formation's folder"
case $dir in
/*) ;;
*) dir=$PWD/$dir ;;
esac
if [[ $cmd != start && -L $dir ]]; then
    dir=$(readlink -f "$dir")
fi

case $cmd in
start) cmd_start "$@" ;;
stop) cmd_stop ;;
state) autoctl show state --pgdata "$dir/monitor" ;;
primary) cmd_primary ;;
wait-healthy) cmd_wait_healthy "${1:?wait-healthy needs SECONDS}" ;;
kill-postgres) cmd_kill_postgres "${1:?kill-postgres needs NODE}" ;;
kill-node) cmd_kill_node "${1:?kill-node needs NODE}" ;;
start-node) cmd_start_node "${1:?start-node needs NODE}" ;;
*) usage ;;
esac
