# shellcheck shell=bash
# Shared by the scripts that run private PostgreSQL servers (tests/integration/pg_fixture.sh,
# deploy/ha/ha-local.sh). Source it after defining die(); it defines functions only.

# The server binaries: $PG_BINDIR, else where initdb on PATH really lives (symbolic links
# resolved: a PATH may link initdb alone), else the newest Debian install.
pg_find_bindir() {
    if [[ -n ${PG_BINDIR:-} ]]; then
        echo "$PG_BINDIR"
        return
    fi
    local d
    if command -v initdb >/dev/null 2>&1; then
        d=$(dirname "$(readlink -f "$(command -v initdb)")")
        if [[ -x $d/pg_ctl && -x $d/pg_isready ]]; then
            echo "$d"
            return
        fi
    fi
    d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    [[ -d $d ]] || die "could not find the PostgreSQL server binaries (set PG_BINDIR)"
    echo "$d"
}

# runuser lives in sbin, which a root shell's PATH does not always include.
pg_runuser_bin() {
    local r
    for r in "$(command -v runuser 2>/dev/null)" /usr/sbin/runuser /sbin/runuser; do
        if [[ -n $r && -x $r ]]; then
            echo "$r"
            return
        fi
    done
    die "runuser is missing (util-linux): it is needed to run PostgreSQL as \"postgres\""
}

# True when something already accepts connections on 127.0.0.1:$1. A port that is taken but
# not listening is caught later, when the server fails to bind and the caller tries another.
pg_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Make DIR (empty) a folder the server's owner can write, and print the folder to use. As root
# that owner is `postgres`; when DIR sits under a folder postgres cannot enter (a clone in a
# private temporary directory), the files go to a new folder /tmp/PREFIX.XXXXXX, DIR becomes a
# link to it, and that folder is printed. Needs as_owner (run a command as the owner) and die.
pg_owner_dir() {
    local dir=$1 prefix=$2
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "user \"postgres\" does not exist (install postgresql)"
        chown postgres: "$dir"
        if ! as_owner test -w "$dir"; then
            local real
            real=$(mktemp -d "/tmp/$prefix.XXXXXX")
            chown postgres: "$real"
            rmdir "$dir"
            ln -s "$real" "$dir"
            dir=$real
            as_owner test -w "$dir" || die "user \"postgres\" cannot write to $dir"
        fi
    fi
    echo "$dir"
}
