#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests, in a fresh temporary directory on a free port.
#   .ci/postgres.sh              start one; prints its SQLAlchemy URL on stdout
#                                (everything else goes to stderr)
#   .ci/postgres.sh stop DIR     stop the cluster in DIR and delete DIR
# ALLOCATOR_PG_DIR names the directory to use (it must be empty or absent: an existing
# cluster is never stopped or deleted); ALLOCATOR_PG_PORT fixes the port.
# Use it as:  export ALLOCATOR_TEST_POSTGRES_URL="$(.ci/postgres.sh)"
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing postgresql from Debian's packages" >&2
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
fi
BIN="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")"

# initdb refuses to run as root: run the cluster as the postgres user (or ourselves).
RUN=()
if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    RUN=(runuser -u postgres --)
fi

if [ "${1:-}" = "stop" ]; then
    DIR="${2:?usage: .ci/postgres.sh stop DIR}"
    if [ -f "$DIR/postmaster.pid" ]; then
        "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR" -m immediate -w stop >&2 || true
    fi
    rm -rf "$DIR"
    exit 0
fi

DIR="${ALLOCATOR_PG_DIR:-$(mktemp -d /tmp/allocator-pg.XXXXXX)}"
mkdir -p "$DIR"
if [ -n "$(ls -A "$DIR")" ]; then
    echo "error: $DIR is not empty; give an empty or new directory in ALLOCATOR_PG_DIR" >&2
    exit 2
fi
PORT="${ALLOCATOR_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
[ "$(id -u)" = "0" ] && chown postgres "$DIR"
"${RUN[@]}" "$BIN/initdb" -D "$DIR" -U allocator --auth=trust -E UTF8 >&2
"${RUN[@]}" "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >&2
"${RUN[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U allocator allocator_test >&2
echo "postgres cluster in $DIR on port $PORT; stop it with: .ci/postgres.sh stop $DIR" >&2
echo "postgresql+psycopg://allocator@127.0.0.1:$PORT/allocator_test"
