#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server on loopback and
# TARN_TEST_POSTGRES_URL pointing at it; stops and removes the server after.
#
#   scripts/with-postgres.sh cargo test -p tarn-adapter-sql
#
# The server comes from the machine's PostgreSQL (initdb/pg_ctl; installed
# from Debian's packages if missing) and runs as a non-root user, as
# PostgreSQL requires. PG_DURABLE=1 keeps fsync on (benchmarks); tests turn it
# off for speed.
set -euo pipefail

# TARN_PG_FRESH=1 starts a server of its own even inside another's scope
# (a test that stops and restarts its database).
if [ -n "${TARN_TEST_POSTGRES_URL:-}" ] && [ "${TARN_PG_FRESH:-0}" != 1 ]; then
  exec "$@" # already inside a server's scope
fi

find_bindir() {
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  if command -v initdb >/dev/null; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
}

BINDIR=$(find_bindir)
if [ -z "$BINDIR" ]; then
  echo "with-postgres: no PostgreSQL found; installing Debian's postgresql" >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi
  BINDIR=$(find_bindir)
fi

# PostgreSQL refuses to run as root: use an unprivileged account.
AS=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id -u tarn-pg >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin tarn-pg
  fi
  AS=(runuser -u tarn-pg --)
fi

DIR=$(mktemp -d /tmp/tarn-pg.XXXXXX)
chmod 755 "$DIR"
[ "${#AS[@]}" -gt 0 ] && chown tarn-pg "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
  "${AS[@]}" "$BINDIR/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap stop EXIT

"${AS[@]}" "$BINDIR/initdb" -D "$DIR/data" -U tarn -A trust -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }

# TLS, with a CA of its own: tests connect in plaintext (sslmode=disable) by
# default, and tests of TLS trust $TARN_TEST_POSTGRES_CA.
command -v openssl >/dev/null || { apt-get install -y -qq openssl >/dev/null; }
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tarn test CA" \
  -keyout "$DIR/ca.key" -out "$DIR/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$DIR/server.key" -out "$DIR/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$DIR/san.ext"
openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" -CAcreateserial \
  -days 2 -extfile "$DIR/san.ext" -out "$DIR/server.crt" 2>/dev/null
chmod 600 "$DIR/server.key"
[ "${#AS[@]}" -gt 0 ] && chown tarn-pg "$DIR/server.key" "$DIR/server.crt"

OPTS="-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=400 -c shared_buffers=256MB"
OPTS="$OPTS -c ssl=on -c ssl_cert_file=$DIR/server.crt -c ssl_key_file=$DIR/server.key"
if [ "${PG_DURABLE:-0}" != 1 ]; then
  OPTS="$OPTS -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
"${AS[@]}" "$BINDIR/pg_ctl" -D "$DIR/data" -o "$OPTS" -l "$DIR/server.log" -w start >/dev/null \
  || { cat "$DIR/server.log" >&2; exit 1; }

export TARN_TEST_POSTGRES_URL="postgres://tarn@127.0.0.1:$PORT/postgres?sslmode=disable"
export TARN_TEST_POSTGRES_CA="$DIR/ca.crt"
# Commands that stop and start this server again (for tests of outages).
export TARN_TEST_POSTGRES_STOP="${AS[*]} $BINDIR/pg_ctl -D $DIR/data -m fast -w stop"
export TARN_TEST_POSTGRES_START="${AS[*]} $BINDIR/pg_ctl -D $DIR/data -o '$OPTS' -l $DIR/server.log -w start"
echo "with-postgres: PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
"$@"
