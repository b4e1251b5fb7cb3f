#!/usr/bin/env bash
# Measures a newcomer's first start: a clean clone of this repository, `make
# run` with nothing built (a fresh target directory and no node_modules),
# until GET /_health answers. Prints the seconds it took, then stops the
# server and removes the clone.
#
#   scripts/first-start.sh [REV]     (default: HEAD)
#   FIRST_START_KEEP=FILE scripts/first-start.sh   (keeps the binary)
#
# Crate and npm downloads come from the machine's caches when present (a
# fresh machine downloads them too: add that time). Takes as long as a full
# release build: run it alone.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REV=${1:-HEAD}
WORK=$(mktemp -d /tmp/tarn-first-start.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$WORK/make-run.log
cleanup() {
  # FIRST_START_KEEP=FILE keeps the built binary (to compare builds).
  if [ -n "${FIRST_START_KEEP:-}" ]; then
    find "$WORK/target" -maxdepth 2 -type f -name tarn -exec cp {} "$FIRST_START_KEEP" \; 2>/dev/null || true
  fi
  if [ -n "${PID:-}" ]; then
    kill -- -"$PID" 2>/dev/null || kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

git clone -q "$ROOT" "$WORK/tarn"
git -C "$WORK/tarn" checkout -q "$REV"
cd "$WORK/tarn"
START=$(date +%s)
# Its own process group, so that stopping it stops cargo and the server.
CARGO_TARGET_DIR=$WORK/target TARN_LISTEN_ADDRESS=127.0.0.1:$PORT \
  setsid make run >"$LOG" 2>&1 &
PID=$!
until curl -fsS "http://127.0.0.1:$PORT/_health" >/dev/null 2>&1; do
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "first-start: make run stopped before serving:" >&2
    tail -20 "$LOG" >&2
    exit 1
  fi
  sleep 1
done
END=$(date +%s)
echo "first-start: $REV served /_health $((END - START)) s after make run"
grep -E "^\s*Finished|^Tarn listening" "$LOG" || true
