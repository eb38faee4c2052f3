#!/usr/bin/env bash
# Install Debian's PostgreSQL if missing, start a throwaway cluster on 127.0.0.1 and print
# its SQLAlchemy URL on stdout (everything else goes to stderr). Use it as:
#   export ALLOCATOR_TEST_POSTGRES_URL="$(.ci/postgres.sh)"
set -euo pipefail
PORT="${ALLOCATOR_PG_PORT:-54329}"
DIR="${ALLOCATOR_PG_DIR:-/tmp/allocator-pg}"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing postgresql from Debian's packages" >&2
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
fi
BIN="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")"

# initdb refuses to run as root: run the cluster as the postgres user (or ourselves).
RUN=()
if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$DIR" postgres
    RUN=(runuser -u postgres --)
fi

if [ -f "$DIR/postmaster.pid" ]; then
    "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR" -m immediate stop >&2 || true
fi
rm -rf "$DIR"
mkdir -p "$DIR"
[ "$(id -u)" = "0" ] && chown postgres "$DIR"
"${RUN[@]}" "$BIN/initdb" -D "$DIR" -U allocator --auth=trust -E UTF8 >&2
"${RUN[@]}" "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >&2
"${RUN[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U allocator allocator_test >&2
echo "postgresql+psycopg://allocator@127.0.0.1:$PORT/allocator_test"
