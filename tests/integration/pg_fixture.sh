#!/usr/bin/env bash
# A private PostgreSQL cluster for the integration tests: `start DIR` makes a fresh one in DIR,
# listening on 127.0.0.1 at a free port, and writes DIR/env (PGHOST, PGPORT, PGUSER) for the
# tests to source; `stop DIR` stops it and removes DIR. As root the server runs as `postgres`,
# since initdb and postgres refuse to run as root.
set -euo pipefail

prog=pg_fixture.sh
port_first=${SURVEY_PG_PORT_FIRST:-54320}
port_count=${SURVEY_PG_PORT_COUNT:-600}

die() {
    echo "$prog: $*" >&2
    exit 1
}

usage() {
    echo "usage: $prog start DIR | stop DIR" >&2
    exit 2
}

# shellcheck source=../../scripts/pglib.sh
source "$(dirname "$0")/../../scripts/pglib.sh"

# Run a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        "$runuser" -u postgres -- "$@"
    else
        "$@"
    fi
}

log_tail() {
    if [[ -f $1 ]]; then
        echo "--- last lines of $1 ---" >&2
        tail -n 30 "$1" >&2
    fi
}

stop_cluster() {
    local dir=$1 bindir=$2
    if [[ -f $dir/data/postmaster.pid ]]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 ||
            true
    fi
}

cmd_start() {
    local dir=$1 bindir data log port tries started
    bindir=$(pg_find_bindir)
    for b in initdb pg_ctl pg_isready; do
        [[ -x $bindir/$b ]] || die "$bindir/$b is missing or not executable"
    done

    stop_cluster "$(readlink -f "$dir")" "$bindir"
    remove_dir "$dir"
    # The tree may sit under a folder postgres cannot enter: then the cluster lives in /tmp.
    dir=$(pg_owner_dir "$dir" survey-pgtest)
    data=$dir/data
    log=$dir/postgres.log

    if ! as_owner "$bindir/initdb" -D "$data" --auth=trust -U postgres --encoding=UTF8 \
        --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
        log_tail "$dir/initdb.log"
        die "initdb failed in $data"
    fi
    cat >>"$data/postgresql.conf" <<EOF

# Written by $prog: a throw-away cluster for tests, reachable only from this machine.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF

    # Start at a per-process offset so that parallel runs rarely race for the same port, and
    # move on when the server cannot bind: another process may have taken the port meanwhile.
    started=0
    for ((tries = 0; tries < 20; tries++)); do
        port=""
        local i candidate offset=$((($$ + tries * 7919) % port_count))
        for ((i = 0; i < port_count; i++)); do
            candidate=$((port_first + (offset + i) % port_count))
            if ! pg_port_busy "$candidate"; then
                port=$candidate
                break
            fi
        done
        [[ -n $port ]] || die "no free TCP port in $port_first..$((port_first + port_count - 1))"
        if as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-p $port" start \
            >"$dir/pg_ctl.log" 2>&1; then
            started=1
            break
        fi
        if ! grep -qi 'could not bind\|could not create any TCP/IP sockets\|address already in use' \
            "$log" 2>/dev/null; then
            break
        fi
        stop_cluster "$dir" "$bindir"
    done
    if [[ $started -ne 1 ]]; then
        cat "$dir/pg_ctl.log" >&2 || true
        log_tail "$log"
        die "could not start the server in $data"
    fi

    if ! "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -t 60; then
        log_tail "$log"
        stop_cluster "$dir" "$bindir"
        die "the server on 127.0.0.1:$port did not become ready"
    fi

    printf 'export PGHOST=127.0.0.1 PGPORT=%s PGUSER=postgres\n' "$port" >"$dir/env"
    echo "$prog: PostgreSQL running on 127.0.0.1:$port (data in $data)"
}

# Remove a cluster folder, or the link to one and its target.
remove_dir() {
    if [[ -L $1 ]]; then
        rm -rf "$(readlink -f "$1")"
        rm -f "$1"
    else
        rm -rf "$1"
    fi
}

cmd_stop() {
    local link=$1 dir bindir
    dir=$(readlink -f "$link")
    bindir=$(pg_find_bindir)
    if [[ -f $dir/data/postmaster.pid ]]; then
        if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null; then
            log_tail "$dir/postgres.log"
            die "could not stop the server in $dir/data"
        fi
    fi
    remove_dir "$link"
}

[[ $# -eq 2 ]] || usage
runuser=""
if [[ $(id -u) -eq 0 ]]; then
    runuser=$(pg_runuser_bin)
fi
dir=$2
[[ -n $dir && $dir != / ]] || die "refusing to use \"$dir\" as the cluster directory"
# An absolute path: the server runs from its data directory and the socket path goes in a file.
case $dir in
/*) ;;
*) dir=$PWD/$dir ;;
esac

case $1 in
start) cmd_start "$dir" ;;
stop) cmd_stop "$dir" ;;
*) usage ;;
esac
