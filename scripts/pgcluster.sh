#!/usr/bin/env bash
# The project's own PostgreSQL cluster for the main job (not the tests' throw-away one):
# `start DIR PORT` initialises DIR/data once and starts the server, listening on a Unix socket
# only, in a private directory; `stop DIR` stops it. The data is kept between runs.
# As root, the server runs as `postgres` (initdb and postgres refuse root).
set -euo pipefail

die() { echo "pgcluster.sh: $*" >&2; exit 1; }
bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[[ -x $bindir/initdb ]] || die "could not find the PostgreSQL server binaries (set PG_BINDIR)"

as_owner() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || { echo "usage: pgcluster.sh start DIR PORT | stop DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

case $cmd in
start)
    port=${3:-54329}
    # As root the server runs as postgres, which must reach the folder: when the checkout sits
    # under a directory postgres cannot enter, the cluster lives in a private folder of
    # postgres's own instead, and DIR/location says where.
    if [[ -f $dir/location ]]; then
        base=$(cat "$dir/location")
    elif [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$dir"
        if runuser -u postgres -- test -w "$dir"; then
            base=$dir
        else
            base=$(mktemp -d /var/tmp/survey-pg.XXXXXX)
            chown postgres: "$base"
            echo "pgcluster.sh: postgres cannot enter $dir; the cluster lives in $base" >&2
        fi
        echo "$base" >"$dir/location"
    else
        base=$dir
        echo "$base" >"$dir/location"
    fi
    mkdir -p "$base/run"
    chmod 0700 "$base/run"
    [[ $(id -u) -ne 0 ]] || chown postgres: "$base/run"
    echo "$base/run" >"$dir/socket_dir"
    if [[ ! -f $base/data/PG_VERSION ]]; then
        as_owner "$bindir/initdb" -D "$base/data" -U postgres --auth-local=trust \
            --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
        as_owner "$bindir/pg_ctl" -D "$base/data" -w -t 60 -l "$base/server.log" \
            -o "-c listen_addresses='' -c unix_socket_directories='$base/run' -p $port" start >/dev/null ||
            { tail -n 20 "$base/server.log" >&2; die "could not start PostgreSQL"; }
    fi
    ;;
stop)
    [[ -f $dir/location ]] || exit 0
    base=$(cat "$dir/location")
    as_owner "$bindir/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: pgcluster.sh start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
