#!/usr/bin/env bash
# Sizing figures of one server binary on the zero-setup default (SQLite and
# a local directory): RSS idle, then rates and RSS under `tarn abuse` load
# (1 KiB uploads, a commit, stats of random committed keys), with the load
# from CLIENT (default: the same binary) at PARALLELISM requests in flight.
#
#   scripts/size-probe.sh SERVER_BIN [CLIENT_BIN]
#   WRITES=5000 READS=20000 PARALLELISM=32 scripts/size-probe.sh ...
#
# Run it alone: the load and the server share the machine's cores.
set -euo pipefail

SERVER=$1
CLIENT=${2:-$1}
WRITES=${WRITES:-5000}
READS=${READS:-20000}
PARALLELISM=${PARALLELISM:-32}
WORK=$(mktemp -d /tmp/tarn-size-probe.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$SERVER" run --quickstart --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
PID=$!
until curl -fsS "http://127.0.0.1:$PORT/_health" >/dev/null 2>&1; do sleep 0.2; done
rss() { awk -v k="$1:" '$1 == k {print int($2 / 1024)}' "/proc/$PID/status"; }
export LAKECTL_SERVER_ENDPOINT_URL=http://127.0.0.1:$PORT
export LAKECTL_CREDENTIALS_ACCESS_KEY_ID=AKIAIOSFOLQUICKSTART
export LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
sleep 2
echo "idle RSS: $(rss VmRSS) MiB"
"$CLIENT" repo create lakefs://probe "local://probe" >/dev/null
rate() { python3 -c "import json,sys; r=json.load(sys.stdin); l=r['latency_ms']; print(f\"{r['rate']:.0f}/s, p50 {l['p50']:.1f} ms, p99 {l['p99']:.1f} ms, {r['errors']} errors\")"; }
echo "uploads ($WRITES x 1 KiB, $PARALLELISM in flight): $("$CLIENT" abuse random-write lakefs://probe/main --amount "$WRITES" --parallelism "$PARALLELISM" -o json | rate)"
"$CLIENT" commit lakefs://probe/main -m probe >/dev/null
echo "stats ($READS, $PARALLELISM in flight): $("$CLIENT" abuse random-read lakefs://probe/main --amount "$READS" --parallelism "$PARALLELISM" -o json | rate)"
echo "RSS after the load: $(rss VmRSS) MiB, peak $(rss VmHWM) MiB"
