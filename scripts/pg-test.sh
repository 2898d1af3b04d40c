#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster in a temp dir on a random loopback
# port, exports REFBOARD_TEST_PG_URL for the tests, runs the command given
# (default: the PostgreSQL relay tests), and always stops the cluster and
# deletes the dir. Never touches the system's default cluster.
#
#   scripts/pg-test.sh                      # cargo test --test relay_pg
#   scripts/pg-test.sh cargo test           # every test, PostgreSQL ones included
#
# Needs Debian's postgresql package: apt-get install -y --no-install-recommends postgresql
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "error: PostgreSQL is not installed (apt-get install -y --no-install-recommends postgresql)" >&2
    exit 1
fi

dir=$(mktemp -d /tmp/refboard-pg.XXXXXX)
chmod 755 "$dir"
# Root cannot run the server: use the postgres user then.
if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dir"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

stop() {
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT INT TERM

password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
as_pg sh -c "umask 077; printf '%s\n' '$password' > '$dir/pw'"
as_pg "$bin/initdb" -D "$dir/data" -U postgres --pwfile "$dir/pw" \
    --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }

started=""
for _ in 1 2 3 4 5; do
    port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
    as_pg sh -c "cat >> '$dir/data/postgresql.conf'" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
CONF
    if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null 2>&1; then
        started=yes
        break
    fi
done
if [ -z "$started" ]; then
    echo "error: cannot start PostgreSQL; its log:" >&2
    cat "$dir/log" >&2 || true
    exit 1
fi

export REFBOARD_TEST_PG_URL="postgres://postgres:$password@127.0.0.1:$port/postgres"
echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (temp dir $dir)" >&2
if [ $# -eq 0 ]; then
    set -- cargo test --test relay_pg
fi
"$@"
