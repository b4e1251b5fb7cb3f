#!/usr/bin/env bash
# Runs a command with a throwaway S3 server on loopback (moto's server, from
# the test virtualenv) and TARN_TEST_S3_* naming it and a bucket on it; stops
# the server after.
#
#   scripts/with-s3.sh cargo test -p tarn-adapter-s3
#
# The server is scripts/s3_server.py (moto, with S3's answer to unknown upload
# ids) in the virtualenv .venv that `make test` makes from
# tests/python/requirements.txt.
set -euo pipefail

if [ -n "${TARN_TEST_S3_ENDPOINT:-}" ]; then
  exec "$@" # already inside a server's scope
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=$ROOT/.venv/bin/python
if ! "$PYTHON" -c 'import moto.server' 2>/dev/null; then
  echo "with-s3: moto is missing from $ROOT/.venv; run 'make .venv/.installed' first" >&2
  exit 1
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp /tmp/tarn-s3.XXXXXX.log)
"$PYTHON" "$ROOT/scripts/s3_server.py" 127.0.0.1 "$PORT" >"$LOG" 2>&1 &
PID=$!
stop() {
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  rm -f "$LOG"
}
trap stop EXIT

export TARN_TEST_S3_ENDPOINT="http://127.0.0.1:$PORT"
export TARN_TEST_S3_BUCKET=tarn-test
export TARN_TEST_S3_ACCESS_KEY_ID=AKIATARNTESTS3SERVER
export TARN_TEST_S3_SECRET_ACCESS_KEY=tarn-test-s3-secret-access-key-000000000

for _ in $(seq 1 100); do
  if "$PYTHON" - <<'PY' 2>/dev/null; then break; fi
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["TARN_TEST_S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["TARN_TEST_S3_ACCESS_KEY_ID"],
                  aws_secret_access_key=os.environ["TARN_TEST_S3_SECRET_ACCESS_KEY"])
s3.create_bucket(Bucket=os.environ["TARN_TEST_S3_BUCKET"])
PY
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "with-s3: the S3 server did not start:" >&2; cat "$LOG" >&2; exit 1
  fi
  sleep 0.2
done
echo "with-s3: S3 server (moto) at $TARN_TEST_S3_ENDPOINT, bucket $TARN_TEST_S3_BUCKET" >&2

"$@"
