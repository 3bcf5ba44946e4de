#!/usr/bin/env bash
# A Chroma server that several indexers and app replicas share (RAG_CHROMA_URL).
#
#   scripts/chroma-server.sh               start it in the background (idempotent: a server
#                                          this script started on the same data dir and port
#                                          is reused), wait until it answers, print on stdout
#                                          the line to run on every machine:
#                                              export RAG_CHROMA_URL=http://HOST:PORT
#   scripts/chroma-server.sh --foreground  the same server in the foreground (systemd, containers)
#   scripts/chroma-server.sh --status      exit 0 and print the export line if it answers, else exit 1
#   scripts/chroma-server.sh --stop        stop the server this script started
#
# Environment (defaults in brackets):
#   RAG_CHROMA_PATH  the data directory                 [.rag/chroma-server in the repo]
#   RAG_CHROMA_HOST  the address to listen on           [127.0.0.1: this machine only;
#                    0.0.0.0 for other machines — Chroma has no authentication here, so
#                    open the port only to the app and indexer machines]
#   RAG_CHROMA_PORT  the port                           [8000]
#   RAG_CHROMA_BIN   the chroma CLI                     [.venv/bin/chroma, else `chroma` on PATH]
#
# The log is <data dir>/chroma.log, the process id <data dir>/chroma.pid.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${RAG_CHROMA_PATH:-$ROOT/.rag/chroma-server}"
HOST="${RAG_CHROMA_HOST:-127.0.0.1}"
PORT="${RAG_CHROMA_PORT:-8000}"
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || PY="$(command -v python3)"
if [ -n "${RAG_CHROMA_BIN:-}" ]; then
    CHROMA="$RAG_CHROMA_BIN"
elif [ -x "$ROOT/.venv/bin/chroma" ]; then
    CHROMA="$ROOT/.venv/bin/chroma"
else
    CHROMA="$(command -v chroma || true)"
fi
[ -d "$DATA" ] && DATA="$(cd "$DATA" && pwd)"
PIDFILE="$DATA/chroma.pid"
LOG="$DATA/chroma.log"

say() { echo "chroma-server: $*" >&2; }

# the address other machines use: this host's first address when listening on all of them
public_host() {
    case "$HOST" in
        0.0.0.0 | "::" | "") hostname -I 2>/dev/null | awk '{print $1}' | grep . || hostname ;;
        *:*) echo "[$HOST]" ;;
        *) echo "$HOST" ;;
    esac
}
URL="http://$(public_host):$PORT"
# where this machine checks the server
case "$HOST" in
    0.0.0.0 | "::" | "") CHECK="http://127.0.0.1:$PORT" ;;
    *:*) CHECK="http://[$HOST]:$PORT" ;;
    *) CHECK="http://$HOST:$PORT" ;;
esac

answers() {  # the server answers its heartbeat
    "$PY" - "$CHECK/api/v2/heartbeat" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

running() {  # the process in the pid file is alive and is a chroma server on this data dir
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    [[ "$(cmdline "$pid")" == *"run --path $DATA "* ]]
}

cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

ours() {  # … and listens where asked
    running && [[ "$(cmdline "$(cat "$PIDFILE")")" == *"run --path $DATA --host $HOST --port $PORT "* ]]
}

print_url() { echo "export RAG_CHROMA_URL=$URL"; }

case "${1:-}" in
    --status)
        if answers; then print_url; exit 0; fi
        say "no Chroma server answers at $CHECK"
        exit 1
        ;;
    --stop)
        if running; then
            pid="$(cat "$PIDFILE")"
            kill -TERM "$pid"
            for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
            rm -f "$PIDFILE"
            say "stopped (pid $pid)"
        else
            rm -f "$PIDFILE"
            say "no server started by this script on $DATA, port $PORT"
        fi
        exit 0
        ;;
    --foreground | "") ;;
    *)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac

if [ -z "$CHROMA" ] || [ ! -x "$CHROMA" ]; then
    say "no chroma CLI (it comes with the chromadb package: run \`make setup\`, or set RAG_CHROMA_BIN)"
    exit 2
fi
mkdir -p "$DATA"
DATA="$(cd "$DATA" && pwd)"
PIDFILE="$DATA/chroma.pid"
LOG="$DATA/chroma.log"

if [ "${1:-}" = "--foreground" ]; then
    if running; then
        say "a server on $DATA is already running (pid $(cat "$PIDFILE")); stop it first: scripts/chroma-server.sh --stop"
        exit 1
    fi
    echo $$ >"$PIDFILE"  # exec keeps the process id: --stop works on this one too
    say "serving $DATA on $HOST:$PORT; on every machine: export RAG_CHROMA_URL=$URL"
    exec "$CHROMA" run --path "$DATA" --host "$HOST" --port "$PORT"
fi

if ours; then
    if answers; then
        say "already running (pid $(cat "$PIDFILE")), data in $DATA"
        print_url
        exit 0
    fi  # else: still starting; wait for it below
elif running; then
    say "a server on $DATA already runs with other settings ($(cmdline "$(cat "$PIDFILE")"));" \
        "stop it first: scripts/chroma-server.sh --stop"
    exit 1
elif answers; then
    say "something else already answers at $CHECK; stop it or pick another RAG_CHROMA_PORT"
    exit 1
else
    # setsid: the server outlives this shell and its terminal
    setsid "$CHROMA" run --path "$DATA" --host "$HOST" --port "$PORT" >"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
fi
for _ in $(seq 1 240); do
    if answers; then
        say "running (pid $(cat "$PIDFILE")), data in $DATA, log $LOG"
        print_url
        exit 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        rm -f "$PIDFILE"
        say "the server exited; the end of $LOG:"
        tail -n 20 "$LOG" >&2
        exit 1
    fi
    sleep 0.25
done
say "the server did not answer within 60 s; see $LOG"
exit 1
