#!/usr/bin/env bash
# Set up the project's virtualenv (.venv) with everything it needs, offline-safe:
# torch is pinned to the local CPU wheel first (an unpinned torch pulls GBs of CUDA).
# Re-running is cheap: pip is skipped while pyproject.toml is unchanged.
#   scripts/setup.sh          the app and the library
#   scripts/setup.sh test     also the test tools, Debian's chromium, the llama.cpp server's venv
#                             and the Infinity embedding server's venv (scripts/embed-server.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${RAG_VENV:-.venv}
what=${1:-app}

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
stamp="$VENV/.rag-installed-$what-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages into $VENV (first run takes a few minutes)" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check torch==2.13.0
  if [ "$what" = test ]; then
    "$VENV/bin/pip" install -q --disable-pip-version-check -e ".[test]"
  else
    "$VENV/bin/pip" install -q --disable-pip-version-check -e .
  fi
  touch "$stamp"
fi

if [ "$what" = test ]; then
  if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    echo "setup: installing Debian's chromium and a CJK font for the browser tests" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  fi
  bash scripts/llm-server.sh
  # the embedding server of tests/test_remote_embed.py: Infinity in its own venv (.venv-embed)
  bash scripts/embed-server.sh --setup
fi
