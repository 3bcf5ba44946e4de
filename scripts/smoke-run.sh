#!/usr/bin/env bash
# Smoke test of the README's run command on a fresh clone:
#   clone this repo (its committed HEAD) to a temp dir, run `make run` there in the
#   background on a free port (RAG_PORT), wait until the app serves its page, check the
#   page and its /ask API endpoint, then stop it (the whole process group).
# Exits non-zero on any failure, with the tail of the run's log.
#
#   scripts/smoke-run.sh [REPO]      REPO defaults to this checkout
#
# Environment: SMOKE_TIMEOUT (seconds to wait for the page; default 900 — the first
# `make run` in a fresh clone creates .venv and pip-installs, pip caches the wheels),
# SMOKE_KEEP=1 keeps the temp dir. Anything else (RAG_MODELS_DIR, PIP_*, …) is passed on.
set -euo pipefail

SRC=${1:-$(cd "$(dirname "$0")/.." && pwd)}
TIMEOUT=${SMOKE_TIMEOUT:-900}
PY=${PYTHON:-python3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rag-smoke.XXXXXX")
LOG="$TMP/run.log"
PID=""

say() { echo "smoke-run: $*" >&2; }
# GET a URL, print the body; fails on an error status or no answer (python: no curl needed)
fetch() {
  "$PY" - "$1" "${2:-10}" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])) as r:
    sys.stdout.write(r.read().decode("utf-8", "replace"))
EOF
}

cleanup() {
  local code=$?
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    say "stopping the app (process group $PID)"
    kill -TERM -- "-$PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  if [ "$code" -ne 0 ] && [ -f "$LOG" ]; then
    say "FAILED; last lines of the run's log:"
    tail -n 40 "$LOG" >&2 || true
  fi
  if [ "${SMOKE_KEEP:-0}" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"

say "cloning $SRC into $TMP/repo"
git clone -q "$SRC" "$TMP/repo"
cd "$TMP/repo"
say "git HEAD $(git rev-parse --short HEAD); running \`make run\` with RAG_PORT=$PORT (log: $LOG)"

# its own session, so the app and everything make started stop together
RAG_PORT=$PORT RAG_HOST=127.0.0.1 setsid make run >"$LOG" 2>&1 < /dev/null &
PID=$!

start=$(date +%s)
page=""
while :; do
  if ! kill -0 "$PID" 2>/dev/null; then
    wait "$PID" && code=0 || code=$?
    PID=""
    say "\`make run\` exited (code $code) before the app served $URL"
    exit 1
  fi
  if page=$(fetch "$URL/" 5 2>/dev/null) && [ -n "$page" ]; then
    break
  fi
  if [ $(( $(date +%s) - start )) -ge "$TIMEOUT" ]; then
    say "no page at $URL after ${TIMEOUT}s"
    exit 1
  fi
  sleep 3
done
say "the app serves $URL after $(( $(date +%s) - start ))s"

fail=0
grep -qi "<html" <<<"$page" || { say "the page at $URL is not HTML"; fail=1; }
config=$(fetch "$URL/config") || { say "no $URL/config"; fail=1; }
grep -q "政府工作报告问答" <<<"$config" || { say "the app's title (政府工作报告问答) is not in $URL/config"; fail=1; }
grep -q "问答 Chat" <<<"$config" || { say "the chat tab is not in $URL/config"; fail=1; }
info=$(fetch "$URL/gradio_api/info") || { say "no $URL/gradio_api/info"; fail=1; }
grep -q '"/ask"' <<<"$info" || { say "the /ask API endpoint is missing"; fail=1; }
grep -q "0\.0\.0\.0" "$LOG" && { say "the app mentions 0.0.0.0: it must listen on 127.0.0.1"; fail=1; }

[ "$fail" = 0 ] || exit 1
say "OK: \`make run\` on a fresh clone serves the app on $URL (title, chat tab and /ask endpoint found)"
