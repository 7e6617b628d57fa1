#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: a new cluster in a temporary folder,
# listening on 127.0.0.1 only (TCP on a free port, its socket in that folder),
# trust authentication, one database "ipytune". Nothing of the machine's own
# PostgreSQL (/etc/postgresql, the service) is used or changed.
#
#   eval "$(.ci/postgres.sh start)"    # exports IPYTUNE_TEST_POSTGRES and IPYTUNE_TEST_POSTGRES_DIR
#   python -m pytest tests/test_cluster.py
#   .ci/postgres.sh stop               # stops it and removes the folder ($IPYTUNE_TEST_POSTGRES_DIR)
#
# `start` prints only the export lines on stdout (its log goes to stderr). As root, the
# server runs as the user "postgres" (PostgreSQL refuses to run as root); otherwise as you.
# PG_BIN chooses the binaries (default: the newest /usr/lib/postgresql/*/bin, or pg_config's).
set -euo pipefail

pg_bin() {
    if [ -n "${PG_BIN:-}" ]; then
        echo "$PG_BIN"
        return
    fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$dir" ] && command -v pg_config >/dev/null; then
        dir=$(pg_config --bindir)
    fi
    if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
        echo "postgres.sh: no PostgreSQL server binaries (initdb) found: apt-get install postgresql, or set PG_BIN" >&2
        exit 1
    fi
    echo "$dir"
}

as_server_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local bin dir port
    bin=$(pg_bin)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ipytune-pg.XXXXXX")
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    as_server_user "$bin/initdb" -D "$dir/data" --auth=trust --username=postgres --encoding=UTF8 --no-sync >&2 || {
        rm -rf "$dir"
        exit 1
    }
    port=$(free_port)
    # -h: TCP on loopback only; -k: the Unix socket in our folder, not /var/run/postgresql.
    # fsync off: a throwaway cluster need not survive a machine crash, and trials write often.
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >&2 || {
        cat "$dir/server.log" >&2
        stop "$dir"
        exit 1
    }
    as_server_user "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres ipytune >&2 || {
        stop "$dir"
        exit 1
    }
    echo "export IPYTUNE_TEST_POSTGRES=postgresql://postgres@127.0.0.1:$port/ipytune"
    echo "export IPYTUNE_TEST_POSTGRES_DIR=$dir"
}

stop() {
    local dir=${1:-${IPYTUNE_TEST_POSTGRES_DIR:-}}
    if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
        echo "postgres.sh stop: no server folder (give it, or set IPYTUNE_TEST_POSTGRES_DIR)" >&2
        exit 1
    fi
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_server_user "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
*)
    echo "usage: $0 start | stop [DIR]" >&2
    exit 2
    ;;
esac
